"""Cross-check of the number sequences (domain/numbering.py) against the records they number.

Every issued number must belong to a record that exists and whose Opened event carries that
number, and every opened record must have been issued its number. A record deleted whole,
even after the last seal, thus leaves its number behind as evidence.
"""

from dataclasses import dataclass
from uuid import UUID

from adapters.audit.findings import MISSING_RECORD, NUMBER_MISMATCH, UNISSUED_NUMBER, Finding
from adapters.audit.rehash import Rehashed
from domain.aggregate import event_type_name
from domain.incident import Incident
from domain.numbering import INCIDENT_PREFIX, PROBLEM_PREFIX, NumberSequence, format_number
from domain.problem import Problem

ISSUED = event_type_name(NumberSequence.NumberIssued)
OPENED = {event_type_name(Incident.Opened): INCIDENT_PREFIX,
          event_type_name(Problem.Opened): PROBLEM_PREFIX}
"""Opened event type -> the prefix its number must have."""
SEQUENCES = {str(NumberSequence.id_for(prefix)): prefix for prefix in OPENED.values()}


@dataclass(frozen=True)
class Mention:
    number: str
    position: int
    stream_type: str
    prefix: str = ""
    """For an Opened event: the prefix its record kind's numbers have."""


class NumberCheck:
    """Pairs each NumberIssued with its record's Opened event; both are saved together, so the
    set of unpaired ones stays small and memory stays flat."""

    def __init__(self) -> None:
        self.issued: dict[str, Mention] = {}
        """record id -> the number issued to it, until its Opened event is seen."""
        self.opened: dict[str, Mention] = {}
        """record id -> the number it opened with, until its NumberIssued event is seen."""
        self.findings: list[Finding] = []

    def add(self, event: Rehashed) -> None:
        """Take note of an event if it issues a number or opens a record; ignore others."""
        if event.type == ISSUED:
            self._issued(event)
        elif event.type in OPENED:
            record = event.stream_id
            number = str(event.number)
            mention = Mention(number, event.position, event.stream_type, OPENED[event.type])
            issued = self.issued.pop(record, None)
            if issued is None:
                self.opened[record] = mention
            else:
                self._compare(record, issued=issued, opened=mention)

    def _issued(self, event: Rehashed) -> None:
        record, number = str(event.record), str(event.number)
        prefix = SEQUENCES.get(event.stream_id)
        if prefix is not None:
            expected = format_number(prefix, event.version - 1)
            if number != expected:
                self.findings.append(Finding(
                    check="numbering", reason=NUMBER_MISMATCH, subject=f"{prefix} sequence",
                    stream_id=UUID(event.stream_id), stream_type="NumberSequence",
                    version=event.version, position=event.position,
                    detail=f"sequence version {event.version} issued {number}, but that "
                           f"version issues {expected}"))
        mention = Mention(number, event.position, "NumberSequence")
        opened = self.opened.pop(record, None)
        if opened is None:
            self.issued[record] = mention
        else:
            self._compare(record, issued=mention, opened=opened)

    def _compare(self, record: str, *, issued: Mention, opened: Mention) -> None:
        if issued.number == opened.number and opened.number.startswith(opened.prefix):
            return
        self.findings.append(Finding(
            check="numbering", reason=NUMBER_MISMATCH, subject=issued.number,
            stream_id=UUID(record), stream_type=opened.stream_type, version=1,
            position=opened.position,
            detail=f"{issued.number} was issued to this record (position {issued.position}), "
                   f"but the record opened as {opened.number}"))

    def finish(self) -> None:
        """Whatever is still unpaired at the end of the log is a finding."""
        for record, issued in self.issued.items():
            self.findings.append(Finding(
                check="numbering", reason=MISSING_RECORD, subject=issued.number,
                stream_id=UUID(record), position=issued.position,
                detail=f"{issued.number} was issued to record {record} at position "
                       f"{issued.position}, but the log holds no Opened event of that record: "
                       "the record (or its first event) was deleted"))
        for record, opened in self.opened.items():
            self.findings.append(Finding(
                check="numbering", reason=UNISSUED_NUMBER, subject=opened.number,
                stream_id=UUID(record), stream_type=opened.stream_type, version=1,
                position=opened.position,
                detail=f"the record opened as {opened.number}, but no number sequence event "
                       "issued that number to it"))
        self.issued.clear()
        self.opened.clear()
