"""SLA properties: business time is an exact inverse pair, elapsed never runs backwards, and the
clocks built bit by bit equal the clocks rebuilt from the log."""

import contextlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.bootstrap import open_read_store, projection_runner
from domain.errors import DomainError
from domain.sla_calendar import Calendar, add_business_time, business_time
from projections import registry
from projections.sla_clocks import SlaClocks
from projections.store import ReadStore
from tests.conftest import FakeClock
from tests.integration.sla_world import SlaWorld

OFFICE = tuple(((480, 1080),) if weekday < 5 else () for weekday in range(7))
SPLIT = tuple(((420, 720), (780, 1320)) if weekday < 6 else ((0, 1440),) for weekday in range(7))
CALENDARS = st.sampled_from([
    Calendar(),
    Calendar(week=OFFICE, zone="Europe/Berlin",
             holidays=frozenset({date(2026, 4, 3), date(2026, 12, 25), date(2030, 1, 1)})),
    Calendar(week=OFFICE, zone="America/New_York"),
    Calendar(week=SPLIT, zone="Australia/Lord_Howe"),  # a 30-minute DST shift
])
INSTANTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
                        timezones=st.just(UTC))
AMOUNTS = st.integers(min_value=0, max_value=60 * 24 * 3600 * 10**6).map(
    lambda micros: timedelta(microseconds=micros))


@settings(max_examples=150, deadline=None)
@given(CALENDARS, INSTANTS, AMOUNTS)
def test_measuring_the_time_added_gives_it_back(calendar: Calendar, start: datetime,
                                                amount: timedelta) -> None:
    end = add_business_time(calendar, start, amount)
    assert end >= start
    assert business_time(calendar, start, end) == amount


@settings(max_examples=100, deadline=None)
@given(CALENDARS, st.lists(INSTANTS, min_size=3, max_size=3))
def test_business_time_adds_up_over_consecutive_spans(calendar: Calendar,
                                                      instants: list[datetime]) -> None:
    a, b, c = sorted(instants)
    if (c - a) > timedelta(days=400):
        c = a + (c - a) % timedelta(days=400)
        b = min(b, c)
    assert business_time(calendar, a, b) + business_time(calendar, b, c) == business_time(
        calendar, a, c)


STEPS = st.lists(st.one_of(
    st.tuples(st.just("advance"), st.integers(min_value=1, max_value=3_000)),
    st.tuples(st.just("assign"), st.sampled_from(["mail", "network"])),
    st.tuples(st.just("hold"), st.sampled_from(["awaiting_caller", "awaiting_vendor",
                                                "awaiting_change"])),
    st.tuples(st.just("resume"), st.none()),
    st.tuples(st.just("prioritize"), st.tuples(st.integers(1, 3), st.integers(1, 3))),
    st.tuples(st.just("resolve"), st.none()),
    st.tuples(st.just("reopen"), st.none()),
    st.tuples(st.just("cancel"), st.none()),
    st.tuples(st.just("tick"), st.none()),
), min_size=1, max_size=25)


def act(world: SlaWorld, number: str, step: str, argument: Any) -> None:
    desk = world.desk
    commands = {
        "assign": lambda: desk.assign_incident(number, actor="sd", group=argument),
        "hold": lambda: desk.put_incident_on_hold(number, actor="sd", reason=argument),
        "resume": lambda: desk.resume_incident(number, actor="sd"),
        "prioritize": lambda: desk.prioritize_incident(number, actor="sd", impact=argument[0],
                                                       urgency=argument[1]),
        "resolve": lambda: desk.resolve_incident(number, actor="sd", code="solution_provided",
                                                 notes="done"),
        "reopen": lambda: desk.reopen_incident(number, actor="sd", reason="again"),
        "cancel": lambda: desk.cancel_incident(number, actor="sd", reason="duplicate"),
        "tick": world.tick,
    }
    if step == "advance":
        world.clock.advance(minutes=argument)
        return
    with contextlib.suppress(DomainError):  # refused in this state: nothing written, go on
        commands[step]()


def clock_rows(store: ReadStore) -> list[tuple[Any, ...]]:
    table = SlaClocks.tables[0]
    with store.transaction() as cursor:
        generation = registry.serving(cursor, SlaClocks.name)
        assert generation is not None
        cursor.execute(f"SELECT {', '.join(table.column_names)} FROM "
                       f"{table.physical(generation.generation)} ORDER BY clock")
        return [tuple(row) for row in cursor.fetchall()]


@settings(max_examples=40, deadline=None)
@given(STEPS, st.integers(min_value=1, max_value=5))
def test_elapsed_never_decreases_and_a_rebuild_gives_the_same_clocks(
        steps: list[tuple[str, Any]], batch_size: int) -> None:
    world = SlaWorld.start("memory://", FakeClock())
    number = world.incident(impact=2, urgency=2)
    seen: dict[str, float] = {}
    for step, argument in steps:
        act(world, number, step, argument)
        for target, clock in world.clocks(number).items():
            assert clock["elapsed_seconds"] >= seen.get(target, 0.0), (step, target)
            seen[target] = clock["elapsed_seconds"]

    built = clock_rows(world.store)
    world.runner.rebuild("sla_clocks")
    assert clock_rows(world.store) == built
    fresh = open_read_store("memory://")
    projection_runner(world.desk, fresh, batch_size=batch_size).catch_up()
    assert clock_rows(fresh) == built
