"""Records held for commands: copies independent of their originals, and a bounded memory."""

from collections.abc import Iterator
from copy import deepcopy
from typing import Any
from uuid import UUID

import pytest

from adapters.alerts.generic import parse_generic
from domain.aggregate import AuditedAggregate
from domain.alert import Alert
from domain.incident import Incident
from domain.problem import Problem
from domain.records import BASE_WEIGHT, Records
from domain.service_desk import ServiceDesk
from tests.conftest import FakeClock


def _alert(**changes: Any) -> Alert:
    (parsed,) = parse_generic({"source": "zabbix", "dedup_key": "node-1/cpu", "service": "s",
                               "summary": "CPU above 95% on node-1",
                               "fired_at": "2026-03-02T08:00:00Z", **changes})
    return parsed


def _every_kind_of_event(desk: ServiceDesk, clock: FakeClock) -> list[UUID]:
    """Records whose histories hold every event class of Incident and Problem."""
    inc = desk.open_incident(actor="sd", title="Mail down", service="email").number
    desk.categorize_incident(inc, actor="sd", category="email")
    desk.prioritize_incident(inc, actor="sd", impact=1, urgency=1)
    desk.assign_incident(inc, actor="sd", group="messaging", assignee="ann")
    desk.escalate_incident(inc, actor="ann", kind="hierarchical", to="cio", reason="site down")
    desk.escalate_incident(inc, actor="ann", kind="functional", to="mail-l3", reason="tools")
    desk.put_incident_on_hold(inc, actor="ann", reason="awaiting_vendor")
    desk.resume_incident(inc, actor="ann")
    desk.add_incident_note(inc, actor="ann", text="Relay 2 backlog")
    desk.apply_workaround(inc, actor="ann", text="Route through relay 1")
    desk.record_sla_warning(inc, actor="sla", target="resolution", threshold=50,
                            reached_at=clock(), due_at=clock.advance(hours=1))
    desk.record_sla_breach(inc, actor="sla", target="resolution", due_at=clock(),
                           escalate_to="cio")
    prb = desk.open_problem(actor="pat", title="Relay backlog", incidents=[inc]).number
    desk.unlink_incident(prb, inc, actor="pat")
    desk.resolve_incident(inc, actor="ann", code="solution_provided", notes="Restarted")
    desk.reopen_incident(inc, actor="carol", reason="Back again")
    desk.resolve_incident(inc, actor="ann", code="solution_provided", notes="Replaced")
    desk.close_incident(inc, actor="carol")
    canceled = desk.open_incident(actor="sd", title="Duplicate", service="email").number
    desk.cancel_incident(canceled, actor="sd", reason="duplicate")
    alerted = desk.receive_alert(_alert()).incident
    desk.receive_alert(_alert(status="resolved"))
    desk.add_problem_note(prb, actor="pat", text="Queue grows at 9:00")
    desk.identify_root_cause(prb, actor="pat", text="Relay disk too small")
    desk.record_known_error(prb, actor="pat", workaround="Route through relay 1")
    desk.request_change(prb, actor="pat", change_ref="CHG0001")
    desk.resolve_problem(prb, actor="pat", notes="Disk replaced")
    desk.close_problem(prb, actor="pat")
    dropped = desk.open_problem(actor="pat", title="Not a problem").number
    desk.cancel_problem(dropped, actor="pat", reason="noise")
    refs = [inc, canceled, prb, dropped, alerted]
    return [desk.record_id(ref) for ref in refs if ref is not None]


def _event_classes(kind: type[AuditedAggregate]) -> Iterator[type[Any]]:
    """Its own event classes, but the bases eventsourcing defines on every aggregate."""
    for value in vars(kind).values():
        if (isinstance(value, type) and issubclass(value, AuditedAggregate.Event)
                and value not in (kind.Event, kind.Created)):
            yield value


def test_no_event_applied_to_a_copy_changes_its_original(desk: ServiceDesk,
                                                         clock: FakeClock) -> None:
    applied: set[type[Any]] = set()
    for record_id in _every_kind_of_event(desk, clock):
        events = list(desk.events.get(record_id))
        state: Any = events[0].mutate(None)  # type: ignore[attr-defined]
        for event in events[1:]:
            before, twin = deepcopy(state), state.copy()
            event.mutate(twin)  # type: ignore[attr-defined]
            assert state == before, type(event).__qualname__
            state = twin
            applied.add(type(event))
        applied.add(type(events[0]))
    assert applied == {*_event_classes(Incident), *_event_classes(Problem)}


def test_a_change_to_the_original_never_reaches_its_copy(desk: ServiceDesk) -> None:
    incident = desk.open_incident(actor="sd", title="Mail down", service="email")
    desk.add_incident_note(incident.number, actor="sd", text="first")
    original = desk.incident(incident.number)
    twin = original.copy()

    original.add_note(text="second", stamp=desk._stamp("sd"))

    assert [note["text"] for note in twin.notes] == ["first"]
    assert (twin.version, twin.pending_events) == (2, [])


def _records(desk: ServiceDesk, budget: int) -> Records:
    return Records(desk.events, desk.repository, kinds=(Incident, Problem),
                   snapshot_interval=100, budget=budget)


def _full_reads(desk: ServiceDesk, monkeypatch: pytest.MonkeyPatch) -> list[UUID]:
    """The ids of every read of a record from its first event (not held: loaded afresh)."""
    reads: list[UUID] = []
    select = desk.recorder.select_events

    def spy(originator_id: UUID, **kwargs: Any) -> Any:
        if kwargs.get("gt") is None:
            reads.append(originator_id)
        return select(originator_id, **kwargs)

    monkeypatch.setattr(desk.recorder, "select_events", spy)
    return reads


def test_the_least_recently_used_records_are_let_go_past_the_budget(
        desk: ServiceDesk, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [desk.open_incident(actor="sd", title=f"t{n}", service="s").id for n in range(3)]
    records = _records(desk, budget=2 * (1 + BASE_WEIGHT))  # two records of one event
    reads = _full_reads(desk, monkeypatch)

    for record_id in [ids[0], ids[1], ids[0], ids[2], ids[0], ids[1]]:
        assert records.get(record_id).id == record_id

    assert reads == [ids[0], ids[1], ids[2], ids[1]]


def test_a_record_heavier_than_the_budget_is_never_held(
        desk: ServiceDesk, monkeypatch: pytest.MonkeyPatch) -> None:
    number = desk.open_incident(actor="sd", title="Mail down", service="email").number
    desk.add_incident_note(number, actor="sd", text="one")
    record_id = desk.record_id(number)
    records = _records(desk, budget=1 + BASE_WEIGHT)
    reads = _full_reads(desk, monkeypatch)

    assert records.get(record_id).version == records.get(record_id).version == 2
    assert reads == [record_id, record_id]
