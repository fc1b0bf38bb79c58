"""An attacker with write access to the database: edits stored rows behind Tandem's back.

The same operations on SQLite (`stored_events`, ids as 32 hex digits, position = rowid) and
PostgreSQL (`servicedesk_events` in the URL's schema, uuid ids, position = notification_id).
"""

import sqlite3
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import psycopg
from eventsourcing.utils import resolve_topic
from psycopg import sql

from adapters.msgpack_codec import MsgpackTranscoder
from domain.aggregate import event_type_name, stream_type_name
from domain.audit_chain import chain_hash, event_data, format_timestamp
from tests.conftest import POSTGRES_DSN

CODEC = MsgpackTranscoder()


class RawStore:
    """Rows of one store, read and rewritten with plain SQL."""

    def __init__(self, store_url: str) -> None:
        self.postgres = store_url.startswith("postgres")
        if self.postgres:
            self.schema = store_url.split("?schema=")[1]
        else:
            self.path = urlsplit(store_url).path[1:]

    def _run(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.postgres:
            query = sql.SQL(statement.replace("{table}", "{schema}.servicedesk_events")
                            .replace("?", "%s")).format(schema=sql.Identifier(self.schema))
            with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
                cursor = connection.execute(query, params)
                return cursor.fetchall() if cursor.description else []
        with sqlite3.connect(self.path) as connection:
            return connection.execute(statement.replace("{table}", "stored_events"),
                                      params).fetchall()

    def _id(self, stream_id: UUID) -> Any:
        return stream_id if self.postgres else stream_id.hex

    @property
    def _position(self) -> str:
        return "notification_id" if self.postgres else "rowid"

    def versions(self, stream_id: UUID) -> list[int]:
        rows = self._run("SELECT originator_version FROM {table} WHERE originator_id = ? "
                         "ORDER BY originator_version", (self._id(stream_id),))
        return [row[0] for row in rows]

    def state(self, stream_id: UUID, version: int) -> dict[str, Any]:
        rows = self._run("SELECT state FROM {table} WHERE originator_id = ? AND "
                         "originator_version = ?", (self._id(stream_id), version))
        state = CODEC.decode(bytes(rows[0][0]))
        assert isinstance(state, dict)
        return state

    def topic(self, stream_id: UUID, version: int) -> str:
        rows = self._run("SELECT topic FROM {table} WHERE originator_id = ? AND "
                         "originator_version = ?", (self._id(stream_id), version))
        return str(rows[0][0])

    def write_state(self, stream_id: UUID, version: int, state: dict[str, Any]) -> None:
        self._run("UPDATE {table} SET state = ? WHERE originator_id = ? AND "
                  "originator_version = ?", (CODEC.encode(state), self._id(stream_id), version))

    def change(self, stream_id: UUID, version: int, change: Callable[[dict[str, Any]], None]
               ) -> None:
        """Edit one event's stored state in place (its stored hash is left as it was)."""
        state = self.state(stream_id, version)
        change(state)
        self.write_state(stream_id, version, state)

    def delete(self, stream_id: UUID, *versions: int) -> None:
        for version in versions:
            self._run("DELETE FROM {table} WHERE originator_id = ? AND originator_version = ?",
                      (self._id(stream_id), version))

    def delete_positions(self, *positions: int) -> None:
        """Rows gone from the notification log, as rolled-back inserts leave gaps."""
        marks = ", ".join("?" for _ in positions)
        self._run(f"DELETE FROM {{table}} WHERE {self._position} IN ({marks})", positions)

    def delete_stream(self, stream_id: UUID) -> None:
        self._run("DELETE FROM {table} WHERE originator_id = ?", (self._id(stream_id),))

    def swap(self, stream_id: UUID, first: int, second: int) -> None:
        """Exchange two events' stored content; each row keeps its version and position."""
        one, other = self.state(stream_id, first), self.state(stream_id, second)
        self.write_state(stream_id, first, other)
        self.write_state(stream_id, second, one)

    def rehash_from(self, stream_id: UUID, version: int,
                    change: Callable[[dict[str, Any]], None]) -> None:
        """Change one event and recompute its hash and every later one of the record: the
        chain stays self-consistent, as a careful attacker would leave it."""
        prev_hash = self.state(stream_id, version - 1)["hash"] if version > 1 else "0" * 64
        for current in [v for v in self.versions(stream_id) if v >= version]:
            state = self.state(stream_id, current)
            if current == version:
                change(state)
            event_class = resolve_topic(self.topic(stream_id, current))
            state["prev_hash"] = prev_hash
            state["hash"] = chain_hash(
                stream_type=stream_type_name(event_class), stream_id=stream_id,
                version=current, event_type=event_type_name(event_class),
                schema=state.get("class_version", 1),
                occurred_at=format_timestamp(state["timestamp"]), actor=state["actor"],
                data=event_data(state), prev_hash=prev_hash)
            self.write_state(stream_id, current, state)
            prev_hash = state["hash"]
