"""The relay's own road from the store to Kafka records gives, byte for byte, what the general
one (`to_wire(envelope(notification))`, as the audit export builds envelopes) gives, and what
design section 6 spells out from the decoded stored state: key, value and headers alike."""

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4, uuid5

import msgpack
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.utils import get_topic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import open_service_desk
from adapters.envelope import EVENT_ID_NAMESPACE, envelope, event_kind, stored_state
from adapters.kafka.domain_events import event_classes
from adapters.kafka.encoder import Record, WireEncoder
from adapters.kafka.rows import SqliteRows, row_reader
from adapters.kafka.wire import PUBLISHED_STREAM_TYPES, to_wire
from domain.audit_chain import event_data, to_json_data
from domain.service_desk import ServiceDesk
from tests.integration.kafka.stories import every_event_type
from tests.integration.tampering import RawStore
from tests.property.test_canonical_decoding import values as stored_values

EVERY_TYPE = sorted(get_topic(known.cls) for name, known in event_classes().items()
                    if not name.endswith(("Event", "Created")))
"""The stored topic of every published event type (the aggregates' bases left out)."""


class TickingClock:
    """Moves on by the next of `steps` at every reading: no two events share a timestamp."""

    def __init__(self, start: datetime, steps: list[timedelta]) -> None:
        self.now, self.steps, self.readings = start, steps, 0

    def __call__(self) -> datetime:
        self.now += self.steps[self.readings % len(self.steps)]
        self.readings += 1
        return self.now


@contextmanager
def sqlite_desk(clock: Callable[[], datetime] | None = None) -> Iterator[ServiceDesk]:
    """A desk on a fresh SQLite file, one per hypothesis example."""
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/tandem.db"
        yield open_service_desk(url) if clock is None else open_service_desk(url, clock=clock)


def section_6_record(notification: Notification, desk: ServiceDesk) -> Record:
    """The record as design section 6 describes it, built the slow, obvious way: the stored
    state decoded into Python values, then put in canonical JSON form; uuid5 for the id."""
    state = stored_state(desk.mapper, notification)
    values = to_json_data(state)
    assert isinstance(values, dict)
    kind = event_kind(notification.topic)
    stream_id = str(notification.originator_id)
    version = notification.originator_version
    schema = values.get("class_version", 1)
    value = {"event_id": str(uuid5(EVENT_ID_NAMESPACE, f"{stream_id}:{version}")),
             "position": notification.id, "stream_id": stream_id,
             "stream_type": kind.stream_type, "version": version, "type": kind.type,
             "schema": schema, "occurred_at": values["timestamp"], "actor": values["actor"],
             "data": event_data(state), "hash": values["hash"],
             "prev_hash": values["prev_hash"]}
    return (stream_id.encode(), msgpack.packb(value, use_bin_type=True),
            [("content-type", b"application/msgpack"), ("event-type", kind.type.encode()),
             ("schema-version", str(schema).encode())])


def assert_relay_records_are_the_reference_ones(desk: ServiceDesk) -> list[Notification]:
    """Returns the published notifications, after comparing their three renderings."""
    read = row_reader(desk.recorder)
    assert isinstance(read, SqliteRows)
    relayed = WireEncoder(desk.mapper).records(read(1, 1_000_000))
    published = [n for n in desk.recorder.select_notifications(1, 1_000_000)
                 if event_kind(n.topic).stream_type in PUBLISHED_STREAM_TYPES]
    general = [to_wire(envelope(n, desk.mapper)) for n in published]

    assert relayed == [(r.key, r.value, r.headers) for r in general]
    assert relayed == [section_6_record(n, desk) for n in published]
    return published


texts = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1,
                max_size=40).filter(str.strip)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2400, 1, 1)),
       steps=st.lists(st.timedeltas(min_value=timedelta(microseconds=1),
                                    max_value=timedelta(days=3)), min_size=1, max_size=5),
       lifecycles=st.lists(st.tuples(texts, texts, texts, st.integers(1, 3),
                                     st.integers(1, 3)), max_size=3))
def test_every_event_type_is_relayed_byte_for_byte_as_the_reference_builds_it(
        start: datetime, steps: list[timedelta],
        lifecycles: list[tuple[str, str, str, int, int]]) -> None:
    with sqlite_desk(TickingClock(start.replace(tzinfo=UTC), steps)) as desk:
        every_event_type(desk)
        for title, actor, note, impact, urgency in lifecycles:
            number = desk.open_incident(actor=actor, title=title, service="email",
                                        impact=impact, urgency=urgency).number
            desk.assign_incident(number, actor=actor, group=title[:100], assignee=actor[:100])
            desk.add_incident_note(number, actor=actor, text=note)
            desk.resolve_incident(number, actor=actor, code="solution_provided", notes=note)

        published = assert_relay_records_are_the_reference_ones(desk)

    assert sorted({n.topic for n in published}) == EVERY_TYPE


own_fields = st.dictionaries(st.one_of(st.text(max_size=12), st.integers(-5, 5)),
                             stored_values, max_size=6)


@settings(max_examples=60, deadline=None)
@given(stored=st.lists(st.tuples(st.sampled_from(EVERY_TYPE), own_fields,
                                 st.datetimes(min_value=datetime(1, 1, 2),
                                              max_value=datetime(9999, 12, 30)),
                                 st.text(), st.sampled_from([None, 1, 2, 7])),
                       min_size=1, max_size=8))
def test_any_stored_state_is_relayed_byte_for_byte_as_the_reference_builds_it(
        stored: list[tuple[str, dict[Any, Any], datetime, str, int | None]]) -> None:
    """States no command writes today (older or newer schemas, nested maps and lists, every
    value type the codec stores, timestamps before 1970) are carried over all the same."""
    with sqlite_desk() as desk:
        events = []
        for version, (topic, own, moment, actor, schema) in enumerate(stored, 1):
            state = {**own, "timestamp": moment.replace(tzinfo=UTC), "actor": actor,
                     "hash": f"{version:064x}", "prev_hash": f"{version - 1:064x}",
                     **({} if schema is None else {"class_version": schema})}
            events.append(StoredEvent(originator_id=uuid4(), originator_version=version,
                                      topic=topic, state=desk.mapper.transcoder.encode(state)))
        desk.recorder.insert_events(events)

        assert len(assert_relay_records_are_the_reference_ones(desk)) == len(stored)


def test_the_relay_reads_the_rows_select_notifications_gives_gaps_included(
        store_url: str) -> None:
    desk = open_service_desk(store_url)
    every_event_type(desk)
    RawStore(store_url).delete_positions(1, 2, 5, 6, 7, 30)
    last = desk.recorder.max_notification_id()
    assert last is not None
    read = row_reader(desk.recorder)
    assert type(read).__name__ == ("PostgresRows" if store_url.startswith("postgres")
                                   else "SqliteRows")

    for start in range(1, last + 2):
        for limit in (1, 3, 1_000):
            assert read(start, limit) == [
                (n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
                for n in desk.recorder.select_notifications(start, limit)]
    assert all(UUID(stream_id) for _, stream_id, *_ in read(1, 1_000))
    desk.close()
