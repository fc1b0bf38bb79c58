"""Consumer SDK: typed events from `tandem.events`, each handled once, bad ones set aside.

- De-duplicates on `(stream_id, version)` (the relay delivers at least once).
- Commits a partition's offsets only after every record up to them was handled, skipped as a
  duplicate, or written to the dead-letter topic.
- A handler that still fails after `max_attempts` tries, or bytes that are not an envelope,
  send the record to the dead-letter topic (`<topic>.dlq`) with the error in its headers; the
  loop goes on with the next record.
"""

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from adapters.kafka.dedup import SeenVersions
from adapters.kafka.events import Event, UndecodableEvent, decode_event
from adapters.kafka.wire import DEFAULT_TOPIC, dead_letter_topic

log = logging.getLogger("tandem.consumer")


def poll_until(stop: Callable[[], bool], *, poll: Callable[[], object],
               sleep: Callable[[float], None], backoff: float, log: logging.Logger) -> None:
    """The loop of every Kafka-reading process: a broker error is logged, waited out, retried."""
    while not stop():
        try:
            poll()
        except KafkaError as failure:
            log.warning("broker error (%s: %s); retrying in %.1f s",
                        type(failure).__name__, failure, backoff)
            sleep(backoff)

Handler = Callable[[Event], None]
DEAD_LETTER_TIMEOUT_S = 30.0


@dataclass
class ConsumerStats:
    handled: int = 0
    duplicates: int = 0
    retried: int = 0
    dead_lettered: int = 0


class EventConsumer:
    """Runs `handler` for each new event of the topic, in order per record."""

    def __init__(self, handler: Handler, *, bootstrap: str, group_id: str,
                 topic: str = DEFAULT_TOPIC, dead_letters: str | None = None,
                 max_attempts: int = 3, retry_backoff: float = 0.1,
                 seen: SeenVersions | None = None,
                 consumer_config: Mapping[str, Any] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.handler = handler
        self.topic = topic
        self.dead_letters = dead_letters or dead_letter_topic(topic)
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.seen = seen or SeenVersions()
        self.sleep = sleep
        self.stats = ConsumerStats()
        self.bootstrap = bootstrap
        self.consumer = KafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False,
            auto_offset_reset="earliest", **dict(consumer_config or {}))
        self._producer: Any = None
        self._uncommitted: dict[TopicPartition, OffsetAndMetadata] = {}

    def poll(self, timeout_ms: int = 1_000) -> int:
        """Handle one fetched batch and commit it; returns records processed.

        On a broker error (dead-letter write or commit), each partition is rewound to its
        first unprocessed record, so nothing is skipped, and the error is raised.
        """
        batches = self.consumer.poll(timeout_ms=timeout_ms)
        done = 0
        try:
            for partition, records in batches.items():
                for record in records:
                    self._process(record)
                    self._uncommitted[partition] = OffsetAndMetadata(record.offset + 1, "", -1)
                    done += 1
        except KafkaError:
            for partition, records in batches.items():
                resume = self._uncommitted.get(partition)
                self.consumer.seek(partition, resume.offset if resume else records[0].offset)
            raise
        if self._uncommitted:
            self.consumer.commit(dict(self._uncommitted))
            self._uncommitted.clear()
        return done

    def run(self, *, stop: Callable[[], bool] = lambda: False, timeout_ms: int = 1_000,
            broker_backoff: float = 1.0) -> None:
        """Poll until `stop()`; broker errors are logged and retried, never fatal."""
        poll_until(stop, poll=lambda: self.poll(timeout_ms), sleep=self.sleep,
                   backoff=broker_backoff, log=log)

    def close(self) -> None:
        self.consumer.close()
        if self._producer is not None:
            self._producer.close(timeout=5)

    def _process(self, record: Any) -> None:
        try:
            event = decode_event(record.value)
        except UndecodableEvent as bad:
            self._dead_letter(record, bad, attempts=0)
            return
        stream = str(event.stream_id)
        if not self.seen.is_new(stream, event.version):
            self.stats.duplicates += 1
            return
        failure: Exception | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                self.handler(event)
            except Exception as error:  # any handler bug: retry, then dead-letter
                failure = error
                log.warning("%s %s v%d failed (attempt %d of %d): %r", event.type, stream,
                            event.version, attempt, self.max_attempts, error)
                if attempt < self.max_attempts:
                    self.stats.retried += 1
                    self.sleep(self.retry_backoff * attempt)
                continue
            self.seen.mark(stream, event.version)
            self.stats.handled += 1
            return
        assert failure is not None
        self._dead_letter(record, failure, attempts=self.max_attempts)
        self.seen.mark(stream, event.version)

    def _dead_letter(self, record: Any, error: Exception, *, attempts: int) -> None:
        """Same key and bytes, original headers plus where it came from and why it failed."""
        if self._producer is None:
            self._producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                           enable_idempotence=True,
                                           client_id="tandem-dead-letters")
        headers = [*(record.headers or []),
                   ("dlq-error-type", type(error).__name__.encode()),
                   ("dlq-error", str(error).encode()[:1000]),
                   ("dlq-source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
                   ("dlq-attempts", str(attempts).encode())]
        self._producer.send(self.dead_letters, key=record.key, value=record.value,
                            headers=headers).get(timeout=DEAD_LETTER_TIMEOUT_S)
        self.stats.dead_lettered += 1
        log.error("record %s/%d/%d sent to %s: %s", record.topic, record.partition,
                  record.offset, self.dead_letters, error)
