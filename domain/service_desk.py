"""ServiceDesk: the command layer; each method validates, changes aggregates, saves atomically."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import RecordConflictError, Recording
from eventsourcing.utils import Environment

from domain import alert_handling, recurrence
from domain import commands as cmd
from domain.aggregate import AuditedAggregate, Stamp
from domain.alert import Alert, AlertResult, AlertRules, Occurrences
from domain.audit_seal import AUDIT_SEAL_ID, AuditSeal, extend_digest
from domain.commands import validated
from domain.errors import Conflict, NotFound, Refused
from domain.incident import Incident, ResolutionCode
from domain.numbering import (
    INCIDENT_PREFIX,
    PROBLEM_PREFIX,
    NumberSequence,
    parse_number,
)
from domain.problem import Problem
from domain.records import Records

Clock = Callable[[], datetime]
R = TypeVar("R", Incident, Problem)

NUMBER_RETRIES = 50
"""How often opening a record retries when another writer took the same number."""
KNOWN_NUMBERS_LIMIT = 100_000
"""Bound of the in-process number -> id memo (numbers never change, so it cannot go stale)."""
SNAPSHOT_INTERVAL = 100
"""Every 100th version of a record is also stored whole, so no read replays more than 99 events."""
HELD_WEIGHT = 50_000
"""Budget of the records a desk holds for its next commands, in events (see domain/records.py):
about 20 MB."""
SEAL_BATCH = 1_000
"""Notifications read per query while sealing."""
RECURRENCE_ACTOR = "system:recurrence"


def system_clock() -> datetime:
    return datetime.now(UTC)


class ServiceDesk(Application[UUID]):
    """Incident and problem management commands over one event store."""

    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        Incident: SNAPSHOT_INTERVAL, Problem: SNAPSHOT_INTERVAL}

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock = system_clock) -> None:
        super().__init__(env)
        self.clock = clock
        self.records = Records(self.events, self.repository, kinds=(Incident, Problem),
                               snapshot_interval=SNAPSHOT_INTERVAL, budget=HELD_WEIGHT)
        """Where commands load records: one query each, however long the record, once this
        desk has seen it (`repository` is for as-of reads)."""
        self._known_numbers: dict[str, UUID] = {}
        self._sequences: dict[str, NumberSequence] = {}
        """Each prefix's sequence as this process last saved it; a stale one just conflicts."""

    def construct_env(self, name: str, env: Any = None) -> Environment:
        """Only the settings the wiring passes: a stray variable in the process environment
        (say COMPRESSOR_TOPIC) must never change how events are stored."""
        # Snapshots are how as-of reads stay fast; eventsourcing's merge would have set this.
        return Environment(name, {"IS_SNAPSHOTTING_ENABLED": "y", **dict(env or {})})

    # -- incidents ---------------------------------------------------------------------------

    def open_incident(self, *, actor: str, **fields: Any) -> Incident:
        """Log an incident and give it the next INC number."""
        command = validated(cmd.OpenIncident, **fields)
        stamp = self._stamp(actor)

        def build(sequence: NumberSequence) -> Incident:
            incident_id = uuid4()
            return Incident.open(
                id=incident_id, number=sequence.issue(record=incident_id, stamp=stamp),
                title=command.title, service=command.service, category=command.category,
                subcategory=command.subcategory, impact=command.impact,
                urgency=command.urgency, description=command.description,
                caller=command.caller, channel=command.channel, stamp=stamp,
            )

        opened = self._open_numbered(INCIDENT_PREFIX, build, stamp)
        assert isinstance(opened, Incident)
        return opened

    def assign_incident(self, ref: str, *, actor: str, expected_version: int | None = None,
                        **fields: Any) -> Incident:
        command = validated(cmd.AssignIncident, **fields)
        return self._change_incident(ref, actor, expected_version, lambda inc, stamp: inc.assign(
            group=command.group, assignee=command.assignee, stamp=stamp))

    def categorize_incident(self, ref: str, *, actor: str, expected_version: int | None = None,
                            **fields: Any) -> Incident:
        command = validated(cmd.CategorizeIncident, **fields)
        return self._change_incident(ref, actor, expected_version, lambda inc, stamp: (
            inc.categorize(category=command.category, subcategory=command.subcategory,
                           stamp=stamp)))

    def prioritize_incident(self, ref: str, *, actor: str, expected_version: int | None = None,
                            **fields: Any) -> Incident:
        command = validated(cmd.PrioritizeIncident, **fields)
        return self._change_incident(ref, actor, expected_version, lambda inc, stamp: (
            inc.prioritize(impact=command.impact, urgency=command.urgency, stamp=stamp)))

    def escalate_incident(self, ref: str, *, actor: str, expected_version: int | None = None,
                          **fields: Any) -> Incident:
        command = validated(cmd.EscalateIncident, **fields)
        return self._change_incident(ref, actor, expected_version, lambda inc, stamp: (
            inc.escalate(kind=command.kind, to=command.to, reason=command.reason, stamp=stamp)))

    def put_incident_on_hold(self, ref: str, *, actor: str, expected_version: int | None = None,
                             **fields: Any) -> Incident:
        command = validated(cmd.HoldIncident, **fields)
        return self._change_incident(ref, actor, expected_version, lambda inc, stamp: (
            inc.put_on_hold(reason=command.reason, stamp=stamp)))

    def resume_incident(self, ref: str, *, actor: str,
                        expected_version: int | None = None) -> Incident:
        return self._change_incident(ref, actor, expected_version, lambda inc, stamp: (
            inc.resume(stamp=stamp)))

    def add_incident_note(self, ref: str, *, actor: str, expected_version: int | None = None,
                          **fields: Any) -> Incident:
        command = validated(cmd.AddNote, **fields)
        return self._change_incident(ref, actor, expected_version, lambda inc, stamp: (
            inc.add_note(text=command.text, stamp=stamp)))

    def apply_workaround(self, ref: str, *, actor: str, expected_version: int | None = None,
                         **fields: Any) -> Incident:
        """Record a workaround, optionally taken from a problem's known error."""
        command = validated(cmd.ApplyWorkaround, **fields)
        source: Problem | None = None
        if command.known_error is not None:
            source = self.problem(command.known_error)
            if not source.known_error:
                raise Refused(f"{source.number} has no known error recorded: "
                              f"cannot apply it as a workaround")
        return self._change_incident(ref, actor, expected_version, lambda inc, stamp: (
            inc.apply_workaround(text=command.text,
                                 known_error=source.id if source else None,
                                 known_error_number=source.number if source else None,
                                 stamp=stamp)))

    def resolve_incident(self, ref: str, *, actor: str, expected_version: int | None = None,
                         **fields: Any) -> Incident:
        command = validated(cmd.ResolveIncident, **fields)
        return self._change_incident(ref, actor, expected_version, lambda inc, stamp: (
            inc.resolve(code=command.code, notes=command.notes, stamp=stamp)))

    def reopen_incident(self, ref: str, *, actor: str, expected_version: int | None = None,
                        **fields: Any) -> Incident:
        command = validated(cmd.GiveReason, **fields)
        return self._change_incident(ref, actor, expected_version, lambda inc, stamp: (
            inc.reopen(reason=command.reason, stamp=stamp)))

    def close_incident(self, ref: str, *, actor: str, expected_version: int | None = None,
                       **fields: Any) -> Incident:
        command = validated(cmd.CloseIncident, **fields)
        return self._change_incident(ref, actor, expected_version, lambda inc, stamp: (
            inc.close(code=command.code, stamp=stamp)))

    def cancel_incident(self, ref: str, *, actor: str, expected_version: int | None = None,
                        **fields: Any) -> Incident:
        command = validated(cmd.GiveReason, **fields)
        return self._change_incident(ref, actor, expected_version, lambda inc, stamp: (
            inc.cancel(reason=command.reason, stamp=stamp)))

    def record_sla_warning(self, ref: str, *, actor: str, expected_version: int | None = None,
                           **fields: Any) -> Incident:
        """Record that an SLA clock reached a warning threshold; a repeat writes nothing."""
        command = validated(cmd.RecordSlaWarning, **fields)
        return self._change_incident(ref, actor, expected_version, lambda inc, stamp: (
            inc.record_sla_warning(target=command.target, threshold=command.threshold,
                                   reached_at=command.reached_at, due_at=command.due_at,
                                   stamp=stamp)))

    def record_sla_breach(self, ref: str, *, actor: str, expected_version: int | None = None,
                          **fields: Any) -> Incident:
        """Record an SLA breach and escalate it hierarchically at once; a repeat writes nothing."""
        command = validated(cmd.RecordSlaBreach, **fields)
        return self._change_incident(ref, actor, expected_version, lambda inc, stamp: (
            inc.record_sla_breach(target=command.target, due_at=command.due_at,
                                  escalate_to=command.escalate_to, stamp=stamp)))

    # -- problems ----------------------------------------------------------------------------

    def open_problem(self, *, actor: str, **fields: Any) -> Problem:
        """Record a problem, optionally from incidents, which are linked in the same save."""
        command = validated(cmd.OpenProblem, **fields)
        stamp = self._stamp(actor)

        def build(sequence: NumberSequence) -> tuple[Problem, *tuple[Incident, ...]]:
            # Loaded afresh on every try: a failed try leaves its links on the old objects.
            # One incident may be named twice (number and UUID): link it once.
            loaded = (self.incident(ref) for ref in command.incidents)
            incidents = list({incident.id: incident for incident in loaded}.values())
            problem_id = uuid4()
            problem = Problem.open(
                id=problem_id, number=sequence.issue(record=problem_id, stamp=stamp),
                title=command.title, description=command.description,
                service=command.service, stamp=stamp,
            )
            for incident in incidents:
                _link(problem, incident, stamp)
            return (problem, *incidents)

        opened = self._open_numbered(PROBLEM_PREFIX, build, stamp)
        assert isinstance(opened, Problem)
        return opened

    def link_incident(self, problem_ref: str, incident_ref: str, *, actor: str,
                      expected_version: int | None = None) -> Problem:
        problem, incident = self.problem(problem_ref), self.incident(incident_ref)
        self._expect(problem, expected_version)
        _link(problem, incident, self._stamp(actor))
        self._save(problem, incident)
        return problem

    def unlink_incident(self, problem_ref: str, incident_ref: str, *, actor: str,
                        expected_version: int | None = None) -> Problem:
        problem, incident = self.problem(problem_ref), self.incident(incident_ref)
        self._expect(problem, expected_version)
        stamp = self._stamp(actor)
        problem.unlink_incident(incident=incident.id, incident_number=incident.number,
                                stamp=stamp)
        incident.unlink_from_problem(problem=problem.id, stamp=stamp)
        self._save(problem, incident)
        return problem

    def add_problem_note(self, ref: str, *, actor: str, expected_version: int | None = None,
                         **fields: Any) -> Problem:
        command = validated(cmd.AddNote, **fields)
        return self._change_problem(ref, actor, expected_version, lambda prb, stamp: (
            prb.add_note(text=command.text, stamp=stamp)))

    def identify_root_cause(self, ref: str, *, actor: str, expected_version: int | None = None,
                            **fields: Any) -> Problem:
        command = validated(cmd.IdentifyRootCause, **fields)
        return self._change_problem(ref, actor, expected_version, lambda prb, stamp: (
            prb.identify_root_cause(text=command.text, stamp=stamp)))

    def record_known_error(self, ref: str, *, actor: str, expected_version: int | None = None,
                           **fields: Any) -> Problem:
        command = validated(cmd.RecordKnownError, **fields)
        return self._change_problem(ref, actor, expected_version, lambda prb, stamp: (
            prb.record_known_error(workaround=command.workaround, stamp=stamp)))

    def request_change(self, ref: str, *, actor: str, expected_version: int | None = None,
                       **fields: Any) -> Problem:
        command = validated(cmd.RequestChange, **fields)
        return self._change_problem(ref, actor, expected_version, lambda prb, stamp: (
            prb.request_change(change_ref=command.change_ref, stamp=stamp)))

    def resolve_problem(self, ref: str, *, actor: str, expected_version: int | None = None,
                        **fields: Any) -> Problem:
        """Resolve a problem; optionally resolve its open incidents in the same atomic save."""
        command = validated(cmd.ResolveProblem, **fields)
        stamp = self._stamp(actor)
        problem = self._expect(self.problem(ref), expected_version)
        problem.resolve(notes=command.notes,
                        resolve_linked_incidents=command.resolve_linked_incidents, stamp=stamp)
        resolved: list[Incident] = []
        if command.resolve_linked_incidents:
            for incident_id in problem.incidents:
                incident = self.incident(str(incident_id))
                if incident.is_open:
                    incident.resolve(code=ResolutionCode.RESOLVED_BY_PROBLEM,
                                     notes=f"Resolved by {problem.number}: {command.notes}",
                                     problem=problem.id, stamp=stamp)
                    resolved.append(incident)
        self._save(problem, *resolved)
        return problem

    def close_problem(self, ref: str, *, actor: str,
                      expected_version: int | None = None) -> Problem:
        return self._change_problem(ref, actor, expected_version, lambda prb, stamp: (
            prb.close(stamp=stamp)))

    def cancel_problem(self, ref: str, *, actor: str, expected_version: int | None = None,
                       **fields: Any) -> Problem:
        command = validated(cmd.GiveReason, **fields)
        return self._change_problem(ref, actor, expected_version, lambda prb, stamp: (
            prb.cancel(reason=command.reason, stamp=stamp)))

    # -- monitoring and recurrence (docs/alerts.md) --------------------------------------------

    def receive_alert(self, alert: Alert, *, rules: AlertRules | None = None,
                      occurrences: Occurrences | None = None) -> AlertResult:
        """Route an alert (standing for `occurrences` firings) to its key's incident: dedup,
        reopen within the window, or a new incident linked as a recurrence."""
        return alert_handling.receive(self, alert, rules=rules or AlertRules(),
                                      occurrences=occurrences)

    def receive_alert_repeats(self, batch: list[tuple[Alert, Occurrences]]
                              ) -> list[AlertResult | None]:
        """Many keys' accumulated repeats in one transaction, for keys whose incident is open;
        None where the caller must use `receive_alert` (see domain/alert_handling.py)."""
        return alert_handling.receive_repeats(self, batch)

    def raise_problem_candidate(self, *, pattern: str, title: str, description: str,
                                service: str | None, incidents: list[str],
                                seen_raises: int) -> Problem | None:
        """Open a problem for a recurring pattern unless one was raised since `seen_raises`."""
        command = validated(cmd.OpenProblem, title=title, description=description,
                            service=service, incidents=incidents)
        return recurrence.raise_problem(
            self, pattern=pattern, title=command.title, description=command.description,
            service=command.service, incidents=command.incidents, seen_raises=seen_raises,
            stamp=self._stamp(RECURRENCE_ACTOR))

    def problem_candidates_raised(self, pattern: str) -> tuple[int, datetime | None]:
        """How many problems the recurrence policy raised for `pattern`, and the last time."""
        return recurrence.raised(self, pattern)

    # -- audit -------------------------------------------------------------------------------

    def seal_audit_log(self, *, actor: str) -> AuditSeal | None:
        """Anchor every event up to the log's end in a new seal; None when nothing is new.

        Extends the last seal's running digest over the events after its position, so each
        event is read once over all seals. Run `tandem audit verify` first: a seal vouches for
        whatever the store holds when it is taken.
        """
        stamp = self._stamp(actor)
        last = next(iter(self.events.get(AUDIT_SEAL_ID, desc=True, limit=1)), None)
        seal = AuditSeal.start(stamp=stamp) if last is None else AuditSeal.resume(last_event=last)
        position, events, digest = seal.position, seal.events, seal.digest
        heads: dict[str, int] = {}
        while batch := self.recorder.select_notifications(position + 1, SEAL_BATCH):
            for notification in batch:
                position = notification.id
                if notification.originator_id == AUDIT_SEAL_ID:
                    continue
                event: Any = self.mapper.to_domain_event(notification)
                digest = extend_digest(digest, stream_id=notification.originator_id,
                                       version=notification.originator_version,
                                       event_hash=event.hash)
                events += 1
                heads[str(notification.originator_id)] = notification.originator_version
        if events == seal.events:
            return None
        seal.seal(position=position, events=events, digest=digest, heads=heads, stamp=stamp)
        self._save(seal)
        return seal

    # -- reads -------------------------------------------------------------------------------

    def record_id(self, number: str) -> UUID:
        """The id of the record that was issued this number (INC0000001, PRB0000001)."""
        parsed = parse_number(number.strip())
        if parsed is None:
            raise NotFound(f"{number!r} is not a record number")
        prefix, ordinal = parsed
        number = number.strip().upper()
        record_id = self._known_numbers.get(number)
        if record_id is None:
            version = NumberSequence.version_of(ordinal)
            issued = list(self.events.get(NumberSequence.id_for(prefix), gt=version - 1,
                                          lte=version))
            if not issued:
                raise NotFound(f"{number} not found")
            record_id = issued[0].record  # type: ignore[attr-defined]
            self._remember(number, record_id)
        return record_id

    def incident(self, ref: str) -> Incident:
        """The incident with this number (`INC0000001`) or UUID."""
        return self._load(Incident, INCIDENT_PREFIX, ref)

    def problem(self, ref: str) -> Problem:
        """The problem with this number (`PRB0000001`) or UUID."""
        return self._load(Problem, PROBLEM_PREFIX, ref)

    def save(self, *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
             **kwargs: Any) -> list[Recording[UUID]]:
        """Save atomically, then hold the saved records for the next commands on them."""
        recordings = super().save(*objs, **kwargs)
        for obj in objs:
            if isinstance(obj, AuditedAggregate):
                self.records.remember(obj)
        return recordings

    # -- plumbing ----------------------------------------------------------------------------

    def _stamp(self, actor: str) -> Stamp:
        return Stamp(actor=validated(cmd.Attribution, actor=actor).actor, at=self.clock())

    def _change_incident(self, ref: str, actor: str, expected_version: int | None,
                         change: Callable[[Incident, Stamp], object]) -> Incident:
        stamp = self._stamp(actor)
        incident = self._expect(self.incident(ref), expected_version)
        change(incident, stamp)
        self._save(incident)
        return incident

    def _change_problem(self, ref: str, actor: str, expected_version: int | None,
                        change: Callable[[Problem, Stamp], None]) -> Problem:
        stamp = self._stamp(actor)
        problem = self._expect(self.problem(ref), expected_version)
        change(problem, stamp)
        self._save(problem)
        return problem

    @staticmethod
    def _expect(record: R, expected_version: int | None) -> R:
        if expected_version is not None and record.version != expected_version:
            raise Conflict(f"{record.number} is at version {record.version}, "
                           f"not {expected_version}: reload it and retry")
        return record

    def _save(self, *records: AuditedAggregate) -> None:
        try:
            self.save(*records)
        except RecordConflictError:
            names = ", ".join(getattr(r, "number", str(r.id)) for r in records)
            raise Conflict(f"{names} changed while this command ran: reload and retry") from None

    def _open_numbered(self, prefix: str, build: Callable[[NumberSequence], Any],
                       stamp: Stamp) -> Any:
        """Issue the next number and save it with the new record; retry if another writer won."""
        for _ in range(NUMBER_RETRIES):
            # Taken out of the memo: a failed try must not leave a half-used sequence behind.
            sequence = self._sequences.pop(prefix, None) or self._sequence(prefix, stamp)
            built = build(sequence)
            records = built if isinstance(built, tuple) else (built,)
            try:
                self.save(sequence, *records)
            except RecordConflictError:
                continue
            self._sequences[prefix] = sequence
            self._remember(records[0].number, records[0].id)
            return records[0]
        raise Conflict(f"could not issue a {prefix} number after {NUMBER_RETRIES} tries")

    def _sequence(self, prefix: str, stamp: Stamp) -> NumberSequence:
        sequence_id = NumberSequence.id_for(prefix)
        last = next(iter(self.events.get(sequence_id, desc=True, limit=1)), None)
        if last is None:
            return NumberSequence.start(prefix=prefix, stamp=stamp)
        return NumberSequence.resume(prefix=prefix, last_event=last)

    def _load(self, kind: type[R], prefix: str, ref: str) -> R:
        ref = ref.strip()
        parsed = parse_number(ref)
        if parsed is not None:
            if parsed[0] != prefix:
                raise NotFound(f"{ref} is not {_kind_name(kind)}")
            return self._get(kind, self.record_id(ref), ref.upper())
        try:
            record_id = UUID(ref)
        except ValueError:
            raise NotFound(f"{ref!r} is neither a record number nor a UUID") from None
        return self._get(kind, record_id, ref)

    def _get(self, kind: type[R], record_id: UUID, ref: str) -> R:
        try:
            record = self.records.get(record_id)
        except AggregateNotFoundError:
            raise NotFound(f"{ref} not found") from None
        if not isinstance(record, kind):
            raise NotFound(f"{ref} is not {_kind_name(kind)}")
        return record

    def _remember(self, number: str, record_id: UUID) -> None:
        if len(self._known_numbers) >= KNOWN_NUMBERS_LIMIT:
            self._known_numbers.clear()
        self._known_numbers[number] = record_id


def _kind_name(kind: type[Incident | Problem]) -> str:
    return "an incident" if kind is Incident else "a problem"


def _link(problem: Problem, incident: Incident, stamp: Stamp) -> None:
    """Link both sides; the incident's own rule (one problem at a time) is checked first."""
    incident.link_to_problem(problem=problem.id, problem_number=problem.number, stamp=stamp)
    problem.link_incident(incident=incident.id, incident_number=incident.number, stamp=stamp)
