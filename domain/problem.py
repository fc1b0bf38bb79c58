"""The Problem aggregate: finding and removing the root cause of recurring incidents."""

from enum import StrEnum
from typing import Self
from uuid import UUID

from domain.aggregate import AuditedAggregate, Stamp
from domain.errors import Refused
from domain.lifecycle import after, check, moving, staying


class ProblemState(StrEnum):
    NEW = "new"
    ASSESSING = "assessing"
    ROOT_CAUSE_ANALYSIS = "root_cause_analysis"
    FIX_IN_PROGRESS = "fix_in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELED = "canceled"


_S = ProblemState
OPEN_STATES = (_S.NEW, _S.ASSESSING, _S.ROOT_CAUSE_ANALYSIS, _S.FIX_IN_PROGRESS)

LIFECYCLE: dict[str, dict[ProblemState, ProblemState]] = {
    "link an incident": staying(OPEN_STATES),
    "unlink an incident": staying(OPEN_STATES),
    # The first investigation note starts the assessment.
    "add a note": {_S.NEW: _S.ASSESSING, **staying(OPEN_STATES[1:])},
    "identify the root cause": {
        **moving(OPEN_STATES[:3], _S.ROOT_CAUSE_ANALYSIS),
        **staying([_S.FIX_IN_PROGRESS]),
    },
    "record a known error": staying(OPEN_STATES),
    "request a change": moving(OPEN_STATES[1:], _S.FIX_IN_PROGRESS),
    "resolve": moving(OPEN_STATES[1:], _S.RESOLVED),
    "close": moving([_S.RESOLVED], _S.CLOSED),
    "cancel": moving(OPEN_STATES, _S.CANCELED),
}


class Problem(AuditedAggregate):
    """The unknown (then known) cause of one or more incidents."""

    def __init__(self) -> None:
        super().__init__()
        self.number = ""
        self.title = ""
        self.description = ""
        self.service: str | None = None
        self.state = ProblemState.NEW
        self.incidents: dict[UUID, str] = {}
        """Linked incidents: id -> number, in link order."""
        self.notes: list[str] = []
        self.root_cause: str | None = None
        self.known_error = False
        self.workaround: str | None = None
        self.change_refs: list[str] = []
        self.resolution_notes: str | None = None

    class Event(AuditedAggregate.Event):
        pass

    class Opened(AuditedAggregate.Created):
        number: str
        title: str
        description: str
        service: str | None

        def apply(self, problem: "Problem") -> None:
            problem.number = self.number
            problem.title = self.title
            problem.description = self.description
            problem.service = self.service

    class IncidentLinked(Event):
        incident: UUID
        incident_number: str

        def apply(self, problem: "Problem") -> None:
            problem.incidents[self.incident] = self.incident_number

    class IncidentUnlinked(Event):
        incident: UUID

        def apply(self, problem: "Problem") -> None:
            problem.incidents.pop(self.incident, None)

    class InvestigationNoteAdded(Event):
        text: str

        def apply(self, problem: "Problem") -> None:
            problem.state = after(LIFECYCLE, "add a note", problem.state)
            problem.notes.append(self.text)

    class RootCauseIdentified(Event):
        root_cause: str

        def apply(self, problem: "Problem") -> None:
            problem.state = after(LIFECYCLE, "identify the root cause", problem.state)
            problem.root_cause = self.root_cause

    class KnownErrorRecorded(Event):
        workaround: str

        def apply(self, problem: "Problem") -> None:
            problem.known_error = True
            problem.workaround = self.workaround

    class ChangeRequested(Event):
        change_ref: str

        def apply(self, problem: "Problem") -> None:
            problem.state = after(LIFECYCLE, "request a change", problem.state)
            problem.change_refs.append(self.change_ref)

    class Resolved(Event):
        notes: str
        resolve_linked_incidents: bool

        def apply(self, problem: "Problem") -> None:
            problem.state = after(LIFECYCLE, "resolve", problem.state)
            problem.resolution_notes = self.notes

    class Closed(Event):
        def apply(self, problem: "Problem") -> None:
            problem.state = after(LIFECYCLE, "close", problem.state)

    class Canceled(Event):
        reason: str

        def apply(self, problem: "Problem") -> None:
            problem.state = after(LIFECYCLE, "cancel", problem.state)

    @classmethod
    def open(
        cls,
        *,
        id: UUID,  # noqa: A002 (eventsourcing's name for an aggregate id)
        number: str,
        title: str,
        description: str,
        service: str | None,
        stamp: Stamp,
    ) -> Self:
        """Record a new problem; link its incidents with `link_incident`."""
        return cls._start(cls.Opened, id=id, stamp=stamp, number=number, title=title,
                          description=description, service=service)

    def _allow(self, command: str) -> None:
        check(LIFECYCLE, command, record=self.number, state=self.state)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def link_incident(self, *, incident: UUID, incident_number: str, stamp: Stamp) -> None:
        self._allow("link an incident")
        if incident not in self.incidents:
            self._trigger(self.IncidentLinked, stamp=stamp, incident=incident,
                          incident_number=incident_number)

    def unlink_incident(self, *, incident: UUID, incident_number: str, stamp: Stamp) -> None:
        self._allow("unlink an incident")
        if incident not in self.incidents:
            raise Refused(f"{incident_number} is not linked to {self.number}: cannot unlink it")
        self._trigger(self.IncidentUnlinked, stamp=stamp, incident=incident)

    def add_note(self, *, text: str, stamp: Stamp) -> None:
        self._allow("add a note")
        self._trigger(self.InvestigationNoteAdded, stamp=stamp, text=text)

    def identify_root_cause(self, *, text: str, stamp: Stamp) -> None:
        self._allow("identify the root cause")
        self._trigger(self.RootCauseIdentified, stamp=stamp, root_cause=text)

    def record_known_error(self, *, workaround: str, stamp: Stamp) -> None:
        self._allow("record a known error")
        self._trigger(self.KnownErrorRecorded, stamp=stamp, workaround=workaround)

    def request_change(self, *, change_ref: str, stamp: Stamp) -> None:
        self._allow("request a change")
        self._trigger(self.ChangeRequested, stamp=stamp, change_ref=change_ref)

    def resolve(self, *, notes: str, resolve_linked_incidents: bool, stamp: Stamp) -> None:
        self._allow("resolve")
        self._trigger(self.Resolved, stamp=stamp, notes=notes,
                      resolve_linked_incidents=resolve_linked_incidents)

    def close(self, *, stamp: Stamp) -> None:
        self._allow("close")
        self._trigger(self.Closed, stamp=stamp)

    def cancel(self, *, reason: str, stamp: Stamp) -> None:
        self._allow("cancel")
        self._trigger(self.Canceled, stamp=stamp, reason=reason)
