"""Reading one record's stored events, or the whole log, as they are stored (with positions)."""

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeGuard
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification
from eventsourcing.sqlite import SQLiteApplicationRecorder

from adapters.envelope import stored_state
from domain.errors import NotFound
from domain.numbering import parse_number
from domain.service_desk import ServiceDesk

if TYPE_CHECKING:  # psycopg loads with it: only on PostgreSQL stores
    from eventsourcing.postgres import PostgresApplicationRecorder

LOG_BATCH = 2_000
"""Notifications per query when walking the whole log: few queries, bounded memory."""


@dataclass(frozen=True)
class Stream:
    """One record (or other aggregate) addressed by the user, and how to name it to them."""

    id: UUID
    label: str
    """Its number (INC0000001) when it has one, else its UUID."""


def resolve_stream(desk: ServiceDesk, ref: str) -> Stream:
    """Number or UUID -> stream, without loading the record's aggregate (so a damaged record
    can still be found and audited)."""
    text = ref.strip()
    if parse_number(text) is not None:
        return Stream(desk.record_id(text), text.upper())
    try:
        stream_id = UUID(text)
    except ValueError:
        raise NotFound(f"{ref!r} is neither a record number nor a UUID") from None
    first = desk.recorder.select_events(stream_id, lte=1)
    named = stored_state(desk.mapper, first[0]).get("number") if first else None
    return Stream(stream_id, named if isinstance(named, str) else str(stream_id))


def record_notifications(desk: ServiceDesk, stream_id: UUID) -> list[Notification]:
    """Every stored event of one stream with its log position, in log order.

    eventsourcing reads a stream without positions and the log without a stream filter, so
    this asks the two real stores directly; the in-memory store is scanned.
    """
    recorder = desk.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                "SELECT rowid, originator_id, originator_version, topic, state "
                f"FROM {recorder.events_table_name} WHERE originator_id = ? ORDER BY rowid",
                (stream_id.hex,))
            rows = cursor.fetchall()
        return [Notification(id=row[0], originator_id=stream_id, originator_version=row[2],
                             topic=row[3], state=row[4]) for row in rows]
    if is_postgres(recorder):
        from psycopg.sql import SQL, Identifier  # loaded already with the recorder

        statement = SQL(
            "SELECT notification_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE originator_id = %s ORDER BY notification_id").format(
                schema=Identifier(recorder.datastore.schema),
                table=Identifier(recorder.events_table_name))
        with recorder.datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(statement, (stream_id,))
            rows = cursor.fetchall()
        return [Notification(id=row["notification_id"], originator_id=stream_id,
                             originator_version=row["originator_version"], topic=row["topic"],
                             state=bytes(row["state"])) for row in rows]
    return [notification for batch in log_batches(desk) for notification in batch
            if notification.originator_id == stream_id]


def is_postgres(recorder: ApplicationRecorder) -> "TypeGuard[PostgresApplicationRecorder]":
    """Whether `recorder` is PostgreSQL's; ask after SQLite's, since this loads psycopg."""
    from eventsourcing.postgres import PostgresApplicationRecorder

    return isinstance(recorder, PostgresApplicationRecorder)


def log_batches(desk: ServiceDesk, *, start: int = 1,
                stop: int | None = None) -> Iterator[Sequence[Notification]]:
    """The notification log from `start` to `stop` (default: its end now), batch by batch.

    The next batch is read on a helper thread while the caller works on this one: the
    database (and the driver, which releases the GIL while it waits) works in parallel.
    """
    stop = desk.recorder.max_notification_id() if stop is None else stop
    if not stop or start > stop:
        return

    def read(first: int) -> Sequence[Notification]:
        return desk.recorder.select_notifications(first, LOG_BATCH, stop=stop)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="log-reader") as reader:
        pending: Future[Sequence[Notification]] | None = reader.submit(read, start)
        while pending is not None:
            batch = pending.result()
            if not batch:
                return
            following = batch[-1].id + 1
            pending = reader.submit(read, following) if following <= stop else None
            yield batch
