"""The read models as the API serves them: caught up before a read, so a client reads its writes.

One ProjectionRunner (with its own connection) feeds the read models: the server's background
job calls `catch_up` every fraction of a second, and a read that finds the log ahead of the
runner catches it up first, under the same lock. Reads use one connection per thread.
"""

import threading
from collections.abc import Callable

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
        self._upgrading = False
        self._local = threading.local()
        self._stores: list[ReadStore] = []
        self._stores_lock = threading.Lock()

    def catch_up(self) -> int:
        """Apply every event stored so far; returns events applied (the background job)."""
        last = self.log.max_notification_id() or 0
        with self._lock:
            if last <= self._caught_up_to and not self._upgrading:
                return 0
            applied = self.runner.catch_up()
            self._caught_up_to = max(self._caught_up_to, last)
            return applied

    def fresh(self) -> ReadStore:
        """This thread's read store, after the runner reached the log's current end."""
        self.catch_up()
        return self.store()

    def upgrade(self) -> list[str]:
        """Rebuild the read models an older version built (`ProjectionRunner.rebuild_outdated`)
        on a runner and connection of its own: the API keeps serving the old tables meanwhile.
        Returns the rebuilt names."""
        self._upgrading = True  # reads catch up every time: the switch may come at any moment
        store = None
        try:
            store = self._open_store()
            builder = ProjectionRunner(log=self.runner.log, decode=self.runner.decode,
                                       store=store,
                                       projections=list(self.runner.projections.values()),
                                       batch_size=self.runner.batch_size,
                                       owner=self.runner.owner)
            return builder.rebuild_outdated()
        finally:
            self._upgrading = False
            if store is not None:
                store.close()
            with self._lock:
                self._caught_up_to = 0  # the next read catches the new generations up

    def is_current(self, name: str) -> bool:
        """Whether this code's version of the projection serves (not another's, not yet)."""
        with self.store().reading() as cursor:
            serving = registry.serving(cursor, name)
        return serving is not None and serving.version == self.runner.projections[name].version

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
