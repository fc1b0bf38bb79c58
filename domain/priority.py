"""Priority as ITIL derives it: impact x urgency."""

from enum import StrEnum


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"
    P5 = "P5"


LEVELS = (1, 2, 3)
"""Impact and urgency levels: 1 high, 2 medium, 3 low."""


def priority_for(impact: int, urgency: int) -> Priority:
    """The design's matrix: the sum of both levels picks it (1+1 -> P1 ... 3+3 -> P5)."""
    if impact not in LEVELS or urgency not in LEVELS:
        raise ValueError(f"impact and urgency must be 1, 2 or 3, not {impact} and {urgency}")
    return Priority(f"P{impact + urgency - 1}")
