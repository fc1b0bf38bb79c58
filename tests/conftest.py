"""Shared fixtures: an injected clock, desks on every store, a PostgreSQL schema per test."""

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from adapters.bootstrap import open_read_store, open_service_desk
from domain.service_desk import ServiceDesk
from projections.store import ReadStore

POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"


class FakeClock:
    """Injected time: moves only when a test says so."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def desk(clock: FakeClock) -> ServiceDesk:
    """A ServiceDesk on the in-memory store, for pure domain tests."""
    return open_service_desk("memory://", clock=clock)


def _postgres_answers() -> bool:
    try:
        psycopg.connect(POSTGRES_DSN, connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh schema in the `test` database, dropped afterwards.

    Skipped only when no server answers and CI is unset; under CI a missing server fails.
    """
    if not _postgres_answers():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL on 127.0.0.1:5432 does not answer, and CI needs it")
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_DSN}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tandem.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """Each store the engine supports, for contract tests run once per backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url = request.getfixturevalue(fixture)
    assert isinstance(url, str)
    return url


@pytest.fixture
def read_stores(store_url: str) -> Iterator[Callable[[], ReadStore]]:
    """Opens read stores (one per would-be process) on the store under test; closes them all."""
    opened: list[ReadStore] = []

    def open_one() -> ReadStore:
        opened.append(open_read_store(store_url))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()
