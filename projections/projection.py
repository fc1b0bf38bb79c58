"""What a projection is: a name, a version, the tables it owns, and how each event changes them."""

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from projections.store import Cursor, Dialect

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

    def create(self, generation: int) -> list[str]:
        table = self.physical(generation)
        columns = ", ".join(f"{column} {kind}" for column, kind in self.columns)
        statements = [f"CREATE TABLE IF NOT EXISTS {table} ({columns}, "
                      f"PRIMARY KEY ({', '.join(self.key)}))"]
        statements += [
            f"CREATE INDEX IF NOT EXISTS {table}_{'_'.join(index)} ON {table} ({', '.join(index)})"
            for index in self.indexes
        ]
        return statements

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
        key = tuple(row[column] for column in self._table.key)
        self._rows[key] = row
        self._dirty.add(key)

    def update(self, *key: Any, **changes: Any) -> Row | None:
        """Change an existing row; an unknown key (an event before its record) changes nothing."""
        row = self.get(*key)
        if row is not None:
            row.update(changes)
            self._dirty.add(key)
        return row

    def flush(self) -> None:
        rows = [self._rows[key] for key in self._dirty if self._rows[key] is not None]
        if rows:
            names = self._table.column_names
            updates = ", ".join(f"{c} = excluded.{c}" for c in names if c not in self._table.key)
            self._cursor.executemany(
                f"INSERT INTO {self._name} ({', '.join(names)}) "
                f"VALUES ({', '.join('?' for _ in names)}) "
                f"ON CONFLICT ({', '.join(self._table.key)}) DO UPDATE SET {updates}",
                [tuple(row[name] for name in names) for row in rows if row is not None])
        self._dirty.clear()


@dataclass(frozen=True)
class Envelope:
    """A decoded event with its place in the notification log."""

    position: int
    event: Any


Handler = Callable[[Envelope], None]


class Projection(ABC):
    """A read model; `apply` sees a whole batch so it can read and write rows in bulk."""

    name: ClassVar[str]
    version: ClassVar[int]
    tables: ClassVar[Sequence[Table]]

    @abstractmethod
    def apply(self, batch: Sequence[Envelope], tables: dict[str, Rows],
              dialect: Dialect) -> None:
        """Apply the batch's events, in order, to the given tables (nothing else)."""
