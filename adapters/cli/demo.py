"""`tandem demo`: a scripted day at a service desk, on a fresh SQLite file."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from adapters.bootstrap import open_read_store, open_service_desk, projection_runner
from adapters.cli.context import console, print_rows
from adapters.cli.incidents import LIST_COLUMNS as INCIDENT_COLUMNS
from adapters.cli.problems import LIST_COLUMNS as PROBLEM_COLUMNS
from domain.alert import Alert
from projections import queries


def _alert(key: str, summary: str, at: datetime, *, status: str = "firing") -> Alert:
    """What the Alertmanager webhook hands the intake, in the generic form."""
    from adapters.alerts.generic import parse_generic  # the parsers load where alerts come in

    (alert,) = parse_generic({"source": "alertmanager", "dedup_key": key, "service": "email",
                              "category": "email", "summary": summary, "severity": "error",
                              "status": status, "fired_at": at.isoformat()})
    return alert


class ScriptedClock:
    """The demo's injected clock: a working day that moves only when the script says so."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, hh_mm: str) -> None:
        hours, minutes = map(int, hh_mm.split(":"))
        self.now = self.now.replace(hour=hours, minute=minutes)


def run(
    database: Annotated[Path, typer.Option(help="SQLite file to (re)create.")]
    = Path("var/demo.db"),
) -> None:
    """Play a realistic day through the ServiceDesk and print the incidents and problems."""
    database.unlink(missing_ok=True)
    day = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    clock = ScriptedClock(day - timedelta(days=1))
    desk = open_service_desk(f"sqlite:///{database}", clock=clock)

    clock.at("08:02")  # Alertmanager fires, then repeats every minute: one incident, counted
    relay = desk.incident(str(desk.receive_alert(_alert(
        "PostfixQueueHigh/mx1", "Mail relay mx1: outbound queue above 5000", clock())
    ).incident))
    for minute in range(3, 8):
        clock.at(f"08:{minute:02d}")
        desk.receive_alert(_alert("PostfixQueueHigh/mx1",
                                  "Mail relay mx1: outbound queue above 5000", clock()))
    clock.at("08:05")
    outlook = desk.open_incident(
        actor="sd.agent", title="Cannot send email from Outlook", service="email",
        impact=3, urgency=2, caller="alice", channel="phone")
    clock.at("08:10")
    desk.assign_incident(relay.number, actor="sd.agent", group="messaging", assignee="bob")
    desk.categorize_incident(outlook.number, actor="sd.agent", category="email",
                             subcategory="outbound")
    desk.assign_incident(outlook.number, actor="sd.agent", group="messaging")
    clock.at("08:30")
    desk.add_incident_note(relay.number, actor="bob",
                           text="Queue stuck on TLS handshakes to the upstream smarthost")
    clock.at("08:45")
    desk.escalate_incident(relay.number, actor="bob", kind="functional", to="network-ops",
                           reason="TLS failures point at the egress firewall")
    clock.at("09:00")
    vpn = desk.open_incident(actor="sd.agent", title="VPN drops every few minutes",
                             service="vpn", impact=3, urgency=3, caller="dave")
    desk.assign_incident(vpn.number, actor="sd.agent", group="network-ops", assignee="erin")
    desk.put_incident_on_hold(vpn.number, actor="erin", reason="awaiting_caller")
    clock.at("09:20")
    desk.resume_incident(vpn.number, actor="erin")
    desk.resolve_incident(vpn.number, actor="erin", code="solution_provided",
                          notes="Client updated to 5.2; stable since")
    clock.at("09:30")
    desk.escalate_incident(relay.number, actor="sd.lead", kind="hierarchical",
                           to="it-ops-manager", reason="P2 close to its resolution target")
    clock.at("10:15")
    again = desk.incident(str(desk.receive_alert(_alert(
        "PostfixDeferredHigh/mx1", "Mail relay mx1: deferred queue above 2000", clock())
    ).incident))
    clock.at("10:20")
    delayed = desk.open_incident(actor="sd.agent", title="Emails to customers delayed by hours",
                                 service="email", impact=2, urgency=2, caller="frank")
    clock.at("10:30")
    problem = desk.open_problem(
        actor="pat", title="Recurring outbound mail queue stalls on mx1", service="email",
        incidents=[relay.number, outlook.number, again.number, delayed.number])
    clock.at("10:40")
    desk.add_problem_note(problem.number, actor="pat",
                          text="Stalls began after Monday's certificate rotation")
    clock.at("11:30")
    desk.identify_root_cause(problem.number, actor="pat",
                             text="TLS session cache exhausted on mx1 after cert rotation")
    desk.record_known_error(problem.number, actor="pat",
                            workaround="Restart tlsmgr on mx1, then flush the queue")
    clock.at("11:35")
    desk.assign_incident(again.number, actor="sd.agent", group="messaging", assignee="bob")
    desk.apply_workaround(again.number, actor="bob", known_error=problem.number,
                          text="Restarted tlsmgr and flushed the queue")
    desk.put_incident_on_hold(relay.number, actor="bob", reason="awaiting_problem")
    clock.at("12:00")
    desk.resolve_incident(outlook.number, actor="bob", code="workaround_provided",
                          notes="Queue flushed; Alice's mail went out")
    desk.close_incident(outlook.number, actor="sd.agent")
    clock.at("13:00")
    desk.request_change(problem.number, actor="pat", change_ref="CHG0001234")
    clock.at("15:10")
    dup = desk.open_incident(actor="sd.agent", title="Email slow", service="email",
                             caller="gina")
    desk.cancel_incident(dup.number, actor="sd.agent", reason=f"Duplicate of {delayed.number}")
    clock.at("16:00")
    desk.resolve_problem(problem.number, actor="pat", resolve_linked_incidents=True,
                         notes="CHG0001234 raised the TLS session cache size")
    clock.at("16:05")  # the queue drains: Alertmanager says so (recorded, nothing resolved)
    desk.receive_alert(_alert("PostfixQueueHigh/mx1",
                              "Mail relay mx1: outbound queue above 5000", clock(),
                              status="resolved"))

    store = open_read_store(f"sqlite:///{database}")
    projection_runner(desk, store).catch_up()
    console().print(f"A day at the service desk, stored in {database}\n")
    print_rows(queries.incidents(store), INCIDENT_COLUMNS, "Incidents")
    print_rows(queries.problems(store), PROBLEM_COLUMNS, "Problems")
    print_rows(queries.known_errors(store), ["number", "service", "symptom", "workaround"],
               "Known errors")
