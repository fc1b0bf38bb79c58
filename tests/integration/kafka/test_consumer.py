"""The consumer SDK: poison messages go to the dead-letter topic and the loop goes on."""

import uuid
from collections.abc import Callable

import pytest
from kafka import KafkaProducer, TopicPartition

from adapters.bootstrap import open_service_desk
from adapters.envelope import envelope, event_kind
from adapters.kafka.consumer import EventConsumer
from adapters.kafka.events import Event
from adapters.kafka.wire import WireRecord, dead_letter_topic, to_wire
from tests.integration.kafka.helpers import CONSUMER_TIMING, read_all

pytestmark = pytest.mark.kafka


def incident_records(count: int) -> list[list[WireRecord]]:
    """`count` incidents, each as its list of wire records (opened, assigned)."""
    desk = open_service_desk("memory://")
    for index in range(count):
        number = desk.open_incident(actor="alice", title=f"Disk full {index}",
                                    service="storage").number
        desk.assign_incident(number, actor="alice", group="storage")
    per_stream: dict[str, list[WireRecord]] = {}
    for notification in desk.recorder.select_notifications(1, 100):
        if event_kind(notification.topic).stream_type == "Incident":
            record = to_wire(envelope(notification, desk.mapper))
            per_stream.setdefault(record.key.decode(), []).append(record)
    return list(per_stream.values())


def test_poison_messages_are_dead_lettered_and_the_rest_handled_once(
        broker: str, topic: Callable[..., str]) -> None:
    name = topic(partitions=1)
    topic(partitions=1, name=dead_letter_topic(name))
    healthy, poisoned, other = incident_records(3)
    producer = KafkaProducer(bootstrap_servers=broker)
    sequence = [healthy[0], WireRecord(b"x", b"\xc1 not msgpack", []), poisoned[0],
                healthy[0], healthy[1], poisoned[1], other[0], other[1]]
    for record in sequence:
        producer.send(name, key=record.key, value=record.value, headers=record.headers)
    producer.flush()
    producer.close()
    poison_id = uuid.UUID(poisoned[0].key.decode())
    handled: list[Event] = []

    def handle(event: Event) -> None:
        if event.stream_id == poison_id:
            raise RuntimeError(f"cannot handle {event.type}")
        handled.append(event)

    group = f"g-{uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(handle, bootstrap=broker, group_id=group, topic=name,
                             max_attempts=3, retry_backoff=0.01,
                             consumer_config=CONSUMER_TIMING)
    for _ in range(50):
        consumer.poll(timeout_ms=200)
        if consumer.stats.handled + consumer.stats.dead_lettered >= 6:
            break
    committed = consumer.consumer.committed(TopicPartition(name, 0))
    consumer.close()

    assert [(e.stream_id.hex, e.version) for e in handled] == [
        (uuid.UUID(r.key.decode()).hex, v) for r, v in
        [(healthy[0], 1), (healthy[1], 2), (other[0], 1), (other[1], 2)]]
    assert consumer.stats.duplicates == 1
    assert consumer.stats.dead_lettered == 3
    assert committed == len(sequence)
    letters = read_all(broker, dead_letter_topic(name), expected=3)
    reasons = [(dict(r.headers)["dlq-error-type"], dict(r.headers)["dlq-attempts"])
               for r in letters]
    assert reasons == [(b"UndecodableEvent", b"0"), (b"RuntimeError", b"3"),
                       (b"RuntimeError", b"3")]
    assert [r.value for r in letters] == [sequence[1].value, poisoned[0].value,
                                          poisoned[1].value]
    assert dict(letters[1].headers)["event-type"] == b"IncidentOpened"
    assert dict(letters[1].headers)["dlq-source"] == f"{name}/0/2".encode()
