"""`tandem projections ...`: read-model status, catch-up and blue/green rebuilds."""

import time
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from adapters.cli.context import console, print_json, print_rows, session
from domain.errors import ValidationFailed
from projections.runner import ProjectionRunner

app = typer.Typer(help="Read models: status, catch-up, rebuild.", no_args_is_help=True)
STATUS_COLUMNS = ["name", "code_version", "serving_version", "generation", "position", "lag",
                  "rebuild_needed"]


@app.command()
def status(ctx: typer.Context,
           json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Each projection: version in code and serving, position, lag, whether to rebuild."""
    rows = session(ctx).runner.status()
    if json:
        print_json(rows)
    else:
        print_rows(rows, STATUS_COLUMNS, "Projections")


@app.command()
def run(ctx: typer.Context,
        follow: Annotated[bool, typer.Option(help="Keep following new events.")] = False,
        interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 1.0) -> None:
    """Catch every projection up with the event store (and follow it with --follow)."""
    runner = session(ctx).runner
    applied = runner.catch_up()
    typer.echo(f"caught up: {applied} events read")
    while follow:
        time.sleep(interval)
        runner.catch_up()


@app.command()
def rebuild(ctx: typer.Context,
            name: Annotated[str | None, typer.Argument(help="The projection to rebuild.")] = None,
            all_: Annotated[bool, typer.Option("--all", help="Rebuild every projection.")]
            = False) -> None:
    """Build the code's version into new tables while the old ones serve, then switch."""
    runner = session(ctx).runner
    if all_ == (name is not None):
        raise ValidationFailed("name", "give a projection name or --all, not both or neither")
    names = list(runner.projections) if all_ else [str(name)]
    for wanted in names:
        if wanted not in runner.projections:
            raise ValidationFailed("name", f"no projection {wanted!r} "
                                           f"(known: {', '.join(runner.projections)})")
    _rebuild(runner, names)


def _rebuild(runner: ProjectionRunner, names: list[str]) -> None:
    """One pass over the log for all of them, with a progress bar (events/s, time left)."""
    started, label = time.perf_counter(), ", ".join(names)
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(),
                  TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
                  TextColumn("{task.fields[rate]:,.0f} events/s"), TimeRemainingColumn(),
                  console=console, transient=not console.is_terminal) as progress:
        task = progress.add_task(label, total=runner.log.max_notification_id() or 0, rate=0.0)

        def report(position: int, last: int) -> None:
            rate = position / max(time.perf_counter() - started, 1e-9)
            progress.update(task, completed=position, total=last, rate=rate)

        generations = runner.rebuild_all(names, progress=report)
    elapsed = time.perf_counter() - started
    for generation in generations:
        typer.echo(f"{generation.name}: generation {generation.generation} "
                   f"(version {generation.version}) serving at position {generation.position} "
                   f"after {elapsed:.1f} s")
