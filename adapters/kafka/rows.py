"""The notification log as the relay reads it: plain rows, not eventsourcing Notifications.

The relay reads every stored event; one plain query spares it a Notification and a UUID object
per event (a third of its own time per event), with the same rows, in the same order, as
`select_notifications` (a test holds the two together on SQLite and PostgreSQL, gaps in the
ids included).
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from eventsourcing.persistence import Notification
from eventsourcing.sqlite import SQLiteApplicationRecorder

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresApplicationRecorder

Row = tuple[int, str, int, str, bytes]
"""(notification id, stream id as a UUID's canonical str, version, topic, stored state)."""

ReadRows = Callable[[int, int], Sequence[Row]]
"""(start, limit) -> the rows with ids from `start` on, in id order, at most `limit`."""


class NotificationLog(Protocol):
    """The part of an eventsourcing ApplicationRecorder the relay reads."""

    def select_notifications(self, start: int | None, limit: int) -> Sequence[Notification]: ...

    def max_notification_id(self) -> int | None: ...


def row_reader(log: NotificationLog) -> ReadRows:
    """The plain query on SQLite and PostgreSQL with UUID stream ids, `select_notifications`
    elsewhere (the in-memory store of unit tests)."""
    if isinstance(log, SQLiteApplicationRecorder) and log.datastore.originator_id_type == "uuid":
        return SqliteRows(log)
    from eventsourcing.postgres import PostgresApplicationRecorder  # not SQLite: psycopg now

    if isinstance(log, PostgresApplicationRecorder):
        return PostgresRows(log)

    def notifications(start: int, limit: int) -> list[Row]:
        return [(n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
                for n in log.select_notifications(start, limit)]

    return notifications


class SqliteRows:
    """`select_notifications` as plain tuples; the stream id as eventsourcing stores it (the
    UUID's 32 lower-case hex digits) turned into the canonical form `str(UUID)` gives."""

    def __init__(self, recorder: SQLiteApplicationRecorder) -> None:
        self.recorder = recorder
        self.statement = (
            "SELECT rowid, originator_id, originator_version, topic, state FROM "
            f"{recorder.events_table_name} WHERE rowid>=? ORDER BY rowid LIMIT ?")

    def __call__(self, start: int, limit: int) -> list[Row]:
        with self.recorder.datastore.transaction(commit=False) as transaction:
            cursor = transaction.sqlite_cursor  # a new cursor per transaction
            cursor.row_factory = None  # tuples, not sqlite3.Row
            cursor.execute(self.statement, (start, limit))
            return [(position, f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}", version,
                     topic, state) for position, h, version, topic, state in cursor.fetchall()]


class PostgresRows:
    """`select_notifications` as plain tuples, the stream id cast to text by the server (the
    canonical form `str(UUID)` gives, for a `uuid` or a `text` column alike)."""

    def __init__(self, recorder: "PostgresApplicationRecorder") -> None:
        from psycopg.rows import tuple_row
        from psycopg.sql import SQL, Identifier

        self.recorder = recorder
        self.row_factory = tuple_row
        self.statement = SQL(
            "SELECT notification_id, originator_id::text, originator_version, topic, state "
            "FROM {schema}.{table} WHERE notification_id>=%s ORDER BY notification_id LIMIT %s"
        ).format(schema=Identifier(recorder.datastore.schema),
                 table=Identifier(recorder.events_table_name))

    def __call__(self, start: int, limit: int) -> list[Row]:
        with (self.recorder.datastore.get_connection() as connection,
              connection.cursor(row_factory=self.row_factory) as cursor):
            cursor.execute(self.statement, (start, limit), prepare=True)
            return [(position, stream_id, version, topic, bytes(state))
                    for position, stream_id, version, topic, state in cursor.fetchall()]
