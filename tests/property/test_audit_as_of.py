"""State as of a moment: for every event, the state as of its time is the state at its version.

Random command sequences (refused ones included) under an injected clock that may stand still
or even run backwards, which `_trigger` clamps: event times never decrease within a record.
"""

from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.audit import history as history_module
from adapters.audit.history import history, state_as_of
from adapters.bootstrap import open_service_desk
from adapters.views import incident_view, problem_view
from domain.errors import DomainError, ValidationFailed
from domain.service_desk import ServiceDesk
from tests.conftest import FakeClock

Step = Callable[[ServiceDesk, str], Any]

INCIDENT_STEPS: list[Step] = [
    lambda desk, ref: desk.assign_incident(ref, actor="sd", group="messaging"),
    lambda desk, ref: desk.escalate_incident(ref, actor="bob", kind="functional",
                                             to="network", reason="routing"),
    lambda desk, ref: desk.add_incident_note(ref, actor="bob", text="looking"),
    lambda desk, ref: desk.put_incident_on_hold(ref, actor="bob", reason="awaiting_caller"),
    lambda desk, ref: desk.resume_incident(ref, actor="bob"),
    lambda desk, ref: desk.prioritize_incident(ref, actor="sd", impact=1, urgency=2),
    lambda desk, ref: desk.categorize_incident(ref, actor="sd", category="email"),
    lambda desk, ref: desk.resolve_incident(ref, actor="bob", code="solution_provided",
                                            notes="fixed"),
    lambda desk, ref: desk.reopen_incident(ref, actor="carol", reason="back again"),
    lambda desk, ref: desk.close_incident(ref, actor="carol"),
]
PROBLEM_STEPS: list[Step] = [
    lambda desk, ref: desk.add_problem_note(ref, actor="pat", text="reading logs"),
    lambda desk, ref: desk.identify_root_cause(ref, actor="pat", text="cert cache"),
    lambda desk, ref: desk.record_known_error(ref, actor="pat", workaround="restart"),
    lambda desk, ref: desk.link_incident(ref, "INC0000001", actor="pat"),
    lambda desk, ref: desk.unlink_incident(ref, "INC0000001", actor="pat"),
    lambda desk, ref: desk.request_change(ref, actor="pat", change_ref="CHG1"),
]
Timed = st.tuples(st.integers(min_value=-120, max_value=600), st.integers(min_value=0, max_value=9))


def _play(steps: list[tuple[int, int]], kind: str) -> tuple[ServiceDesk, str]:
    clock = FakeClock()
    desk = open_service_desk("memory://", clock=clock)
    ref = desk.open_incident(actor="carol", title="Mail delayed", service="email").number
    if kind == "problem":
        ref = desk.open_problem(actor="pat", title="Relays stall").number
    moves = INCIDENT_STEPS if kind == "incident" else PROBLEM_STEPS
    for seconds, index in steps:
        clock.advance(seconds=seconds)  # 0: same time; negative: a clock set back
        with suppress(DomainError):  # refused: nothing written, the property still holds
            moves[index % len(moves)](desk, ref)
    return desk, ref


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(Timed, max_size=30), kind=st.sampled_from(["incident", "problem"]),
       stretch=st.sampled_from([1, 4, history_module.FINAL_STRETCH]))
def test_the_state_as_of_each_event_time_is_the_state_at_that_version(
        steps: list[tuple[int, int]], kind: str, stretch: int) -> None:
    with patch.object(history_module, "FINAL_STRETCH", stretch):  # binary search, or one read
        _check_every_event_time(*_play(steps, kind), kind)


def _check_every_event_time(desk: ServiceDesk, ref: str, kind: str) -> None:
    view = incident_view if kind == "incident" else problem_view
    record = desk.incident(ref) if kind == "incident" else desk.problem(ref)
    events = list(desk.events.get(record.id))
    times = [event.timestamp for event in events]
    assert times == sorted(times)

    for event in events:
        # Several events can share a time: as of it, the last of them has happened.
        version = max(e.originator_version for e in events if e.timestamp == event.timestamp)
        expected = view(desk.repository.get(record.id, version=version))  # type: ignore[arg-type]
        assert state_as_of(desk, ref, event.timestamp) == expected
        between = event.timestamp + timedelta(microseconds=1)
        if version == events[-1].originator_version or between < times[version]:
            assert state_as_of(desk, ref, between) == expected
        assert [e["version"] for e in history(desk, ref, as_of=event.timestamp)] == list(
            range(1, version + 1))

    with pytest.raises(ValidationFailed, match=f"{ref} did not exist yet"):
        state_as_of(desk, ref, times[0] - timedelta(microseconds=1))
