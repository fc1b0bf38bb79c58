"""How tests look at read models: every serving row, a build from zero, the tables that exist."""

import itertools
from pathlib import Path
from typing import Any

from adapters.bootstrap import all_projections, projection_runner
from domain.service_desk import ServiceDesk
from projections import registry
from projections.store import ReadStore, SqliteReadStore

Rows = dict[str, list[tuple[Any, ...]]]


def serving_rows(store: ReadStore) -> Rows:
    """Every row of every serving read-model table, in key order, by table name."""
    tables = {}
    with store.reading() as cursor:
        for projection in all_projections():
            generation = registry.serving(cursor, projection.name)
            assert generation is not None, f"{projection.name} has no serving generation"
            for table in projection.tables:
                cursor.execute(f"SELECT {', '.join(table.column_names)} "
                               f"FROM {table.physical(generation.generation)} "
                               f"ORDER BY {', '.join(table.key)}")
                tables[table.name] = [tuple(row) for row in cursor.fetchall()]
    return tables


def built_from_zero(desk: ServiceDesk, directory: Path) -> Rows:
    """The read models of `desk`'s whole log, built by one catch-up into a fresh SQLite file."""
    store = SqliteReadStore(str(directory / f"from-zero-{next(_builds)}.db"))
    try:
        projection_runner(desk, store).catch_up()
        return serving_rows(store)
    finally:
        store.close()


_builds = itertools.count()


def table_names(store: ReadStore, *, prefix: str = "") -> set[str]:
    """The tables that exist in the database (or the PostgreSQL schema), by name prefix."""
    with store.reading() as cursor:
        if store.dialect == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            cursor.execute("SELECT table_name FROM information_schema.tables "
                           "WHERE table_schema = current_schema()")
        return {name for (name,) in cursor.fetchall() if name.startswith(prefix)}
