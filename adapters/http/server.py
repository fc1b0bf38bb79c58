"""`tandem serve` at run time: uvicorn in this process, background jobs, graceful SIGTERM."""

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType

import uvicorn
from fastapi import FastAPI

log = logging.getLogger("tandem.serve")
STOP_TIMEOUT_S = 10.0
"""How long shutdown waits for a job's current run (a relay waiting on a dead broker is left:
its position is durable, so the next start resends what it had not confirmed)."""


@dataclass(frozen=True)
class PeriodicJob:
    """Something the server runs every `every` seconds in its own thread (projections, relay,
    idempotency purge, SLA monitor, recurrence policy, alert intake)."""

    name: str
    every: float
    run: Callable[[], object]
    stop: Callable[[], object] = lambda: None
    """Called once after the last run (flush, close)."""
    once: bool = False
    """Stop after the first run that returns True (a start-up task, tried every `every` s
    until then)."""


class Jobs:
    """Runs each job in a daemon thread until `stop`; a failing run is logged, counted (`failed`
    gets the job's name) and retried."""

    def __init__(self, jobs: Sequence[PeriodicJob], *,
                 failed: Callable[[str], object] = lambda name: None) -> None:
        self.jobs = list(jobs)
        self._failed = failed
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for job in self.jobs:
            thread = threading.Thread(target=self._loop, args=(job,), name=f"job-{job.name}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=STOP_TIMEOUT_S)
            if thread.is_alive():
                log.warning("%s did not stop within %.0f s; leaving it", thread.name,
                            STOP_TIMEOUT_S)

    def _loop(self, job: PeriodicJob) -> None:
        while not self._stopping.is_set():
            try:
                done = job.run()
            except Exception:  # a job's main loop: log, then retry on its next turn
                log.exception("job %s failed; retrying in %.1f s", job.name, job.every)
                self._failed(job.name)
            else:
                if job.once and done:
                    break
            self._stopping.wait(job.every)
        try:
            job.stop()
        except Exception:  # the job's last act: log it, let the other jobs stop
            log.exception("job %s failed to stop", job.name)
            self._failed(job.name)


def serve(app: FastAPI, *, host: str, port: int, jobs: Sequence[PeriodicJob],
          failed: Callable[[str], object] = lambda name: None) -> None:
    """Serve until SIGTERM or SIGINT, then finish open requests, stop the jobs and return."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, lifespan="off",
                                           log_level="info", access_log=False))

    def stop(sig: int, frame: FrameType | None) -> None:
        server.should_exit = True

    # uvicorn handles these signals while it runs, then restores ours and raises them again:
    # with ours in place that re-raise ends in `stop`, not in the default "die by SIGTERM".
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    running = Jobs(jobs, failed=failed)
    running.start()
    try:
        server.run()
    finally:
        running.stop()
