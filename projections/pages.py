"""Paged reads for the API: keyset pagination, so a page costs the same wherever it starts."""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from projections.incidents import IncidentSummaries
from projections.problems import ProblemSummaries
from projections.projection import Projection, Row
from projections.queries import serving_table, with_sla_due
from projections.store import Cursor, ReadStore

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Order:
    """The ORDER BY expressions and how to compute them from a row (the page's resume key)."""

    expressions: tuple[str, ...]
    key: Callable[[Row], Key]
    types: tuple[type, ...]
    """The type of each key part: a resume key of other types is refused, not sent to SQL."""


@dataclass(frozen=True)
class Page:
    items: list[Row]
    after: Key | None
    """The last item's key when more items follow, else None."""


BY_NUMBER = Order(("number",), lambda row: (row["number"],), (str,))
BY_QUEUE = Order(
    ("priority", "CASE WHEN sla_due_at IS NULL THEN 1 ELSE 0 END", "COALESCE(sla_due_at, '')",
     "opened_at", "number"),
    lambda row: (row["priority"], 1 if row["sla_due_at"] is None else 0,
                 row["sla_due_at"] or "", row["opened_at"], row["number"]),
    (str, int, str, str, str))
"""The queue order of `queries.QUEUE_ORDER` (priority, SLA due time with none last, oldest
first) written without NULLs, so that a row-value comparison can resume after any row."""


def _page(store: ReadStore, projection: type[Projection], where: Sequence[tuple[str, Any]],
          order: Order, *, after: Key | None, limit: int,
          source: Callable[[Cursor], str] | None = None) -> Page:
    """`source` gives the FROM expression when the rows need more than the projection's table."""
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
        table = source(cursor) if source else serving_table(cursor, projection)
        cursor.execute(f"SELECT * FROM {table} WHERE {clause} "
                       f"ORDER BY {', '.join(order.expressions)} LIMIT {int(limit) + 1}", params)
        served = [column[0] for column in cursor.description]
        empty = dict.fromkeys(projection.tables[0].column_names)
        rows = [{**empty, **dict(zip(served, row, strict=True))} for row in cursor.fetchall()]
    more = len(rows) > limit
    items = rows[:limit]
    return Page(items, order.key(items[-1]) if more else None)


def incidents(store: ReadStore, *, state: str | None = None, group: str | None = None,
              priority: str | None = None, after: Key | None = None, limit: int = 50) -> Page:
    """Incidents by number, optionally filtered by state, assignment group and priority."""
    where = [(f"{column} = ?", value) for column, value in
             (("state", state), ("assignment_group", group), ("priority", priority))
             if value is not None]
    return _page(store, IncidentSummaries, where, BY_NUMBER, after=after, limit=limit,
                 source=with_sla_due)


def queue(store: ReadStore, group: str, *, after: Key | None = None, limit: int = 50) -> Page:
    """A group's open incidents in the order to work them."""
    return _page(store, IncidentSummaries,
                 [("assignment_group = ?", group), ("state IN ('new', 'in_progress')", None)],
                 BY_QUEUE, after=after, limit=limit, source=with_sla_due)


def problems(store: ReadStore, *, state: str | None = None, after: Key | None = None,
             limit: int = 50) -> Page:
    """Problems by number, optionally by state, with their linked incidents' numbers."""
    page = _page(store, ProblemSummaries, [("state = ?", state)] if state else [], BY_NUMBER,
                 after=after, limit=limit)
    for row in page.items:
        row["known_error"] = bool(row["known_error"])
        row["incidents"] = list(json.loads(row["incidents"]).values())
    return page
