"""What `tandem audit verify` reports: each finding names the event or seal and why it failed."""

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

# Reasons, most specific first; a finding carries the first that applies.
MISSING_VERSION = "missing version"
"""A record's versions jump (or do not start at 1): events were deleted."""
OUT_OF_ORDER = "out of order"
"""A version appears after a higher one in the log: events were reordered."""
BROKEN_LINK = "broken link"
"""`prev_hash` is not the stored hash of the record's previous event: replaced or swapped."""
HASH_MISMATCH = "hash mismatch"
"""The event's stored content no longer adds up to its stored hash: it was changed."""
UNDECODABLE = "undecodable"
"""The stored row cannot be read back as an event at all."""
TRUNCATED = "truncated"
"""A seal recorded a later version of the record than the log now holds."""
MISSING_RECORD = "missing record"
"""A seal or an issued number refers to a record the log holds no event of."""
UNEXPECTED_VERSION = "unexpected version"
"""The log holds a later version at a seal's position than the seal recorded."""
COUNT_MISMATCH = "count mismatch"
"""The log up to a seal's position holds another number of events than the seal recorded."""
DIGEST_MISMATCH = "digest mismatch"
"""The log up to a seal's position no longer adds up to the seal's digest."""
NUMBER_MISMATCH = "number mismatch"
"""An issued number and the record's own Opened event disagree."""
UNISSUED_NUMBER = "unissued number"
"""A record was opened with a number no number sequence event issued to it."""


@dataclass
class Finding:
    """One verification failure: what (record or seal), where (version, position) and why."""

    check: str
    """`chain`, `seal` or `numbering`."""
    reason: str
    detail: str
    stream_id: UUID | None = None
    stream_type: str | None = None
    version: int | None = None
    position: int | None = None
    subject: str = ""
    """How a person names it: `INC0000003`, `seal 4`, or the stream type and UUID."""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "subject": self.subject,
            "reason": self.reason,
            "detail": self.detail,
            "stream_id": str(self.stream_id) if self.stream_id else None,
            "stream_type": self.stream_type,
            "version": self.version,
            "position": self.position,
            **self.extra,
        }

    def line(self) -> str:
        where = [f"version {self.version}"] if self.version is not None else []
        if self.position is not None:
            where.append(f"position {self.position}")
        place = f" ({', '.join(where)})" if where else ""
        return f"{self.subject}{place}: {self.reason}: {self.detail}"
