"""Generations of each projection: which one serves readers, where each one is in the log.

A generation is one build of a projection's tables. Exactly one generation per projection
serves readers; a rebuild fills a new one beside it and switches in one transaction.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from projections.projection import Projection
from projections.store import Cursor

SERVING, BUILDING = "serving", "building"

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS projection_generations ("
    " name TEXT NOT NULL, generation INTEGER NOT NULL, version INTEGER NOT NULL,"
    " position BIGINT NOT NULL, state TEXT NOT NULL, created_at TEXT NOT NULL,"
    " PRIMARY KEY (name, generation))"
)


@dataclass(frozen=True)
class Generation:
    name: str
    generation: int
    version: int
    position: int
    state: str


def ensure_schema(cursor: Cursor) -> None:
    cursor.execute(SCHEMA)


def ensure_serving(cursor: Cursor, projections: Sequence[Projection]) -> None:
    """The registry, and a serving generation for each projection that has none yet."""
    ensure_schema(cursor)
    for projection in projections:
        if not generations(cursor, projection.name):
            create(cursor, projection, state=SERVING)


def generations(cursor: Cursor, name: str) -> list[Generation]:
    cursor.execute("SELECT name, generation, version, position, state "
                   "FROM projection_generations WHERE name = ? ORDER BY generation", [name])
    return [Generation(*row) for row in cursor.fetchall()]


def serving(cursor: Cursor, name: str) -> Generation | None:
    return next((g for g in generations(cursor, name) if g.state == SERVING), None)


def create(cursor: Cursor, projection: Projection, *, state: str) -> Generation:
    """A new, empty generation of the projection's code version, tables created."""
    cursor.execute("SELECT COALESCE(MAX(generation), 0) + 1 FROM projection_generations "
                   "WHERE name = ?", [projection.name])
    row = cursor.fetchone()
    assert row is not None
    number = int(row[0])
    for table in projection.tables:
        cursor.execute(table.create(number))
    if state == SERVING:
        add_indexes(cursor, projection, number)
    cursor.execute(
        "INSERT INTO projection_generations (name, generation, version, position, state, "
        "created_at) VALUES (?, ?, ?, 0, ?, ?)",
        [projection.name, number, projection.version, state, datetime.now(UTC).isoformat()])
    return Generation(projection.name, number, projection.version, 0, state)


def add_indexes(cursor: Cursor, projection: Projection, generation: int) -> None:
    for table in projection.tables:
        for statement in table.create_indexes(generation):
            cursor.execute(statement)


def advance(cursor: Cursor, generation: Generation, position: int) -> Generation:
    """Record the new position; refuses if another runner moved it first (no double apply)."""
    updated = cursor.execute(
        "UPDATE projection_generations SET position = ? "
        "WHERE name = ? AND generation = ? AND position = ?",
        [position, generation.name, generation.generation, generation.position]).rowcount
    if updated != 1:
        raise ConcurrentRunner(f"projection {generation.name} generation "
                               f"{generation.generation} was advanced by another runner")
    return Generation(generation.name, generation.generation, generation.version, position,
                      generation.state)


def switch(cursor: Cursor, new: Generation) -> None:
    """Readers move to `new` (in the caller's transaction); the old one is marked retired."""
    cursor.execute("UPDATE projection_generations SET state = 'retired' "
                   "WHERE name = ? AND state = ?", [new.name, SERVING])
    cursor.execute("UPDATE projection_generations SET state = ? "
                   "WHERE name = ? AND generation = ?", [SERVING, new.name, new.generation])


def drop(cursor: Cursor, projection: Projection, generation: int) -> None:
    for table in projection.tables:
        cursor.execute(f"DROP TABLE IF EXISTS {table.physical(generation)}")
    cursor.execute("DELETE FROM projection_generations WHERE name = ? AND generation = ?",
                   [projection.name, generation])


def drop_unserved(cursor: Cursor, projection: Projection) -> None:
    """Remove leftovers: retired generations and builds a killed rebuild left behind."""
    for generation in generations(cursor, projection.name):
        if generation.state != SERVING:
            drop(cursor, projection, generation.generation)


class ConcurrentRunner(RuntimeError):
    """Another runner applied the same events first; this batch was rolled back."""
