"""docker-compose.yml wires the production shape: PostgreSQL, Kafka (KRaft) and the relay."""

from pathlib import Path
from typing import Any

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
