"""The relay's tracked position, kept in the read store beside the events (SQLite or PostgreSQL)."""

from projections.store import ReadStore

SCHEMA = ("CREATE TABLE IF NOT EXISTS relay_positions ("
          " name TEXT PRIMARY KEY, position BIGINT NOT NULL)")


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
