"""One human line per event, for the audit timeline and history views."""

from collections.abc import Callable
from typing import Any

from domain.audit_chain import format_timestamp
from domain.incident import EscalationKind, Incident
from domain.problem import Problem

_LINES: dict[type[Any], Callable[[Any], str]] = {
    Incident.Opened: lambda e: f"Opened {e.number} ({e.priority.value}) on {e.service}: {e.title}",
    Incident.Categorized: lambda e: "Categorized as " + "/".join(
        part for part in (e.category, e.subcategory) if part),
    Incident.Prioritized: lambda e: (
        f"Prioritized {e.priority.value} (impact {e.impact}, urgency {e.urgency})"),
    Incident.Assigned: lambda e: f"Assigned to {e.assignment_group}"
                                 + (f" / {e.assignee}" if e.assignee else ""),
    Incident.Escalated: lambda e: (
        f"Escalated to {e.to} ({'reassigned' if e.kind is EscalationKind.FUNCTIONAL else 'management'}): {e.reason}"),  # noqa: E501
    Incident.PutOnHold: lambda e: f"Put on hold: {e.reason.value}",
    Incident.Resumed: lambda e: "Resumed",
    Incident.WorkNoteAdded: lambda e: f"Work note: {e.text}",
    Incident.WorkaroundApplied: lambda e: f"Workaround applied: {e.text}"
                                          + (f" (known error {e.known_error_number})"
                                             if e.known_error_number else ""),
    Incident.Resolved: lambda e: f"Resolved ({e.resolution_code.value}): {e.notes}",
    Incident.Reopened: lambda e: f"Reopened: {e.reason}",
    Incident.Closed: lambda e: f"Closed ({e.close_code.value})",
    Incident.Canceled: lambda e: f"Canceled: {e.reason}",
    Incident.LinkedToProblem: lambda e: f"Linked to problem {e.problem_number}",
    Incident.UnlinkedFromProblem: lambda e: "Unlinked from its problem",
    Incident.SlaWarningReached: lambda e: (
        f"SLA {e.target.value} at {e.threshold}% (due {format_timestamp(e.due_at)})"),
    Incident.SlaBreached: lambda e: (
        f"SLA {e.target.value} breached (was due {format_timestamp(e.due_at)})"),
    Incident.AlertCorrelated: lambda e: f"Alert {e.dedup_key} from {e.source}"
                                        + (f", recurrence of {e.recurrence_of_number}"
                                           if e.recurrence_of_number else ""),
    Incident.AlertOccurrencesRecorded: lambda e: f"Alert fired {e.count} time(s)",
    Incident.AlertRecovered: lambda e: "Alert recovered",
    Problem.Opened: lambda e: f"Opened {e.number}: {e.title}",
    Problem.IncidentLinked: lambda e: f"Incident {e.incident_number} linked",
    Problem.IncidentUnlinked: lambda e: "Incident unlinked",
    Problem.InvestigationNoteAdded: lambda e: f"Investigation note: {e.text}",
    Problem.RootCauseIdentified: lambda e: f"Root cause: {e.root_cause}",
    Problem.KnownErrorRecorded: lambda e: f"Known error, workaround: {e.workaround}",
    Problem.ChangeRequested: lambda e: f"Fix requested as change {e.change_ref}",
    Problem.Resolved: lambda e: f"Resolved: {e.notes}"
                                + (" (linked incidents resolved)"
                                   if e.resolve_linked_incidents else ""),
    Problem.Closed: lambda e: "Closed",
    Problem.Canceled: lambda e: f"Canceled: {e.reason}",
}

MAX_LENGTH = 200


def summarize(event: Any) -> str:
    """The event in one line of at most MAX_LENGTH characters."""
    line = _LINES.get(type(event), lambda e: type(e).__qualname__)(event)
    if not line.isprintable():  # a newline or tab in a note: make it one line
        line = " ".join(line.split())
    return line if len(line) <= MAX_LENGTH else line[:MAX_LENGTH - 1] + "…"
