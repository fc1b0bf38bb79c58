"""`tandem relay kafka` killed with SIGKILL mid-stream and restarted: nothing lost, order kept."""

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable

import pytest

from adapters.bootstrap import open_read_store, open_service_desk
from adapters.kafka.consumer import EventConsumer
from adapters.kafka.events import Event, decode_event
from adapters.kafka.positions import RelayPositions
from tests.integration.kafka.helpers import CONSUMER_TIMING, read_all
from tests.integration.kafka.stories import incident_lifecycle

pytestmark = pytest.mark.kafka
TANDEM = shutil.which("tandem", path=os.path.dirname(sys.executable))
LIFECYCLES = 600
"""5 Incident events each: 3,000 published events."""


def relay_command(broker: str, topic: str, *extra: str) -> list[str]:
    assert TANDEM is not None
    return [TANDEM, "relay", "kafka", "--bootstrap", broker, "--topic", topic, *extra]


def test_a_killed_relay_resumes_without_gap_and_in_order(
        sqlite_url: str, broker: str, topic: Callable[..., str]) -> None:
    name = topic(partitions=4)
    env = {**os.environ, "TANDEM_DATABASE_URL": sqlite_url}
    desk = open_service_desk(sqlite_url)
    relay = subprocess.Popen(relay_command(broker, name, "--interval", "0.05"), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_after = random.uniform(0.5, 2.5)
    killer = threading.Timer(kill_after, relay.send_signal, args=[signal.SIGKILL])
    started = time.monotonic()
    killer.start()
    try:
        for index in range(LIFECYCLES):
            incident_lifecycle(desk, index)
        writing = time.monotonic() - started
    finally:
        killer.join()
        relay.wait(timeout=10)
    assert relay.returncode == -signal.SIGKILL
    store = open_read_store(sqlite_url)
    position_at_kill = RelayPositions(store, f"kafka:{name}").load()
    store.close()

    subprocess.run(relay_command(broker, name, "--once"), env=env, check=True, timeout=60,
                   capture_output=True)

    delivered = [(event.stream_id, event.version) for event in
                 map(decode_event, (r.value for r in read_all(broker, name,
                                                              expected=LIFECYCLES * 5)))]
    handled = consume(broker, name, wanted=LIFECYCLES * 5)

    streams = {stream for stream, _ in delivered}
    assert len(streams) == LIFECYCLES
    assert set(delivered) == {(stream, version) for stream in streams for version in range(1, 6)}
    per_stream: dict[uuid.UUID, list[int]] = defaultdict(list)
    for event in handled:
        per_stream[event.stream_id].append(event.version)
    assert len(handled) == LIFECYCLES * 5
    assert all(versions == [1, 2, 3, 4, 5] for versions in per_stream.values())
    print(f"killed after {kill_after:.2f} s (writing took {writing:.2f} s) at position "
          f"{position_at_kill}; {len(delivered) - len(set(delivered))} duplicates delivered")


def consume(broker: str, topic: str, *, wanted: int) -> list[Event]:
    """Through the SDK, in a consumer group: de-duplicated, committed after handling."""
    handled: list[Event] = []
    consumer = EventConsumer(handled.append, bootstrap=broker,
                             group_id=f"g-{uuid.uuid4().hex[:8]}", topic=topic,
                             consumer_config=CONSUMER_TIMING)
    deadline = time.monotonic() + 30
    while len(handled) < wanted and time.monotonic() < deadline:
        consumer.poll(timeout_ms=200)
    consumer.poll(timeout_ms=300)
    consumer.close()
    return handled
