"""The relay's bookkeeping with a fake broker: the position moves only after every ack."""

from typing import Any

import msgpack
import pytest
from kafka.errors import KafkaTimeoutError

from adapters.kafka.positions import ConcurrentRelay, RelayPositions
from adapters.kafka.relay import Backoff, Relay
from domain.service_desk import ServiceDesk
from projections.store import SqliteReadStore


class Ack:
    """A send's acknowledgement: answered at once, or pending until the broker answers."""

    def __init__(self, error: Exception | None, *, done: bool = True) -> None:
        self.is_done = done
        self.exception = error

    def get(self, timeout: float | None = None) -> None:
        self.is_done = True  # waiting for it: the broker answers
        if self.exception:
            raise self.exception


class FakeBroker:
    """Accepts records, or fails the next `failures` sends as a broker outage would."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes, dict[str, Any]]] = []
        self.failures = 0
        self.producers = 0
        self.slow = False
        """Leave acknowledgements pending until waited for (get, flush)."""
        self.pending: list[Ack] = []

    def producer(self) -> "FakeBroker":
        self.producers += 1
        return self

    def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2}

    def send(self, topic: str, *, key: bytes, value: bytes,
             headers: list[tuple[str, bytes]], partition: int) -> Ack:
        if self.failures:
            self.failures -= 1
            return Ack(KafkaTimeoutError("broker down"))
        self.records.append((topic, key, msgpack.unpackb(value)))
        ack = Ack(None, done=not self.slow)
        self.pending.append(ack)
        return ack

    def flush(self, timeout: float | None = None) -> None:
        for ack in self.pending:
            ack.is_done = True

    def close(self, timeout: float | None = None) -> None:
        pass


def relay_on(desk: ServiceDesk, broker: FakeBroker, waits: list[float]) -> Relay:
    positions = RelayPositions(SqliteReadStore(":memory:"), "kafka:test")
    return Relay(log=desk.recorder, mapper=desk.mapper, positions=positions,
                 producer_factory=broker.producer, topic="test", batch_size=4,
                 sleep=waits.append, backoff=Backoff(first=1, cap=4))


def test_number_sequence_events_are_not_published_but_passed(desk: ServiceDesk) -> None:
    desk.open_incident(actor="alice", title="Printer jam", service="print")
    broker, waits = FakeBroker(), []
    relay = relay_on(desk, broker, waits)

    relay.catch_up()

    assert [value["type"] for _, _, value in broker.records] == ["IncidentOpened"]
    assert relay.status().lag == 0
    assert relay.position == desk.recorder.max_notification_id()


def test_a_broker_outage_repeats_the_batch_after_backing_off(desk: ServiceDesk) -> None:
    for index in range(3):
        desk.open_incident(actor="alice", title=f"Printer {index}", service="print")
    broker, waits = FakeBroker(), []
    relay = relay_on(desk, broker, waits)
    broker.failures = 5

    relay.catch_up()

    assert waits == [1, 2, 4, 4, 4]
    assert broker.producers == 6
    assert [value["version"] for _, _, value in broker.records] == [1, 1, 1]
    assert relay.positions.load() == relay.position == desk.recorder.max_notification_id()


def test_a_failed_batch_keeps_the_recorded_position(desk: ServiceDesk) -> None:
    desk.open_incident(actor="alice", title="Printer jam", service="print")
    broker, waits = FakeBroker(), []
    relay = relay_on(desk, broker, waits)
    broker.failures = 1

    with pytest.raises(KafkaTimeoutError):
        relay.publish_batch()

    assert relay.positions.load() == relay.position == 0


def test_two_relays_on_one_name_cannot_both_advance() -> None:
    store = SqliteReadStore(":memory:")
    first, second = RelayPositions(store, "kafka:t"), RelayPositions(store, "kafka:t")
    first.advance(0, 10)

    with pytest.raises(ConcurrentRelay):
        second.advance(0, 7)
    assert second.load() == 10


def test_the_position_passes_a_batch_only_once_it_and_all_before_it_are_acknowledged(
        desk: ServiceDesk) -> None:
    for index in range(8):
        desk.open_incident(actor="alice", title=f"Printer {index}", service="print")
    broker, waits = FakeBroker(), []
    relay = relay_on(desk, broker, waits)
    broker.slow = True
    batches = [relay.publish_batch() for _ in range(3)]

    assert batches == [4, 4, 4]
    assert relay.positions.load() == relay.position == 0
    broker.pending[1].is_done = True  # a later record answered first: not enough
    relay.publish_batch()
    assert relay.positions.load() == 0
    broker.pending[0].is_done = True
    relay.publish_batch()
    assert relay.positions.load() == 4

    relay.catch_up()  # the log's end: waits for every acknowledgement

    assert relay.positions.load() == relay.position == desk.recorder.max_notification_id()
    assert relay.published == len(broker.records) == 8
