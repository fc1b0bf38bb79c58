"""Where commands load records from: the store's latest state, fast however long the record."""

from collections import OrderedDict
from threading import Lock
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository, project_aggregate
from eventsourcing.persistence import EventStore

from domain.aggregate import AuditedAggregate

BASE_WEIGHT = 10
"""A record's weight is its version plus this: its state grows with its events (about 400
bytes each for a record of notes) from a base of about that many events' worth."""


class Records:
    """Records for commands: a record this process holds is brought up to date by one query for
    its newer events; any other by one query for all its events when it is shorter than the
    snapshot interval, else from its latest snapshot and the events after it.

    Every path ends in a query of the store, so a command decides on the state as of that query,
    as on a full replay, and a write that lands after it still fails the event store's version
    check. The held states are copies that nothing changes (`AuditedAggregate.copy`), so threads
    share them unlocked; the least recently used go once their weights pass `budget`.
    """

    def __init__(self, events: EventStore[UUID], repository: Repository[UUID], *,
                 kinds: tuple[type[AuditedAggregate], ...], snapshot_interval: int,
                 budget: int) -> None:
        self._events = events
        self._repository = repository
        self._kinds = kinds
        self._snapshot_interval = snapshot_interval
        self._budget = budget
        self._held: OrderedDict[UUID, AuditedAggregate] = OrderedDict()
        self._weight = 0
        self._lock = Lock()
        """Guards `_held` and `_weight` only: held states are never changed, just replaced."""

    def get(self, record_id: UUID) -> AuditedAggregate:
        """The record's latest state, the caller's to change; AggregateNotFoundError if none."""
        with self._lock:
            held = self._held.get(record_id)
            if held is not None:
                self._held.move_to_end(record_id)
        if held is None:
            record = self._load(record_id)
        else:
            record = held.copy()
            project_aggregate(record, self._events.get(record_id, gt=record.version))
            if record.version == held.version:
                return record
        self.remember(record)
        return record

    def remember(self, record: AuditedAggregate) -> None:
        """Hold a copy of `record` as loaded or saved, unless a later version is held already."""
        if not isinstance(record, self._kinds) or _weight(record) > self._budget:
            return
        copy = record.copy()
        with self._lock:
            held = self._held.get(record.id)
            if held is not None:
                if held.version >= copy.version:
                    return
                self._weight -= _weight(held)
            self._held[copy.id] = copy
            self._held.move_to_end(copy.id)
            self._weight += _weight(copy)
            while self._weight > self._budget:
                _, evicted = self._held.popitem(last=False)
                self._weight -= _weight(evicted)

    def _load(self, record_id: UUID) -> AuditedAggregate:
        stored = self._events.recorder.select_events(record_id, limit=self._snapshot_interval)
        record: Any
        if len(stored) < self._snapshot_interval:  # all its events: it has no snapshot yet
            record = project_aggregate(None, map(self._events.mapper.to_domain_event, stored))
        else:
            record = self._repository.get(record_id)
        if not isinstance(record, AuditedAggregate):
            raise AggregateNotFoundError(f"Aggregate {record_id!r} not found.")
        return record


def _weight(record: AuditedAggregate) -> int:
    return record.version + BASE_WEIGHT
