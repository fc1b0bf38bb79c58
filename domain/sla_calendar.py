"""Business time: how much working time lies between two instants, and when an amount runs out.

A calendar is either every instant (24x7) or weekly working hours in a named time zone minus
holiday dates. Each day's working windows are laid out in local wall time and converted to UTC
one by one, so a day that gains or loses an hour at a daylight-saving change counts exactly the
working time it really has. Amounts are `timedelta`s (whole microseconds), so measuring the
business time between `t` and `add_business_time(t, d)` gives back exactly `d`.
"""

from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

Window = tuple[int, int]
"""One working period of a day: (start, end) in minutes after local midnight, end <= 1440."""

NO_TIME = timedelta(0)
SEARCH_DAYS = 3_660
"""How far `add_business_time` looks for working time before deciding there is none (10 years)."""


@dataclass(frozen=True, eq=False)
class Calendar:
    """When SLA clocks tick: 24x7 (`week is None`) or weekly hours in `zone`, minus holidays."""

    week: tuple[tuple[Window, ...], ...] | None = None
    """Seven entries, Monday first: each weekday's working windows, in order, not overlapping."""
    zone: str = "UTC"
    holidays: Container[date] = field(default_factory=frozenset)
    """Dates without working time; any container (the adapter's loads years lazily)."""

    def __post_init__(self) -> None:
        if self.week is None:
            return
        if len(self.week) != 7:
            raise ValueError(f"a week has 7 days, not {len(self.week)}")
        for windows in self.week:
            ends = 0
            for start, end in windows:
                if not ends <= start < end <= 1440:
                    raise ValueError(f"working windows must be ordered, within the day and not "
                                     f"overlap: {windows}")
                ends = end

    @property
    def always(self) -> bool:
        return self.week is None

    @property
    def business_day(self) -> timedelta:
        """What one business day is worth: 24 hours, or the longest working day of the week."""
        if self.week is None:
            return timedelta(days=1)
        return timedelta(minutes=max(sum(end - start for start, end in day) for day in self.week))

    def windows(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's working windows as UTC instants (none on a holiday)."""
        if self.week is None:
            raise ValueError("a 24x7 calendar has no daily windows")
        if day in self.holidays:
            return ()
        return _utc_windows(self.zone, day, self.week[day.weekday()])


@lru_cache(maxsize=65_536)
def _utc_windows(zone: str, day: date,
                 windows: tuple[Window, ...]) -> tuple[tuple[datetime, datetime], ...]:
    # Wall-clock arithmetic on an aware datetime keeps the wall time; astimezone then applies
    # that moment's offset, which is what makes a DST day 23 or 25 hours long.
    midnight = datetime(day.year, day.month, day.day, tzinfo=_zone(zone))
    return tuple(((midnight + timedelta(minutes=start)).astimezone(UTC),
                  (midnight + timedelta(minutes=end)).astimezone(UTC))
                 for start, end in windows)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _days(calendar: Calendar, start: datetime) -> Iterator[date]:
    day = start.astimezone(_zone(calendar.zone)).date()
    while True:
        yield day
        day += timedelta(days=1)


def business_time(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """The working time between two aware instants; nothing when `end` is not after `start`."""
    if end <= start:
        return NO_TIME
    if calendar.always:
        return end - start
    total = NO_TIME
    last = end.astimezone(_zone(calendar.zone)).date()
    for day in _days(calendar, start):
        if day > last:
            break
        for opens, closes in calendar.windows(day):
            if closes > start and opens < end:
                total += min(closes, end) - max(opens, start)
    return total


def add_business_time(calendar: Calendar, start: datetime, amount: timedelta) -> datetime:
    """The instant at which `amount` of working time after `start` has passed (its inverse)."""
    if amount <= NO_TIME:
        return start
    if calendar.always:
        return start + amount
    left = amount
    for searched, day in enumerate(_days(calendar, start)):
        if searched > SEARCH_DAYS:
            raise ValueError(f"the calendar has no working time in {SEARCH_DAYS} days "
                             f"after {start.isoformat()}")
        for opens, closes in calendar.windows(day):
            if closes <= start:
                continue
            begin = max(opens, start)
            if left <= closes - begin:
                return begin + left
            left -= closes - begin
    raise AssertionError("unreachable: the day iterator never ends")
