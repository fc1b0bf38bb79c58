"""A rebuild shared by worker processes (adapters/rebuild_workers.py), once per store: the same
read models as one process builds, switched together; a failed worker switches nothing."""

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import rebuild_workers
from adapters.bootstrap import (
    all_projections,
    open_read_store,
    open_service_desk,
    projection_runner,
)
from adapters.rebuild_workers import RebuildFailed, balanced_shares, rebuild_in_workers
from domain.service_desk import ServiceDesk
from projections import registry
from projections.store import ReadStore
from tests.conftest import FakeClock
from tests.integration.test_projection_runner import (
    NAMES,
    busy_history,
    generations,
    last_position,
)
from tests.read_models import built_from_zero, serving_rows, table_names


@pytest.fixture
def desk(store_url: str, clock: FakeClock) -> Iterator[ServiceDesk]:
    opened = open_service_desk(store_url, clock=clock)
    busy_history(opened, clock, incidents=24)
    yield opened
    opened.close()


@pytest.fixture
def store(store_url: str) -> Iterator[ReadStore]:
    opened = open_read_store(store_url)
    yield opened
    opened.close()


def test_the_shares_hold_every_projection_once_at_nearly_equal_cost() -> None:
    projections = all_projections()
    for workers in (1, 2, 3, 6, 10):
        shares = balanced_shares(projections, workers)
        assert len(shares) == min(workers, len(projections))
        assert sorted(p.name for share in shares for p in share) == sorted(NAMES)
    costs = sorted(sum(p.rebuild_cost for p in share) for share in balanced_shares(projections, 2))
    heaviest = max(p.rebuild_cost for p in projections)
    assert costs[1] - costs[0] <= heaviest / 2, costs


def test_workers_build_what_one_process_builds_and_switch_together(
        desk: ServiceDesk, store: ReadStore, store_url: str, tmp_path: Path) -> None:
    runner = projection_runner(desk, store)
    runner.catch_up()
    served = serving_rows(store)
    before = {(name, generation) for name, generation, _, _, _ in generations(store)}
    reported: list[tuple[int, int]] = []

    built = rebuild_in_workers(runner, store_url, NAMES, workers=2,
                               progress=lambda position, last: reported.append((position, last)))

    last = last_position(desk)
    assert sorted(g.name for g in built) == sorted(NAMES)
    assert all(g.position == last for g in built)
    # Each projection has exactly one generation now, the new one, serving; the old are gone.
    after = generations(store)
    assert {(name, state) for name, _, _, _, state in after} == {
        (name, registry.SERVING) for name in NAMES}
    assert not before & {(name, generation) for name, generation, _, _, _ in after}
    assert table_names(store, prefix="rm_") == {
        table.physical(g.generation) for g in built
        for projection in all_projections() if projection.name == g.name
        for table in projection.tables}
    assert serving_rows(store) == served == built_from_zero(desk, tmp_path)
    assert reported
    assert reported[-1] == (last, last)


def test_a_worker_killed_midway_switches_nothing_and_a_rerun_finishes(
        desk: ServiceDesk, store: ReadStore, store_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    runner = projection_runner(desk, store)
    runner.catch_up()
    served, before = serving_rows(store), generations(store)
    build_share = rebuild_workers._build_share

    def killed_with_timeline(url: str, wanted: list[tuple[str, int]], parent: int) -> None:
        if "timeline" in {name for name, _ in wanted}:
            os.kill(os.getpid(), signal.SIGKILL)
        build_share(url, wanted, parent)

    monkeypatch.setattr(rebuild_workers, "_build_share", killed_with_timeline)
    with pytest.raises(RebuildFailed, match="exited with code -9"):
        rebuild_in_workers(runner, store_url, NAMES, workers=2)

    # Readers never noticed: the old generations serve, unchanged; the new ones never switched.
    assert [g for g in generations(store) if g[4] == registry.SERVING] == [
        g for g in before if g[4] == registry.SERVING]
    assert serving_rows(store) == served

    monkeypatch.setattr(rebuild_workers, "_build_share", build_share)
    built = rebuild_in_workers(runner, store_url, NAMES, workers=2)
    assert {state for _, _, _, _, state in generations(store)} == {registry.SERVING}
    assert len(generations(store)) == len(built) == len(NAMES)
    assert serving_rows(store) == served == built_from_zero(desk, tmp_path)
