"""The SLA clocks read model: what each event does to the response and resolution clocks.

The clock starts on Monday 2026-03-02 09:00 UTC; the built-in policies apply (P1 15 min / 4 h
and P2 30 min / 8 h around the clock; P3-P5 in business days, Mon-Fri 08:00-18:00 UTC).
"""

from datetime import UTC, datetime, timedelta

import pytest

from projections import queries
from tests.conftest import FakeClock
from tests.integration.sla_world import SlaWorld

CONTRACT_KEYS = {"target", "state", "due_at", "elapsed_seconds", "percent"}
HOUR = 3600.0


@pytest.fixture
def world(clock: FakeClock) -> SlaWorld:
    return SlaWorld.start("memory://", clock)


def utc(day: int, hour: int, minute: int = 0) -> str:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC).isoformat()[:19] + ".000000Z"


def test_an_opened_incident_has_two_running_clocks_with_the_contract_keys(
        world: SlaWorld) -> None:
    number = world.incident(impact=1, urgency=1)
    world.clock.advance(minutes=6)
    clocks = world.clocks(number)
    assert set(clocks) == {"response", "resolution"}
    for target, clock in clocks.items():
        assert clock.keys() >= CONTRACT_KEYS
        assert (clock["target"], clock["state"], clock["elapsed_seconds"]) == (
            target, "running", 360.0)
    assert (clocks["response"]["due_at"], clocks["response"]["percent"]) == (utc(2, 9, 15), 40.0)
    assert (clocks["resolution"]["due_at"], clocks["resolution"]["percent"]) == (
        utc(2, 13), 2.5)


def test_the_first_assignment_stops_the_response_clock_met_or_breached(
        world: SlaWorld) -> None:
    quick, late = world.incident(impact=1, urgency=1), world.incident(impact=1, urgency=1)
    world.clock.advance(minutes=5)
    world.desk.assign_incident(quick, actor="sd", group="mail")
    world.clock.advance(minutes=15)
    world.desk.assign_incident(late, actor="sd", group="mail")
    world.clock.advance(hours=1)
    world.desk.assign_incident(quick, actor="sd", group="network")  # a re-assignment: no effect

    met, breached = world.clocks(quick)["response"], world.clocks(late)["response"]
    assert (met["state"], met["elapsed_seconds"], met["due_at"], met["breached"]) == (
        "met", 300.0, None, False)
    assert (breached["state"], breached["elapsed_seconds"], breached["breached_at"]) == (
        "breached", 1200.0, utc(2, 9, 15))
    assert world.clocks(quick)["resolution"]["state"] == "running"


def test_a_functional_escalation_of_a_new_incident_is_its_first_assignment(
        world: SlaWorld) -> None:
    number = world.incident(impact=1, urgency=1)
    world.clock.advance(minutes=3)
    world.desk.escalate_incident(number, actor="sd", kind="functional", to="dba",
                                 reason="database")
    assert world.clocks(number)["response"]["state"] == "met"


def test_the_resolution_clock_pauses_awaiting_the_caller_or_a_vendor_only(
        world: SlaWorld) -> None:
    vendor, change = world.incident(impact=1, urgency=2), world.incident(impact=1, urgency=2)
    for number in (vendor, change):
        world.desk.assign_incident(number, actor="sd", group="mail")
    world.clock.advance(hours=2)
    world.desk.put_incident_on_hold(vendor, actor="sd", reason="awaiting_vendor")
    world.desk.put_incident_on_hold(change, actor="sd", reason="awaiting_change")
    world.clock.advance(hours=3)

    paused = world.clocks(vendor)["resolution"]
    assert (paused["state"], paused["elapsed_seconds"], paused["due_at"]) == (
        "paused", 2 * HOUR, None)
    assert world.clocks(change)["resolution"]["elapsed_seconds"] == 5 * HOUR

    world.desk.resume_incident(vendor, actor="sd")
    world.clock.advance(hours=1)
    resumed = world.clocks(vendor)["resolution"]
    # P2: 8 h; 2 h before the hold, 1 h since: due 3 h after the hold's 3 h.
    assert (resumed["state"], resumed["elapsed_seconds"], resumed["due_at"]) == (
        "running", 3 * HOUR, utc(2, 20))


def test_re_prioritising_re_targets_the_running_clock_and_keeps_the_elapsed_time(
        world: SlaWorld) -> None:
    number = world.incident(impact=2, urgency=2)  # P3: 4 business hours / 3 business days
    world.desk.assign_incident(number, actor="sd", group="mail")
    world.clock.advance(hours=1)
    world.desk.prioritize_incident(number, actor="sd", impact=1, urgency=1)  # P1: 4 h 24x7

    resolution = world.clocks(number)["resolution"]
    assert (resolution["priority"], resolution["target_seconds"], resolution["elapsed_seconds"],
            resolution["due_at"]) == ("P1", 4 * HOUR, HOUR, utc(2, 13))
    assert world.clocks(number)["response"]["state"] == "met"  # stopped clocks keep their target


def test_re_prioritising_below_the_time_already_spent_breaches_at_that_moment(
        world: SlaWorld) -> None:
    number = world.incident(impact=3, urgency=1)  # P3
    world.clock.advance(minutes=40)
    world.desk.prioritize_incident(number, actor="sd", impact=1, urgency=1)  # P1: 15 min
    response = world.clocks(number)["response"]
    assert (response["state"], response["breached_at"], response["percent"]) == (
        "running", utc(2, 9, 40), pytest.approx(266.67))


def test_resolving_stops_both_clocks_and_cancelling_cancels_the_moving_ones(
        world: SlaWorld) -> None:
    resolved, canceled = world.incident(impact=1, urgency=2), world.incident(impact=1, urgency=2)
    world.desk.assign_incident(canceled, actor="sd", group="mail")
    world.clock.advance(hours=1)
    world.desk.resolve_incident(resolved, actor="sd", code="solution_provided", notes="ok")
    world.desk.cancel_incident(canceled, actor="sd", reason="duplicate")
    world.clock.advance(hours=20)
    world.desk.close_incident(resolved, actor="sd")

    assert {t: (c["state"], c["elapsed_seconds"]) for t, c in world.clocks(resolved).items()} == {
        "response": ("breached", HOUR), "resolution": ("met", HOUR)}
    assert {t: c["state"] for t, c in world.clocks(canceled).items()} == {
        "response": "met", "resolution": "canceled"}


def test_the_queue_orders_by_priority_then_by_sla_due_time(world: SlaWorld) -> None:
    held = world.incident(impact=1, urgency=2)           # P2, opened first
    world.clock.advance(minutes=10)
    later = world.incident(impact=1, urgency=2)          # P2, opened 10 min later
    urgent = world.incident(impact=1, urgency=1)         # P1, opened last
    for number in (held, later, urgent):
        world.desk.assign_incident(number, actor="sd", group="mail")
    world.desk.put_incident_on_hold(held, actor="sd", reason="awaiting_caller")
    world.clock.advance(hours=1)
    world.desk.resume_incident(held, actor="sd")          # its due time moved 1 h later
    world.runner.catch_up()

    queued = queries.queue(world.store, "mail")
    assert [row["number"] for row in queued] == [urgent, later, held]
    assert [row["sla_due_at"] for row in queued] == [
        utc(2, 13, 10), utc(2, 17, 10), utc(2, 18, 0)]
    world.desk.put_incident_on_hold(later, actor="sd", reason="awaiting_vendor")
    world.runner.catch_up()
    assert [(row["number"], row["sla_due_at"]) for row in queries.on_hold(world.store)] == [
        (later, None)]  # paused clocks have no due time


def test_reads_answer_for_any_now_without_new_events(world: SlaWorld) -> None:
    number = world.incident(impact=2, urgency=2)  # P3, response 4 business hours
    world.runner.catch_up()
    friday_evening = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)
    clock = world.clocks(number, now=friday_evening - timedelta(days=4, hours=9))  # Mon 11:00
    assert (clock["response"]["elapsed_seconds"], clock["response"]["remaining_seconds"]) == (
        2 * HOUR, 2 * HOUR)
    late = world.clocks(number, now=friday_evening)["resolution"]
    # Mon 9 h + Tue-Fri 40 h of business time against 30 h: breached on Thursday at 09:00.
    assert (late["elapsed_seconds"], late["breached_at"]) == (49 * HOUR, utc(5, 9))
