"""The envelope of design section 6 as a typed, frozen value, decoded and checked from bytes."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgpack

from domain.audit_chain import chain_hash, format_timestamp

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class UndecodableEvent(ValueError):
    """The bytes are not a section 6 envelope; the message says which field is wrong."""


@dataclass(frozen=True)
class Event:
    """One published Incident or Problem event; `(stream_id, version)` identifies it."""

    event_id: UUID
    position: int
    stream_id: UUID
    stream_type: str
    version: int
    type: str
    schema: int
    occurred_at: datetime
    actor: str
    data: Mapping[str, Any]
    hash: str
    prev_hash: str

    def hash_matches(self) -> bool:
        """Recompute the section 7 hash: the envelope is exactly what was written."""
        return self.hash == chain_hash(
            stream_type=self.stream_type, stream_id=self.stream_id, version=self.version,
            event_type=self.type, schema=self.schema,
            occurred_at=format_timestamp(self.occurred_at), actor=self.actor,
            data=self.data, prev_hash=self.prev_hash)


_FIELDS: dict[str, type | tuple[type, ...]] = {
    "event_id": str, "position": int, "stream_id": str, "stream_type": str, "version": int,
    "type": str, "schema": int, "occurred_at": str, "actor": str, "data": dict, "hash": str,
    "prev_hash": str,
}


def decode_event(value: bytes) -> Event:
    """msgpack envelope -> Event; unknown extra keys are ignored (added fields stay compatible)."""
    try:
        raw = msgpack.unpackb(value, raw=False)
    except (ValueError, TypeError) as bad:  # msgpack's errors; TypeError: unhashable map key
        raise UndecodableEvent(f"not msgpack: {bad}") from bad
    if not isinstance(raw, dict):
        raise UndecodableEvent(f"envelope is a {type(raw).__name__}, not a map")
    for name, kind in _FIELDS.items():
        if not isinstance(raw.get(name), kind) or isinstance(raw.get(name), bool):
            raise UndecodableEvent(f"field {name!r} is missing or not {kind}")
    try:
        occurred_at = datetime.strptime(raw["occurred_at"], TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        return Event(
            event_id=UUID(raw["event_id"]), position=raw["position"],
            stream_id=UUID(raw["stream_id"]), stream_type=raw["stream_type"],
            version=raw["version"], type=raw["type"], schema=raw["schema"],
            occurred_at=occurred_at, actor=raw["actor"], data=raw["data"], hash=raw["hash"],
            prev_hash=raw["prev_hash"])
    except ValueError as bad:
        raise UndecodableEvent(f"malformed field: {bad}") from bad
