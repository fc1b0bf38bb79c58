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
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def get(self, timeout: float | None = None) -> None:
        if self.error:
            raise self.error


class FakeBroker:
    """Accepts records, or fails the next `failures` sends as a broker outage would."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes, dict[str, Any]]] = []
        self.failures = 0
        self.producers = 0

    def producer(self) -> "FakeBroker":
        self.producers += 1
        return self

    def send(self, topic: str, *, key: bytes, value: bytes,
             headers: list[tuple[str, bytes]]) -> Ack:
        if self.failures:
            self.failures -= 1
            return Ack(KafkaTimeoutError("broker down"))
        self.records.append((topic, key, msgpack.unpackb(value)))
        return Ack(None)

    def flush(self, timeout: float | None = None) -> None:
        pass

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
