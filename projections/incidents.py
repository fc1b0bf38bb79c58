"""Incident summaries: lists, search and the work queues (per group, unassigned, on hold)."""

from collections.abc import Sequence
from typing import Any

from domain.audit_chain import format_timestamp
from domain.incident import LIFECYCLE, EscalationKind, Incident, IncidentState
from domain.lifecycle import after
from projections.projection import Envelope, Projection, Row, Rows, Table
from projections.store import Dialect

COLUMNS = (
    ("id", "TEXT"), ("number", "TEXT NOT NULL"), ("title", "TEXT NOT NULL"),
    ("service", "TEXT NOT NULL"), ("category", "TEXT"), ("subcategory", "TEXT"),
    ("impact", "INTEGER NOT NULL"), ("urgency", "INTEGER NOT NULL"),
    ("priority", "TEXT NOT NULL"), ("state", "TEXT NOT NULL"), ("hold_reason", "TEXT"),
    ("assignment_group", "TEXT"), ("assignee", "TEXT"), ("problem", "TEXT"),
    ("escalation_level", "INTEGER NOT NULL"), ("opened_at", "TEXT NOT NULL"),
    ("updated_at", "TEXT NOT NULL"), ("resolved_at", "TEXT"), ("closed_at", "TEXT"),
    ("sla_due_at", "TEXT"), ("version", "INTEGER NOT NULL"),
)


def _step(incident: Row, command: str) -> str:
    return after(LIFECYCLE, command, IncidentState(incident["state"])).value


def _opened(e: Incident.Opened) -> Row:
    when = format_timestamp(e.timestamp)
    return {
        "id": str(e.originator_id), "number": e.number, "title": e.title, "service": e.service,
        "category": e.category, "subcategory": e.subcategory, "impact": e.impact,
        "urgency": e.urgency, "priority": e.priority.value, "state": "new", "hold_reason": None,
        "assignment_group": None, "assignee": None, "problem": None, "escalation_level": 0,
        "opened_at": when, "updated_at": when, "resolved_at": None, "closed_at": None,
        "sla_due_at": None, "version": e.originator_version,
    }


def _changes(e: Any, row: Row) -> Row:
    """The columns an event changes, given the row as it was."""
    match e:
        case Incident.Categorized():
            return {"category": e.category, "subcategory": e.subcategory}
        case Incident.Prioritized():
            return {"impact": e.impact, "urgency": e.urgency, "priority": e.priority.value}
        case Incident.Assigned():
            return {"state": _step(row, "assign"), "assignment_group": e.assignment_group,
                    "assignee": e.assignee}
        case Incident.Escalated() if e.kind is EscalationKind.FUNCTIONAL:
            return {"state": _step(row, "escalate functionally"), "assignment_group": e.to,
                    "assignee": None}
        case Incident.Escalated():
            return {"escalation_level": row["escalation_level"] + 1}
        case Incident.PutOnHold():
            return {"state": _step(row, "put on hold"), "hold_reason": e.reason.value}
        case Incident.Resumed():
            return {"state": _step(row, "resume"), "hold_reason": None}
        case Incident.Resolved():
            return {"state": _step(row, "resolve"), "hold_reason": None,
                    "resolved_at": format_timestamp(e.timestamp)}
        case Incident.Reopened():
            return {"state": _step(row, "reopen"), "resolved_at": None}
        case Incident.Closed():
            return {"state": _step(row, "close"), "closed_at": format_timestamp(e.timestamp)}
        case Incident.Canceled():
            return {"state": _step(row, "cancel"), "hold_reason": None}
        case Incident.LinkedToProblem():
            return {"problem": e.problem_number}
        case Incident.UnlinkedFromProblem():
            return {"problem": None}
    return {}


class IncidentSummaries(Projection):
    name = "incidents"
    version = 1
    tables = (Table(
        name="incidents", columns=COLUMNS, key=("id",),
        indexes=(("number",), ("state", "priority"),
                 ("assignment_group", "state", "priority", "sla_due_at")),
    ),)

    def apply(self, batch: Sequence[Envelope], tables: dict[str, Rows],
              dialect: Dialect) -> None:
        rows = tables["incidents"]
        events = [envelope.event for envelope in batch
                  if isinstance(envelope.event, Incident.Event | Incident.Opened)]
        rows.prefetch((str(e.originator_id),) for e in events
                      if not isinstance(e, Incident.Opened))
        for event in events:
            if isinstance(event, Incident.Opened):
                rows.put(_opened(event))
                continue
            row = rows.get(str(event.originator_id))
            if row is not None:
                rows.update(str(event.originator_id), **_changes(event, row),
                            updated_at=format_timestamp(event.timestamp),
                            version=event.originator_version)
