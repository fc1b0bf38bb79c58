"""A monitoring alert, normalised from whatever tool sent it, and the rules that route it."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from domain.commands import Level, Name, NoNul

Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
                NoNul]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
                    NoNul]
Severity = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1,
                                            max_length=50), NoNul]
Label = Annotated[str, NoNul]
"""Every text of an alert ends up in events: none may hold NUL (see domain.commands)."""


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Alert(BaseModel):
    """One alert as every parser hands it over; `(source, dedup_key)` names what keeps firing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Name
    """The monitoring system (`alertmanager`, `zabbix`); events name `monitor:<source>`."""
    dedup_key: Key
    """Stable across repeats of the same alert (Alertmanager's label-set fingerprint)."""
    service: Name
    summary: Summary
    severity: Severity = "warning"
    status: AlertStatus = AlertStatus.FIRING
    fired_at: AwareDatetime
    """When it started firing (or, for `resolved`, when it stopped)."""
    labels: dict[Label, Label] = Field(default_factory=dict)
    category: Name | None = None
    description: Annotated[str, StringConstraints(max_length=4000), NoNul] = ""
    fingerprint: Annotated[str, StringConstraints(min_length=1, max_length=4000), NoNul]
    """The summary's symptom template (numbers, ids, hosts, times masked), set at intake."""

    @field_validator("fired_at")
    @classmethod
    def _in_utc(cls, moment: datetime) -> datetime:
        return moment.astimezone(UTC)

    @property
    def actor(self) -> str:
        return f"monitor:{self.source}"


class ImpactUrgency(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    impact: Level
    urgency: Level


DEFAULT_SEVERITIES: Mapping[str, ImpactUrgency] = {
    "critical": ImpactUrgency(impact=1, urgency=1),
    "error": ImpactUrgency(impact=2, urgency=1),
    "warning": ImpactUrgency(impact=2, urgency=2),
    "info": ImpactUrgency(impact=3, urgency=3),
}
"""P1, P2, P3, P5; any other severity gets UNKNOWN_SEVERITY."""
UNKNOWN_SEVERITY = ImpactUrgency(impact=3, urgency=2)
"""P4."""


@dataclass(frozen=True)
class AlertRules:
    """How alerts become incidents; built from the `[alerts]` configuration section."""

    reopen_window: timedelta = timedelta(hours=1)
    """A resolved incident whose alert fires again within this time is reopened."""
    severities: Mapping[str, ImpactUrgency] = field(default_factory=lambda: DEFAULT_SEVERITIES)
    unknown_severity: ImpactUrgency = UNKNOWN_SEVERITY

    def levels(self, severity: str) -> ImpactUrgency:
        return self.severities.get(severity.lower(), self.unknown_severity)


@dataclass(frozen=True)
class Occurrences:
    """How many times an alert fired, and the first and last time, as one write."""

    count: int
    first_at: datetime
    last_at: datetime

    def merged(self, other: "Occurrences") -> "Occurrences":
        return Occurrences(self.count + other.count, min(self.first_at, other.first_at),
                           max(self.last_at, other.last_at))


class AlertOutcome(StrEnum):
    """What an alert did: the CLI prints it, the intake counts it."""

    ACCUMULATED = "accumulated"
    """A repeat counted in memory by the intake, written with the next flush."""
    OPENED = "opened"
    RECURRED = "recurred"
    """A new incident, linked as a recurrence of the key's previous incident."""
    REOPENED = "reopened"
    OCCURRED = "occurred"
    """Occurrences added to the key's open incident."""
    RECOVERED = "recovered"
    IGNORED = "ignored"
    """A `resolved` alert for a key with no incident, or whose incident is already finished."""


@dataclass(frozen=True)
class AlertResult:
    outcome: AlertOutcome
    incident: str | None
    """The incident's number, when one was touched."""
