"""Audit: `tandem audit verify` throughput and `tandem audit state --as-of` latency.

Per store (SQLite, PostgreSQL):

* a log of 200,000 events (incident lifecycles and a few problems, each record with its
  number), built through the aggregates' own methods and saved many records per `desk.save`
  so that it takes seconds; then sealed once (`ServiceDesk.seal_audit_log`), then verified
  whole (`adapters.audit.verify.verify_store`: every chain, the seal, every number).
  Rate = events in the log / seconds; target >= 50,000 events/s for the verification.
* three incidents with histories of 10, 1,000 and 5,000 events in a fresh store, and the
  state as of 200 random moments of each (`adapters.audit.history.state_as_of`: binary search
  over point reads, then a load from the nearest snapshot). Target: under 50 ms.

`python -m benchmarks.audit [--quick] [--only sqlite|postgres]`; `python -m benchmarks` runs it
after the ServiceDesk benchmark.
"""

import random
import resource
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from rich.console import Console
from rich.table import Table

from adapters.audit.history import state_as_of
from adapters.audit.verify import verify_store
from adapters.bootstrap import open_service_desk
from benchmarks.options import benchmark_parser, known_arguments, titled_console
from benchmarks.service_desk import fresh_store, selected_stores
from domain.aggregate import Stamp
from domain.incident import Channel, Incident, ResolutionCode
from domain.numbering import INCIDENT_PREFIX, PROBLEM_PREFIX, NumberSequence
from domain.problem import Problem
from domain.service_desk import ServiceDesk

LOG_EVENTS = 200_000
QUICK_LOG_EVENTS = 20_000
HISTORIES = (10, 1_000, 5_000)
SAMPLES = 200
QUICK_SAMPLES = 30
INCIDENTS_PER_SAVE = 500
VERIFY_TARGET = 50_000
"""events/s"""
AS_OF_TARGET_MS = 50.0
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@dataclass
class StoreFigures:
    store: str
    events: int
    build_seconds: float
    seal_seconds: float
    verify_seconds: float
    verify_cpu: tuple[float, float]
    """CPU seconds of the verification: this process, its worker processes."""
    verified: bool
    latencies: dict[int, list[float]]
    """History length -> as-of latencies in seconds."""

    @property
    def verify_rate(self) -> float:
        return self.events / self.verify_seconds


# -- building ----------------------------------------------------------------------------------


def _stamps(start: datetime, step: timedelta, actor: str = "sd.agent") -> Iterator[Stamp]:
    at = start
    while True:
        yield Stamp(actor, at)
        at += step


def build_log(desk: ServiceDesk, events: int) -> int:
    """Incident lifecycles (6 events with the number) and, every 100 incidents, a problem
    linking two of them; saved 500 incidents per call. Returns the events written."""
    clock = _stamps(START, timedelta(seconds=2))
    first = next(clock)
    incidents_seq = NumberSequence.start(prefix=INCIDENT_PREFIX, stamp=first)
    problems_seq = NumberSequence.start(prefix=PROBLEM_PREFIX, stamp=first)
    written, batch = 2, []
    while written < events:
        stamp = next(clock)
        incident_id = uuid4()
        incident = Incident.open(
            id=incident_id, number=incidents_seq.issue(record=incident_id, stamp=stamp),
            title="Outbound mail delayed", service="email", category="email",
            subcategory=None, impact=2, urgency=2, description="Queue backlog on relay 2.",
            caller="carol", channel=Channel.EMAIL, stamp=stamp)
        incident.assign(group="messaging", assignee="bob", stamp=next(clock))
        incident.add_note(text="Relay 2 queue backlog; restarting.", stamp=next(clock))
        incident.resolve(code=ResolutionCode.SOLUTION_PROVIDED, notes="Relay restarted.",
                         stamp=next(clock))
        incident.close(code=None, stamp=next(clock))
        batch.append(incident)
        written += 6
        if len(batch) % 100 == 0:
            stamp = next(clock)
            problem_id = uuid4()
            problem = Problem.open(id=problem_id, description="", service="email",
                                   number=problems_seq.issue(record=problem_id, stamp=stamp),
                                   title="Relays stall under load", stamp=stamp)
            for linked in batch[-2:]:
                linked.link_to_problem(problem=problem.id, problem_number=problem.number,
                                       stamp=stamp)
                problem.link_incident(incident=linked.id, incident_number=linked.number,
                                      stamp=stamp)
            batch.append(problem)  # type: ignore[arg-type]
            written += 6
        if len(batch) >= INCIDENTS_PER_SAVE:
            desk.save(incidents_seq, problems_seq, *batch)
            batch = []
    desk.save(incidents_seq, problems_seq, *batch)
    return written


def build_histories(desk: ServiceDesk) -> dict[int, tuple[str, datetime, datetime]]:
    """One incident per history length, every event a minute apart: number, first, last."""
    sequence = NumberSequence.start(prefix=INCIDENT_PREFIX, stamp=Stamp("sd", START))
    made = {}
    for length in HISTORIES:
        clock = _stamps(START, timedelta(minutes=1), actor="bob")
        incident_id = uuid4()
        stamp = next(clock)
        incident = Incident.open(
            id=incident_id, number=sequence.issue(record=incident_id, stamp=stamp),
            title=f"Long-running incident ({length} events)", service="email", category=None,
            subcategory=None, impact=3, urgency=3, description="", caller=None,
            channel=Channel.SERVICE_DESK, stamp=stamp)
        for n in range(length - 1):
            incident.add_note(text=f"Still watching the relay queue ({n}).", stamp=next(clock))
            if incident.version % 1_000 == 0:
                desk.save(sequence, incident)
        desk.save(sequence, incident)
        made[length] = (incident.number, START, incident.modified_on)
    return made


# -- measuring ---------------------------------------------------------------------------------


def measure(store: str, *, events: int, samples: int, console: Console) -> StoreFigures:
    with fresh_store(store) as url:
        desk = open_service_desk(url)
        started = time.perf_counter()
        written = build_log(desk, events)
        built = time.perf_counter() - started
        console.print(f"{store}: {written:,} events written in {built:.1f} s", highlight=False)
        started = time.perf_counter()
        desk.seal_audit_log(actor="bench")
        sealed = time.perf_counter() - started
        desk.close()
        desk = open_service_desk(url)  # verify as a fresh `tandem audit verify` process would
        cpu_before = _cpu()
        started = time.perf_counter()
        verification = verify_store(desk)
        verified = time.perf_counter() - started
        cpu = tuple(after - before for after, before in zip(_cpu(), cpu_before, strict=True))
        desk.close()
    with fresh_store(store) as url:
        desk = open_service_desk(url)
        histories = build_histories(desk)
        desk.close()
        desk = open_service_desk(url)
        latencies = {length: _as_of_latencies(desk, number, first, last, samples)
                     for length, (number, first, last) in histories.items()}
        desk.close()
    return StoreFigures(store, verification.events, built, sealed, verified,
                        (cpu[0], cpu[1]), verification.ok, latencies)


def _cpu() -> tuple[float, float]:
    """CPU seconds used so far by this process and by its finished child processes."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                        resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _as_of_latencies(desk: ServiceDesk, number: str, first: datetime, last: datetime,
                     samples: int) -> list[float]:
    chance = random.Random(number)
    span = (last - first).total_seconds()
    state_as_of(desk, number, last)  # warm-up: imports, prepared statements
    timings = []
    for _ in range(samples):
        moment = first + timedelta(seconds=chance.uniform(0, span))
        started = time.perf_counter()
        state_as_of(desk, number, moment)
        timings.append(time.perf_counter() - started)
    return timings


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# -- reporting ---------------------------------------------------------------------------------


def report(figures: Sequence[StoreFigures], console: Console) -> None:
    table = Table(title="Audit: verification throughput and as-of latency")
    for column in ("store", "measure", "size", "result", "target"):
        table.add_column(column, justify="left" if column in ("store", "measure") else "right")
    for figure in figures:
        verdict = "" if figure.verified else " (FINDINGS!)"
        table.add_row(figure.store, "verify (chains, seal, numbers)", f"{figure.events:,} events",
                      f"{figure.verify_rate:,.0f} events/s{verdict}",
                      f">= {VERIFY_TARGET:,} events/s")
        main, workers = (seconds / figure.events * 1e6 for seconds in figure.verify_cpu)
        table.add_row("", "verify CPU: this process + workers", f"{figure.events:,} events",
                      f"{main:.1f} + {workers:.1f} µs/event", "")
        table.add_row("", "seal (first, whole log)", f"{figure.events:,} events",
                      f"{figure.events / figure.seal_seconds:,.0f} events/s", "")
        for index, (length, timings) in enumerate(figure.latencies.items()):
            p50, p99 = (_percentile(timings, share) * 1e3 for share in (0.5, 0.99))
            table.add_row(
                "", "state --as-of p50 / p99", f"{length:,} events", f"{p50:.1f} / {p99:.1f} ms",
                f"< {AS_OF_TARGET_MS:.0f} ms",
                end_section=index == len(figure.latencies) - 1)
    console.print(table)
    for figure in figures:
        worst = max(_percentile(t, 0.99) for t in figure.latencies.values()) * 1e3
        console.print(
            f"{figure.store}: verify {figure.verify_rate:,.0f} events/s "
            f"({'meets' if figure.verify_rate >= VERIFY_TARGET else 'BELOW'} the "
            f"{VERIFY_TARGET:,} target); as-of p99 at most {worst:.1f} ms "
            f"({'meets' if worst < AS_OF_TARGET_MS else 'ABOVE'} the "
            f"{AS_OF_TARGET_MS:.0f} ms target)", highlight=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = benchmark_parser("benchmarks.audit", __doc__,
                              quick=f"{QUICK_LOG_EVENTS:,} events and {QUICK_SAMPLES} samples",
                              hidden_profile=True)
    arguments = known_arguments(parser, argv)
    if arguments.profile:
        return 0  # `--profile` profiles the ServiceDesk benchmark only
    console = titled_console("Audit benchmark")
    figures = []
    for store in selected_stores(arguments.only, console):
        figures.append(measure(
            store, events=QUICK_LOG_EVENTS if arguments.quick else LOG_EVENTS,
            samples=QUICK_SAMPLES if arguments.quick else SAMPLES, console=console))
    if figures:
        report(figures, console)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
