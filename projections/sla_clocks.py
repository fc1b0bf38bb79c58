"""SLA clocks: per incident a response and a resolution clock, derived from events and the rules.

Each row holds what is needed to answer at any later `now` without the events: the business
time accumulated up to `since` (the instant the clock last started running), the target, and
while running the due time and the instant of the next threshold not yet recorded. Every input
is an event's timestamp or the configured policy, so a rebuild gives the same rows.
"""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from domain.audit_chain import format_timestamp
from domain.incident import EscalationKind, Incident
from domain.sla import BREACH, SlaPolicy, SlaRules, Target, moment_of, next_threshold, reached
from domain.sla_calendar import add_business_time, business_time
from projections.projection import Envelope, Projection, Row, Rows, Table, existing_records
from projections.store import Dialect

RUNNING, PAUSED, MET, BREACHED, CANCELED = "running", "paused", "met", "breached", "canceled"
MOVING = (RUNNING, PAUSED)
CODE_VERSION = 3
"""2: the incident index includes the state, so a queue's SLA due time finds an incident's
running clocks through it (SQLite chose the (state, alert_at) index: all running clocks per
row). 3: the `work_queue` table, an incident's place in the queues, indexed in their order."""
WORK_QUEUE_SINCE = 3
"""The first code version with the `work_queue` table."""
DIGEST_SPACE = 10**8
"""version = CODE_VERSION x 10^8 + the configuration digest's first 6 hex digits (< 10^8)."""
MICROSECOND = timedelta(microseconds=1)
PENDING = "pending"
"""A running clock's due time not computed yet: done once per batch, not at every event (in a
rebuild most clocks start and stop inside one batch and never need it)."""

COLUMNS = (
    ("clock", "TEXT"), ("incident_id", "TEXT NOT NULL"), ("target", "TEXT NOT NULL"),
    ("number", "TEXT NOT NULL"), ("service", "TEXT NOT NULL"), ("priority", "TEXT NOT NULL"),
    ("assignment_group", "TEXT"), ("incident_state", "TEXT NOT NULL"), ("hold_reason", "TEXT"),
    ("state", "TEXT NOT NULL"), ("target_us", "BIGINT NOT NULL"),
    ("elapsed_us", "BIGINT NOT NULL"), ("since", "TEXT"), ("due_at", "TEXT"),
    ("alert_at", "TEXT"), ("alerts", "TEXT NOT NULL"), ("breached_at", "TEXT"),
    ("opened_at", "TEXT NOT NULL"), ("stopped_at", "TEXT"), ("version", "INTEGER NOT NULL"),
)
QUEUE_COLUMNS = (
    ("incident_id", "TEXT"), ("number", "TEXT NOT NULL"), ("lane", "TEXT NOT NULL"),
    ("assignment_group", "TEXT"), ("priority", "TEXT NOT NULL"),
    ("due_last", "INTEGER NOT NULL"), ("due", "TEXT NOT NULL"), ("opened_at", "TEXT NOT NULL"),
)
"""An open incident's place in the work queues (a resolved, closed or canceled one has no row:
the table stays the size of the open work). `due` is its SLA due time (the earliest of its
running clocks' due times), '' with `due_last` = 1 when none runs: the queue order without
NULLs, so one index serves it and a row-value comparison resumes a page after any row."""
QUEUE_ORDER = ("priority", "due_last", "due", "opened_at", "number")
LANES = {"new": "queued", "in_progress": "queued", "on_hold": "on_hold"}
"""The lane of each open incident state; the others are "done" (resolved, closed, canceled)."""


_TARGETS = tuple((target, f":{target.value}") for target in Target)
"""Each target with its clock key's suffix: a clock is `<incident id>:<target>` (iterating the
enum and formatting the key cost more per event than the rest of a note's handling)."""


def holds_work_queue(version: int) -> bool:
    """Whether a generation of this version has `work_queue` (an older one serves, without it,
    until the rebuild after an upgrade switches)."""
    return version // DIGEST_SPACE >= WORK_QUEUE_SINCE


def _is_incident_event(event: Any) -> bool:
    return isinstance(event, Incident.Event)


def micros(amount: timedelta) -> int:
    return amount // MICROSECOND


def recorded(row: Row) -> list[int]:
    """The thresholds recorded on the incident for this clock, ascending."""
    return [int(t) for t in row["alerts"].split(",") if t]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class SlaClocks(Projection):
    """Per incident a response and a resolution clock (`clock` = `<incident id>:<target>`)."""

    name = "sla_clocks"
    events = (Incident.Opened, Incident.Event)
    rebuild_cost = 5.6
    tables = (Table(name="sla_clocks", columns=COLUMNS, key=("clock",),
                    indexes=(("incident_id", "state"), ("state", "alert_at"), ("opened_at",))),
              Table(name="work_queue", columns=QUEUE_COLUMNS, key=("incident_id",),
                    indexes=(("lane", "assignment_group", *QUEUE_ORDER),)))
    """`work_queue` is here because its due time is the clocks' (and the configuration's)."""

    def __init__(self, rules: SlaRules, *, config_digest: str) -> None:
        self.rules = rules
        self.version = CODE_VERSION * DIGEST_SPACE + int(config_digest[:6], 16)
        """The configuration in force is part of the read model's identity: after it changes,
        `projections status` says a rebuild is needed."""

    def replaces(self, version: int) -> bool:
        """Older code, or this code under another SLA configuration (whose digest does not
        say which is newer)."""
        code = version // DIGEST_SPACE
        return code < CODE_VERSION or (code == CODE_VERSION and version != self.version)

    def apply(self, batch: Sequence[Envelope], tables: dict[str, Rows],
              dialect: Dialect) -> None:
        rows, queue = tables["sla_clocks"], tables["work_queue"]
        rows.prefetch((key + suffix,) for key in dict.fromkeys(
            stream_id for (stream_id,) in existing_records(batch, _is_incident_event))
            for _, suffix in _TARGETS)
        pending: dict[str, Row] = {}
        """Running clocks whose due time waits for the end of the batch."""
        versions: dict[str, int] = {}
        """Each incident's last version in the batch: every event moves it, few move a clock."""
        opened_here: set[str] = set()
        moved: set[str] = set()
        """Incidents whose place in the queues may have changed."""
        for envelope in batch:
            event = envelope.event
            kind = type(event)
            if kind is Incident.Opened:
                policy = self.rules.policy(event.priority.value, event.service)
                for target, suffix in _TARGETS:
                    opened = _opened(event, envelope, target, suffix, policy)
                    rows.add(opened)
                    pending[opened["clock"]] = opened
                opened_here.add(envelope.stream_id)
            elif isinstance(event, Incident.Event):
                versions[envelope.stream_id] = event.originator_version
                if (handler := _HANDLERS.get(kind)) is None:
                    continue
                moved.add(envelope.stream_id)
                for target, suffix in _TARGETS:
                    row = rows.get(envelope.stream_id + suffix)
                    if row is not None:
                        handler(self, row, target, event)
                        if row["due_at"] == PENDING:
                            pending[row["clock"]] = row
        for stream_id, version in versions.items():
            for _, suffix in _TARGETS:
                row = rows.get(stream_id + suffix)
                if row is not None:
                    row["version"] = version
                    rows.put(row)
        for row in pending.values():
            if row["due_at"] == PENDING:
                _schedule(row, self.policy(row))
        for stream_id in opened_here | moved:
            place = _place(rows, stream_id)
            if place is None:
                continue  # an event before its incident's opening changes nothing
            if place["lane"] != "done":
                (queue.add if stream_id in opened_here else queue.put)(place)
            elif stream_id not in opened_here:
                queue.delete(stream_id)  # resolved, closed or canceled: out of every queue

    def policy(self, row: Row) -> SlaPolicy:
        return self.rules.policy(row["priority"], row["service"])

    # -- what each event does to a clock -----------------------------------------------------

    def _assigned(self, row: Row, target: Target, e: Any) -> None:
        if isinstance(e, Incident.Escalated):
            if e.kind is not EscalationKind.FUNCTIONAL:
                return
            row["assignment_group"] = e.to
        else:
            row["assignment_group"] = e.assignment_group
        if row["incident_state"] == "new":
            row["incident_state"] = "in_progress"
        if target is Target.RESPONSE:
            _stop(row, self.policy(row), e.timestamp)

    def _held(self, row: Row, target: Target, e: Any) -> None:
        if isinstance(e, Incident.PutOnHold):
            row["incident_state"], row["hold_reason"] = "on_hold", e.reason.value
        else:
            row["incident_state"], row["hold_reason"] = "in_progress", None
        self._settle(row, target, self.policy(row), e.timestamp)

    def _prioritized(self, row: Row, target: Target, e: Incident.Prioritized) -> None:
        old = self.policy(row)
        row["priority"] = e.priority.value
        self._settle(row, target, old, e.timestamp)

    def _resolved(self, row: Row, target: Target, e: Any) -> None:
        row["incident_state"], row["hold_reason"] = "resolved", None
        _stop(row, self.policy(row), e.timestamp)

    def _reopened(self, row: Row, target: Target, e: Any) -> None:
        row["incident_state"] = "in_progress"
        if target is Target.RESOLUTION and row["state"] in (MET, BREACHED):
            row["stopped_at"] = None
            _run(row, e.timestamp)

    def _closed(self, row: Row, target: Target, e: Any) -> None:
        row["incident_state"] = "closed"

    def _canceled(self, row: Row, target: Target, e: Any) -> None:
        row["incident_state"], row["hold_reason"] = "canceled", None
        if row["state"] in MOVING:
            _halt(row, self.policy(row), e.timestamp)
            row["state"], row["stopped_at"] = CANCELED, format_timestamp(e.timestamp)

    def _alerted(self, row: Row, target: Target, e: Any) -> None:
        if e.target is not target:
            return
        threshold = e.threshold if isinstance(e, Incident.SlaWarningReached) else BREACH
        row["alerts"] = ",".join(map(str, sorted({*recorded(row), threshold})))
        if row["state"] == RUNNING:
            row["due_at"] = PENDING

    def _settle(self, row: Row, target: Target, old: SlaPolicy, when: datetime) -> None:
        """Re-target and pause or resume a moving clock after the priority or hold changed;
        the business time spent so far is kept."""
        if row["state"] not in MOVING:
            return
        new = self.policy(row)
        paused = (row["incident_state"] == "on_hold"
                  and row["hold_reason"] in new.pauses_on(target))
        if (old == new) and (row["state"] == PAUSED) == paused:
            return
        _halt(row, old, when)
        row["target_us"] = micros(new.target(target))
        if row["breached_at"] is None and row["elapsed_us"] >= row["target_us"]:
            row["breached_at"] = format_timestamp(when)
        if paused:
            row["state"] = PAUSED
        else:
            _run(row, when)


def _opened(e: Incident.Opened, envelope: Envelope, target: Target, suffix: str,
            policy: SlaPolicy) -> Row:
    return {
        "clock": envelope.stream_id + suffix, "incident_id": envelope.stream_id,
        "target": target.value, "number": e.number, "service": e.service,
        "priority": e.priority.value, "assignment_group": None, "incident_state": "new",
        "hold_reason": None, "state": RUNNING, "target_us": micros(policy.target(target)),
        "elapsed_us": 0, "since": envelope.occurred_at, "due_at": PENDING, "alert_at": None,
        "alerts": "", "breached_at": None, "opened_at": envelope.occurred_at,
        "stopped_at": None, "version": e.originator_version,
    }


def _place(rows: Rows, stream_id: str) -> Row | None:
    """The incident's `work_queue` row, from its clocks once their due times are computed
    (lane "done" once it left the queues); None before its opening."""
    clocks = [row for _, suffix in _TARGETS if (row := rows.get(stream_id + suffix))]
    if not clocks:
        return None
    first = clocks[0]
    due = min((row["due_at"] for row in clocks if row["state"] == RUNNING), default=None)
    return {"incident_id": stream_id, "number": first["number"],
            "lane": LANES.get(first["incident_state"], "done"),
            "assignment_group": first["assignment_group"], "priority": first["priority"],
            "due_last": 1 if due is None else 0, "due": due or "",
            "opened_at": first["opened_at"]}


def _run(row: Row, since: datetime) -> None:
    row["state"], row["since"], row["due_at"] = RUNNING, format_timestamp(since), PENDING


def _schedule(row: Row, policy: SlaPolicy) -> None:
    """Due time and next threshold's instant of a running clock."""
    since, elapsed = at(row["since"]), row["elapsed_us"] * MICROSECOND
    target = row["target_us"] * MICROSECOND
    upcoming = next_threshold(policy.thresholds, recorded(row))
    alert = None
    if upcoming is not None and upcoming < BREACH:
        alert = moment_of(upcoming, calendar=policy.calendar, since=since, elapsed=elapsed,
                          target=target)
        # The due time carries on from there (business time adds up): half the calendar walk.
        spent = max(elapsed, target * upcoming / 100)
        due = add_business_time(policy.calendar, alert, target - spent)
    else:
        due = moment_of(BREACH, calendar=policy.calendar, since=since, elapsed=elapsed,
                        target=target)
    row["due_at"] = format_timestamp(due)
    row["alert_at"] = row["due_at"] if upcoming == BREACH else (
        None if alert is None else format_timestamp(alert))


def _halt(row: Row, policy: SlaPolicy, when: datetime) -> None:
    """Stop counting at `when`: the running time joins the elapsed time."""
    if row["state"] == RUNNING:
        ran = micros(business_time(policy.calendar, at(row["since"]), when))
        # The due time is only needed when this run reached it (then it is the breach time).
        if row["due_at"] == PENDING and (row["breached_at"] is None
                                         and row["elapsed_us"] + ran >= row["target_us"]):
            _schedule(row, policy)
        row["elapsed_us"] += ran
        if (row["breached_at"] is None and row["due_at"] != PENDING
                and row["due_at"] <= format_timestamp(when)):
            row["breached_at"] = row["due_at"]
    row["since"] = row["due_at"] = row["alert_at"] = None


def _stop(row: Row, policy: SlaPolicy, when: datetime) -> None:
    if row["state"] not in MOVING:
        return
    _halt(row, policy, when)
    elapsed, target = row["elapsed_us"] * MICROSECOND, row["target_us"] * MICROSECOND
    # A breach is final: a clock re-targeted to a longer target after breaching stays breached.
    late = row["breached_at"] is not None or reached(elapsed, target, BREACH)
    row["state"] = BREACHED if late else MET
    row["stopped_at"] = format_timestamp(when)


_HANDLERS: dict[type[Any], Callable[[SlaClocks, Row, Target, Any], None]] = {
    Incident.Assigned: SlaClocks._assigned,
    Incident.Escalated: SlaClocks._assigned,
    Incident.PutOnHold: SlaClocks._held,
    Incident.Resumed: SlaClocks._held,
    Incident.Prioritized: SlaClocks._prioritized,
    Incident.Resolved: SlaClocks._resolved,
    Incident.Reopened: SlaClocks._reopened,
    Incident.Closed: SlaClocks._closed,
    Incident.Canceled: SlaClocks._canceled,
    Incident.SlaWarningReached: SlaClocks._alerted,
    Incident.SlaBreached: SlaClocks._alerted,
}
