"""SLA reads: clocks as of any `now`, the clocks the monitor must look at, compliance reports."""

import math
import statistics
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.audit_chain import format_timestamp
from domain.sla import SlaRules, Target
from domain.sla_calendar import business_time
from projections.projection import Row
from projections.queries import serving_table
from projections.sla_clocks import (
    BREACHED,
    CANCELED,
    COLUMNS,
    MET,
    MICROSECOND,
    MOVING,
    RUNNING,
    SlaClocks,
    at,
    recorded,
)
from projections.store import ReadStore

GROUPINGS: dict[str, Callable[[Row], str]] = {
    "priority": lambda row: str(row["priority"]),
    "group": lambda row: str(row["assignment_group"] or "(unassigned)"),
    "service": lambda row: str(row["service"]),
}
"""What `sla report --by` can group incidents by."""
TARGET_ORDER = {Target.RESPONSE.value: 0, Target.RESOLUTION.value: 1}


def _rows(store: ReadStore, where: str, params: Sequence[Any], order: str) -> list[Row]:
    names = [column for column, _ in COLUMNS]
    with store.reading() as cursor:
        cursor.execute(f"SELECT {', '.join(names)} FROM {serving_table(cursor, SlaClocks)} "
                       f"WHERE {where} ORDER BY {order}", params)
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def clocks(store: ReadStore, incident_ids: Sequence[str]) -> list[Row]:
    """The clocks of these incidents, in the given incident order, response first."""
    if not incident_ids:
        return []
    marks = ", ".join("?" for _ in incident_ids)
    found = _rows(store, f"incident_id IN ({marks})", list(incident_ids), "clock")
    place = {incident_id: index for index, incident_id in enumerate(incident_ids)}
    return sorted(found, key=lambda r: (place[r["incident_id"]], TARGET_ORDER[r["target"]]))


def incident_clocks(store: ReadStore, rules: SlaRules, incident_ids: Sequence[str],
                    now: datetime) -> list[dict[str, Any]]:
    """`tandem sla show --json` (and the API's `/incidents/{ref}/sla`) for these incidents."""
    return [view(row, rules, now) for row in clocks(store, incident_ids)]


def alerts_due(store: ReadStore, now: datetime) -> list[Row]:
    """Running clocks that reached a threshold not recorded yet, by the time they reached it."""
    return _rows(store, "state = ? AND alert_at <= ?", [RUNNING, format_timestamp(now)],
                 "alert_at, clock")


def view(row: Row, rules: SlaRules, now: datetime) -> dict[str, Any]:
    """One clock as `tandem sla show --json` prints it, as of `now`."""
    policy = rules.policy(row["priority"], row["service"])
    elapsed = row["elapsed_us"] * MICROSECOND
    due = row["due_at"]
    if row["state"] == RUNNING:
        elapsed += business_time(policy.calendar, at(row["since"]), now)
    target = row["target_us"] * MICROSECOND
    breached_at = row["breached_at"] or (due if due and due <= format_timestamp(now) else None)
    zone = ZoneInfo(policy.calendar.zone)
    return {
        "number": row["number"], "incident": row["incident_id"], "target": row["target"],
        "state": row["state"], "priority": row["priority"], "due_at": due,
        "due_at_local": at(due).astimezone(zone).isoformat() if due else None,
        "elapsed_seconds": elapsed.total_seconds(),
        "remaining_seconds": (target - elapsed).total_seconds(),
        "target_seconds": target.total_seconds(),
        "percent": round(elapsed / target * 100, 2),
        "breached": breached_at is not None, "breached_at": breached_at,
        "started_at": row["opened_at"], "stopped_at": row["stopped_at"],
        "recorded": recorded(row),
    }


def report(store: ReadStore, rules: SlaRules, *, start: datetime, end: datetime,
           by: str | None, now: datetime) -> dict[str, Any]:
    """Compliance of the incidents opened in [start, end), as a whole and per group."""
    rows = _rows(store, "opened_at >= ? AND opened_at < ?",
                 [format_timestamp(start), format_timestamp(end)], "clock")
    views = [(row, view(row, rules, now)) for row in rows]
    grouped: dict[str, list[dict[str, Any]]] = {}
    if by is not None:
        key_of = GROUPINGS[by]
        for row, shown in views:
            grouped.setdefault(key_of(row), []).append(shown)
    return {
        "from": format_timestamp(start), "to": format_timestamp(end), "by": by,
        "total": _summary([shown for _, shown in views]),
        "groups": [{"key": key, **_summary(grouped[key])} for key in sorted(grouped)],
    }


def _summary(views: list[dict[str, Any]]) -> dict[str, Any]:
    per_target = {target.value: _target_summary([v for v in views if v["target"] == target])
                  for target in Target}
    met = sum(s["met"] for s in per_target.values())
    breached = sum(s["breached"] for s in per_target.values())
    return {"incidents": len({v["incident"] for v in views}), "met": met, "breached": breached,
            "compliance_percent": _compliance(met, breached), **per_target}


def _target_summary(views: list[dict[str, Any]]) -> dict[str, Any]:
    """A still running clock already past its due time counts as breached: it cannot be met."""
    met = sum(v["state"] == MET for v in views)
    breached = sum(v["state"] == BREACHED or (v["state"] in MOVING and v["breached"])
                   for v in views)
    canceled = sum(v["state"] == CANCELED for v in views)
    spent = sorted(v["elapsed_seconds"] for v in views if v["state"] in (MET, BREACHED))
    return {
        "met": met, "breached": breached, "open": len(views) - met - breached - canceled,
        "canceled": canceled, "compliance_percent": _compliance(met, breached),
        "mean_seconds": round(statistics.fmean(spent), 3) if spent else None,
        "p90_seconds": spent[math.ceil(0.9 * len(spent)) - 1] if spent else None,
    }


def _compliance(met: int, breached: int) -> float | None:
    return round(100 * met / (met + breached), 2) if met + breached else None
