"""Problem summaries for lists and search, with their linked incidents."""

import json
from collections.abc import Callable, Sequence
from typing import Any

from domain.problem import LIFECYCLE, Problem
from projections.projection import Envelope, Projection, Row, Rows, Table, existing_records
from projections.store import Dialect

COLUMNS = (
    ("id", "TEXT"), ("number", "TEXT NOT NULL"), ("title", "TEXT NOT NULL"),
    ("service", "TEXT"), ("state", "TEXT NOT NULL"), ("known_error", "INTEGER NOT NULL"),
    ("incidents", "TEXT NOT NULL"), ("root_cause", "TEXT"), ("workaround", "TEXT"),
    ("opened_at", "TEXT NOT NULL"), ("updated_at", "TEXT NOT NULL"),
    ("version", "INTEGER NOT NULL"),
)
"""`incidents` is a JSON object, incident id -> number, in link order."""

_MOVES = {command: {state.value: target.value for state, target in steps.items()}
          for command, steps in LIFECYCLE.items()}


def _step(row: Row, command: str) -> Row:
    state: str = row["state"]
    return {"state": _MOVES[command].get(state, state)}


def _linked(row: Row, incident: str, number: str | None) -> Row:
    incidents: dict[str, str] = json.loads(row["incidents"])
    if number is None:
        incidents.pop(incident, None)
    else:
        incidents[incident] = number
    return {"incidents": json.dumps(incidents)}


_CHANGES: dict[type[Any], Callable[[Any, Row], Row]] = {
    Problem.IncidentLinked: lambda e, row: _linked(row, str(e.incident), e.incident_number),
    Problem.IncidentUnlinked: lambda e, row: _linked(row, str(e.incident), None),
    Problem.InvestigationNoteAdded: lambda e, row: _step(row, "add a note"),
    Problem.RootCauseIdentified: lambda e, row: {**_step(row, "identify the root cause"),
                                                 "root_cause": e.root_cause},
    Problem.KnownErrorRecorded: lambda e, row: {"known_error": 1, "workaround": e.workaround},
    Problem.ChangeRequested: lambda e, row: _step(row, "request a change"),
    Problem.Resolved: lambda e, row: _step(row, "resolve"),
    Problem.Closed: lambda e, row: _step(row, "close"),
    Problem.Canceled: lambda e, row: _step(row, "cancel"),
}


class ProblemSummaries(Projection):
    name = "problems"
    events = (Problem.Opened, Problem.Event)
    rebuild_cost = 0.3
    version = 1
    tables = (Table(name="problems", columns=COLUMNS, key=("id",),
                    indexes=(("number",), ("state",))),)

    def apply(self, batch: Sequence[Envelope], tables: dict[str, Rows],
              dialect: Dialect) -> None:
        rows = tables["problems"]
        rows.prefetch(existing_records(batch, lambda event: type(event) in _CHANGES))
        for envelope in batch:
            event, when = envelope.event, envelope.occurred_at
            if type(event) is Problem.Opened:
                rows.add({
                    "id": envelope.stream_id, "number": event.number, "title": event.title,
                    "service": event.service, "state": "new", "known_error": 0,
                    "incidents": "{}", "root_cause": None, "workaround": None,
                    "opened_at": when, "updated_at": when, "version": event.originator_version,
                })
            elif (change := _CHANGES.get(type(event))) is not None:
                row = rows.get(envelope.stream_id)
                if row is not None:
                    rows.update(envelope.stream_id, **change(event, row), updated_at=when,
                                version=event.originator_version)
