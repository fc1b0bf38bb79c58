"""Recurrence patterns read from the recurrence read model, windows counted against `now`.

`patterns` lists every pattern with all its incidents (so it reads the whole read model);
`candidates` gives the policy the same candidates from the recent rows alone.
"""

import hashlib
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from operator import itemgetter
from typing import Any

from domain.audit_chain import format_timestamp
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

    def __post_init__(self) -> None:
        # One incident is no recurrence (the configuration refuses fewer than 2 too); with 2 or
        # more, a pattern over a threshold has the 2 incidents a listed pattern needs.
        if self.incidents < 2:
            raise ValueError(f"a threshold needs at least 2 incidents, not {self.incidents}")

    def __str__(self) -> str:
        return f"{self.incidents} in {self.within.total_seconds() / 3600:g} h"


@dataclass(frozen=True)
class Occurrence:
    number: str
    opened_at: datetime
    problem: str | None
    """The open problem this incident is linked to, if any."""


@dataclass(frozen=True)
class Candidate:
    """A pattern over a threshold at `now` that no open problem covers."""

    pattern: str
    service: str
    category: str | None
    fingerprint: str
    recent: list[tuple[str, datetime]]
    """(number, opening time) of its incidents opened after `now - horizon(thresholds)`,
    oldest first: every incident a threshold counts or the policy links."""


def pattern_id(service: str, category: str | None, fingerprint: str) -> str:
    """Stable name of a pattern: the same in every process and after every rebuild."""
    key = "\x00".join((service, category or "", fingerprint))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def crossed(opened: Sequence[datetime], now: datetime,
            thresholds: Sequence[Threshold]) -> Threshold | None:
    """The first threshold that incidents opened at `opened` reach at `now`, if any."""
    for threshold in thresholds:
        if _within(opened, now, threshold.within) >= threshold.incidents:
            return threshold
    return None


def horizon(thresholds: Sequence[Threshold]) -> timedelta:
    """How far back `candidates` reads: the longest threshold, and the 7 days the order uses."""
    return max(WINDOWS["last_7d"], *(threshold.within for threshold in thresholds))


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


def candidates(store: ReadStore, *, now: datetime,
               thresholds: Sequence[Threshold]) -> list[Candidate]:
    """The patterns `patterns` marks `candidate` at `now`, in its order, read from the
    incidents opened in the last `horizon(thresholds)` and the open problems' links alone."""
    since = format_timestamp(now - horizon(thresholds))
    with store.reading() as cursor:
        incidents, problems = _tables(cursor)
        # Opening times are stored in format_timestamp's fixed form: text order is time order.
        cursor.execute(f"SELECT service, category, fingerprint, number, opened_at "
                       f"FROM {incidents} WHERE opened_at > ? ORDER BY opened_at, number",
                       [since])
        rows = cursor.fetchall()
        # IN, not a join: SQLite would otherwise scan every incident for the open problems.
        cursor.execute(f"SELECT DISTINCT service, category, fingerprint FROM {incidents} "
                       f"WHERE problem_id IN (SELECT problem_id FROM {problems} "
                       f"WHERE is_open = 1)")
        covered = set(cursor.fetchall())
    grouped: dict[tuple[str, str | None, str], list[tuple[str, datetime]]] = defaultdict(list)
    for service, category, fingerprint, number, opened_at in rows:
        grouped[(service, category, fingerprint)].append(
            (number, datetime.fromisoformat(opened_at)))
    found = []
    for key, recent in grouped.items():
        opened = [moment for _, moment in recent]
        if key not in covered and crossed(opened, now, thresholds) is not None:
            candidate = Candidate(pattern_id(*key), *key, recent=recent)
            # The order of `patterns`: the pattern's last opening is among the recent ones.
            order = (-_within(opened, now, WINDOWS["last_7d"]), opened[-1].isoformat(),
                     candidate.pattern)
            found.append((order, candidate))
    return [candidate for _, candidate in sorted(found, key=itemgetter(0))]


def _within(opened: Sequence[datetime], now: datetime, window: timedelta) -> int:
    """How many opened in the window ending at `now` (later ones count in no window)."""
    return sum(now - window < moment <= now for moment in opened)


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
        **{name: _within(opened, now, window) for name, window in WINDOWS.items()},
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
