"""The `[sla]` section of `tandem.toml`: calendars and policies per priority (and per service).

Every policy field is optional: a priority's policy is its built-in one with the file's fields
over it, and a service's policy for a priority is that with the service's fields over it.
"""

import hashlib
import json
import re
from datetime import date, timedelta
from functools import cached_property
from importlib.metadata import version
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from domain.incident import HoldReason
from domain.priority import Priority
from domain.sla import BREACH, SlaPolicy
from domain.sla_calendar import Calendar, Window

ALWAYS = "24x7"
"""The built-in calendar in which every instant counts; its name cannot be redefined."""
BUSINESS = "business"
"""The built-in business calendar (Mon-Fri 08:00-18:00 UTC, no holidays); may be redefined."""
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BUILT_IN: dict[Priority, dict[str, Any]] = {
    Priority.P1: {"response": "15m", "resolution": "4h", "calendar": ALWAYS},
    Priority.P2: {"response": "30m", "resolution": "8h", "calendar": ALWAYS},
    Priority.P3: {"response": "4h", "resolution": "3d", "calendar": BUSINESS},
    Priority.P4: {"response": "1d", "resolution": "5d", "calendar": BUSINESS},
    Priority.P5: {"response": "2d", "resolution": "10d", "calendar": BUSINESS},
}
"""The issue's defaults; `d` is one business day of the policy's calendar."""
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_WINDOW = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")


def _duration(text: str) -> str:
    if not _DURATION.fullmatch(text.replace(" ", "")) or not re.search(r"[1-9]", text):
        raise ValueError(f"{text!r} is not a duration like '15m', '4h', '1h30m', '3d' "
                         "or '90s' (d = business days)")
    return text


def _windows(text: str) -> str:
    _parse_windows(text)
    return text


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone name (like 'Europe/Berlin')") from None
    return name


def _warnings(values: list[int]) -> list[int]:
    if values != sorted(set(values)) or any(not 0 < v < BREACH for v in values):
        raise ValueError(f"{values} must be ascending, distinct percentages between 1 and 99 "
                         "(the breach is always 100)")
    return values


Duration = Annotated[str, AfterValidator(_duration)]
Hours = Annotated[str, AfterValidator(_windows)]


class CalendarConfig(BaseModel):
    """Weekly working hours in a time zone, minus public holidays and extra dates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: Annotated[str, AfterValidator(_zone)] = "UTC"
    hours: dict[str, Hours] = Field(
        default_factory=lambda: dict.fromkeys(WEEKDAYS[:5], "08:00-18:00"))
    """Per weekday (`mon` ... `sun`): windows like "08:00-12:00, 13:00-17:00"; absent = closed."""
    holidays_country: str | None = None
    """ISO country code for the `holidays` package (e.g. "DE")."""
    holidays_subdivision: str | None = None
    """Its subdivision code (e.g. "BE" for Berlin)."""
    extra_holidays: list[date] = []

    @model_validator(mode="after")
    def _known(self) -> "CalendarConfig":
        unknown = sorted(set(self.hours) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"hours: {unknown} are not weekdays (use {', '.join(WEEKDAYS)})")
        if not any(_parse_windows(text) for text in self.hours.values()):
            raise ValueError("hours: the week has no working time")
        if self.holidays_subdivision and not self.holidays_country:
            raise ValueError("holidays_subdivision needs holidays_country")
        if self.holidays_country:
            import holidays  # loads its calendars: only when a country is configured

            try:
                holidays.country_holidays(self.holidays_country,
                                          subdiv=self.holidays_subdivision)
            except NotImplementedError as error:
                raise ValueError(f"holidays_country/holidays_subdivision: {error}") from None
        return self

    def calendar(self) -> Calendar:
        week = tuple(_parse_windows(self.hours.get(day, "")) for day in WEEKDAYS)
        dates = HolidayDates(self.holidays_country, self.holidays_subdivision,
                             self.extra_holidays)
        return Calendar(week=week, zone=self.timezone, holidays=dates)


class PolicyConfig(BaseModel):
    """Fields to set over a built-in policy; any left out keep their value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    response: Duration | None = None
    resolution: Duration | None = None
    calendar: str | None = None
    response_pauses_on: list[HoldReason] | None = None
    resolution_pauses_on: list[HoldReason] | None = None
    warnings: Annotated[list[int], AfterValidator(_warnings)] | None = None
    escalate_to: Annotated[str, Field(min_length=1, max_length=100)] | None = None


class SlaConfig(BaseModel):
    """`[sla]`: calendars by name, policies by priority, and per-service overrides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    calendars: dict[str, CalendarConfig] = {}
    priorities: dict[Priority, PolicyConfig] = {}
    services: dict[str, dict[Priority, PolicyConfig]] = {}

    @model_validator(mode="after")
    def _calendars_exist(self) -> "SlaConfig":
        if ALWAYS in self.calendars:
            raise ValueError(f"calendars.{ALWAYS}: the 24x7 calendar is built in")
        known = {ALWAYS, BUSINESS, *self.calendars}
        named = [(f"priorities.{p.value}", c) for p, c in self.priorities.items()]
        named += [(f"services.{s}.{p.value}", c) for s, by_priority in self.services.items()
                  for p, c in by_priority.items()]
        for key, policy in named:
            if policy.calendar is not None and policy.calendar not in known:
                raise ValueError(f"{key}.calendar: no calendar named {policy.calendar!r} "
                                 f"(known: {', '.join(sorted(known))})")
        return self

    def rules(self) -> "ConfiguredRules":
        return ConfiguredRules(self)

    @cached_property
    def digest(self) -> str:
        """SHA-256 of everything SLA results depend on: this section, the built-in defaults
        and, when public holidays are used, the `holidays` package's version."""
        identity: dict[str, Any] = {"config": self.model_dump(mode="json"),
                                    "built_in": BUILT_IN,
                                    "business": CalendarConfig().model_dump(mode="json")}
        if any(c.holidays_country for c in self.calendars.values()):
            identity["holidays"] = version("holidays")
        text = json.dumps(identity, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


class ConfiguredRules:
    """`SlaRules` from the configuration: every policy resolved once, looked up by key."""

    def __init__(self, config: SlaConfig) -> None:
        calendars = {BUSINESS: CalendarConfig().calendar(), ALWAYS: Calendar()}
        calendars |= {name: c.calendar() for name, c in config.calendars.items()}
        self.digest = config.digest
        self._policies: dict[tuple[str, str | None], SlaPolicy] = {}
        for priority, built_in in BUILT_IN.items():
            fields = {**built_in, **_set(config.priorities.get(priority))}
            self._policies[priority.value, None] = _policy(fields, calendars)
            for service, by_priority in config.services.items():
                merged = {**fields, **_set(by_priority.get(priority))}
                self._policies[priority.value, service] = _policy(merged, calendars)

    def policy(self, priority: str, service: str) -> SlaPolicy:
        """The service's policy for this priority, or the priority's own."""
        found = self._policies.get((priority, service))
        return found if found is not None else self._policies[priority, None]


class HolidayDates:
    """Public holidays of a country (and subdivision) plus extra dates, each year computed the
    first time a date in it is asked about, so any year works."""

    def __init__(self, country: str | None, subdivision: str | None,
                 extra: list[date]) -> None:
        self._country = country
        self._subdivision = subdivision
        self._extra = frozenset(extra)
        self._years: dict[int, frozenset[date]] = {}

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        if day in self._extra:
            return True
        if self._country is None:
            return False
        year = self._years.get(day.year)
        if year is None:
            import holidays  # loads its calendars: only when a country is configured

            found = holidays.country_holidays(self._country, subdiv=self._subdivision,
                                              years=day.year)
            year = self._years[day.year] = frozenset(found)
        return day in year


def _set(policy: PolicyConfig | None) -> dict[str, Any]:
    return {} if policy is None else policy.model_dump(exclude_none=True)


def _policy(fields: dict[str, Any], calendars: dict[str, Calendar]) -> SlaPolicy:
    calendar = calendars[fields["calendar"]]
    extra: dict[str, Any] = {}
    for key in ("response_pauses_on", "resolution_pauses_on"):
        if key in fields:
            extra[key] = frozenset(HoldReason(reason).value for reason in fields[key])
    if "warnings" in fields:
        extra["warnings"] = tuple(fields["warnings"])
    if "escalate_to" in fields:
        extra["escalate_to"] = fields["escalate_to"]
    return SlaPolicy(response=_amount(fields["response"], calendar),
                     resolution=_amount(fields["resolution"], calendar),
                     calendar=calendar, **extra)


def _amount(text: str, calendar: Calendar) -> timedelta:
    match = _DURATION.fullmatch(text.replace(" ", ""))
    assert match is not None  # validated when the file was loaded
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return days * calendar.business_day + timedelta(hours=hours, minutes=minutes,
                                                    seconds=seconds)


def _parse_windows(text: str) -> tuple[Window, ...]:
    """"08:00-12:00, 13:00-17:00" -> ((480, 720), (780, 1020)); "" -> no working time."""
    windows: list[Window] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _WINDOW.fullmatch(part)
        if match is None:
            raise ValueError(f"{part!r} is not a window like '08:00-18:00'")
        h1, m1, h2, m2 = map(int, match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or not 0 <= start < end <= 1440:
            raise ValueError(f"{part!r}: the end must follow the start within one day "
                             "(24:00 at the latest)")
        if windows and start < windows[-1][1]:
            raise ValueError(f"{text!r}: windows must be in order and not overlap")
        windows.append((start, end))
    return tuple(windows)
