"""`tandem serve` runs the policies: the SLA monitor records a breach, SIGTERM flushes alerts."""

import time
from pathlib import Path
from typing import Any

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
ALERT = {"source": "zabbix", "dedup_key": "relay-2/queue", "service": "email",
         "summary": "Mail queue above 1,024 messages", "fired_at": "2026-03-02T08:40:00Z"}


def _breached(url: str, number: str) -> list[dict[str, Any]]:
    """Poll the incident's history until the monitor's breach is in it (bounded)."""
    deadline = time.monotonic() + POLL_TIMEOUT_S
    while True:
        history = httpx.get(f"{url}/incidents/{number}/history", headers=BEARER).json()
        if any(event["type"] == "IncidentSlaBreached" for event in history):
            return list(history)
        assert time.monotonic() < deadline, "no SLA breach recorded in time"
        time.sleep(0.1)


def test_the_sla_monitor_records_a_breach_and_sigterm_flushes_the_alert_intake(
        tmp_path: Path) -> None:
    (tmp_path / "tandem.toml").write_text(CONFIG)
    database_url = f"sqlite:///{tmp_path / 'served.db'}"
    env = {**base_environment(database_url), "TANDEM_ADMIN_TOKEN": TOKEN,
           "TANDEM_CONFIG": str(tmp_path / "tandem.toml")}
    env.pop("TANDEM_KAFKA_BOOTSTRAP", None)
    served = Served(tmp_path, env, "--sla-interval", "0.2")
    try:
        number = httpx.post(f"{served.url}/incidents", headers=BEARER, json={
            "title": "Payments down", "service": "payments", "impact": 1, "urgency": 1,
        }).json()["number"]
        history = _breached(served.url, number)
        metrics = httpx.get(f"{served.url}/metrics", headers=BEARER).text
        alerts = [httpx.post(f"{served.url}/alerts", headers=BEARER, json=ALERT).json()
                  for _ in range(3)]
    finally:
        code, _ = served.stop()
    assert code == 0
    recorded = [(e["type"], e["actor"], e["data"].get("target"))
                for e in history if e["actor"] == "system:sla-monitor"]
    assert recorded[-2:] == [("IncidentSlaBreached", "system:sla-monitor", "response"),
                             ("IncidentEscalated", "system:sla-monitor", None)]
    assert 'tandem_sla_recorded_total{kind="breach",target="response"} 1.0' in metrics
    assert [a["alerts"][0]["outcome"] for a in alerts] == ["opened", "accumulated",
                                                          "accumulated"]
    incident = Cli(tmp_path, database_url).incident(alerts[0]["alerts"][0]["incident"])
    assert incident["alert_occurrences"] == 3
