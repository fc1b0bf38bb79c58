"""The tamper-evident hash chain of design section 7, computable with hashlib and msgpack alone."""

import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import msgpack

CHAIN_TAG = "tandem-event-v1"
GENESIS_HASH = "0" * 64
"""The `prev_hash` of every aggregate's first event."""

ENVELOPE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic",
     "actor", "prev_hash", "hash", "class_version"}
)
"""Stored event keys that are metadata, not part of the event's own `data`."""

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


def format_timestamp(moment: datetime) -> str:
    """UTC as exactly `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the one form hashed and published."""
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {moment.isoformat()} has no time zone")
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # isoformat is several times faster than strftime, and always pads the year to 4 digits.
    return moment.isoformat(timespec="microseconds")[:26] + "Z"


def to_json_data(value: Any) -> JsonValue:
    """Canonical JSON-typed form of an event value: keys sorted, rich types as strings."""
    if isinstance(value, Enum):
        return to_json_data(value.value)
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): to_json_data(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [to_json_data(item) for item in value]
    raise TypeError(f"cannot put {type(value).__name__} in an event's data")


def event_data(event_state: Mapping[str, Any]) -> dict[str, JsonValue]:
    """The event's own fields (no envelope metadata), canonicalised."""
    own = {key: value for key, value in event_state.items() if key not in ENVELOPE_FIELDS}
    data = to_json_data(own)
    assert isinstance(data, dict)
    return data


def chain_hash(
    *,
    stream_type: str,
    stream_id: UUID | str,
    version: int,
    event_type: str,
    schema: int,
    occurred_at: str,
    actor: str,
    data: Mapping[str, JsonValue],
    prev_hash: str,
) -> str:
    """sha256 over the msgpack list that design section 7 fixes, as lower-case hex."""
    packed = msgpack.packb(
        [CHAIN_TAG, stream_type, str(stream_id), version, event_type, schema,
         occurred_at, actor, data, prev_hash],
        use_bin_type=True,
    )
    return hashlib.sha256(packed).hexdigest()
