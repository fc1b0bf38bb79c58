"""The read store: the same database as the event store, SQLite or PostgreSQL, one small API."""

import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import count
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgres"]


class Cursor(Protocol):
    """The DB-API subset projections use; SQL is written with `?` placeholders."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...

    def fetchone(self) -> tuple[Any, ...] | None: ...

    @property
    def description(self) -> Any: ...


class ReadStore(Protocol):
    dialect: Dialect

    def transaction(self) -> Any:
        """A context manager giving a Cursor; commits on success, rolls back on error."""

    def reading(self) -> Any:
        """Like `transaction`, for reads only: never waits for a runner's write lock."""

    def rebuild_lock(self) -> Any:
        """A context manager giving whether this process now holds the store's rebuild lock
        (False: another holds it). Released on leaving, or when the holder dies."""

    def close(self) -> None: ...


def use_wal(connection: sqlite3.Connection, *, timeout: float = 30.0) -> None:
    """Put the file in WAL mode, waiting for other processes doing the same.

    SQLite answers "database is locked" at once, without calling its busy handler, when
    connections change the journal mode together, as processes starting on a new file do.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class SqliteReadStore:
    """Read models in the event store's SQLite file (or in memory for tests)."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self._path = path
        self._connection = sqlite3.connect(path, isolation_level=None, timeout=30,
                                           check_same_thread=False)
        if path != ":memory:":
            use_wal(self._connection)
        self._connection.execute("PRAGMA synchronous=NORMAL")
        # Python's SQLite is built with secure_delete on: dropping a retired generation would
        # zero every freed page (0.3 s of a 4 s rebuild). Read models only repeat what the
        # events in the same file hold, so overwriting is kept to pages written anyway.
        self._connection.execute("PRAGMA secure_delete=FAST")

    def transaction(self) -> Any:
        return self._transaction("BEGIN IMMEDIATE")

    def reading(self) -> Any:
        # A deferred transaction reads a WAL snapshot without taking the write lock.
        return self._transaction("BEGIN")

    @contextmanager
    def rebuild_lock(self) -> Iterator[bool]:
        # flock on a file beside the database: not held across SQLite's own write lock (a
        # rebuild writes in short transactions), and the kernel drops it when its holder dies.
        if self._path == ":memory:":
            yield True
            return
        descriptor = os.open(f"{self._path}.rebuild-lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(descriptor)

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Cursor]:
        cursor = self._connection.cursor()
        cursor.execute(begin)
        try:
            yield cursor
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")

    def close(self) -> None:
        self._connection.close()


class _PostgresCursor:
    """Translates `?` placeholders to psycopg's `%s`."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cursor.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        return self._cursor.executemany(sql.replace("?", "%s"), rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._cursor.fetchall())

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    @property
    def description(self) -> Any:
        return self._cursor.description

    def copy_into(self, table: str, names: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def copy_upsert(self, table: str, names: str, conflict: str,
                    rows: Sequence[Sequence[Any]]) -> None:
        # executemany costs a round trip per row; COPY into a staging table costs one.
        stage = f"stage_{next(_staging_names)}"
        self._cursor.execute(
            f"CREATE TEMP TABLE {stage} (LIKE {table}) ON COMMIT DROP")
        self.copy_into(stage, names, rows)
        self._cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} {conflict}")


def insert(cursor: Cursor, table: str, columns: Sequence[str],
           rows: Sequence[Sequence[Any]]) -> None:
    """Append rows known to be new (straight COPY on PostgreSQL: no staging, no conflict check)."""
    names = ", ".join(columns)
    if isinstance(cursor, _PostgresCursor):
        cursor.copy_into(table, names, rows)
    else:
        marks = ", ".join("?" for _ in columns)
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def delete(cursor: Cursor, table: str, key: Sequence[str],
           keys: Sequence[Sequence[Any]]) -> None:
    """Delete the rows with these keys (absent ones are no error)."""
    match = " AND ".join(f"{column} = ?" for column in key)
    cursor.executemany(f"DELETE FROM {table} WHERE {match}", keys)


def upsert(cursor: Cursor, table: str, columns: Sequence[str], key: Sequence[str],
           rows: Sequence[Sequence[Any]]) -> None:
    """Insert or replace `rows` in one round trip per table (COPY on PostgreSQL)."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    conflict = f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    names = ", ".join(columns)
    if isinstance(cursor, _PostgresCursor):
        cursor.copy_upsert(table, names, conflict, rows)
    else:
        marks = ", ".join("?" for _ in columns)
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}", rows)


_staging_names = count(1)


class PostgresReadStore:
    """Read models in the event store's PostgreSQL database and schema."""

    dialect: Dialect = "postgres"

    def __init__(self, conninfo: str, *, schema: str | None = None) -> None:
        import psycopg  # here, not at the top: only PostgreSQL deployments load the driver

        options = f"-c search_path={schema}" if schema else None
        self._connection = psycopg.connect(conninfo, options=options, autocommit=True)

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._connection.transaction(), self._connection.cursor() as cursor:
            yield _PostgresCursor(cursor)

    def reading(self) -> Any:
        return self.transaction()

    @contextmanager
    def rebuild_lock(self) -> Iterator[bool]:
        # A session lock per schema (the two-key space, apart from the engine's other locks):
        # it outlasts the rebuild's many transactions and ends with the connection.
        key = "SELECT %s(31309, hashtext(current_schema()))"
        held = self._connection.execute(key % "pg_try_advisory_lock").fetchone()
        if not (held and held[0]):
            yield False
            return
        try:
            yield True
        finally:
            # A broken connection has lost the lock with its session: keep the first error.
            if not (self._connection.closed or self._connection.broken):
                self._connection.execute(key % "pg_advisory_unlock")

    def close(self) -> None:
        self._connection.close()
