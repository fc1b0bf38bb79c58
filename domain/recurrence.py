"""Problem candidates: a recurring pattern of incidents becomes a problem, exactly once.

Each pattern has a RecurrenceCandidate record with a deterministic id that counts the
problems raised for it. Raising one names the count the caller saw; the candidate, the new
problem and the incident links are saved in one transaction, so two policies (or a policy
restarted, or run against a rebuilt read model) cannot raise the same one twice: the second
save collides on the candidate's version, and its retry sees the count has moved on.
"""

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Self
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.persistence import RecordConflictError

from domain.aggregate import AuditedAggregate, Stamp
from domain.errors import Conflict
from domain.numbering import PROBLEM_PREFIX
from domain.problem import Problem

if TYPE_CHECKING:
    from domain.service_desk import ServiceDesk

RETRIES = 50


class RecurrenceCandidate(AuditedAggregate):
    """One per recurrence pattern; every event carries the whole state (loaded from the last)."""

    def __init__(self) -> None:
        super().__init__()
        self.raises = 0
        self.problem = UUID(int=0)

    @staticmethod
    @lru_cache(maxsize=10_000)
    def id_for(pattern: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"tandem:recurrence-candidate:{pattern}")

    class Event(AuditedAggregate.Event):
        pass

    class Raised(AuditedAggregate.Created):
        pattern: str
        problem: UUID
        problem_number: str
        raises: int

        def apply(self, candidate: "RecurrenceCandidate") -> None:
            candidate.raises = self.raises
            candidate.problem = self.problem

    class RaisedAgain(Event):
        """The pattern recurred after its previous problem was finished."""

        problem: UUID
        problem_number: str
        raises: int

        def apply(self, candidate: "RecurrenceCandidate") -> None:
            candidate.raises = self.raises
            candidate.problem = self.problem

    @classmethod
    def resume(cls, last_event: Any) -> Self:
        candidate = cls._resumed(last_event)
        candidate.raises = last_event.raises
        candidate.problem = last_event.problem
        return candidate

    @classmethod
    def first(cls, *, pattern: str, problem: Problem, stamp: Stamp) -> Self:
        return cls._start(cls.Raised, id=cls.id_for(pattern), stamp=stamp, pattern=pattern,
                          problem=problem.id, problem_number=problem.number, raises=1)

    def again(self, *, problem: Problem, stamp: Stamp) -> None:
        self._trigger(self.RaisedAgain, stamp=stamp, problem=problem.id,
                      problem_number=problem.number, raises=self.raises + 1)


def raised(desk: "ServiceDesk", pattern: str) -> tuple[int, datetime | None]:
    """How many problems were raised for `pattern`, and when the last one was."""
    last: Any = next(iter(desk.events.get(RecurrenceCandidate.id_for(pattern), desc=True,
                                          limit=1)), None)
    return (0, None) if last is None else (last.raises, last.timestamp)


def raise_problem(desk: "ServiceDesk", *, pattern: str, title: str, description: str,
                  service: str | None, incidents: Sequence[str], seen_raises: int,
                  stamp: Stamp) -> Problem | None:
    """Open the pattern's next problem, linking its incidents that have none; None when the
    candidate has moved past `seen_raises` (another policy raised it first)."""
    candidate_id = RecurrenceCandidate.id_for(pattern)
    for _ in range(RETRIES):
        last = next(iter(desk.events.get(candidate_id, desc=True, limit=1)), None)
        candidate = None if last is None else RecurrenceCandidate.resume(last)
        if (candidate.raises if candidate else 0) != seen_raises:
            return None
        sequence = desk._sequences.pop(PROBLEM_PREFIX, None) or desk._sequence(PROBLEM_PREFIX,
                                                                               stamp)
        problem_id = uuid4()
        problem = Problem.open(id=problem_id, number=sequence.issue(record=problem_id,
                                                                    stamp=stamp),
                               title=title, description=description, service=service,
                               stamp=stamp)
        linked = [incident for incident in map(desk.incident, incidents)
                  if incident.problem is None]
        for incident in linked:
            incident.link_to_problem(problem=problem.id, problem_number=problem.number,
                                     stamp=stamp)
            problem.link_incident(incident=incident.id, incident_number=incident.number,
                                  stamp=stamp)
        if candidate is None:
            candidate = RecurrenceCandidate.first(pattern=pattern, problem=problem, stamp=stamp)
        else:
            candidate.again(problem=problem, stamp=stamp)
        try:
            desk.save(sequence, problem, *linked, candidate)
        except RecordConflictError:
            continue
        desk._sequences[PROBLEM_PREFIX] = sequence
        desk._remember(problem.number, problem.id)
        return problem
    raise Conflict(f"recurrence pattern {pattern}: could not raise its problem "
                   f"after {RETRIES} tries")
