"""The relay's Kafka records, built from log rows: byte for byte `to_wire(envelope(...))`.

The envelope itself is laid out by `envelope_of`, as for every other reader of the store; what
the relay spares per event is the rest of the general road: the event kind and the headers
looked up anew, a WireRecord, and a msgpack Packer set up for each value. A test holds the
two roads together over every event type.
"""

from collections.abc import Iterable
from typing import Any

import msgpack
from eventsourcing.persistence import Mapper

from adapters.envelope import EventKind, envelope_of, event_kind, state_decoder
from adapters.kafka.rows import Row
from adapters.kafka.wire import PUBLISHED_STREAM_TYPES, Headers, wire_headers

Record = tuple[bytes, bytes, Headers]
"""A Kafka record's key, value and headers (a WireRecord's fields)."""


class WireEncoder:
    """Rows of the notification log -> the records of the published ones, in order."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self._decode = state_decoder(mapper)
        self._pack = msgpack.Packer(use_bin_type=True).pack  # what msgpack.packb builds each time
        self._kinds: dict[str, EventKind | None] = {}
        """Per stored topic, its kind if published, else None."""

    def records(self, rows: Iterable[Row]) -> list[Record]:
        kinds, decode, pack = self._kinds, self._decode, self._pack
        records = []
        for position, stream_id, version, topic, state in rows:
            kind = kinds.get(topic, _UNSEEN)
            if kind is _UNSEEN:
                kind = kinds[topic] = self._kind(topic)
            if kind is None:
                continue
            value = envelope_of(position, stream_id, version=version, kind=kind,
                                values=decode(state))
            records.append((stream_id.encode(), pack(value),
                            wire_headers(kind.type, value["schema"])))
        return records

    @staticmethod
    def _kind(topic: str) -> EventKind | None:
        kind = event_kind(topic)
        return kind if kind.stream_type in PUBLISHED_STREAM_TYPES else None


_UNSEEN = EventKind("", "")
