"""Keyset pages walk a list in exactly the order of the whole-list queries, on both stores."""

import random
from collections.abc import Callable

import pytest

from adapters.bootstrap import open_read_store, open_service_desk, projection_runner
from projections import pages, queries, registry
from projections.incidents import COLUMNS, IncidentSummaries
from projections.pages import Key, Page
from projections.store import ReadStore

GROUPS = ("network", "desk")


def _fill(store: ReadStore, rows: int, seed: int) -> None:
    """Incident rows with ties in priority and opening time, and SLA due times or none."""
    chance = random.Random(seed)
    names = [name for name, _ in COLUMNS]
    with store.transaction() as cursor:
        generation = registry.serving(cursor, IncidentSummaries.name)
        assert generation is not None
        table = IncidentSummaries.tables[0].physical(generation.generation)
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
                   "closed_at": None, "sla_due_at": due, "version": 1}
            cursor.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                           f"({', '.join('?' for _ in names)})", [row[k] for k in names])


def _walk(read: Callable[[Key | None], Page]) -> list[str]:
    numbers: list[str] = []
    after = None
    while True:
        page = read(after)
        numbers += [row["number"] for row in page.items]
        if page.after is None:
            return numbers
        after = page.after


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
