"""Base for Tandem's aggregates: every event names its actor and extends the audit chain."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.audit_chain import GENESIS_HASH, chain_hash, event_data, format_timestamp


@dataclass(frozen=True)
class Stamp:
    """Who causes an event and when, as decided by the command layer (the clock is injected)."""

    actor: str
    at: datetime


def event_type_name(event_class: type[Any]) -> str:
    """`Incident.Opened` -> `IncidentOpened`: unique across aggregates, used on the wire."""
    return str(event_class.__qualname__).replace(".", "")


def stream_type_name(event_class: type[Any]) -> str:
    return str(event_class.__qualname__).split(".", 1)[0]


_CONTAINERS = frozenset({list, dict, set})


class AuditedAggregate(Aggregate):
    """An aggregate whose events carry `actor`, `prev_hash` and `hash` (design section 7).

    An event's `apply` rebinds attributes or adds to and removes from the aggregate's own
    lists, dicts and sets; it never changes a value held inside one. That is what lets `copy`
    share those values.
    """

    def __init__(self) -> None:
        self.head_hash = GENESIS_HASH

    class Event(Aggregate.Event):
        actor: str
        prev_hash: str
        hash: str

        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            aggregate.head_hash = self.hash
            return aggregate

    class Created(Event, Aggregate.Created):
        pass

    @classmethod
    def _start(cls, event_class: type[Created], *, id: UUID, stamp: Stamp, **fields: Any) -> Self:  # noqa: A002 (eventsourcing's name)
        """Create the aggregate with its first, chained event."""
        chained = _chained(event_class, id, version=1, at=stamp.at, actor=stamp.actor,
                           prev_hash=GENESIS_HASH, fields=fields)
        return cls._create(event_class, id=id, **chained)

    @classmethod
    def _resumed(cls, last_event: Any) -> Self:
        """The aggregate as its last event left it, for aggregates whose whole state that event
        carries: O(1) however long the stream (no replay, no snapshot)."""
        aggregate = cls.__new__(cls)
        aggregate.__base_init__(
            originator_id=last_event.originator_id,
            originator_version=last_event.originator_version,
            timestamp=last_event.timestamp,
        )
        aggregate.head_hash = last_event.hash
        return aggregate

    def copy(self) -> Self:
        """A copy that events applied to either leave the other as it was: its lists, dicts and
        sets are new, their items shared. Microseconds where a deep copy of a record with
        thousands of notes takes milliseconds."""
        twin = type(self).__new__(type(self))
        twin.__dict__.update({name: value.copy() if type(value) in _CONTAINERS else value
                              for name, value in vars(self).items()})
        return twin

    def _trigger(self, event_class: type[Event], *, stamp: Stamp, **fields: Any) -> None:
        """Record the next event; its time never precedes the previous one, so as-of reads hold."""
        at = max(stamp.at, self.modified_on)
        chained = _chained(event_class, self.id, version=self.version + 1, at=at,
                           actor=stamp.actor, prev_hash=self.head_hash, fields=fields)
        self.trigger_event(event_class, **chained)


def _chained(
    event_class: type[Any],
    stream_id: UUID,
    *,
    version: int,
    at: datetime,
    actor: str,
    prev_hash: str,
    fields: dict[str, Any],
) -> dict[str, Any]:
    digest = chain_hash(
        stream_type=stream_type_name(event_class),
        stream_id=stream_id,
        version=version,
        event_type=event_type_name(event_class),
        schema=getattr(event_class, "class_version", 1),
        occurred_at=format_timestamp(at),
        actor=actor,
        data=event_data(fields),
        prev_hash=prev_hash,
    )
    return {**fields, "timestamp": at, "actor": actor, "prev_hash": prev_hash, "hash": digest}
