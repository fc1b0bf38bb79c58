"""Symptom fingerprints: a text with its variable parts masked, so repeats of a symptom match.

drain3's LogMasker does the masking; the instructions below are its configuration. The result
depends on nothing but the text and these instructions, so it is the same in every process,
after every restart and in every rebuild. Alert intake stores it in the incident's
`AlertCorrelated` event; the recurrence read model computes it from the title for incidents
opened by hand. Changing an instruction changes fingerprints: bump RecurrencePatterns.version
so the read model is rebuilt with the new ones (stored alert fingerprints keep the old form).
"""

from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # drain3 loads with the first fingerprint, not with every CLI call
    from drain3.masking import LogMasker

_EDGE_BEFORE = r"(?<![\w.:-])"
_EDGE_AFTER = r"(?![\w:-]|\.\w)"

INSTRUCTIONS = (
    # 3f2b8c1e-...: request, trace and object ids
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "ID"),
    # 2026-03-02T09:00:00Z, 2026-03-02 09:00:00.123, 09:00:00, 2026-03-02
    (r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?",
     "TIME"),
    (r"\b\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\b", "TIME"),
    # 10.0.0.12, 10.0.0.12:8080, fe80::1
    (_EDGE_BEFORE + r"\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?" + _EDGE_AFTER, "IP"),
    (_EDGE_BEFORE + r"[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}" + _EDGE_AFTER, "IP"),
    # 0x7f3a
    (r"\b0x[0-9a-f]+\b", "HEX"),
    # 300ms, 2.5gb, 95%: a number with its unit keeps the unit
    (r"(?<![\w.])\d+(?:[.,]\d+)*(?=(?:ms|us|ns|s|m|h|d|w|[kmgtp]i?b|b)\b|%)", "NUM"),
    # db-01.eu.example.com, https://server.example.org
    (r"\b[a-zA-Z][\w-]*(?:\.[a-zA-Z0-9][\w-]*)+\.[a-zA-Z]{2,}\b(?::\d+)?", "HOST"),
    # web-07, node3, checkout-7f9c6d5b8-x2x9z, deadbeef01: names and hex ids with a digit
    (r"\b(?=[\w-]*[a-zA-Z])(?=[\w-]*\d)[a-zA-Z0-9][\w-]*\b", "ID"),
    # 95, 95.5, -3, 1,024
    (r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*", "NUM"),
)
"""(regular expression, mask name) in the order they apply, most specific first; they see
lower-case text and match case-insensitively."""

MAX_LENGTH = 500


@cache
def _masker() -> "LogMasker":
    from drain3.masking import LogMasker, MaskingInstruction

    return LogMasker([MaskingInstruction("(?i)" + pattern, mask)
                      for pattern, mask in INSTRUCTIONS],
                     "<", ">")


@lru_cache(maxsize=50_000)
def fingerprint(text: str) -> str:
    """`Disk 91% full on db-01` -> `disk <NUM>% full on <ID>`: lower case, one line, masked."""
    masked = _masker().mask(" ".join(text.lower().split()))
    return masked[:MAX_LENGTH] or "-"
