"""`tandem projections status | run | rebuild` as an operator uses them (design sections 5, 9),
including a rebuild killed with SIGKILL halfway through."""

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import pytest

from adapters.bootstrap import (
    all_projections,
    open_read_store,
    open_service_desk,
    projection_runner,
)
from domain.aggregate import Stamp
from domain.incident import Channel, Incident
from domain.numbering import INCIDENT_PREFIX, NumberSequence
from domain.service_desk import ServiceDesk
from projections import queries, registry
from projections.runner import ProjectionRunner
from projections.store import ReadStore
from projections.timeline import Timeline
from tests.conftest import FakeClock
from tests.e2e.conftest import Cli
from tests.read_models import table_names

STATUS_KEYS = {"name", "code_version", "serving_version", "generation", "position", "lag",
               "rebuild_needed"}
NAMES = [projection.name for projection in all_projections()]
CODE_VERSIONS = {projection.name: projection.version for projection in all_projections()}
"""The SLA clocks' version carries the digest of the (default) SLA configuration."""


def _arrange(database_url: str) -> list[str]:
    """A few records, written straight through the ServiceDesk (only the reads are on trial)."""
    clock = FakeClock()
    desk = open_service_desk(database_url, clock=clock)
    numbers = []
    for minutes in (5, 10, 15):
        clock.advance(minutes=minutes)
        numbers.append(desk.open_incident(actor="sd", title=f"VPN drops every {minutes} min",
                                          service="vpn").number)
    desk.assign_incident(numbers[0], actor="sd", group="network")
    desk.open_problem(actor="pm", title="VPN concentrator overloaded", incidents=numbers[:2])
    return numbers


def _status(cli: Cli) -> dict[str, dict[str, Any]]:
    rows = cli.json("projections", "status", "--json")
    assert isinstance(rows, list)
    for row in rows:
        assert set(row) == STATUS_KEYS, row
    return {row["name"]: row for row in rows}


def _lines(out: str) -> list[str]:
    """The lines a rebuild reports (its transient progress bar may leave a blank line)."""
    return [line for line in out.splitlines() if line.strip()]


# -- status and run --------------------------------------------------------------------------


def test_status_shows_lag_until_run_catches_up(cli: Cli) -> None:
    _arrange(str(cli.database_url))  # events written; nothing has read them into read models
    before = _status(cli)
    assert sorted(before) == sorted(NAMES)
    logged = before["timeline"]["position"] + before["timeline"]["lag"]
    assert logged > 0
    for name, row in before.items():
        version = CODE_VERSIONS[name]
        assert (row["code_version"], row["serving_version"], row["generation"],
                row["rebuild_needed"]) == (version, version, 1, False)
        assert row["position"] + row["lag"] == logged

    assert cli.ok("projections", "run").out == f"caught up: {logged} events read\n"

    after = _status(cli)
    assert {name: (row["position"], row["lag"]) for name, row in after.items()} == dict.fromkeys(
        NAMES, (logged, 0))
    assert cli.ok("projections", "run").out == "caught up: 0 events read\n"


def test_run_first_rebuilds_what_an_older_version_built(cli: Cli) -> None:
    _arrange(str(cli.database_url))
    cli.ok("projections", "run")
    store = open_read_store(str(cli.database_url))
    try:
        with store.transaction() as cursor:  # as the previous release left it
            cursor.execute("UPDATE projection_generations SET version = version - 1 "
                           "WHERE name = 'timeline'")
    finally:
        store.close()
    assert _status(cli)["timeline"]["rebuild_needed"]

    result = cli("projections", "run")

    assert result.code == 0
    assert result.err == "tandem: read model timeline rebuilt for this version\n"
    assert result.out == "caught up: 0 events read\n"
    after = _status(cli)
    assert (after["timeline"]["generation"], after["timeline"]["rebuild_needed"]) == (2, False)
    assert {name: row["lag"] for name, row in after.items()} == dict.fromkeys(NAMES, 0)


# -- rebuild ---------------------------------------------------------------------------------


def test_a_rebuild_while_another_process_rebuilds_is_refused_and_reads_use_the_old_tables(
        cli: Cli) -> None:
    url = str(cli.database_url)
    numbers = _arrange(url)
    cli.ok("projections", "run")
    store = open_read_store(url)
    try:
        with store.transaction() as cursor:  # as the previous release left it
            cursor.execute("UPDATE projection_generations SET version = version - 1 "
                           "WHERE name = 'incidents'")
        holder = projection_runner(open_service_desk(url), store)
        with holder.rebuilding():
            refused = cli("projections", "rebuild", "--all")
            listed = cli("incident", "list", "--json")
            status = _status(cli)
    finally:
        store.close()

    assert (refused.code, refused.err) == (
        2, "tandem: refused: another process is rebuilding this store's read models; the "
           "serving ones answer until it switches\n")
    assert {name: row["generation"] for name, row in status.items()} == dict.fromkeys(NAMES, 1)
    assert listed.code == 0
    assert listed.err == ("tandem: another process is rebuilding this store's read models; "
                          "the serving ones answer until it switches\n")
    assert sorted(row["number"] for row in json.loads(listed.out)) == sorted(numbers)
    assert cli("incident", "list").err == "tandem: read model incidents rebuilt for this version\n"


def test_rebuild_one_then_all_switches_generations_and_keeps_every_row(cli: Cli) -> None:
    numbers = _arrange(str(cli.database_url))
    logged = int(cli.ok("projections", "run").out.split()[2])
    reads = [["projections", "status", "--json"], ["incident", "list", "--json"],
             ["problem", "list", "--json"]]
    _, *listed = cli.json_all(reads)
    assert [row["number"] for row in listed[0]] == numbers

    (line,) = _lines(cli.ok("projections", "rebuild", "incidents").out)
    assert line.startswith(f"incidents: generation 2 (version 2) serving at position {logged} ")
    status, *lists = cli.json_all(reads)
    assert {row["name"]: (row["generation"], row["lag"]) for row in status} == {
        "incidents": (2, 0), "problems": (1, 0), "known_errors": (1, 0), "timeline": (1, 0),
        "sla_clocks": (1, 0), "recurrence": (1, 0)}
    assert lists == listed

    lines = _lines(cli.ok("projections", "rebuild", "--all").out)
    assert [line.split(":")[0] for line in lines] == NAMES
    status, *lists = cli.json_all(reads)
    assert {row["name"]: (row["generation"], row["position"], row["lag"],
                          row["rebuild_needed"]) for row in status} == {
        "incidents": (3, logged, 0, False), "problems": (2, logged, 0, False),
        "known_errors": (2, logged, 0, False), "timeline": (2, logged, 0, False),
        "sla_clocks": (2, logged, 0, False), "recurrence": (2, logged, 0, False)}
    assert lists == listed


def test_rebuild_refuses_an_unknown_name_and_wants_a_name_or_all(cli: Cli) -> None:
    unknown, neither, both = cli.refused_all([
        ["projections", "rebuild", "nosuch"],
        ["projections", "rebuild"],
        ["projections", "rebuild", "incidents", "--all"],
    ])
    assert unknown.startswith("tandem: name: ")
    assert "nosuch" in unknown
    assert "timeline" in unknown  # it lists the known ones
    assert neither.startswith("tandem: name: ")
    assert both.startswith("tandem: name: ")


# -- a rebuild killed halfway ----------------------------------------------------------------


def load_incidents(desk: ServiceDesk, clock: FakeClock, *, count: int, notes: int) -> None:
    """Many incidents, fast: a thousand records (and their numbers) per save."""
    stamp = Stamp(actor="monitor:loader", at=clock())
    sequence = NumberSequence.start(prefix=INCIDENT_PREFIX, stamp=stamp)
    for start in range(0, count, 1_000):
        records = []
        for ordinal in range(start, min(count, start + 1_000)):
            record_id = uuid4()
            incident = Incident.open(
                id=record_id, number=sequence.issue(record=record_id, stamp=stamp),
                title=f"Volume {ordinal} almost full", service="storage", category=None,
                subcategory=None, impact=2, urgency=2, description="", caller=None,
                channel=Channel.MONITORING, stamp=stamp)
            incident.assign(group="storage", assignee=None, stamp=stamp)
            for note in range(notes):
                incident.add_note(text=f"Usage {90 + note}%", stamp=stamp)
            records.append(incident)
        desk.save(sequence, *records)


def timeline_rows(store: ReadStore) -> list[tuple[object, ...]]:
    table = Timeline.tables[0]
    with store.transaction() as cursor:
        generation = registry.serving(cursor, Timeline.name)
        assert generation is not None
        cursor.execute(f"SELECT {', '.join(table.column_names)} "
                       f"FROM {table.physical(generation.generation)} ORDER BY position")
        return [tuple(row) for row in cursor.fetchall()]


def timeline_generations(store: ReadStore) -> list[tuple[int, int, int, str]]:
    with store.transaction() as cursor:
        return [(g.generation, g.version, g.position, g.state)
                for g in registry.generations(cursor, Timeline.name)]


@pytest.fixture
def read_store(store_url: str) -> Iterator[ReadStore]:
    store = open_read_store(store_url)
    yield store
    store.close()


def test_a_rebuild_killed_halfway_leaves_the_old_generation_serving(
        make_cli: Callable[..., Cli], store_url: str, read_store: ReadStore) -> None:
    cli = make_cli(store_url)
    clock = FakeClock()
    desk = open_service_desk(store_url, clock=clock)
    load_incidents(desk, clock, count=5_000, notes=3)  # 25,000 record events, 30,001 in all
    last = desk.recorder.max_notification_id()
    # The timeline as it serves today: built by a runner that feeds only it (the rebuilding
    # process creates the other read models, empty, when it starts).
    ProjectionRunner(log=desk.recorder, decode=desk.mapper.to_domain_event, store=read_store,
                     projections=[Timeline()]).catch_up()
    served = timeline_rows(read_store)
    assert len(served) == 25_000
    assert timeline_generations(read_store) == [(1, 1, last, registry.SERVING)]
    a_stream = str(served[-1][1])
    history = queries.timeline(read_store, a_stream)
    assert len(history) == 5

    process = subprocess.Popen(cli.command("projections", "rebuild", "timeline"), cwd=cli.cwd,
                               env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        building = _wait_for_a_building_generation(read_store, process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert 0 < building < last, "the rebuild was not caught halfway"

    # Readers never noticed: the old generation serves, complete.
    assert timeline_generations(read_store)[0] == (1, 1, last, registry.SERVING)
    assert timeline_rows(read_store) == served
    assert queries.timeline(read_store, a_stream) == history

    # Running the rebuild again clears what the killed one left and finishes.
    (line,) = _lines(cli.ok("projections", "rebuild", "timeline").out)
    assert line.startswith(f"timeline: generation 2 (version 1) serving at position {last} ")
    assert timeline_generations(read_store) == [(2, 1, last, registry.SERVING)]
    assert table_names(read_store, prefix="rm_timeline_") == {"rm_timeline_g2"}
    assert timeline_rows(read_store) == served
    assert queries.timeline(read_store, a_stream) == history


def test_a_parallel_rebuild_killed_halfway_stops_its_workers_and_switches_nothing(
        make_cli: Callable[..., Cli], store_url: str, read_store: ReadStore) -> None:
    cli = make_cli(store_url)
    clock = FakeClock()
    desk = open_service_desk(store_url, clock=clock)
    load_incidents(desk, clock, count=5_000, notes=3)
    last = desk.recorder.max_notification_id()
    projection_runner(desk, read_store).catch_up()
    served, serving = timeline_rows(read_store), timeline_generations(read_store)

    process = subprocess.Popen(
        cli.command("projections", "rebuild", "--all", "--workers", "2"), cwd=cli.cwd,
        env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        building = _wait_for_a_building_generation(read_store, process)
        workers = _children(process.pid)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    assert 0 < building < last, "the rebuild was not caught halfway"
    assert len(workers) == 2
    # Orphaned, each worker stops at its next batch instead of building on for nobody.
    _wait_until_gone(workers)

    assert [g for g in timeline_generations(read_store) if g[3] == registry.SERVING] == serving
    assert timeline_rows(read_store) == served

    lines = _lines(cli.ok("projections", "rebuild", "--all").out)
    assert len(lines) == len(NAMES)
    assert all(f"serving at position {last} " in line for line in lines)
    (generation,) = timeline_generations(read_store)
    assert generation[2:] == (last, registry.SERVING)
    assert table_names(read_store, prefix="rm_timeline_") == {f"rm_timeline_g{generation[0]}"}
    assert timeline_rows(read_store) == served


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return [int(child) for child in children.read().split()]


def _wait_until_gone(pids: list[int]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not any(_running(pid) for pid in pids):
            return
        time.sleep(0.05)
    raise AssertionError(f"rebuild workers {pids} still run after their parent was killed")


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has stopped
    except FileNotFoundError:
        return False


def _wait_for_a_building_generation(store: ReadStore, rebuild: subprocess.Popen[bytes]) -> int:
    """The position of the rebuild's new generation once it has committed a batch or more."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert rebuild.poll() is None, f"the rebuild ended first: {rebuild.communicate()}"
        positions = [position for _, _, position, state in timeline_generations(store)
                     if state == registry.BUILDING]
        if positions and positions[0] > 0:
            return positions[0]
        time.sleep(0.01)
    raise AssertionError("the rebuild made no progress within 60 s")
