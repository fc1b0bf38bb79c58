"""The `[alerts]` and `[recurrence]` sections of `tandem.toml`, with their defaults."""

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, field_validator

from domain.alert import DEFAULT_SEVERITIES, UNKNOWN_SEVERITY, AlertRules, ImpactUrgency


class AlertSettings(BaseModel):
    """How alerts become incidents, and how the intake batches a storm (docs/alerts.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reopen_window_minutes: PositiveInt = 60
    flush_interval_seconds: PositiveFloat = 10.0
    flush_size: PositiveInt = 10_000
    """Accumulated repeats that force a flush before the interval is up."""
    severities: dict[str, ImpactUrgency] = Field(default_factory=lambda: dict(DEFAULT_SEVERITIES))
    unknown_severity: ImpactUrgency = UNKNOWN_SEVERITY

    @field_validator("severities")
    @classmethod
    def _lower_case(cls, severities: dict[str, ImpactUrgency]) -> dict[str, ImpactUrgency]:
        return {name.lower(): levels for name, levels in severities.items()}

    def rules(self) -> AlertRules:
        return AlertRules(reopen_window=timedelta(minutes=self.reopen_window_minutes),
                          severities=self.severities, unknown_severity=self.unknown_severity)


class RecurrenceThreshold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    incidents: int = Field(ge=2)
    within_hours: PositiveInt


class RecurrenceSettings(BaseModel):
    """When a pattern of incidents is a problem candidate, and whether the policy raises it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    problem_candidates: bool = True
    """The policy opens problems for candidates; off, `recurrence list` still shows them."""
    thresholds: list[RecurrenceThreshold] = Field(
        default_factory=lambda: [RecurrenceThreshold(incidents=3, within_hours=7 * 24),
                                 RecurrenceThreshold(incidents=5, within_hours=24)],
        min_length=1)
