"""Random command sequences, valid and invalid, through ServiceDesk, checked against a model.

The model below is written from design section 3 and the lifecycle tables of the aggregates, not
from their code: after every step each record rebuilt from the store must equal it, a refused
command must have written nothing, versions must be contiguous and every hash chain must verify
exactly as design section 7 describes.
"""

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import msgpack
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from adapters.bootstrap import open_service_desk
from domain.audit_chain import chain_hash, event_data, format_timestamp
from domain.errors import (
    Conflict,
    DomainError,
    IllegalTransition,
    NotFound,
    Refused,
    ValidationFailed,
)
from domain.incident import Incident
from domain.numbering import NumberSequence
from domain.problem import Problem
from tests.conftest import FakeClock

# -- the model: design section 3, written out independently -------------------------------------

PRIORITY = {
    (1, 1): "P1", (1, 2): "P2", (1, 3): "P3",
    (2, 1): "P2", (2, 2): "P3", (2, 3): "P4",
    (3, 1): "P3", (3, 2): "P4", (3, 3): "P5",
}

INCIDENT_OPEN = ("new", "in_progress", "on_hold")
INCIDENT_STEPS: dict[str, dict[str, str]] = {
    "assign": {"new": "in_progress", "in_progress": "in_progress", "on_hold": "on_hold"},
    "escalate functionally": {
        "new": "in_progress", "in_progress": "in_progress", "on_hold": "on_hold",
    },
    "escalate hierarchically": {s: s for s in INCIDENT_OPEN},
    "categorize": {s: s for s in INCIDENT_OPEN},
    "prioritize": {s: s for s in INCIDENT_OPEN},
    "apply a workaround": {s: s for s in INCIDENT_OPEN},
    "put on hold": {"in_progress": "on_hold"},
    "resume": {"on_hold": "in_progress"},
    "add a note": {s: s for s in (*INCIDENT_OPEN, "resolved")},
    "resolve": dict.fromkeys(INCIDENT_OPEN, "resolved"),
    "reopen": {"resolved": "in_progress"},
    "close": {"resolved": "closed"},
    "cancel": dict.fromkeys(INCIDENT_OPEN, "canceled"),
}

PROBLEM_OPEN = ("new", "assessing", "root_cause_analysis", "fix_in_progress")
PROBLEM_STEPS: dict[str, dict[str, str]] = {
    "add a note": {
        "new": "assessing", "assessing": "assessing",
        "root_cause_analysis": "root_cause_analysis", "fix_in_progress": "fix_in_progress",
    },
    "identify the root cause": {
        "new": "root_cause_analysis", "assessing": "root_cause_analysis",
        "root_cause_analysis": "root_cause_analysis", "fix_in_progress": "fix_in_progress",
    },
    "record a known error": {s: s for s in PROBLEM_OPEN},
    "request a change": dict.fromkeys(PROBLEM_OPEN[1:], "fix_in_progress"),
    "resolve": dict.fromkeys(PROBLEM_OPEN[1:], "resolved"),
    "close": {"resolved": "closed"},
    "cancel": dict.fromkeys(PROBLEM_OPEN, "canceled"),
    "link an incident": {s: s for s in PROBLEM_OPEN},
    "unlink an incident": {s: s for s in PROBLEM_OPEN},
}

GENESIS = "0" * 64
TIMESTAMP_FORMAT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
HEX_64 = re.compile(r"[0-9a-f]{64}")


class Mentions:
    """Matches any text containing all the given parts (for notes the desk composes)."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and all(part in other for part in self.parts)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Mentions{self.parts!r}"


@dataclass
class IncidentModel:
    id: UUID
    number: str
    title: str
    service: str
    category: str | None
    subcategory: str | None
    impact: int
    urgency: int
    caller: str | None
    channel: str
    opened_at: datetime
    state: str = "new"
    hold_reason: str | None = None
    assignment_group: str | None = None
    assignee: str | None = None
    escalation_level: int = 0
    workaround: str | None = None
    known_error: UUID | None = None
    problem: UUID | None = None
    problem_number: str | None = None
    resolution_code: str | None = None
    resolution_notes: str | Mentions | None = None
    resolved_at: datetime | None = None
    close_code: str | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    notes: list[tuple[datetime, str, str]] = field(default_factory=list)
    version: int = 1

    @property
    def is_open(self) -> bool:
        return self.state in INCIDENT_OPEN

    def resolve(self, code: str, notes: str | Mentions, at: datetime) -> None:
        """The effect of an IncidentResolved event (the caller counts the version)."""
        self.state = "resolved"
        self.hold_reason = None
        self.resolution_code = code
        self.resolution_notes = notes
        self.resolved_at = at


@dataclass
class ProblemModel:
    id: UUID
    number: str
    title: str
    service: str | None
    description: str
    state: str = "new"
    incidents: dict[UUID, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    root_cause: str | None = None
    known_error: bool = False
    workaround: str | None = None
    change_refs: list[str] = field(default_factory=list)
    resolution_notes: str | None = None
    version: int = 1


# -- inputs ---------------------------------------------------------------------------------------

OMIT = object()
"""A keyword left out of the command, so its default applies."""

ALPHABET = "abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789-:._/é日\t"
ELAPSED = st.one_of(
    st.just(0), st.integers(1, 999_999), st.integers(1_000_000, 30 * 86_400 * 1_000_000)
)
"""Microseconds the clock moves before a step (0 included: equal timestamps are legal)."""


def mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any],
           *, one_in: int = 12) -> st.SearchStrategy[Any]:
    """`valid`, except about once in `one_in` draws `invalid`: most commands get through."""
    return st.sampled_from([valid] * (one_in - 1) + [invalid]).flatmap(lambda chosen: chosen)


def texts(max_len: int, *, one_in: int = 12) -> st.SearchStrategy[str]:
    """Mostly valid text (now and then exactly at the limit); sometimes blank or too long."""
    return mostly(
        st.one_of(
            st.text(ALPHABET, min_size=1, max_size=16).filter(str.strip),
            st.sampled_from(["x" * max_len, " " + "y" * max_len + " ", " \tpadded\t "]),
        ),
        st.sampled_from(["", " \t ", "z" * (max_len + 1)]),
        one_in=one_in,
    )


ACTORS = mostly(
    st.sampled_from(
        ["alice", "bob", "  carol ", "system:sla-monitor", "monitor:nagios", "a" * 200]
    ),
    st.sampled_from(["", "   ", "a" * 201]),
    one_in=20,
)
Pick = tuple[int, int]
PICKS = st.tuples(st.integers(0, 999), st.integers(0, 9))
"""Which record a command names: (index, aim); see `ServiceDeskMachine._choose`."""
REF_FORMS = st.sampled_from(["number", "lower", "uuid", "upper-uuid", "padded"])
GROUPS = mostly(st.sampled_from(["network", "database", " service-desk "]),
                st.sampled_from(["", "g" * 101]))
NAMES = st.sampled_from(["frank", " grace ", "Ingrid Bergström", "h" * 100])
INVALID_LEVELS = st.sampled_from([0, 4, -1, 99, 1.5, "high", None])
REQUIRED_LEVELS = mostly(st.sampled_from([1, 2, 3]), st.one_of(st.just(OMIT), INVALID_LEVELS),
                         one_in=8)
"""Prioritising needs both levels: leaving one out is invalid too."""
LEVELS = mostly(st.one_of(st.just(OMIT), st.sampled_from([1, 2, 3])), INVALID_LEVELS, one_in=8)
REASONS = ["awaiting_caller", "awaiting_vendor", "awaiting_change", "awaiting_problem"]
HOLD_REASONS = mostly(st.sampled_from(REASONS), st.sampled_from(["awaiting_godot", ""]))
CODES = [
    "solution_provided", "workaround_provided", "resolved_by_problem", "resolved_by_change",
    "resolved_by_caller", "duplicate", "known_error", "no_resolution",
]
RESOLUTION_CODES = mostly(st.sampled_from(CODES), st.just("fixed_itself"))
CHANNELS = mostly(
    st.sampled_from([OMIT, "service_desk", "self_service", "email", "phone", "monitoring"]),
    st.just("carrier_pigeon"),
)
INCIDENT_PATHS = [(), ("assign",), ("assign", "hold"), ("assign", "resolve"),
                  ("resolve", "close"), ("cancel",)]
PROBLEM_PATHS = [(), ("note",), ("root cause", "known error"), ("note", "change")]
EXPECTED_VERSION = st.sampled_from([None, None, None, "current", "stale"])
OPTIONAL_NAME = st.one_of(st.just(OMIT), mostly(NAMES, st.sampled_from(["", "n" * 101])))


def ok_text(value: str, max_len: int, *, allow_empty: bool = False) -> bool:
    stripped = value.strip()
    return (allow_empty or bool(stripped)) and len(stripped) <= max_len


def ok_actor(actor: str) -> bool:
    return ok_text(actor, 200)


def ok_level(value: object) -> bool:
    return value is OMIT or (type(value) is int and value in (1, 2, 3))


def reference(record: IncidentModel | ProblemModel, form: str) -> str:
    return {
        "number": record.number,
        "lower": record.number.lower(),
        "uuid": str(record.id),
        "upper-uuid": str(record.id).upper(),
        "padded": f"  {record.number} ",
    }[form]


def event_type(topic: str) -> str:
    """`domain.incident:Incident.Opened` -> `IncidentOpened` (design section 6)."""
    return topic.split(":", 1)[1].replace(".", "")


Errors = set[type[DomainError]]


class ServiceDeskMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.desk = open_service_desk("memory://", clock=self.clock)
        self.transcoder = self.desk.mapper.transcoder
        self.incidents: list[IncidentModel] = []
        self.problems: list[ProblemModel] = []

    # -- helpers ---------------------------------------------------------------------------------

    def _tick(self, microseconds: int) -> None:
        self.clock.advance(microseconds=microseconds)

    def _stored(self) -> list[Any]:
        return list(self.desk.recorder.select_notifications(start=1, limit=1_000_000))

    @staticmethod
    def _choose(records: list[Any], pick: Pick, fits: Callable[[Any], bool]) -> Any:
        """Half the time a record the command fits (to get deep into lifecycles), else one in
        a state drawn among those present (rare states get refusals too), else any record."""
        index, aim = pick
        pool: list[Any] = []
        if aim < 5:
            pool = [record for record in records if fits(record)]
        elif aim < 9:
            present = sorted({record.state for record in records})
            wanted = present[index % len(present)]
            index //= len(present)
            pool = [record for record in records if record.state == wanted]
        pool = pool or records
        return pool[index % len(pool)]

    def _incident(self, pick: Pick, step: str | None = None) -> IncidentModel:
        return self._choose(self.incidents, pick, lambda incident: (
            step is None or incident.state in INCIDENT_STEPS[step]))

    def _problem(self, pick: Pick, step: str | None = None) -> ProblemModel:
        return self._choose(self.problems, pick, lambda problem: (
            step is None or problem.state in PROBLEM_STEPS[step]))

    def _attempt(
        self,
        action: Callable[[], Any],
        errors: Errors,
        *,
        actor: str,
        involved: tuple[IncidentModel | ProblemModel, ...] = (),
    ) -> tuple[Any, list[tuple[UUID, str]], list[dict[str, Any]]]:
        """Run a command: refused with one of `errors` and nothing written, or done.

        Returns the result and the new events as (stream id, type) plus their stored states.
        """
        before = len(self._stored())
        if errors:
            with pytest.raises(DomainError) as caught:
                action()
            refusal = caught.value
            assert type(refusal) in errors, f"{refusal!r} is none of {errors}"
            if isinstance(refusal, IllegalTransition):
                assert refusal.state in str(refusal)
                assert refusal.command in str(refusal)
                assert (refusal.record, refusal.state) in {
                    (record.number, record.state) for record in involved
                }
            assert len(self._stored()) == before, f"refused with {refusal!r} but wrote events"
            return None, [], []
        result = action()
        new = self._stored()[before:]
        states = [self.transcoder.decode(n.state) for n in new]
        for state in states:
            assert state["actor"] == actor.strip()
            assert state["timestamp"] == self.clock.now
        return result, [(n.originator_id, event_type(n.topic)) for n in new], states

    def _expected_total(self) -> int:
        """Every stored event the model accounts for, number sequences included."""
        sequences = sum(1 + len(kind) for kind in (self.incidents, self.problems) if kind)
        return (sequences + sum(i.version for i in self.incidents)
                + sum(p.version for p in self.problems))

    def _opening_events(self, records: list[Any], prefix: str) -> list[tuple[UUID, str]]:
        sequence = NumberSequence.id_for(prefix)
        started = [] if records else [(sequence, "NumberSequenceStarted")]
        return [*started, (sequence, "NumberSequenceNumberIssued")]

    def _change(
        self,
        method: Callable[..., Any],
        record: IncidentModel | ProblemModel,
        form: str,
        actor: str,
        errors: Errors,
        step: str,
        steps: dict[str, dict[str, str]],
        events: list[str],
        *,
        expected_version: str | None = None,
        **fields: Any,
    ) -> bool:
        """A single-record command; on success checks its events and moves the model's state."""
        if record.state not in steps[step]:
            errors.add(IllegalTransition)
        if not ok_actor(actor):
            errors.add(ValidationFailed)
        kwargs = {key: value for key, value in fields.items() if value is not OMIT}
        if expected_version is not None:
            stale = expected_version == "stale"
            kwargs["expected_version"] = record.version - 1 if stale else record.version
            if stale:
                errors.add(Conflict)
        _, written, _ = self._attempt(
            lambda: method(reference(record, form), actor=actor, **kwargs), errors, actor=actor,
            involved=(record,),
        )
        if errors:
            return False
        assert Counter(written) == Counter((record.id, name) for name in events)
        record.state = steps[step][record.state]
        record.version += len(events)
        return True

    # -- a varied start ---------------------------------------------------------------------------

    @initialize(
        incident_paths=st.lists(st.sampled_from(INCIDENT_PATHS), max_size=4),
        problem_paths=st.lists(st.sampled_from(PROBLEM_PATHS), max_size=2),
        links=st.lists(PICKS, max_size=4),
    )
    def seed(self, incident_paths: list[tuple[str, ...]], problem_paths: list[tuple[str, ...]],
             links: list[Pick]) -> None:
        """Records already spread over the lifecycles, so that random steps start from rare
        states too (on hold, resolved, fix in progress ...), through the checked rules."""
        for path in incident_paths:
            self.open_incident(dt=1, actor="alice", title="Seeded", service="email",
                               impact=OMIT, urgency=OMIT, category=OMIT, channel=OMIT,
                               caller=OMIT)
            for step in path:
                self._seed_incident_step(step, (len(self.incidents) - 1, 9))  # 9: this one
        for path in problem_paths:
            self.open_problem(dt=1, actor="bob", title="Seeded", service=OMIT, description="",
                              picks=links, forms=["number", "uuid", "lower"], missing=False)
            links = []
            for step in path:
                self._seed_problem_step(step, (len(self.problems) - 1, 9))

    def _seed_incident_step(self, step: str, last: Pick) -> None:
        valid: dict[str, Any] = {"dt": 1, "actor": "alice", "pick": last, "form": "number"}
        if step == "assign":
            self.assign(**valid, group="network", assignee=OMIT)
        elif step == "hold":
            self.put_on_hold(**valid, reason="awaiting_vendor")
        elif step == "resolve":
            self.resolve_incident(**valid, code="solution_provided", notes="fixed")
        elif step == "close":
            self.close_incident(**valid, code=OMIT)
        else:
            self.cancel_incident(**valid, reason="duplicate")

    def _seed_problem_step(self, step: str, last: Pick) -> None:
        valid: dict[str, Any] = {"dt": 1, "actor": "bob", "pick": last, "form": "uuid"}
        if step == "note":
            self.add_problem_note(**valid, text="looked at it", expected_version=None)
        elif step == "root cause":
            self.identify_root_cause(**valid, text="a race")
        elif step == "known error":
            self.record_known_error(**valid, workaround="restart it")
        else:
            self.request_change(**valid, change_ref="CHG0001")

    # -- incidents -------------------------------------------------------------------------------

    @rule(
        dt=ELAPSED, actor=ACTORS, title=texts(160), service=texts(100), impact=LEVELS,
        urgency=LEVELS, category=OPTIONAL_NAME, channel=CHANNELS, caller=OPTIONAL_NAME,
    )
    def open_incident(
        self, dt: int, actor: str, title: str, service: str, impact: object, urgency: object,
        category: object, channel: object, caller: object,
    ) -> None:
        self._tick(dt)
        fields = {"title": title, "service": service, "impact": impact, "urgency": urgency,
                  "category": category, "channel": channel, "caller": caller}
        kwargs = {key: value for key, value in fields.items() if value is not OMIT}
        valid = (
            ok_actor(actor) and ok_text(title, 160) and ok_text(service, 100)
            and ok_level(impact) and ok_level(urgency)
            and (category is OMIT or ok_text(str(category), 100))
            and (caller is OMIT or ok_text(str(caller), 100))
            and (channel is OMIT or channel != "carrier_pigeon")
        )
        errors: Errors = set() if valid else {ValidationFailed}
        opened, written, _ = self._attempt(
            lambda: self.desk.open_incident(actor=actor, **kwargs), errors, actor=actor
        )
        if not valid:
            return
        expected = self._opening_events(self.incidents, "INC")
        assert Counter(written) == Counter([*expected, (opened.id, "IncidentOpened")])
        assert opened.number == f"INC{len(self.incidents) + 1:07d}"
        self.incidents.append(IncidentModel(
            id=opened.id, number=opened.number, title=title.strip(), service=service.strip(),
            category=None if category is OMIT else str(category).strip(), subcategory=None,
            impact=3 if impact is OMIT else int(impact),
            urgency=3 if urgency is OMIT else int(urgency),
            caller=None if caller is OMIT else str(caller).strip(),
            channel="service_desk" if channel is OMIT else str(channel),
            opened_at=self.clock.now,
        ))

    @precondition(lambda self: self.incidents)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS, group=GROUPS,
          assignee=OPTIONAL_NAME)
    def assign(self, dt: int, actor: str, pick: Pick, form: str, group: str,
               assignee: object) -> None:
        self._tick(dt)
        incident = self._incident(pick, "assign")
        valid = ok_text(group, 100) and (assignee is OMIT or ok_text(str(assignee), 100))
        if self._change(self.desk.assign_incident, incident, form, actor,
                        set() if valid else {ValidationFailed}, "assign", INCIDENT_STEPS,
                        ["IncidentAssigned"], group=group, assignee=assignee):
            incident.assignment_group = group.strip()
            incident.assignee = None if assignee is OMIT else str(assignee).strip()

    @precondition(lambda self: self.incidents)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS,
          category=texts(100), subcategory=OPTIONAL_NAME)
    def categorize(self, dt: int, actor: str, pick: Pick, form: str, category: str,
                   subcategory: object) -> None:
        self._tick(dt)
        incident = self._incident(pick, "categorize")
        valid = ok_text(category, 100) and (subcategory is OMIT or ok_text(str(subcategory), 100))
        if self._change(self.desk.categorize_incident, incident, form, actor,
                        set() if valid else {ValidationFailed}, "categorize", INCIDENT_STEPS,
                        ["IncidentCategorized"], category=category, subcategory=subcategory):
            incident.category = category.strip()
            incident.subcategory = None if subcategory is OMIT else str(subcategory).strip()

    @precondition(lambda self: self.incidents)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS, impact=REQUIRED_LEVELS,
          urgency=REQUIRED_LEVELS)
    def prioritize(self, dt: int, actor: str, pick: Pick, form: str, impact: object,
                   urgency: object) -> None:
        self._tick(dt)
        incident = self._incident(pick, "prioritize")
        # Both are required here: leaving one out is invalid too.
        valid = all(value is not OMIT and ok_level(value) for value in (impact, urgency))
        if self._change(self.desk.prioritize_incident, incident, form, actor,
                        set() if valid else {ValidationFailed}, "prioritize", INCIDENT_STEPS,
                        ["IncidentPrioritized"], impact=impact, urgency=urgency):
            incident.impact, incident.urgency = int(impact), int(urgency)

    @precondition(lambda self: self.incidents)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS,
          kind=st.sampled_from(["functional", "hierarchical"] * 3 + ["sideways"]),
          to=st.one_of(GROUPS, st.just("CURRENT")), reason=texts(4000))
    def escalate(self, dt: int, actor: str, pick: Pick, form: str, kind: str, to: str,
                 reason: str) -> None:
        self._tick(dt)
        incident = self._incident(pick, (
            "escalate hierarchically" if kind == "hierarchical" else "escalate functionally"))
        if to == "CURRENT":
            to = incident.assignment_group or "network"
        errors: Errors = set()
        if not (ok_text(to, 100) and ok_text(reason, 4000) and kind != "sideways"):
            errors.add(ValidationFailed)
        step = "escalate hierarchically" if kind == "hierarchical" else "escalate functionally"
        if kind == "functional" and to.strip() == incident.assignment_group:
            errors.add(Refused)  # an escalation must go somewhere else
        if self._change(self.desk.escalate_incident, incident, form, actor, errors, step,
                        INCIDENT_STEPS, ["IncidentEscalated"], kind=kind, to=to, reason=reason):
            if kind == "functional":
                incident.assignment_group, incident.assignee = to.strip(), None
            else:
                incident.escalation_level += 1

    @precondition(lambda self: self.incidents)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS,
          reason=HOLD_REASONS)
    def put_on_hold(self, dt: int, actor: str, pick: Pick, form: str, reason: str) -> None:
        self._tick(dt)
        incident = self._incident(pick, "put on hold")
        valid = reason in REASONS
        if self._change(self.desk.put_incident_on_hold, incident, form, actor,
                        set() if valid else {ValidationFailed}, "put on hold", INCIDENT_STEPS,
                        ["IncidentPutOnHold"], reason=reason):
            incident.hold_reason = reason

    @precondition(lambda self: self.incidents)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS)
    def resume(self, dt: int, actor: str, pick: Pick, form: str) -> None:
        self._tick(dt)
        incident = self._incident(pick, "resume")
        if self._change(self.desk.resume_incident, incident, form, actor, set(), "resume",
                        INCIDENT_STEPS, ["IncidentResumed"]):
            incident.hold_reason = None

    @precondition(lambda self: self.incidents)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS, text=texts(4000),
          expected_version=EXPECTED_VERSION)
    def add_incident_note(self, dt: int, actor: str, pick: Pick, form: str, text: str,
                          expected_version: str | None) -> None:
        self._tick(dt)
        incident = self._incident(pick, "add a note")
        if self._change(self.desk.add_incident_note, incident, form, actor,
                        set() if ok_text(text, 4000) else {ValidationFailed}, "add a note",
                        INCIDENT_STEPS, ["IncidentWorkNoteAdded"],
                        expected_version=expected_version, text=text):
            incident.notes.append((self.clock.now, actor.strip(), text.strip()))

    @precondition(lambda self: self.incidents)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS, text=texts(4000),
          source=st.sampled_from(["none", "none", "problem", "problem", "missing", "incident"]),
          problem_pick=PICKS, problem_form=REF_FORMS)
    def apply_workaround(self, dt: int, actor: str, pick: Pick, form: str, text: str,
                         source: str, problem_pick: Pick, problem_form: str) -> None:
        self._tick(dt)
        incident = self._incident(pick, "apply a workaround")
        errors: Errors = set() if ok_text(text, 4000) else {ValidationFailed}
        known_error: object = OMIT
        known_error_id = None
        if source == "problem" and self.problems:
            problem = self._choose(self.problems, problem_pick, lambda p: p.known_error)
            known_error, known_error_id = reference(problem, problem_form), problem.id
            if not problem.known_error:
                errors.add(Refused)
        elif source == "missing":
            known_error = "PRB9999999"
            errors.add(NotFound)
        elif source == "incident":
            known_error = reference(incident, problem_form)  # an incident is no known error
            errors.add(NotFound)
        if self._change(self.desk.apply_workaround, incident, form, actor, errors,
                        "apply a workaround", INCIDENT_STEPS, ["IncidentWorkaroundApplied"],
                        text=text, known_error=known_error):
            incident.workaround, incident.known_error = text.strip(), known_error_id

    @precondition(lambda self: self.incidents)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS,
          code=RESOLUTION_CODES, notes=texts(4000))
    def resolve_incident(self, dt: int, actor: str, pick: Pick, form: str, code: str,
                         notes: str) -> None:
        self._tick(dt)
        incident = self._incident(pick, "resolve")
        valid = code in CODES and ok_text(notes, 4000)
        before = self._stored()
        if self._change(self.desk.resolve_incident, incident, form, actor,
                        set() if valid else {ValidationFailed}, "resolve", INCIDENT_STEPS,
                        ["IncidentResolved"], code=code, notes=notes):
            incident.resolve(code, notes.strip(), self.clock.now)
            written = self.transcoder.decode(self._stored()[len(before)].state)
            assert written["problem"] is None  # resolved directly, not by a problem

    @precondition(lambda self: self.incidents)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS, reason=texts(4000))
    def reopen(self, dt: int, actor: str, pick: Pick, form: str, reason: str) -> None:
        self._tick(dt)
        incident = self._incident(pick, "reopen")
        if self._change(self.desk.reopen_incident, incident, form, actor,
                        set() if ok_text(reason, 4000) else {ValidationFailed}, "reopen",
                        INCIDENT_STEPS, ["IncidentReopened"], reason=reason):
            incident.reopen_count += 1
            incident.resolution_code = incident.resolution_notes = incident.resolved_at = None

    @precondition(lambda self: self.incidents)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS,
          code=st.one_of(st.just(OMIT), RESOLUTION_CODES))
    def close_incident(self, dt: int, actor: str, pick: Pick, form: str, code: object) -> None:
        self._tick(dt)
        incident = self._incident(pick, "close")
        valid = code is OMIT or code in CODES
        if self._change(self.desk.close_incident, incident, form, actor,
                        set() if valid else {ValidationFailed}, "close", INCIDENT_STEPS,
                        ["IncidentClosed"], code=code):
            # Without a close code the resolution code carries over.
            incident.close_code = incident.resolution_code if code is OMIT else str(code)
            incident.closed_at = self.clock.now

    @precondition(lambda self: self.incidents)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS, reason=texts(4000))
    def cancel_incident(self, dt: int, actor: str, pick: Pick, form: str, reason: str) -> None:
        self._tick(dt)
        incident = self._incident(pick, "cancel")
        if self._change(self.desk.cancel_incident, incident, form, actor,
                        set() if ok_text(reason, 4000) else {ValidationFailed}, "cancel",
                        INCIDENT_STEPS, ["IncidentCanceled"], reason=reason):
            incident.hold_reason = None

    # -- problems --------------------------------------------------------------------------------

    @rule(dt=ELAPSED, actor=ACTORS, title=texts(160),
          service=OPTIONAL_NAME,
          description=st.text(ALPHABET, max_size=30),
          picks=st.lists(PICKS, max_size=3),
          forms=st.lists(REF_FORMS, min_size=3, max_size=3),
          missing=st.sampled_from([False] * 9 + [True]))
    def open_problem(self, dt: int, actor: str, title: str, service: object, description: str,
                     picks: list[Pick], forms: list[str], missing: bool) -> None:
        self._tick(dt)
        named: list[IncidentModel] = []
        if self.incidents:
            named = [self._choose(self.incidents, pick, lambda i: i.problem is None)
                     for pick in picks]
        named = named[:len(forms)]  # one form per reference
        # One incident may be named twice, in two forms (number, UUID ...): it is linked once.
        refs = [reference(incident, form) for incident, form in zip(named, forms, strict=False)]
        chosen = list({incident.id: incident for incident in named}.values())
        if missing:
            refs.append("INC9999999")
        errors: Errors = set()
        if not (ok_actor(actor) and ok_text(title, 160)
                and (service is OMIT or ok_text(str(service), 100))):
            errors.add(ValidationFailed)
        if missing:
            errors.add(NotFound)
        if any(incident.problem is not None for incident in chosen):
            errors.add(Refused)  # one problem per incident at a time
        kwargs = {"title": title, "description": description, "incidents": refs}
        if service is not OMIT:
            kwargs["service"] = service
        opened, written, _ = self._attempt(
            lambda: self.desk.open_problem(actor=actor, **kwargs), errors, actor=actor,
        )
        if errors:
            return
        expected = [*self._opening_events(self.problems, "PRB"), (opened.id, "ProblemOpened")]
        for incident in chosen:
            expected += [(incident.id, "IncidentLinkedToProblem"),
                         (opened.id, "ProblemIncidentLinked")]
        assert Counter(written) == Counter(expected)
        assert opened.number == f"PRB{len(self.problems) + 1:07d}"
        problem = ProblemModel(
            id=opened.id, number=opened.number, title=title.strip(),
            service=None if service is OMIT else str(service).strip(),
            description=description.strip(), version=1 + len(chosen),
        )
        for incident in chosen:
            problem.incidents[incident.id] = incident.number
            incident.problem, incident.problem_number = problem.id, problem.number
            incident.version += 1
        self.problems.append(problem)

    @precondition(lambda self: self.incidents and self.problems)
    @rule(dt=ELAPSED, actor=ACTORS, problem_pick=PICKS, problem_form=REF_FORMS,
          pick=PICKS, form=REF_FORMS, elsewhere=mostly(st.just(False), st.just(True), one_in=4))
    def link_incident(self, dt: int, actor: str, problem_pick: Pick, problem_form: str,
                      pick: Pick, form: str, elsewhere: bool) -> None:
        self._tick(dt)
        problem = self._problem(problem_pick, "link an incident")
        incident = self._choose(self.incidents, pick, lambda i: (
            i.problem not in (None, problem.id) if elsewhere else i.problem is None))
        errors: Errors = set() if ok_actor(actor) else {ValidationFailed}
        if problem.state not in PROBLEM_STEPS["link an incident"]:
            errors.add(IllegalTransition)
        if incident.problem not in (None, problem.id):
            errors.add(Refused)
        _, written, _ = self._attempt(
            lambda: self.desk.link_incident(reference(problem, problem_form),
                                            reference(incident, form), actor=actor),
            errors, actor=actor, involved=(problem, incident),
        )
        if errors:
            return
        if incident.problem == problem.id:
            assert written == []  # linking twice is a no-op
            return
        assert Counter(written) == Counter([(incident.id, "IncidentLinkedToProblem"),
                                            (problem.id, "ProblemIncidentLinked")])
        problem.incidents[incident.id] = incident.number
        problem.version += 1
        incident.problem, incident.problem_number = problem.id, problem.number
        incident.version += 1

    @precondition(lambda self: self.incidents and self.problems)
    @rule(dt=ELAPSED, actor=ACTORS, problem_pick=PICKS, problem_form=REF_FORMS,
          pick=PICKS, form=REF_FORMS)
    def unlink_incident(self, dt: int, actor: str, problem_pick: Pick, problem_form: str,
                        pick: Pick, form: str) -> None:
        self._tick(dt)
        problem = self._choose(self.problems, problem_pick, lambda p: (
            p.incidents and p.state in PROBLEM_STEPS["unlink an incident"]))
        incident = self._choose(self.incidents, pick, lambda i: i.id in problem.incidents)
        errors: Errors = set() if ok_actor(actor) else {ValidationFailed}
        if problem.state not in PROBLEM_STEPS["unlink an incident"]:
            errors.add(IllegalTransition)
        if incident.id not in problem.incidents:
            errors.add(Refused)
        _, written, _ = self._attempt(
            lambda: self.desk.unlink_incident(reference(problem, problem_form),
                                              reference(incident, form), actor=actor),
            errors, actor=actor, involved=(problem, incident),
        )
        if errors:
            return
        assert incident.problem == problem.id  # both sides of a link agree
        assert Counter(written) == Counter([(incident.id, "IncidentUnlinkedFromProblem"),
                                            (problem.id, "ProblemIncidentUnlinked")])
        del problem.incidents[incident.id]
        problem.version += 1
        incident.problem = incident.problem_number = None
        incident.version += 1

    @precondition(lambda self: self.problems)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS, text=texts(4000),
          expected_version=EXPECTED_VERSION)
    def add_problem_note(self, dt: int, actor: str, pick: Pick, form: str, text: str,
                         expected_version: str | None) -> None:
        self._tick(dt)
        problem = self._problem(pick, "add a note")
        if self._change(self.desk.add_problem_note, problem, form, actor,
                        set() if ok_text(text, 4000) else {ValidationFailed}, "add a note",
                        PROBLEM_STEPS, ["ProblemInvestigationNoteAdded"],
                        expected_version=expected_version, text=text):
            problem.notes.append(text.strip())

    @precondition(lambda self: self.problems)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS, text=texts(4000))
    def identify_root_cause(self, dt: int, actor: str, pick: Pick, form: str, text: str) -> None:
        self._tick(dt)
        problem = self._problem(pick, "identify the root cause")
        if self._change(self.desk.identify_root_cause, problem, form, actor,
                        set() if ok_text(text, 4000) else {ValidationFailed},
                        "identify the root cause", PROBLEM_STEPS,
                        ["ProblemRootCauseIdentified"], text=text):
            problem.root_cause = text.strip()

    @precondition(lambda self: self.problems)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS,
          workaround=texts(4000))
    def record_known_error(self, dt: int, actor: str, pick: Pick, form: str,
                           workaround: str) -> None:
        self._tick(dt)
        problem = self._problem(pick, "record a known error")
        if self._change(self.desk.record_known_error, problem, form, actor,
                        set() if ok_text(workaround, 4000) else {ValidationFailed},
                        "record a known error", PROBLEM_STEPS, ["ProblemKnownErrorRecorded"],
                        workaround=workaround):
            problem.known_error, problem.workaround = True, workaround.strip()

    @precondition(lambda self: self.problems)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS,
          change_ref=texts(100))
    def request_change(self, dt: int, actor: str, pick: Pick, form: str, change_ref: str) -> None:
        self._tick(dt)
        problem = self._problem(pick, "request a change")
        if self._change(self.desk.request_change, problem, form, actor,
                        set() if ok_text(change_ref, 100) else {ValidationFailed},
                        "request a change", PROBLEM_STEPS, ["ProblemChangeRequested"],
                        change_ref=change_ref):
            problem.change_refs.append(change_ref.strip())

    @precondition(lambda self: self.problems)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS, notes=texts(4000),
          resolve_linked=st.sampled_from([OMIT, False, True, True]))
    def resolve_problem(self, dt: int, actor: str, pick: Pick, form: str, notes: str,
                        resolve_linked: object) -> None:
        self._tick(dt)
        problem = self._choose(self.problems, pick, lambda p: (
            p.state in PROBLEM_STEPS["resolve"]
            and any(self._by_id(linked).is_open for linked in p.incidents)
        )) if pick[1] < 2 else self._problem(pick, "resolve")  # mostly one with open incidents
        errors: Errors = set() if ok_text(notes, 4000) and ok_actor(actor) else {ValidationFailed}
        if problem.state not in PROBLEM_STEPS["resolve"]:
            errors.add(IllegalTransition)
        kwargs: dict[str, Any] = {"notes": notes}
        if resolve_linked is not OMIT:
            kwargs["resolve_linked_incidents"] = resolve_linked
        _, written, states = self._attempt(
            lambda: self.desk.resolve_problem(reference(problem, form), actor=actor, **kwargs),
            errors, actor=actor, involved=(problem,),
        )
        if errors:
            return
        cascade = [self._by_id(incident_id) for incident_id in problem.incidents]
        cascade = [incident for incident in cascade if resolve_linked is True and incident.is_open]
        assert Counter(written) == Counter(
            [(problem.id, "ProblemResolved")] + [(i.id, "IncidentResolved") for i in cascade]
        )
        for (_stream, name), state in zip(written, states, strict=True):
            if name == "IncidentResolved":
                assert state["problem"] == problem.id  # the problem is named as the cause
                assert state["resolution_code"] == "resolved_by_problem"
        problem.state, problem.resolution_notes = "resolved", notes.strip()
        problem.version += 1
        for incident in cascade:
            incident.resolve("resolved_by_problem", Mentions(problem.number, notes.strip()),
                             self.clock.now)
            incident.version += 1

    @precondition(lambda self: self.problems)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS)
    def close_problem(self, dt: int, actor: str, pick: Pick, form: str) -> None:
        self._tick(dt)
        self._change(self.desk.close_problem, self._problem(pick, "close"), form, actor, set(),
                     "close", PROBLEM_STEPS, ["ProblemClosed"])

    @precondition(lambda self: self.problems)
    @rule(dt=ELAPSED, actor=ACTORS, pick=PICKS, form=REF_FORMS, reason=texts(4000))
    def cancel_problem(self, dt: int, actor: str, pick: Pick, form: str, reason: str) -> None:
        self._tick(dt)
        self._change(self.desk.cancel_problem, self._problem(pick, "cancel"), form, actor,
                     set() if ok_text(reason, 4000) else {ValidationFailed}, "cancel",
                     PROBLEM_STEPS, ["ProblemCanceled"], reason=reason)

    # -- references that name nothing (or the wrong kind of record) -----------------------------

    @precondition(lambda self: self.incidents or self.problems)
    @rule(dt=ELAPSED, actor=ACTORS, kind=st.sampled_from(["incident", "problem"]),
          bad=st.sampled_from(["own-missing", "own-zero", "other-number", "other-record",
                               "nonsense", "", "  ", "6f1c9c5e-2f44-4c56-9c35-4d1f0c8e9a11"]))
    def unknown_reference(self, dt: int, actor: str, kind: str, bad: str) -> None:
        self._tick(dt)
        own, other = ("INC", "PRB") if kind == "incident" else ("PRB", "INC")
        others = self.problems if kind == "incident" else self.incidents
        ref = {
            "own-missing": f"{own}9999999",
            "own-zero": f"{own}0000000",
            "other-number": f"{other}0000001",  # the wrong kind, whether it exists or not
            "other-record": (str(others[-1].id) if len(others) % 2 else others[-1].number)
            if others else f"{other}0000001",
        }.get(bad, bad)
        errors: Errors = {NotFound} if ok_actor(actor) else {NotFound, ValidationFailed}
        note = self.desk.add_incident_note if kind == "incident" else self.desk.add_problem_note
        self._attempt(lambda: note(ref, actor=actor, text="hello"), errors, actor=actor)

    def _by_id(self, record_id: UUID) -> IncidentModel:
        return next(incident for incident in self.incidents if incident.id == record_id)

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def records_rebuilt_from_the_store_match_the_model(self) -> None:
        for model in self.incidents:
            live = self.desk.repository.get(model.id)  # a fresh load: replays every event
            assert isinstance(live, Incident)
            assert self.desk.incident(model.number).id == model.id
            actual = {
                "number": live.number, "title": live.title, "service": live.service,
                "category": live.category, "subcategory": live.subcategory,
                "impact": live.impact, "urgency": live.urgency, "priority": live.priority,
                "caller": live.caller, "channel": live.channel, "created_on": live.created_on,
                "state": live.state, "hold_reason": live.hold_reason,
                "assignment_group": live.assignment_group, "assignee": live.assignee,
                "escalation_level": live.escalation_level, "workaround": live.workaround,
                "known_error": live.known_error, "problem": live.problem,
                "problem_number": live.problem_number, "resolution_code": live.resolution_code,
                "resolution_notes": live.resolution_notes, "resolved_at": live.resolved_at,
                "close_code": live.close_code, "closed_at": live.closed_at,
                "reopen_count": live.reopen_count,
                "notes": [(note["at"], note["actor"], note["text"]) for note in live.notes],
                "version": live.version,
            }
            expected = {
                "number": model.number, "title": model.title, "service": model.service,
                "category": model.category, "subcategory": model.subcategory,
                "impact": model.impact, "urgency": model.urgency,
                "priority": PRIORITY[model.impact, model.urgency], "caller": model.caller,
                "channel": model.channel, "created_on": model.opened_at, "state": model.state,
                "hold_reason": model.hold_reason, "assignment_group": model.assignment_group,
                "assignee": model.assignee, "escalation_level": model.escalation_level,
                "workaround": model.workaround, "known_error": model.known_error,
                "problem": model.problem, "problem_number": model.problem_number,
                "resolution_code": model.resolution_code,
                "resolution_notes": model.resolution_notes, "resolved_at": model.resolved_at,
                "close_code": model.close_code, "closed_at": model.closed_at,
                "reopen_count": model.reopen_count, "notes": model.notes,
                "version": model.version,
            }
            assert expected == actual, model.number
        for model in self.problems:
            live = self.desk.repository.get(model.id)
            assert isinstance(live, Problem)
            assert self.desk.problem(model.number).id == model.id
            actual = {
                "number": live.number, "title": live.title, "service": live.service,
                "description": live.description, "state": live.state,
                "incidents": list(live.incidents.items()), "notes": live.notes,
                "root_cause": live.root_cause, "known_error": live.known_error,
                "workaround": live.workaround, "change_refs": live.change_refs,
                "resolution_notes": live.resolution_notes, "version": live.version,
            }
            expected = {
                "number": model.number, "title": model.title, "service": model.service,
                "description": model.description, "state": model.state,
                "incidents": list(model.incidents.items()), "notes": model.notes,
                "root_cause": model.root_cause, "known_error": model.known_error,
                "workaround": model.workaround, "change_refs": model.change_refs,
                "resolution_notes": model.resolution_notes, "version": model.version,
            }
            assert expected == actual, model.number
            # Both sides of every link agree.
            for incident_id in model.incidents:
                assert self._by_id(incident_id).problem == model.id

    @invariant()
    def every_stream_is_contiguous_attributed_and_chained(self) -> None:
        stored = self._stored()
        assert len(stored) == self._expected_total()
        streams: dict[UUID, list[Any]] = defaultdict(list)
        for notification in stored:
            streams[notification.originator_id].append(notification)
        for stream_id, events in streams.items():
            versions = [event.originator_version for event in self.desk.events.get(stream_id)]
            assert versions == list(range(1, len(versions) + 1))
            assert [event.originator_version for event in events] == versions
            self._verify_chain(stream_id, events)

    def _verify_chain(self, stream_id: UUID, events: list[Any]) -> None:
        """Design section 7, recomputed from the stored (not upcast) event states."""
        states = [self.transcoder.decode(event.state) for event in events]
        stream_type = states[0]["originator_topic"].rsplit(":", 1)[1]  # the aggregate class
        prev_hash, previous_time = GENESIS, None
        for event, state in zip(events, states, strict=True):
            qualified = event.topic.split(":", 1)[1]
            assert qualified.split(".", 1)[0] == stream_type
            actor, moment = state["actor"], state["timestamp"]
            assert isinstance(actor, str)
            assert actor.strip() == actor != ""
            assert isinstance(moment, datetime)
            assert moment.utcoffset() is not None
            assert previous_time is None or previous_time <= moment
            previous_time = moment
            occurred_at = format_timestamp(moment)
            assert TIMESTAMP_FORMAT.fullmatch(occurred_at)
            assert state["prev_hash"] == prev_hash
            fields = {
                "stream_type": stream_type, "stream_id": stream_id,
                "version": event.originator_version, "event_type": event_type(event.topic),
                "schema": state.get("class_version", 1), "occurred_at": occurred_at,
                "actor": actor, "data": event_data(state), "prev_hash": prev_hash,
            }
            digest = chain_hash(**fields)
            # ... and with hashlib and msgpack alone, as an outside verifier would.
            by_hand = hashlib.sha256(msgpack.packb(
                ["tandem-event-v1", stream_type, str(stream_id), event.originator_version,
                 fields["event_type"], fields["schema"], occurred_at, actor, fields["data"],
                 prev_hash],
                use_bin_type=True,
            )).hexdigest()
            assert state["hash"] == digest == by_hand
            assert HEX_64.fullmatch(digest)
            prev_hash = digest
        if stream_type in ("Incident", "Problem"):
            assert self.desk.repository.get(stream_id).head_hash == prev_hash


ServiceDeskMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestServiceDesk = ServiceDeskMachine.TestCase


# -- one incident named twice, in two forms ----------------------------------------------------

@pytest.mark.parametrize("second_form", ["uuid", "lower"])
def test_open_problem_links_an_incident_named_twice_once(second_form: str) -> None:
    desk = open_service_desk("memory://", clock=FakeClock())
    incident = desk.open_incident(actor="alice", title="Mail down", service="email")
    second = str(incident.id) if second_form == "uuid" else incident.number.lower()
    problem = desk.open_problem(actor="bob", title="Mail", incidents=[incident.number, second])
    assert list(problem.incidents) == [incident.id]
    assert desk.incident(incident.number).problem == problem.id
