"""Per-record hash chains (design section 7), linked event by event as the log streams past."""

from typing import Any
from uuid import UUID

from adapters.audit.findings import (
    BROKEN_LINK,
    HASH_MISMATCH,
    MISSING_VERSION,
    OUT_OF_ORDER,
    UNDECODABLE,
    Finding,
)
from adapters.audit.rehash import Rehashed
from domain.audit_chain import GENESIS_HASH

_NONE = (0, GENESIS_HASH)


def _short(digest: Any) -> str:
    return f"{str(digest)[:12]}…"


class ChainCheck:
    """Keeps each stream's last (version, stored hash) only, so memory grows with the number
    of records, never with the number of events; remembers each stream's first failure."""

    def __init__(self) -> None:
        self.heads: dict[str, tuple[int, str]] = {}
        """Each stream (id as hashed) -> its last version and stored hash so far."""
        self.failures: dict[str, Finding] = {}
        self.events = 0

    def link(self, event: Rehashed) -> None:
        """Check one rehashed event against the last one of its stream, in log order."""
        self.events += 1
        last_version, last_hash = self.heads.get(event.stream_id, _NONE)
        self.heads[event.stream_id] = (event.version, event.stored_hash)
        if event.error is not None:
            self._fail(event, UNDECODABLE,
                       f"the stored row cannot be read as an event ({event.error})")
        elif (event.version != last_version + 1 or event.prev_hash != last_hash
                or event.recomputed != event.stored_hash):
            self._diagnose(event, last_version, last_hash)

    def _diagnose(self, event: Rehashed, last_version: int, last_hash: str) -> None:
        version = event.version
        problems: list[tuple[str, str]] = []
        if version > last_version + 1:
            missing = (f"version {last_version + 1}" if version == last_version + 2
                       else f"versions {last_version + 1} to {version - 1}")
            problems.append((MISSING_VERSION, f"{missing} missing before it"))
        elif version <= last_version:
            problems.append((OUT_OF_ORDER, f"it comes after version {last_version} in the log"))
        elif event.prev_hash != last_hash:
            previous = f"version {last_version}" if last_version else "the chain's genesis"
            problems.append((BROKEN_LINK, f"its prev_hash {_short(event.prev_hash)} is not "
                                          f"the hash of {previous} ({_short(last_hash)})"))
        if event.recomputed != event.stored_hash:
            problems.append((HASH_MISMATCH, f"its content hashes to {_short(event.recomputed)}"
                                            f", not to its stored hash "
                                            f"{_short(event.stored_hash)}"))
        self._fail(event, problems[0][0], "; ".join(
            detail if index == 0 else f"{reason}: {detail}"
            for index, (reason, detail) in enumerate(problems)))

    def _fail(self, event: Rehashed, reason: str, detail: str) -> None:
        if event.stream_id not in self.failures:
            self.failures[event.stream_id] = Finding(
                check="chain", reason=reason, detail=detail, stream_id=UUID(event.stream_id),
                stream_type=event.stream_type or None, version=event.version,
                position=event.position)
