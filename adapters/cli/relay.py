"""`tandem relay kafka`: publish the event log to Kafka, at least once, in order per record."""

import logging
import time
from dataclasses import asdict
from typing import Annotated

import typer
from kafka.errors import KafkaError

from adapters.bootstrap import KafkaSettings, Settings, kafka_relay, open_read_store
from adapters.cli.context import print_json, print_record, session
from adapters.kafka.positions import relay_lag
from adapters.kafka.relay import Backoff
from adapters.kafka.topics import ensure_topics
from adapters.kafka.wire import dead_letter_topic

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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    defaults = KafkaSettings.from_environment()
    servers = bootstrap or defaults.bootstrap
    name = topic or defaults.topic
    _create_topics(servers, name, partitions or defaults.partitions)
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


def _create_topics(bootstrap: str, topic: str, partitions: int) -> None:
    """The topic and its dead-letter topic, retried while the broker is unreachable."""
    backoff = Backoff()
    while True:
        try:
            for created in ensure_topics(bootstrap, [topic, dead_letter_topic(topic)],
                                         partitions=partitions):
                typer.echo(f"created topic {created} ({partitions} partitions)", err=True)
            return
        except KafkaError as failure:
            wait = backoff.next()
            logging.getLogger("tandem.relay").warning(
                "cannot create topics on %s (%s); retrying in %.1f s", bootstrap, failure, wait)
            time.sleep(wait)
