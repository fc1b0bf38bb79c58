"""State machines as data: for each command, the states it is allowed from and where it leads."""

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TypeVar

from domain.errors import IllegalTransition

S = TypeVar("S", bound=StrEnum)

Lifecycle = Mapping[str, Mapping[S, S]]


def staying(states: Iterable[S]) -> dict[S, S]:
    """A command allowed in these states that leaves the state as it is."""
    return {state: state for state in states}


def moving(states: Iterable[S], target: S) -> dict[S, S]:
    """A command allowed in these states that moves the record to `target`."""
    return dict.fromkeys(states, target)


def check(lifecycle: Lifecycle[S], command: str, *, record: str, state: S) -> S:
    """The state `command` leads to from `state`, or IllegalTransition naming both."""
    steps = lifecycle[command]
    if state not in steps:
        raise IllegalTransition(record, state.value, command, [s.value for s in steps])
    return steps[state]


def after(lifecycle: Lifecycle[S], command: str, state: S) -> S:
    """Where a recorded event leaves the record; never refuses, so history always replays."""
    return lifecycle[command].get(state, state)
