"""The Incident aggregate: restoring service fast, from logging to closure."""

from datetime import datetime
from enum import StrEnum
from typing import Any, Self
from uuid import UUID

from domain.aggregate import AuditedAggregate, Stamp
from domain.errors import Refused
from domain.lifecycle import after, check, moving, staying
from domain.priority import Priority, priority_for
from domain.sla import BREACH, Target


class IncidentState(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELED = "canceled"


class HoldReason(StrEnum):
    AWAITING_CALLER = "awaiting_caller"
    AWAITING_VENDOR = "awaiting_vendor"
    AWAITING_CHANGE = "awaiting_change"
    AWAITING_PROBLEM = "awaiting_problem"


class ResolutionCode(StrEnum):
    """ServiceNow's resolution codes."""

    SOLUTION_PROVIDED = "solution_provided"
    WORKAROUND_PROVIDED = "workaround_provided"
    RESOLVED_BY_PROBLEM = "resolved_by_problem"
    RESOLVED_BY_CHANGE = "resolved_by_change"
    RESOLVED_BY_CALLER = "resolved_by_caller"
    DUPLICATE = "duplicate"
    KNOWN_ERROR = "known_error"
    NO_RESOLUTION = "no_resolution"


class EscalationKind(StrEnum):
    FUNCTIONAL = "functional"
    """To a group with more expertise: the incident is reassigned."""
    HIERARCHICAL = "hierarchical"
    """To management: the assignment stays, the escalation level rises."""


class Channel(StrEnum):
    """How the incident was identified."""

    SERVICE_DESK = "service_desk"
    SELF_SERVICE = "self_service"
    EMAIL = "email"
    PHONE = "phone"
    MONITORING = "monitoring"


_S = IncidentState
OPEN_STATES = (_S.NEW, _S.IN_PROGRESS, _S.ON_HOLD)
ACTIVE_STATES = (_S.IN_PROGRESS, _S.ON_HOLD)

LIFECYCLE: dict[str, dict[IncidentState, IncidentState]] = {
    "assign": {_S.NEW: _S.IN_PROGRESS, **staying(ACTIVE_STATES)},
    "categorize": staying(OPEN_STATES),
    "prioritize": staying(OPEN_STATES),
    "escalate functionally": {_S.NEW: _S.IN_PROGRESS, **staying(ACTIVE_STATES)},
    "escalate hierarchically": staying(OPEN_STATES),
    "put on hold": moving([_S.IN_PROGRESS], _S.ON_HOLD),
    "resume": moving([_S.ON_HOLD], _S.IN_PROGRESS),
    "add a note": staying([*OPEN_STATES, _S.RESOLVED]),
    "apply a workaround": staying(OPEN_STATES),
    "resolve": moving(OPEN_STATES, _S.RESOLVED),
    "reopen": moving([_S.RESOLVED], _S.IN_PROGRESS),
    "close": moving([_S.RESOLVED], _S.CLOSED),
    "cancel": moving(OPEN_STATES, _S.CANCELED),
    # Problems study past incidents too, so links are allowed in every state.
    "link to a problem": staying(list(IncidentState)),
    "unlink from a problem": staying(list(IncidentState)),
    # Only a running clock warns or breaches, and clocks run only while the incident is open.
    "record an SLA warning": staying(OPEN_STATES),
    "record an SLA breach": staying(OPEN_STATES),
}

_ESCALATION_STEPS = {
    EscalationKind.FUNCTIONAL: "escalate functionally",
    EscalationKind.HIERARCHICAL: "escalate hierarchically",
}


class Incident(AuditedAggregate):
    """An unplanned interruption or degradation of a service, and its handling."""

    class_version = 2
    """Of the snapshot state: version 2 added the SLA and alert attributes."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A snapshot taken before SLA clocks and alert intake existed loads with their defaults."""
        state.update({"sla_alerts": [], "alert_source": None, "alert_dedup_key": None,
                      "fingerprint": None, "recurrence_of": None,
                      "recurrence_of_number": None, "alert_occurrences": 0,
                      "alert_recovered_at": None})

    def __init__(self) -> None:
        super().__init__()
        self.number = ""
        self.title = ""
        self.description = ""
        self.service = ""
        self.category: str | None = None
        self.subcategory: str | None = None
        self.impact = 3
        self.urgency = 3
        self.priority = Priority.P5
        self.caller: str | None = None
        self.channel = Channel.SERVICE_DESK
        self.state = IncidentState.NEW
        self.hold_reason: HoldReason | None = None
        self.assignment_group: str | None = None
        self.assignee: str | None = None
        self.escalation_level = 0
        self.workaround: str | None = None
        self.known_error: UUID | None = None
        self.known_error_number: str | None = None
        self.problem: UUID | None = None
        self.problem_number: str | None = None
        self.resolution_code: ResolutionCode | None = None
        self.resolution_notes: str | None = None
        self.resolved_at: datetime | None = None
        self.close_code: ResolutionCode | None = None
        self.closed_at: datetime | None = None
        self.reopen_count = 0
        self.notes: list[dict[str, Any]] = []
        self.sla_alerts: list[str] = []
        """`target:threshold` of every SLA warning and breach recorded, so each is recorded once."""
        self.alert_source: str | None = None
        """The monitoring system whose alert opened it, if one did."""
        self.alert_dedup_key: str | None = None
        self.fingerprint: str | None = None
        self.recurrence_of: UUID | None = None
        self.recurrence_of_number: str | None = None
        self.alert_occurrences = 0
        self.alert_recovered_at: datetime | None = None

    class Event(AuditedAggregate.Event):
        pass

    class Opened(AuditedAggregate.Created):
        number: str
        title: str
        description: str
        service: str
        category: str | None
        subcategory: str | None
        impact: int
        urgency: int
        priority: Priority
        caller: str | None
        channel: Channel

        def apply(self, incident: "Incident") -> None:
            incident.number = self.number
            incident.title = self.title
            incident.description = self.description
            incident.service = self.service
            incident.category = self.category
            incident.subcategory = self.subcategory
            incident.impact = self.impact
            incident.urgency = self.urgency
            incident.priority = self.priority
            incident.caller = self.caller
            incident.channel = self.channel

    class Categorized(Event):
        category: str
        subcategory: str | None

        def apply(self, incident: "Incident") -> None:
            incident.category = self.category
            incident.subcategory = self.subcategory

    class Prioritized(Event):
        impact: int
        urgency: int
        priority: Priority

        def apply(self, incident: "Incident") -> None:
            incident.impact = self.impact
            incident.urgency = self.urgency
            incident.priority = self.priority

    class Assigned(Event):
        assignment_group: str
        assignee: str | None

        def apply(self, incident: "Incident") -> None:
            incident.state = after(LIFECYCLE, "assign", incident.state)
            incident.assignment_group = self.assignment_group
            incident.assignee = self.assignee

    class Escalated(Event):
        kind: EscalationKind
        to: str
        reason: str

        def apply(self, incident: "Incident") -> None:
            if self.kind is EscalationKind.FUNCTIONAL:
                incident.state = after(LIFECYCLE, _ESCALATION_STEPS[self.kind], incident.state)
                incident.assignment_group = self.to
                incident.assignee = None
            else:
                incident.escalation_level += 1

    class PutOnHold(Event):
        reason: HoldReason

        def apply(self, incident: "Incident") -> None:
            incident.state = after(LIFECYCLE, "put on hold", incident.state)
            incident.hold_reason = self.reason

    class Resumed(Event):
        def apply(self, incident: "Incident") -> None:
            incident.state = after(LIFECYCLE, "resume", incident.state)
            incident.hold_reason = None

    class WorkNoteAdded(Event):
        text: str

        def apply(self, incident: "Incident") -> None:
            incident.notes.append({"at": self.timestamp, "actor": self.actor, "text": self.text})

    class WorkaroundApplied(Event):
        text: str
        known_error: UUID | None
        """The problem whose known error was applied, if any."""
        known_error_number: str | None

        def apply(self, incident: "Incident") -> None:
            incident.workaround = self.text
            incident.known_error = self.known_error
            incident.known_error_number = self.known_error_number

    class Resolved(Event):
        resolution_code: ResolutionCode
        notes: str
        problem: UUID | None
        """The problem whose resolution resolved this incident, if any."""

        def apply(self, incident: "Incident") -> None:
            incident.state = after(LIFECYCLE, "resolve", incident.state)
            incident.hold_reason = None
            incident.resolution_code = self.resolution_code
            incident.resolution_notes = self.notes
            incident.resolved_at = self.timestamp

    class Reopened(Event):
        reason: str

        def apply(self, incident: "Incident") -> None:
            incident.state = after(LIFECYCLE, "reopen", incident.state)
            incident.reopen_count += 1
            incident.resolution_code = None
            incident.resolution_notes = None
            incident.resolved_at = None

    class Closed(Event):
        close_code: ResolutionCode

        def apply(self, incident: "Incident") -> None:
            incident.state = after(LIFECYCLE, "close", incident.state)
            incident.close_code = self.close_code
            incident.closed_at = self.timestamp

    class Canceled(Event):
        reason: str

        def apply(self, incident: "Incident") -> None:
            incident.state = after(LIFECYCLE, "cancel", incident.state)
            incident.hold_reason = None

    class LinkedToProblem(Event):
        problem: UUID
        problem_number: str

        def apply(self, incident: "Incident") -> None:
            incident.problem = self.problem
            incident.problem_number = self.problem_number

    class UnlinkedFromProblem(Event):
        problem: UUID

        def apply(self, incident: "Incident") -> None:
            incident.problem = None
            incident.problem_number = None

    class SlaWarningReached(Event):
        target: Target
        threshold: int
        """The percentage of the target reached."""
        reached_at: datetime
        """When the clock reached it (the event's timestamp is when the monitor saw it)."""
        due_at: datetime

        def apply(self, incident: "Incident") -> None:
            incident.sla_alerts.append(_alert(self.target, self.threshold))

    class SlaBreached(Event):
        target: Target
        due_at: datetime
        """When the clock reached 100% of its target: the moment of the breach."""

        def apply(self, incident: "Incident") -> None:
            incident.sla_alerts.append(_alert(self.target, BREACH))

    @classmethod
    def open(
        cls,
        *,
        id: UUID,  # noqa: A002 (eventsourcing's name for an aggregate id)
        number: str,
        title: str,
        service: str,
        category: str | None,
        subcategory: str | None,
        impact: int,
        urgency: int,
        description: str,
        caller: str | None,
        channel: Channel,
        stamp: Stamp,
    ) -> Self:
        """Log a new incident; its priority follows from impact and urgency."""
        return cls._start(
            cls.Opened, id=id, stamp=stamp, number=number, title=title,
            description=description, service=service, category=category,
            subcategory=subcategory, impact=impact, urgency=urgency,
            priority=priority_for(impact, urgency), caller=caller, channel=channel,
        )

    def _allow(self, command: str) -> None:
        check(LIFECYCLE, command, record=self.number, state=self.state)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def categorize(self, *, category: str, subcategory: str | None, stamp: Stamp) -> None:
        self._allow("categorize")
        self._trigger(self.Categorized, stamp=stamp, category=category, subcategory=subcategory)

    def prioritize(self, *, impact: int, urgency: int, stamp: Stamp) -> None:
        self._allow("prioritize")
        self._trigger(self.Prioritized, stamp=stamp, impact=impact, urgency=urgency,
                      priority=priority_for(impact, urgency))

    def assign(self, *, group: str, assignee: str | None, stamp: Stamp) -> None:
        self._allow("assign")
        self._trigger(self.Assigned, stamp=stamp, assignment_group=group, assignee=assignee)

    def escalate(self, *, kind: EscalationKind, to: str, reason: str, stamp: Stamp) -> None:
        self._allow(_ESCALATION_STEPS[kind])
        if kind is EscalationKind.FUNCTIONAL and to == self.assignment_group:
            raise Refused(f"{self.number} is already assigned to {to}: cannot escalate to it")
        self._trigger(self.Escalated, stamp=stamp, kind=kind, to=to, reason=reason)

    def put_on_hold(self, *, reason: HoldReason, stamp: Stamp) -> None:
        self._allow("put on hold")
        self._trigger(self.PutOnHold, stamp=stamp, reason=reason)

    def resume(self, *, stamp: Stamp) -> None:
        self._allow("resume")
        self._trigger(self.Resumed, stamp=stamp)

    def add_note(self, *, text: str, stamp: Stamp) -> None:
        self._allow("add a note")
        self._trigger(self.WorkNoteAdded, stamp=stamp, text=text)

    def apply_workaround(self, *, text: str, known_error: UUID | None,
                         known_error_number: str | None, stamp: Stamp) -> None:
        self._allow("apply a workaround")
        self._trigger(self.WorkaroundApplied, stamp=stamp, text=text, known_error=known_error,
                      known_error_number=known_error_number)

    def resolve(
        self, *, code: ResolutionCode, notes: str, stamp: Stamp, problem: UUID | None = None
    ) -> None:
        self._allow("resolve")
        self._trigger(self.Resolved, stamp=stamp, resolution_code=code, notes=notes,
                      problem=problem)

    def reopen(self, *, reason: str, stamp: Stamp) -> None:
        self._allow("reopen")
        self._trigger(self.Reopened, stamp=stamp, reason=reason)

    def close(self, *, code: ResolutionCode | None, stamp: Stamp) -> None:
        """Close a resolved incident; the close code defaults to its resolution code."""
        self._allow("close")
        close_code = code or self.resolution_code or ResolutionCode.SOLUTION_PROVIDED
        self._trigger(self.Closed, stamp=stamp, close_code=close_code)

    def cancel(self, *, reason: str, stamp: Stamp) -> None:
        self._allow("cancel")
        self._trigger(self.Canceled, stamp=stamp, reason=reason)

    def link_to_problem(self, *, problem: UUID, problem_number: str, stamp: Stamp) -> None:
        self._allow("link to a problem")
        if self.problem is not None and self.problem != problem:
            raise Refused(
                f"{self.number} is already linked to {self.problem_number}: "
                f"unlink it before linking it to {problem_number}"
            )
        if self.problem != problem:
            self._trigger(self.LinkedToProblem, stamp=stamp, problem=problem,
                          problem_number=problem_number)

    def unlink_from_problem(self, *, problem: UUID, stamp: Stamp) -> None:
        self._allow("unlink from a problem")
        if self.problem == problem:
            self._trigger(self.UnlinkedFromProblem, stamp=stamp, problem=problem)

    # -- alerts (docs/alerts.md) ----------------------------------------------------------------

    class AlertCorrelated(Event):
        """Opened from an alert: which key, its symptom fingerprint, and the key's previous
        incident when this one is a recurrence of it."""

        source: str
        dedup_key: str
        fingerprint: str
        labels: dict[str, str]
        fired_at: datetime
        recurrence_of: UUID | None
        recurrence_of_number: str | None

        def apply(self, incident: "Incident") -> None:
            incident.alert_source = self.source
            incident.alert_dedup_key = self.dedup_key
            incident.fingerprint = self.fingerprint
            incident.recurrence_of = self.recurrence_of
            incident.recurrence_of_number = self.recurrence_of_number

    class AlertOccurrencesRecorded(Event):
        """`count` firings of the incident's alert between `first_at` and `last_at`."""

        count: int
        first_at: datetime
        last_at: datetime

        def apply(self, incident: "Incident") -> None:
            incident.alert_occurrences += self.count
            incident.alert_recovered_at = None

    class AlertRecovered(Event):
        """The monitoring tool reports the alert resolved; the incident itself is unchanged."""

        recovered_at: datetime

        def apply(self, incident: "Incident") -> None:
            incident.alert_recovered_at = self.recovered_at

    def correlate_alert(self, *, source: str, dedup_key: str, fingerprint: str,
                        labels: dict[str, str], fired_at: datetime,
                        recurrence_of: "Incident | None", stamp: Stamp) -> None:
        check(ALERT_LIFECYCLE, "correlate an alert", record=self.number, state=self.state)
        self._trigger(self.AlertCorrelated, stamp=stamp, source=source, dedup_key=dedup_key,
                      fingerprint=fingerprint, labels=labels, fired_at=fired_at,
                      recurrence_of=recurrence_of.id if recurrence_of else None,
                      recurrence_of_number=recurrence_of.number if recurrence_of else None)

    def record_alert_occurrences(self, *, count: int, first_at: datetime, last_at: datetime,
                                 stamp: Stamp) -> None:
        check(ALERT_LIFECYCLE, "record alert occurrences", record=self.number, state=self.state)
        self._trigger(self.AlertOccurrencesRecorded, stamp=stamp, count=count,
                      first_at=first_at, last_at=last_at)

    def record_alert_recovery(self, *, recovered_at: datetime, stamp: Stamp) -> None:
        check(ALERT_LIFECYCLE, "record an alert recovery", record=self.number, state=self.state)
        self._trigger(self.AlertRecovered, stamp=stamp, recovered_at=recovered_at)

    def record_sla_warning(self, *, target: Target, threshold: int, reached_at: datetime,
                           due_at: datetime, stamp: Stamp) -> bool:
        """Record a warning threshold reached; False (and no event) if it already was."""
        if _alert(target, threshold) in self.sla_alerts:
            return False
        self._allow("record an SLA warning")
        self._trigger(self.SlaWarningReached, stamp=stamp, target=target, threshold=threshold,
                      reached_at=reached_at, due_at=due_at)
        return True

    def record_sla_breach(self, *, target: Target, due_at: datetime, escalate_to: str | None,
                          stamp: Stamp) -> bool:
        """Record a breach and escalate it to management in the same change, so neither can
        happen without the other; False (and no event) if the breach already was recorded."""
        if _alert(target, BREACH) in self.sla_alerts:
            return False
        self._allow("record an SLA breach")
        self._trigger(self.SlaBreached, stamp=stamp, target=target, due_at=due_at)
        if escalate_to is not None:
            self.escalate(kind=EscalationKind.HIERARCHICAL, to=escalate_to,
                          reason=f"{target.value} SLA breached (due {due_at.isoformat()})",
                          stamp=stamp)
        return True


ALERT_LIFECYCLE: dict[str, dict[IncidentState, IncidentState]] = {
    "correlate an alert": staying([_S.NEW]),
    "record alert occurrences": staying(OPEN_STATES),
    "record an alert recovery": staying([*OPEN_STATES, _S.RESOLVED]),
}
"""What monitoring may record, by state; none of it moves the incident (reopening is the
ordinary `reopen`)."""


def _alert(target: Target, threshold: int) -> str:
    return f"{target.value}:{threshold}"
