"""A snapshot written by an earlier version of the code still loads, with today's attributes."""

from typing import Any

from eventsourcing.domain import Snapshot

from domain.aggregate import Stamp
from domain.incident import Incident
from domain.service_desk import ServiceDesk
from domain.sla import Target

ADDED_IN_V2 = {"sla_alerts": [], "alert_source": None, "alert_dedup_key": None,
               "fingerprint": None, "recurrence_of": None, "recurrence_of_number": None,
               "alert_occurrences": 0, "alert_recovered_at": None}


def version_1_snapshot(incident: Incident) -> Snapshot:
    """The snapshot as the code before SLA clocks and alert intake would have taken it."""
    current = Snapshot.take(incident)
    state: dict[str, Any] = {key: value for key, value in current.state.items()
                             if key not in ADDED_IN_V2 and key != "class_version"}
    return Snapshot(originator_id=current.originator_id,
                    originator_version=current.originator_version,
                    timestamp=current.timestamp, topic=current.topic, state=state)


def test_a_version_1_snapshot_loads_with_the_new_attributes_defaulted(desk: ServiceDesk) -> None:
    incident = desk.open_incident(actor="kim", title="VPN down", service="vpn")
    desk.assign_incident(incident.number, actor="kim", group="network")
    assert desk.snapshots is not None
    desk.snapshots.put([version_1_snapshot(desk.incident(incident.number))])

    loaded = desk.repository.get(incident.id)

    assert loaded.assignment_group == "network"
    assert {key: getattr(loaded, key) for key in ADDED_IN_V2} == ADDED_IN_V2
    assert Snapshot.take(loaded).state["class_version"] == Incident.class_version


def test_an_sla_breach_is_recorded_on_an_incident_loaded_from_an_old_snapshot(
        desk: ServiceDesk) -> None:
    incident = desk.open_incident(actor="kim", title="VPN down", service="vpn")
    assert desk.snapshots is not None
    desk.snapshots.put([version_1_snapshot(desk.incident(incident.number))])
    loaded = desk.repository.get(incident.id)

    monitor = Stamp(actor="system:sla-monitor", at=desk.clock())
    assert loaded.record_sla_breach(target=Target.RESPONSE, due_at=desk.clock(),
                                    escalate_to=None, stamp=monitor)
    assert loaded.sla_alerts == ["response:100"]

