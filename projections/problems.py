"""Problem summaries for lists and search, with their linked incidents."""

import json
from collections.abc import Sequence
from typing import Any

from domain.audit_chain import format_timestamp
from domain.lifecycle import after
from domain.problem import LIFECYCLE, Problem, ProblemState
from projections.projection import Envelope, Projection, Row, Rows, Table
from projections.store import Dialect

COLUMNS = (
    ("id", "TEXT"), ("number", "TEXT NOT NULL"), ("title", "TEXT NOT NULL"),
    ("service", "TEXT"), ("state", "TEXT NOT NULL"), ("known_error", "INTEGER NOT NULL"),
    ("incidents", "TEXT NOT NULL"), ("root_cause", "TEXT"), ("workaround", "TEXT"),
    ("opened_at", "TEXT NOT NULL"), ("updated_at", "TEXT NOT NULL"),
    ("version", "INTEGER NOT NULL"),
)
"""`incidents` is a JSON object, incident id -> number, in link order."""


def _step(problem: Row, command: str) -> str:
    return after(LIFECYCLE, command, ProblemState(problem["state"])).value


def _linked(row: Row, change: dict[str, str | None]) -> str:
    incidents: dict[str, str] = json.loads(row["incidents"])
    for incident_id, number in change.items():
        if number is None:
            incidents.pop(incident_id, None)
        else:
            incidents[incident_id] = number
    return json.dumps(incidents)


def _changes(e: Any, row: Row) -> Row:
    match e:
        case Problem.IncidentLinked():
            return {"incidents": _linked(row, {str(e.incident): e.incident_number})}
        case Problem.IncidentUnlinked():
            return {"incidents": _linked(row, {str(e.incident): None})}
        case Problem.InvestigationNoteAdded():
            return {"state": _step(row, "add a note")}
        case Problem.RootCauseIdentified():
            return {"state": _step(row, "identify the root cause"), "root_cause": e.root_cause}
        case Problem.KnownErrorRecorded():
            return {"known_error": 1, "workaround": e.workaround}
        case Problem.ChangeRequested():
            return {"state": _step(row, "request a change")}
        case Problem.Resolved():
            return {"state": _step(row, "resolve")}
        case Problem.Closed():
            return {"state": _step(row, "close")}
        case Problem.Canceled():
            return {"state": _step(row, "cancel")}
    return {}


class ProblemSummaries(Projection):
    name = "problems"
    version = 1
    tables = (Table(name="problems", columns=COLUMNS, key=("id",),
                    indexes=(("number",), ("state",))),)

    def apply(self, batch: Sequence[Envelope], tables: dict[str, Rows],
              dialect: Dialect) -> None:
        rows = tables["problems"]
        events = [envelope.event for envelope in batch
                  if isinstance(envelope.event, Problem.Event | Problem.Opened)]
        rows.prefetch((str(e.originator_id),) for e in events
                      if not isinstance(e, Problem.Opened))
        for event in events:
            when = format_timestamp(event.timestamp)
            if isinstance(event, Problem.Opened):
                rows.put({
                    "id": str(event.originator_id), "number": event.number,
                    "title": event.title, "service": event.service, "state": "new",
                    "known_error": 0, "incidents": "{}", "root_cause": None,
                    "workaround": None, "opened_at": when, "updated_at": when,
                    "version": event.originator_version,
                })
                continue
            row = rows.get(str(event.originator_id))
            if row is not None:
                rows.update(str(event.originator_id), **_changes(event, row), updated_at=when,
                            version=event.originator_version)
