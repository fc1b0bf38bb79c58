"""Read models built bit by bit equal read models built from zero (design section 5).

Random valid commands drive a ServiceDesk over a few incidents and problems. Between them the
projections are caught up at random points, by runners with random batch sizes, and runners
crash: after a committed batch (the process dies between batches) or inside one (a read model
fails after writing rows). After a crash a fresh runner on a fresh connection carries on. At the
end every serving table must equal what one catch-up into an empty store builds, and what
`rebuild` builds on the same store; and the rows must agree with the records themselves.
"""

import itertools
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from adapters.alerts.generic import parse_generic
from adapters.bootstrap import (
    all_projections,
    open_read_store,
    open_service_desk,
    projection_runner,
)
from domain.alert import Alert
from domain.service_desk import ServiceDesk
from projections import queries, registry
from projections.projection import Envelope, Rows
from projections.runner import ProjectionRunner
from projections.store import Dialect, ReadStore
from tests.conftest import FakeClock, postgres_schema
from tests.read_models import built_from_zero, serving_rows, table_names

GROUPS = ("network", "storage", "apps")
OPEN_INCIDENT = ("new", "in_progress", "on_hold")
OPEN_PROBLEM = ("new", "assessing", "root_cause_analysis", "fix_in_progress")
MAX_RECORDS = 4
BATCH_SIZES = st.integers(min_value=1, max_value=12)


class Crash(RuntimeError):
    """The failure injected into a runner."""


@dataclass
class World:
    """The desk under test, the records it holds and the runner currently feeding read models."""

    desk: ServiceDesk
    clock: FakeClock
    url: str
    directory: Path
    incidents: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    store: ReadStore | None = None
    runner: ProjectionRunner | None = None

    def fresh_runner(self, batch_size: int) -> ProjectionRunner:
        """A new process's runner: its own connection, the same read models."""
        if self.store is not None:
            self.store.close()
        self.store = open_read_store(self.url)
        self.runner = projection_runner(self.desk, self.store, batch_size=batch_size)
        return self.runner


# -- commands valid for the records' current states ------------------------------------------

Command = Callable[[st.DataObject], object]


def commands(world: World) -> dict[str, Command]:
    """Every command the desk would accept now, by a label hypothesis can show and shrink."""
    desk, sd = world.desk, {"actor": "sd"}
    found: dict[str, Command] = {}
    incidents = {number: desk.incident(number) for number in world.incidents}
    problems = {number: desk.problem(number) for number in world.problems}
    unlinked = [number for number, incident in incidents.items() if incident.problem is None]

    if len(incidents) < MAX_RECORDS:
        def open_incident(data: st.DataObject) -> None:
            impact, urgency = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
            world.incidents.append(desk.open_incident(
                **sd, title=f"Outage {len(world.incidents) + 1}",
                service=data.draw(st.sampled_from(GROUPS)), impact=impact,
                urgency=urgency).number)
        found["open an incident"] = open_incident
    if len(problems) < MAX_RECORDS:
        def open_problem(data: st.DataObject) -> None:
            linked = data.draw(st.lists(st.sampled_from(unlinked), unique=True, max_size=3)
                               if unlinked else st.just([]))
            world.problems.append(desk.open_problem(
                **sd, title=f"Recurring outage {len(world.problems) + 1}", service="network",
                incidents=linked).number)
        found["open a problem"] = open_problem
    for key in ("db-01", "db-02"):
        if len(incidents) < MAX_RECORDS:
            def fire(data: st.DataObject, key: str = key) -> None:
                result = desk.receive_alert(_alert(key, data.draw(st.integers(80, 99))))
                if result.incident not in (None, *world.incidents):
                    world.incidents.append(str(result.incident))
            found[f"alert on {key} fires"] = fire
        found[f"alert on {key} recovers"] = lambda _, key=key: desk.receive_alert(
            _alert(key, 70, status="resolved"))

    for number, incident in incidents.items():
        state = incident.state.value
        if state in OPEN_INCIDENT:
            for group in GROUPS:
                found[f"assign {number} to {group}"] = lambda _, n=number, g=group: (
                    desk.assign_incident(n, **sd, group=g, assignee=f"{g}-lead"))
                if group != incident.assignment_group:
                    found[f"escalate {number} to {group}"] = lambda _, n=number, g=group: (
                        desk.escalate_incident(n, **sd, kind="functional", to=g,
                                               reason="wrong team"))
            found[f"escalate {number} to management"] = lambda _, n=number: (
                desk.escalate_incident(n, **sd, kind="hierarchical", to="cio",
                                       reason="customer facing"))
            found[f"prioritize {number}"] = lambda data, n=number: desk.prioritize_incident(
                n, **sd, impact=data.draw(st.integers(1, 3)), urgency=data.draw(st.integers(1, 3)))
            found[f"resolve {number}"] = lambda _, n=number: desk.resolve_incident(
                n, **sd, code="solution_provided", notes="Restarted the service")
            found[f"cancel {number}"] = lambda _, n=number: desk.cancel_incident(
                n, **sd, reason="duplicate report")
            for problem_number, problem in problems.items():
                if problem.known_error:
                    found[f"apply {problem_number}'s workaround to {number}"] = (
                        lambda _, n=number, p=problem_number: desk.apply_workaround(
                            n, **sd, text="Use the workaround", known_error=p))
        if state == "in_progress":
            found[f"hold {number}"] = lambda data, n=number: desk.put_incident_on_hold(
                n, **sd, reason=data.draw(st.sampled_from(["awaiting_caller", "awaiting_vendor"])))
        if state == "on_hold":
            found[f"resume {number}"] = lambda _, n=number: desk.resume_incident(n, **sd)
        if state == "resolved":
            found[f"reopen {number}"] = lambda _, n=number: desk.reopen_incident(
                n, **sd, reason="it is back")
            found[f"close {number}"] = lambda _, n=number: desk.close_incident(n, **sd)

    for number, problem in problems.items():
        state = problem.state.value
        if state in OPEN_PROBLEM:
            for incident_number in unlinked:
                found[f"link {incident_number} to {number}"] = (
                    lambda _, p=number, n=incident_number: desk.link_incident(p, n, **sd))
            for incident_number in problem.incidents.values():
                found[f"unlink {incident_number} from {number}"] = (
                    lambda _, p=number, n=incident_number: desk.unlink_incident(p, n, **sd))
            found[f"note on {number}"] = lambda _, p=number: desk.add_problem_note(
                p, **sd, text="Correlated with the nightly backup")
            found[f"root cause of {number}"] = lambda _, p=number: desk.identify_root_cause(
                p, **sd, text="Backup saturates the uplink")
            found[f"known error {number}"] = lambda _, p=number: desk.record_known_error(
                p, **sd, workaround="Move the backup window")
            found[f"cancel {number}"] = lambda _, p=number: desk.cancel_problem(
                p, **sd, reason="not reproducible")
        if state in OPEN_PROBLEM[1:]:
            found[f"request a change for {number}"] = lambda _, p=number: desk.request_change(
                p, **sd, change_ref="CHG0001234")
            found[f"resolve {number}"] = lambda data, p=number: desk.resolve_problem(
                p, **sd, notes="Uplink upgraded", resolve_linked_incidents=data.draw(st.booleans()))
        if state == "resolved":
            found[f"close {number}"] = lambda _, p=number: desk.close_problem(p, **sd)
    return found


def _alert(host: str, percent: int, status: str = "firing") -> Alert:
    (alert,) = parse_generic({"source": "zabbix", "dedup_key": f"{host}/disk", "service": "storage",
                              "summary": f"Disk {percent}% full on {host}", "status": status,
                              "fired_at": "2026-03-02T08:00:00Z"})
    return alert


# -- the runner's side: catch-ups and crashes ------------------------------------------------


def crash_between_batches(world: World, data: st.DataObject) -> None:
    """The process dies right after its n-th batch committed."""
    assert world.runner is not None
    batches = itertools.count(1)
    dies_after = data.draw(st.integers(1, 4), label="dies after batch")

    def progress(position: int, last: int) -> None:
        if next(batches) == dies_after:
            raise Crash(f"killed after batch {dies_after}")

    try:
        world.runner.catch_up(progress=progress)
        event("a runner finished before it was killed")  # fewer batches than that
    except Crash:
        event("a runner was killed between batches")
    world.fresh_runner(data.draw(BATCH_SIZES, label="batch size"))


def crash_inside_a_batch(world: World, data: st.DataObject) -> None:
    """A read model fails in the n-th batch after writing its rows (theirs and the others')."""
    assert world.runner is not None
    name = data.draw(st.sampled_from(sorted(world.runner.projections)), label="failing")
    fails_in = data.draw(st.integers(1, 4), label="fails in batch")
    projection = world.runner.projections[name]
    apply, calls = projection.apply, itertools.count(1)

    def failing(batch: Sequence[Envelope], tables: dict[str, Rows], dialect: Dialect) -> None:
        apply(batch, tables, dialect)
        if next(calls) == fails_in:
            for rows in tables.values():
                rows.flush()
            raise Crash(f"{name} failed in batch {fails_in}")

    projection.apply = failing  # type: ignore[method-assign]
    try:
        world.runner.catch_up()
        event("a runner finished before its read model failed")
    except Crash:
        event("a read model failed inside a batch")
    world.fresh_runner(data.draw(BATCH_SIZES, label="batch size"))


def catch_up(world: World, data: st.DataObject) -> None:
    assert world.runner is not None
    world.runner.catch_up()


RUNNER_STEPS: dict[str, Callable[[World, st.DataObject], None]] = {
    "catch up": catch_up,
    "crash between batches": crash_between_batches,
    "crash inside a batch": crash_inside_a_batch,
}


# -- what is compared ------------------------------------------------------------------------


def serving_physical_tables(store: ReadStore) -> set[str]:
    with store.transaction() as cursor:
        return {table.physical(generation.generation)
                for projection in all_projections()
                if (generation := registry.serving(cursor, projection.name)) is not None
                for table in projection.tables}


def assert_rows_match_the_records(world: World, store: ReadStore) -> None:
    incidents = {row["number"]: row for row in queries.incidents(store)}
    assert sorted(incidents) == sorted(world.incidents)
    for number, row in incidents.items():
        incident = world.desk.incident(number)
        assert (row["state"], row["priority"], row["assignment_group"], row["assignee"],
                row["escalation_level"], row["problem"], row["version"]) == (
            incident.state.value, incident.priority.value, incident.assignment_group,
            incident.assignee, incident.escalation_level, incident.problem_number,
            incident.version), number
    problems = {row["number"]: row for row in queries.problems(store)}
    assert sorted(problems) == sorted(world.problems)
    for number, row in problems.items():
        problem = world.desk.problem(number)
        assert (row["state"], row["known_error"], row["incidents"], row["version"]) == (
            problem.state.value, problem.known_error, list(problem.incidents.values()),
            problem.version), number
    known = {row["number"] for row in queries.known_errors(store)}
    assert known == {number for number in world.problems
                     if world.desk.problem(number).known_error
                     and world.desk.problem(number).state.value not in ("closed", "canceled")}
    for group in GROUPS:
        assert _numbers_and_due(queries.queue(store, group)) == _derived_queue(
            store, "assignment_group = ? AND state IN ('new', 'in_progress')", [group]), group
    assert _numbers_and_due(queries.unassigned(store)) == _derived_queue(
        store, "assignment_group IS NULL AND state IN ('new', 'in_progress')", [])
    assert _numbers_and_due(queries.on_hold(store)) == _derived_queue(
        store, "state = 'on_hold'", [])
    with store.reading() as cursor:  # finished incidents leave the queues' table (reopened: back)
        cursor.execute(f"SELECT q.number FROM {queries.work_queue(cursor)}")
        queued = sorted(number for (number,) in cursor.fetchall())
    assert queued == sorted(number for number in world.incidents
                            if world.desk.incident(number).state.value in OPEN_INCIDENT)


def _numbers_and_due(rows: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(row["number"], row["sla_due_at"]) for row in rows]


def _derived_queue(store: ReadStore, where: str,
                   params: list[str]) -> list[tuple[object, object]]:
    """A queue as computed before `work_queue` existed: each summary's due time from its
    running clocks, then sorted."""
    with store.reading() as cursor:
        cursor.execute(f"SELECT number, sla_due_at FROM {queries.with_sla_due(cursor)} "
                       f"WHERE {where} ORDER BY priority, sla_due_at IS NULL, sla_due_at, "
                       "opened_at, number", params)
        return [tuple(row) for row in cursor.fetchall()]


# -- the property ----------------------------------------------------------------------------


SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow,
                                                       HealthCheck.function_scoped_fixture]}


@settings(max_examples=40, **SETTINGS)
@given(data=st.data())
def test_incremental_read_models_equal_a_build_from_zero(
        data: st.DataObject, tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as scratch:
        directory = Path(scratch)
        check_incremental_equals_from_zero(data, f"sqlite:///{directory / 'tandem.db'}",
                                           directory)


@pytest.mark.postgres
@settings(max_examples=15, **SETTINGS)
@given(data=st.data())
def test_incremental_read_models_equal_a_build_from_zero_on_postgresql(
        data: st.DataObject, tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as scratch, postgres_schema() as url:
        check_incremental_equals_from_zero(data, url, Path(scratch))


def check_incremental_equals_from_zero(data: st.DataObject, url: str, directory: Path) -> None:
    """The property, on the store at `url` (`directory` takes the from-zero builds)."""
    clock = FakeClock()
    world = World(open_service_desk(url, clock=clock), clock, url, directory)
    world.fresh_runner(data.draw(BATCH_SIZES, label="batch size"))
    try:
        for _ in range(data.draw(st.integers(1, 3), label="incidents to start with")):
            commands(world)["open an incident"](data)
        for _ in range(data.draw(st.integers(20, 60), label="steps")):
            clock.advance(minutes=7)
            available = commands(world)  # none left once every record is finished
            if not available or data.draw(st.integers(0, 4), label="runner's turn?") == 4:
                step = data.draw(st.sampled_from(sorted(RUNNER_STEPS)), label="runner")
                RUNNER_STEPS[step](world, data)
            else:
                label = data.draw(st.sampled_from(sorted(available)), label="command")
                available[label](data)

        runner = world.fresh_runner(data.draw(BATCH_SIZES, label="final batch size"))
        runner.catch_up()
        assert world.store is not None
        last = world.desk.recorder.max_notification_id() or 0
        assert {(row["name"], row["position"], row["lag"], row["rebuild_needed"])
                for row in runner.status()} == {
            (projection.name, last, 0, False) for projection in all_projections()}
        incremental = serving_rows(world.store)
        assert incremental == built_from_zero(world.desk, directory)
        assert_rows_match_the_records(world, world.store)

        for name in runner.projections:
            runner.rebuild(name)
        assert serving_rows(world.store) == incremental
        assert table_names(world.store, prefix="rm_") == serving_physical_tables(world.store)
    finally:
        if world.store is not None:
            world.store.close()
        world.desk.close()
