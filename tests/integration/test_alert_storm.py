"""An alert storm through two intake processes at once: one incident per key, exact counts."""

import threading
from collections import Counter

from adapters.alerts.generic import parse_generic
from adapters.alerts.intake import AlertIntake
from adapters.alerts.settings import AlertSettings
from adapters.bootstrap import open_service_desk
from domain.alert import Alert
from tests.conftest import FakeClock

KEYS = 50
PER_PROCESS = 5_000


def alerts_for(process: int) -> list[Alert]:
    templates = [parse_generic({"source": "prometheus", "dedup_key": f"api-{key}/latency",
                                "service": "api", "summary": f"p99 latency above 2s on api-{key}",
                                "severity": "error", "fired_at": "2026-03-02T08:00:00Z"})[0]
                 for key in range(KEYS)]
    return [templates[(index * (3 + process * 4)) % KEYS] for index in range(PER_PROCESS)]


def test_two_intakes_in_a_storm_open_one_incident_per_key_and_count_every_alert(
        store_url: str) -> None:
    open_service_desk(store_url).close()  # the schema exists before the processes start
    numbers: dict[str, set[str]] = {}
    sent: Counter[str] = Counter()
    lock = threading.Lock()
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def process(index: int) -> None:
        clock = FakeClock()
        desk = open_service_desk(store_url, clock=clock)
        intake = AlertIntake(desk, settings=AlertSettings(flush_interval_seconds=10),
                             clock=clock)
        try:
            start.wait()
            for count, alert in enumerate(alerts_for(index), start=1):
                (result,) = intake.receive([alert])
                with lock:
                    numbers.setdefault(alert.dedup_key, set()).add(str(result.incident))
                    sent[alert.dedup_key] += 1
                if count % 1000 == 0:
                    clock.advance(seconds=5)  # a flush every 2,000 alerts
            intake.close()
        except BaseException as failure:  # reported by the test thread below
            failures.append(failure)
        finally:
            desk.close()

    threads = [threading.Thread(target=process, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert all(len(incidents) == 1 for incidents in numbers.values())
    assert len(numbers) == KEYS
    desk = open_service_desk(store_url)
    try:
        counted = {key: desk.incident(next(iter(incidents))).alert_occurrences
                   for key, incidents in numbers.items()}
        assert counted == dict(sent)
        assert sum(counted.values()) == 2 * PER_PROCESS
        incidents = sum(1 for notification in desk.recorder.select_notifications(1, 100_000)
                        if notification.topic.endswith("Incident.Opened"))
        assert incidents == KEYS
    finally:
        desk.close()


REOPENED = 20


def test_two_intakes_racing_on_resolved_incidents_reopen_each_once_and_count_both(
        store_url: str) -> None:
    clock = FakeClock()
    desk = open_service_desk(store_url, clock=clock)
    intake = AlertIntake(desk, settings=AlertSettings(), clock=clock)
    keys = alerts_for(0)[:REOPENED]
    numbers = [str(result.incident) for result in intake.receive(keys)]
    assert len(set(numbers)) == REOPENED
    for number in numbers:
        desk.assign_incident(number, actor="sd", group="api", assignee="erin")
        desk.resolve_incident(number, actor="erin", code="solution_provided", notes="restarted")
    failures: list[BaseException] = []
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(2)

    def process() -> None:
        racing = open_service_desk(store_url, clock=clock)
        try:
            for alert in keys:  # the same key at the same moment in both processes
                start.wait()
                result = racing.receive_alert(alert, rules=AlertSettings().rules())
                with lock:
                    outcomes[result.outcome.value] += 1
        except BaseException as failure:  # reported by the test thread below
            failures.append(failure)
            start.abort()
        finally:
            racing.close()

    threads = [threading.Thread(target=process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert outcomes == {"reopened": REOPENED, "occurred": REOPENED}
    for number in numbers:
        incident = desk.incident(number)
        assert incident.state.value == "in_progress"
        assert incident.alert_occurrences == 3  # the first firing and one from each process
    topics = Counter(notification.topic.rsplit(".", 1)[-1]
                     for notification in desk.recorder.select_notifications(1, 100_000))
    assert topics["Reopened"] == REOPENED
    assert topics["Opened"] == REOPENED
    desk.close()
