"""The HTTP API with 100,000 incidents stored: a queue read and a note write, against in-process.

One SQLite store is filled with realistic incident and problem histories (the projection
benchmark's LogBuilder: the aggregates' own methods, 40 incidents per `desk.save`, so 100,000
incidents take a minute, not the hour one command per request would), and the read models are
built once. Then, with `tandem serve` running in its own process (as users run it) and one
keep-alive client, sequentially:

* read: `GET /queues/{group}` (the first page of 50) for the group with the longest queue,
  against `projections.pages.queue` called in-process on the same store (the baseline);
* write: `POST /incidents/{ref}/notes` round-robin over that queue's incidents, against
  `ServiceDesk.add_incident_note` called in-process.

Rates are requests (or calls) per second; latencies are per request. Ratio = HTTP rate ÷
in-process rate: what HTTP, JSON, auth and the server cost on top of the work itself.
`python -m benchmarks.http [--quick] [--requests N]`.
"""

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from adapters.bootstrap import open_read_store, open_service_desk, projection_runner
from benchmarks.options import benchmark_parser, known_arguments
from benchmarks.projections import GROUPS, LogBuilder
from projections import pages, queries

INCIDENTS, QUICK_INCIDENTS = 100_000, 5_000
REQUESTS, QUICK_REQUESTS = 2_000, 300
TOKEN = "benchmark-admin-token"
STARTUP_TIMEOUT_S = 60.0


def fill(database_url: str, incidents: int) -> tuple[int, int]:
    """(incidents, events) stored, read models built."""
    desk = open_service_desk(database_url)
    builder = LogBuilder(desk)
    while builder.incidents < incidents:
        builder.fill(builder.events + 20_000)
    store = open_read_store(database_url)
    runner = projection_runner(desk, store)
    runner.rebuild_all(list(runner.projections))
    store.close()
    return builder.incidents, builder.events


def timed(call: Callable[[int], object], count: int) -> tuple[float, list[float]]:
    """(calls per second, each call's seconds) after a short warm-up."""
    for index in range(min(20, count)):
        call(index)
    latencies = []
    started = time.perf_counter()
    for index in range(count):
        begun = time.perf_counter()
        call(index)
        latencies.append(time.perf_counter() - begun)
    return count / (time.perf_counter() - started), latencies


def serve(database_url: str, directory: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TANDEM_DATABASE_URL": database_url, "TANDEM_ADMIN_TOKEN": TOKEN}
    env.pop("TANDEM_KAFKA_BOOTSTRAP", None)
    tandem = str(Path(sys.executable).with_name("tandem"))
    # The filled incidents opened in 2024 and were never monitored: the server's SLA monitor
    # would first record every overdue threshold (hundreds of thousands of events) while the
    # requests are timed. Policies off: this measures the request path.
    process = subprocess.Popen([tandem, "serve", "--port", str(port), "--sla-interval", "0",
                                "--recurrence-interval", "0"], cwd=directory, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("tandem serve did not start")


def main(argv: Sequence[str] | None = None) -> int:
    parser = benchmark_parser("benchmarks.http", __doc__, only=False,
                              quick=f"{QUICK_INCIDENTS:,} incidents and {QUICK_REQUESTS} requests")
    parser.add_argument("--requests", type=int, default=None, help="requests per operation")
    arguments = known_arguments(parser, argv)
    size = QUICK_INCIDENTS if arguments.quick else INCIDENTS
    count = arguments.requests or (QUICK_REQUESTS if arguments.quick else REQUESTS)
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.db"
        began = time.perf_counter()
        incidents, events = fill(url, size)
        print(f"HTTP API benchmark: {incidents:,} incidents ({events:,} events) stored and "
              f"projected in {time.perf_counter() - began:.0f} s (SQLite, sequential client)")
        desk, store = open_service_desk(url), open_read_store(url)
        group = max(GROUPS, key=lambda g: len(queries.queue(store, g)))
        queue = [row["number"] for row in queries.queue(store, group)]
        local_read = timed(lambda _: pages.queue(store, group, limit=50), count)
        local_write = timed(lambda i: desk.add_incident_note(
            queue[i % len(queue)], actor="bench", text="Checked again."), count)
        process, api = serve(url, directory)
        try:
            with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {TOKEN}"},
                              timeout=30) as client:
                http_read = timed(lambda _: client.get(f"/queues/{group}").raise_for_status(),
                                  count)
                http_write = timed(lambda i: client.post(
                    f"/incidents/{queue[i % len(queue)]}/notes",
                    json={"text": "Checked again."}).raise_for_status(), count)
        finally:
            process.terminate()
            process.wait(timeout=30)
        store.close()
    print(f"  queue {group!r}: {len(queue):,} open incidents, first page of 50; "
          f"{count:,} requests per operation")
    print(f"  {'operation':<34}{'per s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, (rate, latencies) in (("read, in-process pages.queue", local_read),
                                    ("read, GET /queues/{group}", http_read),
                                    ("write, in-process add_incident_note", local_write),
                                    ("write, POST /incidents/{ref}/notes", http_write)):
        cuts = statistics.quantiles(latencies, n=100)
        print(f"  {name:<34}{rate:>10,.0f}{cuts[49] * 1000:>10.2f}{cuts[98] * 1000:>10.2f}")
    print(f"  ratio HTTP / in-process: read {http_read[0] / local_read[0]:.2f}, "
          f"write {http_write[0] / local_write[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
