"""Rebuilding every projection over a large event log, against its ceiling and the library's.

Per store (SQLite, PostgreSQL) the run builds one event log of realistic incident and problem
histories through ServiceDesk (the aggregates' own methods, many records per `desk.save`, so
that 200,000 events take seconds, not minutes), times at half its size and again at its full
size, each pass in its own fresh Python process so that the peak RSS is that pass's alone:

* read + decode, the ceiling: `recorder.select_notifications` in batches of the runner's size
  and `desk.mapper.to_domain_event` for each notification, nothing else;
* the rebuild, what `tandem projections rebuild --all` runs: new generations filled from the
  log (large batches, secondary indexes added after loading) by one worker process per CPU,
  each reading the whole log and building its share of the projections
  (adapters/rebuild_workers.py), then the switch and the old tables dropped;
* the same in one process (`--workers 1`, `runner.rebuild_all`): one pass over the log;
* `runner.rebuild(name)` for each projection in turn (each one re-reads the whole log), which
  shows what each read model costs;
* on PostgreSQL: the incident summaries (the work queues) alone through Tandem's runner, and
  the same table and logic as an eventsourcing `Projection` run by the library's
  `ProjectionRunner` with a `PostgresTrackingRecorder` view (one event per transaction;
  `topics` lets the database skip the other events, and it is credited with every event of
  the log it covers), over the log's first 5,000 events only: it manages ~900 events/s.

Rates are events in the log ÷ seconds. Targets: the rebuild >= 25,000 events/s, >= 30% of the
read + decode rate (one process reading and decoding), >= 20x the library runner; its peak
memory must not grow with the log (peak RSS at the full size ÷ peak RSS at half the size,
<= 1.10; for the workers, the largest process's peak).
"""

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection as LibraryProjection
from eventsourcing.projection import ProjectionRunner as LibraryRunner
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Composed, Identifier
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters.bootstrap import (
    all_projections,
    open_read_store,
    open_service_desk,
    projection_runner,
    store_environment,
)
from adapters.rebuild_workers import rebuild_in_workers
from benchmarks.options import (
    benchmark_parser,
    known_arguments,
    load_note,
    titled_console,
    versions,
)
from benchmarks.service_desk import fresh_store, selected_stores
from domain.aggregate import Stamp
from domain.audit_chain import format_timestamp
from domain.incident import Channel, EscalationKind, HoldReason, Incident, ResolutionCode
from domain.numbering import INCIDENT_PREFIX, PROBLEM_PREFIX, NumberSequence
from domain.problem import Problem
from domain.service_desk import ServiceDesk
from projections import registry
from projections.incidents import _CHANGES, COLUMNS, IncidentSummaries, _opened
from projections.projection import Envelope, Row
from projections.runner import DEFAULT_BATCH, ProjectionRunner
from projections.store import ReadStore

DEFAULT_EVENTS = 200_000
QUICK_EVENTS = 20_000
LIBRARY_EVENTS = 5_000
"""The library runner manages ~900 events/s: it is timed over the log's first events only."""
QUICK_LIBRARY_EVENTS = 1_000
ROUNDS = 3
"""Interleaved read + decode / rebuild pairs at the full size; ratios are per-round medians."""
TARGET_RATE = 25_000
TARGET_SHARE_OF_RAW = 0.30
TARGET_LIBRARY_RATIO = 20.0
MEMORY_GROWTH_LIMIT = 1.10
"""Peak RSS at the full size ÷ at half the size; flat within allocator noise."""
INCIDENTS_PER_SAVE = 40
"""Records per transaction while building the log: one problem and its block of incidents."""
LINKED_PER_PROBLEM = 3
LIBRARY_POLL_SECONDS = 0.02
LIBRARY_TIMEOUT_SECONDS = 600.0
ROOT = Path(__file__).resolve().parents[1]
CHILD = ("import sys; from benchmarks.projections import child_main; "
         "sys.exit(child_main(sys.argv[1:]))")

SCENARIOS = (  # service, title, description, group
    ("email", "Outbound mail delayed",
     "Messages to external domains wait in the queue for an hour.", "messaging"),
    ("vpn", "VPN drops every few minutes",
     "Remote staff lose the tunnel and have to reconnect.", "network"),
    ("erp", "Invoice run fails", "The nightly invoice batch stops with a timeout.",
     "erp-support"),
    ("wifi", "No Wi-Fi on floor 3", "Laptops see the network but get no address.", "network"),
    ("printing", "Printer queue stuck", "Jobs sent to the 2nd floor printer never print.",
     "workplace"),
    ("crm", "CRM search is slow", "Customer look-ups take twenty seconds.", "platform"),
    ("payroll", "Payslips missing", "Some employees see no payslip for this month.",
     "erp-support"),
    ("storage", "Team share read-only", "Users cannot save to the team share.", "platform"),
)
GROUPS = ("service-desk", "messaging", "network", "erp-support", "workplace", "platform")
AGENTS = ("alice", "bob", "dave", "erin", "frank", "grace", "heidi")
CALLERS = ("carol", "mallory", "oscar", "peggy", "trent", "victor", "walter")
CHANNELS = tuple(Channel)


# -- the event log -----------------------------------------------------------------------------


class LogBuilder:
    """Appends incident and problem histories through a ServiceDesk, a block per save.

    A block is one problem, investigated and linked to the first incidents of the block, and
    INCIDENTS_PER_SAVE incidents in varied lifecycles: most resolved and closed, some resolved
    only, some left in the queue (in progress, on hold), some canceled, some reopened or
    escalated. Numbers come from the same NumberSequence records the desk uses, saved in the
    same transaction, so the log is what the commands would have written, batched.
    """

    def __init__(self, desk: ServiceDesk) -> None:
        self.desk = desk
        self.clock = datetime(2024, 1, 1, 8, tzinfo=UTC)
        self.events = 0
        self.incidents = 0
        self.problems = 0
        self.sequences: dict[str, NumberSequence] = {}

    def fill(self, target: int) -> int:
        """Save blocks until the log holds at least `target` events; the log's size."""
        while self.events < target:
            self.events += self._block()
        return self.events

    def _stamp(self, actor: str) -> Stamp:
        self.clock += timedelta(minutes=1)
        return Stamp(actor=actor, at=self.clock)

    def _sequence(self, prefix: str) -> NumberSequence:
        if prefix not in self.sequences:
            self.sequences[prefix] = NumberSequence.start(prefix=prefix,
                                                          stamp=self._stamp("tandem"))
        return self.sequences[prefix]

    def _block(self) -> int:
        incident_numbers, problem_numbers = (self._sequence(INCIDENT_PREFIX),
                                             self._sequence(PROBLEM_PREFIX))
        serial = self.problems
        self.problems += 1
        scenario = SCENARIOS[serial % len(SCENARIOS)]
        service, title, description, _ = scenario
        stamp = self._stamp(AGENTS[serial % len(AGENTS)])
        problem_id = uuid4()
        problem = Problem.open(
            id=problem_id, number=problem_numbers.issue(record=problem_id, stamp=stamp),
            title=f"Recurring: {title}", description=description, service=service, stamp=stamp)
        incidents = [
            self._incident(incident_numbers, problem if k < LINKED_PER_PROBLEM else None,
                           scenario if k < LINKED_PER_PROBLEM else None)
            for k in range(INCIDENTS_PER_SAVE)
        ]
        self._investigate(problem, serial)
        return len(self.desk.save(incident_numbers, problem_numbers, problem, *incidents))

    def _incident(self, numbers: NumberSequence, problem: Problem | None,
                  scenario: tuple[str, str, str, str] | None) -> Incident:
        serial = self.incidents
        self.incidents += 1
        service, title, description, group = scenario or SCENARIOS[serial % len(SCENARIOS)]
        caller, agent = CALLERS[serial % len(CALLERS)], AGENTS[serial % len(AGENTS)]
        stamp = self._stamp(caller)
        incident_id = uuid4()
        incident = Incident.open(
            id=incident_id, number=numbers.issue(record=incident_id, stamp=stamp),
            title=title, service=service, category=None if serial % 4 == 0 else "software",
            subcategory=None, impact=1 + serial % 3, urgency=1 + serial // 3 % 3,
            description=description, caller=caller,
            channel=CHANNELS[serial % len(CHANNELS)], stamp=stamp)
        if serial % 4 == 0:
            incident.categorize(category="software", subcategory=service,
                                stamp=self._stamp("sd.agent"))
        if serial % 20 == 13:
            incident.cancel(reason="Duplicate of an earlier ticket.",
                            stamp=self._stamp("sd.agent"))
            return incident
        incident.assign(group=group, assignee=None if serial % 5 == 0 else agent,
                        stamp=self._stamp("sd.agent"))
        if serial % 6 == 2:
            incident.prioritize(impact=1, urgency=2, stamp=self._stamp("sd.agent"))
        if problem is not None:
            stamp = self._stamp("problem.manager")
            incident.link_to_problem(problem=problem.id, problem_number=problem.number,
                                     stamp=stamp)
            problem.link_incident(incident=incident.id, incident_number=incident.number,
                                  stamp=stamp)
        incident.add_note(text="Reproduced; collecting logs from the affected hosts.",
                          stamp=self._stamp(agent))
        if serial % 10 == 3:
            incident.put_on_hold(reason=HoldReason.AWAITING_CALLER, stamp=self._stamp(agent))
            incident.resume(stamp=self._stamp(agent))
        if serial % 15 == 7:
            incident.escalate(kind=EscalationKind.FUNCTIONAL,
                              to=GROUPS[(GROUPS.index(group) + 1) % len(GROUPS)],
                              reason="Needs second-line expertise.", stamp=self._stamp(agent))
        if serial % 25 == 11:
            incident.escalate(kind=EscalationKind.HIERARCHICAL, to="duty-manager",
                              reason="Business-critical deadline today.",
                              stamp=self._stamp(agent))
        if serial % 10 == 9:
            return incident  # left in the work queue
        if serial % 10 == 4:
            incident.put_on_hold(reason=HoldReason.AWAITING_VENDOR, stamp=self._stamp(agent))
            return incident
        incident.resolve(code=ResolutionCode.SOLUTION_PROVIDED,
                         notes="Restarted the service; monitoring is green.",
                         stamp=self._stamp(agent))
        if serial % 30 == 17:
            incident.reopen(reason="Still failing for some users.", stamp=self._stamp(caller))
            incident.add_note(text="Second node also affected; fixed it too.",
                              stamp=self._stamp(agent))
            incident.resolve(code=ResolutionCode.WORKAROUND_PROVIDED,
                             notes="Both nodes restarted.", stamp=self._stamp(agent))
        if serial % 8 != 5:
            incident.close(code=None, stamp=self._stamp(caller))
        return incident

    def _investigate(self, problem: Problem, serial: int) -> None:
        analyst = AGENTS[(serial + 3) % len(AGENTS)]
        problem.add_note(text="The linked incidents share one failing component.",
                         stamp=self._stamp(analyst))
        problem.identify_root_cause(text="A connection pool that is never recycled.",
                                    stamp=self._stamp(analyst))
        problem.record_known_error(workaround="Restart the service on the affected node.",
                                   stamp=self._stamp(analyst))
        if serial % 4 == 3:
            problem.cancel(reason="Superseded by a vendor fix.", stamp=self._stamp(analyst))
        elif serial % 4 in (1, 2):
            problem.request_change(change_ref=f"CHG{serial:07d}", stamp=self._stamp(analyst))
            problem.resolve(notes="Pool recycling deployed.", resolve_linked_incidents=False,
                            stamp=self._stamp(analyst))
            if serial % 4 == 1:
                problem.close(stamp=self._stamp(analyst))


# -- the library's runner: the queue projection as an eventsourcing Projection ----------------

LIBRARY_TABLE = "lib_incidents"
INCIDENT_TOPICS = tuple(
    get_topic(cls) for cls in vars(Incident).values()
    if isinstance(cls, type) and issubclass(cls, Incident.Event | Incident.Opened)
    and cls is not Incident.Event
)


class IncidentQueueView(PostgresTrackingRecorder):
    """The incident summaries table (projections/incidents.py) beside a tracking table.

    Each event is applied and tracked in its own transaction, as the library's runner
    calls `process_event` once per event.
    """

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        schema, table = Identifier(datastore.schema), Identifier(LIBRARY_TABLE)
        self.table: Composed = SQL("{}.{}").format(schema, table)
        columns = SQL(", ").join(SQL(f"{{}} {kind}").format(Identifier(name))
                                 for name, kind in COLUMNS)
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY (id))").format(self.table, columns))
        for index in IncidentSummaries.tables[0].indexes:
            self.sql_create_statements.append(SQL(
                "CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                    Identifier(f"{LIBRARY_TABLE}_{'_'.join(index)}"), self.table,
                    SQL(", ").join(map(Identifier, index))))
        self.names = [name for name, _ in COLUMNS]
        self.insert_statement = SQL(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (id) DO NOTHING").format(
                self.table, SQL(", ").join(map(Identifier, self.names)),
                SQL(", ").join(SQL("%({})s").format(SQL(name)) for name in self.names))
        self.select_statement = SQL("SELECT * FROM {} WHERE id = %s").format(self.table)

    def open(self, row: Row, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self.insert_statement, row, prepare=True)
            self._insert_tracking(cursor, tracking)

    def change(self, event: Any, tracking: Tracking) -> None:
        key = str(event.originator_id)
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self.select_statement, (key,), prepare=True)
            row = cursor.fetchone()
            change = _CHANGES.get(type(event))
            if row is not None and change is not None:
                changes = {**change(event, row, _envelope(event)),
                           "updated_at": format_timestamp(event.timestamp),
                           "version": event.originator_version}
                assignments = SQL(", ").join(SQL("{} = %({})s").format(Identifier(name),
                                                                       SQL(name))
                                             for name in changes)
                cursor.execute(SQL("UPDATE {} SET {} WHERE id = %(id)s").format(
                    self.table, assignments), {**changes, "id": key}, prepare=True)
            self._insert_tracking(cursor, tracking)


def _envelope(event: Any) -> Envelope:
    """The same per-event strings Tandem's runner hands its projections."""
    return Envelope(0, event, str(event.originator_id), format_timestamp(event.timestamp))


class IncidentQueueProjection(LibraryProjection[IncidentQueueView]):
    """Incident events only (`topics`): the library filters the others out in the database."""

    name = "incident_queue"
    topics = INCIDENT_TOPICS

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register(Incident.Opened)
    def _opened(self, domain_event: Incident.Opened, tracking: Tracking) -> None:
        self.view.open(_opened(domain_event, _envelope(domain_event)), tracking)

    @process_event.register(Incident.Event)
    def _changed(self, domain_event: Incident.Event, tracking: Tracking) -> None:
        self.view.change(domain_event, tracking)


# -- timed passes, each in a fresh process -----------------------------------------------------


def peak_rss_kib() -> int:
    """The largest peak of this process and of its (rebuild worker) children, KiB on Linux."""
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def reset_read_models(store: ReadStore) -> None:
    """An empty read store: every generation of every projection dropped."""
    with store.transaction() as cursor:
        registry.ensure_schema(cursor)
        for projection in all_projections():
            for generation in registry.generations(cursor, projection.name):
                registry.drop(cursor, projection, generation.generation)


def serving_rows(store: ReadStore) -> dict[str, int]:
    counts = {}
    with store.transaction() as cursor:
        for projection in all_projections():
            generation = registry.serving(cursor, projection.name)
            if generation is None:
                continue
            cursor.execute(f"SELECT COUNT(*) FROM "
                           f"{projection.tables[0].physical(generation.generation)}")
            row = cursor.fetchone()
            counts[projection.name] = int(row[0]) if row else 0
    return counts


@dataclass
class Job:
    """What a child process's pass works on."""

    desk: ServiceDesk
    url: str
    store: ReadStore | None = None
    projections: Sequence[str] = ()
    """catch_up: only these projections (all when empty)."""
    limit: int = LIBRARY_EVENTS
    """library: how many of the log's first events to process."""


def pass_raw(job: Job) -> dict[str, Any]:
    recorder, decode = job.desk.recorder, job.desk.mapper.to_domain_event
    events, start = 0, 1
    while batch := recorder.select_notifications(start, DEFAULT_BATCH):
        for notification in batch:
            decode(notification)
        events += len(batch)
        start = batch[-1].id + 1
    return {"events": events}


def pass_catch_up(job: Job) -> dict[str, Any]:
    assert job.store is not None
    desk = job.desk
    if job.projections:
        chosen = [p for p in all_projections() if p.name in job.projections]
        runner = ProjectionRunner(log=desk.recorder, decode=desk.mapper.to_domain_event,
                                  store=job.store, projections=chosen)
    else:
        runner = projection_runner(desk, job.store)
    return {"events": runner.catch_up()}


def pass_rebuild(job: Job) -> dict[str, Any]:
    assert job.store is not None
    runner = projection_runner(job.desk, job.store)
    seconds = {}
    for name in runner.projections:
        started = time.perf_counter()
        runner.rebuild(name)
        seconds[name] = time.perf_counter() - started
    return {"events": job.desk.recorder.max_notification_id() or 0, "per_projection": seconds}


def pass_rebuild_all(job: Job) -> dict[str, Any]:
    """`tandem projections rebuild --all`: one pass over the log, new generations, switch."""
    assert job.store is not None
    runner = projection_runner(job.desk, job.store)
    runner.rebuild_all(list(runner.projections))
    return {"events": job.desk.recorder.max_notification_id() or 0}


def pass_rebuild_workers(job: Job) -> dict[str, Any]:
    """`tandem projections rebuild --all`: one worker process per CPU, then the switch."""
    assert job.store is not None
    runner = projection_runner(job.desk, job.store)
    rebuild_in_workers(runner, job.url, list(runner.projections), workers=WORKERS)
    return {"events": job.desk.recorder.max_notification_id() or 0}


def pass_library(job: Job) -> dict[str, Any]:
    first = job.desk.recorder.select_notifications(1, job.limit)
    target = max(n.id for n in first if n.topic in INCIDENT_TOPICS)
    env = store_environment(job.url)
    with LibraryRunner(application_class=ServiceDesk, projection_class=IncidentQueueProjection,
                       view_class=IncidentQueueView, env=env) as runner:
        deadline = time.monotonic() + LIBRARY_TIMEOUT_SECONDS
        while (runner.view.max_tracking_id(runner.app_name) or 0) < target:
            runner.run_forever(timeout=LIBRARY_POLL_SECONDS)  # re-raises the runner's error
            if time.monotonic() > deadline:
                raise TimeoutError("the library runner did not reach the target position")
    return {"events": len(first),
            "incident_events": sum(1 for n in first if n.topic in INCIDENT_TOPICS)}


PASSES: dict[str, Callable[[Job], dict[str, Any]]] = {
    "raw": pass_raw, "catch_up": pass_catch_up, "rebuild": pass_rebuild,
    "rebuild_all": pass_rebuild_all, "rebuild_workers": pass_rebuild_workers,
    "library": pass_library,
}


def child_main(argv: Sequence[str]) -> int:
    """One timed pass in this (fresh) process; prints its result as JSON on the last line."""
    parser = argparse.ArgumentParser(prog="benchmarks.projections child")
    parser.add_argument("mode", choices=PASSES)
    parser.add_argument("url")
    parser.add_argument("--projections", nargs="*", default=[])
    parser.add_argument("--limit", type=int, default=LIBRARY_EVENTS)
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args(argv)
    job = Job(open_service_desk(options.url), options.url, projections=options.projections,
              limit=options.limit)
    if options.mode in ("catch_up", "rebuild", "rebuild_all", "rebuild_workers"):
        job.store = open_read_store(options.url)
        if options.mode == "catch_up":
            reset_read_models(job.store)
    start_kib = peak_rss_kib()
    profiler = cProfile.Profile() if options.profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    result = PASSES[options.mode](job)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    result.update(seconds=seconds, start_kib=start_kib, peak_kib=peak_rss_kib())
    if job.store is not None:
        if options.mode in ("catch_up", "rebuild_all", "rebuild_workers"):
            result["rows"] = serving_rows(job.store)
        job.store.close()
    job.desk.close()
    if profiler:
        for order in ("tottime", "cumulative"):
            buffer = io.StringIO()
            pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(order).print_stats(30)
            print(f"--- {options.mode}, by {order} ---\n{buffer.getvalue()}")
    print(json.dumps(result))
    return 0


@dataclass
class Pass:
    """One child process: a timed pass over the log."""

    label: str
    events: int
    seconds: float
    start_kib: int
    peak_kib: int
    detail: dict[str, Any] = field(default_factory=dict)
    output: str = ""

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024

    @property
    def growth_mib(self) -> float:
        """What the pass added to the process's peak after it had started and connected."""
        return (self.peak_kib - self.start_kib) / 1024


def run_pass(label: str, mode: str, url: str, *extra: str) -> Pass:
    completed = subprocess.run([sys.executable, "-c", CHILD, mode, url, *extra], cwd=ROOT,
                               capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{label}: the child process failed:\n{completed.stderr}")
    *output, last = completed.stdout.rstrip("\n").split("\n")
    result = json.loads(last)
    detail = {key: value for key, value in result.items()
              if key not in ("events", "seconds", "start_kib", "peak_kib")}
    return Pass(label, result["events"], result["seconds"], result["start_kib"],
                result["peak_kib"], detail, "\n".join(output))


# -- measuring ---------------------------------------------------------------------------------

RAW = "read + decode (the ceiling)"
READ_MODELS = len(all_projections())
WORKERS = os.cpu_count() or 1
CATCH_UP = f"rebuild --all ({WORKERS} workers, {READ_MODELS} projections)"
ONE_PROCESS = "rebuild --all --workers 1"
REBUILD = f"rebuild(name) x {READ_MODELS} ({READ_MODELS} log reads)"
INCIDENTS_ONLY = "catch_up, incidents only"
LIBRARY = "eventsourcing runner, incidents"


@dataclass
class SizeResult:
    events: int
    raw: list[Pass] = field(default_factory=list)
    catch_up: list[Pass] = field(default_factory=list)
    """The rebuild with workers, interleaved with `raw` (and `one_process`), round by round."""
    one_process: list[Pass] = field(default_factory=list)
    rebuild: Pass | None = None
    incidents_only: Pass | None = None

    @staticmethod
    def median_rate(passes: Sequence[Pass]) -> float:
        return statistics.median(p.rate for p in passes)

    def share_of_raw(self, passes: Sequence[Pass] | None = None) -> tuple[float, float, float]:
        """A rebuild's rate ÷ read + decode's: median, lowest, highest over the rounds."""
        rebuilds = self.catch_up if passes is None else passes
        shares = [c.rate / r.rate for c, r in zip(rebuilds, self.raw, strict=True)]
        return statistics.median(shares), min(shares), max(shares)


@dataclass
class StoreResult:
    store: str
    build_rate: float = 0.0
    sizes: list[SizeResult] = field(default_factory=list)
    library: Pass | None = None

    @property
    def full(self) -> SizeResult:
        return self.sizes[-1]


def measure_store(store: str, events: int, library_events: int, rounds: int,
                  console: Console) -> StoreResult:
    result = StoreResult(store)
    with fresh_store(store) as url, contextlib.closing(open_service_desk(url)) as desk:
        builder, building = LogBuilder(desk), 0.0
        for size in (events // 2, events):
            started = time.perf_counter()
            logged = builder.fill(size)
            building += time.perf_counter() - started
            result.build_rate = logged / building
            console.print(f"{store}: log holds {logged:,} events ({builder.incidents:,} "
                          f"incidents, {builder.problems:,} problems; written at "
                          f"{result.build_rate:,.0f} events/s); timing ...", highlight=False)
            measured = SizeResult(logged)
            for _ in range(rounds if size == events else 1):
                measured.raw.append(run_pass(RAW, "raw", url))
                measured.catch_up.append(run_pass(CATCH_UP, "rebuild_workers", url))
                measured.one_process.append(run_pass(ONE_PROCESS, "rebuild_all", url))
            check_rows(measured.catch_up[-1], builder)
            check_rows(measured.one_process[-1], builder)
            measured.rebuild = run_pass(REBUILD, "rebuild", url)
            if store == "postgres" and size == events:
                measured.incidents_only = run_pass(INCIDENTS_ONLY, "catch_up", url,
                                                   "--projections", "incidents")
                result.library = run_pass(LIBRARY, "library", url,
                                          "--limit", str(library_events))
            result.sizes.append(measured)
    return result


def check_rows(catch_up: Pass, builder: LogBuilder) -> None:
    """The rebuild really built the read models: one row per record, per record event."""
    rows = catch_up.detail["rows"]
    expected = {"incidents": builder.incidents, "problems": builder.problems,
                "known_errors": builder.problems,
                "timeline": builder.events - builder.incidents - builder.problems - 2,
                "sla_clocks": 2 * builder.incidents, "recurrence": builder.incidents}
    if rows != expected:
        raise AssertionError(f"the rebuild's read models hold {rows}, expected {expected}")


def profile_store(store: str, events: int, console: Console) -> None:
    """cProfile the rebuild (fresh runner catch_up, all projections) over `events` events."""
    with fresh_store(store) as url, contextlib.closing(open_service_desk(url)) as desk:
        logged = LogBuilder(desk).fill(events)
        console.rule(f"{store}: {ONE_PROCESS}, {logged:,} events, cProfile")
        profiled = run_pass(ONE_PROCESS, "rebuild_all", url, "--profile")
        console.print(profiled.output, markup=False, highlight=False)
        console.print(f"{store}: {profiled.rate:,.0f} events/s under cProfile", highlight=False)


# -- reporting ---------------------------------------------------------------------------------


def results_table(results: Sequence[StoreResult]) -> Table:
    table = Table(
        title="Projection rebuild over the event log (each pass in a fresh process)",
        caption=escape(f"rebuild --all: {WORKERS} worker processes, each reading the log and "
                       "building its share of the new generations, then the switch; --workers "
                       f"1: one pass over the log feeding all {READ_MODELS}; "
                       "seconds, events/s: medians over the runs; "
                       "events/s: events in the log ÷ seconds; x raw: the row's rate ÷ read + "
                       "decode's (for the rebuild: the median of the interleaved rounds' ratios "
                       "[lowest..highest]); peak: the pass's peak RSS (highest of the runs)"),
    )
    table.add_column("store", no_wrap=True)
    table.add_column("events", justify="right", no_wrap=True)
    table.add_column("pass", no_wrap=True)
    table.add_column("runs", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("events/s", justify="right", no_wrap=True)
    table.add_column("x raw", justify="right", no_wrap=True)
    table.add_column("peak MiB", justify="right")
    for result in results:
        rows: list[tuple[int, list[Pass], str]] = []
        for measured in result.sizes:
            rows.append((measured.events, measured.raw, "—"))
            for rebuilds in (measured.catch_up, measured.one_process):
                share, low, high = measured.share_of_raw(rebuilds)
                rows.append((measured.events, rebuilds,
                             f"{share:.2f}" + (f" [{low:.2f}..{high:.2f}]"
                                               if len(rebuilds) > 1 else "")))
            raw_rate = SizeResult.median_rate(measured.raw)
            for extra in (measured.rebuild, measured.incidents_only):
                if extra is not None:
                    rows.append((measured.events, [extra], f"{extra.rate / raw_rate:.2f}"))
        if result.library is not None:
            library = result.library
            rows.append((library.events, [library],
                         f"{library.rate / SizeResult.median_rate(result.full.raw):.3f}"))
        for index, (events, group, ratio) in enumerate(rows):
            table.add_row(
                result.store if index == 0 else "", f"{events:,}", escape(group[0].label),
                str(len(group)), f"{statistics.median(p.seconds for p in group):.2f}",
                f"{SizeResult.median_rate(group):,.0f}", escape(ratio),
                f"{max(p.peak_mib for p in group):.0f}", end_section=index == len(rows) - 1)
    return table


def rebuild_table(results: Sequence[StoreResult]) -> Table:
    table = Table(
        title="rebuild(name) per projection at the full size (each re-reads and decodes the log)",
        caption=escape("own cost: the rebuild's seconds minus read + decode's (median)"),
    )
    table.add_column("store", no_wrap=True)
    table.add_column("projection")
    table.add_column("seconds", justify="right")
    table.add_column("events/s", justify="right")
    table.add_column("own cost s", justify="right")
    table.add_column("own events/s", justify="right")
    for result in results:
        full = result.full
        assert full.rebuild is not None
        raw_seconds = statistics.median(p.seconds for p in full.raw)
        per_projection: dict[str, float] = full.rebuild.detail["per_projection"]
        for index, (name, seconds) in enumerate(per_projection.items()):
            own = seconds - raw_seconds
            table.add_row(result.store if index == 0 else "", name, f"{seconds:.2f}",
                          f"{full.events / seconds:,.0f}", f"{own:.2f}",
                          f"{full.events / own:,.0f}" if own > 0 else "—",
                          end_section=index == len(per_projection) - 1)
    return table


def memory_table(results: Sequence[StoreResult]) -> Table:
    table = Table(
        title="Peak memory (RSS of each pass's process) at half and at the full log",
        caption=escape(f"growth: peak at the full size ÷ at half; target ≤ {MEMORY_GROWTH_LIMIT} "
                       "for the rebuild; +MiB: the peak above the process's RSS once started"),
    )
    table.add_column("store", no_wrap=True)
    table.add_column("pass", no_wrap=True)
    table.add_column("events", justify="right")
    table.add_column("peak MiB (+)", justify="right")
    table.add_column("events", justify="right")
    table.add_column("peak MiB (+)", justify="right")
    table.add_column("growth", justify="right")
    for result in results:
        half, full = result.sizes
        pairs = [(RAW, half.raw, full.raw), (CATCH_UP, half.catch_up, full.catch_up),
                 (ONE_PROCESS, half.one_process, full.one_process)]
        if half.rebuild and full.rebuild:
            pairs.append((REBUILD, [half.rebuild], [full.rebuild]))
        for index, (label, small, large) in enumerate(pairs):
            low, high = max(small, key=lambda p: p.peak_kib), max(large, key=lambda p: p.peak_kib)
            table.add_row(
                result.store if index == 0 else "", escape(label), f"{half.events:,}",
                f"{low.peak_mib:.0f} (+{low.growth_mib:.0f})", f"{full.events:,}",
                f"{high.peak_mib:.0f} (+{high.growth_mib:.0f})",
                f"{high.peak_kib / low.peak_kib:.2f}", end_section=index == len(pairs) - 1)
    return table


def memory_growth(result: StoreResult) -> float:
    half, full = result.sizes
    return (max(p.peak_kib for p in full.catch_up) / max(p.peak_kib for p in half.catch_up))


def verdicts(results: Sequence[StoreResult]) -> list[str]:
    def state(ok: bool) -> str:
        return "meets" if ok else "BELOW"

    lines: list[str] = []
    for result in results:
        full = result.full
        rate = SizeResult.median_rate(full.catch_up)
        share = full.share_of_raw()[0]
        growth = memory_growth(result)
        one_rate, (one_share, _, _) = (SizeResult.median_rate(full.one_process),
                                      full.share_of_raw(full.one_process))
        lines.append(
            f"{result.store}: rebuild {rate:,.0f} events/s over {full.events:,} events "
            f"({state(rate >= TARGET_RATE)} the {TARGET_RATE:,} target); "
            f"{share:.0%} of read + decode's {SizeResult.median_rate(full.raw):,.0f} events/s "
            f"({state(share >= TARGET_SHARE_OF_RAW)} the {TARGET_SHARE_OF_RAW:.0%} target); "
            f"peak memory x{growth:.2f} from {result.sizes[0].events:,} to {full.events:,} "
            f"events ({'meets' if growth <= MEMORY_GROWTH_LIMIT else 'ABOVE'} the "
            f"≤ {MEMORY_GROWTH_LIMIT} target); in one process (--workers 1): "
            f"{one_rate:,.0f} events/s, {one_share:.0%} of read + decode's")
        if result.library is not None:
            library = result.library
            ratio = rate / library.rate
            line = (f"{result.store}: eventsourcing ProjectionRunner {library.rate:,.0f} events/s "
                    f"over the log's first {library.events:,} events "
                    f"({library.detail['incident_events']:,} incident events, one transaction "
                    f"each) -> the rebuild is x{ratio:.1f} ({state(ratio >= TARGET_LIBRARY_RATIO)}"
                    f" the x{TARGET_LIBRARY_RATIO:.0f} target)")
            if full.incidents_only is not None:
                line += (f"; Tandem's runner on the incidents alone "
                         f"x{full.incidents_only.rate / library.rate:.1f}")
            lines.append(line)
    return lines


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = benchmark_parser("benchmarks.projections", __doc__,
                              quick=f"{QUICK_EVENTS:,} events, {QUICK_LIBRARY_EVENTS:,} for the "
                                    "library runner, one round: a smoke run")
    parser.add_argument("--events", type=int, metavar="N",
                        help=f"events in the full log ({DEFAULT_EVENTS:,}); half of it is timed "
                             "too, for the memory comparison")
    parser.add_argument("--rounds", type=int,
                        help=f"interleaved read + decode / rebuild rounds at the full size "
                             f"({ROUNDS}; 1 with --quick)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the rebuild instead of timing")
    arguments = known_arguments(parser, argv)
    if arguments.events is not None and arguments.events < 2:
        parser.error("--events must be at least 2")
    if arguments.rounds is not None and arguments.rounds < 1:
        parser.error("--rounds must be at least 1")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    events = arguments.events or (QUICK_EVENTS if arguments.quick else DEFAULT_EVENTS)
    library_events = QUICK_LIBRARY_EVENTS if arguments.quick else LIBRARY_EVENTS
    rounds = arguments.rounds or (1 if arguments.quick else ROUNDS)
    console = titled_console(
        f"{versions()}; projections: log of {events:,} events (timed at half and at full "
        f"size), batches of {DEFAULT_BATCH:,}, {rounds} interleaved round(s) at the full size")
    results: list[StoreResult] = []
    for store in selected_stores(arguments.only, console):
        if arguments.profile:
            profile_store(store, events, console)
            continue
        started = time.perf_counter()
        results.append(measure_store(store, events, library_events, rounds, console))
        console.print(f"{store}: section took {time.perf_counter() - started:.1f} s; "
                      f"{load_note()}", highlight=False)
    if results:
        console.print(results_table(results))
        console.print(rebuild_table(results))
        console.print(memory_table(results))
        for line in verdicts(results):
            console.print(line, highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
