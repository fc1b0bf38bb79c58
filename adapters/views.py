"""JSON views of records, shared by `show --json`, the API and `audit state` (design section 9)."""

from datetime import datetime
from typing import Any

from domain.audit_chain import format_timestamp
from domain.incident import Incident
from domain.problem import Problem


def _when(moment: datetime | None) -> str | None:
    return format_timestamp(moment) if moment is not None else None


def incident_view(incident: Incident) -> dict[str, Any]:
    """`tandem incident show --json`: the contract's keys first, then the detail."""
    return {
        "id": str(incident.id),
        "number": incident.number,
        "title": incident.title,
        "service": incident.service,
        "state": incident.state.value,
        "impact": incident.impact,
        "urgency": incident.urgency,
        "priority": incident.priority.value,
        "assignment_group": incident.assignment_group,
        "assignee": incident.assignee,
        "problem": incident.problem_number,
        "version": incident.version,
        "category": incident.category,
        "subcategory": incident.subcategory,
        "description": incident.description,
        "caller": incident.caller,
        "channel": incident.channel.value,
        "hold_reason": incident.hold_reason.value if incident.hold_reason else None,
        "escalation_level": incident.escalation_level,
        "workaround": incident.workaround,
        "known_error": incident.known_error_number,
        "resolution_code": incident.resolution_code.value if incident.resolution_code else None,
        "resolution_notes": incident.resolution_notes,
        "close_code": incident.close_code.value if incident.close_code else None,
        "reopen_count": incident.reopen_count,
        "work_notes": len(incident.notes),
        "opened_at": _when(incident.created_on),
        "updated_at": _when(incident.modified_on),
        "resolved_at": _when(incident.resolved_at),
        "closed_at": _when(incident.closed_at),
        "alert_occurrences": incident.alert_occurrences,
        "recurrence_of": incident.recurrence_of_number,
        "alert_recovered_at": _when(incident.alert_recovered_at),
    }


def problem_view(problem: Problem) -> dict[str, Any]:
    """`tandem problem show --json`: the contract's keys first, then the detail."""
    return {
        "id": str(problem.id),
        "number": problem.number,
        "title": problem.title,
        "service": problem.service,
        "state": problem.state.value,
        "known_error": problem.known_error,
        "incidents": list(problem.incidents.values()),
        "version": problem.version,
        "description": problem.description,
        "root_cause": problem.root_cause,
        "workaround": problem.workaround,
        "change_refs": list(problem.change_refs),
        "investigation_notes": len(problem.notes),
        "resolution_notes": problem.resolution_notes,
        "opened_at": _when(problem.created_on),
        "updated_at": _when(problem.modified_on),
    }
