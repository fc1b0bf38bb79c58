"""The projection runner's contract (design section 5), once per store (SQLite, PostgreSQL).

Exactly once, atomic batches, runners racing for the same batch, gaps in the notification log,
status, and the blue/green rebuild of a new code version while readers keep reading.
"""

import itertools
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from adapters.bootstrap import (
    all_projections,
    open_service_desk,
    projection_runner,
)
from domain.aggregate import Stamp
from domain.numbering import NumberSequence
from domain.service_desk import ServiceDesk
from projections import queries, registry
from projections.projection import Envelope, Projection, Rows
from projections.runner import ProjectionRunner, RebuildInProgress
from projections.store import Dialect, ReadStore
from projections.timeline import RECORD_EVENTS, Timeline
from tests.conftest import FakeClock
from tests.read_models import built_from_zero, serving_rows, table_names

P = TypeVar("P", bound=Projection)
NAMES = tuple(projection.name for projection in all_projections())


# -- arranging a history and reading what the runner made of it -------------------------------


def busy_history(desk: ServiceDesk, clock: FakeClock, *, incidents: int = 6) -> list[str]:
    """Incidents assigned, escalated to management, held and resumed; a problem that links
    half of them, swaps one, is root-caused, becomes a known error, resolves them and closes."""
    numbers = []
    for ordinal in range(incidents):
        clock.advance(minutes=5)
        number = desk.open_incident(actor="monitor:zabbix", title=f"Disk full on db{ordinal}",
                                    service="storage", impact=1 + ordinal % 3, urgency=2).number
        desk.assign_incident(number, actor="sd", group="storage", assignee="erin")
        desk.escalate_incident(number, actor="erin", kind="hierarchical", to="cio",
                               reason="customer facing")
        desk.put_incident_on_hold(number, actor="erin", reason="awaiting_vendor")
        desk.resume_incident(number, actor="erin")
        numbers.append(number)
    clock.advance(minutes=5)
    problem = desk.open_problem(actor="pm", title="Volumes fill up", service="storage",
                                incidents=numbers[::2]).number
    desk.unlink_incident(problem, numbers[0], actor="pm")
    desk.link_incident(problem, numbers[1], actor="pm")
    desk.identify_root_cause(problem, actor="pm", text="log rotation disabled")
    desk.record_known_error(problem, actor="pm", workaround="purge old logs")
    desk.resolve_problem(problem, actor="pm", notes="rotation enabled",
                         resolve_linked_incidents=True)
    desk.close_problem(problem, actor="pm")
    return numbers


def generations(store: ReadStore) -> list[tuple[str, int, int, int, str]]:
    """(name, generation, version, position, state) of every generation on record."""
    with store.transaction() as cursor:
        cursor.execute("SELECT name, generation, version, position, state "
                       "FROM projection_generations ORDER BY name, generation")
        return [tuple(row) for row in cursor.fetchall()]  # type: ignore[misc]


def positions(store: ReadStore) -> dict[str, int]:
    return {name: position for name, _, _, position, state in generations(store)
            if state == registry.SERVING}


def last_position(desk: ServiceDesk) -> int:
    return desk.recorder.max_notification_id() or 0


def record_events(desk: ServiceDesk) -> int:
    """How many events of incidents and problems the log holds (number sequences aside)."""
    notifications = desk.recorder.select_notifications(start=1, limit=1_000_000)
    return sum(isinstance(desk.mapper.to_domain_event(n), RECORD_EVENTS) for n in notifications)


class Crash(RuntimeError):
    """The failure a test injects into a batch."""


def crash_on(projection: P, *, call: int) -> P:
    """The projection, except that its `call`-th batch writes its rows and then fails."""
    apply, calls = projection.apply, itertools.count(1)

    def failing(batch: Sequence[Envelope], tables: dict[str, Rows], dialect: Dialect) -> None:
        apply(batch, tables, dialect)
        if next(calls) == call:
            for rows in tables.values():
                rows.flush()  # the rows reach the database inside the batch's transaction
            raise Crash(f"{projection.name}: injected failure in batch {call}")

    projection.apply = failing  # type: ignore[method-assign]
    return projection


# -- exactly once ----------------------------------------------------------------------------


def test_catch_up_applies_every_event_once_and_a_rerun_applies_nothing(
        store_url: str, read_stores: Callable[[], ReadStore], clock: FakeClock,
        tmp_path: Path) -> None:
    desk = open_service_desk(store_url, clock=clock)
    numbers = busy_history(desk, clock)
    store = read_stores()
    runner = projection_runner(desk, store, batch_size=7)

    assert runner.catch_up() == last_position(desk)  # no gaps yet: each id read exactly once
    assert positions(store) == dict.fromkeys(NAMES, last_position(desk))
    built = serving_rows(store)
    assert runner.catch_up() == 0
    assert projection_runner(desk, read_stores(), batch_size=7).catch_up() == 0  # another process
    assert serving_rows(store) == built == built_from_zero(desk, tmp_path)
    assert len(built["timeline"]) == record_events(desk)
    # The lists agree with the records themselves, escalations counted once.
    rows = {row["number"]: row for row in queries.incidents(store)}
    for number in numbers:
        incident = desk.incident(number)
        assert (rows[number]["state"], rows[number]["escalation_level"],
                rows[number]["problem"], rows[number]["version"]) == (
            incident.state.value, 1, incident.problem_number, incident.version)

    # Later events, and only they, are read by the next catch-up.
    before = last_position(desk)
    busy_history(desk, clock, incidents=2)
    assert runner.catch_up() == last_position(desk) - before
    assert positions(store) == dict.fromkeys(NAMES, last_position(desk))
    assert serving_rows(store) == built_from_zero(desk, tmp_path)


def test_events_no_projection_reads_are_not_decoded_yet_the_positions_pass_them(
        store_url: str, read_stores: Callable[[], ReadStore], clock: FakeClock) -> None:
    desk = open_service_desk(store_url, clock=clock)
    busy_history(desk, clock)
    # Last in the log, alone in its batch: an event of a record no read model reads.
    desk.save(NumberSequence.start(prefix="CHG", stamp=Stamp(actor="sd", at=clock())))
    decoded: list[str] = []

    def decode(notification: Any) -> Any:
        decoded.append(notification.topic)
        return desk.mapper.to_domain_event(notification)

    store = read_stores()
    runner = ProjectionRunner(log=desk.recorder, decode=decode, store=store,
                              projections=all_projections(), batch_size=1)
    assert runner.catch_up() == last_position(desk)
    assert positions(store) == dict.fromkeys(NAMES, last_position(desk))
    assert len(decoded) == record_events(desk)
    assert not [topic for topic in decoded if "NumberSequence" in topic]
    assert runner.catch_up() == 0


# -- atomic batches --------------------------------------------------------------------------


def test_a_failure_inside_a_batch_leaves_neither_its_rows_nor_its_positions(
        store_url: str, read_stores: Callable[[], ReadStore], clock: FakeClock,
        tmp_path: Path) -> None:
    desk = open_service_desk(store_url, clock=clock)
    busy_history(desk, clock)
    store = read_stores()
    projection_runner(desk, store, batch_size=5).catch_up()
    served, on_record, caught_up = serving_rows(store), generations(store), last_position(desk)
    busy_history(desk, clock, incidents=3)

    # The timeline is applied last: the three read models before it have written their rows
    # and moved their positions in the same transaction when it fails.
    failing = projection_runner(desk, read_stores(), batch_size=1_000)
    crash_on(failing.projections["timeline"], call=1)
    with pytest.raises(Crash):
        failing.catch_up()
    assert serving_rows(store) == served
    assert generations(store) == on_record

    # A failure in the second batch keeps the first batch, all of it, and nothing more.
    failing = projection_runner(desk, read_stores(), batch_size=4)
    crash_on(failing.projections["incidents"], call=2)
    with pytest.raises(Crash):
        failing.catch_up()
    first_batch = desk.recorder.select_notifications(start=caught_up + 1, limit=4)
    assert positions(store) == dict.fromkeys(NAMES, first_batch[-1].id)

    # A fresh runner carries on from there and ends where a build from zero ends.
    projection_runner(desk, read_stores(), batch_size=3).catch_up()
    assert positions(store) == dict.fromkeys(NAMES, last_position(desk))
    assert serving_rows(store) == built_from_zero(desk, tmp_path)


# -- runners racing --------------------------------------------------------------------------

def test_a_runner_overtaken_on_its_batch_does_not_apply_it_again(
        store_url: str, read_stores: Callable[[], ReadStore], clock: FakeClock,
        tmp_path: Path) -> None:
    """`late` has read its positions and its batch; before it writes a row, `early` applies
    and commits that same batch. `late` must then apply nothing."""
    desk = open_service_desk(store_url, clock=clock)
    numbers = busy_history(desk, clock)
    early = projection_runner(desk, read_stores())
    late = projection_runner(desk, read_stores())
    early.catch_up()
    # The raced batch changes rows an earlier batch made (a batch that opens its records
    # rebuilds them from scratch, and applying it twice would show nothing).
    for number in numbers:
        if desk.incident(number).is_open:
            desk.escalate_incident(number, actor="erin", kind="hierarchical", to="ceo",
                                   reason="still down")
    errors: list[BaseException] = []

    def run_early() -> None:
        try:
            early.catch_up()
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    overtaker = threading.Thread(target=run_early)
    apply = late.projections["incidents"].apply  # the first read model in each batch

    def overtaken(batch: Sequence[Envelope], tables: dict[str, Rows], dialect: Dialect) -> None:
        if overtaker.ident is None:  # the first batch only
            overtaker.start()
            # PostgreSQL: `early` commits at once. SQLite: `early` cannot begin while `late`
            # holds the write lock, so it goes after `late` whatever this wait is.
            overtaker.join(timeout=5 if dialect == "postgres" else 0.3)
        apply(batch, tables, dialect)

    late.projections["incidents"].apply = overtaken  # type: ignore[method-assign]
    late.catch_up()
    overtaker.join()

    assert errors == []
    assert positions(late.store) == dict.fromkeys(NAMES, last_position(desk))
    # Escalations are counted: a batch applied twice counts them twice.
    assert {row["number"]: row["escalation_level"] for row in queries.incidents(late.store)} \
        == {number: desk.incident(number).escalation_level for number in numbers}
    assert serving_rows(late.store) == built_from_zero(desk, tmp_path)


def race(runners: list[ProjectionRunner]) -> list[BaseException]:
    """Start every runner's catch-up at the same moment, each in its thread; their errors."""
    start, errors = threading.Barrier(len(runners)), []

    def run(runner: ProjectionRunner) -> None:
        start.wait()
        try:
            runner.catch_up()
        except BaseException as error:  # returned to the test, which asserts there are none
            errors.append(error)

    threads = [threading.Thread(target=run, args=(runner,)) for runner in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_runners_in_parallel_threads_end_with_what_a_build_from_zero_gives(
        store_url: str, read_stores: Callable[[], ReadStore], clock: FakeClock,
        tmp_path: Path) -> None:
    # Free-running threads hit the race above only sometimes: not strict, the test above is.
    desk = open_service_desk(store_url, clock=clock)
    for _ in range(3):
        busy_history(desk, clock, incidents=4)
        runners = [projection_runner(desk, read_stores(), batch_size=3) for _ in range(3)]

        assert race(runners) == []
        store = runners[0].store
        assert positions(store) == dict.fromkeys(NAMES, last_position(desk))
        assert len(serving_rows(store)["timeline"]) == record_events(desk)
        assert serving_rows(store) == built_from_zero(desk, tmp_path)


# -- gaps in the log -------------------------------------------------------------------------


def leave_a_gap(desk: ServiceDesk, store_url: str, clock: FakeClock) -> None:
    """Open an incident so that a notification id is skipped, as a rolled-back insert does."""
    if store_url.startswith("postgresql"):
        # Another process issues a number after this desk saved its sequence: this desk's next
        # insert conflicts and rolls back, its ids spent, and the desk retries with a new one.
        other = open_service_desk(store_url, clock=clock)
        desk.open_incident(actor="sd", title="Printer jammed", service="printing")
        other.open_incident(actor="sd", title="Scanner jammed", service="printing")
        desk.open_incident(actor="sd", title="Fax jammed", service="printing")
    else:
        # SQLite hands a rolled-back insert's rowid to the next insert: move the newest up.
        desk.open_incident(actor="sd", title="Printer jammed", service="printing")
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as connection:
            connection.execute("UPDATE stored_events SET rowid = rowid + 3 "
                               "WHERE rowid = (SELECT MAX(rowid) FROM stored_events)")


def test_gaps_in_notification_ids_are_passed_over(
        store_url: str, read_stores: Callable[[], ReadStore], clock: FakeClock,
        tmp_path: Path) -> None:
    desk = open_service_desk(store_url, clock=clock)
    busy_history(desk, clock, incidents=2)
    store = read_stores()
    runner = projection_runner(desk, store, batch_size=2)
    runner.catch_up()
    caught_up = last_position(desk)
    for _ in range(2):
        leave_a_gap(desk, store_url, clock)
        busy_history(desk, clock, incidents=2)
    ids = [n.id for n in desk.recorder.select_notifications(start=1, limit=1_000_000)]
    assert set(range(1, ids[-1] + 1)) - set(ids), f"no gap in {ids}"

    assert runner.catch_up() == len([i for i in ids if i > caught_up])
    assert positions(store) == dict.fromkeys(NAMES, last_position(desk))
    assert runner.catch_up() == 0
    assert len(serving_rows(store)["timeline"]) == record_events(desk)
    assert serving_rows(store) == built_from_zero(desk, tmp_path)


# -- status and the blue/green rebuild -------------------------------------------------------


def built(store_url: str, store: ReadStore, clock: FakeClock) -> tuple[ServiceDesk, ReadStore]:
    """A busy history, and every read model built from it on `store`."""
    desk = open_service_desk(store_url, clock=clock)
    busy_history(desk, clock)
    projection_runner(desk, store).catch_up()
    return desk, store


class TimelineV2(Timeline):
    """The timeline as a new release ships it: same tables, a higher version."""

    version = 2


def test_a_new_code_version_is_built_beside_the_old_one_which_serves_until_the_switch(
        store_url: str, read_stores: Callable[[], ReadStore], clock: FakeClock,
        tmp_path: Path) -> None:
    desk, store = built(store_url, read_stores(), clock)
    old_last = last_position(desk)
    old_timeline = serving_rows(store)["timeline"]
    streams = sorted({row[1] for row in old_timeline})
    busy_history(desk, clock, incidents=2)
    lag = last_position(desk) - old_last

    status = {row["name"]: row for row in projection_runner(desk, store).status()}
    assert status["incidents"] == {
        "name": "incidents", "code_version": 2, "serving_version": 2, "generation": 1,
        "position": old_last, "lag": lag, "rebuild_needed": False}

    # The new release: the timeline's code is at version 2, its serving tables at version 1.
    upgraded = ProjectionRunner(
        log=desk.recorder, decode=desk.mapper.to_domain_event, store=read_stores(),
        projections=[TimelineV2() if isinstance(p, Timeline) else p
                     for p in all_projections()],
        batch_size=10)
    status = {row["name"]: row for row in upgraded.status()}
    assert status["timeline"] == {
        "name": "timeline", "code_version": 2, "serving_version": 1, "generation": 1,
        "position": old_last, "lag": lag, "rebuild_needed": True}
    assert not any(status[name]["rebuild_needed"] for name in NAMES if name != "timeline")

    # Catching up feeds the current read models and leaves the old timeline alone.
    upgraded.catch_up()
    assert positions(store) == {**dict.fromkeys(NAMES, last_position(desk)),
                                "timeline": old_last}
    assert serving_rows(store)["timeline"] == old_timeline

    # While version 2 is built, a reader (another connection) still gets version 1, complete,
    # and writers carry on: what they add during the rebuild is in version 2 when it switches.
    reader = read_stores()
    seen: list[int] = []

    def mid_rebuild(position: int, last: int) -> None:
        assert ("timeline", 2, 2, position, registry.BUILDING) in generations(reader)
        assert serving_rows(reader)["timeline"] == old_timeline
        assert [row["version"] for row in queries.timeline(reader, streams[0])] == [
            row[3] for row in old_timeline if row[1] == streams[0]]
        seen.append(position)
        if len(seen) == 1:
            busy_history(desk, clock, incidents=2)

    rebuilt = upgraded.rebuild("timeline", progress=mid_rebuild)

    assert len(seen) >= 2, f"the rebuild did not read on after the writes: {seen}"
    assert (rebuilt.generation, rebuilt.version, rebuilt.position) == (2, 2, last_position(desk))
    status = {row["name"]: row for row in upgraded.status()}
    assert status["timeline"] == {
        "name": "timeline", "code_version": 2, "serving_version": 2, "generation": 2,
        "position": last_position(desk), "lag": 0, "rebuild_needed": False}
    assert [g for g in generations(store) if g[0] == "timeline"] == [
        ("timeline", 2, 2, last_position(desk), registry.SERVING)]
    assert table_names(store, prefix="rm_") == {"rm_incidents_g1", "rm_problems_g1",
                                        "rm_known_errors_g1", "rm_timeline_g2",
                                        "rm_sla_clocks_g1", "rm_work_queue_g1",
                                        "rm_recurrence_incidents_g1",
                                        "rm_recurrence_problems_g1"}
    assert serving_rows(reader)["timeline"] == built_from_zero(desk, tmp_path)["timeline"]
    assert len(serving_rows(reader)["timeline"]) == record_events(desk)
    upgraded.catch_up()  # the other read models read what was written during the rebuild
    assert serving_rows(reader) == built_from_zero(desk, tmp_path)


def test_only_what_an_older_version_built_is_rebuilt_and_then_caught_up(
        store_url: str, read_stores: Callable[[], ReadStore], clock: FakeClock,
        tmp_path: Path) -> None:
    desk, store = built(store_url, read_stores(), clock)
    before = {name: generation for name, generation, _, _, _ in generations(store)}
    busy_history(desk, clock, incidents=2)
    upgraded = ProjectionRunner(
        log=desk.recorder, decode=desk.mapper.to_domain_event, store=store,
        projections=[TimelineV2() if isinstance(p, Timeline) else p
                     for p in all_projections()])

    assert upgraded.rebuild_outdated() == ["timeline"]
    upgraded.catch_up()

    after = {name: generation for name, generation, _, _, _ in generations(store)}
    assert after == {**before, "timeline": before["timeline"] + 1}
    assert positions(store) == dict.fromkeys(NAMES, last_position(desk))
    assert not any(row["rebuild_needed"] for row in upgraded.status())
    assert serving_rows(store) == built_from_zero(desk, tmp_path)
    assert upgraded.rebuild_outdated() == []

    # A process still running the old code (a deploy in progress) leaves the newer one serving.
    old_code = ProjectionRunner(log=desk.recorder, decode=desk.mapper.to_domain_event,
                                store=read_stores(), projections=all_projections())
    assert old_code.rebuild_outdated() == []
    assert {name: generation for name, generation, _, _, _ in generations(store)} == after


def test_a_generation_switched_in_while_a_runner_reads_its_batch_loses_no_event(
        store_url: str, read_stores: Callable[[], ReadStore], clock: FakeClock,
        tmp_path: Path) -> None:
    # `tandem serve`: the upgrade job switches a rebuilt generation in while the catch-up job
    # is between choosing its batch and applying it; the new generation is behind that batch
    # (events written while its indexes were added).
    desk, _ = built(store_url, read_stores(), clock)
    upgraded = [TimelineV2() if isinstance(p, Timeline) else p for p in all_projections()]
    follower, builder = (ProjectionRunner(log=desk.recorder, decode=desk.mapper.to_domain_event,
                                          store=read_stores(), projections=upgraded)
                         for _ in range(2))
    timeline_v2 = builder.build(builder.start_rebuild(["timeline"]))
    number = desk.open_incident(actor="sd", title="After the build", service="vpn").number
    follower.catch_up()  # the other read models follow; the old timeline is not current
    desk.assign_incident(number, actor="sd", group="network")
    read = follower._read

    def read_then_switch(start: int, **options: Any) -> Any:
        batch = read(start, **options)
        follower._read = read  # type: ignore[method-assign]
        builder.switch(timeline_v2)
        return batch

    follower._read = read_then_switch  # type: ignore[method-assign]
    follower.catch_up()

    assert positions(follower.store) == dict.fromkeys(NAMES, last_position(desk))
    assert serving_rows(follower.store) == built_from_zero(desk, tmp_path)


def test_one_rebuild_at_a_time_per_store_and_a_busy_one_changes_nothing(
        store_url: str, read_stores: Callable[[], ReadStore], clock: FakeClock) -> None:
    # Two rebuilds at once would each drop the generation the other is building (forever, in
    # servers retrying their upgrade): the second is refused before it touches anything.
    desk, store = built(store_url, read_stores(), clock)
    busy_history(desk, clock, incidents=2)
    upgraded = ProjectionRunner(
        log=desk.recorder, decode=desk.mapper.to_domain_event, store=read_stores(),
        projections=[TimelineV2() if isinstance(p, Timeline) else p
                     for p in all_projections()])
    elsewhere = projection_runner(desk, read_stores())  # another process's connection
    before = generations(store)

    with elsewhere.rebuilding():
        for attempt in (lambda: upgraded.rebuild("incidents"), upgraded.rebuild_outdated):
            with pytest.raises(RebuildInProgress, match="another process is rebuilding"):
                attempt()
        assert generations(store) == before

    assert upgraded.rebuild_outdated() == ["timeline"]
    with upgraded.rebuilding():  # released after each rebuild
        pass
