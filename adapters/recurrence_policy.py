"""The problem-candidate policy: a recurring pattern no open problem covers becomes a problem.

Driven by `tick(now)` (the `tandem serve` timer, or `tandem recurrence tick`). It reads the
candidates from the recurrence read model (the incidents of the longest threshold, not the
whole history), and for each asks the ServiceDesk to raise a problem (actor
`system:recurrence`) linking the pattern's incidents. Exactly once: the ServiceDesk keeps a
RecurrenceCandidate per pattern in the event store and refuses a raise whose count it has
moved past (domain/recurrence.py); only incidents opened after the pattern's last raise count
towards the next one, so a stale read model or a second policy cannot raise it twice.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from adapters.alerts.settings import RecurrenceSettings
from domain.problem import Problem
from domain.service_desk import ServiceDesk
from projections.patterns import Candidate, Threshold, candidates, crossed
from projections.store import ReadStore

Clock = Callable[[], datetime]
TITLE_LENGTH = 160
LISTED = 20
"""Incident numbers named in the problem's description (all of them are linked)."""


def thresholds_of(settings: RecurrenceSettings) -> list[Threshold]:
    return [Threshold(incidents=t.incidents, within=timedelta(hours=t.within_hours))
            for t in settings.thresholds]


class RecurrencePolicy:
    def __init__(self, desk: ServiceDesk, read_models: Callable[[], ReadStore], *,
                 settings: RecurrenceSettings,
                 clock: Clock = lambda: datetime.now(UTC)) -> None:
        self._desk = desk
        self._read_models = read_models
        self._enabled = settings.problem_candidates
        self._thresholds = thresholds_of(settings)
        self._clock = clock

    def tick(self, now: datetime | None = None) -> list[Problem]:
        """Raise the problems due at `now` (default: the clock); the problems opened."""
        if not self._enabled:
            return []
        now = now or self._clock()
        found = candidates(self._read_models(), now=now, thresholds=self._thresholds)
        opened = [self._raise(candidate, now) for candidate in found]
        return [problem for problem in opened if problem is not None]

    def _raise(self, candidate: Candidate, now: datetime) -> Problem | None:
        raises, last_raised_at = self._desk.problem_candidates_raised(candidate.pattern)
        due = linked(candidate.recent, last_raised_at=last_raised_at, now=now,
                     thresholds=self._thresholds)
        if due is None:
            return None
        threshold, incidents = due
        where = candidate.service + (f" ({candidate.category})" if candidate.category else "")
        title = f"Recurring on {where}: {candidate.fingerprint}"
        return self._desk.raise_problem_candidate(
            pattern=candidate.pattern,
            title=title if len(title) <= TITLE_LENGTH else title[:TITLE_LENGTH - 1] + "…",
            description=(f"{len(incidents)} incidents on {where} within "
                         f"{threshold.within.total_seconds() / 3600:g} h share the symptom "
                         f"{candidate.fingerprint!r}: {', '.join(incidents[:LISTED])}"
                         f"{', …' if len(incidents) > LISTED else ''}. "
                         f"Raised by the recurrence policy (threshold {threshold})."),
            service=candidate.service, incidents=incidents, seen_raises=raises)


def linked(opened: Sequence[tuple[str, datetime]], *, last_raised_at: datetime | None,
           now: datetime, thresholds: Sequence[Threshold]) -> tuple[Threshold, list[str]] | None:
    """The threshold the incidents opened after the pattern's last raise cross at `now`, and
    the numbers of those the raise links (opened within that threshold's window); None when
    none is crossed. `opened`: (number, opening time), oldest first."""
    fresh = [(number, moment) for number, moment in opened
             if last_raised_at is None or moment > last_raised_at]
    threshold = crossed([moment for _, moment in fresh], now, thresholds)
    if threshold is None:
        return None
    return threshold, [number for number, moment in fresh if now - threshold.within < moment]
