"""The policy's windowed read decides as a read of every row would (docs/alerts.md).

Random incident histories (a few patterns, opening times over 1.5 to 22 days, some on the same
instant or on a window's edge, links to open and finished problems) are written straight into
the recurrence read model. At a random `now` (before, among or after the openings) and random
thresholds, `candidates` — which reads only the incidents opened within `horizon(thresholds)`
and the open problems' links — must give the same candidates, in the same order, as the full
scan below (the logic `patterns` applies to every row); and for any last raise, the policy must
cross the same threshold and link the same incidents from either.
"""

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import open_read_store
from adapters.recurrence_policy import linked
from domain.audit_chain import format_timestamp
from projections import registry
from projections.patterns import Threshold, candidates, pattern_id, patterns
from projections.recurrence import RecurrencePatterns
from projections.store import ReadStore, insert

BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEYS = (("vpn", "network", "gateway <ID> drops sessions"), ("vpn", None, "gateway <ID> drops"),
        ("email", "messaging", "queue above <NUM>"), ("email", None, "queue above <NUM>"))
PROBLEMS = 4
Opened = list[tuple[str, datetime]]
SPANS = st.sampled_from([36, 240, 540])
"""Hours the openings spread over: dense histories cross the short thresholds."""
links = st.sampled_from([None] * 12 + list(range(PROBLEMS)))
"""Most incidents are linked to no problem: else nearly every pattern would be covered."""


def moments(hours: int) -> st.SearchStrategy[datetime]:
    """Instants from a day before BASE to `hours` after it. Whole hours put openings, `now`s
    and threshold edges on the same instants; the microseconds test the text comparison of
    the stored times."""
    return st.builds(lambda hour, micro: BASE + timedelta(hours=hour, microseconds=micro),
                     st.integers(-24, hours), st.sampled_from([0, 0, 0, 1, 500_000, 999_999]))


def histories(hours: int) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """(pattern key, opening time, problem index or None) per incident."""
    return st.lists(st.tuples(st.sampled_from(KEYS), moments(hours), links), min_size=6,
                    max_size=60)


thresholds = st.lists(st.builds(
    lambda count, hours: Threshold(count, timedelta(hours=hours)), st.integers(2, 6),
    st.sampled_from([24, 168, 720]) | st.integers(1, 400)), min_size=1, max_size=3)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def read_store(request: pytest.FixtureRequest) -> Iterator[ReadStore]:
    """A read store with a serving recurrence generation, emptied by each example."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    store = open_read_store(url)
    with store.transaction() as cursor:
        registry.ensure_serving(cursor, [RecurrencePatterns()])
    yield store
    store.close()


def write(store: ReadStore, rows: list[tuple[Any, ...]], problems: list[tuple[Any, ...]]) -> None:
    with store.transaction() as cursor:
        generation = registry.serving(cursor, RecurrencePatterns.name)
        assert generation is not None
        for table, values in zip(RecurrencePatterns.tables, (rows, problems), strict=True):
            cursor.execute(f"DELETE FROM {table.physical(generation.generation)}")
            if values:
                insert(cursor, table.physical(generation.generation), table.column_names,
                       values)


def full_scan(rows: list[tuple[Any, ...]], problems: list[tuple[Any, ...]], now: datetime,
              limits: list[Threshold]) -> list[tuple[str, Opened]]:
    """Every row read: each candidate pattern and all its incidents, in `patterns`' order."""
    open_problems = {problem_id for problem_id, _, is_open in problems if is_open}
    grouped: dict[tuple[str, str | None, str], list[tuple[str, str, str | None]]] = (
        defaultdict(list))
    for _, number, service, category, fingerprint, opened_at, problem_id in rows:
        grouped[(service, category, fingerprint)].append((opened_at, number, problem_id))
    found = []
    for key, seen in grouped.items():
        seen.sort()
        opened = [datetime.fromisoformat(opened_at) for opened_at, _, _ in seen]

        def within(window: timedelta, opened: list[datetime] = opened) -> int:
            return sum(now - window < moment <= now for moment in opened)

        crossed = any(within(limit.within) >= limit.incidents for limit in limits)
        covered = any(problem_id in open_problems for _, _, problem_id in seen)
        if len(seen) >= 2 and crossed and not covered:
            order = (-within(timedelta(days=7)), opened[-1].isoformat(), pattern_id(*key))
            found.append((order, [(number, moment) for (_, number, _), moment
                                  in zip(seen, opened, strict=True)]))
    return [(order[2], seen) for order, seen in sorted(found)]


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(span=SPANS, is_open=st.lists(st.booleans(), min_size=PROBLEMS, max_size=PROBLEMS),
       limits=thresholds, data=st.data())
def test_the_windowed_read_decides_as_the_full_scan(
        read_store: ReadStore, span: int, is_open: list[bool], limits: list[Threshold],
        data: st.DataObject) -> None:
    history = data.draw(histories(span), label="history")
    now = data.draw(moments(span + 48), label="now")
    problems = [(f"p{index}", f"PRB{index + 1:07d}", int(flag))
                for index, flag in enumerate(is_open)]
    rows = [(f"i{ordinal}", f"INC{len(history) - ordinal:07d}", *key, format_timestamp(moment),
             None if problem is None else f"p{problem}")
            for ordinal, (key, moment, problem) in enumerate(history)]
    write(read_store, rows, problems)

    expected = full_scan(rows, problems, now, limits)
    found = candidates(read_store, now=now, thresholds=limits)
    event(f"{min(len(expected), 2)}+ candidates")

    assert [candidate.pattern for candidate in found] == [pattern for pattern, _ in expected]
    assert [p["pattern"] for p in patterns(read_store, now=now, thresholds=limits)
            if p["candidate"]] == [pattern for pattern, _ in expected]
    for candidate, (_, everything) in zip(found, expected, strict=True):
        assert pattern_id(candidate.service, candidate.category,
                          candidate.fingerprint) == candidate.pattern
        last_raised_at = data.draw(st.none() | moments(span), label="last raised at")
        assert linked(candidate.recent, last_raised_at=last_raised_at, now=now,
                      thresholds=limits) == linked(everything, last_raised_at=last_raised_at,
                                                   now=now, thresholds=limits)
