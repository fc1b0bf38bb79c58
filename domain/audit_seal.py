"""The store-wide audit anchor: what per-record hash chains cannot see on their own.

A record's chain proves that its events were not changed, reordered or removed *between* its
first and last stored event. It cannot show that the last events were cut off, or that a whole
record vanished. A seal can: it records a running digest over every event in notification-log
order up to a position, how many events that covers, and each record's head version, so a
later recomputation from the store must arrive at the same values.
"""

import hashlib
from typing import Any, Self
from uuid import NAMESPACE_URL, UUID, uuid5

import msgpack

from domain.aggregate import AuditedAggregate, Stamp

SEAL_TAG = "tandem-seal-v1"
GENESIS_DIGEST = "0" * 64
"""The running digest before the first event."""
AUDIT_SEAL_ID = uuid5(NAMESPACE_URL, "tandem:audit-seal")
"""The one seal stream of a store; its own events are left out of the digest."""


def extend_digest(digest: str, *, stream_id: UUID | str, version: int, event_hash: str) -> str:
    """digest_n = sha256(msgpack([tag, digest_n-1, stream_id, version, hash])), lower-case hex.

    Only the event's stored `hash` enters, which already covers its content and its link to
    the previous event of its record; so the digest covers every event in log order.
    """
    packed = msgpack.packb([SEAL_TAG, digest, str(stream_id), version, event_hash],
                           use_bin_type=True)
    return hashlib.sha256(packed).hexdigest()


class AuditSeal(AuditedAggregate):
    """The chain of seals of one store; each seal extends the digest of the one before."""

    def __init__(self) -> None:
        super().__init__()
        self.position = 0
        self.events = 0
        self.digest = GENESIS_DIGEST

    class Event(AuditedAggregate.Event):
        pass

    class Started(AuditedAggregate.Created):
        pass

    class Sealed(Event):
        position: int
        """The notification id of the last event covered."""
        events: int
        """How many events (outside the seal stream) the log holds up to `position`."""
        digest: str
        """The running digest after the event at `position`."""
        heads: dict[str, int]
        """Each record written since the previous seal -> its version at `position`."""

        def apply(self, seal: "AuditSeal") -> None:
            seal.position = self.position
            seal.events = self.events
            seal.digest = self.digest

    @classmethod
    def start(cls, *, stamp: Stamp) -> Self:
        return cls._start(cls.Started, id=AUDIT_SEAL_ID, stamp=stamp)

    @classmethod
    def resume(cls, *, last_event: Any) -> Self:
        """Rebuild from the last event alone: a seal's state is its last seal and head hash."""
        seal = cls._resumed(last_event)
        seal.position = getattr(last_event, "position", 0)
        seal.events = getattr(last_event, "events", 0)
        seal.digest = getattr(last_event, "digest", GENESIS_DIGEST)
        return seal

    def seal(self, *, position: int, events: int, digest: str, heads: dict[str, int],
             stamp: Stamp) -> None:
        """Record that the log up to `position` adds up to `digest`."""
        self._trigger(self.Sealed, stamp=stamp, position=position, events=events,
                      digest=digest, heads=heads)
