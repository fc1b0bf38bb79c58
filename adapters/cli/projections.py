"""`tandem projections ...`: read-model status, catch-up and blue/green rebuilds."""

import logging
import os
import signal
import time
from enum import StrEnum
from typing import Annotated

import typer

from adapters.bootstrap import KafkaSettings, Settings, kafka_projector, open_projector_store
from adapters.cli.context import console, print_json, print_rows, session
from adapters.kafka import PROJECTOR_BATCH
from domain.errors import ValidationFailed
from projections.runner import ProjectionRunner, RebuildInProgress

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


class Source(StrEnum):
    STORE = "store"
    KAFKA = "kafka"


@app.command()
def run(ctx: typer.Context,
        follow: Annotated[bool, typer.Option(help="Keep following new events.")] = False,
        interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 1.0,
        source: Annotated[Source, typer.Option(
            help="Where events come from: the event store, or the Kafka topic (as a consumer "
                 "group member, until stopped; --follow and --interval do not apply).")]
        = Source.STORE,
        bootstrap: Annotated[str | None, typer.Option(
            help="Kafka: HOST:PORT of a broker (default: TANDEM_KAFKA_BOOTSTRAP or "
                 "localhost:9092).")] = None,
        topic: Annotated[str | None, typer.Option(
            help="Kafka: topic (default: TANDEM_KAFKA_TOPIC or tandem.events).")] = None,
        group: Annotated[str | None, typer.Option(
            help="Kafka: consumer group; processes in one group split the partitions "
                 "(default: TANDEM_KAFKA_GROUP or tandem-projector).")] = None,
        batch: Annotated[int, typer.Option(
            min=1, help="Kafka: most records applied per transaction.")] = PROJECTOR_BATCH,
        session_timeout: Annotated[float, typer.Option(
            min=1, help="Kafka: seconds without heartbeat before the group moves a "
                        "member's partitions to the others.")] = 10.0) -> None:
    """Catch every projection up with the event store (and follow it with --follow), after
    rebuilding those an older version built; or feed them from Kafka (--source kafka)."""
    if source is Source.KAFKA:
        _run_from_kafka(bootstrap=bootstrap, topic=topic, group=group, batch=batch,
                        session_timeout=session_timeout)
        return
    session(ctx).upgrade_read_models()
    runner = session(ctx).runner
    applied = runner.catch_up()
    typer.echo(f"caught up: {applied} events read")
    while follow:
        time.sleep(interval)
        runner.catch_up()


def _run_from_kafka(*, bootstrap: str | None, topic: str | None, group: str | None,
                    batch: int, session_timeout: float) -> None:
    """Until SIGTERM or Ctrl-C, which finish the batch in hand and leave the group."""
    from adapters.kafka.topics import ensure_event_topics  # the Kafka client: only here

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("tandem").setLevel(logging.INFO)
    defaults = KafkaSettings.from_environment()
    servers, name = bootstrap or defaults.bootstrap, topic or defaults.topic
    # Created here too (TANDEM_KAFKA_PARTITIONS) when the projector starts before the relay.
    ensure_event_topics(servers, name, partitions=defaults.partitions)
    store = open_projector_store(Settings.from_environment().database_url)
    projector = kafka_projector(store, bootstrap=servers, topic=name,
                                group=group or defaults.group, batch_size=batch,
                                session_timeout_s=session_timeout)
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda number, frame: stopping.append(number))
    typer.echo(f"projector: {projector.topic} as group {group or defaults.group}", err=True)
    try:
        projector.run(stop=lambda: bool(stopping))
    except KeyboardInterrupt:
        pass
    finally:
        projector.close()
        store.close()
    typer.echo(f"applied {projector.applied} events", err=True)


@app.command()
def rebuild(ctx: typer.Context,
            name: Annotated[str | None, typer.Argument(help="The projection to rebuild.")] = None,
            all_: Annotated[bool, typer.Option("--all", help="Rebuild every projection.")]
            = False,
            workers: Annotated[int | None, typer.Option(
                min=1, help="Processes sharing the projections' work (default: one per CPU, "
                            "at most one per projection; 1 = all in this process).")]
            = None) -> None:
    """Build the code's version into new tables while the old ones serve, then switch."""
    runner = session(ctx).runner
    if all_ == (name is not None):
        raise ValidationFailed("name", "give a projection name or --all, not both or neither")
    names = list(runner.projections) if all_ else [str(name)]
    for wanted in names:
        if wanted not in runner.projections:
            raise ValidationFailed("name", f"no projection {wanted!r} "
                                           f"(known: {', '.join(runner.projections)})")
    _rebuild(runner, names, workers=workers or os.cpu_count() or 1)


def _rebuild(runner: ProjectionRunner, names: list[str], *, workers: int) -> None:
    """One pass over the log per worker process, with a progress bar (events/s, time left)."""
    # rich's progress bar and multiprocessing: only rebuilds need them
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from adapters.rebuild_workers import RebuildFailed, rebuild_in_workers

    started, label = time.perf_counter(), ", ".join(names)
    out = console()
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(),
                  TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
                  TextColumn("{task.fields[rate]:,.0f} events/s"), TimeRemainingColumn(),
                  console=out, transient=not out.is_terminal) as progress:
        task = progress.add_task(label, total=runner.log.max_notification_id() or 0, rate=0.0)

        def report(position: int, last: int) -> None:
            rate = position / max(time.perf_counter() - started, 1e-9)
            progress.update(task, completed=position, total=last, rate=rate)

        try:
            generations = rebuild_in_workers(runner, Settings.from_environment().database_url,
                                             names, workers=workers, progress=report)
        except RebuildFailed as failed:
            typer.echo(f"tandem: rebuild failed: {failed}", err=True)
            raise typer.Exit(1) from None
        except RebuildInProgress as busy:
            typer.echo(f"tandem: refused: {busy}", err=True)
            raise typer.Exit(2) from None
    elapsed = time.perf_counter() - started
    for generation in generations:
        typer.echo(f"{generation.name}: generation {generation.generation} "
                   f"(version {generation.version}) serving at position {generation.position} "
                   f"after {elapsed:.1f} s")
