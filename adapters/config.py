"""`tandem.toml`: the one configuration file, validated with pydantic; errors name the key."""

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.alerts.settings import AlertSettings, RecurrenceSettings
from adapters.http.access import AuthConfig
from adapters.sla_config import SlaConfig


class ConfigurationError(ValueError):
    """A setting is missing or malformed; the message names it."""


class TandemConfig(BaseModel):
    """Every section of `tandem.toml`; each section has built-in defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sla: SlaConfig = Field(default_factory=SlaConfig)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    recurrence: RecurrenceSettings = Field(default_factory=RecurrenceSettings)
    auth: AuthConfig = AuthConfig()
    """`[auth]`: API principals, roles and token hashes (docs/http.md)."""


def load_config(path: Path | None) -> TandemConfig:
    """The file's settings over the built-in defaults; no path means the defaults alone."""
    if path is None:
        return TandemConfig()
    try:
        with path.open("rb") as file:
            raw = tomllib.load(file)
    except FileNotFoundError:
        raise ConfigurationError(f"TANDEM_CONFIG: {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path}: not valid TOML: {error}") from None
    try:
        return TandemConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigurationError(f"{path}: {describe(error)}") from None


def describe(error: ValidationError) -> str:
    """`sla.P1.response: Input should be ...` for each problem, joined with `; `."""
    return "; ".join(
        f"{'.'.join(map(str, problem['loc'])) or '(top level)'}: {problem['msg']}"
        for problem in error.errors())
