"""The `[sla]` section: the issue's defaults, overrides per priority and service, clear errors."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from adapters.config import ConfigurationError, TandemConfig, load_config
from domain.sla_calendar import add_business_time


def config(tmp_path: Path, text: str) -> TandemConfig:
    path = tmp_path / "tandem.toml"
    path.write_text(text)
    return load_config(path)


def test_the_built_in_policies_are_the_issues() -> None:
    rules = TandemConfig().sla.rules()
    day = timedelta(hours=10)  # Mon-Fri 08:00-18:00: a business day is 10 hours
    expected = {"P1": (timedelta(minutes=15), timedelta(hours=4), True),
                "P2": (timedelta(minutes=30), timedelta(hours=8), True),
                "P3": (timedelta(hours=4), 3 * day, False),
                "P4": (day, 5 * day, False),
                "P5": (2 * day, 10 * day, False)}
    for priority, (response, resolution, always) in expected.items():
        policy = rules.policy(priority, "email")
        assert (policy.response, policy.resolution, policy.calendar.always) == (
            response, resolution, always), priority
        assert policy.warnings == (50, 75)
        assert policy.response_pauses_on == frozenset()
        assert policy.resolution_pauses_on == {"awaiting_caller", "awaiting_vendor"}
    business = rules.policy("P3", "email").calendar
    assert business.zone == "UTC"
    assert business.week is not None
    assert business.week[:5] == (((480, 1080),),) * 5
    assert business.week[5:] == ((), ())


def test_a_priority_and_a_service_override_only_what_they_name(tmp_path: Path) -> None:
    rules = config(tmp_path, """
[sla.priorities.P1]
response = "10m"
warnings = [80]
[sla.services.payments.P1]
resolution = "2h"
escalate_to = "payments-lead"
""").sla.rules()
    general, payments = rules.policy("P1", "email"), rules.policy("P1", "payments")
    assert (general.response, general.resolution, general.warnings) == (
        timedelta(minutes=10), timedelta(hours=4), (80,))
    assert (payments.response, payments.resolution, payments.escalate_to) == (
        timedelta(minutes=10), timedelta(hours=2), "payments-lead")
    assert rules.policy("P2", "payments").response == timedelta(minutes=30)


def test_a_calendar_with_public_holidays_of_any_year_and_extra_dates(tmp_path: Path) -> None:
    rules = config(tmp_path, """
[sla.calendars.berlin]
timezone = "Europe/Berlin"
hours = { mon = "08:00-12:00, 13:00-17:00", tue = "08:00-17:00", sat = "09:00-13:00" }
holidays_country = "DE"
holidays_subdivision = "BE"
extra_holidays = [2026-12-31]
[sla.priorities.P3]
calendar = "berlin"
resolution = "1d"
""").sla.rules()
    calendar = rules.policy("P3", "email").calendar
    assert rules.policy("P3", "email").resolution == timedelta(hours=9)  # the longest day
    assert date(2026, 4, 3) in calendar.holidays     # Good Friday
    assert date(2026, 3, 8) in calendar.holidays     # Women's Day, a Berlin holiday
    assert date(2091, 12, 25) in calendar.holidays   # far years load when asked about
    assert date(2026, 12, 31) in calendar.holidays
    assert date(2026, 3, 9) not in calendar.holidays
    # Saturday 2026-03-07 09:00-13:00 then Monday 08:00-12:00, 13:00-...
    saturday = datetime(2026, 3, 7, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    assert add_business_time(calendar, saturday, timedelta(hours=9)) == datetime(
        2026, 3, 9, 13, 0, tzinfo=UTC)  # 14:00 in Berlin: 4 h Sat, 4 h Mon morning, 1 h after


@pytest.mark.parametrize(("text", "message"), [
    ('[sla.priorities.P1]\nresponse = "soon"',
     r"sla\.priorities\.P1\.response: .*'soon' is not a duration"),
    ('[sla.priorities.P1]\nresponse = "0m"', r"sla\.priorities\.P1\.response: "),
    ('[sla.priorities.P9]\nresponse = "1h"', r"sla\.priorities\.P9"),
    ('[sla.priorities.P1]\ncalendar = "lunar"',
     r"priorities\.P1\.calendar: no calendar named 'lunar'"),
    ('[sla.services.web.P2]\ncalendar = "lunar"', r"services\.web\.P2\.calendar: no calendar"),
    ('[sla.priorities.P1]\nwarnings = [75, 50]', r"sla\.priorities\.P1\.warnings: .*ascending"),
    ('[sla.priorities.P1]\nwarnings = [100]', r"sla\.priorities\.P1\.warnings"),
    ('[sla.priorities.P1]\nresolution_pauses_on = ["lunch"]',
     r"sla\.priorities\.P1\.resolution_pauses_on\.0"),
    ('[sla.calendars.x]\ntimezone = "Mars/Olympus"',
     r"sla\.calendars\.x\.timezone: .*not a time zone"),
    ('[sla.calendars.x]\nhours = { mon = "18:00-08:00" }', r"sla\.calendars\.x\.hours\.mon"),
    ('[sla.calendars.x]\nhours = { monday = "08:00-18:00" }', r"hours: \['monday'\]"),
    ('[sla.calendars.x]\nhours = {}', r"the week has no working time"),
    ('[sla.calendars.x]\nholidays_country = "XX"', r"holidays_country.*XX"),
    ('[sla.calendars.x]\nholidays_country = "DE"\nholidays_subdivision = "ZZ"', r"ZZ"),
    ('[sla.calendars."24x7"]\ntimezone = "UTC"', r"calendars\.24x7: .*built in"),
    ("[sla]\npriority = {}", r"sla\.priority: Extra inputs"),
])
def test_a_mistake_is_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        config(tmp_path, text)


def test_the_digest_follows_the_configuration_not_the_key_order(tmp_path: Path) -> None:
    one = config(tmp_path, '[sla.priorities.P1]\nresponse = "10m"\nresolution = "2h"\n')
    same = config(tmp_path, '[sla.priorities.P1]\nresolution = "2h"\nresponse = "10m"\n')
    other = config(tmp_path, '[sla.priorities.P1]\nresponse = "11m"\n')
    assert one.sla.digest == same.sla.digest
    assert len({TandemConfig().sla.digest, one.sla.digest, other.sla.digest}) == 3


def test_the_worked_example_of_docs_sla_md() -> None:
    """A P3 opened on Friday at 17:00 (business calendar): response due Monday 11:00,
    resolution (30 business hours) due Wednesday 17:00."""
    policy = TandemConfig().sla.rules().policy("P3", "email")
    friday = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)
    assert add_business_time(policy.calendar, friday, policy.response) == datetime(
        2026, 3, 9, 11, 0, tzinfo=UTC)
    assert add_business_time(policy.calendar, friday, policy.resolution) == datetime(
        2026, 3, 11, 17, 0, tzinfo=UTC)


def test_a_target_may_be_given_in_seconds(tmp_path: Path) -> None:
    rules = config(tmp_path, '[sla.priorities.P1]\nresponse = "90s"\nresolution = "1h2m3s"\n'
                   ).sla.rules()
    policy = rules.policy("P1", "email")
    assert (policy.response, policy.resolution) == (timedelta(seconds=90),
                                                    timedelta(hours=1, minutes=2, seconds=3))
