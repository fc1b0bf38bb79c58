"""Paged reads for the API: keyset pagination, so a page costs the same wherever it starts."""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from projections.incidents import IncidentSummaries
from projections.problems import ProblemSummaries
from projections.projection import Projection, Row
from projections.queries import QUEUED, serving_table, with_sla_due, work_queue
from projections.sla_clocks import QUEUE_ORDER
from projections.store import Cursor, ReadStore

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Order:
    """The ORDER BY expressions and how to compute them from a row (the page's resume key)."""

    expressions: tuple[str, ...]
    key: Callable[[Row], Key]
    types: tuple[type, ...]
    """The type of each key part: a resume key of other types is refused, not sent to SQL."""
    internal: tuple[str, ...] = ()
    """Columns selected for the key alone: not part of the items."""


@dataclass(frozen=True)
class Page:
    items: list[Row]
    after: Key | None
    """The last item's key when more items follow, else None."""


BY_NUMBER = Order(("number",), lambda row: (row["number"],), (str,))
BY_QUEUE = Order(
    tuple(f"q.{column}" for column in QUEUE_ORDER),
    lambda row: (row["queue_priority"], 1 if row["sla_due_at"] is None else 0,
                 row["sla_due_at"] or "", row["opened_at"], row["number"]),
    (str, int, str, str, str), internal=("queue_priority",))
"""The queue order of `queries.QUEUE_ORDER` (priority, SLA due time with none last, oldest
first), held without NULLs by `work_queue`, whose index serves it and a row-value comparison
that resumes after any row. The priority is the queue's: while the clocks are rebuilt after a
configuration change, the incident summaries may show a newer one."""


def _page(store: ReadStore, projection: type[Projection], where: Sequence[tuple[str, Any]],
          order: Order, *, after: Key | None, limit: int,
          source: Callable[[Cursor], str] | None = None) -> Page:
    """`source` gives what follows SELECT when the rows need more than the projection's table;
    it may select the order's internal columns too."""
    conditions = list(where)
    if after is not None:
        if len(after) != len(order.types) or not all(
                type(part) is kind for part, kind in zip(after, order.types, strict=False)):
            raise ValueError("the resume key does not fit this list")
        marks = ", ".join("?" for _ in after)
        conditions.append((f"({', '.join(order.expressions)}) > ({marks})", list(after)))
    clause = " AND ".join(condition for condition, _ in conditions) or "1 = 1"
    params: list[Any] = []
    for _, value in conditions:
        if isinstance(value, list):
            params.extend(value)
        elif value is not None:
            params.append(value)
    with store.reading() as cursor:
        selected = source(cursor) if source else f"* FROM {serving_table(cursor, projection)}"
        cursor.execute(f"SELECT {selected} WHERE {clause} "
                       f"ORDER BY {', '.join(order.expressions)} LIMIT {int(limit) + 1}", params)
        served = [column[0] for column in cursor.description]
        empty = dict.fromkeys(projection.tables[0].column_names)
        rows = [{**empty, **dict(zip(served, row, strict=True))} for row in cursor.fetchall()]
    more = len(rows) > limit
    items = rows[:limit]
    after = order.key(items[-1]) if more else None
    for row in items:
        for column in order.internal:
            del row[column]
    return Page(items, after)


def incidents(store: ReadStore, *, state: str | None = None, group: str | None = None,
              priority: str | None = None, after: Key | None = None, limit: int = 50) -> Page:
    """Incidents by number, optionally filtered by state, assignment group and priority."""
    where = [(f"{column} = ?", value) for column, value in
             (("state", state), ("assignment_group", group), ("priority", priority))
             if value is not None]
    return _page(store, IncidentSummaries, where, BY_NUMBER, after=after, limit=limit,
                 source=lambda cursor: f"* FROM {with_sla_due(cursor)}")


def queue(store: ReadStore, group: str, *, after: Key | None = None, limit: int = 50) -> Page:
    """A group's new and in-progress incidents in the order to work them: the first rows of
    an index, whatever the queue's length."""
    return _page(store, IncidentSummaries,
                 [("q.lane = 'queued'", None), ("q.assignment_group = ?", group)],
                 BY_QUEUE, after=after, limit=limit,
                 source=lambda cursor: f"{QUEUED}, q.priority AS queue_priority "
                                       f"FROM {work_queue(cursor)}")


def problems(store: ReadStore, *, state: str | None = None, after: Key | None = None,
             limit: int = 50) -> Page:
    """Problems by number, optionally by state, with their linked incidents' numbers."""
    page = _page(store, ProblemSummaries, [("state = ?", state)] if state else [], BY_NUMBER,
                 after=after, limit=limit)
    for row in page.items:
        row["known_error"] = bool(row["known_error"])
        row["incidents"] = list(json.loads(row["incidents"]).values())
    return page
