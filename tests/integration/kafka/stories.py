"""Event histories to publish: realistic incident and problem lifecycles through ServiceDesk."""

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
