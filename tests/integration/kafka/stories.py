"""Event histories to publish: realistic incident and problem lifecycles through ServiceDesk."""

from datetime import timedelta

from domain.alert import Alert, AlertStatus
from domain.service_desk import ServiceDesk

ACTOR = "alice"


def incident_lifecycle(desk: ServiceDesk, index: int) -> str:
    """Open, assign, note, resolve, close: 5 Incident events (plus a NumberSequence event)."""
    number = desk.open_incident(actor=ACTOR, title=f"Mail down {index}", service="email",
                                impact=2, urgency=1).number
    desk.assign_incident(number, actor=ACTOR, group="messaging", assignee="bob")
    desk.add_incident_note(number, actor=ACTOR, text=f"restarted relay {index}")
    desk.resolve_incident(number, actor=ACTOR, code="solution_provided", notes="restarted")
    desk.close_incident(number, actor=ACTOR)
    return number


def problem_with_incidents(desk: ServiceDesk) -> str:
    """A problem linked to two incidents, with a known error, resolved with its incidents."""
    first = desk.open_incident(actor=ACTOR, title="VPN drops", service="vpn").number
    second = desk.open_incident(actor=ACTOR, title="VPN slow", service="vpn").number
    problem = desk.open_problem(actor=ACTOR, title="VPN gateway", service="vpn",
                                incidents=[first, second]).number
    desk.identify_root_cause(problem, actor=ACTOR, text="firmware leak")
    desk.record_known_error(problem, actor=ACTOR, workaround="reboot nightly")
    desk.resolve_problem(problem, actor=ACTOR, notes="firmware 2.1",
                         resolve_linked_incidents=True)
    return problem


def every_event_type(desk: ServiceDesk) -> None:
    """At least one event of every Incident and Problem type, hierarchical escalations
    included (applied twice they would show: the escalation level counts them)."""
    problem_with_incidents(desk)
    first = desk.open_incident(actor=ACTOR, title="Disk full", service="storage",
                               category="hardware", impact=1, urgency=1).number
    desk.assign_incident(first, actor=ACTOR, group="storage", assignee="kim")
    desk.add_incident_note(first, actor=ACTOR, text="volume at 99%")
    desk.categorize_incident(first, actor=ACTOR, category="storage", subcategory="san")
    desk.prioritize_incident(first, actor=ACTOR, impact=2, urgency=2)
    desk.escalate_incident(first, actor=ACTOR, kind="functional", to="storage-l2",
                           reason="needs SAN access")
    for level in range(2):
        desk.escalate_incident(first, actor=ACTOR, kind="hierarchical", to=f"manager-{level}",
                               reason="customer facing")
    desk.put_incident_on_hold(first, actor=ACTOR, reason="awaiting_vendor")
    desk.resume_incident(first, actor=ACTOR)
    due = desk.clock() + timedelta(hours=4)
    desk.record_sla_warning(first, actor="system:sla-monitor", target="resolution",
                            threshold=50, reached_at=desk.clock(), due_at=due)
    desk.record_sla_breach(first, actor="system:sla-monitor", target="resolution", due_at=due,
                           escalate_to="duty-manager")
    problem = desk.open_problem(actor=ACTOR, title="SAN fills up", service="storage").number
    desk.link_incident(problem, first, actor=ACTOR)
    desk.add_problem_note(problem, actor=ACTOR, text="growth 5%/day")
    desk.record_known_error(problem, actor=ACTOR, workaround="purge snapshots")
    desk.apply_workaround(first, actor=ACTOR, text="purged snapshots", known_error=problem)
    desk.request_change(problem, actor=ACTOR, change_ref="CHG0000042")
    desk.unlink_incident(problem, first, actor=ACTOR)
    desk.cancel_problem(problem, actor=ACTOR, reason="duplicate of another problem")
    desk.resolve_incident(first, actor=ACTOR, code="workaround_provided", notes="purged")
    desk.reopen_incident(first, actor=ACTOR, reason="full again")
    desk.resolve_incident(first, actor=ACTOR, code="solution_provided", notes="grew the volume")
    desk.close_incident(first, actor=ACTOR, code="solution_provided")
    second = desk.open_incident(actor=ACTOR, title="Duplicate ticket", service="storage").number
    desk.cancel_incident(second, actor=ACTOR, reason="duplicate")
    firing = Alert(source="alertmanager", dedup_key="disk-full:db1", service="storage",
                   summary="Disk full on db1", fired_at=desk.clock(),
                   fingerprint="Disk full on <*>")
    desk.receive_alert(firing)
    desk.receive_alert(firing.model_copy(update={"status": AlertStatus.RESOLVED}))
    final = desk.open_problem(actor=ACTOR, title="Closed one", service="storage").number
    desk.add_problem_note(final, actor=ACTOR, text="cannot reproduce")
    desk.resolve_problem(final, actor=ACTOR, notes="went away")
    desk.close_problem(final, actor=ACTOR)
