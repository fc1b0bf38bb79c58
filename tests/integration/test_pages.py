"""Keyset pages walk a list in exactly the order of the whole-list queries, on both stores."""

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.bootstrap import open_read_store, open_service_desk, projection_runner
from projections import pages, queries, registry
from projections.incidents import COLUMNS, IncidentSummaries
from projections.pages import Key, Page
from projections.sla_clocks import DIGEST_SPACE, LANES, SlaClocks
from projections.store import ReadStore
from tests.conftest import FakeClock
from tests.integration.sla_world import SlaWorld

GROUPS = ("network", "desk")


def _fill(store: ReadStore, rows: int, seed: int) -> None:
    """Incident rows with ties in priority and opening time, and their places in the queues
    with SLA due times or none."""
    chance = random.Random(seed)
    names = [name for name, _ in COLUMNS]
    with store.transaction() as cursor:
        generation = registry.serving(cursor, IncidentSummaries.name)
        clocks = registry.serving(cursor, SlaClocks.name)
        assert generation is not None
        assert clocks is not None
        table = IncidentSummaries.tables[0].physical(generation.generation)
        places = SlaClocks.tables[1].physical(clocks.generation)
        for n in range(rows):
            due = chance.choice([None, None, f"2026-03-0{chance.randint(1, 3)}T10:00:00Z"])
            row = {"id": f"id-{n}", "number": f"INC{n:07d}", "title": "t", "service": "s",
                   "category": None, "subcategory": None, "impact": 1, "urgency": 1,
                   "priority": f"P{chance.randint(1, 3)}",
                   "state": chance.choice(["new", "in_progress", "on_hold", "resolved"]),
                   "hold_reason": None, "assignment_group": chance.choice(GROUPS),
                   "assignee": None, "problem": None, "escalation_level": 0,
                   "opened_at": f"2026-03-01T0{chance.randint(0, 2)}:00:00Z",
                   "updated_at": "2026-03-01T00:00:00Z", "resolved_at": None,
                   "closed_at": None, "version": 1}
            cursor.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                           f"({', '.join('?' for _ in names)})", [row[k] for k in names])
            cursor.execute(f"INSERT INTO {places} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                row["id"], row["number"], LANES.get(row["state"], "done"),
                row["assignment_group"], row["priority"], 1 if due is None else 0, due or "",
                row["opened_at"]])


def _walk(read: Callable[[Key | None], Page],
          item: Callable[[dict[str, Any]], Any] = lambda row: row["number"]) -> list[Any]:
    """Every page's items (as `item` gives them), first to last."""
    items: list[Any] = []
    after = None
    while True:
        page = read(after)
        items += [item(row) for row in page.items]
        if page.after is None:
            return items
        after = page.after


def due(row: dict[str, Any]) -> tuple[str, str | None]:
    return row["number"], row["sla_due_at"]


def _numbers_and_due(rows: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [due(row) for row in rows]


def utc(hour: int, minute: int = 0) -> str:
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC).isoformat()[:19] + ".000000Z"


@pytest.mark.parametrize("limit", [1, 3, 7, 500])
def test_pages_follow_the_whole_list_orders(store_url: str, limit: int) -> None:
    desk = open_service_desk(store_url)
    store = open_read_store(store_url)
    projection_runner(desk, store)  # creates the serving generations
    _fill(store, rows=80, seed=limit)
    for group in GROUPS:
        whole = [row["number"] for row in queries.queue(store, group)]
        assert _walk(lambda after, g=group: pages.queue(store, g, after=after,
                                                        limit=limit)) == whole
    assert _walk(lambda after: pages.incidents(store, state="new", after=after,
                                               limit=limit)) == [
        row["number"] for row in queries.incidents(store, state="new")]
    store.close()


def test_a_resume_key_of_the_wrong_shape_is_refused(sqlite_url: str) -> None:
    store = open_read_store(sqlite_url)
    projection_runner(open_service_desk(sqlite_url), store)
    with pytest.raises(ValueError, match="does not fit"):
        pages.queue(store, "desk", after=("INC0000001",))
    with pytest.raises(ValueError, match="does not fit"):
        pages.incidents(store, after=(1,))
    store.close()


def test_a_queue_pages_by_priority_then_running_clocks_due_time_on_both_stores(
        store_url: str, clock: FakeClock) -> None:
    # P1 resolves in 4 h, P2 in 8 h, around the clock; opened Monday 2026-03-02 09:00 UTC.
    world = SlaWorld.start(store_url, clock)
    waited = world.incident(impact=1, urgency=2)
    clock.advance(minutes=10)
    later, urgent, raised, held, fixed, new = (
        world.incident(impact=1, urgency=2) for _ in range(6))
    world.desk.prioritize_incident(urgent, actor="sd", impact=1, urgency=1)
    for number in (waited, later, urgent, raised, held, fixed):
        world.desk.assign_incident(number, actor="sd", group="mail")
    world.desk.put_incident_on_hold(waited, actor="sd", reason="awaiting_caller")  # paused
    world.desk.put_incident_on_hold(held, actor="sd", reason="awaiting_vendor")    # paused
    world.desk.resolve_incident(fixed, actor="sd", code="solution_provided", notes="ok")
    clock.advance(hours=1)
    world.desk.resume_incident(waited, actor="sd")          # 10 min spent: due 1 h later
    world.desk.reopen_incident(fixed, actor="sd", reason="back")  # runs again from 0
    world.desk.prioritize_incident(raised, actor="sd", impact=1, urgency=1)  # 1 h of 4 h
    world.runner.catch_up()

    def mail(after: Key | None) -> Page:
        return pages.queue(world.store, "mail", after=after, limit=2)

    assert _walk(mail, due) == [
        (urgent, utc(13, 10)), (raised, utc(13, 10)), (later, utc(17, 10)),
        (waited, utc(18, 0)), (fixed, utc(18, 10))]
    assert set(mail(None).items[0]) == {*IncidentSummaries.tables[0].column_names, "sla_due_at"}
    assert _numbers_and_due(queries.unassigned(world.store)) == [(new, utc(9, 40))]
    assert _numbers_and_due(queries.on_hold(world.store)) == [(held, None)]

    world.desk.resolve_incident(urgent, actor="sd", code="solution_provided", notes="ok")
    world.desk.put_incident_on_hold(later, actor="sd", reason="awaiting_change")  # runs on
    world.runner.catch_up()
    assert _walk(mail, due) == [
        (raised, utc(13, 10)), (waited, utc(18, 0)), (fixed, utc(18, 10))]
    assert _numbers_and_due(queries.on_hold(world.store)) == [
        (later, utc(17, 10)), (held, None)]
    world.store.close()


def test_until_the_rebuild_after_the_upgrade_a_queue_reads_the_older_clocks_tables(
        store_url: str, clock: FakeClock) -> None:
    world = SlaWorld.start(store_url, clock)
    numbers = [world.incident(impact=1, urgency=urgency) for urgency in (2, 1, 2, 2)]
    for number in numbers[:3]:
        world.desk.assign_incident(number, actor="sd", group="mail")
    world.desk.put_incident_on_hold(numbers[2], actor="sd", reason="awaiting_vendor")
    world.runner.catch_up()

    def reads() -> list[Any]:
        return [_walk(lambda after: pages.queue(world.store, "mail", after=after, limit=1),
                      lambda row: row),
                queries.queue(world.store, "mail"), queries.unassigned(world.store),
                queries.on_hold(world.store)]

    current = reads()
    with world.store.transaction() as cursor:  # as code version 2 built them: no work_queue
        clocks = registry.serving(cursor, SlaClocks.name)
        assert clocks is not None
        cursor.execute(f"DROP TABLE {SlaClocks.tables[1].physical(clocks.generation)}")
        cursor.execute("UPDATE projection_generations SET version = ? WHERE name = ?",
                       [2 * DIGEST_SPACE + clocks.version % DIGEST_SPACE, SlaClocks.name])
    assert [[row["number"] for row in read] for read in current] == [
        [numbers[1], numbers[0]], [numbers[1], numbers[0]], [numbers[3]], [numbers[2]]]
    assert reads() == current
    world.store.close()
