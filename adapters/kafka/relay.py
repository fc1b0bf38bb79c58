"""Publishes Incident and Problem events from the notification log to Kafka, at least once.

The relay keeps its own position (the last notification id the broker acknowledged) in the
read store. Each batch is sent, flushed, and every send checked before the position moves, so
a crash or a broker failure repeats a batch but never skips one. Records are keyed by stream
id, so one record's events share a partition; the idempotent producer keeps them in order
there, also across its own retries.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from eventsourcing.persistence import Mapper, Notification
from kafka import KafkaProducer
from kafka.errors import KafkaConfigurationError, KafkaError

from adapters.envelope import envelope, event_kind
from adapters.kafka.positions import RelayPositions
from adapters.kafka.wire import PUBLISHED_STREAM_TYPES, WireRecord, to_wire

log = logging.getLogger("tandem.relay")

DEFAULT_BATCH = 2_000
FLUSH_TIMEOUT_S = 60.0


class NotificationLog(Protocol):
    """The part of an eventsourcing ApplicationRecorder the relay reads."""

    def select_notifications(self, start: int | None, limit: int) -> Sequence[Notification]: ...

    def max_notification_id(self) -> int | None: ...


class Producer(Protocol):
    """The part of kafka-python's KafkaProducer the relay uses (a fake in unit tests)."""

    def send(self, topic: str, *, key: bytes, value: bytes,
             headers: list[tuple[str, bytes]]) -> Any: ...

    def flush(self, timeout: float | None = None) -> None: ...

    def close(self, timeout: float | None = None) -> None: ...


def kafka_producer(bootstrap: str, *, delivery_timeout_s: float = 30.0) -> Producer:
    """Idempotent, acks=all; at most 5 requests in flight, the most idempotence keeps ordered.

    A send not acknowledged within `delivery_timeout_s` fails the batch (the relay then backs
    off and re-sends it from its position with a new producer).
    """
    delivery_ms = int(delivery_timeout_s * 1000)
    producer: Producer = KafkaProducer(
        bootstrap_servers=bootstrap, client_id="tandem-relay", enable_idempotence=True,
        acks="all", max_in_flight_requests_per_connection=5, linger_ms=20,
        batch_size=256 * 1024, request_timeout_ms=min(10_000, delivery_ms // 3),
        delivery_timeout_ms=delivery_ms, bootstrap_timeout_ms=5_000)
    return producer


@dataclass
class Backoff:
    """Exponential wait between attempts while the broker is unreachable."""

    first: float = 0.5
    cap: float = 30.0
    current: float = field(default=0.0, init=False)

    def next(self) -> float:
        self.current = min(self.cap, self.current * 2 if self.current else self.first)
        return self.current

    def reset(self) -> None:
        self.current = 0.0


@dataclass(frozen=True)
class RelayStatus:
    position: int
    last: int
    lag: int
    published: int


class Relay:
    """Follows the notification log from its tracked position and publishes each batch."""

    def __init__(self, *, log: NotificationLog, mapper: Mapper[Any], positions: RelayPositions,
                 producer_factory: Callable[[], Producer], topic: str,
                 batch_size: int = DEFAULT_BATCH, backoff: Backoff | None = None,
                 sleep: Callable[[float], None] = time.sleep, owner: object = None) -> None:
        self.owner = owner
        """What owns `log` (the ServiceDesk), kept alive with the relay."""
        self.log = log
        self.mapper = mapper
        self.positions = positions
        self.producer_factory = producer_factory
        self.topic = topic
        self.batch_size = batch_size
        self.backoff = backoff or Backoff()
        self.sleep = sleep
        self.position = positions.load()
        self.published = 0
        self._producer: Producer | None = None

    def publish_batch(self) -> int:
        """One batch, acknowledged, then the position; returns notifications read (0: caught up).

        Raises KafkaError if the broker did not acknowledge every record: nothing is recorded.
        """
        batch = self.log.select_notifications(self.position + 1, self.batch_size)
        if not batch:
            return 0
        records = [to_wire(envelope(item, self.mapper)) for item in batch
                   if event_kind(item.topic).stream_type in PUBLISHED_STREAM_TYPES]
        if records:
            self._send(records)
        self.positions.advance(self.position, batch[-1].id)
        self.position = batch[-1].id
        self.published += len(records)
        return len(batch)

    def step(self) -> int:
        """`publish_batch`, retried with back-off while the broker fails (position kept)."""
        while True:
            try:
                read = self.publish_batch()
            except KafkaConfigurationError:
                raise  # a wrong setting does not heal by waiting
            except KafkaError as failure:
                self._discard_producer()
                wait = self.backoff.next()
                log.warning("broker failed (%s: %s); retrying from position %d in %.1f s",
                            type(failure).__name__, failure, self.position, wait)
                self.sleep(wait)
                continue
            self.backoff.reset()
            return read

    def catch_up(self) -> int:
        """Publish until the log's end as it is now; returns notifications read."""
        done = 0
        while read := self.step():
            done += read
        return done

    def run(self, *, interval: float = 0.5, report_every: float = 10.0,
            stop: Callable[[], bool] = lambda: False) -> None:
        """Catch up, then keep following new events, logging the lag every `report_every` s."""
        reported = time.monotonic()
        while not stop():
            if not self.step():
                self.sleep(interval)
            if time.monotonic() - reported >= report_every:
                reported = time.monotonic()
                log.info("%s", self.status())

    def status(self) -> RelayStatus:
        last = self.log.max_notification_id() or 0
        return RelayStatus(self.position, last, max(0, last - self.position), self.published)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None

    def _send(self, records: list[WireRecord]) -> None:
        if self._producer is None:
            self._producer = self.producer_factory()
        producer = self._producer
        futures = [producer.send(self.topic, key=record.key, value=record.value,
                                 headers=record.headers) for record in records]
        producer.flush(timeout=FLUSH_TIMEOUT_S)
        for future in futures:
            future.get(timeout=0)  # raises the send's KafkaError, or KafkaTimeoutError if unsent

    def _discard_producer(self) -> None:
        """A new producer (new producer id) re-sends the whole batch from the position."""
        if self._producer is not None:
            try:
                self._producer.close(timeout=0)
            except KafkaError:
                log.debug("closing the failed producer failed too", exc_info=True)
            self._producer = None
