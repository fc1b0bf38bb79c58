"""`tandem sla ...`: each incident's clocks, one monitor pass, compliance reports."""

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any

import typer

from adapters.cli.context import print_json, print_rows, session
from adapters.sla_monitor import SlaMonitor
from domain.errors import ValidationFailed
from domain.service_desk import system_clock
from projections import sla_reads

app = typer.Typer(help="SLA clocks: show, monitor, report.", no_args_is_help=True)
SHOW_COLUMNS = ["number", "target", "state", "priority", "due_at", "elapsed_seconds",
                "remaining_seconds", "percent", "breached"]
REPORT_COLUMNS = ["key", "incidents", "met", "breached", "compliance_percent",
                  "mean_response_seconds", "p90_response_seconds", "mean_resolution_seconds",
                  "p90_resolution_seconds"]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


class Grouping(StrEnum):
    PRIORITY = "priority"
    GROUP = "group"
    SERVICE = "service"


@app.command()
def show(ctx: typer.Context,
         refs: Annotated[list[str], typer.Argument(help="Incident numbers or UUIDs.")],
         json: Json = False) -> None:
    """Each clock of the given incidents: state, due time, elapsed business time, percent."""
    current = session(ctx)
    ids = [str(current.desk.incident(ref).id) for ref in refs]
    store = current.read_models()
    views = sla_reads.incident_clocks(store, current.config.sla.rules(), ids, system_clock())
    if json:
        print_json(views)
    else:
        print_rows(views, SHOW_COLUMNS, "SLA clocks")


@app.command()
def tick(ctx: typer.Context, json: Json = False) -> None:
    """One monitor pass: record the warnings and breaches reached by now (and escalate)."""
    current = session(ctx)
    store = current.read_models()
    monitor = SlaMonitor(current.desk, store, current.config.sla.rules())
    recorded = monitor.tick(system_clock())
    if json:
        print_json([{"number": r.number, "target": r.target, "threshold": r.threshold,
                     "breach": r.breach, "reached_at": r.reached_at,
                     "escalated_to": r.escalated_to} for r in recorded])
        return
    for item in recorded:
        typer.echo(item.line())
    typer.echo(f"{len(recorded)} recorded")


@app.command()
def report(ctx: typer.Context,
           from_: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, UTC).")],
           to: Annotated[str, typer.Option("--to", help="Last day, included.")],
           by: Annotated[Grouping | None, typer.Option(help="Group the incidents.")] = None,
           json: Json = False) -> None:
    """Compliance of the incidents opened in the period: met, breached, mean and p90 times."""
    start, end = _day("from", from_), _day("to", to) + timedelta(days=1)
    if end <= start:
        raise ValidationFailed("to", f"{to} is before {from_}")
    current = session(ctx)
    store = current.read_models()
    result = sla_reads.report(store, current.config.sla.rules(), start=start, end=end,
                              by=by.value if by else None, now=system_clock())
    if json:
        print_json(result)
        return
    rows = [_flat({"key": "(all)", **result["total"]})]
    rows += [_flat(group) for group in result["groups"]]
    print_rows(rows, REPORT_COLUMNS, f"SLA compliance, incidents opened {from_} to {to}")


def _day(field: str, text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    except ValueError:
        raise ValidationFailed(field, f"{text!r} is not a date (YYYY-MM-DD)") from None


def _flat(summary: dict[str, Any]) -> dict[str, Any]:
    flat = dict(summary)
    for target in ("response", "resolution"):
        flat[f"mean_{target}_seconds"] = summary[target]["mean_seconds"]
        flat[f"p90_{target}_seconds"] = summary[target]["p90_seconds"]
    return flat
