"""What a projection is: a name, a version, the tables it owns, and how each event changes them."""

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, ClassVar

from projections.store import Cursor, Dialect, delete, insert, upsert

Row = dict[str, Any]


@dataclass(frozen=True)
class Table:
    """A table a projection owns; its physical name carries the build generation."""

    name: str
    columns: tuple[tuple[str, str], ...]
    """(column, SQL type) pairs; the first `key` columns form the primary key."""
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()

    def physical(self, generation: int) -> str:
        return f"rm_{self.name}_g{generation}"

    def create(self, generation: int) -> str:
        columns = ", ".join(f"{column} {kind}" for column, kind in self.columns)
        return (f"CREATE TABLE IF NOT EXISTS {self.physical(generation)} ({columns}, "
                f"PRIMARY KEY ({', '.join(self.key)}))")

    def create_indexes(self, generation: int) -> list[str]:
        """Secondary indexes; a rebuild adds them after loading, which is faster."""
        table = self.physical(generation)
        return [f"CREATE INDEX IF NOT EXISTS {table}_{'_'.join(index)} "
                f"ON {table} ({', '.join(index)})" for index in self.indexes]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column for column, _ in self.columns)


class Rows:
    """One batch's view of a table: rows read at most once, written back in one executemany."""

    def __init__(self, table: Table, generation: int, cursor: Cursor) -> None:
        self._table = table
        self._name = table.physical(generation)
        self._cursor = cursor
        self._rows: dict[tuple[Any, ...], Row | None] = {}
        self._dirty: set[tuple[Any, ...]] = set()
        self._added: set[tuple[Any, ...]] = set()
        self._deleted: set[tuple[Any, ...]] = set()
        self._appended: list[Row] = []
        key_of = itemgetter(*table.key)
        self._key_of = (lambda row: (key_of(row),)) if len(table.key) == 1 else key_of

    def prefetch(self, keys: Iterable[tuple[Any, ...]]) -> None:
        """Load the rows this batch will touch in a few queries instead of one per event."""
        missing = [key for key in dict.fromkeys(keys) if key not in self._rows]
        if len(self._table.key) != 1:
            raise NotImplementedError("prefetch supports single-column keys")
        columns = ", ".join(self._table.column_names)
        (key_column,) = self._table.key
        for start in range(0, len(missing), 500):
            chunk = missing[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            self._cursor.execute(
                f"SELECT {columns} FROM {self._name} WHERE {key_column} IN ({marks})",
                [key for (key,) in chunk])
            for values in self._cursor.fetchall():
                row = dict(zip(self._table.column_names, values, strict=True))
                self._rows[(row[key_column],)] = row
            for key in chunk:
                self._rows.setdefault(key, None)

    def get(self, *key: Any) -> Row | None:
        if key not in self._rows:
            self.prefetch([key])
        return self._rows[key]

    def put(self, row: Row) -> None:
        key = self._key_of(row)
        self._rows[key] = row
        self._dirty.add(key)

    def add(self, row: Row) -> None:
        """A record's first row (from its opening event, which is applied once): inserted
        rather than upserted, however often the batch changes it afterwards."""
        key = self._key_of(row)
        self._rows[key] = row
        self._added.add(key)

    def append(self, row: Row) -> None:
        """A row no earlier batch wrote (say, one per event): inserted without a lookup."""
        self._appended.append(row)

    def delete(self, *key: Any) -> None:
        """Remove the row: one this batch added is simply not written."""
        self._rows[key] = None
        self._dirty.discard(key)
        if key in self._added:
            self._added.discard(key)
        else:
            self._deleted.add(key)

    def update(self, *key: Any, **changes: Any) -> Row | None:
        """Change an existing row; an unknown key (an event before its record) changes nothing."""
        row = self.get(*key)
        if row is not None:
            row.update(changes)
            self._dirty.add(key)
        return row

    def flush(self, cursor: Cursor | None = None) -> None:
        """Write the changed and appended rows through `cursor`, by default the one they were
        read with (a rebuild writes them in a later transaction than it read them)."""
        cursor = cursor or self._cursor
        if self._deleted:  # first: a row deleted and then put again is written
            delete(cursor, self._name, self._table.key, list(self._deleted))
        values = itemgetter(*self._table.column_names)
        changed = [values(row) for key in self._dirty - self._added
                   if (row := self._rows[key]) is not None]
        if changed:
            upsert(cursor, self._name, self._table.column_names, self._table.key, changed)
        new = [values(row) for key in self._added if (row := self._rows[key]) is not None]
        new.extend(values(row) for row in self._appended)
        if new:
            # Plain inserts (COPY on PostgreSQL): most rows of a rebuild, and cheaper.
            insert(cursor, self._name, self._table.column_names, new)
        self._dirty.clear()
        self._added.clear()
        self._deleted.clear()
        self._appended.clear()


@dataclass(slots=True)
class Envelope:
    """A decoded event with its place in the notification log, and the two strings nearly
    every projection needs (computed once per event, not once per projection).

    Not frozen: a frozen dataclass's __init__ costs five times as much, once per event."""

    position: int
    event: Any
    stream_id: str
    occurred_at: str


def existing_records(batch: Sequence[Envelope],
                     changes: Callable[[Any], bool]) -> list[tuple[str]]:
    """Keys of the records whose events `changes` selects, less those the batch itself opens:
    only rows from earlier batches are worth a prefetch query."""
    opened = {envelope.stream_id for envelope in batch
              if envelope.event.originator_version == 1}
    return [(envelope.stream_id,) for envelope in batch
            if envelope.stream_id not in opened and changes(envelope.event)]


class Projection(ABC):
    """A read model; `apply` sees a whole batch so it can read and write rows in bulk."""

    name: ClassVar[str]
    version: int
    """Bumped when the rows it builds change; a projection may also set it per instance."""
    tables: ClassVar[Sequence[Table]]
    events: ClassVar[tuple[type[Any], ...]]
    """The event classes `apply` reads, subclasses included: the runner does not even decode
    events no projection reads (the numbers issued alone are a sixth of a typical log)."""
    rebuild_cost: ClassVar[float] = 1.0
    """CPU time per event in a rebuild, relative to the others (as benchmarks/projections.py
    measured it): a rebuild over several processes balances their shares by it."""

    def replaces(self, version: int) -> bool:
        """Whether an automatic refresh should rebuild a generation `version` built: only an
        older one, so a process still running the old code during a deploy leaves the newer
        generation serving instead of rebuilding it back."""
        return version < self.version

    @abstractmethod
    def apply(self, batch: Sequence[Envelope], tables: dict[str, Rows],
              dialect: Dialect) -> None:
        """Apply the batch's events, in order, to the given tables (nothing else)."""
