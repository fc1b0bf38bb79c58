"""Publishes Incident and Problem events from the notification log to Kafka, at least once.

The relay keeps its own position (the last notification id the broker acknowledged) in the
read store. Batches are pipelined: while the broker acknowledges one, the next is read and
sent; the position moves past a batch only once every send in it and in all earlier batches
succeeded, so a crash or a broker failure repeats batches but never skips one. Records are
keyed by stream id, so one record's events share a partition; the idempotent producer keeps
them in order there, also across its own retries.
"""

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from eventsourcing.persistence import Mapper
from kafka import KafkaProducer
from kafka.errors import KafkaConfigurationError, KafkaError
from kafka.partitioner.default import murmur2

from adapters.kafka.encoder import Record, WireEncoder
from adapters.kafka.positions import RelayPositions
from adapters.kafka.rows import NotificationLog, Row, row_reader

log = logging.getLogger("tandem.relay")

DEFAULT_BATCH = 2_000
FLUSH_TIMEOUT_S = 60.0
IN_FLIGHT_BATCHES = 4
"""Batches sent but not yet acknowledged, at most; then the relay waits for the oldest."""


class Ack(Protocol):
    """A send's outcome: kafka-python's FutureRecordMetadata."""

    is_done: bool
    exception: BaseException | None

    def get(self, timeout: float | None = None) -> Any: ...


class Producer(Protocol):
    """The part of kafka-python's KafkaProducer the relay uses (a fake in unit tests)."""

    def send(self, topic: str, *, key: bytes, value: bytes,
             headers: list[tuple[str, bytes]], partition: int) -> Ack: ...

    def partitions_for(self, topic: str) -> set[int]: ...

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
class InFlight:
    """A batch sent: its last notification id and the acknowledgement of each record."""

    last_id: int
    acks: list[Ack]


class KeyPartitions:
    """The producer's default partitioner (murmur2 of the key), remembered per key: a record's
    events come in runs, and kafka-python's pure-Python murmur2 is the costliest step of a send.
    """

    def __init__(self, partitions: set[int], *, remember: int = 100_000) -> None:
        self.partitions = sorted(partitions)
        self.remember = remember
        self._known: dict[bytes, int] = {}

    def __call__(self, key: bytes) -> int:
        known = self._known.get(key)
        if known is None:
            if len(self._known) >= self.remember:
                self._known.clear()
            known = self._known[key] = self.partitions[
                (murmur2(key) & 0x7FFFFFFF) % len(self.partitions)]
        return known


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
        self.positions = positions
        self.producer_factory = producer_factory
        self.topic = topic
        self.batch_size = batch_size
        self.backoff = backoff or Backoff()
        self.sleep = sleep
        self.position = positions.load()
        self.published = 0
        self._producer: Producer | None = None
        self._sent = self.position
        """The last notification id read and sent (acknowledged or not)."""
        self._in_flight: deque[InFlight] = deque()
        self._partitions: KeyPartitions | None = None
        self._rows = row_reader(log)
        self._encoder = WireEncoder(mapper)
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-read")
        self._next: tuple[int, Future[Sequence[Row]]] | None = None

    def publish_batch(self) -> int:
        """Read and send the next batch, then record every batch acknowledged so far, in order;
        returns notifications read. At the log's end (0) everything sent is acknowledged first.

        Raises KafkaError if the broker failed a send: the position stays before that batch.
        """
        batch = self._read(self._sent + 1)
        if not batch:
            self._settle(wait_for=len(self._in_flight))
            return 0
        records = self._encoder.records(batch)
        last_id = batch[-1][0]
        self._in_flight.append(InFlight(last_id, self._send(records) if records else []))
        self._sent = last_id
        self._settle(wait_for=len(self._in_flight) - IN_FLIGHT_BATCHES)
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
        self._reader.shutdown(cancel_futures=True)
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None

    def _read(self, start: int) -> Sequence[Row]:
        """The batch from `start`; while catching up, the next one is read meanwhile (the
        database driver waits without holding the GIL, the main thread encodes and sends)."""
        if self._next is not None and self._next[0] == start:
            batch = self._next[1].result()
        else:
            batch = self._rows(start, self.batch_size)
        self._next = None
        if len(batch) == self.batch_size:
            following = batch[-1][0] + 1
            self._next = (following, self._reader.submit(self._rows, following, self.batch_size))
        return batch

    def _send(self, records: list[Record]) -> list[Ack]:
        if self._producer is None:
            self._producer = self.producer_factory()
            self._partitions = KeyPartitions(self._producer.partitions_for(self.topic))
        producer, partition = self._producer, self._partitions
        assert partition is not None
        topic, send = self.topic, producer.send
        return [send(topic, key=key, value=value, headers=headers, partition=partition(key))
                for key, value, headers in records]

    def _settle(self, *, wait_for: int) -> None:
        """Record the acknowledged batches at the head of the pipeline, after waiting for the
        oldest `wait_for` ones (each send checked: a failure raises its KafkaError)."""
        if wait_for >= len(self._in_flight) > 0 and self._producer is not None:
            self._producer.flush(timeout=FLUSH_TIMEOUT_S)  # no linger: the log's end is here
        waited = 0
        while self._in_flight:
            oldest = self._in_flight[0]
            for ack in oldest.acks:
                if not ack.is_done:
                    if waited >= wait_for:
                        return
                    ack.get(timeout=FLUSH_TIMEOUT_S)  # raises on failure or timeout
                if ack.exception is not None:
                    raise ack.exception
            waited += 1
            self._in_flight.popleft()
            self.positions.advance(self.position, oldest.last_id)
            self.position = oldest.last_id
            self.published += len(oldest.acks)

    def _discard_producer(self) -> None:
        """A new producer (new producer id) re-sends every unrecorded batch from the position."""
        self._sent = self.position
        self._in_flight.clear()
        if self._producer is not None:
            try:
                self._producer.close(timeout=0)
            except KafkaError:
                log.debug("closing the failed producer failed too", exc_info=True)
            self._producer = None
