"""A published envelope back into the domain event the store holds, for Kafka-fed projections.

The envelope's `data` is in JSON types (design section 6); the event class's annotations say
what each field was (UUID, enum, datetime, Decimal ...), so the values are turned back field by
field. The result equals `ServiceDesk.mapper.to_domain_event` of the stored event, except that
datetimes in `data` come back in UTC (the same instant; the envelope carries no zone).
"""

import types
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from adapters.kafka.events import Event, UndecodableEvent
from domain.aggregate import AuditedAggregate, event_type_name
from domain.audit_chain import format_timestamp
from domain.incident import Incident
from domain.problem import Problem
from projections.projection import Envelope

PUBLISHED_AGGREGATES: tuple[type[AuditedAggregate], ...] = (Incident, Problem)
"""Whose events the relay publishes (`wire.PUBLISHED_STREAM_TYPES`)."""

Convert = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


_SCALARS: dict[Any, Convert] = {
    str: _same, int: _same, float: _same, bool: _same, Any: _same, type(None): _same,
    datetime: _datetime, date: _date, UUID: _uuid, Decimal: _decimal,
}


def converter(hint: Any) -> Convert:
    """JSON value -> the annotated type; a value already of that type passes unchanged."""
    if hint in _SCALARS:
        return _SCALARS[hint]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint  # Enum(value) and Enum(member) both give the member
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        kinds = [arg for arg in args if arg is not type(None)]
        if len(kinds) != 1:
            raise TypeError(f"cannot decode a union of {kinds} from JSON")
        inner = converter(kinds[0])
        return lambda value: None if value is None else inner(value)
    if origin is list:
        item = converter(args[0]) if args else _same
        return lambda value: [item(element) for element in value]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = converter(args[0])
            return lambda value: tuple(item(element) for element in value)
        items = [converter(arg) for arg in args]
        return lambda value: tuple(c(e) for c, e in zip(items, value, strict=True))
    if origin is dict:
        key, item = (converter(args[0]), converter(args[1])) if args else (_same, _same)
        return lambda value: {key(k): item(v) for k, v in value.items()}
    raise TypeError(f"cannot decode a {hint!r} from JSON")


class EventClass:
    """One event class: how to rebuild its state from an envelope."""

    def __init__(self, cls: type[Any], aggregate: type[Aggregate]) -> None:
        self.cls = cls
        hints = get_type_hints(cls)
        self.fields = {
            name: converter(hint) for name, hint in hints.items()
            if get_origin(hint) is not ClassVar and not isinstance(hint, TypeVar)
            and name not in ("originator_id", "originator_version", "timestamp")}
        self.created = issubclass(cls, Aggregate.Created)
        self.aggregate_topic = get_topic(aggregate)
        self.class_version: int = getattr(cls, "class_version", 1)

    def state(self, event: Event) -> dict[str, Any]:
        """The stored state as the mapper decodes it, upcast to this code's schema."""
        state: dict[str, Any] = dict(event.data)
        state.update(actor=event.actor, prev_hash=event.prev_hash, hash=event.hash)
        if self.created:
            state["originator_topic"] = self.aggregate_topic
        for version in range(event.schema, self.class_version):
            # As the mapper does, but on JSON values: upcasters that only add or rename keys
            # (the playbook's kind) work unchanged; typed values they add pass through.
            getattr(self.cls, f"upcast_v{version}_v{version + 1}")(state)
        for name, convert in self.fields.items():
            if name in state:
                try:
                    state[name] = convert(state[name])
                except (ValueError, TypeError, AttributeError) as bad:
                    raise UndecodableEvent(f"{event.type} {event.stream_id} v{event.version}: "
                                           f"field {name!r}: {bad}") from bad
        state["timestamp"] = event.occurred_at
        state["originator_id"] = event.stream_id
        state["originator_version"] = event.version
        return state


@cache
def event_classes() -> Mapping[str, EventClass]:
    """Wire type name (`IncidentOpened`) -> its class, for every published aggregate."""
    found = {}
    for aggregate in PUBLISHED_AGGREGATES:
        for value in vars(aggregate).values():
            if isinstance(value, type) and issubclass(value, AuditedAggregate.Event):
                found[event_type_name(value)] = EventClass(value, aggregate)
    return found


def domain_event(event: Event) -> Any:
    """The domain event object, built the way eventsourcing's mapper builds it."""
    known = event_classes().get(event.type)
    if known is None:
        raise UndecodableEvent(f"unknown event type {event.type!r}: upgrade the projector")
    if event.schema > known.class_version:
        raise UndecodableEvent(f"{event.type} has schema {event.schema}; this code knows up "
                               f"to {known.class_version}: upgrade the projector")
    state = known.state(event)
    rebuilt = object.__new__(known.cls)
    object.__setattr__(rebuilt, "__dict__", state)
    return rebuilt


def projection_envelope(event: Event) -> Envelope:
    """What projections consume, the same as the store-fed runner gives them."""
    return Envelope(event.position, domain_event(event), str(event.stream_id),
                    format_timestamp(event.occurred_at))
