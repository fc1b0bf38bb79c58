"""Business-time arithmetic: nights, weekends, holidays and daylight-saving changes."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.sla_calendar import Calendar, add_business_time, business_time

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
OFFICE = tuple(((8 * 60, 18 * 60),) if weekday < 5 else () for weekday in range(7))
"""Monday to Friday, 08:00-18:00."""
ALL_DAY = tuple(((0, 1440),) for _ in range(7))
"""Every day, whole days: 24x7 in wall time, so DST days really are 23 or 25 hours."""


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0,
          minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def test_24x7_counts_every_instant() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert business_time(Calendar(), start, start + hours(30)) == hours(30)
    assert add_business_time(Calendar(), start, hours(30)) == start + hours(30)


def test_overnight_counts_only_the_working_hours_of_both_days() -> None:
    berlin = Calendar(week=OFFICE, zone="Europe/Berlin")
    tuesday_evening = local(BERLIN, 2026, 3, 3, 17, 0)
    wednesday_morning = local(BERLIN, 2026, 3, 4, 9, 30)
    assert business_time(berlin, tuesday_evening, wednesday_morning) == hours(2.5)
    assert add_business_time(berlin, tuesday_evening, hours(2.5)) == wednesday_morning


def test_a_weekend_counts_nothing() -> None:
    berlin = Calendar(week=OFFICE, zone="Europe/Berlin")
    friday_evening = local(BERLIN, 2026, 3, 6, 17, 0)
    assert business_time(berlin, friday_evening, local(BERLIN, 2026, 3, 9, 8, 0)) == hours(1)
    assert add_business_time(berlin, friday_evening, hours(3)) == local(BERLIN, 2026, 3, 9, 10)


def test_time_outside_the_hours_counts_nothing_and_the_next_window_starts_the_count() -> None:
    berlin = Calendar(week=OFFICE, zone="Europe/Berlin")
    saturday = local(BERLIN, 2026, 3, 7, 12, 0)
    assert business_time(berlin, saturday, local(BERLIN, 2026, 3, 8, 23, 0)) == timedelta(0)
    assert add_business_time(berlin, saturday, hours(1)) == local(BERLIN, 2026, 3, 9, 9, 0)


def test_a_holiday_counts_nothing() -> None:
    good_friday = date(2026, 4, 3)
    berlin = Calendar(week=OFFICE, zone="Europe/Berlin", holidays=frozenset({good_friday}))
    thursday_evening = local(BERLIN, 2026, 4, 2, 17, 0)
    # Thursday's last hour, then nothing until Monday (a holiday and a weekend).
    assert add_business_time(berlin, thursday_evening, hours(2)) == local(BERLIN, 2026, 4, 6, 9)
    assert business_time(berlin, thursday_evening, local(BERLIN, 2026, 4, 6, 9)) == hours(2)


@pytest.mark.parametrize(("zone", "day", "length"), [
    ("Europe/Berlin", date(2026, 3, 29), 23),     # clocks go forward at 02:00
    ("Europe/Berlin", date(2026, 10, 25), 25),    # and back at 03:00
    ("America/New_York", date(2026, 3, 8), 23),
    ("America/New_York", date(2026, 11, 1), 25),
])
def test_a_dst_change_day_has_the_hours_it_really_has(zone: str, day: date,
                                                      length: int) -> None:
    calendar = Calendar(week=ALL_DAY, zone=zone)
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    next_midnight = datetime(day.year, day.month, day.day + 1, tzinfo=ZoneInfo(zone))
    assert business_time(calendar, midnight, next_midnight) == hours(length)
    assert add_business_time(calendar, midnight, hours(length)) == next_midnight


def test_office_hours_across_a_dst_change_stay_ten_hours_a_day_in_local_time() -> None:
    new_york = Calendar(week=OFFICE, zone="America/New_York")
    friday_noon = local(NEW_YORK, 2026, 3, 6, 12, 0)   # EST (UTC-5)
    due = add_business_time(new_york, friday_noon, hours(10))
    assert due == local(NEW_YORK, 2026, 3, 9, 12, 0)   # EDT (UTC-4): still noon locally
    assert due.astimezone(UTC).hour == 16
    assert business_time(new_york, friday_noon, due) == hours(10)


def test_a_pause_spanning_a_weekend_excludes_it_and_the_rest_runs_on_monday() -> None:
    berlin = Calendar(week=OFFICE, zone="Europe/Berlin")
    opened = local(BERLIN, 2026, 3, 6, 14, 0)           # Friday
    paused = local(BERLIN, 2026, 3, 6, 16, 0)           # 2 h spent
    resumed = local(BERLIN, 2026, 3, 10, 8, 0)          # Tuesday morning
    spent = business_time(berlin, opened, paused)
    assert spent == hours(2)
    # 4 h target: 2 h left from Tuesday 08:00; the paused Monday is not counted.
    assert add_business_time(berlin, resumed, hours(4) - spent) == local(BERLIN, 2026, 3, 10, 10)


def test_several_windows_a_day_skip_the_break() -> None:
    split = tuple(((8 * 60, 12 * 60), (13 * 60, 17 * 60)) for _ in range(7))
    calendar = Calendar(week=split, zone="UTC")
    start = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert add_business_time(calendar, start, hours(2)) == datetime(2026, 3, 2, 14, tzinfo=UTC)
    assert calendar.business_day == hours(8)


def test_nothing_is_measured_backwards_and_nothing_added_is_the_start() -> None:
    berlin = Calendar(week=OFFICE, zone="Europe/Berlin")
    start = local(BERLIN, 2026, 3, 3, 10, 0)
    assert business_time(berlin, start, start - hours(5)) == timedelta(0)
    assert add_business_time(berlin, start, timedelta(0)) == start


def test_a_calendar_that_never_works_is_refused_when_adding() -> None:
    never = Calendar(week=OFFICE, zone="UTC", holidays=_EveryDay())
    with pytest.raises(ValueError, match="no working time"):
        add_business_time(never, datetime(2026, 3, 2, tzinfo=UTC), hours(1))


def test_malformed_weeks_are_refused() -> None:
    with pytest.raises(ValueError, match="7 days"):
        Calendar(week=OFFICE[:5])
    with pytest.raises(ValueError, match="overlap"):
        Calendar(week=(((600, 700), (650, 800)),) * 7)


class _EveryDay:
    def __contains__(self, day: object) -> bool:
        return True
