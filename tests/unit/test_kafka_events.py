"""The consumer side of the envelope: decoding, refusal of bad bytes, de-duplication."""

from pathlib import Path
from uuid import UUID

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.envelope import envelope, event_id, event_id_str
from adapters.kafka.dedup import SeenVersions
from adapters.kafka.events import UndecodableEvent, decode_event
from adapters.kafka.wire import to_wire
from domain.service_desk import ServiceDesk


def test_an_envelope_decodes_to_a_typed_event_whose_hash_verifies(desk: ServiceDesk) -> None:
    opened = desk.open_incident(actor="alice", title="Printer jam", service="print")
    notification = desk.recorder.select_notifications(1, 10)[-1]
    wire = to_wire(envelope(notification, desk.mapper))

    event = decode_event(wire.value)

    assert (event.stream_id, event.version, event.type) == (opened.id, 1, "IncidentOpened")
    assert event.data["title"] == "Printer jam"
    assert event.occurred_at.tzinfo is not None
    assert event.hash_matches()
    assert not decode_event(msgpack.packb({**msgpack.unpackb(wire.value),
                                           "actor": "mallory"})).hash_matches()


@pytest.mark.parametrize("value", [
    b"\xc1", b"", msgpack.packb([1, 2]), msgpack.packb({"event_id": "x"}),
    msgpack.packb({"event_id": "not-a-uuid", "position": 1, "stream_id": "x",
                   "stream_type": "Incident", "version": 1, "type": "T", "schema": 1,
                   "occurred_at": "yesterday", "actor": "a", "data": {}, "hash": "h",
                   "prev_hash": "p"}),
])
def test_bytes_that_are_not_an_envelope_are_refused_with_a_reason(value: bytes) -> None:
    with pytest.raises(UndecodableEvent):
        decode_event(value)


def test_seen_versions_drop_replays_stay_bounded_and_persist() -> None:
    seen = SeenVersions(max_streams=2)
    seen.mark("a", 3)
    seen.mark("b", 1)
    seen.mark("c", 1)

    assert not seen.is_new("c", 1)
    assert seen.is_new("c", 2)
    assert seen.is_new("a", 1)  # forgotten: the least recently active stream
    assert len(seen) == 2
    restored = SeenVersions.restore(seen.snapshot())
    assert not restored.is_new("b", 1)


def test_the_analytics_consumer_in_the_docs_compiles() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "consumers.md").read_text()
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(snippet.splitlines()) <= 25
    compile(snippet, "docs/consumers.md", "exec")


@given(st.uuids(), st.integers(min_value=1, max_value=2**40))
def test_the_fast_event_id_is_the_uuid5_of_the_contract(stream_id: UUID, version: int) -> None:
    assert event_id_str(str(stream_id), version) == str(event_id(stream_id, version))
