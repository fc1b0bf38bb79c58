"""Feeds projections from the notification log in batches, exactly once, and rebuilds them."""

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.utils import resolve_topic

from domain.audit_chain import format_timestamp
from projections import registry
from projections.projection import Envelope, Projection, Rows
from projections.registry import Generation
from projections.store import Cursor, Dialect, ReadStore

Progress = Callable[[int, int], None]
"""Called with (position reached, last position in the log)."""

DEFAULT_BATCH = 2_000
REBUILD_BATCH = 10_000
"""Rebuilds read in larger batches: fewer commits and registry queries; memory stays bounded."""


class RebuildInProgress(RuntimeError):
    """Another process holds the store's rebuild lock; nothing was started or dropped."""


@dataclass(frozen=True)
class Batch:
    """What one read of the log gave: the events some projection reads, and the position
    after the batch (the last notification read, whether decoded or not)."""

    envelopes: list[Envelope]
    last: int
    read: int
    """Notifications read, decoded or not."""


class NotificationLog(Protocol):
    """The part of an eventsourcing ApplicationRecorder the runner reads."""

    def select_notifications(self, start: int | None, limit: int) -> Sequence[Any]: ...

    def max_notification_id(self) -> int | None: ...


class ProjectionRunner:
    """Applies each batch and its new position in one transaction: a crash loses or repeats none.

    Notification ids may have gaps (rolled-back inserts); positions are the last id applied,
    so a gap is simply never seen.
    """

    def __init__(self, *, log: NotificationLog, decode: Callable[[Any], Any], store: ReadStore,
                 projections: Sequence[Projection], batch_size: int = DEFAULT_BATCH,
                 owner: object = None) -> None:
        self.owner = owner
        """What owns `log` (the ServiceDesk), kept alive with the runner: it closes its store
        when collected."""
        self.log = log
        self.decode = decode
        self.store = store
        self.projections = {projection.name: projection for projection in projections}
        self.batch_size = batch_size
        read = tuple(event for projection in projections for event in projection.events)
        self._read_topic = _TopicFilter(read)
        with store.transaction() as cursor:
            registry.ensure_serving(cursor, projections)

    def catch_up(self, *, progress: Progress | None = None) -> int:
        """Apply every new event to every serving, current generation; returns events read."""
        done = 0
        while step := self._step(progress):
            done += step
        return done

    def rebuild_outdated(self) -> list[str]:
        """Rebuild the projections whose serving tables an older version built (after an
        upgrade, or an SLA configuration change); returns their names. Readers keep the old
        tables until the switch; a newer version's tables are left serving (a process still on
        the previous release during a deploy must not rebuild them back: `Projection.replaces`).

        Raises RebuildInProgress while another process rebuilds this store's read models.
        """
        if not self._outdated():
            return []
        with self.rebuilding():
            outdated = self._outdated()  # another process may have rebuilt them meanwhile
            if outdated:
                self.switch(self.build(self.start_rebuild(outdated)))
        return outdated

    def rebuild(self, name: str, *, progress: Progress | None = None) -> Generation:
        """Build the code's version into new tables while the old ones serve, then switch."""
        return self.rebuild_all([name], progress=progress)[0]

    def rebuild_all(self, names: Sequence[str], *,
                    progress: Progress | None = None) -> list[Generation]:
        """Rebuild several projections in one pass over the log; they switch together.

        Killed at any point, the old generations keep serving; the next rebuild first drops
        what the killed one left. Raises RebuildInProgress while another process rebuilds.
        """
        with self.rebuilding():
            return self.switch(self.build(self.start_rebuild(names), progress=progress))

    @contextmanager
    def rebuilding(self) -> Iterator[None]:
        """One rebuild at a time per store: `start_rebuild` drops the generations no one
        serves, which would be another live rebuild's (two would undo each other forever)."""
        with self.store.rebuild_lock() as held:
            if not held:
                raise RebuildInProgress("another process is rebuilding this store's read "
                                        "models; the serving ones answer until it switches")
            yield

    def start_rebuild(self, names: Sequence[str]) -> list[Generation]:
        """New, empty generations of the code's versions, after dropping earlier leftovers."""
        with self.store.transaction() as cursor:
            building = []
            for name in names:
                projection = self.projections[name]
                registry.drop_unserved(cursor, projection)
                building.append(registry.create(cursor, projection, state=registry.BUILDING))
        return building

    def build(self, building: Sequence[Generation], *,
              progress: Progress | None = None) -> list[Generation]:
        """Fill new (empty) generations from the start of the log until caught up, then index
        them.

        Each batch is applied under a read transaction and only written under the write lock:
        nobody else writes a building generation, and rebuild workers in other processes (see
        adapters/rebuild_workers.py) then share SQLite's one writer for the writes alone.
        """
        projections = [self._projection_of(generation) for generation in building]
        generations = list(building)
        with _collector_relaxed():
            position = 0
            while batch := self._read(position + 1,
                                      limit=max(self.batch_size, REBUILD_BATCH)):
                with self.store.reading() as cursor:
                    staged = [stage_batch(cursor, projection, generation.generation,
                                          batch.envelopes, self.store.dialect)
                              for projection, generation in zip(projections, generations,
                                                                strict=True)]
                with self.store.transaction() as cursor:
                    generations = [self._write(cursor, tables, generation, batch.last)
                                   for tables, generation in zip(staged, generations,
                                                                 strict=True)]
                position = batch.last
                if progress:
                    progress(position, self._last())
        with self.store.transaction() as cursor:
            for projection, generation in zip(projections, generations, strict=True):
                registry.add_indexes(cursor, projection, generation.generation)
        return generations

    def switch(self, built: Sequence[Generation]) -> list[Generation]:
        """Readers move to the new generations in one transaction; the old ones are dropped."""
        with self.store.transaction() as cursor:
            for generation in built:
                registry.switch(cursor, generation)
        with self.store.transaction() as cursor:
            for generation in built:
                registry.drop_unserved(cursor, self.projections[generation.name])
        return list(built)

    def status(self) -> list[dict[str, Any]]:
        last = self._last()
        with self.store.transaction() as cursor:
            rows = []
            for projection in self.projections.values():
                current = registry.serving(cursor, projection.name)
                rows.append({
                    "name": projection.name,
                    "code_version": projection.version,
                    "serving_version": current.version if current else None,
                    "generation": current.generation if current else None,
                    "position": current.position if current else 0,
                    "lag": last - (current.position if current else 0),
                    "rebuild_needed": current is None or current.version != projection.version,
                })
        return rows

    def _step(self, progress: Progress | None) -> int:
        with self.store.transaction() as cursor:
            current = self._current(cursor)
        if not current:
            return 0
        start = min(g.position for g in current.values()) + 1
        batch = self._read(start)
        if batch is None:
            return 0
        try:
            with self.store.transaction() as cursor:
                for name, generation in self._current(cursor).items():
                    # A generation switched in since the batch was chosen (a rebuild in
                    # another process or thread) may be behind it: the next step reads for it.
                    if generation.position + 1 >= start:
                        self._apply(cursor, self.projections[name], generation, batch)
        except registry.ConcurrentRunner:
            pass  # another runner applied these events first: rolled back, read on from there
        if progress:
            progress(batch.last, self._last())
        return batch.read

    def _outdated(self) -> list[str]:
        with self.store.reading() as cursor:
            return [name for name, projection in self.projections.items()
                    for serving in [registry.serving(cursor, name)]
                    if serving is None or projection.replaces(serving.version)]

    def _current(self, cursor: Cursor) -> dict[str, Generation]:
        """Serving generations built by this code's version (older ones wait for a rebuild)."""
        current = {}
        for name, projection in self.projections.items():
            generation = registry.serving(cursor, name)
            if generation is not None and generation.version == projection.version:
                current[name] = generation
        return current

    def _read(self, start: int, *, limit: int | None = None) -> Batch | None:
        """The next batch from `start` on; None once the log holds nothing more."""
        notifications = self.log.select_notifications(start=start,
                                                      limit=limit or self.batch_size)
        if not notifications:
            return None
        envelopes, wanted = [], self._read_topic
        for notification in notifications:
            if wanted(notification.topic):
                event = self.decode(notification)
                envelopes.append(Envelope(notification.id, event,
                                          str(notification.originator_id),
                                          format_timestamp(event.timestamp)))
        return Batch(envelopes, notifications[-1].id, len(notifications))

    def _apply(self, cursor: Cursor, projection: Projection, generation: Generation,
               batch: Batch) -> Generation:
        if batch.last <= generation.position:
            return generation
        mine = [envelope for envelope in batch.envelopes
                if envelope.position > generation.position]
        tables = stage_batch(cursor, projection, generation.generation, mine, self.store.dialect)
        return self._write(cursor, tables, generation, batch.last)

    def _projection_of(self, generation: Generation) -> Projection:
        projection = self.projections[generation.name]
        if generation.version != projection.version:
            raise RuntimeError(f"{generation.name} generation {generation.generation} is "
                               f"version {generation.version}, this code builds version "
                               f"{projection.version}")
        return projection

    @staticmethod
    def _write(cursor: Cursor, tables: dict[str, Rows], generation: Generation,
               position: int) -> Generation:
        # The position first: a runner that lost the race for this batch stops here, before
        # its inserts of the records the batch opens could collide with the winner's.
        advanced = registry.advance(cursor, generation, position)
        for rows in tables.values():
            rows.flush(cursor)
        return advanced

    def _last(self) -> int:
        return self.log.max_notification_id() or 0


def apply_batch(cursor: Cursor, projection: Projection, generation: int,
                batch: Sequence[Envelope], dialect: Dialect) -> None:
    """The batch's rows in one generation's tables, written in the caller's transaction."""
    for rows in stage_batch(cursor, projection, generation, batch, dialect).values():
        rows.flush(cursor)


def stage_batch(cursor: Cursor, projection: Projection, generation: int,
                batch: Sequence[Envelope], dialect: Dialect) -> dict[str, Rows]:
    """The batch applied in memory: rows read through `cursor`, changes kept until flushed."""
    tables = {table.name: Rows(table, generation, cursor) for table in projection.tables}
    projection.apply(batch, tables, dialect)
    return tables


@contextmanager
def _collector_relaxed() -> Iterator[None]:
    """A rebuild keeps whole batches of young objects alive and allocates few cycles: at the
    default thresholds the cycle collector would scan them over and over (15% of the time)."""
    thresholds = gc.get_threshold()
    gc.freeze()  # what exists already (modules, configuration) is never scanned again
    gc.set_threshold(100_000, 50, 1_000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class _TopicFilter:
    """Whether an event of a stored topic is one of `read` (or a subclass), resolved once per
    topic."""

    def __init__(self, read: tuple[type[Any], ...]) -> None:
        self._read = read
        self._known: dict[str, bool] = {}

    def __call__(self, topic: str) -> bool:
        known = self._known.get(topic)
        if known is None:
            known = self._known[topic] = issubclass(resolve_topic(topic), self._read)
        return known
