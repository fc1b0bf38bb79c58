"""Recurrence patterns: grouping by symptom, sliding windows against an injected now."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.alerts.generic import parse_generic
from adapters.bootstrap import projection_runner
from domain.service_desk import ServiceDesk
from projections.patterns import Threshold, candidates, patterns
from projections.runner import ProjectionRunner
from projections.store import SqliteReadStore
from tests.conftest import FakeClock

THRESHOLDS = [Threshold(3, timedelta(days=7)), Threshold(5, timedelta(hours=24))]


@pytest.fixture
def runner(desk: ServiceDesk) -> ProjectionRunner:
    return projection_runner(desk, SqliteReadStore(":memory:"))


def read(runner: ProjectionRunner, now: datetime) -> list[dict[str, Any]]:
    runner.catch_up()
    return patterns(runner.store, now=now, thresholds=THRESHOLDS)


def open_vpn(desk: ServiceDesk, gateway: int) -> str:
    return desk.open_incident(actor="sd", title=f"VPN gateway vpn-{gateway:02d} drops sessions",
                              service="vpn", category="network").number


def test_incidents_with_one_symptom_form_a_pattern_counted_in_sliding_windows(
        desk: ServiceDesk, clock: FakeClock, runner: ProjectionRunner) -> None:
    start = clock.now
    numbers = []
    for days in (0, 10, 25, 28, 31):  # always at 09:00 UTC, on different weekdays
        clock.now = start + timedelta(days=days)
        numbers.append(open_vpn(desk, days))
    desk.open_incident(actor="sd", title="Printer jams", service="vpn", category="network")
    desk.open_incident(actor="sd", title="VPN gateway vpn-03 drops sessions", service="email")

    (pattern,) = read(runner, now=start + timedelta(days=31, hours=1))

    assert pattern["fingerprint"] == "vpn gateway <ID> drops sessions"
    assert (pattern["service"], pattern["category"]) == ("vpn", "network")
    assert pattern["incidents"] == numbers
    assert (pattern["last_24h"], pattern["last_7d"], pattern["last_30d"], pattern["total"]) == (
        1, 3, 4, 5)
    assert pattern["first_seen"] == "2026-03-02T09:00:00+00:00"
    assert pattern["last_seen"] == "2026-04-02T09:00:00+00:00"
    assert pattern["mean_interval_hours"] == 31 * 24 / 4
    assert (pattern["same_hour_of_day"], pattern["same_weekday"]) == (9, None)
    assert pattern["threshold_crossed"] == "3 in 168 h"
    assert pattern["candidate"] is True

    # The same read a week later: the windows slide, nothing is rewritten.
    (later,) = read(runner, now=start + timedelta(days=39))
    assert (later["last_24h"], later["last_7d"], later["last_30d"]) == (0, 0, 4)
    assert later["candidate"] is False


def test_five_in_a_day_cross_the_short_threshold(desk: ServiceDesk, clock: FakeClock,
                                                  runner: ProjectionRunner) -> None:
    for gateway in range(5):
        open_vpn(desk, gateway)
        clock.advance(hours=2)
    (pattern,) = read(runner, now=clock.now)
    assert pattern["threshold_crossed"] == "3 in 168 h"  # the first threshold listed wins

    (short,) = patterns(runner.store, now=clock.now, thresholds=[THRESHOLDS[1]])
    assert short["threshold_crossed"] == "5 in 24 h"
    assert (short["same_hour_of_day"], short["same_weekday"]) == (None, "monday")


def test_an_open_linked_problem_covers_the_pattern_until_it_is_finished(
        desk: ServiceDesk, clock: FakeClock, runner: ProjectionRunner) -> None:
    numbers = [open_vpn(desk, gateway) for gateway in range(3)]
    problem = desk.open_problem(actor="pat", title="VPN drops", incidents=[numbers[1]]).number

    (covered,) = read(runner, now=clock.now)
    assert (covered["covered_by"], covered["candidate"]) == ([problem], False)

    desk.cancel_problem(problem, actor="pat", reason="Duplicate")
    (uncovered,) = read(runner, now=clock.now)
    assert (uncovered["covered_by"], uncovered["candidate"]) == ([], True)


def test_alert_incidents_keep_the_fingerprint_taken_at_intake_across_a_rebuild(
        desk: ServiceDesk, clock: FakeClock, runner: ProjectionRunner) -> None:
    for key in range(2):
        (alert,) = parse_generic({"source": "zabbix", "dedup_key": f"k{key}", "service": "db",
                                  "summary": f"Replica lag {key * 40 + 3}s on db-0{key}",
                                  "fired_at": "2026-03-02T08:00:00Z"})
        desk.receive_alert(alert)
    desk.categorize_incident("INC0000001", actor="sd", category="database")
    desk.categorize_incident("INC0000002", actor="sd", category="database")
    before = read(runner, now=clock.now)

    runner.rebuild("recurrence")

    assert patterns(runner.store, now=clock.now, thresholds=THRESHOLDS) == before
    assert before[0]["fingerprint"] == "replica lag <NUM>s on <ID>"
    assert before[0]["category"] == "database"


def test_a_single_incident_is_not_a_pattern(desk: ServiceDesk, runner: ProjectionRunner,
                                            clock: FakeClock) -> None:
    open_vpn(desk, 1)
    assert read(runner, now=datetime(2026, 3, 3, tzinfo=UTC)) == []


def test_candidates_come_in_the_listing_order_even_when_every_threshold_is_short(
        desk: ServiceDesk, clock: FakeClock, runner: ProjectionRunner) -> None:
    start = clock.now
    for hours in (0, 30, 60, 90, 140, 150):  # vpn: 6 in the week, 2 in the last day
        clock.now = start + timedelta(hours=hours)
        open_vpn(desk, hours)
    for hours in (140, 145, 150):  # email: 3 in the last day, all of its week
        clock.now = start + timedelta(hours=hours)
        desk.open_incident(actor="sd", title=f"Mail queue on relay-{hours} above 1,024",
                           service="email")
    day = [Threshold(2, timedelta(hours=24))]

    listed = read(runner, now=clock.now)
    found = candidates(runner.store, now=clock.now, thresholds=day)

    assert [c.service for c in found] == ["vpn", "email"]  # busiest in the last 7 days first
    assert [c.pattern for c in found] == [
        p["pattern"] for p in patterns(runner.store, now=clock.now, thresholds=day)
        if p["candidate"]]
    assert [p["last_7d"] for p in listed] == [6, 3]
    assert [number for number, _ in found[0].recent] == listed[0]["incidents"]


def test_a_now_before_some_incidents_counts_them_in_no_window(
        desk: ServiceDesk, clock: FakeClock, runner: ProjectionRunner) -> None:
    start = clock.now
    numbers = []
    for hours in (0, 2, 4, 6):
        clock.now = start + timedelta(hours=hours)
        numbers.append(open_vpn(desk, hours))
    replayed = start + timedelta(hours=3)  # a replay: the last two opened after it
    short = [Threshold(2, timedelta(hours=24))]

    (pattern,) = read(runner, now=replayed)
    assert (pattern["last_24h"], pattern["total"], pattern["incidents"]) == (2, 4, numbers)
    assert pattern["candidate"] is False  # 2 opened by then: "3 in 168 h" is not crossed
    assert candidates(runner.store, now=replayed, thresholds=THRESHOLDS) == []

    (candidate,) = candidates(runner.store, now=replayed, thresholds=short)
    assert [number for number, _ in candidate.recent] == numbers  # the later ones too
