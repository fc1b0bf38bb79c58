"""`tandem projections run --source kafka` against tansu: two processes in one consumer group
split six partitions and build exactly the store-fed read models; killed midway and restarted,
the projector applies nothing twice."""

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from adapters.bootstrap import (
    all_projections,
    kafka_relay,
    open_projector_store,
    open_read_store,
    open_service_desk,
)
from adapters.kafka.projector import KafkaFedProjections
from domain.service_desk import ServiceDesk
from projections.store import ReadStore
from tests.integration.kafka.helpers import stop, wait_for
from tests.integration.kafka.stories import every_event_type, incident_lifecycle
from tests.read_models import built_from_zero, serving_rows

pytestmark = pytest.mark.kafka
TANDEM = shutil.which("tandem", path=os.path.dirname(sys.executable))
ASSIGNED = re.compile(r"partitions \[([\d, ]*)\] assigned")


def history(sqlite_url: str, lifecycles: int) -> ServiceDesk:
    desk = open_service_desk(sqlite_url)
    every_event_type(desk)
    for index in range(lifecycles):
        incident_lifecycle(desk, index)
    return desk


def publish(desk: ServiceDesk, sqlite_url: str, broker: str, topic: str) -> int:
    store = open_read_store(sqlite_url)
    relay = kafka_relay(desk, store, bootstrap=broker, topic=topic)
    relay.catch_up()
    relay.close()
    store.close()
    return relay.published





def projector(read_url: str, broker: str, topic: str, group: str, log: IO[bytes], *,
              batch: int = 100) -> subprocess.Popen[bytes]:
    assert TANDEM is not None
    return subprocess.Popen(
        [TANDEM, "projections", "run", "--source", "kafka", "--bootstrap", broker, "--topic",
         topic, "--group", group, "--batch", str(batch), "--session-timeout", "2"],
        env={**os.environ, "TANDEM_DATABASE_URL": read_url},
        stdout=subprocess.DEVNULL, stderr=log)


def progress(store: ReadStore, topic: str) -> int:
    """Records applied or passed over so far: the sum of the stored next offsets."""
    with store.reading() as cursor:
        cursor.execute("SELECT COALESCE(SUM(next_offset), 0) FROM kafka_projection_offsets "
                       "WHERE topic = ?", [topic])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def assignments(log: Path) -> list[set[int]]:
    """Each assignment the member logged, in order."""
    return [{int(p) for p in found.split(",") if p.strip()}
            for found in ASSIGNED.findall(log.read_text(errors="replace"))]


def test_two_members_split_six_partitions_and_build_the_store_fed_read_models(
        sqlite_url: str, postgres_url: str, broker: str, topic: Callable[..., str],
        tmp_path: Path) -> None:
    desk = history(sqlite_url, lifecycles=150)
    name, group = topic(partitions=6), f"g-{uuid.uuid4().hex[:8]}"
    logs = [tmp_path / "member-1.log", tmp_path / "member-2.log"]
    handles = [log.open("wb") for log in logs]
    members = [projector(postgres_url, broker, name, group, handle) for handle in handles]
    store = open_projector_store(postgres_url)
    try:
        # Both join before anything is published, so both get partitions with work in them.
        wait_for(lambda: all(log.exists() and assignments(log) and len(assignments(log)[-1]) == 3
                             for log in logs), seconds=30, what="a 3 + 3 split")
        published = publish(desk, sqlite_url, broker, name)
        wait_for(lambda: progress(store, name) == published, seconds=60,
                 what=f"{published} records applied")
    finally:
        for member in members:
            stop(member)
        for handle in handles:
            handle.close()

    final = [assignments(log)[-1] for log in logs]
    assert final[0] | final[1] == set(range(6))
    assert not final[0] & final[1]
    applied = [int(re.findall(r"applied (\d+) events", log.read_text())[-1]) for log in logs]
    assert all(count > 0 for count in applied)
    assert sum(applied) == published
    assert serving_rows(store) == built_from_zero(desk, tmp_path)
    store.close()


def test_a_projector_killed_midway_and_restarted_applies_nothing_twice(
        sqlite_url: str, broker: str, topic: Callable[..., str], tmp_path: Path) -> None:
    desk = history(sqlite_url, lifecycles=200)
    name, group = topic(partitions=6), f"g-{uuid.uuid4().hex[:8]}"
    published = publish(desk, sqlite_url, broker, name)
    read_url = f"sqlite:///{tmp_path / 'kafka-fed.db'}"
    store = open_projector_store(read_url)
    KafkaFedProjections(store, all_projections(), topic=name)  # its tables, before a member's
    log = (tmp_path / "projector.log").open("wb")

    first = projector(read_url, broker, name, group, log, batch=10)
    kill_at = random.randint(published // 10, published * 6 // 10)
    wait_for(lambda: progress(store, name) >= kill_at, seconds=60, what=f"{kill_at} records")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    at_kill = progress(store, name)
    second = projector(read_url, broker, name, group, log, batch=10)
    try:
        wait_for(lambda: progress(store, name) == published, seconds=60,
                 what=f"{published} records applied")
    finally:
        stop(second)
        log.close()

    print(f"killed at {at_kill} of {published} records")
    assert 0 < at_kill < published
    assert serving_rows(store) == built_from_zero(desk, tmp_path)
    store.close()
