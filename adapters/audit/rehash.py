"""The per-event half of verification: decode a stored event and recompute its hash.

It needs nothing but the row itself (no state carried between events), so it can run where
it is cheapest (pipeline.py): in the verifying process for a record or a small store, in
worker processes for a whole large store. Linking the results into chains, seals and numbers
happens in the verifying process, in log order (chains.py, seals.py, numbers.py).
"""

from collections.abc import Callable
from typing import NamedTuple

import msgpack
from eventsourcing.persistence import Notification
from eventsourcing.utils import TopicError

from adapters.envelope import event_kind, json_state, own_data
from domain.audit_chain import JsonValue, chain_hash

Decode = Callable[[bytes], dict[str, JsonValue]]
UNREADABLE = (ValueError, KeyError, TypeError, TopicError, msgpack.UnpackException)
"""What a damaged row can raise while it is decoded and rehashed."""


class Rehashed(NamedTuple):
    """One stored event, decoded and rehashed: all that linking it into the checks needs."""

    position: int
    stream_id: str
    """Lower-case hyphenated, as hashed."""
    version: int
    stored_hash: str
    """As stored ("" if unreadable), matching or not: seals were built on the stored one."""
    prev_hash: str
    recomputed: str
    stream_type: str
    type: str
    """The event's wire type name, "" if unreadable."""
    number: str | None
    """An Opened event's number, or the number a NumberIssued event issued."""
    record: str | None
    """The record a NumberIssued event issued its number to."""
    error: str | None
    """Why the row cannot be read as an event; None if it can."""


def rehash(notification: Notification, decode: Decode = json_state) -> Rehashed:
    """Recompute one stored event's hash (design section 7) from its stored state."""
    position, version = notification.id, notification.originator_version
    stream_id = str(notification.originator_id)
    try:
        kind = event_kind(notification.topic)
        state = decode(notification.state)
        stored_hash, prev_hash = state["hash"], state["prev_hash"]
        occurred_at, actor = state["timestamp"], state["actor"]
        schema = state.get("class_version", 1)
        if not (type(stored_hash) is str and type(prev_hash) is str
                and type(occurred_at) is str and type(actor) is str and type(schema) is int):
            raise TypeError("hash, prev_hash, timestamp or actor is not a str, "
                            "or class_version not an int")
        recomputed = chain_hash(
            stream_type=kind.stream_type, stream_id=stream_id, version=version,
            event_type=kind.type, schema=schema, occurred_at=occurred_at, actor=actor,
            data=own_data(state),
            prev_hash=prev_hash)
    except UNREADABLE as error:
        return Rehashed(position, stream_id, version, "", "", "", "", "", None, None,
                        f"{type(error).__name__}: {error}")
    number, record = state.get("number"), state.get("record")
    return Rehashed(position, stream_id, version, stored_hash, prev_hash, recomputed,
                    kind.stream_type, kind.type, number if type(number) is str else None,
                    record if type(record) is str else None, None)
