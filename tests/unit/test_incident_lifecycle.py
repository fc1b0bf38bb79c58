"""Every incident command in every state: allowed ones move as the lifecycle says, others refuse."""

from collections.abc import Callable

import pytest

from domain.errors import IllegalTransition
from domain.incident import LIFECYCLE, IncidentState
from domain.service_desk import ServiceDesk

S = IncidentState
Command = Callable[[ServiceDesk, str], object]


def _problem(desk: ServiceDesk) -> str:
    return desk.open_problem(actor="pat", title="Relay stalls").number


COMMANDS: dict[str, Command] = {
    "assign": lambda d, n: d.assign_incident(n, actor="sd", group="network"),
    "categorize": lambda d, n: d.categorize_incident(n, actor="sd", category="network"),
    "prioritize": lambda d, n: d.prioritize_incident(n, actor="sd", impact=1, urgency=1),
    "escalate functionally": lambda d, n: d.escalate_incident(
        n, actor="sd", kind="functional", to="tier-3", reason="needs experts"),
    "escalate hierarchically": lambda d, n: d.escalate_incident(
        n, actor="sd", kind="hierarchical", to="ops-manager", reason="VIP caller"),
    "put on hold": lambda d, n: d.put_incident_on_hold(n, actor="sd", reason="awaiting_vendor"),
    "resume": lambda d, n: d.resume_incident(n, actor="sd"),
    "add a note": lambda d, n: d.add_incident_note(n, actor="sd", text="checked the logs"),
    "apply a workaround": lambda d, n: d.apply_workaround(n, actor="sd", text="reboot"),
    "resolve": lambda d, n: d.resolve_incident(
        n, actor="sd", code="solution_provided", notes="fixed"),
    "reopen": lambda d, n: d.reopen_incident(n, actor="sd", reason="came back"),
    "close": lambda d, n: d.close_incident(n, actor="sd"),
    "cancel": lambda d, n: d.cancel_incident(n, actor="sd", reason="logged twice"),
    "link to a problem": lambda d, n: d.link_incident(_problem(d), n, actor="pat"),
    "unlink from a problem": lambda d, n: d.incident(n),  # exercised in test_problem_rules
    "record an SLA warning": lambda d, n: d.record_sla_warning(
        n, actor="system:sla-monitor", target="resolution", threshold=50,
        reached_at=d.clock(), due_at=d.clock()),
    "record an SLA breach": lambda d, n: d.record_sla_breach(
        n, actor="system:sla-monitor", target="resolution", due_at=d.clock()),
}

PATHS: dict[IncidentState, list[str]] = {
    S.NEW: [],
    S.IN_PROGRESS: ["assign"],
    S.ON_HOLD: ["assign", "put on hold"],
    S.RESOLVED: ["assign", "resolve"],
    S.CLOSED: ["assign", "resolve", "close"],
    S.CANCELED: ["cancel"],
}


def incident_in(desk: ServiceDesk, state: IncidentState) -> str:
    number = desk.open_incident(actor="sd", title="VPN down", service="vpn").number
    for step in PATHS[state]:
        COMMANDS[step](desk, number)
    assert desk.incident(number).state is state
    return number


def test_the_table_covers_every_command() -> None:
    assert set(COMMANDS) == set(LIFECYCLE)


CASES = [(command, state) for command in LIFECYCLE if command != "unlink from a problem"
         for state in IncidentState]


@pytest.mark.parametrize(("command", "state"), CASES)
def test_command_in_state(desk: ServiceDesk, command: str, state: IncidentState) -> None:
    number = incident_in(desk, state)
    before = desk.incident(number).version
    allowed = LIFECYCLE[command]

    if state in allowed:
        COMMANDS[command](desk, number)
        after = desk.incident(number)
        assert after.state is allowed[state]
        assert after.version == before + 1
    else:
        with pytest.raises(IllegalTransition) as refused:
            COMMANDS[command](desk, number)
        message = str(refused.value)
        assert number in message
        assert state.value in message
        assert command in message
        assert desk.incident(number).version == before
