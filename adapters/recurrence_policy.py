"""The problem-candidate policy: a recurring pattern no open problem covers becomes a problem.

Driven by `tick(now)` (the `tandem serve` timer, or `tandem recurrence tick`). It reads the
recurrence read model, and for each pattern over a threshold asks the ServiceDesk to raise a
problem (actor `system:recurrence`) linking the pattern's incidents. Exactly once: the
ServiceDesk keeps a RecurrenceCandidate per pattern in the event store and refuses a raise
whose count it has moved past (domain/recurrence.py); only incidents opened after the
pattern's last raise count towards the next one, so a stale read model or a second policy
cannot raise it twice.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.alerts.settings import RecurrenceSettings
from domain.problem import Problem
from domain.service_desk import ServiceDesk
from projections.patterns import Threshold, crossed, patterns
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
        found = patterns(self._read_models(), now=now, thresholds=self._thresholds)
        opened = [self._raise(pattern, now) for pattern in found if pattern["candidate"]]
        return [problem for problem in opened if problem is not None]

    def _raise(self, pattern: dict[str, Any], now: datetime) -> Problem | None:
        raises, last_raised_at = self._desk.problem_candidates_raised(pattern["pattern"])
        fresh = [(number, moment) for number, moment in zip(
            pattern["incidents"], map(datetime.fromisoformat, pattern["opened_at"]),
            strict=True) if last_raised_at is None or moment > last_raised_at]
        threshold = crossed([moment for _, moment in fresh], now, self._thresholds)
        if threshold is None:
            return None
        incidents = [number for number, moment in fresh if now - threshold.within < moment]
        where = pattern["service"] + (f" ({pattern['category']})" if pattern["category"] else "")
        title = f"Recurring on {where}: {pattern['fingerprint']}"
        return self._desk.raise_problem_candidate(
            pattern=pattern["pattern"],
            title=title if len(title) <= TITLE_LENGTH else title[:TITLE_LENGTH - 1] + "…",
            description=(f"{len(incidents)} incidents on {where} within "
                         f"{threshold.within.total_seconds() / 3600:g} h share the symptom "
                         f"{pattern['fingerprint']!r}: {', '.join(incidents[:LISTED])}"
                         f"{', …' if len(incidents) > LISTED else ''}. "
                         f"Raised by the recurrence policy (threshold {threshold})."),
            service=pattern["service"], incidents=incidents, seen_raises=raises)
