"""Which incident an alert key points to, kept in the event store so every process agrees."""

from functools import lru_cache
from typing import Any, Self
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.aggregate import AuditedAggregate, Stamp


class AlertCorrelation(AuditedAggregate):
    """One per (source, dedup key), with a deterministic id.

    Saved in the same transaction as the incident it points to: two processes opening an
    incident for the same new key collide on this record's version, and the loser retries
    (and then finds the winner's incident). Every event carries the whole state, so loading
    it reads only its last event.
    """

    def __init__(self) -> None:
        super().__init__()
        self.incident = UUID(int=0)
        self.incident_number = ""

    @staticmethod
    @lru_cache(maxsize=100_000)
    def id_for(source: str, dedup_key: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"tandem:alert-correlation:{source}\x00{dedup_key}")

    class Event(AuditedAggregate.Event):
        pass

    class Started(AuditedAggregate.Created):
        source: str
        dedup_key: str
        incident: UUID
        incident_number: str

        def apply(self, correlation: "AlertCorrelation") -> None:
            correlation.incident = self.incident
            correlation.incident_number = self.incident_number

    class Repointed(Event):
        """The key's previous incident was finished: its alerts now go to a new one."""

        incident: UUID
        incident_number: str

        def apply(self, correlation: "AlertCorrelation") -> None:
            correlation.incident = self.incident
            correlation.incident_number = self.incident_number

    @classmethod
    def start(cls, *, source: str, dedup_key: str, incident: UUID, incident_number: str,
              stamp: Stamp) -> Self:
        return cls._start(cls.Started, id=cls.id_for(source, dedup_key), stamp=stamp,
                          source=source, dedup_key=dedup_key, incident=incident,
                          incident_number=incident_number)

    @classmethod
    def resume(cls, last_event: Any) -> Self:
        """From the last event alone: each event names the incident the key points to."""
        correlation = cls._resumed(last_event)
        correlation.incident = last_event.incident
        correlation.incident_number = last_event.incident_number
        return correlation

    def repoint(self, *, incident: UUID, incident_number: str, stamp: Stamp) -> None:
        self._trigger(self.Repointed, stamp=stamp, incident=incident,
                      incident_number=incident_number)
