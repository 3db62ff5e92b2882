"""Quartz cron expressions: parse them the way Quartz does and compute their fire times.

Hopsworks v2 job schedules are Quartz cron expressions (``sec min hour day-of-month month
day-of-week [year]``). Airflow's own cron support is five-field Unix cron, whose day-of-week
numbering (0-6 from Sunday) and day rules (day-of-month OR day-of-week) differ from Quartz
(1-7 from Sunday, exactly one of the two day fields is ``?``). Feeding a Quartz expression to
Unix cron silently shifts weekdays, so this module reads Quartz on its own terms.

What comes from where:

* croniter (shipped with Airflow) expands the tokens whose meaning is the same in both
  dialects: single values, ``*``, ``a-b`` with ``a < b``, ``a/s``, ``*/s`` and ``a-b/s``.
  Day-of-week values are renumbered explicitly (Quartz 1-7 to croniter 0-6) before it sees them.
* This module implements what croniter lacks or reads differently: field-and-token error
  messages, the ``?`` rule, wrap-around ranges (``22-2``, ``NOV-FEB``, ``FRI-MON``, stepped as
  Quartz does), ``a-a`` (one value in Quartz, the whole cycle in croniter), ``L``, ``L-n``,
  ``nW``, ``LW``, ``L-nW``, ``nL``, ``n#k``, and the search itself, which steps month by month
  and day by day and then picks hour, minute and second from their value sets.

It is pure Python (no Airflow import) so the emulator can use it and start fast. The grammar
(fields, names, tokens, their errors) is :mod:`.quartz_parse`; this module matches the parsed
value sets against the calendar and computes fire times.

Quartz rules followed, and the few places where this reading is deliberate:

* Exactly one of day-of-month and day-of-week must be ``?`` (Quartz's and cron-utils' rule;
  both ``?`` or neither is an error).
* ``L`` alone in day-of-week means 7 (SAT). ``L``/``nL`` and ``n#k`` must stand alone in the
  day-of-week field, as Quartz requires.
* Day-of-month lists may mix plain days with ``L``, ``L-n``, ``nW`` and ``LW``; the field
  matches the union (what current Quartz computes). A ``nW`` whose day does not exist in a
  month (``31W`` in April) does not fire that month; ``L-n`` before the 1st does not fire.
* ``nW`` never leaves the month: 1st on a Saturday gives Monday the 3rd, a last day on a Sunday
  gives the Friday before.
* A step must be at least 1 and at most the field's span (Quartz: 59, 23, 31, 12, 7).
* Years run from 1970 to 2099 (cron-utils' Quartz bound); after that there is no fire time.

Time zones: an expression is evaluated on the wall clock of the datetime you pass in, the way
Airflow's cron timetables do. A wall time that a DST change skips fires shifted forward by the
gap (02:30 becomes 03:30); a wall time that a DST change repeats fires once, at its second
occurrence (Airflow's choice); expressions that fire in every hour fire in both copies of the
repeated hour, so an hourly schedule keeps firing hourly through the change.
"""

from __future__ import annotations

import calendar
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Final

from airflow_provider_hopsjobs.timetables.quartz_parse import (
    HOURS,
    MINUTES,
    MONTH,
    QUARTZ_ALIASES,
    SECONDS,
    YEAR,
    DayRules,
    QuartzCronError,
    parse_expression,
)

__all__ = ["QUARTZ_ALIASES", "QuartzCron", "QuartzCronError"]

#: DST changes move wall clocks by at most two hours; three is a safe window to look for one.
_DST_WINDOW: Final = timedelta(hours=3)
_ONE_SECOND: Final = timedelta(seconds=1)
_UTC: Final = timezone.utc


def _nearest_weekday(year: int, month: int, day: int, last_day: int) -> int:
    """Quartz's ``W``: the weekday nearest ``day`` without leaving the month."""
    weekday = calendar.weekday(year, month, day)  # Monday = 0
    if weekday == calendar.SATURDAY:
        return day + 2 if day == 1 else day - 1
    if weekday == calendar.SUNDAY:
        return day - 2 if day == last_day else day + 1
    return day


def _quartz_weekday(python_weekday: int) -> int:
    """Python's Monday=0 numbering to Quartz's SUN=1 .. SAT=7."""
    return (python_weekday + 1) % 7 + 1


class QuartzCron:
    """A parsed Quartz cron expression. Build it with :meth:`parse`; instances are immutable."""

    __slots__ = (
        "_day_cache",
        "_days",
        "_every_hour",
        "_expression",
        "_fields",
        "_hours",
        "_minutes",
        "_months",
        "_quartz_expression",
        "_seconds",
        "_years",
    )

    def __init__(
        self,
        expression: str,
        quartz_expression: str,
        fields: tuple[str, ...],
        sets: list[frozenset[int]],
        days: DayRules,
    ) -> None:
        self._expression = expression
        self._quartz_expression = quartz_expression
        self._fields = fields
        self._seconds = tuple(sorted(sets[SECONDS]))
        self._minutes = tuple(sorted(sets[MINUTES]))
        self._hours = tuple(sorted(sets[HOURS]))
        self._months = tuple(sorted(sets[MONTH]))
        self._years = tuple(sorted(sets[YEAR]))
        self._days = days
        self._every_hour = len(self._hours) == 24
        self._day_cache: dict[tuple[int, int], tuple[int, ...]] = {}

    # ------------------------------------------------------------------ parsing

    @classmethod
    def parse(cls, expression: str) -> QuartzCron:
        """Parse a 6- or 7-field Quartz expression (or an ``@daily``-style shorthand).

        :raises QuartzCronError: naming the field and the token that are wrong.
        """
        if not isinstance(expression, str):
            raise TypeError(f"a Quartz cron expression must be a string, not {type(expression).__name__}")
        return _parse_cached(" ".join(expression.split()))

    # --------------------------------------------------------------- properties

    @property
    def expression(self) -> str:
        """The expression as given (whitespace normalised), shorthand included."""
        return self._expression

    @property
    def quartz_expression(self) -> str:
        """The 6- or 7-field Quartz form (a shorthand such as ``@daily`` expanded)."""
        return self._quartz_expression

    @property
    def fields(self) -> tuple[str, ...]:
        """The raw field texts of :attr:`quartz_expression` (6 or 7 of them)."""
        return self._fields

    @property
    def seconds_field(self) -> str:
        """The raw seconds field; Hopsworks accepts a schedule only when it is exactly ``"0"``."""
        return self._fields[SECONDS]

    @property
    def fires_every_hour(self) -> bool:
        """True when the hours field covers all 24 hours (such schedules also fire in a DST-repeated hour)."""
        return self._every_hour

    def __repr__(self) -> str:
        return f"QuartzCron({self._expression!r})"

    def __str__(self) -> str:
        return self._expression

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuartzCron):
            return NotImplemented
        return self._expression == other._expression

    def __hash__(self) -> int:
        return hash(self._expression)

    # ---------------------------------------------------------- calendar search

    def matching_days(self, year: int, month: int) -> tuple[int, ...]:
        """Days of ``month`` on which the expression fires (ignores the month and year fields)."""
        key = (year, month)
        cached = self._day_cache.get(key)
        if cached is not None:
            return cached
        rules = self._days
        last_day = calendar.monthrange(year, month)[1]
        days: set[int]
        if rules.by_day_of_month:
            days = {day for day in rules.days if day <= last_day}
            days.update(last_day - offset for offset in rules.last_offsets if last_day - offset >= 1)
            days.update(
                _nearest_weekday(year, month, day, last_day)
                for day in rules.nearest_weekdays
                if day <= last_day
            )
            days.update(
                _nearest_weekday(year, month, last_day - offset, last_day)
                for offset in rules.last_nearest_weekdays
                if last_day - offset >= 1
            )
        else:
            first = _quartz_weekday(calendar.weekday(year, month, 1))

            def first_day_of(weekday: int) -> int:
                return 1 + (weekday - first) % 7

            if rules.last_weekday is not None:
                day = first_day_of(rules.last_weekday)
                days = {day + 7 * ((last_day - day) // 7)}
            elif rules.nth_weekday is not None:
                weekday, nth = rules.nth_weekday
                day = first_day_of(weekday) + 7 * (nth - 1)
                days = {day} if day <= last_day else set()
            else:
                days = {
                    day for weekday in rules.weekdays for day in range(first_day_of(weekday), last_day + 1, 7)
                }
        result = tuple(sorted(days))
        self._day_cache[key] = result
        return result

    def _time_at_or_after(self, hour: int, minute: int, second: int) -> tuple[int, int, int] | None:
        hours, minutes, seconds = self._hours, self._minutes, self._seconds
        i = bisect_left(hours, hour)
        if i < len(hours) and hours[i] == hour:
            j = bisect_left(minutes, minute)
            if j < len(minutes) and minutes[j] == minute:
                k = bisect_left(seconds, second)
                if k < len(seconds):
                    return hour, minute, seconds[k]
                j += 1
            if j < len(minutes):
                return hour, minutes[j], seconds[0]
            i += 1
        if i < len(hours):
            return hours[i], minutes[0], seconds[0]
        return None

    def _time_at_or_before(self, hour: int, minute: int, second: int) -> tuple[int, int, int] | None:
        hours, minutes, seconds = self._hours, self._minutes, self._seconds
        i = bisect_right(hours, hour) - 1
        if i >= 0 and hours[i] == hour:
            j = bisect_right(minutes, minute) - 1
            if j >= 0 and minutes[j] == minute:
                k = bisect_right(seconds, second) - 1
                if k >= 0:
                    return hour, minute, seconds[k]
                j -= 1
            if j >= 0:
                return hour, minutes[j], seconds[-1]
            i -= 1
        if i >= 0:
            return hours[i], minutes[-1], seconds[-1]
        return None

    def next_naive(self, start: datetime) -> datetime | None:
        """The first wall-clock time at or after naive ``start`` (whole seconds) that matches."""
        months = self._months
        for year in self._years[bisect_left(self._years, start.year) :]:
            same_year = year == start.year
            for month in months[bisect_left(months, start.month) if same_year else 0 :]:
                same_month = same_year and month == start.month
                days = self.matching_days(year, month)
                for day in days[bisect_left(days, start.day) if same_month else 0 :]:
                    if same_month and day == start.day:
                        time = self._time_at_or_after(start.hour, start.minute, start.second)
                        if time is None:
                            continue
                        return datetime(year, month, day, *time)
                    return datetime(year, month, day, self._hours[0], self._minutes[0], self._seconds[0])
        return None

    def prev_naive(self, end: datetime) -> datetime | None:
        """The last wall-clock time at or before naive ``end`` (whole seconds) that matches."""
        months = self._months
        for year in reversed(self._years[: bisect_right(self._years, end.year)]):
            same_year = year == end.year
            for month in reversed(months[: bisect_right(months, end.month) if same_year else len(months)]):
                same_month = same_year and month == end.month
                days = self.matching_days(year, month)
                for day in reversed(days[: bisect_right(days, end.day) if same_month else len(days)]):
                    if same_month and day == end.day:
                        time = self._time_at_or_before(end.hour, end.minute, end.second)
                        if time is None:
                            continue
                        return datetime(year, month, day, *time)
                    return datetime(year, month, day, self._hours[-1], self._minutes[-1], self._seconds[-1])
        return None

    # ------------------------------------------------------------- time zones

    def _instants(self, wall: datetime, tz: tzinfo) -> tuple[datetime, ...]:
        """UTC instants at which wall-clock time ``wall`` fires in ``tz``."""
        first = wall.replace(tzinfo=tz).utcoffset()
        second = wall.replace(tzinfo=tz, fold=1).utcoffset()
        assert first is not None and second is not None  # tz is a real zone: checked by the callers
        earliest = (wall - first).replace(tzinfo=_UTC)
        if first <= second:
            # Unambiguous, or skipped by a DST gap: fold=0 reads it with the offset from before the
            # change, which is the wall time shifted forward by the gap.
            return (earliest,)
        # Repeated by a DST change: the second occurrence, as Airflow's make_aware picks (fold=1),
        # and both when the schedule fires every hour.
        latest = (wall - second).replace(tzinfo=_UTC)
        return (earliest, latest) if self._every_hour else (latest,)

    @staticmethod
    def _offsets_near(instants: tuple[datetime, ...], tz: tzinfo) -> set[timedelta]:
        """UTC offsets in force within a DST change's reach of ``instants``."""
        offsets = set()
        for instant in instants:
            for shift in (-_DST_WINDOW, timedelta(0), _DST_WINDOW):
                offset = (instant + shift).astimezone(tz).utcoffset()
                assert offset is not None
                offsets.add(offset)
        return offsets

    def _walls_between(self, low: datetime, high: datetime) -> Iterator[datetime]:
        """Matching wall times strictly after naive ``low`` and strictly before naive ``high``."""
        candidate = self.next_naive(low.replace(microsecond=0) + _ONE_SECOND)
        while candidate is not None and candidate < high:
            yield candidate
            candidate = self.next_naive(candidate + _ONE_SECOND)

    def next_fire(self, after: datetime) -> datetime | None:
        """The first fire time strictly after ``after``, in the time zone of ``after``.

        ``after`` must be timezone-aware; the expression is evaluated on its zone's wall clock.
        Returns None when the expression never fires again (year field exhausted, or past 2099).
        """
        tz, after_utc = _aware(after, "after")
        wall = after_utc.astimezone(tz).replace(tzinfo=None, fold=0)
        # The first matching wall time after ``after``'s own gives a fire time ...
        best: datetime | None = None
        candidate = self.next_naive(wall.replace(microsecond=0) + _ONE_SECOND)
        while best is None and candidate is not None:
            best = min((i for i in self._instants(candidate, tz) if i > after_utc), default=None)
            candidate = self.next_naive(candidate + _ONE_SECOND)
        if best is None:
            return None
        # ... but across a DST change an earlier one can come from another wall time. Any instant in
        # (after, best) read with offset o has its wall time in (after + o, best + o): search those.
        offsets = self._offsets_near((after_utc, best), tz)
        for offset in offsets if len(offsets) > 1 else ():  # one offset: wall order is time order
            low = (after_utc + offset).replace(tzinfo=None)
            for candidate in self._walls_between(low, (best + offset).replace(tzinfo=None)):
                for instant in self._instants(candidate, tz):
                    if after_utc < instant < best:
                        best = instant
        return best.astimezone(tz)

    def prev_fire(self, before: datetime) -> datetime | None:
        """The last fire time strictly before ``before``, in the time zone of ``before`` (None if none)."""
        tz, before_utc = _aware(before, "before")
        wall = before_utc.astimezone(tz).replace(tzinfo=None, fold=0)
        best: datetime | None = None
        candidate = self.prev_naive(wall.replace(microsecond=0) if wall.microsecond else wall - _ONE_SECOND)
        while best is None and candidate is not None:
            best = max((i for i in self._instants(candidate, tz) if i < before_utc), default=None)
            candidate = self.prev_naive(candidate - _ONE_SECOND)
        if best is None:
            return None
        offsets = self._offsets_near((best, before_utc), tz)
        for offset in offsets if len(offsets) > 1 else ():
            low = (best + offset).replace(tzinfo=None)
            for candidate in self._walls_between(low, (before_utc + offset).replace(tzinfo=None)):
                for instant in self._instants(candidate, tz):
                    if best < instant < before_utc:
                        best = instant
        return best.astimezone(tz)

    def iter_fires(self, after: datetime, until: datetime | None = None) -> Iterator[datetime]:
        """Fire times strictly after ``after`` and, when ``until`` is given, not later than it."""
        current = self.next_fire(after)
        while current is not None and (until is None or current <= until):
            yield current
            current = self.next_fire(current)


def _aware(value: datetime, name: str) -> tuple[tzinfo, datetime]:
    """Return the zone of ``value`` and ``value`` as a plain stdlib UTC datetime."""
    tz = value.tzinfo
    if tz is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    utc = value.astimezone(_UTC)
    return tz, datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=_UTC
    )


@lru_cache(maxsize=256)
def _parse_cached(expression: str) -> QuartzCron:
    parsed = parse_expression(expression)
    return QuartzCron(parsed.expression, parsed.quartz_expression, parsed.fields, parsed.sets, parsed.days)
