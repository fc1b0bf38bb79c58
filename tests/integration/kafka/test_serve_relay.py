"""`tandem serve` with TANDEM_KAFKA_BOOTSTRAP: the API's writes reach Kafka through the relay."""

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import msgpack
import pytest
from kafka import KafkaAdminClient

from tests.e2e.api.conftest import Served
from tests.e2e.conftest import base_environment
from tests.integration.kafka.helpers import read_all

pytestmark = pytest.mark.kafka
ADMIN = {"Authorization": "Bearer relay-admin"}


def test_serve_relays_the_apis_events_and_reports_the_relay_lag(tmp_path: Path,
                                                                broker: str) -> None:
    topic = f"served-{uuid.uuid4().hex[:8]}"
    env = {**base_environment(f"sqlite:///{tmp_path / 'served.db'}"),
           "TANDEM_ADMIN_TOKEN": "relay-admin", "TANDEM_KAFKA_BOOTSTRAP": broker,
           "TANDEM_KAFKA_TOPIC": topic, "TANDEM_KAFKA_PARTITIONS": "2"}
    served = Served(tmp_path, env)
    try:
        number = httpx.post(f"{served.url}/incidents", headers=ADMIN, json={
            "title": "Kafka me", "service": "events"}).json()["number"]
        httpx.post(f"{served.url}/incidents/{number}/notes", headers=ADMIN,
                   json={"text": "relayed"}).raise_for_status()
        records = read_all(broker, topic, expected=2)
        deadline = time.monotonic() + 20
        while "tandem_relay_lag_events 0.0" not in (metrics := httpx.get(
                f"{served.url}/metrics", headers=ADMIN).text):
            assert time.monotonic() < deadline, metrics
            time.sleep(0.1)
    finally:
        code, _ = served.stop()
    envelopes = [msgpack.unpackb(record.value) for record in records]
    assert [(e["type"], e["actor"]) for e in envelopes] == [
        ("IncidentOpened", "admin"), ("IncidentWorkNoteAdded", "admin")]
    assert json.loads(json.dumps(envelopes[0]["data"]))["number"] == number
    assert code == 0


def test_serve_without_its_relay_reports_the_dedicated_relays_lag(tmp_path: Path,
                                                                  broker: str) -> None:
    # The production shape (docker-compose.yml): one `tandem relay kafka` publishes, the API
    # servers only report how far behind it is.
    topic = f"dedicated-{uuid.uuid4().hex[:8]}"
    database_url = f"sqlite:///{tmp_path / 'served.db'}"
    env = {**base_environment(database_url), "TANDEM_ADMIN_TOKEN": "relay-admin",
           "TANDEM_KAFKA_BOOTSTRAP": broker, "TANDEM_KAFKA_TOPIC": topic,
           "TANDEM_KAFKA_PARTITIONS": "2"}
    served = Served(tmp_path, env, "--no-relay")
    try:
        for title in ("Kafka me", "And me"):
            httpx.post(f"{served.url}/incidents", headers=ADMIN,
                       json={"title": title, "service": "events"}).raise_for_status()
        before = httpx.get(f"{served.url}/metrics", headers=ADMIN).text
        time.sleep(1.5)  # three of a publishing server's relay turns
        admin = KafkaAdminClient(bootstrap_servers=broker)
        published_meanwhile = admin.list_topics()
        admin.close()
        subprocess.run([str(Path(sys.executable).parent / "tandem"), "relay", "kafka",
                        "--once"], env=env, cwd=tmp_path, check=True, capture_output=True,
                       timeout=60)
        after = httpx.get(f"{served.url}/metrics", headers=ADMIN).text
    finally:
        code, _ = served.stop()
    assert code == 0
    assert topic not in published_meanwhile
    log_end = json.loads(subprocess.run(
        [str(Path(sys.executable).parent / "tandem"), "relay", "status", "--json"], env=env,
        cwd=tmp_path, check=True, capture_output=True, text=True, timeout=60).stdout)["head"]
    assert f"tandem_relay_lag_events {float(log_end)}" in before
    assert "tandem_relay_lag_events 0.0" in after
    assert len(read_all(broker, topic, expected=2)) == 2
