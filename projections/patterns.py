"""Recurrence patterns read from the recurrence read model, windows counted against `now`."""

import hashlib
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from projections import registry
from projections.queries import NotBuilt
from projections.recurrence import RecurrencePatterns
from projections.store import Cursor, ReadStore

WINDOWS = {"last_24h": timedelta(hours=24), "last_7d": timedelta(days=7),
           "last_30d": timedelta(days=30)}
PERIODIC_SHARE = 0.8
"""A pattern is periodic at an hour (or weekday) when at least this share of its incidents,
and at least PERIODIC_MINIMUM of them, opened in it."""
PERIODIC_MINIMUM = 3
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Threshold:
    """`incidents` or more in the last `within`: the pattern is a problem candidate."""

    incidents: int
    within: timedelta

    def __str__(self) -> str:
        return f"{self.incidents} in {self.within.total_seconds() / 3600:g} h"


@dataclass(frozen=True)
class Occurrence:
    number: str
    opened_at: datetime
    problem: str | None
    """The open problem this incident is linked to, if any."""


def pattern_id(service: str, category: str | None, fingerprint: str) -> str:
    """Stable name of a pattern: the same in every process and after every rebuild."""
    key = "\x00".join((service, category or "", fingerprint))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def crossed(opened: Sequence[datetime], now: datetime,
            thresholds: Sequence[Threshold]) -> Threshold | None:
    """The first threshold that incidents opened at `opened` reach at `now`, if any."""
    for threshold in thresholds:
        if sum(now - threshold.within < moment <= now for moment in opened) >= threshold.incidents:
            return threshold
    return None


def patterns(store: ReadStore, *, now: datetime, thresholds: Sequence[Threshold],
             minimum: int = 2) -> list[dict[str, Any]]:
    """Patterns with at least `minimum` incidents, busiest in the last 7 days first."""
    with store.reading() as cursor:
        incidents, problems = _tables(cursor)
        cursor.execute(
            f"SELECT i.service, i.category, i.fingerprint, i.number, i.opened_at, p.number "
            f"FROM {incidents} i LEFT JOIN {problems} p "
            f"ON p.problem_id = i.problem_id AND p.is_open = 1 "
            f"ORDER BY i.opened_at, i.number")
        rows = cursor.fetchall()
    grouped: dict[tuple[str, str | None, str], list[Occurrence]] = defaultdict(list)
    for service, category, fingerprint, number, opened_at, problem in rows:
        grouped[(service, category, fingerprint)].append(
            Occurrence(number, datetime.fromisoformat(opened_at), problem))
    found = [_pattern(key, seen, now, thresholds) for key, seen in grouped.items()
             if len(seen) >= minimum]
    return sorted(found, key=lambda p: (-p["last_7d"], p["last_seen"], p["pattern"]))


def _tables(cursor: Cursor) -> tuple[str, str]:
    generation = registry.serving(cursor, RecurrencePatterns.name)
    if generation is None:
        raise NotBuilt(f"projection {RecurrencePatterns.name} has not been built")
    incidents, problems = (table.physical(generation.generation)
                           for table in RecurrencePatterns.tables)
    return incidents, problems


def _pattern(key: tuple[str, str | None, str], seen: list[Occurrence], now: datetime,
             thresholds: Sequence[Threshold]) -> dict[str, Any]:
    service, category, fingerprint = key
    opened = [occurrence.opened_at for occurrence in seen]
    covered_by = sorted({o.problem for o in seen if o.problem is not None})
    threshold = crossed(opened, now, thresholds)
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(opened)]
    return {
        "pattern": pattern_id(service, category, fingerprint),
        "service": service,
        "category": category,
        "fingerprint": fingerprint,
        "incidents": [occurrence.number for occurrence in seen],
        "total": len(seen),
        **{name: sum(now - window < moment <= now for moment in opened)
           for name, window in WINDOWS.items()},
        "first_seen": opened[0].isoformat(),
        "last_seen": opened[-1].isoformat(),
        "mean_interval_hours": round(statistics.fmean(gaps) / 3600, 2) if gaps else None,
        "same_hour_of_day": _periodic([moment.hour for moment in opened]),
        "same_weekday": _weekday(_periodic([moment.weekday() for moment in opened])),
        "covered_by": covered_by,
        "threshold_crossed": str(threshold) if threshold else None,
        "candidate": threshold is not None and not covered_by,
        "opened_at": [moment.isoformat() for moment in opened],
    }


def _periodic(values: list[int]) -> int | None:
    if len(values) < PERIODIC_MINIMUM:
        return None
    value, times = Counter(values).most_common(1)[0]
    return value if times >= PERIODIC_SHARE * len(values) else None


def _weekday(day: int | None) -> str | None:
    return None if day is None else WEEKDAYS[day]
