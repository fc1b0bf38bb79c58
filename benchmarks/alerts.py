"""Alert intake: alerts/s at 95% duplicates, against plain commands/s on the same store.

Per store (SQLite, PostgreSQL), each on its own empty store:

* intake: 20,000 generic alert payloads over 1,000 keys (so 95% are repeats of a key already
  seen), interleaved as a storm would be; each payload parsed (pydantic + drain3
  fingerprint) and handed to `AlertIntake.receive` one at a time, then `close()` (the
  final flush) — all timed. The default settings apply: a flush every 10 s or 10,000 repeats.
  Rate = alerts / seconds; target >= 2,000 alerts/s on SQLite.
* baseline: `ServiceDesk.add_incident_note` by number, the plainest command (load, one
  event, save), 2,000 times over 200 incidents. Ratio = alerts/s ÷ notes/s: how many alerts the
  intake absorbs for the cost of one ordinary command.

`python -m benchmarks.alerts [--quick] [--only sqlite|postgres]`; `python -m benchmarks` runs
it after the others.
"""

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from adapters.alerts.generic import parse_generic
from adapters.alerts.intake import AlertIntake
from adapters.alerts.settings import AlertSettings
from adapters.bootstrap import open_service_desk
from benchmarks.options import benchmark_parser, known_arguments, titled_console
from benchmarks.service_desk import fresh_store, selected_stores

ALERTS, KEYS, NOTES = 20_000, 1_000, 2_000
QUICK = (2_000, 100, 200)
NOTES_PER_INCIDENT = 10
"""The baseline's incidents stay short, as the storm's do."""
TARGET = 2_000.0
"""alerts/s on SQLite"""


@dataclass
class Figures:
    store: str
    alerts: int
    alert_seconds: float
    events: int
    notes: int
    note_seconds: float

    @property
    def alert_rate(self) -> float:
        return self.alerts / self.alert_seconds

    @property
    def note_rate(self) -> float:
        return self.notes / self.note_seconds


def payloads(alerts: int, keys: int) -> list[dict[str, Any]]:
    """Each key's first alert early, its repeats spread over the whole storm."""
    return [{"source": "prometheus", "dedup_key": f"node-{index % keys}/cpu",
             "service": f"service-{index % keys % 20}",
             "summary": f"CPU above {90 + index % 10}% on node-{index % keys}",
             "severity": "warning", "fired_at": "2026-03-02T08:00:00Z"}
            for index in range(alerts)]


def measure(store: str, *, alerts: int, keys: int, notes: int) -> Figures:
    with contextlib.ExitStack() as stack:
        desk = open_service_desk(stack.enter_context(fresh_store(store)))
        stack.callback(desk.close)
        intake = AlertIntake(desk, settings=AlertSettings())
        storm = payloads(alerts, keys)
        started = time.perf_counter()
        for payload in storm:
            intake.receive(parse_generic(payload))
        intake.close()
        alert_seconds = time.perf_counter() - started
        events = desk.recorder.max_notification_id() or 0
    with contextlib.ExitStack() as stack:
        desk = open_service_desk(stack.enter_context(fresh_store(store)))
        stack.callback(desk.close)
        numbers = [desk.open_incident(actor="bench", title="Baseline", service="bench").number
                   for _ in range(notes // NOTES_PER_INCIDENT)]
        started = time.perf_counter()
        for index in range(notes):
            desk.add_incident_note(numbers[index % len(numbers)], actor="bench",
                                   text=f"note {index}")
        note_seconds = time.perf_counter() - started
    return Figures(store, alerts, alert_seconds, events, notes, note_seconds)


def report(figures: Sequence[Figures], console: Console) -> None:
    table = Table(title="Alert intake at 95% duplicates vs add_incident_note commands")
    for column in ("store", "alerts", "seconds", "alerts/s", "events written", "notes/s",
                   "ratio"):
        table.add_column(column, justify="left" if column == "store" else "right")
    for f in figures:
        table.add_row(f.store, f"{f.alerts:,}", f"{f.alert_seconds:.2f}",
                      f"{f.alert_rate:,.0f}", f"{f.events:,}", f"{f.note_rate:,.0f}",
                      f"{f.alert_rate / f.note_rate:.1f}")
    console.print(table)
    for f in figures:
        verdict = ""
        if f.store == "sqlite":
            verdict = " (meets" if f.alert_rate >= TARGET else " (BELOW"
            verdict += f" the {TARGET:,.0f} alerts/s target)"
        console.print(f"{f.store}: {f.alert_rate:,.0f} alerts/s{verdict}; "
                      f"{f.alert_rate / f.note_rate:.1f}x the add_incident_note rate",
                      highlight=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = benchmark_parser("benchmarks.alerts", __doc__,
                              quick=f"{QUICK[0]:,} alerts over {QUICK[1]} keys",
                              hidden_profile=True)
    arguments = known_arguments(parser, argv)
    if arguments.profile:
        return 0  # `--profile` profiles the ServiceDesk benchmark only
    alerts, keys, notes = QUICK if arguments.quick else (ALERTS, KEYS, NOTES)
    console = titled_console("Alert intake benchmark")
    figures = [measure(store, alerts=alerts, keys=keys, notes=notes)
               for store in selected_stores(arguments.only, console)]
    if figures:
        report(figures, console)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
