"""The relay's tracked position, kept in the read store beside the events (SQLite or PostgreSQL),
and its lag behind the notification log (for `tandem relay status` and `/metrics`)."""

from dataclasses import dataclass
from typing import Protocol

from projections.store import Cursor, ReadStore

SCHEMA = ("CREATE TABLE IF NOT EXISTS relay_positions ("
          " name TEXT PRIMARY KEY, position BIGINT NOT NULL)")


def relay_name(topic: str) -> str:
    """One relay per topic and event store: its row in `relay_positions`."""
    return f"kafka:{topic}"


class ConcurrentRelay(RuntimeError):
    """Another relay with the same name moved the position: two relays must not share a name."""


class RelayPositions:
    """Position = the last notification id whose event the broker acknowledged (or skipped)."""

    def __init__(self, store: ReadStore, name: str) -> None:
        self.store = store
        self.name = name
        with store.transaction() as cursor:
            cursor.execute(SCHEMA)
            cursor.execute("INSERT INTO relay_positions (name, position) VALUES (?, 0) "
                           "ON CONFLICT (name) DO NOTHING", [name])

    def load(self) -> int:
        with self.store.reading() as cursor:
            cursor.execute("SELECT position FROM relay_positions WHERE name = ?", [self.name])
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def advance(self, old: int, new: int) -> None:
        """Compare-and-set, so a second relay on the same name fails instead of interleaving."""
        with self.store.transaction() as cursor:
            updated = cursor.execute(
                "UPDATE relay_positions SET position = ? WHERE name = ? AND position = ?",
                [new, self.name, old]).rowcount
        if updated != 1:
            raise ConcurrentRelay(f"relay {self.name!r} is no longer at position {old}: "
                                  "another relay with the same name is running")


class LogHead(Protocol):
    """The part of an eventsourcing ApplicationRecorder lag needs."""

    def max_notification_id(self) -> int | None: ...


@dataclass(frozen=True)
class RelayLag:
    """How far the relay for `topic` is behind the notification log."""

    topic: str
    position: int
    """Last notification id published (0 if no relay has run for this topic)."""
    head: int
    """Last notification id stored."""
    lag: int
    """Notifications stored after `position` (internal ones it will pass over included)."""
    started: bool
    """Whether a relay has ever recorded a position for this topic."""


def relay_lag(store: ReadStore, log: LogHead, *, topic: str) -> RelayLag:
    """Read-only (no table or row is created), cheap enough for every metrics scrape."""
    with store.reading() as cursor:
        position = _position(cursor, store, relay_name(topic))
    head = log.max_notification_id() or 0
    return RelayLag(topic=topic, position=position or 0, head=head,
                    lag=max(0, head - (position or 0)), started=position is not None)


def _position(cursor: Cursor, store: ReadStore, name: str) -> int | None:
    if store.dialect == "sqlite":
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                       ["relay_positions"])
    else:
        cursor.execute("SELECT 1 FROM information_schema.tables "
                       "WHERE table_schema = current_schema() AND table_name = ?",
                       ["relay_positions"])
    if cursor.fetchone() is None:
        return None
    cursor.execute("SELECT position FROM relay_positions WHERE name = ?", [name])
    row = cursor.fetchone()
    return None if row is None else int(row[0])
