"""Problem rules: links, known errors, and resolution cascading to incidents."""

import pytest

from domain.errors import IllegalTransition, Refused
from domain.incident import IncidentState, ResolutionCode
from domain.problem import LIFECYCLE, ProblemState
from domain.service_desk import ServiceDesk

P = ProblemState


def _incident(desk: ServiceDesk, title: str = "Mail queue stuck") -> str:
    return desk.open_incident(actor="monitor:prometheus", title=title, service="email").number


def test_opening_from_incidents_links_both_sides_in_one_save(desk: ServiceDesk) -> None:
    first, second = _incident(desk), _incident(desk)
    before = len(desk.recorder.select_notifications(start=1, limit=100))
    problem = desk.open_problem(actor="pat", title="Relay stalls", incidents=[first, second])

    assert list(problem.incidents.values()) == [first, second]
    assert desk.incident(first).problem_number == problem.number
    written = desk.recorder.select_notifications(start=before + 1, limit=100)
    # PRB sequence started and number issued, problem opened, 2 links on each side.
    assert len(written) == 7


def test_an_incident_belongs_to_one_problem_at_a_time(desk: ServiceDesk) -> None:
    number = _incident(desk)
    first = desk.open_problem(actor="pat", title="Relay stalls", incidents=[number])
    second = desk.open_problem(actor="pat", title="Firewall drops TLS")
    before = len(desk.recorder.select_notifications(start=1, limit=100))

    with pytest.raises(Refused, match=f"already linked to {first.number}"):
        desk.link_incident(second.number, number, actor="pat")
    assert len(desk.recorder.select_notifications(start=1, limit=100)) == before

    desk.unlink_incident(first.number, number, actor="pat")
    desk.link_incident(second.number, number, actor="pat")
    assert desk.incident(number).problem_number == second.number
    assert desk.problem(first.number).incidents == {}


def test_unlinking_an_incident_that_is_not_linked_is_refused(desk: ServiceDesk) -> None:
    problem = desk.open_problem(actor="pat", title="Relay stalls")
    with pytest.raises(Refused, match="is not linked"):
        desk.unlink_incident(problem.number, _incident(desk), actor="pat")


def test_investigation_moves_through_the_states(desk: ServiceDesk) -> None:
    number = desk.open_problem(actor="pat", title="Relay stalls").number
    assert desk.add_problem_note(number, actor="pat", text="began Monday").state is P.ASSESSING
    assert desk.identify_root_cause(number, actor="pat", text="TLS cache").state is (
        P.ROOT_CAUSE_ANALYSIS)
    known = desk.record_known_error(number, actor="pat", workaround="restart tlsmgr")
    assert (known.state, known.known_error, known.workaround) == (
        P.ROOT_CAUSE_ANALYSIS, True, "restart tlsmgr")
    assert desk.request_change(number, actor="pat", change_ref="CHG0001").state is (
        P.FIX_IN_PROGRESS)
    assert desk.resolve_problem(number, actor="pat", notes="patched").state is P.RESOLVED
    assert desk.close_problem(number, actor="pat").state is P.CLOSED


@pytest.mark.parametrize("state", [P.RESOLVED, P.CLOSED, P.CANCELED])
def test_finished_problems_refuse_investigation(desk: ServiceDesk, state: ProblemState) -> None:
    number = desk.open_problem(actor="pat", title="Relay stalls").number
    if state is P.CANCELED:
        desk.cancel_problem(number, actor="pat", reason="duplicate")
    else:
        desk.add_problem_note(number, actor="pat", text="x")
        desk.resolve_problem(number, actor="pat", notes="gone")
        if state is P.CLOSED:
            desk.close_problem(number, actor="pat")
    with pytest.raises(IllegalTransition, match=f"{number} is {state.value}: cannot add a note"):
        desk.add_problem_note(number, actor="pat", text="more")
    assert "add a note" in LIFECYCLE


def test_resolving_with_incidents_resolves_only_the_open_ones(desk: ServiceDesk) -> None:
    waiting, working, done = _incident(desk), _incident(desk), _incident(desk)
    desk.assign_incident(waiting, actor="sd", group="messaging")
    desk.put_incident_on_hold(waiting, actor="sd", reason="awaiting_problem")
    desk.assign_incident(done, actor="sd", group="messaging")
    desk.resolve_incident(done, actor="sd", code="workaround_provided", notes="flushed")
    problem = desk.open_problem(actor="pat", title="Relay stalls",
                                incidents=[waiting, working, done])
    desk.add_problem_note(problem.number, actor="pat", text="found it")

    desk.resolve_problem(problem.number, actor="pat", notes="cache enlarged",
                         resolve_linked_incidents=True)

    for number in (waiting, working):
        incident = desk.incident(number)
        assert incident.state is IncidentState.RESOLVED
        assert incident.resolution_code is ResolutionCode.RESOLVED_BY_PROBLEM
        resolved = list(desk.events.get(incident.id))[-1]
        assert resolved.problem == problem.id  # type: ignore[attr-defined]
        assert resolved.actor == "pat"  # type: ignore[attr-defined]
    assert desk.incident(done).resolution_code is ResolutionCode.WORKAROUND_PROVIDED


def test_a_refused_cascade_writes_nothing(desk: ServiceDesk) -> None:
    problem = desk.open_problem(actor="pat", title="Relay stalls", incidents=[_incident(desk)])
    before = len(desk.recorder.select_notifications(start=1, limit=100))
    with pytest.raises(IllegalTransition, match="is new: cannot resolve"):
        desk.resolve_problem(problem.number, actor="pat", notes="x",
                             resolve_linked_incidents=True)
    assert len(desk.recorder.select_notifications(start=1, limit=100)) == before


def test_workarounds_reference_known_errors_only(desk: ServiceDesk) -> None:
    number = _incident(desk)
    problem = desk.open_problem(actor="pat", title="Relay stalls")
    with pytest.raises(Refused, match="has no known error"):
        desk.apply_workaround(number, actor="sd", text="restart", known_error=problem.number)

    desk.record_known_error(problem.number, actor="pat", workaround="restart tlsmgr")
    applied = desk.apply_workaround(number, actor="sd", text="restarted tlsmgr",
                                    known_error=problem.number)
    assert applied.known_error == problem.id
