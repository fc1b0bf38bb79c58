"""The Kafka record of design section 6: key, msgpack value and headers of one envelope.

Both sides use this module, so the relay and the consumer SDK cannot drift apart.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import msgpack

DEFAULT_TOPIC = "tandem.events"
DEAD_LETTER_SUFFIX = ".dlq"
CONTENT_TYPE = "application/msgpack"
PUBLISHED_STREAM_TYPES = frozenset({"Incident", "Problem"})
"""Design section 6 lists these stream types; NumberSequence and AuditSeal stay internal."""

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True)
class WireRecord:
    """What goes to the broker for one event."""

    key: bytes
    value: bytes
    headers: Headers


def to_wire(envelope: Mapping[str, Any]) -> WireRecord:
    """Key = stream id (UTF-8) so one record's events share a partition and keep their order."""
    return WireRecord(
        key=str(envelope["stream_id"]).encode(),
        value=msgpack.packb(envelope if type(envelope) is dict else dict(envelope),
                            use_bin_type=True),
        headers=wire_headers(envelope["type"], envelope["schema"]),
    )


@lru_cache(maxsize=1024)
def wire_headers(event_type: str, schema: int) -> Headers:
    """One list per (type, schema), shared by its records: producers only read headers."""
    return [("content-type", CONTENT_TYPE.encode()), ("event-type", str(event_type).encode()),
            ("schema-version", str(schema).encode())]


def dead_letter_topic(topic: str) -> str:
    return topic + DEAD_LETTER_SUFFIX
