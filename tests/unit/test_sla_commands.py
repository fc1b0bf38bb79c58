"""The SLA commands the monitor sends: validated, once per clock and threshold, breach escalated
in the same save."""

from datetime import datetime, timedelta

import pytest

from domain.errors import IllegalTransition, ValidationFailed
from domain.incident import Incident
from domain.service_desk import ServiceDesk
from tests.conftest import FakeClock

MONITOR = "system:sla-monitor"


def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
        desk: ServiceDesk, clock: FakeClock) -> None:
    number = desk.open_incident(actor="sd", title="VPN down", service="vpn").number
    naive = datetime(2026, 3, 2, 9, 0)
    cases = [
        ("threshold", {"target": "response", "threshold": 100, "reached_at": clock(),
                       "due_at": clock()}),
        ("target", {"target": "answer", "threshold": 50, "reached_at": clock(),
                    "due_at": clock()}),
        ("reached_at", {"target": "response", "threshold": 50, "reached_at": naive,
                        "due_at": clock()}),
    ]
    for field, fields in cases:
        with pytest.raises(ValidationFailed) as refused:
            desk.record_sla_warning(number, actor=MONITOR, **fields)
        assert refused.value.field == field
    with pytest.raises(ValidationFailed, match="escalate_to"):
        desk.record_sla_breach(number, actor=MONITOR, target="response", due_at=clock(),
                               escalate_to="")
    assert desk.incident(number).version == 1


def test_a_breach_and_its_escalation_are_one_save(desk: ServiceDesk, clock: FakeClock) -> None:
    number = desk.open_incident(actor="sd", title="VPN down", service="vpn").number
    due = clock() - timedelta(minutes=1)
    incident = desk.record_sla_breach(number, actor=MONITOR, target="response", due_at=due,
                                      escalate_to="cio")
    breached, escalated = desk.events.get(incident.id, gt=1)  # both, by the one command
    assert isinstance(breached, Incident.SlaBreached)
    assert (breached.due_at, breached.actor) == (due, MONITOR)
    assert isinstance(escalated, Incident.Escalated)
    assert (escalated.kind.value, escalated.to, escalated.actor) == ("hierarchical", "cio",
                                                                    MONITOR)
    assert (incident.escalation_level, incident.sla_alerts) == (1, ["response:100"])


def test_a_closed_incident_refuses_a_new_threshold_but_not_a_repeat(
        desk: ServiceDesk, clock: FakeClock) -> None:
    number = desk.open_incident(actor="sd", title="VPN down", service="vpn").number
    warning = {"target": "resolution", "threshold": 50, "reached_at": clock(),
               "due_at": clock()}
    desk.record_sla_warning(number, actor=MONITOR, **warning)
    desk.resolve_incident(number, actor="sd", code="solution_provided", notes="fixed")
    version = desk.incident(number).version
    assert desk.record_sla_warning(number, actor=MONITOR, **warning).version == version
    with pytest.raises(IllegalTransition, match="cannot record an SLA warning"):
        desk.record_sla_warning(number, actor=MONITOR, **{**warning, "threshold": 75})
