"""The intake: a storm of repeats becomes one occurrence event per incident per interval."""

from collections import Counter
from typing import Any

import pytest

from adapters.alerts.generic import parse_generic
from adapters.alerts.intake import AlertIntake
from adapters.alerts.settings import AlertSettings
from domain.alert import Alert, AlertOutcome
from domain.incident import Incident
from domain.service_desk import ServiceDesk
from tests.conftest import FakeClock

KEYS = 50
STORM = 10_000


def alert(key: int, **changes: Any) -> Alert:
    (parsed,) = parse_generic({"source": "zabbix", "dedup_key": f"node-{key}/cpu",
                               "service": f"service-{key % 7}",
                               "summary": f"CPU above 95% on node-{key}",
                               "fired_at": "2026-03-02T08:00:00Z", **changes})
    return parsed


def occurrence_events(desk: ServiceDesk) -> list[Any]:
    return [event for notification in desk.recorder.select_notifications(1, 1_000_000)
            if isinstance(event := desk.mapper.to_domain_event(notification),
                          Incident.AlertOccurrencesRecorded)]


def test_a_storm_of_10000_alerts_over_50_keys_opens_50_incidents_with_exact_counts(
        desk: ServiceDesk, clock: FakeClock) -> None:
    intake = AlertIntake(desk, settings=AlertSettings(flush_interval_seconds=10), clock=clock)
    sent: Counter[str] = Counter()
    numbers: dict[str, str] = {}
    for index in range(STORM):
        key = (index * 7) % KEYS  # every key, interleaved
        (result,) = intake.receive([alert(key)])
        assert result.incident is not None
        numbers.setdefault(f"node-{key}/cpu", result.incident)
        sent[f"node-{key}/cpu"] += 1
        if index % 100 == 99:
            clock.advance(seconds=1)  # a 100 s storm: ten flush intervals
    intake.close()

    assert len(set(numbers.values())) == KEYS
    for key, number in numbers.items():
        assert desk.incident(number).alert_occurrences == sent[key]
    assert sum(desk.incident(n).alert_occurrences for n in numbers.values()) == STORM
    # One write per key when it opens, then at most one per key per interval (and the close).
    assert len(occurrence_events(desk)) <= KEYS * (1 + 10 + 1)
    assert intake.pending == 0


def test_repeats_wait_for_the_interval_then_are_written_as_one_event(
        desk: ServiceDesk, clock: FakeClock) -> None:
    intake = AlertIntake(desk, settings=AlertSettings(flush_interval_seconds=10), clock=clock)
    (opened,) = intake.receive([alert(1)])
    first = clock.advance(seconds=1)
    repeats = intake.receive([alert(1)] * 5)
    clock.advance(seconds=3)
    intake.receive([alert(1)] * 3)

    assert opened.outcome is AlertOutcome.OPENED
    assert {r.outcome for r in repeats} == {AlertOutcome.ACCUMULATED}
    assert opened.incident is not None
    assert desk.incident(opened.incident).alert_occurrences == 1
    assert intake.pending == 8

    last = clock.now
    clock.advance(seconds=6)
    assert intake.tick() == 1

    incident = desk.incident(opened.incident)
    assert incident.alert_occurrences == 9
    batch = occurrence_events(desk)[-1]
    assert (batch.count, batch.first_at, batch.last_at) == (8, first, last)
    assert intake.tick() == 0


def test_the_size_bound_flushes_before_the_interval(desk: ServiceDesk,
                                                    clock: FakeClock) -> None:
    intake = AlertIntake(desk, settings=AlertSettings(flush_size=4), clock=clock)
    (opened,) = intake.receive([alert(1)])
    intake.receive([alert(1)] * 4)
    assert opened.incident is not None
    assert desk.incident(opened.incident).alert_occurrences == 5
    assert intake.pending == 0


def test_a_recovery_writes_the_keys_pending_repeats_first(desk: ServiceDesk,
                                                          clock: FakeClock) -> None:
    intake = AlertIntake(desk, settings=AlertSettings(), clock=clock)
    (opened,) = intake.receive([alert(1)])
    intake.receive([alert(1)] * 3 + [alert(2)])
    clock.advance(seconds=1)
    (recovered,) = intake.receive([alert(1, status="resolved")])

    assert recovered.outcome is AlertOutcome.RECOVERED
    assert opened.incident is not None
    events = list(desk.events.get(desk.record_id(opened.incident)))
    assert [type(e).__name__ for e in events[-2:]] == ["AlertOccurrencesRecorded",
                                                        "AlertRecovered"]
    assert desk.incident(opened.incident).alert_occurrences == 4
    assert intake.pending == 0  # alert 2's first alert was routed at once, nothing waits


def test_repeats_after_the_incident_was_resolved_reopen_it_at_the_flush(
        desk: ServiceDesk, clock: FakeClock) -> None:
    intake = AlertIntake(desk, settings=AlertSettings(reopen_window_minutes=60), clock=clock)
    (opened,) = intake.receive([alert(1)])
    assert opened.incident is not None
    desk.resolve_incident(opened.incident, actor="bob", code="solution_provided", notes="ok")
    clock.advance(minutes=5)
    intake.receive([alert(1)] * 2)
    intake.close()

    incident = desk.incident(opened.incident)
    assert (incident.state.value, incident.alert_occurrences) == ("in_progress", 3)


def test_a_failed_flush_keeps_the_repeats_pending(desk: ServiceDesk, clock: FakeClock,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    intake = AlertIntake(desk, settings=AlertSettings(), clock=clock)
    (opened,) = intake.receive([alert(1)])
    intake.receive([alert(1)] * 3)

    def unavailable(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("store unavailable")

    monkeypatch.setattr(desk, "receive_alert_repeats", unavailable)
    with pytest.raises(ConnectionError):
        intake.close()
    assert intake.pending == 3
    monkeypatch.undo()
    clock.advance(seconds=1)
    intake.close()
    assert opened.incident is not None
    assert desk.incident(opened.incident).alert_occurrences == 4


def test_a_flush_failing_halfway_keeps_only_the_unwritten_pending(
        desk: ServiceDesk, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    intake = AlertIntake(desk, settings=AlertSettings(), clock=clock)
    (open_one,) = intake.receive([alert(1)])
    (resolved_one,) = intake.receive([alert(2)])
    assert open_one.incident is not None
    assert resolved_one.incident is not None
    desk.resolve_incident(resolved_one.incident, actor="bob", code="solution_provided",
                          notes="ok")
    intake.receive([alert(1)] * 3 + [alert(2)] * 2)

    def unavailable(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("store unavailable")

    monkeypatch.setattr(desk, "receive_alert", unavailable)  # the reopening fails
    with pytest.raises(ConnectionError):
        intake.close()
    assert desk.incident(open_one.incident).alert_occurrences == 4  # batched, written
    assert intake.pending == 2
    monkeypatch.undo()
    intake.close()
    assert desk.incident(open_one.incident).alert_occurrences == 4
    assert desk.incident(resolved_one.incident).alert_occurrences == 3


def test_the_interval_is_configurable(desk: ServiceDesk, clock: FakeClock) -> None:
    intake = AlertIntake(desk, settings=AlertSettings(flush_interval_seconds=2), clock=clock)
    intake.receive([alert(1), alert(1)])
    clock.advance(seconds=1)
    assert intake.tick() == 0
    clock.advance(seconds=1)
    assert intake.tick() == 1
