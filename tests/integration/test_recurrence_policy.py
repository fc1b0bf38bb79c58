"""The problem-candidate policy raises each pattern's problem exactly once, on every store."""

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from adapters.alerts.settings import RecurrenceSettings
from adapters.bootstrap import open_read_store, open_service_desk, projection_runner
from adapters.recurrence_policy import RecurrencePolicy
from domain.errors import NotFound
from domain.problem import Problem
from domain.service_desk import ServiceDesk
from projections.runner import ProjectionRunner
from projections.store import ReadStore
from tests.conftest import FakeClock

Policy = tuple[ServiceDesk, ProjectionRunner, RecurrencePolicy]


@pytest.fixture
def policy_process(store_url: str, clock: FakeClock) -> Iterator[Callable[..., Policy]]:
    """Starts a 'process': its own ServiceDesk, read store and policy on the shared store."""
    opened: list[Policy] = []

    def start(settings: RecurrenceSettings | None = None) -> Policy:
        desk = open_service_desk(store_url, clock=clock)
        runner = projection_runner(desk, open_read_store(store_url))

        def read_models() -> ReadStore:
            runner.catch_up()
            return runner.store

        policy = RecurrencePolicy(desk, read_models, settings=settings or RecurrenceSettings(),
                                  clock=clock)
        opened.append((desk, runner, policy))
        return desk, runner, policy

    yield start
    for desk, runner, _ in opened:
        runner.store.close()
        desk.close()


def recurring(desk: ServiceDesk, clock: FakeClock, times: int) -> list[str]:
    numbers = []
    for n in range(times):
        numbers.append(desk.open_incident(actor="sd", title=f"Checkout 502 from web-{n}",
                                          service="shop").number)
        clock.advance(hours=5)
    return numbers


def problems_of(desk: ServiceDesk) -> list[Problem]:
    found = []
    while True:
        try:
            found.append(desk.problem(f"PRB{len(found) + 1:07d}"))
        except NotFound:
            return found


def test_two_policies_at_once_open_one_problem_linking_the_incidents(
        policy_process: Callable[..., Policy], clock: FakeClock) -> None:
    desk, _, first = policy_process()
    _, _, second = policy_process()
    numbers = recurring(desk, clock, 3)
    results: list[list[Problem]] = []
    start = threading.Barrier(2)

    def run(policy: RecurrencePolicy) -> None:
        start.wait()
        results.append(policy.tick())

    threads = [threading.Thread(target=run, args=(p,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(len(r) for r in results) == [0, 1]
    (problem,) = problems_of(desk)
    assert sorted(problem.incidents.values()) == numbers
    assert all(desk.incident(n).problem_number == problem.number for n in numbers)
    assert problem.title == "Recurring on shop: checkout <NUM> from <ID>"
    events = list(desk.events.get(problem.id))
    assert {event.actor for event in events} == {"system:recurrence"}


def test_restarts_and_rebuilds_do_not_raise_it_again(policy_process: Callable[..., Policy],
                                                     clock: FakeClock) -> None:
    desk, _, policy = policy_process()
    recurring(desk, clock, 3)
    assert len(policy.tick()) == 1

    _, restarted_runner, restarted = policy_process()  # a new process, same stores
    restarted_runner.rebuild("recurrence")
    assert restarted.tick() == []
    clock.advance(hours=1)
    assert policy.tick() == []
    assert len(problems_of(desk)) == 1


def test_after_its_problem_is_finished_the_pattern_is_raised_again_only_when_it_recurs(
        policy_process: Callable[..., Policy], clock: FakeClock) -> None:
    desk, _, policy = policy_process()
    recurring(desk, clock, 3)
    (first,) = policy.tick()
    desk.cancel_problem(first.number, actor="pat", reason="Wrong cause")

    assert policy.tick() == []  # the old incidents were raised once already
    clock.advance(hours=1)
    later = recurring(desk, clock, 3)
    (second,) = policy.tick()

    assert second.number != first.number
    assert sorted(second.incidents.values()) == later
    assert policy.tick() == []


def test_switched_off_it_raises_nothing(policy_process: Callable[..., Policy],
                                        clock: FakeClock) -> None:
    desk, _, policy = policy_process(RecurrenceSettings(problem_candidates=False))
    recurring(desk, clock, 5)
    assert policy.tick(clock.now + timedelta(minutes=1)) == []
    assert problems_of(desk) == []
