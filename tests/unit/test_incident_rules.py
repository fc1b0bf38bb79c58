"""Incident rules beyond the lifecycle: priority, escalation, resolution, validation."""

import pytest

from domain.errors import Conflict, NotFound, Refused, ValidationFailed
from domain.incident import EscalationKind, HoldReason, IncidentState, ResolutionCode
from domain.priority import Priority, priority_for
from domain.service_desk import ServiceDesk
from tests.conftest import FakeClock


@pytest.mark.parametrize(("impact", "urgency", "expected"), [
    (1, 1, "P1"), (1, 2, "P2"), (1, 3, "P3"),
    (2, 1, "P2"), (2, 2, "P3"), (2, 3, "P4"),
    (3, 1, "P3"), (3, 2, "P4"), (3, 3, "P5"),
])
def test_priority_matrix(impact: int, urgency: int, expected: str) -> None:
    assert priority_for(impact, urgency) == Priority(expected)


def _stored_count(desk: ServiceDesk) -> int:
    return len(desk.recorder.select_notifications(start=1, limit=1_000_000))


def test_opening_logs_who_when_and_the_derived_priority(desk: ServiceDesk,
                                                        clock: FakeClock) -> None:
    incident = desk.open_incident(actor="monitor:prometheus", title="Disk full on db1",
                                  service="database", impact=1, urgency=2, channel="monitoring")

    assert (incident.number, incident.priority, incident.state) == (
        "INC0000001", Priority.P2, IncidentState.NEW)
    opened = next(iter(desk.events.get(incident.id)))
    assert opened.actor == "monitor:prometheus"  # type: ignore[attr-defined]
    assert opened.timestamp == clock.now  # type: ignore[attr-defined]


def test_numbers_are_sequential_per_kind(desk: ServiceDesk) -> None:
    numbers = [desk.open_incident(actor="sd", title=f"t{i}", service="s").number
               for i in range(3)]
    problem = desk.open_problem(actor="pat", title="p")
    assert numbers == ["INC0000001", "INC0000002", "INC0000003"]
    assert problem.number == "PRB0000001"


def test_reprioritising_recomputes_priority(desk: ServiceDesk) -> None:
    number = desk.open_incident(actor="sd", title="Slow VPN", service="vpn").number
    assert desk.prioritize_incident(number, actor="sd", impact=1, urgency=1).priority is (
        Priority.P1)


def test_functional_escalation_reassigns_and_hierarchical_raises_the_level(
        desk: ServiceDesk) -> None:
    number = desk.open_incident(actor="sd", title="SAN latency", service="storage").number
    desk.assign_incident(number, actor="sd", group="tier-1", assignee="ann")

    functional = desk.escalate_incident(number, actor="ann", kind="functional", to="storage-l3",
                                        reason="needs vendor tools")
    assert (functional.assignment_group, functional.assignee) == ("storage-l3", None)

    hierarchical = desk.escalate_incident(number, actor="ann", kind="hierarchical",
                                          to="cio", reason="trading floor impacted")
    assert hierarchical.escalation_level == 1
    assert hierarchical.assignment_group == "storage-l3"


def test_functional_escalation_to_the_current_group_is_refused(desk: ServiceDesk) -> None:
    number = desk.open_incident(actor="sd", title="SAN latency", service="storage").number
    desk.assign_incident(number, actor="sd", group="storage-l3")
    with pytest.raises(Refused, match="already assigned to storage-l3"):
        desk.escalate_incident(number, actor="sd", kind=EscalationKind.FUNCTIONAL,
                               to="storage-l3", reason="again")


def test_hold_keeps_its_reason_until_resumed(desk: ServiceDesk) -> None:
    number = desk.open_incident(actor="sd", title="Printer jam", service="print").number
    desk.assign_incident(number, actor="sd", group="desk-side")
    assert desk.put_incident_on_hold(number, actor="sd", reason="awaiting_caller").hold_reason \
        is HoldReason.AWAITING_CALLER
    assert desk.resume_incident(number, actor="sd").hold_reason is None


def test_reopen_clears_the_resolution_and_close_defaults_to_its_code(desk: ServiceDesk) -> None:
    number = desk.open_incident(actor="sd", title="Wi-Fi drops", service="wifi").number
    desk.assign_incident(number, actor="sd", group="network")
    desk.resolve_incident(number, actor="sd", code="workaround_provided", notes="AP rebooted")
    reopened = desk.reopen_incident(number, actor="caller", reason="drops again")
    assert (reopened.resolution_code, reopened.reopen_count) == (None, 1)

    desk.resolve_incident(number, actor="sd", code="solution_provided", notes="AP replaced")
    closed = desk.close_incident(number, actor="sd")
    assert closed.close_code is ResolutionCode.SOLUTION_PROVIDED


@pytest.mark.parametrize(("fields", "field"), [
    ({"title": "  ", "service": "email"}, "title"),
    ({"title": "x" * 161, "service": "email"}, "title"),
    ({"title": "Mail", "service": ""}, "service"),
    ({"title": "Mail", "service": "email", "impact": 4}, "impact"),
    ({"title": "Mail", "service": "email", "urgency": 0}, "urgency"),
    ({"title": "Mail", "service": "email", "channel": "pigeon"}, "channel"),
    ({"title": "Mail", "service": "email", "colour": "red"}, "colour"),
])
def test_invalid_input_names_the_field_and_writes_nothing(
        desk: ServiceDesk, fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        desk.open_incident(actor="sd", **fields)
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ")
    assert _stored_count(desk) == 0


@pytest.mark.parametrize(("call", "field"), [
    (lambda d, n: d.put_incident_on_hold(n, actor="sd", reason="lunch"), "reason"),
    (lambda d, n: d.resolve_incident(n, actor="sd", code="magic", notes="x"), "code"),
    (lambda d, n: d.resolve_incident(n, actor="sd", code="duplicate", notes=""), "notes"),
    (lambda d, n: d.escalate_incident(n, actor="sd", kind="sideways", to="x", reason="y"),
     "kind"),
    (lambda d, n: d.add_incident_note(n, actor=" ", text="hello"), "actor"),
])
def test_invalid_command_input_on_an_existing_incident(desk: ServiceDesk, call: object,
                                                       field: str) -> None:
    number = desk.open_incident(actor="sd", title="Mail", service="email").number
    desk.assign_incident(number, actor="sd", group="messaging")
    before = _stored_count(desk)
    with pytest.raises(ValidationFailed) as refused:
        call(desk, number)  # type: ignore[operator]
    assert refused.value.field == field
    assert _stored_count(desk) == before


def test_a_stale_expected_version_is_a_conflict(desk: ServiceDesk) -> None:
    incident = desk.open_incident(actor="sd", title="Mail", service="email")
    desk.add_incident_note(incident.number, actor="ann", text="first", expected_version=1)
    with pytest.raises(Conflict, match="INC0000001 is at version 2, not 1"):
        desk.add_incident_note(incident.number, actor="bob", text="second", expected_version=1)
    assert desk.incident(incident.number).version == 2


@pytest.mark.parametrize("ref", ["INC0000009", "PRB0000001", "not-a-ref",
                                 "6f1c3c3e-8a63-4d5e-9a52-2b1e7b0f6a01"])
def test_unknown_references_are_not_found(desk: ServiceDesk, ref: str) -> None:
    desk.open_incident(actor="sd", title="Mail", service="email")
    with pytest.raises(NotFound):
        desk.incident(ref)


def test_records_are_found_by_number_in_any_case_and_by_uuid(desk: ServiceDesk) -> None:
    incident = desk.open_incident(actor="sd", title="Mail", service="email")
    assert desk.incident("inc0000001").id == incident.id
    assert desk.incident(str(incident.id)).number == "INC0000001"
    with pytest.raises(NotFound, match="is not a problem"):
        desk.problem(str(incident.id))


def test_event_times_never_go_backwards_within_a_record(desk: ServiceDesk,
                                                        clock: FakeClock) -> None:
    number = desk.open_incident(actor="sd", title="Mail", service="email").number
    clock.advance(hours=-2)  # e.g. a clock stepped back by NTP
    noted = desk.add_incident_note(number, actor="sd", text="later")
    assert noted.modified_on == noted.created_on
