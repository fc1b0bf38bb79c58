"""The relay publishes exactly the envelope of design section 6, keyed and in order per record."""

import itertools
from collections import defaultdict
from collections.abc import Callable

import msgpack
import pytest
from eventsourcing.persistence import Notification

from adapters.bootstrap import kafka_relay, open_read_store, open_service_desk
from adapters.envelope import ENVELOPE_KEYS, envelope, event_id, event_kind
from adapters.kafka.events import decode_event
from domain.audit_chain import GENESIS_HASH, chain_hash
from domain.service_desk import ServiceDesk
from tests.conftest import FakeClock
from tests.integration.kafka.helpers import read_all
from tests.integration.kafka.stories import incident_lifecycle, problem_with_incidents

pytestmark = pytest.mark.kafka


def publishable(desk: ServiceDesk) -> list[Notification]:
    """The stored events the relay must publish: Incident and Problem ones, in log order."""
    return [n for n in desk.recorder.select_notifications(1, 100_000)
            if event_kind(n.topic).stream_type in ("Incident", "Problem")]


def publish(sqlite_url: str, broker: str, topic: str) -> None:
    desk = open_service_desk(sqlite_url)
    store = open_read_store(sqlite_url)
    relay = kafka_relay(desk, store, bootstrap=broker, topic=topic)
    relay.catch_up()
    relay.close()
    store.close()


def test_each_record_is_the_section_6_envelope(
        sqlite_url: str, clock: FakeClock, broker: str, topic: Callable[..., str]) -> None:
    desk = open_service_desk(sqlite_url, clock=clock)
    incident_lifecycle(desk, 1)
    clock.advance(minutes=5)
    problem_with_incidents(desk)
    stored = publishable(desk)
    name = topic(partitions=3)

    publish(sqlite_url, broker, name)
    records = read_all(broker, name, expected=len(stored))

    assert len(records) == len(stored)
    by_position = {msgpack.unpackb(r.value)["position"]: r for r in records}
    for notification in stored:
        record = by_position[notification.id]
        value = msgpack.unpackb(record.value, raw=False)
        assert value == envelope(notification, desk.mapper)  # the audit export's builder
        assert tuple(value) == ENVELOPE_KEYS
        assert record.key == value["stream_id"].encode()
        assert dict(record.headers) == {"content-type": b"application/msgpack",
                                        "event-type": value["type"].encode(),
                                        "schema-version": str(value["schema"]).encode()}
        assert value["event_id"] == str(event_id(value["stream_id"], value["version"]))
        assert value["stream_type"] in ("Incident", "Problem")
        assert value["type"].startswith(value["stream_type"])
        assert isinstance(value["schema"], int)
        assert isinstance(value["version"], int)
        assert value["occurred_at"].endswith("Z")
        assert len(value["occurred_at"]) == 27
        assert value["actor"] == "alice"
        assert value["hash"] == chain_hash(
            stream_type=value["stream_type"], stream_id=value["stream_id"],
            version=value["version"], event_type=value["type"], schema=value["schema"],
            occurred_at=value["occurred_at"], actor=value["actor"], data=value["data"],
            prev_hash=value["prev_hash"])
        assert decode_event(record.value).hash_matches()


def test_chains_link_and_each_record_stays_in_one_partition_in_order(
        sqlite_url: str, broker: str, topic: Callable[..., str]) -> None:
    desk = open_service_desk(sqlite_url)
    for index in range(40):
        incident_lifecycle(desk, index)
    problem_with_incidents(desk)
    name = topic(partitions=4)

    publish(sqlite_url, broker, name)
    records = read_all(broker, name, expected=len(publishable(desk)))

    partitions: dict[str, set[int]] = defaultdict(set)
    chains: dict[str, list[dict[str, object]]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        value = msgpack.unpackb(record.value, raw=False)
        partitions[value["stream_id"]].add(record.partition)
        chains[value["stream_id"]].append(value)
    assert len({p for used in partitions.values() for p in used}) > 1
    assert all(len(used) == 1 for used in partitions.values())
    for chain in chains.values():
        assert [event["version"] for event in chain] == list(range(1, len(chain) + 1))
        assert chain[0]["prev_hash"] == GENESIS_HASH
        assert all(later["prev_hash"] == earlier["hash"]
                   for earlier, later in itertools.pairwise(chain))
    assert len(chains) == 40 + 3


def test_a_second_run_publishes_only_what_is_new(
        sqlite_url: str, broker: str, topic: Callable[..., str]) -> None:
    desk = open_service_desk(sqlite_url)
    incident_lifecycle(desk, 1)
    name = topic(partitions=1)
    publish(sqlite_url, broker, name)
    incident_lifecycle(desk, 2)

    publish(sqlite_url, broker, name)

    versions = [(msgpack.unpackb(r.value)["stream_id"], msgpack.unpackb(r.value)["version"])
                for r in read_all(broker, name, expected=10)]
    assert len(versions) == len(set(versions)) == 10
