"""Long histories on real stores: snapshots every 100 versions, as-of reads through them."""

from datetime import timedelta

from adapters.audit.history import state_as_of
from adapters.bootstrap import open_service_desk
from adapters.views import incident_view, problem_view
from domain.aggregate import AuditedAggregate
from domain.problem import Problem
from domain.service_desk import SNAPSHOT_INTERVAL
from tests.conftest import FakeClock


def _replayed(desk: object, record_id: object, version: int) -> AuditedAggregate:
    """The record rebuilt from its events alone, without any snapshot."""
    record = None
    for event in desk.events.get(record_id, lte=version):  # type: ignore[attr-defined]
        record = event.mutate(record)
    assert isinstance(record, AuditedAggregate)
    return record


def test_snapshots_round_trip_through_the_codec_and_serve_as_of_reads(store_url: str) -> None:
    clock = FakeClock()
    desk = open_service_desk(store_url, clock=clock)
    incidents = [desk.open_incident(actor="sd", title=f"Disk {n} full", service="files").number
                 for n in range(3)]
    problem = desk.open_problem(actor="pat", title="Disks fill up", incidents=incidents[:2])
    for n in range(2 * SNAPSHOT_INTERVAL + 20):
        clock.advance(minutes=1)
        if n % 50 == 10:
            desk.unlink_incident(problem.number, incidents[n % 2], actor="pat")
        elif n % 50 == 20:
            desk.link_incident(problem.number, incidents[n % 2], actor="pat")
        else:
            desk.add_problem_note(problem.number, actor="pat", text=f"note {n}")
    for n in range(SNAPSHOT_INTERVAL + 5):
        clock.advance(seconds=7)
        desk.add_incident_note(incidents[2], actor="bob", text=f"note {n}")

    assert desk.snapshots is not None
    snapshots = list(desk.snapshots.get(problem.id))
    assert [s.originator_version for s in snapshots] == [100, 200]
    # A fresh process loads from the latest snapshot: Problem.incidents has UUID keys, the
    # incident's work notes hold datetimes; both must come back exactly.
    fresh = open_service_desk(store_url)
    loaded = fresh.problem(problem.number)
    assert vars(loaded) == vars(_replayed(fresh, problem.id, loaded.version))
    assert all(isinstance(key, type(problem.id)) for key in loaded.incidents)
    incident = fresh.incident(incidents[2])
    assert vars(incident) == vars(_replayed(fresh, incident.id, incident.version))

    for version in (3, 99, 100, 101, 150, 200, 223):  # opened and 2 links share version 1's time
        event = next(iter(fresh.events.get(problem.id, gt=version - 1, lte=version)))
        expected = problem_view(_replayed(fresh, problem.id, version))  # type: ignore[arg-type]
        assert state_as_of(fresh, problem.number, event.timestamp) == expected
        later = event.timestamp + timedelta(seconds=30)
        assert state_as_of(fresh, problem.number, later) == expected
    last = fresh.incident(incidents[2])
    assert state_as_of(fresh, incidents[2], clock.now + timedelta(days=1)) == incident_view(last)
    assert isinstance(loaded, Problem)
