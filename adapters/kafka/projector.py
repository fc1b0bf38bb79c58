"""Read models fed from the Kafka topic instead of the store (`tandem projections run --source
kafka`), by any number of processes in one consumer group, each event applied exactly once.

Each batch's rows and each partition's next offset are written in one read-store transaction.
On assignment a member seeks to the stored offsets (the offsets it commits to Kafka only show
the group's lag); records below a partition's stored offset are skipped; a compare-and-set
on the stored offsets rolls back a batch that another member applied first (after a rebalance
the previous owner may still hold records it fetched); and an event the relay delivered
again (a version at or below its record's highest applied) is passed over.

Within a partition records keep their order, so each record's events arrive in version order;
events of different records can interleave otherwise than in the store. The read models
combine only a record's own events, so the result is the store-fed one (tests hold them equal).
"""

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from adapters.kafka import PROJECTOR_BATCH
from adapters.kafka.consumer import poll_until
from adapters.kafka.domain_events import projection_envelope
from adapters.kafka.events import UndecodableEvent, decode_event
from projections import registry
from projections.projection import Envelope, Projection
from projections.runner import apply_batch
from projections.store import Cursor, ReadStore, upsert

log = logging.getLogger("tandem.projector")

OFFSETS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS kafka_projection_offsets ("
    " topic TEXT NOT NULL, kafka_partition INTEGER NOT NULL, next_offset BIGINT NOT NULL,"
    " PRIMARY KEY (topic, kafka_partition))")
VERSIONS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS kafka_projection_versions ("
    " stream_id TEXT PRIMARY KEY, version BIGINT NOT NULL)")
"""Each record's highest version applied: the relay delivers at least once, so an event can
come again at a later offset (after a relay crash); it must not be applied twice."""
SCHEMA_LOCK_KEY = 0x7A4D_0002
"""pg advisory lock serialising the creation of the read-model tables between members."""


class Record(Protocol):
    """The part of a kafka-python ConsumerRecord the projector reads."""

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def value(self) -> bytes: ...


class SourceConflict(RuntimeError):
    """The read models here are fed from the event store too, or need a rebuild: stop."""


class OffsetsMoved(RuntimeError):
    """Another member applied some of this batch first; it was rolled back."""


class BadRecord(RuntimeError):
    """A record that is not a decodable event: the read models cannot skip it and stay right."""


@dataclass(frozen=True)
class Applied:
    """A batch's outcome: each partition's next offset now stored, and what was new."""

    next_offsets: dict[int, int]
    applied: int
    skipped: int


class KafkaFedProjections:
    """The read-store side: projections and per-partition offsets, one transaction per batch."""

    def __init__(self, store: ReadStore, projections: Sequence[Projection], *,
                 topic: str) -> None:
        self.store = store
        self.projections = list(projections)
        self.topic = topic
        with store.transaction() as cursor:
            if store.dialect == "postgres":  # members starting together race on CREATE TABLE
                cursor.execute("SELECT pg_advisory_xact_lock(?)", [SCHEMA_LOCK_KEY])
            registry.ensure_serving(cursor, self.projections)
            cursor.execute(OFFSETS_SCHEMA)
            cursor.execute(VERSIONS_SCHEMA)
            self._generations(cursor)

    def stored_offsets(self, partitions: Iterable[int]) -> dict[int, int]:
        """Where each partition resumes (0: from its first record)."""
        with self.store.transaction() as cursor:
            return self._offsets(cursor, list(partitions))

    def apply(self, records: Mapping[int, Sequence[Record]]) -> Applied:
        """Apply what is new in a fetched batch (by partition, in offset order), exactly once.

        Raises OffsetsMoved (nothing written) if another member stored offsets meanwhile,
        BadRecord (nothing written) if a record is not a decodable event.
        """
        decoded = {partition: [(record.offset, self._decode(partition, record))
                               for record in batch] for partition, batch in records.items()}
        with self.store.transaction() as cursor:  # decoded first: the write lock held less
            stored = self._offsets(cursor, list(records))
            envelopes: list[Envelope] = []
            next_offsets = dict(stored)
            for partition, batch in decoded.items():
                fresh = [(offset, envelope) for offset, envelope in batch
                         if offset >= stored[partition]]
                if fresh:
                    envelopes.extend(envelope for _, envelope in fresh)
                    next_offsets[partition] = fresh[-1][0] + 1
                    self._advance(cursor, partition, stored[partition], next_offsets[partition])
            envelopes = self._first_deliveries(cursor, envelopes)
            if envelopes:
                for projection, generation in self._generations(cursor):
                    apply_batch(cursor, projection, generation, envelopes, self.store.dialect)
        total = sum(len(batch) for batch in records.values())
        return Applied(next_offsets, len(envelopes), total - len(envelopes))

    def _first_deliveries(self, cursor: Cursor, batch: list[Envelope]) -> list[Envelope]:
        """The envelopes whose version is above their record's highest applied (which moves
        along, in this transaction): a record's events arrive in version order."""
        highest: dict[str, int] = {}
        streams = list(dict.fromkeys(envelope.stream_id for envelope in batch))
        for start in range(0, len(streams), 500):
            chunk = streams[start:start + 500]
            cursor.execute("SELECT stream_id, version FROM kafka_projection_versions "
                           f"WHERE stream_id IN ({', '.join('?' for _ in chunk)})", chunk)
            highest.update((stream, int(version)) for stream, version in cursor.fetchall())
        first = []
        for envelope in batch:
            version = envelope.event.originator_version
            if version > highest.get(envelope.stream_id, 0):
                highest[envelope.stream_id] = version
                first.append(envelope)
        if first:
            upsert(cursor, "kafka_projection_versions", ("stream_id", "version"),
                   ("stream_id",), list({e.stream_id: (e.stream_id, highest[e.stream_id])
                                         for e in first}.values()))
        return first

    def _decode(self, partition: int, record: Record) -> Envelope:
        try:
            return projection_envelope(decode_event(record.value))
        except UndecodableEvent as bad:
            raise BadRecord(f"{self.topic}/{partition}/{record.offset}: {bad}") from bad

    def _offsets(self, cursor: Cursor, partitions: list[int]) -> dict[int, int]:
        for partition in partitions:
            cursor.execute("INSERT INTO kafka_projection_offsets (topic, kafka_partition, "
                           "next_offset) VALUES (?, ?, 0) ON CONFLICT DO NOTHING",
                           [self.topic, partition])
        cursor.execute("SELECT kafka_partition, next_offset FROM kafka_projection_offsets "
                       "WHERE topic = ?", [self.topic])
        found = {int(partition): int(offset) for partition, offset in cursor.fetchall()}
        return {partition: found[partition] for partition in partitions}

    def _advance(self, cursor: Cursor, partition: int, old: int, new: int) -> None:
        updated = cursor.execute(
            "UPDATE kafka_projection_offsets SET next_offset = ? "
            "WHERE topic = ? AND kafka_partition = ? AND next_offset = ?",
            [new, self.topic, partition, old]).rowcount
        if updated != 1:
            raise OffsetsMoved(f"{self.topic}/{partition} moved past {old}: "
                               "another member applied these records")

    def _generations(self, cursor: Cursor) -> list[tuple[Projection, int]]:
        """The serving generation of each projection, checked to be fed from Kafka alone."""
        found = []
        for projection in self.projections:
            generation = registry.serving(cursor, projection.name)
            assert generation is not None  # ensure_serving created one
            if generation.version != projection.version:
                raise SourceConflict(
                    f"{projection.name}: serving version {generation.version}, code version "
                    f"{projection.version}: rebuild a Kafka-fed read store by starting on an "
                    "empty database (or schema), which re-reads the topic from the start")
            if generation.position != 0:
                raise SourceConflict(
                    f"{projection.name}: these read models are also fed from the event store "
                    f"(position {generation.position}); a Kafka-fed projector needs its own "
                    "database or schema")
            found.append((projection, generation.generation))
        return found


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]  # untyped base class
    """On assignment, resume each partition where the read store says, not where Kafka does."""

    def __init__(self, projector: "KafkaProjector") -> None:
        self.projector = projector

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.projector.seek_to_stored(assigned)

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        log.info("partitions %s revoked", sorted(tp.partition for tp in revoked))


class KafkaProjector:
    """A consumer-group member feeding the read models from its share of the partitions."""

    def __init__(self, fed: KafkaFedProjections, *, bootstrap: str, group_id: str,
                 batch_size: int = PROJECTOR_BATCH,
                 consumer_config: Mapping[str, Any] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.fed = fed
        self.topic = fed.topic
        self.sleep = sleep
        self.applied = 0
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group_id, client_id="tandem-projector",
            enable_auto_commit=False, auto_offset_reset="earliest",
            max_poll_records=batch_size, **dict(consumer_config or {}))
        self.consumer.subscribe([self.topic], listener=_SeekToStored(self))

    def seek_to_stored(self, partitions: Iterable[TopicPartition]) -> None:
        assigned = self.consumer.assignment()
        mine = [tp for tp in partitions if tp in assigned]
        offsets = self.fed.stored_offsets(tp.partition for tp in mine)
        for tp in mine:
            self.consumer.seek(tp, offsets[tp.partition])
        log.info("partitions %s assigned, resuming at offsets %s",
                 sorted(offsets), [offsets[p] for p in sorted(offsets)])

    def poll(self, timeout_ms: int = 1_000) -> int:
        """Apply one fetched batch; returns records applied (0 if none was new)."""
        batches = self.consumer.poll(timeout_ms=timeout_ms)
        if not batches:
            return 0
        by_partition = {tp.partition: records for tp, records in batches.items()}
        try:
            outcome = self.fed.apply(by_partition)
        except OffsetsMoved as moved:
            log.info("%s; resuming from the stored offsets", moved)
            self.seek_to_stored(batches)
            return 0
        stale = [tp for tp, records in batches.items()
                 if records[-1].offset + 1 < outcome.next_offsets[tp.partition]]
        if stale:
            self.seek_to_stored(stale)  # fetched before another member applied them
        self.applied += outcome.applied
        self._commit({tp: outcome.next_offsets[tp.partition] for tp in batches})
        return outcome.applied

    def run(self, *, stop: Callable[[], bool] = lambda: False, timeout_ms: int = 1_000,
            broker_backoff: float = 1.0) -> None:
        """Poll until `stop()`; broker errors are logged and retried, a bad record stops it."""
        poll_until(stop, poll=lambda: self.poll(timeout_ms), sleep=self.sleep,
                   backoff=broker_backoff, log=log)

    def close(self) -> None:
        self.consumer.close()

    def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Kafka's committed offsets, for lag monitoring only: a failure changes nothing."""
        try:
            self.consumer.commit_async(
                {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()},
                callback=_log_commit)
        except KafkaError as failure:
            log.debug("commit of %s failed: %s", offsets, failure)


def _log_commit(offsets: Any, response: Any) -> None:
    if isinstance(response, Exception):
        log.debug("commit of %s failed: %s", offsets, response)
