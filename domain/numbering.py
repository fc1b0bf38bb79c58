"""Human record numbers (INC0000001, PRB0000001) issued durably through the event store."""

from functools import cache
from typing import Any, Self
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.aggregate import AuditedAggregate, Stamp

INCIDENT_PREFIX = "INC"
PROBLEM_PREFIX = "PRB"
DIGITS = 7
MAX_ORDINAL = 10**15
"""Far beyond any real service desk, well inside every store's integer range."""


def format_number(prefix: str, ordinal: int) -> str:
    return f"{prefix}{ordinal:0{DIGITS}d}"


def parse_number(text: str) -> tuple[str, int] | None:
    """`INC0000042` -> ("INC", 42); None when `text` is not a record number."""
    prefix, digits = text[:3].upper(), text[3:]
    if (prefix in (INCIDENT_PREFIX, PROBLEM_PREFIX) and digits.isascii() and digits.isdigit()
            and 0 < int(digits) < MAX_ORDINAL):
        return prefix, int(digits)
    return None


class NumberSequence(AuditedAggregate):
    """One per prefix; its version n+1 issued number n, so numbers are unique and gap-free.

    Two writers issuing the same number collide on (sequence id, version) in the store:
    one save wins, the other retries with the next number.
    """

    def __init__(self) -> None:
        super().__init__()
        self.prefix = ""

    @staticmethod
    @cache
    def id_for(prefix: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"tandem:number-sequence:{prefix}")

    @staticmethod
    def version_of(ordinal: int) -> int:
        """The sequence version whose event issued `ordinal`."""
        return ordinal + 1

    class Event(AuditedAggregate.Event):
        pass

    class Started(AuditedAggregate.Created):
        prefix: str

        def apply(self, sequence: "NumberSequence") -> None:
            sequence.prefix = self.prefix

    class NumberIssued(Event):
        number: str
        record: UUID

    @classmethod
    def start(cls, *, prefix: str, stamp: Stamp) -> Self:
        return cls._start(cls.Started, id=cls.id_for(prefix), stamp=stamp, prefix=prefix)

    @classmethod
    def resume(cls, *, prefix: str, last_event: Any) -> Self:
        """Rebuild from the last event alone: the sequence's state is its version and head hash."""
        sequence = cls._resumed(last_event)
        sequence.prefix = prefix
        return sequence

    def issue(self, *, record: UUID, stamp: Stamp) -> str:
        """Issue the next number to `record`."""
        number = format_number(self.prefix, self.version)
        self._trigger(self.NumberIssued, stamp=stamp, number=number, record=record)
        return number
