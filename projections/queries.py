"""Reads for the CLI and API: they query read models, never aggregates."""

import json
from typing import Any

from projections import registry, sla_clocks
from projections.incidents import IncidentSummaries
from projections.known_errors import KnownErrorIndex
from projections.problems import ProblemSummaries
from projections.projection import Projection
from projections.sla_clocks import SlaClocks
from projections.store import Cursor, ReadStore
from projections.timeline import Timeline

QUEUE_ORDER = ", ".join(f"q.{column}" for column in sla_clocks.QUEUE_ORDER)
"""Priority first, then the SLA due time (none last), then the oldest."""
QUEUED = "i.*, NULLIF(q.due, '') AS sla_due_at"
"""What a queue lists: the incident summaries with their SLA due time (`sla_due_at`)."""
SLA_DUE = ("(SELECT MIN(c.due_at) FROM {clocks} c "
           "WHERE c.incident_id = i.id AND c.state = 'running') AS sla_due_at")
"""An incident's SLA due time: the earliest of its running clocks (none while all are paused)."""


class NotBuilt(RuntimeError):
    """The read model has no serving generation yet: run the projections first."""


def serving_table(cursor: Cursor, projection: type[Projection]) -> str:
    """The physical name of the projection's (first) table that readers read now."""
    generation = registry.serving(cursor, projection.name)
    if generation is None:
        raise NotBuilt(f"projection {projection.name} has not been built")
    return projection.tables[0].physical(generation.generation)


def _select(store: ReadStore, projection: type[Projection], where: list[tuple[str, Any]],
            order: str) -> list[dict[str, Any]]:
    """Rows of the serving generation. During a rebuild that may be the previous version's
    tables: columns the code's version added read as None until the switch."""
    with store.reading() as cursor:
        table = serving_table(cursor, projection)
        clause = " AND ".join(condition for condition, _ in where) or "1 = 1"
        params = [value for _, value in where if value is not None]
        cursor.execute(f"SELECT * FROM {table} WHERE {clause} ORDER BY {order}", params)
        served = [column[0] for column in cursor.description]
        empty = dict.fromkeys(projection.tables[0].column_names)
        return [{**empty, **dict(zip(served, row, strict=True))} for row in cursor.fetchall()]


def incidents(store: ReadStore, *, state: str | None = None,
              group: str | None = None) -> list[dict[str, Any]]:
    where: list[tuple[str, Any]] = [("state = ?", state)] if state else []
    where += [("assignment_group = ?", group)] if group else []
    return _select(store, IncidentSummaries, where, "number")


def queue(store: ReadStore, group: str) -> list[dict[str, Any]]:
    """A group's new and in-progress incidents in the order to work them."""
    return _queued(store, [("q.lane = 'queued'", None), ("q.assignment_group = ?", group)])


def unassigned(store: ReadStore) -> list[dict[str, Any]]:
    return _queued(store, [("q.lane = 'queued'", None), ("q.assignment_group IS NULL", None)])


def on_hold(store: ReadStore) -> list[dict[str, Any]]:
    return _queued(store, [("q.lane = 'on_hold'", None)])


def with_sla_due(cursor: Cursor) -> str:
    """Incident rows with their SLA due time (`sla_due_at`), as a derived table `queued`."""
    clocks = serving_table(cursor, SlaClocks)
    incidents = serving_table(cursor, IncidentSummaries)
    return f"(SELECT i.*, {SLA_DUE.format(clocks=clocks)} FROM {incidents} i) queued"


def work_queue(cursor: Cursor) -> str:
    """FROM expression: each incident's place in the queues (`q`, the clocks' `work_queue`,
    whose index serves the queue order) joined to its summary (`i`)."""
    incidents = serving_table(cursor, IncidentSummaries)
    generation = registry.serving(cursor, SlaClocks.name)
    if generation is None:
        raise NotBuilt(f"projection {SlaClocks.name} has not been built")
    if sla_clocks.holds_work_queue(generation.version):
        places = SlaClocks.tables[1].physical(generation.generation)
    else:
        places = f"({_PLACES.format(due=with_sla_due(cursor))})"
    return f"{places} q JOIN {incidents} i ON i.id = q.incident_id"


_PLACES = (
    "SELECT id AS incident_id, number, CASE WHEN state IN ('new', 'in_progress') "
    "THEN 'queued' WHEN state = 'on_hold' THEN 'on_hold' ELSE 'done' END AS lane, "
    "assignment_group, priority, CASE WHEN sla_due_at IS NULL THEN 1 ELSE 0 END AS due_last, "
    "COALESCE(sla_due_at, '') AS due, opened_at FROM {due}")
"""`work_queue` computed, one clock query per incident, from the tables of a version before it
(until the rebuild after an upgrade switches)."""


def _queued(store: ReadStore, where: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Incident rows with their SLA due time, in QUEUE_ORDER."""
    with store.reading() as cursor:
        clause = " AND ".join(condition for condition, _ in where)
        cursor.execute(f"SELECT {QUEUED} FROM {work_queue(cursor)} WHERE {clause} "
                       f"ORDER BY {QUEUE_ORDER}",
                       [value for _, value in where if value is not None])
        served = [column[0] for column in cursor.description]
        empty = dict.fromkeys(IncidentSummaries.tables[0].column_names)
        return [{**empty, **dict(zip(served, row, strict=True))} for row in cursor.fetchall()]


def problems(store: ReadStore, *, state: str | None = None) -> list[dict[str, Any]]:
    rows = _select(store, ProblemSummaries, [("state = ?", state)] if state else [], "number")
    for row in rows:
        row["known_error"] = bool(row["known_error"])
        row["incidents"] = list(json.loads(row["incidents"]).values())
    return rows


def known_errors(store: ReadStore, *, service: str | None = None) -> list[dict[str, Any]]:
    where: list[tuple[str, Any]] = [("is_known_error = 1", None), ("active = 1", None)]
    where += [("service = ?", service)] if service else []
    return _select(store, KnownErrorIndex, where, "number")


def timeline(store: ReadStore, stream_id: str) -> list[dict[str, Any]]:
    return _select(store, Timeline, [("stream_id = ?", stream_id)], "version")
