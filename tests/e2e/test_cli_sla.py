"""`tandem sla ...` driven as a user would: show, tick and report (design section 9).

The CLI reads the wall clock, so the history is written in the past through a ServiceDesk with
a clock set back: a P1 incident opened an hour ago has breached its 15-minute response target
and spent about a quarter of its 4-hour resolution target.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.bootstrap import open_service_desk
from tests.conftest import FakeClock
from tests.e2e.conftest import Cli, only_json

CLOCK_KEYS = {"target", "state", "due_at", "elapsed_seconds", "percent"}
STATES = {"running", "paused", "met", "breached", "canceled"}


def _arrange(database_url: str) -> dict[str, str]:
    """An hour ago: a P1 never assigned, a P2 assigned after 10 minutes and resolved after 40."""
    clock = FakeClock(datetime.now(UTC) - timedelta(hours=1))
    desk = open_service_desk(database_url, clock=clock)
    late = desk.open_incident(actor="sd", title="Mail down", service="email", impact=1,
                              urgency=1).number
    quick = desk.open_incident(actor="sd", title="VPN slow", service="vpn", impact=1,
                               urgency=2).number
    clock.advance(minutes=10)
    desk.assign_incident(quick, actor="sd", group="network")
    clock.advance(minutes=30)
    desk.resolve_incident(quick, actor="sd", code="solution_provided", notes="rebooted")
    return {"late": late, "quick": quick}


@pytest.fixture
def numbers(cli: Cli) -> dict[str, str]:
    return _arrange(str(cli.database_url))


def test_show_json_lists_each_clock_with_the_contract_keys(cli: Cli,
                                                          numbers: dict[str, str]) -> None:
    clocks = cli.json("sla", "show", numbers["late"], numbers["quick"], "--json")
    assert isinstance(clocks, list)
    assert [(c["number"], c["target"]) for c in clocks] == [
        (numbers["late"], "response"), (numbers["late"], "resolution"),
        (numbers["quick"], "response"), (numbers["quick"], "resolution")]
    for clock in clocks:
        assert clock.keys() >= CLOCK_KEYS
        assert clock["state"] in STATES
    late_response, late_resolution, quick_response, quick_resolution = clocks
    assert (late_response["state"], late_response["breached"]) == ("running", True)
    assert late_response["percent"] == pytest.approx(400, abs=5)
    due = datetime.fromisoformat(late_resolution["due_at"])
    assert due.utcoffset() == timedelta(0)
    assert timedelta(hours=2, minutes=55) < due - datetime.now(UTC) < timedelta(hours=3)
    assert late_resolution["elapsed_seconds"] == pytest.approx(3600, abs=60)
    assert (quick_response["state"], quick_response["elapsed_seconds"]) == ("met", 600.0)
    assert (quick_resolution["state"], quick_resolution["due_at"],
            quick_resolution["elapsed_seconds"]) == ("met", None, 2400.0)


def test_tick_records_what_is_due_once_and_escalates_the_breach(
        cli: Cli, numbers: dict[str, str]) -> None:
    late = numbers["late"]
    lines = cli.ok("sla", "tick").out.splitlines()
    assert lines[:2] == [f"{late} response SLA at 50% since " + lines[0].split()[-1],
                         f"{late} response SLA at 75% since " + lines[1].split()[-1]]
    assert lines[2].startswith(f"{late} response SLA breached at ")
    assert lines[2].endswith(", escalated to service_desk_manager")
    assert lines[3:] == ["3 recorded"]
    assert cli.json("sla", "tick", "--json") == []
    assert cli.incident(late)["version"] == 5  # opened, two warnings, the breach, escalation
    history = cli.json("audit", "history", late, "--json")
    assert [(e["type"], e["actor"]) for e in history[1:]] == [
        ("IncidentSlaWarningReached", "system:sla-monitor"),
        ("IncidentSlaWarningReached", "system:sla-monitor"),
        ("IncidentSlaBreached", "system:sla-monitor"),
        ("IncidentEscalated", "system:sla-monitor")]


def test_report_json_counts_met_and_breached_per_priority(cli: Cli,
                                                          numbers: dict[str, str]) -> None:
    now = datetime.now(UTC)
    opened, today = (now - timedelta(hours=1)).date(), now.date()
    report = cli.json("sla", "report", "--from", opened.isoformat(), "--to", today.isoformat(),
                      "--by", "priority", "--json")
    total = report["total"]
    assert (total["incidents"], total["met"], total["breached"]) == (2, 2, 1)
    assert total["compliance_percent"] == pytest.approx(66.67)
    assert total["resolution"]["mean_seconds"] == 2400.0
    assert [group["key"] for group in report["groups"]] == ["P1", "P2"]
    p1, p2 = report["groups"]
    assert (p1["response"]["breached"], p1["resolution"]["open"]) == (1, 1)
    assert (p2["response"]["p90_seconds"], p2["compliance_percent"]) == (600.0, 100.0)
    yesterday = (opened - timedelta(days=1)).isoformat()
    empty = cli.json("sla", "report", "--from", yesterday, "--to", yesterday, "--json")
    assert (empty["total"]["incidents"], empty["groups"]) == (0, [])


def test_bad_input_and_bad_configuration_are_refused_naming_the_field(
        cli: Cli, numbers: dict[str, str], tmp_path: Path) -> None:
    refusals = cli.refused_all([
        ["sla", "show", "INC0000099"],
        ["sla", "report", "--from", "yesterday", "--to", "2026-01-01"],
        ["sla", "report", "--from", "2026-02-01", "--to", "2026-01-01"],
    ])
    assert refusals[0] == "tandem: INC0000099 not found"
    assert refusals[1].startswith("tandem: from: 'yesterday' is not a date")
    assert refusals[2].startswith("tandem: to: ")
    config = tmp_path / "tandem.toml"
    config.write_text('[sla.priorities.P1]\nresponse = "soon"\n')
    result = cli("sla", "tick", env={**cli.env, "TANDEM_CONFIG": str(config)})
    assert result.code == 2
    assert "sla.priorities.P1.response" in result.err


def test_a_new_sla_configuration_rebuilds_the_clocks_before_answering(
        cli: Cli, numbers: dict[str, str], tmp_path: Path) -> None:
    before = cli.json("sla", "show", numbers["late"], "--json")
    config = tmp_path / "tandem.toml"
    config.write_text('[sla.priorities.P1]\nresponse = "2h"\n')
    env = {**cli.env, "TANDEM_CONFIG": str(config)}
    result = cli("sla", "show", numbers["late"], "--json", env=env)
    assert result.code == 0, result
    after = only_json(result.out)
    assert (before[0]["target_seconds"], after[0]["target_seconds"]) == (900.0, 7200.0)
    assert after[0]["breached"] is False
