"""Commands on a long record: add_incident_note on a 2,000-event incident against fresh ones.

Per store (SQLite, PostgreSQL), on one empty store: an incident of 2,000 events (its notes
saved at once, as a long-firing alert's occurrences or a busy major incident's notes pile up)
and 50 fresh incidents (just opened). One ServiceDesk then adds notes by number, in
interleaved rounds: to the long incident, and round-robin to the fresh ones (which stay
under 30 events). Ratio = the long incident's commands/s ÷ the fresh ones', the median of the
rounds' ratios: 1.0 when a command costs the same however long its record (domain/records.py).
The long incident's first command in the process, which loads it from its latest snapshot,
falls in the warm-up.

`python -m benchmarks.long_records [--quick] [--only sqlite|postgres]`; `python -m benchmarks`
runs it after the ServiceDesk benchmark.
"""

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters.bootstrap import open_service_desk
from benchmarks.options import benchmark_parser, known_arguments, titled_console
from benchmarks.service_desk import fresh_store, selected_stores
from domain.service_desk import ServiceDesk

LONG_EVENTS = 2_000
FRESH_INCIDENTS = 50
COMMANDS, QUICK_COMMANDS = 1_000, 200
"""Notes per workload (so the long incident ends at 3,000 events, or 2,200)."""
ROUNDS = 10
WARMUP = 5


@dataclass
class Figures:
    store: str
    commands: int = 0
    long_rounds: list[float] = field(default_factory=list)
    fresh_rounds: list[float] = field(default_factory=list)
    """Seconds per round; both workloads run the same number of commands in a round."""

    @property
    def long_rate(self) -> float:
        return self.commands / sum(self.long_rounds)

    @property
    def fresh_rate(self) -> float:
        return self.commands / sum(self.fresh_rounds)

    def ratio(self) -> tuple[float, float, float]:
        """Long ÷ fresh commands/s: the median, lowest and highest of the rounds."""
        per_round = [fresh / long for long, fresh in zip(self.long_rounds, self.fresh_rounds,
                                                         strict=True)]
        return statistics.median(per_round), min(per_round), max(per_round)


def long_incident(desk: ServiceDesk) -> str:
    """An incident of LONG_EVENTS events, its notes saved in one go (no command per note)."""
    incident = desk.open_incident(actor="monitor:zabbix", title="Core switch flapping",
                                  service="network")
    stamp = desk._stamp("monitor:zabbix")
    while incident.version < LONG_EVENTS:
        incident.add_note(text=f"Link down on port {incident.version % 48}", stamp=stamp)
    desk.save(incident)
    return incident.number


def notes(desk: ServiceDesk, numbers: Sequence[str], count: int) -> float:
    """Seconds for `count` add_incident_note commands, round-robin over `numbers`."""
    started = time.perf_counter()
    for n in range(count):
        desk.add_incident_note(numbers[n % len(numbers)], actor="bob", text="Still flapping")
    return time.perf_counter() - started


def measure(store: str, commands: int) -> Figures:
    figures = Figures(store)
    share = commands // ROUNDS
    with fresh_store(store) as url:
        builder = open_service_desk(url)
        long = [long_incident(builder)]
        fresh = [builder.open_incident(actor="sd", title=f"Printer {n} jammed",
                                       service="printing").number
                 for n in range(FRESH_INCIDENTS)]
        builder.close()
        desk = open_service_desk(url)  # holds nothing yet: the warm-up loads them
        try:
            notes(desk, long, WARMUP)
            notes(desk, fresh, FRESH_INCIDENTS)
            for _ in range(ROUNDS):
                figures.long_rounds.append(notes(desk, long, share))
                figures.fresh_rounds.append(notes(desk, fresh, share))
                figures.commands += share
        finally:
            desk.close()
    return figures


def report(results: Sequence[Figures], console: Console) -> None:
    table = Table(title=f"add_incident_note on a {LONG_EVENTS:,}-event incident vs fresh ones",
                  caption=escape("ratio: long ÷ fresh commands/s, median of the interleaved "
                                 "rounds [lowest..highest]"))
    for column in ("store", "commands each", "long: commands/s", "fresh: commands/s",
                   "ratio [range]"):
        table.add_column(escape(column), justify="left" if column == "store" else "right")
    for f in results:
        median, lowest, highest = f.ratio()
        table.add_row(f.store, f"{f.commands:,}", f"{f.long_rate:,.0f}", f"{f.fresh_rate:,.0f}",
                      escape(f"{median:.2f} [{lowest:.2f}..{highest:.2f}]"))
    console.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = benchmark_parser("benchmarks.long_records", __doc__,
                              quick=f"{QUICK_COMMANDS} notes each", hidden_profile=True)
    arguments = known_arguments(parser, argv)
    if arguments.profile:
        return 0  # `--profile` profiles the ServiceDesk benchmark only
    console = titled_console("Long-record benchmark")
    commands = QUICK_COMMANDS if arguments.quick else COMMANDS
    results = [measure(store, commands) for store in selected_stores(arguments.only, console)]
    if results:
        report(results, console)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
