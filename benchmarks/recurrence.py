"""Recurrence reads over a year of incidents: ms per `patterns()`, per candidate read, per tick.

Seeding (untimed): N incidents opened at random times over the year before `now`, written
straight into the serving generation of the `recurrence` read model (rows as the projection
writes them; building them from events would take longer than everything measured here).
Patterns: N / 40 symptoms spread over 40 services, how often each recurs Zipf-like (a few
noisy ones, a long tail). Each pattern's first incident is linked to a problem, open for the
patterns over a threshold at `now` (as if the policy had raised them), finished for the
others: the policy finds nothing to raise and a tick is its read alone. 0.5% of the incidents
are linked to other, finished problems. PostgreSQL is ANALYZEd after the load (as autovacuum
would).

Measured, each the median of several calls at `now`, with the default thresholds:

* `patterns()`: the full listing (`recurrence list`, `GET /recurrence`): every incident of
  every pattern of 2+, so every row. It was the policy's read before `candidates()`, so it is
  also the tick's "before";
* `candidates()`: the policy's read: the incidents of the last `horizon` (7 days here,
  column "last 7 d") and those linked to open problems (column "open PRB");
* tick: `RecurrencePolicy.tick(now)` over the caught-up read model (what `tandem serve` runs
  every 60 s). "x faster" = `patterns()` ms / tick ms, measured in the same run.

`python -m benchmarks.recurrence [--quick] [--only sqlite|postgres] [--incidents N ...]`;
`python -m benchmarks` runs it after the others.
"""

import contextlib
import random
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.table import Table

from adapters.alerts.settings import RecurrenceSettings
from adapters.bootstrap import open_read_store, open_service_desk
from adapters.recurrence_policy import RecurrencePolicy, thresholds_of
from benchmarks.options import benchmark_parser, known_arguments, load_note, titled_console
from benchmarks.service_desk import fresh_store, selected_stores
from domain.audit_chain import format_timestamp
from projections import registry
from projections.patterns import candidates, crossed, horizon, patterns
from projections.recurrence import RecurrencePatterns
from projections.store import ReadStore, insert

SIZES = (10_000, 100_000, 300_000)
QUICK_SIZES = (10_000,)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
SERVICES = 40
INCIDENTS_PER_PATTERN = 40
CLOSED_PROBLEM_SHARE = 0.005
CALLS = 5


def history(incidents: int, seed: int = 7) -> tuple[list[tuple[Any, ...]],
                                                  list[tuple[Any, ...]]]:
    """(incident rows, problem rows) of a year's desk, as RecurrencePatterns stores them."""
    rng = random.Random(seed)
    count = max(1, incidents // INCIDENTS_PER_PATTERN)
    weights = [1 / (rank + 1) for rank in range(count)]
    chosen = rng.choices(range(count), weights=weights, k=incidents)
    moments = sorted(NOW - YEAR * rng.random() for _ in range(incidents))
    rows: list[list[Any]] = []
    for ordinal, (kind, moment) in enumerate(zip(chosen, moments, strict=True)):
        rows.append([str(uuid.UUID(int=rng.getrandbits(128))), f"INC{ordinal + 1:07d}",
                     f"service-{kind % SERVICES}", (None, "network", "storage")[kind % 3],
                     f"symptom {kind} on <ID>", format_timestamp(moment), None])
    recurring = _recurring(chosen, moments)
    problems: list[tuple[Any, ...]] = []
    linked: set[int] = set()
    for row, kind in zip(rows, chosen, strict=True):
        if kind not in linked:  # the pattern's first incident: linked to a problem
            linked.add(kind)
            problems.append((str(uuid.uuid4()), f"PRB{len(problems) + 1:07d}",
                             int(kind in recurring)))
            row[6] = problems[-1][0]
        elif rng.random() < CLOSED_PROBLEM_SHARE:
            problems.append((str(uuid.uuid4()), f"PRB{len(problems) + 1:07d}", 0))
            row[6] = problems[-1][0]
    return [tuple(row) for row in rows], problems


def _recurring(chosen: list[int], moments: list[datetime]) -> set[int]:
    """The patterns over a default threshold at NOW: those whose problem is still open."""
    opened: dict[int, list[datetime]] = defaultdict(list)
    for kind, moment in zip(chosen, moments, strict=True):
        opened[kind].append(moment)
    thresholds = thresholds_of(RecurrenceSettings())
    return {kind for kind, seen in opened.items() if crossed(seen, NOW, thresholds)}


def load(store: ReadStore, incidents: int) -> tuple[list[tuple[Any, ...]],
                                                   list[tuple[Any, ...]]]:
    """The read model's serving generation, filled with `history(incidents)`; its rows."""
    rows, problems = history(incidents)
    with store.transaction() as cursor:
        registry.ensure_serving(cursor, [RecurrencePatterns()])
        generation = registry.serving(cursor, RecurrencePatterns.name)
        assert generation is not None
        for table, values in zip(RecurrencePatterns.tables, (rows, problems), strict=True):
            insert(cursor, table.physical(generation.generation), table.column_names, values)
    if store.dialect == "postgres":
        with store.transaction() as cursor:
            cursor.execute("ANALYZE")
    return rows, problems


def median_ms(call: Callable[[], object], calls: int = CALLS) -> float:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(store: str, incidents: int) -> tuple[str, ...]:
    settings = RecurrenceSettings()
    thresholds = thresholds_of(settings)
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(fresh_store(store))
        desk = stack.enter_context(contextlib.closing(open_service_desk(url)))
        read_store = stack.enter_context(contextlib.closing(open_read_store(url)))
        rows, problems = load(read_store, incidents)
        listed = len(patterns(read_store, now=NOW, thresholds=thresholds))
        policy = RecurrencePolicy(desk, lambda: read_store, settings=settings,
                                  clock=lambda: NOW)
        if policy.tick(NOW):
            raise AssertionError("the seeded history should leave nothing to raise")
        listing = median_ms(lambda: patterns(read_store, now=NOW, thresholds=thresholds))
        read = median_ms(lambda: candidates(read_store, now=NOW, thresholds=thresholds))
        tick = median_ms(lambda: policy.tick(NOW))
    since = format_timestamp(NOW - horizon(thresholds))
    recent = sum(opened_at > since for *_, opened_at, _ in rows)
    still_open = sum(is_open for *_, is_open in problems)
    return (store, f"{incidents:,}", f"{recent:,}", f"{listed:,}", f"{still_open:,}",
            f"{listing:,.1f}", f"{read:,.1f}", f"{tick:,.1f}", f"{listing / tick:,.0f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = benchmark_parser("benchmarks.recurrence", __doc__,
                              quick=f"{QUICK_SIZES[0]:,} incidents only", hidden_profile=True)
    parser.add_argument("--incidents", type=int, nargs="+", metavar="N",
                        help="history sizes to measure")
    arguments = known_arguments(parser, argv)
    if arguments.profile:
        return 0  # `--profile` profiles the ServiceDesk benchmark only
    sizes = arguments.incidents or (QUICK_SIZES if arguments.quick else SIZES)
    console = titled_console("Recurrence read benchmark")
    table = Table(title=f"Recurrence reads at {NOW:%Y-%m-%d %H:%M} UTC over a year of "
                        f"incidents (median of {CALLS} calls)")
    for column in ("store", "incidents", "last 7 d", "patterns", "open PRB", "patterns() ms",
                   "candidates() ms", "tick ms", "x faster"):
        table.add_column(column, justify="left" if column == "store" else "right")
    for store in selected_stores(arguments.only, console):
        for size in sizes:
            table.add_row(*measure(store, size))
    console.print(table)
    console.print(load_note(), highlight=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
