"""Incident summaries: lists, search and the work queues (per group, unassigned, on hold)."""

from collections.abc import Callable, Sequence
from typing import Any

from domain.incident import LIFECYCLE, EscalationKind, Incident
from projections.projection import Envelope, Projection, Row, Rows, Table, existing_records
from projections.store import Dialect

COLUMNS = (
    ("id", "TEXT"), ("number", "TEXT NOT NULL"), ("title", "TEXT NOT NULL"),
    ("service", "TEXT NOT NULL"), ("category", "TEXT"), ("subcategory", "TEXT"),
    ("impact", "INTEGER NOT NULL"), ("urgency", "INTEGER NOT NULL"),
    ("priority", "TEXT NOT NULL"), ("state", "TEXT NOT NULL"), ("hold_reason", "TEXT"),
    ("assignment_group", "TEXT"), ("assignee", "TEXT"), ("problem", "TEXT"),
    ("escalation_level", "INTEGER NOT NULL"), ("opened_at", "TEXT NOT NULL"),
    ("updated_at", "TEXT NOT NULL"), ("resolved_at", "TEXT"), ("closed_at", "TEXT"),
    ("version", "INTEGER NOT NULL"),
)

_MOVES = {command: {state.value: target.value for state, target in steps.items()}
          for command, steps in LIFECYCLE.items()}
"""The domain's lifecycle as plain strings (rows hold states as text)."""


def _step(row: Row, command: str) -> str:
    state: str = row["state"]
    return _MOVES[command].get(state, state)


def _escalated(e: Any, row: Row) -> Row:
    if e.kind is EscalationKind.FUNCTIONAL:
        return {"state": _step(row, "escalate functionally"), "assignment_group": e.to,
                "assignee": None}
    return {"escalation_level": row["escalation_level"] + 1}


_CHANGES: dict[type[Any], Callable[[Any, Row, Envelope], Row]] = {
    Incident.Categorized: lambda e, row, _: {"category": e.category,
                                             "subcategory": e.subcategory},
    Incident.Prioritized: lambda e, row, _: {"impact": e.impact, "urgency": e.urgency,
                                             "priority": e.priority.value},
    Incident.Assigned: lambda e, row, _: {"state": _step(row, "assign"),
                                          "assignment_group": e.assignment_group,
                                          "assignee": e.assignee},
    Incident.Escalated: lambda e, row, _: _escalated(e, row),
    Incident.PutOnHold: lambda e, row, _: {"state": _step(row, "put on hold"),
                                           "hold_reason": e.reason.value},
    Incident.Resumed: lambda e, row, _: {"state": _step(row, "resume"), "hold_reason": None},
    Incident.WorkNoteAdded: lambda e, row, _: {},
    Incident.WorkaroundApplied: lambda e, row, _: {},
    Incident.Resolved: lambda e, row, envelope: {"state": _step(row, "resolve"),
                                                 "hold_reason": None,
                                                 "resolved_at": envelope.occurred_at},
    Incident.Reopened: lambda e, row, _: {"state": _step(row, "reopen"), "resolved_at": None},
    Incident.Closed: lambda e, row, envelope: {"state": _step(row, "close"),
                                               "closed_at": envelope.occurred_at},
    Incident.Canceled: lambda e, row, _: {"state": _step(row, "cancel"), "hold_reason": None},
    Incident.LinkedToProblem: lambda e, row, _: {"problem": e.problem_number},
    Incident.UnlinkedFromProblem: lambda e, row, _: {"problem": None},
    Incident.SlaWarningReached: lambda e, row, _: {},
    Incident.SlaBreached: lambda e, row, _: {},
    Incident.AlertCorrelated: lambda e, row, _: {},
    Incident.AlertOccurrencesRecorded: lambda e, row, _: {},
    Incident.AlertRecovered: lambda e, row, _: {},
}
"""The columns each event changes, given the row as it was."""


def _opened(e: Incident.Opened, envelope: Envelope) -> Row:
    return {
        "id": envelope.stream_id, "number": e.number, "title": e.title, "service": e.service,
        "category": e.category, "subcategory": e.subcategory, "impact": e.impact,
        "urgency": e.urgency, "priority": e.priority.value, "state": "new", "hold_reason": None,
        "assignment_group": None, "assignee": None, "problem": None, "escalation_level": 0,
        "opened_at": envelope.occurred_at, "updated_at": envelope.occurred_at,
        "resolved_at": None, "closed_at": None,
        "version": e.originator_version,
    }


class IncidentSummaries(Projection):
    name = "incidents"
    events = (Incident.Opened, Incident.Event)
    rebuild_cost = 2.3
    version = 2
    """2: without `sla_due_at` (queues take it from the SLA clocks); SLA events bump `version`."""
    tables = (Table(
        name="incidents", columns=COLUMNS, key=("id",),
        indexes=(("number",), ("state", "priority"),
                 ("assignment_group", "state", "priority")),
    ),)

    def apply(self, batch: Sequence[Envelope], tables: dict[str, Rows],
              dialect: Dialect) -> None:
        rows = tables["incidents"]
        rows.prefetch(existing_records(batch, lambda event: type(event) in _CHANGES))
        for envelope in batch:
            event = envelope.event
            if type(event) is Incident.Opened:
                rows.add(_opened(event, envelope))
            elif (change := _CHANGES.get(type(event))) is not None:
                row = rows.get(envelope.stream_id)
                if row is not None:
                    rows.update(envelope.stream_id, **change(event, row, envelope),
                                updated_at=envelope.occurred_at,
                                version=event.originator_version)
