"""`tandem sla tick` over 100,000 open incidents: how long a monitor pass takes, per store.

Seeding: 100,000 incidents are opened through the aggregates' own methods (`Incident.open`,
`assign`), a thousand records and their numbers per `desk.save`, all at Monday 09:00 UTC, then
the read models are caught up once (timed: "catch-up"). 1% are P1 and 9% P2, left unassigned
so that their response clocks run; the other 90% are P4/P5, assigned, with resolution targets
of days. The monitor then runs three passes, each what `tandem sla tick` does after its
catch-up, with the clock at:

* 09:01, nothing due: the pass is one index range query (state, alert_at) over 200,000 clocks
  (its time is the figure; a rate would be meaningless);
* 09:08, the P1s' 50% response warnings are due: 1% of the incidents get one event each;
* 09:16, the P1s' 75% and breach (with its escalation, in the same save) and the P2s' 50% are
  due: 11% of the incidents get a recording (one command each).

Rates: incidents watched ÷ seconds of the pass, and recordings (commands) ÷ seconds. The baseline,
measured in the same run on the same store: plain `add_incident_note` commands on the same
incidents (a command that loads an incident and saves one event, as the monitor's does);
"x command" is the monitor's recording rate ÷ that rate (each recording also reads its clock
and computes the threshold's instant).
"""

import argparse
import contextlib
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from rich.console import Console
from rich.table import Table

from adapters.bootstrap import open_read_store, open_service_desk, projection_runner
from adapters.config import TandemConfig
from adapters.sla_monitor import SlaMonitor
from benchmarks.options import (
    benchmark_parser,
    known_arguments,
    load_note,
    titled_console,
    versions,
)
from benchmarks.service_desk import fresh_store, selected_stores
from domain.aggregate import Stamp
from domain.incident import Channel, Incident
from domain.numbering import INCIDENT_PREFIX, NumberSequence
from domain.service_desk import ServiceDesk

DEFAULT_INCIDENTS = 100_000
QUICK_INCIDENTS = 5_000
PER_SAVE = 1_000
BASELINE_COMMANDS = 1_000
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSES = (("nothing due", 1), ("1% due", 8), ("11% due", 16))
"""(label, minutes after the incidents were opened)."""


class Clock:
    """The desk's clock, moved by the benchmark from pass to pass."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def seed(desk: ServiceDesk, incidents: int) -> list[str]:
    """Open `incidents` incidents at START, PER_SAVE per save; their numbers."""
    stamp = Stamp(actor="monitor:loader", at=START)
    sequence = NumberSequence.start(prefix=INCIDENT_PREFIX, stamp=stamp)
    numbers = []
    for first in range(0, incidents, PER_SAVE):
        records = []
        for ordinal in range(first, min(incidents, first + PER_SAVE)):
            share = ordinal % 100
            impact, urgency = (1, 1) if share == 0 else (1, 2) if share < 10 else (3, 2 + share % 2)
            record_id = uuid4()
            incident = Incident.open(
                id=record_id, number=sequence.issue(record=record_id, stamp=stamp),
                title=f"Disk almost full on host {ordinal}", service="storage",
                category=None, subcategory=None, impact=impact, urgency=urgency,
                description="", caller=None, channel=Channel.MONITORING, stamp=stamp)
            if share >= 10:
                incident.assign(group="storage", assignee=None, stamp=stamp)
            records.append(incident)
            numbers.append(incident.number)
        desk.save(sequence, *records)
    return numbers


def measure(store: str, incidents: int, console: Console) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    clock = Clock()
    with fresh_store(store) as url, contextlib.closing(open_service_desk(url, clock=clock)) as desk:
        started = time.perf_counter()
        numbers = seed(desk, incidents)
        console.print(f"{store}: {incidents:,} incidents seeded in "
                      f"{time.perf_counter() - started:.1f} s", highlight=False)
        read_store = open_read_store(url)
        config = TandemConfig()
        runner = projection_runner(desk, read_store, config=config)
        started = time.perf_counter()
        events = runner.catch_up()
        seconds = time.perf_counter() - started
        rows.append((store, "catch-up, 5 read models", "", f"{seconds:.2f}",
                     f"{events / seconds:,.0f} events/s", "", ""))
        monitor = SlaMonitor(desk, read_store, config.sla.rules())
        clock.now = START + timedelta(minutes=30)  # the baseline's notes come after the ticks
        started = time.perf_counter()
        for number in numbers[:BASELINE_COMMANDS]:
            desk.add_incident_note(number, actor="bench", text="checked")
        command_rate = BASELINE_COMMANDS / (time.perf_counter() - started)
        rows.append((store, "baseline: add_incident_note", "", "",
                     f"{command_rate:,.0f} commands/s", "", ""))
        runner.catch_up()
        for label, minutes in PASSES:
            clock.now = START + timedelta(minutes=minutes)
            started = time.perf_counter()
            recorded = monitor.tick(clock.now)
            seconds = time.perf_counter() - started
            recording = len(recorded) / seconds
            rows.append((store, f"tick, {label}", f"{len(recorded):,}", f"{seconds:.4f}",
                         f"{incidents / seconds:,.0f} incidents/s" if recorded else "—",
                         f"{recording:,.0f}/s" if recorded else "—",
                         f"{recording / command_rate:.2f}" if recorded else "—"))
            started = time.perf_counter()
            applied = runner.catch_up()
            console.print(f"{store}: {label}: {len(recorded):,} recorded; the catch-up after "
                          f"it applied {applied:,} events in {time.perf_counter() - started:.2f}"
                          f" s", highlight=False)
        read_store.close()
    return rows


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = benchmark_parser(
        "benchmarks.sla", __doc__,
        quick=f"{QUICK_INCIDENTS:,} incidents instead of {DEFAULT_INCIDENTS:,}")
    parser.add_argument("--incidents", type=int, metavar="N", help="open incidents to watch")
    return known_arguments(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    incidents = arguments.incidents or (QUICK_INCIDENTS if arguments.quick
                                        else DEFAULT_INCIDENTS)
    console = titled_console(f"{versions()}; SLA monitor over {incidents:,} open incidents")
    table = Table(title=f"tandem sla tick over {incidents:,} open incidents "
                        "(2 clocks each)")
    for column in ("store", "pass", "recorded", "seconds", "rate", "recording", "x command"):
        table.add_column(column, justify="left" if column in ("store", "pass") else "right")
    for store in selected_stores(arguments.only, console):
        for row in measure(store, incidents, console):
            table.add_row(*row)
    console.print(table)
    console.print(f"{load_note()}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
