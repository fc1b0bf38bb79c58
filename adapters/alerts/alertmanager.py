"""Prometheus Alertmanager's webhook payload (version 4, grouped alerts) -> normalised alerts.

Mapping (docs/alerts.md): source `alertmanager`; dedup key = the alert's `fingerprint` (its
label set's hash; computed the same way when absent); service = label `service`, else `job`;
summary = annotation `summary`, else `description`, else label `alertname`; severity = label
`severity` (default `warning`); category = label `category`; fired at = `startsAt` when
firing, `endsAt` when resolved.
"""

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from adapters.alerts.payload import alert, parsed
from domain.alert import Alert
from domain.errors import ValidationFailed

SOURCE = "alertmanager"


class _Alert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: AwareDatetime | None = Field(default=None, alias="endsAt")
    fingerprint: str | None = None


class _Payload(BaseModel):
    """Only what intake reads; Alertmanager's other keys (receiver, groupKey...) are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: Literal["4"]
    alerts: list[_Alert] = Field(min_length=1)


def parse_alertmanager(payload: Any) -> list[Alert]:
    """The payload's alerts, normalised; ValidationFailed naming the field if any is invalid."""
    return [_normalised(index, item) for index, item in enumerate(parsed(_Payload, payload).alerts)]


def _normalised(index: int, item: _Alert) -> Alert:
    where = f"alerts[{index}]"
    labels, notes = item.labels, item.annotations
    if not labels.get("alertname"):
        raise ValidationFailed(f"{where}.labels.alertname", "missing: every alert has one")
    service = labels.get("service") or labels.get("job")
    if not service:
        raise ValidationFailed(f"{where}.labels.service",
                               "missing: an alert needs a `service` or a `job` label")
    fired_at: datetime = item.starts_at
    if item.status == "resolved":
        if item.ends_at is None or item.ends_at.year == 1:
            raise ValidationFailed(f"{where}.endsAt", "a resolved alert needs its end time")
        fired_at = item.ends_at
    summary = notes.get("summary") or notes.get("description") or labels["alertname"]
    return alert(
        ("alerts", index),
        source=SOURCE, dedup_key=item.fingerprint or _label_hash(labels), service=service,
        summary=summary, severity=labels.get("severity", "warning"), status=item.status,
        fired_at=fired_at, labels=labels, category=labels.get("category"),
        description=notes.get("description", "") if summary != notes.get("description") else "",
    )


def _label_hash(labels: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
