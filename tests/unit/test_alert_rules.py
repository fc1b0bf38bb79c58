"""Alert routing rules: dedup onto the open incident, reopen within the window, else recur."""

from datetime import timedelta
from typing import Any

import pytest

from adapters.alerts.generic import parse_generic
from domain.alert import Alert, AlertOutcome, AlertRules, ImpactUrgency, Occurrences
from domain.errors import ValidationFailed
from domain.incident import Channel, Incident, IncidentState
from domain.service_desk import ServiceDesk
from tests.conftest import FakeClock

RULES = AlertRules(reopen_window=timedelta(hours=1))


def alert(**changes: Any) -> Alert:
    fields = {"source": "zabbix", "dedup_key": "db-01/disk", "service": "billing-db",
              "summary": "Disk 91% full on db-01", "severity": "critical",
              "fired_at": "2026-03-02T08:59:00Z", **changes}
    (parsed,) = parse_generic(fields)
    return parsed


def events_of(desk: ServiceDesk, number: str) -> list[Any]:
    return list(desk.events.get(desk.record_id(number)))


def test_a_new_key_opens_a_monitoring_incident_with_its_fingerprint(desk: ServiceDesk) -> None:
    result = desk.receive_alert(alert(), rules=RULES)

    assert result.outcome is AlertOutcome.OPENED
    assert result.incident is not None
    incident = desk.incident(result.incident)
    assert (incident.title, incident.service, incident.channel) == (
        "Disk 91% full on db-01", "billing-db", Channel.MONITORING)
    assert (incident.impact, incident.urgency, incident.priority.value) == (1, 1, "P1")
    assert incident.fingerprint == "disk <NUM>% full on <ID>"
    assert incident.alert_occurrences == 1
    assert {event.actor for event in events_of(desk, result.incident)} == {"monitor:zabbix"}


def test_repeats_of_an_open_incidents_key_add_occurrences_not_incidents(
        desk: ServiceDesk, clock: FakeClock) -> None:
    first = desk.receive_alert(alert(), rules=RULES)
    clock.advance(minutes=5)
    again = desk.receive_alert(alert(summary="Disk 93% full on db-01"), rules=RULES)
    batch = desk.receive_alert(alert(), rules=RULES, occurrences=Occurrences(
        40, clock.now, clock.advance(seconds=10)))

    assert again.outcome is batch.outcome is AlertOutcome.OCCURRED
    assert again.incident == batch.incident == first.incident
    assert first.incident is not None
    incident = desk.incident(first.incident)
    assert incident.alert_occurrences == 42
    recorded = [e for e in events_of(desk, first.incident)
                if isinstance(e, Incident.AlertOccurrencesRecorded)]
    assert [(e.count, e.last_at - e.first_at) for e in recorded][-1] == (
        40, timedelta(seconds=10))


def test_a_resolved_incident_reopens_within_the_window(desk: ServiceDesk,
                                                        clock: FakeClock) -> None:
    number = desk.receive_alert(alert(), rules=RULES).incident
    assert number is not None
    desk.resolve_incident(number, actor="bob", code="solution_provided", notes="Cleaned up")
    clock.advance(minutes=59)

    result = desk.receive_alert(alert(), rules=RULES)

    assert (result.outcome, result.incident) == (AlertOutcome.REOPENED, number)
    incident = desk.incident(number)
    assert (incident.state, incident.reopen_count, incident.alert_occurrences) == (
        IncidentState.IN_PROGRESS, 1, 2)
    reopened = next(e for e in events_of(desk, number) if isinstance(e, Incident.Reopened))
    assert reopened.actor == "monitor:zabbix"


@pytest.mark.parametrize("finish", ["resolve late", "close", "cancel"])
def test_after_the_window_or_a_final_state_a_new_incident_recurs(
        desk: ServiceDesk, clock: FakeClock, finish: str) -> None:
    previous = desk.receive_alert(alert(), rules=RULES).incident
    assert previous is not None
    if finish == "cancel":
        desk.cancel_incident(previous, actor="bob", reason="Logged twice")
    else:
        desk.resolve_incident(previous, actor="bob", code="solution_provided", notes="Done")
        if finish == "close":
            desk.close_incident(previous, actor="bob")
    clock.advance(minutes=61 if finish == "resolve late" else 1)

    result = desk.receive_alert(alert(), rules=RULES)

    assert result.outcome is AlertOutcome.RECURRED
    assert result.incident not in (None, previous)
    assert result.incident is not None
    new = desk.incident(result.incident)
    assert (new.recurrence_of_number, new.state, new.alert_occurrences) == (
        previous, IncidentState.NEW, 1)
    # The key now points to the new incident: the next repeat lands there.
    assert desk.receive_alert(alert(), rules=RULES).incident == result.incident


def test_a_resolved_alert_records_the_recovery_and_leaves_the_incident_open(
        desk: ServiceDesk, clock: FakeClock) -> None:
    number = desk.receive_alert(alert(), rules=RULES).incident
    assert number is not None
    clock.advance(minutes=3)

    result = desk.receive_alert(alert(status="resolved", fired_at="2026-03-02T09:02:00Z"),
                                rules=RULES)

    assert (result.outcome, result.incident) == (AlertOutcome.RECOVERED, number)
    incident = desk.incident(number)
    assert incident.state is IncidentState.NEW
    assert incident.alert_recovered_at is not None
    assert incident.alert_recovered_at.isoformat() == "2026-03-02T09:02:00+00:00"


def test_a_resolved_alert_without_an_incident_or_after_closure_changes_nothing(
        desk: ServiceDesk) -> None:
    assert desk.receive_alert(alert(status="resolved"), rules=RULES).outcome is (
        AlertOutcome.IGNORED)
    assert list(desk.recorder.select_notifications(1, 10)) == []
    number = desk.receive_alert(alert(), rules=RULES).incident
    assert number is not None
    desk.cancel_incident(number, actor="bob", reason="Noise")
    version = desk.incident(number).version

    result = desk.receive_alert(alert(status="resolved"), rules=RULES)

    assert (result.outcome, desk.incident(number).version) == (AlertOutcome.IGNORED, version)


def test_severity_maps_through_the_rules_and_unknown_severities_get_the_default(
        desk: ServiceDesk) -> None:
    rules = AlertRules(severities={"page": ImpactUrgency(impact=1, urgency=2)})
    paged = desk.receive_alert(alert(dedup_key="a", severity="PAGE"), rules=rules).incident
    odd = desk.receive_alert(alert(dedup_key="b", severity="whatever"), rules=rules).incident
    assert paged is not None
    assert odd is not None

    assert desk.incident(paged).priority.value == "P2"
    assert (desk.incident(odd).impact, desk.incident(odd).urgency) == (3, 2)


def test_different_sources_with_the_same_key_are_different_alerts(desk: ServiceDesk) -> None:
    one = desk.receive_alert(alert(source="zabbix"), rules=RULES).incident
    two = desk.receive_alert(alert(source="nagios"), rules=RULES).incident
    assert one != two


@pytest.mark.parametrize(("change", "field"), [
    ({"service": " "}, "service"),
    ({"fired_at": "2026-03-02T09:00:00"}, "fired_at"),
    ({"status": "open"}, "status"),
    ({"dedup_key": ""}, "dedup_key"),
    ({"colour": "red"}, "colour"),
])
def test_an_invalid_generic_alert_names_its_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_generic({"alerts": [{"source": "z", "dedup_key": "k", "service": "s",
                                   "summary": "x", "fired_at": "2026-03-02T09:00:00Z",
                                   **change}]})
    assert refused.value.field == f"alerts[0].{field}"


def test_an_incident_with_hundreds_of_alert_events_still_routes_from_its_snapshots(
        desk: ServiceDesk, clock: FakeClock) -> None:
    number = desk.receive_alert(alert(), rules=RULES).incident
    assert number is not None
    for _ in range(250):  # snapshots at versions 100 and 200
        clock.advance(seconds=10)
        desk.receive_alert(alert(), rules=RULES)
    desk.resolve_incident(number, actor="bob", code="solution_provided", notes="Cleaned up")
    clock.advance(minutes=10)

    assert desk.receive_alert(alert(), rules=RULES).outcome is AlertOutcome.REOPENED
    incident = desk.incident(number)
    assert (incident.alert_occurrences, incident.version, incident.state.value) == (
        252, 256, "in_progress")
