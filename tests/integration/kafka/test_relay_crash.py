"""`tandem relay kafka` killed with SIGKILL at random moments and restarted, again and again,
while events are written: nothing lost, order kept (the 50,000-event run: `make soak`)."""

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
from dataclasses import dataclass, field

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
SOAK_LIFECYCLES = 10_000
"""50,000 published events, as the Kafka issue asks (`make soak`)."""


@dataclass
class Chaos:
    """What a run under repeated SIGKILLs did: the relay's stored position after each kill."""

    positions: list[int] = field(default_factory=list)
    writing_seconds: float = 0.0


def relay_command(broker: str, topic: str, *extra: str) -> list[str]:
    assert TANDEM is not None
    return [TANDEM, "relay", "kafka", "--bootstrap", broker, "--topic", topic, *extra]


def write_under_relay_kills(database_url: str, broker: str, topic: str, *, lifecycles: int,
                            lives: tuple[float, float]) -> Chaos:
    """Write `lifecycles` while relays are started and SIGKILLed one after another, each after
    a random span of `lives` seconds; then one relay run publishes the rest (`--once`)."""
    env = {**os.environ, "TANDEM_DATABASE_URL": database_url}
    desk = open_service_desk(database_url)
    chaos, written = Chaos(), threading.Event()
    errors: list[BaseException] = []

    def kill_relays_until_written() -> None:
        try:
            while True:
                relay = subprocess.Popen(relay_command(broker, topic, "--interval", "0.05"),
                                         env=env, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
                done = written.wait(random.uniform(*lives))
                relay.send_signal(signal.SIGKILL)
                relay.wait(timeout=10)
                assert relay.returncode == -signal.SIGKILL
                store = open_read_store(database_url)
                chaos.positions.append(RelayPositions(store, f"kafka:{topic}").load())
                store.close()
                if done:
                    return
        except BaseException as error:  # reported by the test
            errors.append(error)

    killer = threading.Thread(target=kill_relays_until_written)
    started = time.monotonic()
    killer.start()
    try:
        for index in range(lifecycles):
            incident_lifecycle(desk, index)
        chaos.writing_seconds = time.monotonic() - started
    finally:
        written.set()
        killer.join()
    assert errors == []
    subprocess.run(relay_command(broker, topic, "--once"), env=env, check=True, timeout=300,
                   capture_output=True)
    return chaos


def assert_each_event_once_and_in_order(broker: str, topic: str, *, lifecycles: int) -> int:
    """Every event delivered at least once; through the SDK's de-duplication, each exactly once
    and in version order per record. Returns the duplicates delivered."""
    events = lifecycles * 5
    delivered = [(event.stream_id, event.version) for event in
                 map(decode_event, (r.value for r in read_all(
                     broker, topic, expected=events, seconds=20 + events / 2_000)))]
    handled = consume(broker, topic, wanted=events)

    streams = {stream for stream, _ in delivered}
    assert len(streams) == lifecycles
    assert set(delivered) == {(stream, version) for stream in streams for version in range(1, 6)}
    per_stream: dict[uuid.UUID, list[int]] = defaultdict(list)
    for event in handled:
        per_stream[event.stream_id].append(event.version)
    assert len(handled) == events
    assert all(versions == [1, 2, 3, 4, 5] for versions in per_stream.values())
    return len(delivered) - len(set(delivered))


@pytest.mark.parametrize(("lifecycles", "partitions", "lives", "kills_mid_stream"), [
    pytest.param(LIFECYCLES, 4, (0.3, 1.5), 0, id="3,000 events"),
    pytest.param(SOAK_LIFECYCLES, 6, (0.5, 3.0), 5, id="50,000 events",
                 marks=pytest.mark.soak),
])
def test_relays_killed_at_random_moments_lose_nothing_and_keep_the_order(
        sqlite_url: str, broker: str, topic: Callable[..., str], lifecycles: int,
        partitions: int, lives: tuple[float, float], kills_mid_stream: int) -> None:
    name = topic(partitions=partitions)
    chaos = write_under_relay_kills(sqlite_url, broker, name, lifecycles=lifecycles,
                                    lives=lives)

    duplicates = assert_each_event_once_and_in_order(broker, name, lifecycles=lifecycles)
    assert chaos.positions == sorted(chaos.positions)  # a restart never moves back
    # The long run must have killed relays that were publishing, not only idle ones.
    assert len({p for p in chaos.positions[:-1] if p > 0}) >= kills_mid_stream, chaos.positions
    print(f"{len(chaos.positions)} kills (writing took {chaos.writing_seconds:.1f} s) at "
          f"positions {chaos.positions}; {duplicates} duplicates delivered")


def consume(broker: str, topic: str, *, wanted: int) -> list[Event]:
    """Through the SDK, in a consumer group: de-duplicated, committed after handling."""
    handled: list[Event] = []
    consumer = EventConsumer(handled.append, bootstrap=broker,
                             group_id=f"g-{uuid.uuid4().hex[:8]}", topic=topic,
                             consumer_config=CONSUMER_TIMING)
    deadline = time.monotonic() + 30 + wanted / 2_000
    while len(handled) < wanted and time.monotonic() < deadline:
        consumer.poll(timeout_ms=200)
    consumer.poll(timeout_ms=300)
    consumer.close()
    return handled
