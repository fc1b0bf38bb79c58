"""Worked example, code version 2 (docs/operations.md): `Ticket.Opened` gains `channel`;
the read model gains a `channel` column."""

from collections.abc import Sequence
from typing import Any, Self
from uuid import uuid4

from domain.aggregate import AuditedAggregate, Stamp
from projections.projection import Envelope, Projection, Rows, Table
from projections.store import Dialect


class Ticket(AuditedAggregate):
    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.channel = ""

    class Opened(AuditedAggregate.Created):
        class_version = 2
        title: str
        service: str
        channel: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Events written before channels existed were all logged at the service desk."""
            state["channel"] = "service_desk"

        def apply(self, ticket: "Ticket") -> None:
            ticket.title = self.title
            ticket.channel = self.channel

    @classmethod
    def open(cls, *, title: str, service: str, channel: str, stamp: Stamp) -> Self:
        return cls._start(cls.Opened, id=uuid4(), stamp=stamp, title=title, service=service,
                          channel=channel)


class TicketSummaries(Projection):
    name = "tickets"
    events = (Ticket.Opened,)
    version = 2
    tables = (Table(name="tickets", key=("id",),
                    columns=(("id", "TEXT"), ("title", "TEXT"), ("service", "TEXT"),
                             ("channel", "TEXT"))),)

    def apply(self, batch: Sequence[Envelope], tables: dict[str, Rows],
              dialect: Dialect) -> None:
        for envelope in batch:
            event = envelope.event
            if isinstance(event, Ticket.Opened):
                tables["tickets"].put({"id": str(event.originator_id), "title": event.title,
                                       "service": event.service, "channel": event.channel})
