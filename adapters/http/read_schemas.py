"""Response shapes of the SLA, suggestion, recurrence and alert endpoints (for the OpenAPI schema).

The bodies themselves are written by `projections.sla_reads`, `projections.suggestions`,
`projections.patterns` and the alert intake, exactly as the CLI's `--json` prints them.
"""

from pydantic import BaseModel, ConfigDict


class _Shown(BaseModel):
    model_config = ConfigDict(extra="allow")


class SlaClock(_Shown):
    """One clock, as `tandem sla show --json` prints it (docs/sla.md)."""

    number: str
    incident: str
    target: str
    state: str
    priority: str
    due_at: str | None
    due_at_local: str | None
    elapsed_seconds: float
    remaining_seconds: float
    target_seconds: float
    percent: float
    breached: bool
    breached_at: str | None
    started_at: str
    stopped_at: str | None
    recorded: list[int]
    """Warning thresholds (and 100, the breach) recorded on the incident for this clock."""


class Suggestion(_Shown):
    """One known error, as `tandem incident suggest --json` prints it (docs/alerts.md)."""

    problem: str
    score: float
    similarity: float
    same_service: bool
    service: str | None
    symptom: str
    workaround: str | None
    root_cause: str | None


class Pattern(_Shown):
    """One recurrence pattern, as `tandem recurrence list --json` prints it (docs/alerts.md)."""

    pattern: str
    service: str
    category: str | None
    fingerprint: str
    incidents: list[str]
    total: int
    last_24h: int
    last_7d: int
    last_30d: int
    first_seen: str
    last_seen: str
    mean_interval_hours: float | None
    same_hour_of_day: int | None
    same_weekday: str | None
    covered_by: list[str]
    threshold_crossed: str | None
    candidate: bool
    opened_at: list[str]


class AlertReceipt(BaseModel):
    """What one alert did, as a row of `tandem alert receive --json`."""

    source: str
    dedup_key: str
    status: str
    outcome: str
    """opened, recurred, reopened, occurred, accumulated (counted, written at the next flush),
    recovered or ignored."""
    incident: str | None


class AlertsReceived(BaseModel):
    """The answer to an alert webhook: every alert of the payload, in order, and the totals."""

    received: int
    outcomes: dict[str, int]
    alerts: list[AlertReceipt]
