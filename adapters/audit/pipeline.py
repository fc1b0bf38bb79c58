"""The whole log, rehashed batch by batch in log order: in this process, or in workers.

For a large store on SQLite or PostgreSQL, worker processes each read their own ranges of
the log (their own connection) and rehash them (rehash.py), so that this process only links
the results: reading and decoding, most of the cost, run in parallel. Otherwise, a thread
reads the next batch while this process rehashes the current one.
"""

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from types import TracebackType
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import Environment

from adapters.audit.records import LOG_BATCH, is_postgres, log_batches
from adapters.audit.rehash import Rehashed, rehash
from adapters.envelope import json_state, state_decoder
from domain.service_desk import ServiceDesk

MAX_WORKERS = 4
IN_FLIGHT_PER_WORKER = 2
"""Ranges queued per worker: enough to keep it busy, few enough that memory stays flat."""

_worker_recorder: ApplicationRecorder | None = None
"""A worker process's own connection to the store, opened by its first range."""


def _rehash_range(name: str, env: dict[str, str], start: int, stop: int
                  ) -> list[tuple[Any, ...]]:
    """A worker's job: read positions start..stop and rehash them. Sent back as plain tuples,
    which pickle in half the time of named ones."""
    global _worker_recorder
    if _worker_recorder is None:
        factory = InfrastructureFactory.construct(Environment(name, env))
        _worker_recorder = factory.application_recorder()
    notifications = _worker_recorder.select_notifications(start, LOG_BATCH, stop=stop)
    return [tuple(rehash(notification)) for notification in notifications]


class RehashedLog:
    """Context manager over the log up to `stop`; `batches()` yields it rehashed, in order.

    Workers are forked, which is quick (spawning would re-import everything for half a
    second), and all at once on entry, before any thread of this process starts: a child
    forked from a threaded process could inherit a lock held by another thread. Of what they
    inherit they use only this package's functions; the parent's connections stay untouched
    (a worker opens its own and ends with `os._exit`, which closes nothing of the parent's).
    """

    def __init__(self, desk: ServiceDesk, *, stop: int, parallel: bool) -> None:
        # multiprocessing: only verifying the whole log needs it, not every CLI call
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_all_start_methods, get_context

        self.desk = desk
        self.stop = stop
        self.decode = state_decoder(desk.mapper)
        # As many workers as cores: they do nearly all the work, this process only links.
        workers = min(MAX_WORKERS, os.cpu_count() or 1)
        usable = (parallel and workers > 1 and self.decode is json_state
                  and (isinstance(desk.recorder, SQLiteApplicationRecorder)
                       or is_postgres(desk.recorder))
                  and "fork" in get_all_start_methods())
        self.pool = (ProcessPoolExecutor(workers, mp_context=get_context("fork"))
                     if usable else None)
        self.in_flight = IN_FLIGHT_PER_WORKER * workers

    def __enter__(self) -> "RehashedLog":
        if self.pool is not None:
            self.pool.submit(int).result()  # fork every worker now (all at once, with fork)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def batches(self) -> Iterator[list[Rehashed]]:
        if self.pool is None:
            for batch in log_batches(self.desk, stop=self.stop):
                yield [rehash(notification, self.decode) for notification in batch]
            return
        name, env = self.desk.name, {**self.desk.env, "CREATE_TABLE": "n"}
        queued: deque[Future[list[tuple[Any, ...]]]] = deque()
        for start in range(1, self.stop + 1, LOG_BATCH):
            end = min(start + LOG_BATCH - 1, self.stop)
            queued.append(self.pool.submit(_rehash_range, name, env, start, end))
            if len(queued) >= self.in_flight:
                yield list(map(Rehashed._make, queued.popleft().result()))
        while queued:
            yield list(map(Rehashed._make, queued.popleft().result()))
