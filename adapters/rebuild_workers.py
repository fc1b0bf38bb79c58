"""A rebuild spread over worker processes, each filling its share of the new generations.

Every worker reads and decodes the whole log itself; what the workers split is the
projections' own work, most of a rebuild's time (benchmarks/projections.py). This process
creates the new generations, shows progress from their positions in the registry, and switches
them all together once every worker has finished. Killed at any point, the old generations keep
serving, as with a rebuild in one process; a worker whose parent died stops at its next batch.
"""

import multiprocessing
import multiprocessing.connection
import os
from collections.abc import Sequence

from adapters.bootstrap import Settings, open_read_store, open_service_desk, projection_runner
from projections import registry
from projections.projection import Projection
from projections.registry import Generation
from projections.runner import Progress, ProjectionRunner
from projections.store import Cursor

PROGRESS_SECONDS = 0.25
"""How often the progress bar moves (the workers' positions are read from the registry)."""


class RebuildFailed(RuntimeError):
    """A worker stopped before its generations caught up; nothing was switched."""


def rebuild_in_workers(runner: ProjectionRunner, database_url: str, names: Sequence[str], *,
                       workers: int, progress: Progress | None = None) -> list[Generation]:
    """`runner.rebuild_all(names)`, with the projections' work shared by up to `workers`
    processes (one share is built here, in this process, when there is a single one).

    This process holds the store's rebuild lock throughout (RebuildInProgress if another does).
    """
    with runner.rebuilding():
        building = runner.start_rebuild(names)
        shares = balanced_shares([runner.projections[g.name] for g in building], workers)
        if len(shares) <= 1:
            return runner.switch(runner.build(building, progress=progress))
        numbers = {g.name: g.generation for g in building}
        # fork: a worker starts at once with the modules loaded (spawn would import them
        # again, most of a second); it opens its own connections and never touches the
        # inherited ones.
        context = multiprocessing.get_context("fork")
        processes = [context.Process(target=_build_share, name=f"rebuild-{index}",
                                     args=(database_url,
                                           [(p.name, numbers[p.name]) for p in share],
                                           os.getpid()))
                     for index, share in enumerate(shares)]
        for process in processes:
            process.start()
        try:
            _wait(processes, runner, building, progress)
        finally:
            for process in processes:
                if process.is_alive():
                    process.terminate()
                process.join()
        return runner.switch(_reloaded(runner, building))


def balanced_shares(projections: Sequence[Projection], workers: int) -> list[list[Projection]]:
    """Longest first, each to the least loaded worker: shares of nearly equal cost."""
    shares: list[list[Projection]] = [[] for _ in range(max(1, min(workers, len(projections))))]
    loads = [0.0] * len(shares)
    for projection in sorted(projections, key=lambda p: p.rebuild_cost, reverse=True):
        lightest = loads.index(min(loads))
        shares[lightest].append(projection)
        loads[lightest] += projection.rebuild_cost
    return [share for share in shares if share]


def _wait(processes: Sequence[multiprocessing.process.BaseProcess], runner: ProjectionRunner,
          building: Sequence[Generation], progress: Progress | None) -> None:
    running = list(processes)
    while running:
        multiprocessing.connection.wait([p.sentinel for p in running], timeout=PROGRESS_SECONDS)
        for process in [p for p in running if p.exitcode is not None]:
            if process.exitcode != 0:
                raise RebuildFailed(f"rebuild worker {process.name} exited with code "
                                    f"{process.exitcode}; the old generations keep serving")
            running.remove(process)
        if progress:
            reached = min(g.position for g in _reloaded(runner, building))
            progress(reached, runner.log.max_notification_id() or 0)


def _reloaded(runner: ProjectionRunner, building: Sequence[Generation]) -> list[Generation]:
    """The building generations as the workers left them in the registry."""
    with runner.store.reading() as cursor:
        return [_generation(cursor, g.name, g.generation) for g in building]


def _generation(cursor: Cursor, name: str, number: int) -> Generation:
    found = [g for g in registry.generations(cursor, name) if g.generation == number]
    if not found or found[0].state != registry.BUILDING:
        raise RebuildFailed(f"{name} generation {number} is no longer being built "
                            "(its tables were dropped outside this rebuild)")
    return found[0]


def _build_share(database_url: str, wanted: list[tuple[str, int]], parent: int) -> None:
    """A worker process: build these generations from the log, then exit."""
    desk = open_service_desk(database_url)
    store = open_read_store(database_url)
    try:
        runner = projection_runner(desk, store, config=Settings.from_environment().config())
        with store.reading() as cursor:
            building = [_generation(cursor, name, number) for name, number in wanted]

        def orphaned(position: int, last: int) -> None:
            if os.getppid() != parent:
                raise RebuildFailed("the rebuild's parent process is gone")

        runner.build(building, progress=orphaned)
    finally:
        store.close()
        desk.close()
