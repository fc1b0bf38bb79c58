"""The event envelope of design section 6, built from a stored event exactly as it was written.

One builder for every place an event leaves the store (the Kafka relay, `tandem audit export`,
`tandem audit history --json`), so the envelope is the same everywhere and verifiable with the
recipe of design section 7: its `data`, `schema` and `occurred_at` are those of the *stored*
(pre-upcast) state, which is what the event's `hash` covers.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from hashlib import sha1
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import Mapper, Notification, StoredEvent
from eventsourcing.utils import resolve_topic

from adapters.msgpack_codec import MsgpackTranscoder, canonical_order, decode_json_values
from domain.aggregate import event_type_name, stream_type_name
from domain.audit_chain import ENVELOPE_FIELDS, JsonValue, to_json_data

EVENT_ID_NAMESPACE = uuid5(NAMESPACE_URL, "tandem:event")
"""`event_id = uuid5(EVENT_ID_NAMESPACE, "<stream_id>:<version>")`, stream_id as lower-case
hyphenated str: every copy of one event (re-published, re-exported) carries the same id."""

ENVELOPE_KEYS = ("event_id", "position", "stream_id", "stream_type", "version", "type",
                 "schema", "occurred_at", "actor", "data", "hash", "prev_hash")
"""Design section 6, in this order (also the CSV export's columns)."""


@dataclass(frozen=True)
class EventKind:
    """What a stored topic tells about its events: stream type and wire type name."""

    stream_type: str
    type: str


@cache
def event_kind(topic: str) -> EventKind:
    """`domain.incident:Incident.Opened` -> (Incident, IncidentOpened); TopicError if unknown."""
    event_class = resolve_topic(topic)
    return EventKind(stream_type_name(event_class), event_type_name(event_class))


def event_id(stream_id: UUID | str, version: int) -> UUID:
    return uuid5(EVENT_ID_NAMESPACE, f"{stream_id}:{version}")


_NAMESPACE_BYTES = EVENT_ID_NAMESPACE.bytes
_VARIANT = {digit: "89ab"[int(digit, 16) & 0x3] for digit in "0123456789abcdef"}
"""The 17th hex digit of a UUID with its top two bits set to RFC 4122's variant, 0b10."""


def event_id_str(stream_id: str, version: int) -> str:
    """`str(event_id(stream_id, version))` without building UUID objects (the relay's hot path):
    the SHA-1's first 32 hex digits with digit 13 set to the version (5) and 17 to the variant."""
    h = sha1(_NAMESPACE_BYTES + f"{stream_id}:{version}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def stored_state(mapper: Mapper[Any], stored: StoredEvent) -> dict[str, Any]:
    """The state as written: decrypted, decompressed, decoded, but not upcast."""
    return decoded_state(mapper, stored.state)


def decoded_state(mapper: Mapper[Any], data: bytes) -> dict[str, Any]:
    if mapper.cipher is not None:
        data = mapper.cipher.decrypt(data)
    if mapper.compressor is not None:
        data = mapper.compressor.decompress(data)
    state = mapper.transcoder.decode(data)
    if not isinstance(state, dict):
        raise ValueError(f"stored state is a {type(state).__name__}, not a map")
    return state


def state_decoder(mapper: Mapper[Any]) -> Callable[[bytes], dict[str, JsonValue]]:
    """stored state -> its values in the JSON form hashes are computed over (the stored,
    pre-upcast values; map keys in no particular order), by the fastest exact route.

    With Tandem's own configuration (msgpack, no cipher, no compressor) that is `json_state`;
    any other mapper goes through its decoded Python values.
    """
    if (isinstance(mapper.transcoder, MsgpackTranscoder) and mapper.cipher is None
            and mapper.compressor is None):
        return json_state

    def through_python(data: bytes) -> dict[str, JsonValue]:
        values = to_json_data(decoded_state(mapper, data))
        assert isinstance(values, dict)
        return values

    return through_python


def json_state(data: bytes) -> dict[str, JsonValue]:
    """`decode_json_values` for a stored event's state, which must be a map."""
    values = decode_json_values(data)
    if type(values) is not dict:
        raise ValueError(f"stored state is a {type(values).__name__}, not a map")
    return values


def own_data(values: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """The event's own fields from its stored values in JSON form, keys sorted at every level:
    the `data` of the envelope and of the hash (design sections 6 and 7)."""
    keys = values.keys() - ENVELOPE_FIELDS
    if set(map(type, keys)) <= _STR:  # always, as events store their fields; canonical_order's
        # work unrolled one level, as this runs for every event the relay publishes
        return {key: canonical_order(value) if type(value := values[key]) in _CONTAINERS
                else value for key in sorted(keys)}
    own: dict[str, JsonValue] = canonical_order({key: values[key] for key in keys})
    return own


_STR = {str}
_CONTAINERS = (dict, list)


def envelope(notification: Notification, mapper: Mapper[Any]) -> dict[str, Any]:
    """The section 6 envelope of one stored event; `position` is its notification id."""
    # Straight from the stored bytes to JSON values: no Python objects on the way, and exactly
    # the values the hash covers.
    return envelope_of(notification.id, str(notification.originator_id),
                       version=notification.originator_version,
                       kind=event_kind(notification.topic),
                       values=state_decoder(mapper)(notification.state))


def envelope_of(position: int, stream_id: str, *, version: int, kind: EventKind,
                values: dict[str, JsonValue]) -> dict[str, Any]:
    """The envelope from its parts, `values` being the stored state as `state_decoder` gives
    it: the one place that lays it out, for `envelope` and the relay's own reading."""
    return {
        "event_id": event_id_str(stream_id, version),
        "position": position,
        "stream_id": stream_id,
        "stream_type": kind.stream_type,
        "version": version,
        "type": kind.type,
        "schema": values.get("class_version", 1),
        "occurred_at": values["timestamp"],
        "actor": values["actor"],
        "data": own_data(values),
        "hash": values["hash"],
        "prev_hash": values["prev_hash"],
    }
