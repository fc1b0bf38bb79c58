"""`tandem serve` runs the policies: the SLA monitor records a breach, the recurrence policy
opens a problem, SIGTERM flushes the alert intake."""

import sqlite3
import time
from contextlib import closing
from pathlib import Path

import httpx

from tests.e2e.api.conftest import Served
from tests.e2e.conftest import Cli, base_environment

TOKEN = "serve-policies-admin"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
POLL_TIMEOUT_S = 30.0
CONFIG = """
[sla.priorities.P1]
response = "2s"

[alerts]
flush_interval_seconds = 3600  # only the SIGTERM flush writes the repeats
"""
BREACH_COUNTED = 'tandem_sla_recorded_total{kind="breach",target="response"} 1.0'
RAISE_COUNTED = "tandem_problem_candidates_raised_total 1.0"
ALERT = {"source": "zabbix", "dedup_key": "relay-2/queue", "service": "email",
         "summary": "Mail queue above 1,024 messages", "fired_at": "2026-03-02T08:40:00Z"}


def _metrics_show(url: str, *lines: str) -> None:
    """Poll /metrics until it shows every line: each job counts what it did after doing it."""
    deadline = time.monotonic() + POLL_TIMEOUT_S
    while True:
        metrics = httpx.get(f"{url}/metrics", headers=BEARER).text
        if all(line in metrics for line in lines):
            return
        assert time.monotonic() < deadline, f"{lines} not all in /metrics in time:\n{metrics}"
        time.sleep(0.1)


def test_serve_records_an_sla_breach_raises_a_recurring_problem_and_flushes_alerts(
        tmp_path: Path) -> None:
    (tmp_path / "tandem.toml").write_text(CONFIG)
    database_url = f"sqlite:///{tmp_path / 'served.db'}"
    env = {**base_environment(database_url), "TANDEM_ADMIN_TOKEN": TOKEN,
           "TANDEM_CONFIG": str(tmp_path / "tandem.toml")}
    env.pop("TANDEM_KAFKA_BOOTSTRAP", None)
    served = Served(tmp_path, env, "--sla-interval", "0.2", "--recurrence-interval", "0.2")
    try:
        number = httpx.post(f"{served.url}/incidents", headers=BEARER, json={
            "title": "Payments down", "service": "payments", "impact": 1, "urgency": 1,
        }).json()["number"]
        recurring = [httpx.post(f"{served.url}/incidents", headers=BEARER, json={
            "title": f"Disk {n}% full on db-0{n}", "service": "storage"}).json()["number"]
            for n in (1, 2, 3)]
        _metrics_show(served.url, BREACH_COUNTED, RAISE_COUNTED)
        history = httpx.get(f"{served.url}/incidents/{number}/history", headers=BEARER).json()
        problems = httpx.get(f"{served.url}/problems", headers=BEARER).json()["items"]
        alerts = [httpx.post(f"{served.url}/alerts", headers=BEARER, json=ALERT).json()
                  for _ in range(3)]
    finally:
        code, _ = served.stop()
    assert code == 0
    recorded = [(e["type"], e["actor"], e["data"].get("target"))
                for e in history if e["actor"] == "system:sla-monitor"]
    assert recorded[-2:] == [("IncidentSlaBreached", "system:sla-monitor", "response"),
                             ("IncidentEscalated", "system:sla-monitor", None)]
    assert [(p["service"], p["incidents"]) for p in problems] == [("storage", recurring)]
    assert [a["alerts"][0]["outcome"] for a in alerts] == ["opened", "accumulated",
                                                          "accumulated"]
    incident = Cli(tmp_path, database_url).incident(alerts[0]["alerts"][0]["incident"])
    assert incident["alert_occurrences"] == 3


def _timeline_generations(database: Path) -> list[tuple[int, int, str]]:
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute(
            "SELECT generation, version, state FROM projection_generations "
            "WHERE name = 'timeline' ORDER BY generation").fetchall()


def test_serve_rebuilds_what_an_older_version_built_even_without_the_sla_monitor(
        tmp_path: Path) -> None:
    database = tmp_path / "upgraded.db"
    database_url = f"sqlite:///{database}"
    cli = Cli(tmp_path, database_url)
    number = cli.open_incident("--title", "VPN down", "--service", "network")
    cli.ok("incident", "assign", number, "--group", "network")
    cli.ok("incident", "list")  # builds the read models
    [(generation, version, _)] = _timeline_generations(database)
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("UPDATE projection_generations SET version = version - 1 "
                           "WHERE name = 'timeline'")  # as the previous release left it
    env = {**base_environment(database_url), "TANDEM_ADMIN_TOKEN": TOKEN}
    env.pop("TANDEM_KAFKA_BOOTSTRAP", None)

    served = Served(tmp_path, env, "--sla-interval", "0", "--recurrence-interval", "0")
    try:
        deadline = time.monotonic() + POLL_TIMEOUT_S
        while _timeline_generations(database) != [(generation + 1, version, "serving")]:
            assert time.monotonic() < deadline, _timeline_generations(database)
            time.sleep(0.1)
        history = httpx.get(f"{served.url}/incidents/{number}/history", headers=BEARER)
    finally:
        code, _ = served.stop()

    assert code == 0
    assert [event["type"] for event in history.json()] == ["IncidentOpened",
                                                           "IncidentAssigned"]
