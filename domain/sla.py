"""Service level agreements: what each clock measures, its target, and when it warns or breaches."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from domain.sla_calendar import Calendar, add_business_time

BREACH = 100
"""The percentage of its target at which a clock is breached."""


class Target(StrEnum):
    RESPONSE = "response"
    """From opening to the first assignment (or resolution, if that comes first)."""
    RESOLUTION = "resolution"
    """From opening to resolution, minus paused and resolved periods."""


@dataclass(frozen=True)
class SlaPolicy:
    """The agreement for one priority (and, optionally, one service)."""

    response: timedelta
    resolution: timedelta
    calendar: Calendar
    response_pauses_on: frozenset[str] = frozenset()
    """Hold reasons that pause the response clock."""
    resolution_pauses_on: frozenset[str] = frozenset({"awaiting_caller", "awaiting_vendor"})
    warnings: tuple[int, ...] = (50, 75)
    """Percentages of the target at which a warning is recorded, ascending, below 100."""
    escalate_to: str = "service_desk_manager"
    """Who a breach escalates to (hierarchically)."""

    def target(self, target: Target) -> timedelta:
        return self.response if target is Target.RESPONSE else self.resolution

    def pauses_on(self, target: Target) -> frozenset[str]:
        return self.response_pauses_on if target is Target.RESPONSE else self.resolution_pauses_on

    @property
    def thresholds(self) -> tuple[int, ...]:
        """Every percentage the monitor records, the breach last."""
        return (*self.warnings, BREACH)


class SlaRules(Protocol):
    """Where policies come from (the configuration, for the adapters)."""

    def policy(self, priority: str, service: str) -> SlaPolicy: ...


def reached(elapsed: timedelta, target: timedelta, threshold: int) -> bool:
    """Has a clock at `elapsed` reached `threshold` percent of `target`? 100% is the breach."""
    return elapsed * 100 >= target * threshold


def moment_of(threshold: int, *, calendar: Calendar, since: datetime, elapsed: timedelta,
              target: timedelta) -> datetime:
    """When a clock running from `since` with `elapsed` already spent reaches `threshold`%
    (`since` itself when it already has)."""
    return add_business_time(calendar, since, target * threshold / 100 - elapsed)


def next_threshold(thresholds: Sequence[int], recorded: Sequence[int]) -> int | None:
    """The lowest threshold not recorded yet, or None when all are."""
    return next((t for t in thresholds if t not in recorded), None)
