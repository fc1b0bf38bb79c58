"""Commands/s through ServiceDesk against saves/s through a bare eventsourcing Application.

Per store (SQLite, PostgreSQL) the run times:

* ServiceDesk, a realistic incident lifecycle addressed by number, as the CLI does:
  open, assign, add a note, resolve, close; five commands, five saves.
* A bare `eventsourcing.application.Application` with a trivial aggregate, the same number of
  saves: create and save, then four times trigger an event and save. Four variants, each on
  its own empty store: the library's default JSON transcoder or Tandem's msgpack transcoder,
  and the aggregate kept in memory or re-read with `repository.get` before each update
  (ServiceDesk reads the store per command: the record's newer events, to bring the copy it
  holds from its last command up to date; domain/records.py).

The ratio is ServiceDesk's rate divided by a baseline's rate; the target is >= 0.8 against
the primary baseline: the library's JSON transcoder, the aggregate re-read before each update.
That is the like-for-like command handler (a command reads its record from the store, changes
it, saves it; no process can trust a copy in memory that the store has not just confirmed); the
kept-in-memory rows show the floor.
The workloads run in interleaved rounds so that drift on a busy machine touches them all
alike; each ratio is the median of the per-round ratios.
"""

import argparse
import contextlib
import cProfile
import io
import pstats
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters.bootstrap import open_service_desk, store_environment
from benchmarks.options import STORES, benchmark_parser, load_note, titled_console, versions
from domain.service_desk import ServiceDesk

POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"
COMMANDS_PER_LIFECYCLE = 5
TARGET_RATIO = 0.8
DEFAULT_LIFECYCLES = {"sqlite": 1000, "postgres": 400}
"""Lifecycles per workload; sized so each store's section takes ~10-20 s on 2 cores."""
QUICK_LIFECYCLES = 20
ROUNDS = 10
WARMUP_LIFECYCLES = 10


class Counter(Aggregate):
    """The baseline's trivial aggregate: one integer, one event type."""

    def __init__(self) -> None:
        self.count = 0

    @event("Incremented")
    def increment(self) -> None:
        self.count += 1


class Workload(Protocol):
    label: str

    def run(self, lifecycles: int) -> None: ...

    def close(self) -> None: ...


class ServiceDeskWorkload:
    """The realistic mix: one incident's lifecycle, each command addressing it by number."""

    label = "ServiceDesk (msgpack, re-reads per command)"

    def __init__(self, url: str) -> None:
        self.desk: ServiceDesk = open_service_desk(url)

    def run(self, lifecycles: int) -> None:
        desk = self.desk
        for _ in range(lifecycles):
            ref = desk.open_incident(
                actor="carol", title="Outbound mail delayed", service="email",
                category="email", impact=2, urgency=2, caller="carol",
                description="Messages to external domains wait in the queue for an hour.",
            ).number
            desk.assign_incident(ref, actor="sd.agent", group="messaging", assignee="bob")
            desk.add_incident_note(ref, actor="bob", text="Relay 2 queue backlog; restarting.")
            desk.resolve_incident(ref, actor="bob", code="solution_provided",
                                  notes="Relay 2 restarted, queue drained.")
            desk.close_incident(ref, actor="carol")

    def close(self) -> None:
        self.desk.close()


class BareWorkload:
    """The same number of saves through a bare Application and the trivial aggregate."""

    def __init__(self, url: str, *, msgpack: bool, reread: bool) -> None:
        env = store_environment(url)
        if not msgpack:
            del env["TRANSCODER_TOPIC"]  # the library's default JSONTranscoder
        self.app: Application[UUID] = Application(env)
        self.reread = reread
        codec = "msgpack" if msgpack else "JSON"
        form = "re-read per update" if reread else "kept in memory"
        self.label = f"bare App ({codec}, {form})"

    def run(self, lifecycles: int) -> None:
        app, reread = self.app, self.reread
        for _ in range(lifecycles):
            counter = Counter()
            app.save(counter)
            for _ in range(COMMANDS_PER_LIFECYCLE - 1):
                if reread:
                    counter = app.repository.get(counter.id)
                counter.increment()
                app.save(counter)

    def close(self) -> None:
        self.app.close()


@dataclass
class Measurement:
    workload: Workload
    lifecycles: int = 0
    rounds: list[float] = field(default_factory=list)
    """Seconds per interleaved round; every workload runs the same lifecycles in a round."""

    @property
    def seconds(self) -> float:
        return sum(self.rounds)

    @property
    def commands(self) -> int:
        return self.lifecycles * COMMANDS_PER_LIFECYCLE

    @property
    def rate(self) -> float:
        return self.commands / self.seconds if self.seconds else 0.0

    def ratio_to(self, baseline: "Measurement") -> tuple[float, float, float]:
        """This rate ÷ the baseline's: the median, lowest and highest over the rounds.

        Each round's pair ran back to back, so a load spike on a shared machine moves one
        round's ratio, not the median, whereas it would move a ratio of the run's totals.
        """
        per_round = [theirs / ours for ours, theirs in zip(self.rounds, baseline.rounds,
                                                           strict=True)]
        return statistics.median(per_round), min(per_round), max(per_round)


@dataclass
class StoreResult:
    store: str
    desk: Measurement
    baselines: list[Measurement] = field(default_factory=list)

    @property
    def primary(self) -> Measurement:
        return self.baselines[0]


# -- stores ------------------------------------------------------------------------------------


def postgres_answers() -> bool:
    try:
        psycopg.connect(POSTGRES_DSN, connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


@contextlib.contextmanager
def fresh_sqlite() -> Iterator[str]:
    directory = Path(tempfile.mkdtemp(prefix="tandem-bench-"))
    try:
        yield f"sqlite:///{directory / 'store.db'}"  # absolute: sqlite:////tmp/...
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def fresh_postgres() -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_DSN}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


def selected_stores(only: str | None, console: Console) -> Iterator[str]:
    """The stores to measure: `--only`'s, and PostgreSQL only when a server answers."""
    for store in STORES:
        if only and store != only:
            continue
        if store == "postgres" and not postgres_answers():
            console.print("postgres: skipped, no PostgreSQL server answers on 127.0.0.1:5432")
            continue
        yield store


def fresh_store(store: str) -> contextlib.AbstractContextManager[str]:
    return fresh_sqlite() if store == "sqlite" else fresh_postgres()


def opened(stack: contextlib.ExitStack, store: str,
           make: Callable[[str], Workload]) -> Workload:
    """A workload on its own empty store, closed (and the store removed) with `stack`."""
    workload = make(stack.enter_context(fresh_store(store)))
    stack.callback(workload.close)
    return workload


def workload_factories() -> list[Callable[[str], Workload]]:
    """ServiceDesk first, then the baselines, the primary one first."""
    return [
        ServiceDeskWorkload,
        lambda url: BareWorkload(url, msgpack=False, reread=True),
        lambda url: BareWorkload(url, msgpack=False, reread=False),
        lambda url: BareWorkload(url, msgpack=True, reread=False),
        lambda url: BareWorkload(url, msgpack=True, reread=True),
    ]


# -- measuring ---------------------------------------------------------------------------------


def measure_store(store: str, lifecycles: int, rounds: int) -> StoreResult:
    with contextlib.ExitStack() as stack:
        workloads = [opened(stack, store, make) for make in workload_factories()]
        for workload in workloads:
            workload.run(WARMUP_LIFECYCLES)
        measurements = [Measurement(workload) for workload in workloads]
        rounds = min(rounds, lifecycles)
        shares = [lifecycles // rounds + (1 if i < lifecycles % rounds else 0)
                  for i in range(rounds)]
        for share in shares:
            for measurement in measurements:
                started = time.perf_counter()
                measurement.workload.run(share)
                measurement.rounds.append(time.perf_counter() - started)
                measurement.lifecycles += share
        return StoreResult(store, measurements[0], measurements[1:])


def profile_store(store: str, lifecycles: int, console: Console, top: int = 25) -> None:
    """cProfile ServiceDesk and the primary baseline on `store`; print the top costs."""
    for make in workload_factories()[:2]:
        with contextlib.ExitStack() as stack:
            workload = opened(stack, store, make)
            workload.run(WARMUP_LIFECYCLES)
            profiler = cProfile.Profile()
            profiler.enable()
            workload.run(lifecycles)
            profiler.disable()
            for order in ("tottime", "cumulative"):
                buffer = io.StringIO()
                stats = pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(order)
                stats.print_stats(top)
                console.rule(f"{store}: {workload.label}, {lifecycles} lifecycles, by {order}")
                console.print(buffer.getvalue(), markup=False, highlight=False)


# -- reporting ---------------------------------------------------------------------------------


def results_table(results: Sequence[StoreResult]) -> Table:
    table = Table(
        title="ServiceDesk vs bare eventsourcing Application (one save per command)",
        caption=escape("ratio: ServiceDesk's commands/s ÷ the row's, median of the interleaved "
                       "rounds [lowest..highest]; target ≥ 0.8 against the [primary] baseline"),
    )
    table.add_column("store")
    table.add_column("scenario", no_wrap=True)
    table.add_column("commands", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("commands/s", justify="right")
    table.add_column("ratio [range]", justify="right")
    for result in results:
        rows = [result.desk, *result.baselines]
        for index, measurement in enumerate(rows):
            if measurement is result.desk:
                ratio = "—"
            else:
                overall, lowest, highest = result.desk.ratio_to(measurement)
                ratio = escape(f"{overall:.2f} [{lowest:.2f}..{highest:.2f}]")
            table.add_row(
                result.store if index == 0 else "",
                escape(measurement.workload.label
                       + (" [primary]" if measurement is result.primary else "")),
                f"{measurement.commands:,}",
                f"{measurement.seconds:.2f}",
                f"{measurement.rate:,.0f}",
                ratio,
                end_section=index == len(rows) - 1,
            )
    return table


def verdicts(results: Sequence[StoreResult]) -> list[str]:
    lines: list[str] = []
    for result in results:
        ratio = result.desk.ratio_to(result.primary)[0]
        state = "meets" if ratio >= TARGET_RATIO else "BELOW"
        reread = result.baselines[1]
        lines.append(
            f"{result.store}: ServiceDesk {result.desk.rate:,.0f} commands/s; "
            f"{result.primary.workload.label} {result.primary.rate:,.0f} saves/s -> ratio "
            f"{ratio:.2f} ({state} the {TARGET_RATIO} target); "
            f"{reread.workload.label} {reread.rate:,.0f} saves/s -> ratio "
            f"{result.desk.ratio_to(reread)[0]:.2f}")
    return lines


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = benchmark_parser("benchmarks", __doc__,
                              quick=f"{QUICK_LIFECYCLES} lifecycles per workload, a smoke run")
    parser.add_argument("--lifecycles", type=int, metavar="N",
                        help="lifecycles (of 5 commands) per workload; overrides the default")
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help=f"interleaved rounds the lifecycles are split into ({ROUNDS})")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile ServiceDesk and the primary baseline instead of timing")
    arguments = parser.parse_args(argv)
    if arguments.lifecycles is not None and arguments.lifecycles < 1:
        parser.error("--lifecycles must be at least 1")
    if arguments.rounds < 1:
        parser.error("--rounds must be at least 1")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    console = titled_console(
        f"{versions()}; {COMMANDS_PER_LIFECYCLE} commands (saves) per lifecycle, "
        f"{WARMUP_LIFECYCLES} warm-up lifecycles per workload, "
        f"{arguments.rounds} interleaved rounds")
    results: list[StoreResult] = []
    for store in selected_stores(arguments.only, console):
        lifecycles = arguments.lifecycles or (
            QUICK_LIFECYCLES if arguments.quick else DEFAULT_LIFECYCLES[store])
        if arguments.profile:
            profile_store(store, lifecycles, console)
            continue
        console.print(f"{store}: {lifecycles} lifecycles per workload ...")
        started = time.perf_counter()
        results.append(measure_store(store, lifecycles, arguments.rounds))
        console.print(f"{store}: section took {time.perf_counter() - started:.1f} s; "
                      f"{load_note()}", highlight=False)
    if results:
        console.print(results_table(results))
        for line in verdicts(results):
            console.print(line, highlight=False)
    return 0
