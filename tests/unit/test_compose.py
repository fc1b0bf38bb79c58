"""docker-compose.yml wires the production shape: PostgreSQL, Kafka (KRaft), `tandem serve`,
the relay and a Kafka-fed projector."""

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return dict(loaded["services"])


def test_kafka_runs_in_kraft_mode_from_the_official_image(services: dict[str, Any]) -> None:
    kafka = services["kafka"]
    env = kafka["environment"]
    assert kafka["image"].startswith("apache/kafka:")
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "INTERNAL://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "9094:9094" in kafka["ports"]
    assert "ZOOKEEPER" not in " ".join(env)
    assert kafka["healthcheck"]["test"]


def test_the_relay_reads_postgres_and_publishes_to_kafka(services: dict[str, Any]) -> None:
    relay = services["relay"]
    env = relay["environment"]
    postgres = services["postgres"]["environment"]
    assert env["TANDEM_DATABASE_URL"] == (
        f"postgresql://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}")
    assert env["TANDEM_DATABASE_URL"] == services["tandem"]["environment"]["TANDEM_DATABASE_URL"]
    assert env["TANDEM_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env["TANDEM_KAFKA_TOPIC"] == "tandem.events"
    assert int(env["TANDEM_KAFKA_PARTITIONS"]) >= 1
    assert relay["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                   "kafka": {"condition": "service_healthy"}}
    assert "tandem relay kafka" in " ".join(relay["command"])
    assert relay["restart"] == "unless-stopped"
    assert relay["healthcheck"]["test"]


def test_every_dependency_names_a_service_with_a_health_check(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for needed, condition in (service.get("depends_on") or {}).items():
            assert needed in services, f"{name} depends on unknown {needed}"
            assert condition == {"condition": "service_healthy"}
            assert "healthcheck" in services[needed], f"{needed} has no health check"


def test_a_kafka_fed_projector_builds_read_models_in_their_own_schema(
        services: dict[str, Any]) -> None:
    projector, relay = services["projector"], services["relay"]
    env = projector["environment"]
    store = urlsplit(env["TANDEM_DATABASE_URL"])
    events = urlsplit(services["tandem"]["environment"]["TANDEM_DATABASE_URL"])
    assert (store.scheme, store.netloc, store.path) == (events.scheme, events.netloc,
                                                          events.path)
    assert parse_qs(store.query)["schema"] != parse_qs(events.query).get("schema")
    assert env["TANDEM_KAFKA_BOOTSTRAP"] == relay["environment"]["TANDEM_KAFKA_BOOTSTRAP"]
    assert env["TANDEM_KAFKA_TOPIC"] == relay["environment"]["TANDEM_KAFKA_TOPIC"]
    assert env["TANDEM_KAFKA_PARTITIONS"] == relay["environment"]["TANDEM_KAFKA_PARTITIONS"]
    assert env["TANDEM_KAFKA_GROUP"]
    assert "tandem projections run --source kafka" in " ".join(projector["command"])
    assert projector["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                       "kafka": {"condition": "service_healthy"}}
    assert projector["restart"] == "unless-stopped"
    # Scaling out (`--scale projector=N`) needs no fixed name and no published port.
    assert "container_name" not in projector
    assert "ports" not in projector


@pytest.mark.parametrize("name", ["relay", "projector"])
def test_the_health_check_recognises_the_command_the_service_runs(
        services: dict[str, Any], name: str) -> None:
    service = services[name]
    check = service["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "-c"]
    needle = re.search(r"b'([^']*)'", check[3])
    assert needle is not None
    wanted = needle.group(1).encode().decode("unicode_escape").encode()
    # `sh -c "pip install ... && exec tandem ARGS"`: PID 1 becomes the tandem script.
    arguments = " ".join(service["command"]).split("exec ", 1)[1].split()
    cmdline = b"\0".join(part.encode() for part in
                         ["/usr/local/bin/python3.11", f"/usr/local/bin/{arguments[0]}",
                          *arguments[1:]]) + b"\0"
    assert wanted in cmdline
    assert wanted not in b"\0".join([b"sh", b"-c", " ".join(service["command"][2:]).encode()])


def test_the_api_server_serves_postgres_and_reports_the_dedicated_relays_lag(
        services: dict[str, Any]) -> None:
    api, relay = services["tandem"], services["relay"]
    env = api["environment"]
    for name in ("TANDEM_DATABASE_URL", "TANDEM_KAFKA_BOOTSTRAP", "TANDEM_KAFKA_TOPIC"):
        assert env[name] == relay["environment"][name], name
    command = " ".join(api["command"]).split("exec ", 1)[1].split()
    assert command[:2] == ["tandem", "serve"]
    # One publisher: a server publishing beside the relay service would fight it for the
    # position (ConcurrentRelay); it reports the relay's lag instead.
    assert "--no-relay" in command
    host, port = command[command.index("--host") + 1], command[command.index("--port") + 1]
    assert host == "0.0.0.0"  # reachable through the published port
    assert f"{port}:{port}" in api["ports"]
    assert f"http://127.0.0.1:{port}/health" in api["healthcheck"]["test"][3]
    assert api["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                 "kafka": {"condition": "service_healthy"}}
    assert api["restart"] == "unless-stopped"
