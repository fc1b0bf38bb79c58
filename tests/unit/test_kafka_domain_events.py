"""A published envelope turns back into the very domain event the store holds."""

import re
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest

from adapters.envelope import envelope, event_kind
from adapters.kafka.domain_events import EventClass, domain_event, event_classes
from adapters.kafka.events import Event, UndecodableEvent, decode_event
from adapters.kafka.wire import PUBLISHED_STREAM_TYPES, to_wire
from domain.aggregate import event_type_name
from domain.audit_chain import format_timestamp
from domain.incident import Incident
from domain.service_desk import ServiceDesk
from tests.integration.kafka.stories import every_event_type


def published(desk: ServiceDesk) -> list[tuple[Any, Event]]:
    """(stored notification, its envelope as a consumer decodes it) for each published event."""
    return [(notification, decode_event(to_wire(envelope(notification, desk.mapper)).value))
            for notification in desk.recorder.select_notifications(1, 10_000)
            if event_kind(notification.topic).stream_type in PUBLISHED_STREAM_TYPES]


def test_every_event_type_comes_back_equal_to_the_stored_one(desk: ServiceDesk) -> None:
    every_event_type(desk)
    seen = set()

    for notification, event in published(desk):
        stored = desk.mapper.to_domain_event(notification)
        rebuilt = domain_event(event)

        assert type(rebuilt) is type(stored)
        assert rebuilt.__dict__ == stored.__dict__
        assert {key: type(value) for key, value in rebuilt.__dict__.items()} == {
            key: type(value) for key, value in stored.__dict__.items()}
        assert format_timestamp(rebuilt.timestamp) == format_timestamp(stored.timestamp)
        seen.add(event.type)

    concrete = {name for name, known in event_classes().items()
                if known.cls not in (Incident.Event, Incident.Created)
                and not name.endswith(("Event", "Created"))}
    assert seen == concrete


class Renamed(Incident.Event):
    """A schema-2 event whose version-1 form had `note` instead of `text`, and no ticket."""

    class_version: ClassVar[int] = 2
    text: str
    ticket: UUID | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["text"] = state.pop("note")
        state["ticket"] = None


def test_an_older_schema_is_upcast_and_a_newer_one_refused(desk: ServiceDesk) -> None:
    every_event_type(desk)
    _, sample = published(desk)[0]
    old = Event(**{**sample.__dict__, "type": "IncidentRenamed", "schema": 1,
                   "data": {"note": "written under schema 1"}})
    known = EventClass(Renamed, Incident)

    state = known.state(old)

    assert state["text"] == "written under schema 1"
    assert state["ticket"] is None
    assert "note" not in state
    ticket = uuid4()
    current = Event(**{**old.__dict__, "schema": 2,
                       "data": {"text": "new", "ticket": str(ticket)}})
    assert known.state(current)["ticket"] == ticket
    newer = Event(**{**sample.__dict__, "schema": 99})
    with pytest.raises(UndecodableEvent, match="upgrade the projector"):
        domain_event(newer)


def test_an_unknown_type_or_a_malformed_value_is_refused_with_the_reason(
        desk: ServiceDesk) -> None:
    every_event_type(desk)
    _, sample = published(desk)[0]
    assert event_type_name(Incident.Opened) == sample.type

    with pytest.raises(UndecodableEvent, match="unknown event type 'IncidentTeleported'"):
        domain_event(Event(**{**sample.__dict__, "type": "IncidentTeleported"}))
    with pytest.raises(UndecodableEvent, match=re.escape("field 'priority': 'P9' is not")):
        domain_event(Event(**{**sample.__dict__,
                              "data": {**sample.data, "priority": "P9"}}))
