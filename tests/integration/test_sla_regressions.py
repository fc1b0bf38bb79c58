"""Failures users of popular ITSM tools report about SLAs, each pinned down as a test.

The clock starts on Monday 2026-03-02 09:00 UTC; P1 is 15 min / 4 h and P2 30 min / 8 h
around the clock, P3 4 business hours / 3 business days (Mon-Fri 08:00-18:00 UTC).
"""

from pathlib import Path

import pytest

from adapters.sla_monitor import Recorded
from domain.incident import Incident
from tests.conftest import FakeClock
from tests.integration.sla_world import SlaWorld, config_file

HOUR = 3600.0


@pytest.fixture
def world(clock: FakeClock) -> SlaWorld:
    return SlaWorld.start("memory://", clock)


def alerts(recorded: list[Recorded]) -> list[tuple[str, str, int]]:
    return [(r.number, r.target, r.threshold) for r in recorded]


def sla_events(world: SlaWorld, number: str) -> list[tuple[str, str, int]]:
    events = world.desk.events.get(world.desk.incident(number).id)
    return [(type(e).__name__, e.target.value, getattr(e, "threshold", 100)) for e in events
            if isinstance(e, Incident.SlaWarningReached | Incident.SlaBreached)]


def test_glpi_6902_15605_time_on_hold_stays_excluded_when_the_sla_definition_changes(
        world: SlaWorld, tmp_path: Path) -> None:
    """GLPI loses the pending (on hold) time when a ticket's SLA is changed. Here a clock's
    elapsed time is recomputed from the events, so neither a re-prioritisation nor a new
    configuration (and the rebuild it needs) can bring the held time back in."""
    number = world.incident(impact=1, urgency=2)                    # P2: 8 h resolution
    world.desk.assign_incident(number, actor="sd", group="mail")
    world.clock.advance(hours=1)
    world.desk.put_incident_on_hold(number, actor="sd", reason="awaiting_caller")
    world.clock.advance(days=2)
    world.desk.resume_incident(number, actor="sd")
    world.clock.advance(hours=1)
    world.desk.prioritize_incident(number, actor="sd", impact=2, urgency=2)  # P3: 3 bus. days
    world.clock.advance(hours=1)                                     # Wednesday 12:00
    assert world.clocks(number)["resolution"]["elapsed_seconds"] == 3 * HOUR

    changed = world.with_config(config_file(tmp_path, '[sla.priorities.P3]\nresolution = "5d"'))
    assert {row["name"]: row["rebuild_needed"] for row in changed.runner.status()}[
        "sla_clocks"] is True
    changed.runner.rebuild("sla_clocks")
    clock = changed.clocks(number)["resolution"]
    assert (clock["elapsed_seconds"], clock["target_seconds"]) == (3 * HOUR, 50 * HOUR)


def test_glpi_24481_no_breach_is_recorded_while_the_incident_is_on_hold(
        world: SlaWorld) -> None:
    """GLPI records a breach at the due time even though the ticket is waiting. A paused clock
    has no due time, so nothing is due; its breach comes after the resume, when it is real."""
    number = world.incident(impact=1, urgency=1)                     # P1: 4 h resolution
    world.desk.assign_incident(number, actor="sd", group="mail")
    world.clock.advance(hours=1, minutes=30)
    world.desk.put_incident_on_hold(number, actor="sd", reason="awaiting_vendor")
    world.clock.advance(hours=10)
    assert alerts(world.tick()) == []
    world.desk.resume_incident(number, actor="sd")
    world.clock.advance(hours=2)
    assert alerts(world.tick()) == [(number, "resolution", 50), (number, "resolution", 75)]
    world.clock.advance(hours=1)
    assert alerts(world.tick()) == [(number, "resolution", 100)]
    assert world.clocks(number)["resolution"]["breached_at"] == "2026-03-02T23:00:00.000000Z"


def test_glpi_24481_a_hold_the_read_model_has_not_seen_yet_blocks_the_breach(
        world: SlaWorld) -> None:
    """The race behind the same report: the monitor read the clock as running and due, then
    the incident was put on hold before it wrote. Commands carry the version the clock was
    computed from, so the monitor writes nothing and the next pass sees the hold."""
    number = world.incident(impact=1, urgency=1)
    world.clock.advance(minutes=20)
    world.runner.catch_up()                                   # the read model: running, due
    world.desk.assign_incident(number, actor="sd", group="mail")  # responded in between
    assert world.monitor().tick(world.clock()) == []
    assert sla_events(world, number) == []
    world.runner.catch_up()
    assert world.clocks(number)["response"]["state"] == "breached"  # the report stays honest


def test_glpi_1911_the_resolution_target_counts_from_opening_not_from_assignment(
        world: SlaWorld) -> None:
    """In GLPI the time to resolve is computed from the opening date, so a ticket assigned late
    has no time left, and nothing says why. Our rule: the resolution clock counts from opening
    (the caller has waited since then) and the response clock makes a late assignment visible
    as its own breach; re-assigning later changes neither clock."""
    number = world.incident(impact=2, urgency=2)                     # P3
    world.clock.advance(days=2, hours=8)                            # Wednesday 17:00
    world.desk.assign_incident(number, actor="sd", group="mail")
    clocks = world.clocks(number)
    assert (clocks["response"]["state"], clocks["response"]["breached_at"]) == (
        "breached", "2026-03-02T13:00:00.000000Z")
    assert (clocks["resolution"]["elapsed_seconds"], clocks["resolution"]["due_at"]) == (
        28 * HOUR, "2026-03-05T09:00:00.000000Z")   # Mon 9 h, Tue 10 h, Wed 9 h of 30 h
    world.clock.advance(hours=1)
    world.desk.escalate_incident(number, actor="sd", kind="functional", to="mail-experts",
                                 reason="needs experts")
    assert world.clocks(number)["resolution"]["due_at"] == "2026-03-05T09:00:00.000000Z"


def test_glpi_9267_23359_a_reopened_incident_excludes_the_time_it_spent_resolved(
        world: SlaWorld) -> None:
    """GLPI counts the resolved period after a reopen (or restarts from zero). Here reopening
    resumes the resolution clock with the time spent before, and the resolved days excluded."""
    number = world.incident(impact=1, urgency=2)                     # P2: 8 h
    world.desk.assign_incident(number, actor="sd", group="mail")
    world.clock.advance(hours=2)
    world.desk.resolve_incident(number, actor="sd", code="solution_provided", notes="restarted")
    world.clock.advance(days=3)
    world.desk.reopen_incident(number, actor="caller", reason="down again")
    world.clock.advance(hours=1)
    reopened = world.clocks(number)["resolution"]
    assert (reopened["state"], reopened["elapsed_seconds"], reopened["due_at"]) == (
        "running", 3 * HOUR, "2026-03-05T17:00:00.000000Z")  # reopened at 11:00, 6 h left
    world.desk.resolve_incident(number, actor="sd", code="solution_provided", notes="patched")
    final = world.clocks(number)
    assert (final["resolution"]["state"], final["resolution"]["elapsed_seconds"]) == (
        "met", 3 * HOUR)
    assert final["response"]["state"] == "met"                       # untouched by the reopen


def test_zammad_5177_response_and_resolution_clocks_never_override_each_other(
        world: SlaWorld) -> None:
    """Zammad lets one escalation target override another. Each clock here has its own row,
    its own thresholds and its own recorded events."""
    number = world.incident(impact=1, urgency=1)                     # P1: 15 min / 4 h
    world.clock.advance(minutes=20)
    assert alerts(world.tick()) == [(number, "response", 50), (number, "response", 75),
                                    (number, "response", 100)]
    world.desk.assign_incident(number, actor="sd", group="mail")
    clocks = world.clocks(number)
    assert (clocks["response"]["state"], clocks["resolution"]["state"],
            clocks["resolution"]["breached"]) == ("breached", "running", False)
    world.clock.advance(hours=1, minutes=40)                         # resolution at 50%
    assert alerts(world.tick()) == [(number, "resolution", 50)]
    assert sla_events(world, number) == [
        ("SlaWarningReached", "response", 50), ("SlaWarningReached", "response", 75),
        ("SlaBreached", "response", 100), ("SlaWarningReached", "resolution", 50)]
