"""`tandem audit verify`: recompute every chain, the seals and the numbering from the store.

The whole store is read once, in log order, in batches; what is kept per record is its last
version and hash, so memory grows with the number of records, never with their history.
"""

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from adapters.audit.chains import ChainCheck
from adapters.audit.findings import (
    MISSING_RECORD,
    NUMBER_MISMATCH,
    UNISSUED_NUMBER,
    Finding,
)
from adapters.audit.numbers import ISSUED, OPENED, NumberCheck
from adapters.audit.pipeline import RehashedLog
from adapters.audit.records import (
    Stream,
    record_notifications,
    resolve_stream,
)
from adapters.audit.rehash import UNREADABLE, rehash
from adapters.audit.seals import Seal, SealCheck, latest_seal
from adapters.envelope import event_kind, state_decoder, stored_state
from domain.errors import NotFound
from domain.numbering import NumberSequence, parse_number
from domain.service_desk import ServiceDesk

Progress = Callable[[int, int], None]
"""Called after each batch with (position reached, last position to verify)."""
NUMBERED = frozenset({ISSUED, *OPENED})
PARALLEL_FROM = 20_000
"""Log positions from which rehashing in worker processes pays for forking them."""


@dataclass
class Verification:
    """The outcome: what was checked, the latest seal, and every finding (none: verified)."""

    scope: str
    events: int = 0
    records: int = 0
    last_position: int = 0
    seals_checked: int = 0
    latest_seal: Seal | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "scope": self.scope,
            "events": self.events,
            "records": self.records,
            "last_position": self.last_position,
            "seals_checked": self.seals_checked,
            "latest_seal": self.latest_seal.as_json() if self.latest_seal else None,
            "findings": [finding.as_json() for finding in self.findings],
        }


def verify_store(desk: ServiceDesk, *, progress: Progress | None = None,
                 parallel: bool | None = None) -> Verification:
    """Every event of the store up to the log's end now, every seal, every issued number.

    For a large store, worker processes read and rehash ranges of the log (pipeline.py)
    while this process links their results in log order; `parallel` forces them on or off.
    """
    chains, seals, numbers = ChainCheck(), SealCheck(desk), NumberCheck()
    stop = desk.recorder.max_notification_id() or 0
    position = 0
    with (_cyclic_gc_paused(),
          RehashedLog(desk, stop=stop, parallel=stop >= PARALLEL_FROM if parallel is None
                      else parallel) as log):
        for batch in log.batches():
            for event in batch:
                seals.reach(event.position, chains.heads)
                chains.link(event)
                if seals.active:
                    seals.fold(event)
                if event.type in NUMBERED:
                    numbers.add(event)
            if batch:
                position = batch[-1].position
            if progress is not None:
                progress(position, stop)
    seals.finish(chains.heads, position)
    numbers.finish()
    verification = Verification(
        scope="all", events=chains.events, records=len(chains.heads), last_position=position,
        seals_checked=seals.checked, latest_seal=seals.latest,
        findings=[*chains.failures.values(), *seals.findings, *numbers.findings])
    _name(desk, verification.findings)
    verification.findings.sort(key=lambda finding: (finding.position or 0, finding.check))
    return verification


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """The walk allocates millions of short-lived objects without reference cycles: reference
    counting frees them all, and the cyclic collector would spend a tenth of the time finding
    nothing (memory stays flat either way)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def verify_record(desk: ServiceDesk, ref: str) -> Verification:
    """One record's chain and its number. A cut-off tail or a deleted record shows only in
    a whole-store verification, against the seals."""
    stream = resolve_stream(desk, ref)
    chains = ChainCheck()
    notifications = record_notifications(desk, stream.id)
    if not notifications and not parse_number(stream.label):
        raise NotFound(f"{stream.label} not found")
    decode = state_decoder(desk.mapper)
    opened_number: str | None = None
    for notification in notifications:
        event = rehash(notification, decode)
        chains.link(event)
        if event.type in OPENED:
            opened_number = event.number
    findings = [*chains.failures.values(),
                *_number_findings(desk, stream, opened_number, notifications)]
    verification = Verification(
        scope=stream.label, events=len(notifications), records=1 if notifications else 0,
        last_position=notifications[-1].id if notifications else 0,
        latest_seal=latest_seal(desk), findings=findings)
    _name(desk, verification.findings)
    return verification


def _number_findings(desk: ServiceDesk, stream: Stream, opened_number: str | None,
                     notifications: list[Notification]) -> list[Finding]:
    """The record's number must have been issued to it, and it must have opened with it."""
    number = stream.label if parse_number(stream.label) else opened_number
    if not notifications:
        return [Finding(check="numbering", reason=MISSING_RECORD, stream_id=stream.id,
                        detail=f"{number} was issued to record {stream.id}, but the log holds "
                               "no event of it: the record was deleted")]
    parsed = parse_number(number or "")
    if parsed is None:
        return []
    prefix, ordinal = parsed
    version = NumberSequence.version_of(ordinal)
    issued = desk.recorder.select_events(NumberSequence.id_for(prefix), gt=version - 1,
                                         lte=version)
    record: object = None
    if issued:
        with suppress(*UNREADABLE):
            record = stored_state(desk.mapper, issued[0]).get("record")
    if str(record) != str(stream.id):
        whom = f"to record {record}" if record is not None else "to no record"
        return [Finding(check="numbering", reason=UNISSUED_NUMBER, stream_id=stream.id,
                        version=1, detail=f"{number} was issued {whom}, not to this one")]
    if opened_number != number:
        return [Finding(check="numbering", reason=NUMBER_MISMATCH, stream_id=stream.id,
                        version=1, detail=f"{number} was issued to this record, but it "
                                          f"opened as {opened_number}")]
    return []


def _name(desk: ServiceDesk, findings: list[Finding]) -> None:
    """Give each finding the name a person knows the record by (its number if it has one)."""
    names: dict[UUID, tuple[str, str | None]] = {}
    for finding in findings:
        if finding.subject or finding.stream_id is None:
            continue
        if finding.stream_id not in names:
            names[finding.stream_id] = _name_of(desk, finding.stream_id)
        name, stream_type = names[finding.stream_id]
        finding.subject = name
        finding.stream_type = finding.stream_type or stream_type


def _name_of(desk: ServiceDesk, stream_id: UUID) -> tuple[str, str | None]:
    first = desk.recorder.select_events(stream_id, lte=1)
    if not first:
        return str(stream_id), None
    with suppress(*UNREADABLE):
        stream_type = event_kind(first[0].topic).stream_type
        number = stored_state(desk.mapper, first[0]).get("number")
        if isinstance(number, str) and stream_type in ("Incident", "Problem"):
            return number, stream_type
        return f"{stream_type} {stream_id}", stream_type
    return str(stream_id), None
