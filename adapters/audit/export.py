"""`tandem audit export`: envelopes (design section 6) as JSON Lines or CSV, streamed to a file.

JSON Lines is the verifiable form: one envelope per line, everything the section 7 recipe
needs (see docs/audit.md). CSV is for spreadsheets: the same columns, `data` as a JSON cell.
"""

import csv
import json
from collections.abc import Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

from adapters.audit.records import log_batches, record_notifications, resolve_stream
from adapters.envelope import ENVELOPE_KEYS, envelope
from domain.errors import NotFound, ValidationFailed
from domain.service_desk import ServiceDesk


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


def envelopes(desk: ServiceDesk, ref: str | None) -> Iterator[dict[str, Any]]:
    """One record's envelopes (ref given), or the whole log's, in log order."""
    if ref is not None:
        stream = resolve_stream(desk, ref)
        notifications = record_notifications(desk, stream.id)
        if not notifications:
            raise NotFound(f"{stream.label} not found")
        yield from (envelope(notification, desk.mapper) for notification in notifications)
        return
    for batch in log_batches(desk):
        yield from (envelope(notification, desk.mapper) for notification in batch)


def export(desk: ServiceDesk, ref: str | None, *, to: Path, form: ExportFormat) -> int:
    """Write the envelopes to `to`; how many were written."""
    rows = envelopes(desk, ref)
    first = next(rows, None)  # resolve the record (and refuse) before creating the file
    try:
        with to.open("w", encoding="utf-8", newline="") as out:
            return _write(out, form, rows if first is None else _chain(first, rows))
    except OSError as error:
        raise ValidationFailed("out", f"cannot write {to}: {error.strerror}") from None


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]
           ) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest


def _write(out: TextIO, form: ExportFormat, rows: Iterable[dict[str, Any]]) -> int:
    written = 0
    if form is ExportFormat.JSONL:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
            written += 1
        return written
    writer = csv.writer(out)
    writer.writerow(ENVELOPE_KEYS)
    for row in rows:
        writer.writerow([json.dumps(row[key], ensure_ascii=False, sort_keys=True)
                         if key == "data" else row[key] for key in ENVELOPE_KEYS])
        written += 1
    return written
