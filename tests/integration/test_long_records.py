"""Records longer than the snapshot interval, per backend: a command decides on the latest
state whether its desk loads the record from a snapshot or holds it from an earlier command,
and a view gone stale meanwhile never writes over another desk's change."""

from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import pytest
from eventsourcing.application import Repository

from adapters.audit.verify import verify_record
from adapters.bootstrap import open_service_desk
from domain.errors import Conflict, IllegalTransition
from domain.incident import Incident, IncidentState
from domain.service_desk import SNAPSHOT_INTERVAL, ServiceDesk

NOTES = 2 * SNAPSHOT_INTERVAL + 50
"""Past two snapshots, with events after the last."""


def _long_incident(store_url: str) -> str:
    """An incident of NOTES + 1 events; the notes are saved at once (quicker than commands)."""
    desk = open_service_desk(store_url)
    incident = desk.open_incident(actor="monitor:zabbix", title="Core switch flapping",
                                  service="network")
    for n in range(NOTES):
        incident.add_note(text=f"flap {n}", stamp=desk._stamp("monitor:zabbix"))
    desk.save(incident)
    desk.close()
    return incident.number


def _replayed(store_url: str, record_id: UUID) -> Incident:
    """The record from all its events, by a desk that holds nothing."""
    desk = open_service_desk(store_url)
    replayed = Repository(event_store=desk.events).get(record_id)
    desk.close()
    assert isinstance(replayed, Incident)
    return replayed


def _holding(store_url: str, number: str, actor: str) -> ServiceDesk:
    """A desk that has run a command on the record, so holds it."""
    desk = open_service_desk(store_url)
    desk.add_incident_note(number, actor=actor, text="Watching")
    return desk


def test_commands_on_a_long_record_decide_on_its_latest_state(store_url: str) -> None:
    number = _long_incident(store_url)
    desk = open_service_desk(store_url)
    record_id = desk.record_id(number)
    assert desk.snapshots is not None
    snapshot = next(iter(desk.snapshots.get(record_id, desc=True, limit=1)))
    assert snapshot.originator_version == 2 * SNAPSHOT_INTERVAL

    first = desk.add_incident_note(number, actor="ann", text="from the snapshot")
    second = desk.add_incident_note(number, actor="ann", text="from the held state")

    assert (first.version, second.version) == (NOTES + 2, NOTES + 3)
    assert second == _replayed(store_url, record_id)
    assert [note["text"] for note in second.notes[-3:]] == [
        f"flap {NOTES - 1}", "from the snapshot", "from the held state"]
    assert verify_record(desk, number).ok


def test_a_desk_holding_a_record_decides_on_another_desks_later_change(store_url: str) -> None:
    number = _long_incident(store_url)
    ann, bob = _holding(store_url, number, "ann"), _holding(store_url, number, "bob")

    ann.resolve_incident(number, actor="ann", code="solution_provided", notes="Rebooted")

    with pytest.raises(IllegalTransition, match="resolved"):
        bob.put_incident_on_hold(number, actor="bob", reason="awaiting_vendor")
    noted = bob.add_incident_note(number, actor="bob", text="Flapping stopped")
    assert noted.state is IncidentState.RESOLVED
    assert noted == _replayed(store_url, noted.id)
    assert verify_record(bob, number).ok


@pytest.mark.parametrize("loaded", ["from a snapshot", "held"])
def test_a_stale_view_never_writes_over_a_concurrent_change(store_url: str,
                                                            loaded: str) -> None:
    number = _long_incident(store_url)
    ann = _holding(store_url, number, "ann")
    bob = _holding(store_url, number, "bob") if loaded == "held" else open_service_desk(store_url)
    bobs_view = bob.incident(number)

    ann.assign_incident(number, actor="ann", group="network", assignee="ann")
    bobs_view.assign(group="facilities", assignee="bob", stamp=bob._stamp("bob"))
    with pytest.raises(Conflict, match=f"{number} changed while this command ran"):
        bob._save(bobs_view)
    version = ann.incident(number).version
    with pytest.raises(Conflict, match=f"is at version {version}, not {version - 1}"):
        bob.add_incident_note(number, actor="bob", text="late", expected_version=version - 1)

    latest = bob.assign_incident(number, actor="bob", group="facilities", assignee="bob")
    assert latest.version == version + 1
    assert latest == _replayed(store_url, latest.id)
    history = list(bob.events.get(latest.id, gt=version - 1))
    assert [event.assignee for event in history] == ["ann", "bob"]  # type: ignore[attr-defined]
    assert verify_record(bob, number).ok


def test_threads_of_one_desk_lose_no_note_on_a_long_record(store_url: str) -> None:
    number = _long_incident(store_url)
    desk = _holding(store_url, number, "ann")
    start = desk.incident(number).version

    def add_notes(thread: int) -> None:
        for n in range(10):
            while True:
                try:
                    desk.add_incident_note(number, actor=f"t{thread}", text=f"{thread}.{n}")
                    break
                except Conflict:
                    continue

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(add_notes, range(4)))

    incident = desk.incident(number)
    assert incident.version == start + 40
    assert incident == _replayed(store_url, incident.id)
    assert verify_record(desk, number).ok
