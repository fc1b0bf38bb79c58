"""The generic JSON alert form, for any monitoring tool (fields in docs/alerts.md)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.alerts.payload import alert, parsed
from domain.alert import Alert


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    alerts: list[dict[str, Any]] = Field(min_length=1)


def parse_generic(payload: Any) -> list[Alert]:
    """`{"alerts": [...]}` or one alert object, normalised; unknown fields are refused."""
    if isinstance(payload, dict) and "alerts" not in payload:
        return [alert((), **payload)]
    return [alert(("alerts", index), **item)
            for index, item in enumerate(parsed(_Payload, payload).alerts)]
