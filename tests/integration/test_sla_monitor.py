"""The SLA monitor records each warning and breach exactly once, on every store: two monitors
at once, a restart, a rebuild of the read model, a repeated command."""

import threading
from collections import Counter
from typing import Any

from adapters.sla_monitor import Recorded
from domain.incident import Incident
from tests.conftest import FakeClock
from tests.integration.sla_world import SlaWorld


def written(world: SlaWorld, number: str) -> Counter[tuple[str, str, int]]:
    """Each SLA event and escalation stored on the incident, counted."""
    counts: Counter[tuple[str, str, int]] = Counter()
    for e in world.desk.events.get(world.desk.incident(number).id):
        if isinstance(e, Incident.SlaWarningReached):
            counts["warning", e.target.value, e.threshold] += 1
        elif isinstance(e, Incident.SlaBreached):
            counts["breach", e.target.value, 100] += 1
        elif isinstance(e, Incident.Escalated):
            assert e.actor == "system:sla-monitor"
            counts["escalation", e.to, e.kind.value == "hierarchical"] += 1
    return counts


def recorded(items: list[Recorded]) -> list[tuple[str, int]]:
    return [(r.target, r.threshold) for r in items]


def test_two_monitors_record_each_threshold_once_and_escalate_once(
        store_url: str, clock: FakeClock) -> None:
    first, second = SlaWorld.start(store_url, clock), SlaWorld.start(store_url, clock)
    number = first.incident(impact=1, urgency=1)                     # P1: 15 min response
    clock.advance(minutes=8)
    first.runner.catch_up()
    second.runner.catch_up()                                        # both see 53%, not recorded

    assert recorded(first.monitor().tick(clock())) == [("response", 50)]
    assert second.monitor().tick(clock()) == []                     # the loser writes nothing

    clock.advance(minutes=10)
    assert recorded(second.tick()) == [("response", 75), ("response", 100)]
    assert first.tick() == []                                       # after catching up too
    assert written(first, number) == {("warning", "response", 50): 1,
                                      ("warning", "response", 75): 1,
                                      ("breach", "response", 100): 1,
                                      ("escalation", "service_desk_manager", True): 1}
    assert first.desk.incident(number).escalation_level == 1
    assert first.clocks(number)["response"]["recorded"] == [50, 75, 100]


def test_monitors_racing_in_threads_never_record_twice(store_url: str, clock: FakeClock) -> None:
    worlds = [SlaWorld.start(store_url, clock) for _ in range(2)]
    numbers = [worlds[0].incident(impact=1, urgency=1) for _ in range(6)]
    clock.advance(minutes=20)
    for world in worlds:
        world.runner.catch_up()
    start = threading.Barrier(len(worlds))
    results: list[list[Recorded]] = [[] for _ in worlds]

    def run(index: int) -> None:
        start.wait()
        results[index] = worlds[index].monitor().tick(clock())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(worlds))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    everything = Counter((r.number, r.target, r.threshold) for result in results
                         for r in result)
    assert set(everything.values()) <= {1}
    for world in worlds:  # whatever a loser skipped, a later pass records, once
        everything.update((r.number, r.target, r.threshold) for r in world.tick())
    assert everything == Counter({(n, "response", t): 1 for n in numbers for t in (50, 75, 100)})
    for number in numbers:
        assert sum(written(worlds[0], number).values()) == 4


def test_a_rebuilt_read_model_and_a_restarted_monitor_record_nothing_again(
        store_url: str, clock: FakeClock) -> None:
    world = SlaWorld.start(store_url, clock)
    number = world.incident(impact=1, urgency=2)                     # P2: 30 min response
    clock.advance(minutes=40)
    assert len(world.tick()) == 3
    world.runner.rebuild("sla_clocks")
    assert world.monitor().tick(clock()) == []

    restarted = SlaWorld.start(store_url, clock)                    # a new process
    assert restarted.tick() == []
    assert sum(written(restarted, number).values()) == 4


def test_a_repeated_command_writes_nothing(clock: FakeClock) -> None:
    world = SlaWorld.start("memory://", clock)
    number = world.incident(impact=1, urgency=1)
    fields: dict[str, Any] = {"target": "resolution", "threshold": 50,
                              "reached_at": clock(), "due_at": clock()}
    first = world.desk.record_sla_warning(number, actor="system:sla-monitor", **fields)
    again = world.desk.record_sla_warning(number, actor="system:sla-monitor", **fields)
    assert first.version == again.version == 2
    breach: dict[str, Any] = {"target": "resolution", "due_at": clock(), "escalate_to": "cio"}
    assert world.desk.record_sla_breach(number, actor="system:sla-monitor", **breach).version == 4
    assert world.desk.record_sla_breach(number, actor="system:sla-monitor", **breach).version == 4
