"""The read-store side of the Kafka-fed projector, on SQLite and PostgreSQL, without a broker:
records as Kafka would hand them over (by partition, in offset order), applied exactly once."""

import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.bootstrap import (
    all_projections,
    open_read_store,
    open_service_desk,
    projection_runner,
)
from adapters.envelope import envelope, event_kind
from adapters.kafka.projector import (
    BadRecord,
    KafkaFedProjections,
    OffsetsMoved,
    SourceConflict,
)
from adapters.kafka.wire import PUBLISHED_STREAM_TYPES, to_wire
from domain.service_desk import ServiceDesk
from projections.store import ReadStore, SqliteReadStore
from tests.conftest import FakeClock
from tests.integration.kafka.stories import every_event_type, incident_lifecycle
from tests.read_models import built_from_zero, serving_rows

TOPIC = "tandem.events"
PARTITIONS = 3


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    value: bytes


Partitions = dict[int, list[Record]]


def as_published(desk: ServiceDesk) -> Partitions:
    """The store's record events as the relay lays them out: keyed by stream, in log order."""
    partitions: Partitions = {partition: [] for partition in range(PARTITIONS)}
    for notification in desk.recorder.select_notifications(1, 100_000):
        if event_kind(notification.topic).stream_type in PUBLISHED_STREAM_TYPES:
            wire = to_wire(envelope(notification, desk.mapper))
            partition = zlib.crc32(wire.key) % PARTITIONS
            records = partitions[partition]
            records.append(Record(partition, len(records), wire.value))
    return partitions


def fetches(partitions: Partitions, rng: random.Random) -> Iterator[Partitions]:
    """The partitions handed over in random slices, interleaved at random (as several fetches
    from several brokers would be): order holds within a partition only."""
    cursors = dict.fromkeys(partitions, 0)
    while any(cursors[p] < len(records) for p, records in partitions.items()):
        fetch: Partitions = {}
        for partition in rng.sample(sorted(partitions), k=rng.randint(1, PARTITIONS)):
            start = cursors[partition]
            end = min(len(partitions[partition]), start + rng.randint(1, 7))
            if end > start:
                fetch[partition] = partitions[partition][start:end]
                cursors[partition] = end
        if fetch:
            yield fetch


@pytest.fixture
def history(clock: FakeClock) -> ServiceDesk:
    desk = open_service_desk("memory://", clock=clock)
    every_event_type(desk)
    for index in range(12):
        clock.advance(minutes=1)
        incident_lifecycle(desk, index)
    return desk





def test_any_interleaving_of_partitions_builds_what_the_store_fed_runner_builds(
        history: ServiceDesk, read_stores: Callable[[], ReadStore], tmp_path: Path) -> None:
    fed = KafkaFedProjections(read_stores(), all_projections(), topic=TOPIC)
    partitions = as_published(history)

    for fetch in fetches(partitions, random.Random(7)):
        fed.apply(fetch)

    assert serving_rows(fed.store) == built_from_zero(history, tmp_path)
    assert fed.stored_offsets(range(PARTITIONS)) == {
        partition: len(records) for partition, records in partitions.items()}


def test_records_handed_over_again_are_skipped_and_change_nothing(
        history: ServiceDesk, read_stores: Callable[[], ReadStore], tmp_path: Path) -> None:
    first = KafkaFedProjections(read_stores(), all_projections(), topic=TOPIC)
    partitions = as_published(history)
    first.apply({partition: records[:5] for partition, records in partitions.items()})
    # Another member, after a rebalance, fetched from further back than the store says.
    second = KafkaFedProjections(read_stores(), all_projections(), topic=TOPIC)

    outcome = second.apply(partitions)
    again = first.apply(partitions)

    assert outcome.skipped == 5 * PARTITIONS
    assert outcome.applied == sum(map(len, partitions.values())) - 5 * PARTITIONS
    assert (again.applied, again.skipped) == (0, sum(map(len, partitions.values())))
    assert serving_rows(second.store) == built_from_zero(history, tmp_path)


def test_a_batch_whose_offsets_another_member_moved_is_rolled_back_whole(
        history: ServiceDesk, read_stores: Callable[[], ReadStore], tmp_path: Path) -> None:
    stale = KafkaFedProjections(read_stores(), all_projections(), topic=TOPIC)
    other = KafkaFedProjections(read_stores(), all_projections(), topic=TOPIC)
    partitions = as_published(history)
    seen_before_the_other = stale.stored_offsets(partitions)
    other.apply({0: partitions[0][:3]})
    stale._offsets = lambda cursor, wanted: {  # type: ignore[method-assign]
        partition: seen_before_the_other[partition] for partition in wanted}

    with pytest.raises(OffsetsMoved):
        stale.apply(partitions)

    assert other.stored_offsets(partitions) == {0: 3, 1: 0, 2: 0}
    only_three = KafkaFedProjections(SqliteReadStore(":memory:"), all_projections(),
                                     topic=TOPIC)
    only_three.apply({0: partitions[0][:3]})
    assert serving_rows(other.store) == serving_rows(only_three.store)


def test_an_undecodable_record_stops_the_batch_naming_where_it_is(
        history: ServiceDesk, read_stores: Callable[[], ReadStore]) -> None:
    fed = KafkaFedProjections(read_stores(), all_projections(), topic=TOPIC)
    partitions = as_published(history)
    poisoned = [*partitions[1][:2], Record(1, 2, b"\xc1 not msgpack")]

    with pytest.raises(BadRecord, match=f"{TOPIC}/1/2: not msgpack"):
        fed.apply({0: partitions[0], 1: poisoned})

    assert fed.stored_offsets([0, 1]) == {0: 0, 1: 0}
    assert all(rows == [] for rows in serving_rows(fed.store).values())


def test_read_models_fed_from_the_event_store_are_refused(
        history: ServiceDesk, sqlite_url: str) -> None:
    desk = open_service_desk(sqlite_url)
    incident_lifecycle(desk, 1)
    store = open_read_store(sqlite_url)
    projection_runner(desk, store).catch_up()

    with pytest.raises(SourceConflict, match="also fed from the event store"):
        KafkaFedProjections(store, all_projections(), topic=TOPIC)
    store.close()


def test_events_the_relay_delivered_again_are_applied_once(
        history: ServiceDesk, read_stores: Callable[[], ReadStore], tmp_path: Path) -> None:
    fed = KafkaFedProjections(read_stores(), all_projections(), topic=TOPIC)
    redelivered: Partitions = {}
    for partition, records in as_published(history).items():
        # A relay killed after sending but before recording its position sends the tail again.
        half = len(records) // 2
        again = [*records[:half], *records[half // 2:]]
        redelivered[partition] = [Record(partition, offset, record.value)
                                  for offset, record in enumerate(again)]

    outcomes = [fed.apply(fetch) for fetch in fetches(redelivered, random.Random(11))]

    assert serving_rows(fed.store) == built_from_zero(history, tmp_path)
    duplicates = sum(len(records) // 2 - len(records) // 4
                     for records in as_published(history).values())
    assert sum(outcome.skipped for outcome in outcomes) == duplicates > 0
