"""The audit timeline: every event of every record, in order, with a one-line summary."""

from collections.abc import Sequence
from functools import cache
from typing import Any

from domain.aggregate import event_type_name, stream_type_name
from domain.incident import Incident
from domain.problem import Problem
from projections.projection import Envelope, Projection, Rows, Table
from projections.store import Dialect
from projections.summaries import summarize

RECORD_EVENTS = (Incident.Event, Incident.Opened, Problem.Event, Problem.Opened)


@cache
def _names(event_class: type[Any]) -> tuple[str, str]:
    """(stream type, event type): string work once per class, not once per event."""
    return stream_type_name(event_class), event_type_name(event_class)


class Timeline(Projection):
    name = "timeline"
    events = RECORD_EVENTS
    rebuild_cost = 3.5
    version = 1
    tables = (Table(
        name="timeline",
        columns=(("position", "BIGINT"), ("stream_id", "TEXT NOT NULL"),
                 ("stream_type", "TEXT NOT NULL"), ("version", "INTEGER NOT NULL"),
                 ("type", "TEXT NOT NULL"), ("occurred_at", "TEXT NOT NULL"),
                 ("actor", "TEXT NOT NULL"), ("summary", "TEXT NOT NULL")),
        key=("position",),
        indexes=(("stream_id", "version"),),
    ),)

    def apply(self, batch: Sequence[Envelope], tables: dict[str, Rows],
              dialect: Dialect) -> None:
        rows = tables["timeline"]
        for envelope in batch:
            event = envelope.event
            if isinstance(event, RECORD_EVENTS):
                stream_type, event_type = _names(type(event))
                rows.append({
                    "position": envelope.position,
                    "stream_id": envelope.stream_id,
                    "stream_type": stream_type,
                    "version": event.originator_version,
                    "type": event_type,
                    "occurred_at": envelope.occurred_at,
                    "actor": event.actor,
                    "summary": summarize(event),
                })
