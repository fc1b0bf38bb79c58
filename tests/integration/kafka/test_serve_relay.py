"""`tandem serve` with TANDEM_KAFKA_BOOTSTRAP: the API's writes reach Kafka through the relay."""

import json
import time
import uuid
from pathlib import Path

import httpx
import msgpack
import pytest

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
