"""The read models as the API serves them: caught up before a read, so a client reads its writes.

One ProjectionRunner (with its own connection) feeds the read models: the server's background
job calls `catch_up` every fraction of a second, and a read that finds the log ahead of the
runner catches it up first, under the same lock. Reads use one connection per thread.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from projections import registry
from projections.runner import NotificationLog, ProjectionRunner
from projections.store import ReadStore


class ReadModels:
    """Hands out read-store connections that see every event stored before the read began."""

    def __init__(self, runner: ProjectionRunner, *, log: NotificationLog,
                 open_store: Callable[[], ReadStore]) -> None:
        self.runner = runner
        self.log = log
        self._open_store = open_store
        self._lock = threading.Lock()
        self._caught_up_to = 0
        self._local = threading.local()
        self._stores: list[ReadStore] = []
        self._stores_lock = threading.Lock()

    def catch_up(self) -> int:
        """Apply every event stored so far; returns events applied (the background job)."""
        last = self.log.max_notification_id() or 0
        with self._lock:
            if last <= self._caught_up_to:
                return 0
            applied = self.runner.catch_up()
            self._caught_up_to = max(self._caught_up_to, last)
            return applied

    def fresh(self) -> ReadStore:
        """This thread's read store, after the runner reached the log's current end."""
        self.catch_up()
        return self.store()

    @contextmanager
    def runner_alone(self) -> Iterator[ProjectionRunner]:
        """The runner and its store for this thread alone (the SLA monitor rebuilds and reads
        its clocks with it); reads that need a catch-up wait meanwhile."""
        with self._lock:
            yield self.runner
            self._caught_up_to = 0  # it may have rebuilt: the next read checks again

    def store(self) -> ReadStore:
        """This thread's read store, as the runner left it."""
        store: ReadStore | None = getattr(self._local, "store", None)
        if store is None:
            store = self._open_store()
            self._local.store = store
            with self._stores_lock:
                self._stores.append(store)
        return store

    def lag(self) -> dict[str, int]:
        """Events each projection's serving generation has still to apply."""
        last = self.log.max_notification_id() or 0
        with self.store().reading() as cursor:
            return {name: last - (generation.position if generation else 0)
                    for name in self.runner.projections
                    for generation in [registry.serving(cursor, name)]}

    def close(self) -> None:
        with self._stores_lock:
            for store in self._stores:
                store.close()
            self._stores.clear()
        self.runner.store.close()
