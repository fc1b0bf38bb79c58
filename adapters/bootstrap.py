"""The one wiring place: configuration (environment) -> a ready ServiceDesk on the right store."""

import os
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from adapters.config import ConfigurationError, TandemConfig, load_config
from domain.service_desk import Clock, ServiceDesk, system_clock
from projections.incidents import IncidentSummaries
from projections.known_errors import KnownErrorIndex
from projections.problems import ProblemSummaries
from projections.projection import Projection
from projections.recurrence import RecurrencePatterns
from projections.runner import DEFAULT_BATCH, ProjectionRunner
from projections.sla_clocks import SlaClocks
from projections.store import PostgresReadStore, ReadStore, SqliteReadStore, use_wal
from projections.timeline import Timeline

if TYPE_CHECKING:  # the Kafka client, alert libraries and FastAPI load only when used
    from collections.abc import Sequence

    from fastapi import APIRouter

    from adapters.alerts.intake import AlertIntake
    from adapters.http.app import Api
    from adapters.kafka.projector import KafkaProjector
    from adapters.kafka.relay import Relay
    from adapters.recurrence_policy import RecurrencePolicy

DEFAULT_DATABASE_URL = "sqlite:///var/tandem.db"
TRANSCODER = "adapters.msgpack_codec:MsgpackTranscoder"
SCHEMA_LOCK_KEY = 0x7A4D_0001
"""pg advisory lock that serialises table creation between processes starting together."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    config_path: Path | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        config = environ.get("TANDEM_CONFIG")
        return cls(database_url=environ.get("TANDEM_DATABASE_URL") or DEFAULT_DATABASE_URL,
                   config_path=Path(config) if config else None)

    def config(self) -> TandemConfig:
        """`tandem.toml` from TANDEM_CONFIG, or the built-in defaults."""
        return load_config(self.config_path)


def store_environment(database_url: str) -> dict[str, str]:
    """eventsourcing's settings for `sqlite:///PATH`, `postgresql://...[?schema=S]`, `memory://`."""
    url = urlsplit(database_url)
    common = {"TRANSCODER_TOPIC": TRANSCODER}
    if url.scheme == "sqlite":
        path = unquote(url.path[1:] if url.path.startswith("/") else url.path)
        if url.netloc or not path:
            raise ConfigurationError(
                f"TANDEM_DATABASE_URL: {database_url!r} is not sqlite:///PATH "
                "(relative) or sqlite:////PATH (absolute)")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {**common, "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path,
                "SQLITE_LOCK_TIMEOUT": "30"}
    if url.scheme in ("postgresql", "postgres"):
        if not url.hostname or len(url.path) < 2:
            raise ConfigurationError(
                f"TANDEM_DATABASE_URL: {database_url!r} needs a host and a database name "
                "(postgresql://USER@HOST:PORT/DB)")
        schema = parse_qs(url.query).get("schema", [""])[0]
        return {
            **common,
            **({"POSTGRES_SCHEMA": schema} if schema else {}),
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(url.path[1:]),
            "POSTGRES_HOST": url.hostname,
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            # eventsourcing insists on a password; with trust auth any value is accepted.
            "POSTGRES_PASSWORD": unquote(url.password or "unused"),
        }
    if url.scheme == "memory":
        return {**common, "PERSISTENCE_MODULE": "eventsourcing.popo"}
    raise ConfigurationError(
        f"TANDEM_DATABASE_URL: unsupported scheme {url.scheme!r} "
        "(use sqlite:///PATH or postgresql://USER@HOST:PORT/DB)")


def open_service_desk(database_url: str, *, clock: Clock = system_clock) -> ServiceDesk:
    """A ServiceDesk on the given store; PostgreSQL tables are created once, under a lock."""
    env = store_environment(database_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        # eventsourcing switches a new file to WAL without waiting for a concurrent switch.
        with closing(sqlite3.connect(env["SQLITE_DBNAME"], timeout=30)) as connection:
            use_wal(connection)
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        return ServiceDesk(env, clock=clock)
    import psycopg

    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"], autocommit=True,
    ) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            if "POSTGRES_SCHEMA" in env:
                connection.execute(
                    psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                        psycopg.sql.Identifier(env["POSTGRES_SCHEMA"])))
            return ServiceDesk(env, clock=clock)
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))


def open_read_store(database_url: str) -> ReadStore:
    """The read models live beside the events: same SQLite file or PostgreSQL schema."""
    env = store_environment(database_url)
    module = env["PERSISTENCE_MODULE"]
    if module == "eventsourcing.sqlite":
        return SqliteReadStore(env["SQLITE_DBNAME"])
    if module == "eventsourcing.postgres":
        conninfo = " ".join(f"{key}={env['POSTGRES_' + key.upper()]}"
                            for key in ("dbname", "host", "port", "user", "password"))
        return PostgresReadStore(conninfo, schema=env.get("POSTGRES_SCHEMA"))
    return SqliteReadStore(":memory:")


def all_projections(config: TandemConfig | None = None) -> list[Projection]:
    """Every read model; the SLA clocks follow the configuration (the defaults without one)."""
    sla = (config or TandemConfig()).sla
    return [IncidentSummaries(), ProblemSummaries(), KnownErrorIndex(), Timeline(),
            SlaClocks(sla.rules(), config_digest=sla.digest), RecurrencePatterns()]


def projection_runner(desk: ServiceDesk, store: ReadStore, *, batch_size: int = DEFAULT_BATCH,
                      config: TandemConfig | None = None) -> ProjectionRunner:
    """Every read model, fed from this desk's notification log."""
    return ProjectionRunner(log=desk.recorder, decode=desk.mapper.to_domain_event, store=store,
                            projections=all_projections(config), batch_size=batch_size,
                            owner=desk)


@dataclass(frozen=True)
class KafkaSettings:
    """Where the relay publishes (design section 6); command-line options override these."""

    bootstrap: str = "localhost:9092"
    topic: str = "tandem.events"
    partitions: int = 6
    group: str = "tandem-projector"
    """The Kafka-fed projector's consumer group."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> "KafkaSettings":
        partitions = environ.get("TANDEM_KAFKA_PARTITIONS") or str(cls.partitions)
        if not partitions.isdigit() or int(partitions) < 1:
            raise ConfigurationError(
                f"TANDEM_KAFKA_PARTITIONS: {partitions!r} is not a positive integer")
        return cls(bootstrap=environ.get("TANDEM_KAFKA_BOOTSTRAP") or cls.bootstrap,
                   topic=environ.get("TANDEM_KAFKA_TOPIC") or cls.topic,
                   partitions=int(partitions),
                   group=environ.get("TANDEM_KAFKA_GROUP") or cls.group)


def kafka_relay(desk: ServiceDesk, store: ReadStore, *, bootstrap: str,
                topic: str) -> "Relay":
    """The relay from this desk's notification log to `topic`, its position kept in `store`."""
    from adapters.kafka.positions import RelayPositions, relay_name
    from adapters.kafka.relay import Relay, kafka_producer

    return Relay(log=desk.recorder, mapper=desk.mapper,
                 positions=RelayPositions(store, relay_name(topic)),
                 producer_factory=lambda: kafka_producer(bootstrap), topic=topic, owner=desk)


def open_projector_store(database_url: str) -> ReadStore:
    """The read store of a Kafka-fed projector, which needs no event store beside it; the
    PostgreSQL schema named in the URL (`?schema=S`) is created if missing."""
    env = store_environment(database_url)
    if "POSTGRES_SCHEMA" in env:
        import psycopg

        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"], autocommit=True,
        ) as connection:
            connection.execute(psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                psycopg.sql.Identifier(env["POSTGRES_SCHEMA"])))
    return open_read_store(database_url)


def kafka_projector(store: ReadStore, *, bootstrap: str, topic: str, group: str,
                    batch_size: int, session_timeout_s: float) -> "KafkaProjector":
    """Every read model, fed from `topic` as one member of the consumer group `group`."""
    from adapters.kafka.projector import KafkaFedProjections, KafkaProjector

    session_ms = int(session_timeout_s * 1000)
    return KafkaProjector(KafkaFedProjections(store, all_projections(), topic=topic),
                          bootstrap=bootstrap, group_id=group, batch_size=batch_size,
                          consumer_config={"session_timeout_ms": session_ms,
                                           "heartbeat_interval_ms": max(100, session_ms // 4)})


def alert_intake(desk: ServiceDesk, config: TandemConfig) -> "AlertIntake":
    """The process's alert intake with the `[alerts]` settings; `close()` it on shutdown."""
    from adapters.alerts.intake import AlertIntake

    return AlertIntake(desk, settings=config.alerts)


def recurrence_policy(desk: ServiceDesk, runner: ProjectionRunner,
                      config: TandemConfig) -> "RecurrencePolicy":
    """The problem-candidate policy with the `[recurrence]` settings; each `tick()` first
    catches `runner`'s read models up."""
    from adapters.recurrence_policy import RecurrencePolicy

    def read_models() -> ReadStore:
        runner.catch_up()
        return runner.store

    return RecurrencePolicy(desk, read_models, settings=config.recurrence)


def admin_token(environ: Mapping[str, str] = os.environ) -> str | None:
    """TANDEM_ADMIN_TOKEN: the admin's bearer token for the API, when set."""
    return environ.get("TANDEM_ADMIN_TOKEN") or None


def relay_settings(environ: Mapping[str, str] = os.environ) -> KafkaSettings | None:
    """The relay `tandem serve` runs: only when TANDEM_KAFKA_BOOTSTRAP is set."""
    if not environ.get("TANDEM_KAFKA_BOOTSTRAP"):
        return None
    return KafkaSettings.from_environment(environ)


def open_api(database_url: str, *, config: TandemConfig, admin: str | None,
             routers: "Sequence[APIRouter]" = (), clock: Clock = system_clock,
             renew_admin_token: bool = False) -> "Api":
    """The HTTP API on this store: commands, read models caught up by one runner, the
    principals of `[auth]`, and the admin token (`admin`, or the one kept in the store)."""
    from adapters.http.access import Access, token_hash
    from adapters.http.admin_token import admin_token_hash
    from adapters.http.app import Api, create_app
    from adapters.http.idempotency import IdempotencyKeys
    from adapters.http.reads import ReadModels

    if store_environment(database_url)["PERSISTENCE_MODULE"] == "eventsourcing.popo":
        raise ConfigurationError("TANDEM_DATABASE_URL: the API needs a SQLite or PostgreSQL "
                                 "store, not memory://")
    desk = open_service_desk(database_url, clock=clock)
    reads = ReadModels(projection_runner(desk, open_read_store(database_url), config=config),
                       log=desk.recorder, open_store=lambda: open_read_store(database_url))
    new_token = None
    if admin is not None:
        admin_hash = token_hash(admin)
    else:
        admin_hash, new_token = admin_token_hash(reads.store(), renew=renew_admin_token)
    idempotency = IdempotencyKeys(reads.store)
    intake = alert_intake(desk, config)
    app = create_app(desk=desk, reads=reads, idempotency=idempotency, routers=routers,
                     access=Access(config.auth.principals, admin_hashes=[admin_hash]),
                     config=config, intake=intake)
    return Api(app=app, desk=desk, reads=reads, idempotency=idempotency, config=config,
               intake=intake, new_admin_token=new_token)
