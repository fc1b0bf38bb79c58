"""Worked example, code version 1 (docs/operations.md): a record and its read model."""

from collections.abc import Sequence
from typing import Self
from uuid import uuid4

from domain.aggregate import AuditedAggregate, Stamp
from projections.projection import Envelope, Projection, Rows, Table
from projections.store import Dialect


class Ticket(AuditedAggregate):
    def __init__(self) -> None:
        super().__init__()
        self.title = ""

    class Opened(AuditedAggregate.Created):
        title: str
        service: str

        def apply(self, ticket: "Ticket") -> None:
            ticket.title = self.title

    @classmethod
    def open(cls, *, title: str, service: str, stamp: Stamp) -> Self:
        return cls._start(cls.Opened, id=uuid4(), stamp=stamp, title=title, service=service)


class TicketSummaries(Projection):
    name = "tickets"
    events = (Ticket.Opened,)
    version = 1
    tables = (Table(name="tickets", key=("id",),
                    columns=(("id", "TEXT"), ("title", "TEXT"), ("service", "TEXT"))),)

    def apply(self, batch: Sequence[Envelope], tables: dict[str, Rows],
              dialect: Dialect) -> None:
        for envelope in batch:
            event = envelope.event
            if isinstance(event, Ticket.Opened):
                tables["tickets"].put({"id": str(event.originator_id), "title": event.title,
                                       "service": event.service})
