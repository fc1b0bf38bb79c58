"""The broker stopped and started again while the relay follows the log: the relay keeps its
place, backs off, resumes; every event arrives at least once, and after de-duplication
exactly once and in order per record."""

import logging
import threading
from collections import defaultdict
from uuid import UUID

import pytest

from adapters.bootstrap import open_read_store, open_service_desk
from adapters.envelope import event_kind
from adapters.kafka.dedup import SeenVersions
from adapters.kafka.events import decode_event
from adapters.kafka.positions import RelayLag, RelayPositions, relay_lag, relay_name
from adapters.kafka.relay import Backoff, Relay, kafka_producer
from adapters.kafka.topics import ensure_topics
from adapters.kafka.wire import PUBLISHED_STREAM_TYPES
from domain.service_desk import ServiceDesk
from tests.integration.kafka.conftest import DurableBroker
from tests.integration.kafka.helpers import read_all, wait_for
from tests.integration.kafka.stories import incident_lifecycle

pytestmark = pytest.mark.kafka
TOPIC = "tandem.events"


class Failures(logging.Handler):
    """Counts the relay's "broker failed" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("broker failed"):
            self.count += 1


def follow(sqlite_url: str, bootstrap: str, stop: threading.Event) -> threading.Thread:
    """The relay of `tandem relay kafka`, with a 3 s delivery timeout so an outage shows fast."""

    def run() -> None:
        desk = open_service_desk(sqlite_url)
        store = open_read_store(sqlite_url)
        relay = Relay(log=desk.recorder, mapper=desk.mapper,
                      positions=RelayPositions(store, relay_name(TOPIC)),
                      producer_factory=lambda: kafka_producer(bootstrap, delivery_timeout_s=3),
                      topic=TOPIC, batch_size=200, backoff=Backoff(first=0.2, cap=1.0))
        try:
            relay.run(interval=0.05, stop=stop.is_set)
        finally:
            relay.close()
            store.close()

    thread = threading.Thread(target=run, name="relay")
    thread.start()
    return thread


def write(desk: ServiceDesk, lifecycles: range) -> None:
    for index in lifecycles:
        incident_lifecycle(desk, index)


def test_the_relay_keeps_its_place_through_a_broker_restart(
        sqlite_url: str, durable_broker: DurableBroker) -> None:
    ensure_topics(durable_broker.bootstrap, [TOPIC], partitions=3)
    desk = open_service_desk(sqlite_url)
    store = open_read_store(sqlite_url)
    failures = Failures()
    logging.getLogger("tandem.relay").addHandler(failures)

    def lag() -> RelayLag:
        return relay_lag(store, desk.recorder, topic=TOPIC)

    stop = threading.Event()
    relay = follow(sqlite_url, durable_broker.bootstrap, stop)
    try:
        write(desk, range(100))
        wait_for(lambda: lag().lag == 0, seconds=60, what="the relay to catch up")

        durable_broker.stop()
        write(desk, range(60, 120))
        wait_for(lambda: failures.count >= 1, seconds=60, what="the relay to notice")
        during = lag()
        wait_for(lambda: failures.count >= 2, seconds=60, what="another retry")
        assert lag().position == during.position
        assert during.lag > 0

        durable_broker.start()
        write(desk, range(120, 180))
        wait_for(lambda: lag().lag == 0, seconds=90, what="the relay to catch up again")
    finally:
        stop.set()
        relay.join(timeout=30)
        logging.getLogger("tandem.relay").removeHandler(failures)
        store.close()

    stored = [(n.originator_id, n.originator_version)
              for n in desk.recorder.select_notifications(1, 100_000)
              if event_kind(n.topic).stream_type in PUBLISHED_STREAM_TYPES]
    records = read_all(durable_broker.bootstrap, TOPIC, expected=len(stored), seconds=60)
    delivered = [decode_event(record.value) for record in
                 sorted(records, key=lambda r: (r.partition, r.offset))]
    seen, handled = SeenVersions(), defaultdict(list)
    for event in delivered:
        if seen.is_new(str(event.stream_id), event.version):
            seen.mark(str(event.stream_id), event.version)
            handled[event.stream_id].append(event.version)
    per_stream: dict[UUID, list[int]] = defaultdict(list)
    for stream_id, version in stored:
        per_stream[stream_id].append(version)

    assert {(e.stream_id, e.version) for e in delivered} == set(stored)
    assert handled == per_stream
    print(f"{failures.count} failed attempts; {len(delivered) - len(stored)} duplicates")
