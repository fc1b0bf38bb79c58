"""Helpers for the Kafka tests: read a topic whole, stop a process the way tansu likes, wait
for a condition."""

import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

CONSUMER_TIMING = {"session_timeout_ms": 2_000, "heartbeat_interval_ms": 500}
"""Consumer groups join after session_timeout_ms / 2 on tansu: keep it short in tests."""


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 2 s (with clients connected tansu drains for 5 s)."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def read_all(broker: str, topic: str, *, expected: int, seconds: float = 20.0) -> list[Any]:
    """Every record of `topic` from the start, without a consumer group (fast, no join)."""
    consumer = KafkaConsumer(bootstrap_servers=broker, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    records: list[Any] = []
    deadline = time.monotonic() + seconds
    while len(records) < expected and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
    # Anything beyond `expected` would be a surplus the test should see too.
    for batch in consumer.poll(timeout_ms=300).values():
        records.extend(batch)
    consumer.close()
    return records


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    """Poll `condition` until it holds; the test fails naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)
