"""A record's history (who, when, what changed) and its state as of any past moment."""

import re
from datetime import datetime
from typing import Any

from adapters.audit.records import Stream, record_notifications, resolve_stream
from adapters.envelope import envelope
from adapters.views import incident_view, problem_view
from domain.audit_chain import format_timestamp, to_json_data
from domain.errors import NotFound, ValidationFailed
from domain.incident import Incident
from domain.problem import Problem
from domain.service_desk import ServiceDesk

UNCHANGING = frozenset({"id", "version", "updated_at"})
"""View keys that change with every event and so say nothing about what it did."""
SUMMARY_FIELDS = ("number", "text", "reason", "notes", "root_cause", "workaround",
                  "change_ref", "assignment_group", "to", "incident_number", "problem_number",
                  "category", "priority", "resolution_code", "close_code", "position")
"""The first of these an event carries describes it in one line."""
SUMMARY_WIDTH = 80
FINAL_STRETCH = 32
"""Versions read in one query at the end of the as-of search instead of one by one."""


def parse_moment(text: str) -> datetime:
    """ISO 8601 with a zone (`2026-03-02T09:00:00Z`, `...+01:00`); refused without one."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed("as_of", f"{text!r} is not an ISO 8601 time "
                                        "(e.g. 2026-03-02T09:00:00Z)") from None
    if moment.tzinfo is None:
        raise ValidationFailed("as_of", f"{text!r} has no time zone "
                                        "(add Z for UTC, or an offset such as +01:00)")
    return moment


def version_at(desk: ServiceDesk, stream: Stream, moment: datetime) -> int:
    """The record's last version whose time is not after `moment`.

    A record's event times never decrease with its version (`_trigger` clamps them), so a
    binary search over point reads finds it; the last stretch of at most `FINAL_STRETCH`
    versions is read in one query, which saves round trips to the database.
    """
    return _version_at(desk, stream, moment, first=_event(desk, stream, 1))


def _version_at(desk: ServiceDesk, stream: Stream, moment: datetime, *, first: Any) -> int:
    if first.timestamp > moment:
        raise ValidationFailed("as_of", f"{stream.label} did not exist yet at "
                                        f"{format_timestamp(moment)} (its first event is at "
                                        f"{format_timestamp(first.timestamp)})")
    last: Any = next(iter(desk.events.get(stream.id, desc=True, limit=1)))
    if last.timestamp <= moment:
        return int(last.originator_version)
    low, high = 1, last.originator_version - 1
    while high - low > FINAL_STRETCH:  # invariant: `low` is not after `moment`, `high + 1` is
        middle = (low + high + 1) // 2
        if _event(desk, stream, middle).timestamp <= moment:
            low = middle
        else:
            high = middle - 1
    stretch: list[Any] = list(desk.events.get(stream.id, gt=low, lte=high))
    for event in stretch:
        if event.timestamp > moment:
            break
        low = event.originator_version
    return low


def _event(desk: ServiceDesk, stream: Stream, version: int) -> Any:
    found = list(desk.events.get(stream.id, gt=version - 1, lte=version))
    if not found:
        if version == 1:
            raise NotFound(f"{stream.label} not found")
        raise NotFound(f"{stream.label} has no version {version}: run `tandem audit verify`")
    return found[0]


def state_as_of(desk: ServiceDesk, ref: str, moment: datetime) -> dict[str, Any]:
    """The record as it stood at `moment`, with the keys of `incident|problem show --json`.

    Loads the version found by `version_at` through the repository, which starts from the
    nearest snapshot (one every 100 versions) rather than replaying the whole history.
    """
    stream = resolve_stream(desk, ref)
    first = _event(desk, stream, 1)
    if not isinstance(first, Incident.Opened | Problem.Opened):
        raise NotFound(f"{stream.label} is neither an incident nor a problem")
    version = _version_at(desk, stream, moment, first=first)
    return _view(desk.repository.get(stream.id, version=version))


def history(desk: ServiceDesk, ref: str, *, as_of: datetime | None = None
            ) -> list[dict[str, Any]]:
    """Every event of the record, oldest first, as envelopes with `summary` and `changes`."""
    stream = resolve_stream(desk, ref)
    notifications = record_notifications(desk, stream.id)
    if not notifications:
        raise NotFound(f"{stream.label} not found")
    entries: list[dict[str, Any]] = []
    record: Any = None
    before: dict[str, Any] = {}
    for notification in sorted(notifications, key=lambda n: n.originator_version):
        event: Any = desk.mapper.to_domain_event(notification)
        if as_of is not None and event.timestamp > as_of:
            break
        record = event.mutate(record)
        after = _view(record)
        entry = envelope(notification, desk.mapper)
        entry["summary"] = summary(entry)
        entry["changes"] = [{"field": key, "old": before.get(key), "new": value}
                            for key, value in after.items()
                            if key not in UNCHANGING and before.get(key) != value]
        entries.append(entry)
        before = after
    if not entries and as_of is not None:
        version_at(desk, stream, as_of)  # raises: the record did not exist yet
    return entries


def summary(entry: dict[str, Any]) -> str:
    """`IncidentPutOnHold` with reason awaiting_vendor -> `put on hold: awaiting_vendor`."""
    name = entry["type"][len(entry["stream_type"]):] or entry["type"]
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
    detail = next((entry["data"][key] for key in SUMMARY_FIELDS
                   if entry["data"].get(key) not in (None, "")), None)
    if detail is None:
        return words
    text = str(detail).replace("\n", " ")
    if len(text) > SUMMARY_WIDTH:
        text = text[:SUMMARY_WIDTH - 1] + "…"
    return f"{words}: {text}"


def _view(record: Any) -> dict[str, Any]:
    if isinstance(record, Incident):
        return incident_view(record)
    if isinstance(record, Problem):
        return problem_view(record)
    own = {key: value for key, value in vars(record).items()
           if not key.startswith("_") and key != "head_hash"}
    view = to_json_data(own)
    assert isinstance(view, dict)
    return view
