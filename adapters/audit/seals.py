"""The store-wide anchor (domain/audit_seal.py) recomputed as the log streams past.

Each seal is checked when the walk passes its position: the running digest and event count
must equal what the seal recorded, and every record the seal names must stand at the version
it recorded. Then the walk re-anchors on the seal's own values, so each finding is confined
to the stretch of log between two seals.
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from adapters.audit.findings import (
    COUNT_MISMATCH,
    DIGEST_MISMATCH,
    MISSING_RECORD,
    TRUNCATED,
    UNDECODABLE,
    UNEXPECTED_VERSION,
    Finding,
)
from adapters.audit.rehash import UNREADABLE, Rehashed
from adapters.envelope import event_kind, stored_state
from domain.aggregate import event_type_name
from domain.audit_chain import format_timestamp
from domain.audit_seal import AUDIT_SEAL_ID, GENESIS_DIGEST, AuditSeal, extend_digest
from domain.service_desk import ServiceDesk

SEALED = event_type_name(AuditSeal.Sealed)
_SEAL_STREAM = str(AUDIT_SEAL_ID)


@dataclass(frozen=True)
class Seal:
    """One stored `AuditSealSealed` event, read as written."""

    number: int
    """1 for the first seal of the store, and so on."""
    version: int
    position: int
    events: int
    digest: str
    heads: dict[str, int]
    sealed_at: str
    actor: str

    def as_json(self) -> dict[str, Any]:
        return {"seal": self.number, "position": self.position, "events": self.events,
                "digest": self.digest, "sealed_at": self.sealed_at, "actor": self.actor,
                "version": self.version}


def read_seal(mapper: Mapper[Any], stored: StoredEvent) -> Seal | Finding | None:
    """One stored event of the seal stream: a Seal, a Finding if unreadable, None if it is not
    a seal (the stream's first event only starts it)."""
    version = stored.originator_version
    try:
        if event_kind(stored.topic).type != SEALED:
            return None
        state = stored_state(mapper, stored)
        return Seal(number=version - 1, version=version, position=int(state["position"]),
                    events=int(state["events"]), digest=str(state["digest"]),
                    heads=dict(state["heads"]), sealed_at=format_timestamp(state["timestamp"]),
                    actor=str(state["actor"]))
    except UNREADABLE as error:
        return Finding(check="seal", reason=UNDECODABLE, subject=f"seal {version - 1}",
                       detail=f"the seal cannot be read ({type(error).__name__}: {error})",
                       stream_id=AUDIT_SEAL_ID, stream_type="AuditSeal", version=version)


def latest_seal(desk: ServiceDesk) -> Seal | None:
    last = desk.recorder.select_events(AUDIT_SEAL_ID, desc=True, limit=1)
    found = read_seal(desk.mapper, last[0]) if last else None
    return found if isinstance(found, Seal) else None


class SealCheck:
    """Running digest and count over the log (seal stream excluded), compared at each seal."""

    def __init__(self, desk: ServiceDesk) -> None:
        self.desk = desk
        self.digest = GENESIS_DIGEST
        self.events = 0
        self.findings: list[Finding] = []
        self.checked = 0
        self.latest: Seal | None = None
        self.log_end: int | None = None
        self._read_version = 0
        self.pending = self._read_next()

    @property
    def active(self) -> bool:
        """Whether a seal is still ahead: only then is the digest worth computing."""
        return self.pending is not None

    def _read_next(self) -> Seal | None:
        """The next stored seal; one read per seal, and a deleted one does not stop the rest."""
        while stored := self.desk.recorder.select_events(AUDIT_SEAL_ID, gt=self._read_version,
                                                         limit=1):
            self._read_version = stored[0].originator_version
            found = read_seal(self.desk.mapper, stored[0])
            if isinstance(found, Finding):
                self.findings.append(found)
            elif found is not None:
                return found
        return None

    def reach(self, position: int, heads: dict[str, tuple[int, str]]) -> None:
        """Check every seal whose position lies before `position`; call before the event at
        `position` enters `heads`."""
        while self.pending is not None and position > self.pending.position:
            self._check(self.pending, heads)

    def fold(self, event: Rehashed) -> None:
        """Add one event to the running digest (the seal stream's own events stay out)."""
        if self.pending is None or event.stream_id == _SEAL_STREAM:
            return
        self.digest = extend_digest(self.digest, stream_id=event.stream_id,
                                    version=event.version, event_hash=event.stored_hash)
        self.events += 1

    def finish(self, heads: dict[str, tuple[int, str]], log_end: int) -> None:
        """Check the seals the walk did not pass: their position lies beyond the log's end."""
        self.log_end = log_end
        while self.pending is not None:
            self._check(self.pending, heads)

    def _check(self, seal: Seal, heads: dict[str, tuple[int, str]]) -> None:
        self.checked += 1
        self.latest = seal
        for stream_text, sealed_version in seal.heads.items():
            held = heads.get(stream_text, (0, ""))[0]
            if held == sealed_version:
                continue
            if held == 0:
                reason, holds = MISSING_RECORD, "no event of it at all"
            elif held < sealed_version:
                reason, holds = TRUNCATED, f"only up to version {held}"
            else:
                reason, holds = UNEXPECTED_VERSION, f"version {held}"
            self.findings.append(Finding(
                check="seal", reason=reason, stream_id=UUID(stream_text), version=sealed_version,
                detail=f"seal {seal.number} recorded it at version {sealed_version} at position "
                       f"{seal.position}; the log up to there holds {holds}"))
        if self.events != seal.events:
            difference = seal.events - self.events
            change = (f"{difference} fewer" if difference > 0 else f"{-difference} more")
            ends = (f" (the log now ends at position {self.log_end})"
                    if self.log_end is not None and self.log_end < seal.position else "")
            self.findings.append(self._seal_finding(
                seal, COUNT_MISMATCH, f"the log up to position {seal.position} holds "
                f"{self.events} events where the seal counted {seal.events} ({change}){ends}"))
        elif self.digest != seal.digest:
            self.findings.append(self._seal_finding(
                seal, DIGEST_MISMATCH, f"the events up to position {seal.position} add up to "
                f"{self.digest[:12]}…, not to the sealed {seal.digest[:12]}…: stored hashes "
                "were rewritten or events reordered since the seal"))
        self.digest, self.events = seal.digest, seal.events
        self.pending = self._read_next()

    def _seal_finding(self, seal: Seal, reason: str, detail: str) -> Finding:
        since = (f" (since seal {seal.number - 1})" if seal.number > 1 else "")
        return Finding(check="seal", reason=reason, subject=f"seal {seal.number}",
                       detail=detail + since, stream_id=AUDIT_SEAL_ID,
                       stream_type="AuditSeal", version=seal.version, position=seal.position)
