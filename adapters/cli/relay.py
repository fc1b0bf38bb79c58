"""`tandem relay kafka`: publish the event log to Kafka, at least once, in order per record."""

import logging
from dataclasses import asdict
from typing import Annotated

import typer

from adapters.bootstrap import KafkaSettings, Settings, kafka_relay, open_read_store
from adapters.cli.context import print_json, print_record, session
from adapters.kafka.positions import relay_lag

app = typer.Typer(help="Publish events to a message broker; the relay's lag.",
                  no_args_is_help=True)


@app.command()
def kafka(
    ctx: typer.Context,
    bootstrap: Annotated[str | None, typer.Option(
        help="HOST:PORT of a broker (default: TANDEM_KAFKA_BOOTSTRAP or localhost:9092).")]
    = None,
    topic: Annotated[str | None, typer.Option(
        help="Topic (default: TANDEM_KAFKA_TOPIC or tandem.events).")] = None,
    partitions: Annotated[int | None, typer.Option(
        min=1, help="Partitions of a topic the relay creates (default 6).")] = None,
    once: Annotated[bool, typer.Option(
        "--once", help="Publish what is stored now, then exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls when idle.")] = 0.5,
) -> None:
    """Follow the event log from the relay's tracked position and publish to Kafka."""
    from adapters.kafka.topics import ensure_event_topics  # the Kafka client: only here

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("tandem").setLevel(logging.INFO)
    defaults = KafkaSettings.from_environment()
    servers = bootstrap or defaults.bootstrap
    name = topic or defaults.topic
    count = partitions or defaults.partitions
    for created in ensure_event_topics(servers, name, partitions=count):
        typer.echo(f"created topic {created} ({count} partitions)", err=True)
    desk = session(ctx).desk
    store = open_read_store(Settings.from_environment().database_url)
    relay = kafka_relay(desk, store, bootstrap=servers, topic=name)
    typer.echo(f"relay {name}: from position {relay.position}, lag {relay.status().lag}",
               err=True)
    try:
        if once:
            relay.catch_up()
        else:
            relay.run(interval=interval)
    finally:
        relay.close()
        store.close()
    status = relay.status()
    typer.echo(f"published {status.published} events; position {status.position}, "
               f"lag {status.lag}")


@app.command()
def status(
    ctx: typer.Context,
    topic: Annotated[str | None, typer.Option(
        help="Topic (default: TANDEM_KAFKA_TOPIC or tandem.events).")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The relay's position, the head of the event log, and the lag between them."""
    name = topic or KafkaSettings.from_environment().topic
    store = open_read_store(Settings.from_environment().database_url)
    try:
        lag = asdict(relay_lag(store, session(ctx).desk.recorder, topic=name))
    finally:
        store.close()
    if json:
        print_json(lag)
    else:
        print_record(lag, f"Relay to {name}")
