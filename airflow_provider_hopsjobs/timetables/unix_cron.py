"""The Quartz expression a 5-field Unix cron means, for the error that refuses the Unix one.

A Unix cron given where Quartz is expected is the commonest schedule mistake, and the two
obvious repairs are both wrong: prefixing ``0`` leaves both day fields set (Quartz refuses
that), and putting ``?`` in day-of-month keeps Unix weekday numbers, which Quartz reads one
day earlier (Unix ``1-5`` is MON-FRI, Quartz ``1-5`` is SUN-THU). So the error carries the
translated expression instead of a rule to apply by hand:

* a seconds field ``0`` first; minutes, hours, day-of-month and month unchanged (same syntax);
* ``?`` in the day field that Unix leaves as ``*``;
* day-of-week numbers renumbered: Unix 0-7 (0 and 7 = Sunday) to Quartz 1-7 (1 = SUN), also in
  ``n#k`` and ``nL``; names (``MON-FRI``) and ``*`` or ``*/n`` (which select the same days in
  both) pass through.

When Unix cron restricts both day-of-month and day-of-week, a day matches if *either* does;
Quartz cannot express that, and :func:`quartz_equivalent` says so rather than invent one.
Pure functions on strings, no Airflow import (the emulator parses Quartz too).
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"^\d+$")
_TOKEN = re.compile(r"^(?P<range>[^/]+)(?:/(?P<step>\d+))?$")
_EVERY = re.compile(r"^\*(?:/\d+)?$")
_NTH = re.compile(r"^(?P<day>\w+?)(?P<rest>#[1-5]|L)$", re.IGNORECASE)
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


class UntranslatableUnixCron(ValueError):
    """A 5-field Unix cron with no single Quartz equivalent (or one this module cannot read)."""


def _quartz_day(unix: str) -> str:
    """One day-of-week endpoint: a Unix number renumbered, a name unchanged."""
    if unix.upper() in _DAY_NAMES:
        return unix.upper()
    if not _NUMBER.match(unix) or int(unix) > 7:
        raise UntranslatableUnixCron(f"its day-of-week {unix!r} is not a Unix weekday (0-7 or SUN-SAT)")
    return str(int(unix) % 7 + 1)


def _quartz_day_token(token: str) -> str:
    nth = _NTH.match(token)
    if nth is not None:  # the n-th such weekday of the month, or (``L``) its last
        return _quartz_day(nth.group("day")) + nth.group("rest").upper()
    if _EVERY.match(token):
        return token  # every (n-th) day from Sunday: the same days in both numberings
    match = _TOKEN.match(token)
    if match is None or token.startswith("*"):
        raise UntranslatableUnixCron(f"its day-of-week token {token!r} has no Quartz translation here")
    bounds, step = match.group("range").split("-"), match.group("step")
    suffix = f"/{step}" if step else ""
    if len(bounds) == 1:
        return _quartz_day(bounds[0]) + suffix
    if len(bounds) != 2:
        raise UntranslatableUnixCron(f"its day-of-week token {token!r} has no Quartz translation here")
    low, high = bounds
    if high == "7" and _NUMBER.match(low):  # ... through Sunday, the week's last day in Unix
        if low == "0":
            return "1-7" + suffix
        if step:
            raise UntranslatableUnixCron(f"its day-of-week token {token!r} has no Quartz translation here")
        return f"{_quartz_day(low)}-7,1"
    return f"{_quartz_day(low)}-{_quartz_day(high)}{suffix}"


def _restricted(field: str) -> bool:
    return field not in ("*", "?")


def quartz_equivalent(fields: tuple[str, ...] | list[str]) -> str:
    """The Quartz expression (seconds ``0``) that fires when the 5-field Unix cron ``fields`` does.

    :raises UntranslatableUnixCron: both day fields are restricted (Unix reads them as OR), or a
        day-of-week token this module does not know.
    """
    minute, hour, day_of_month, month, day_of_week = fields
    if _restricted(day_of_month) and _restricted(day_of_week):
        raise UntranslatableUnixCron(
            f"it restricts both day-of-month ({day_of_month!r}) and day-of-week ({day_of_week!r}), "
            "which Unix cron reads as 'either matches'; Quartz cannot express that: keep one of "
            "the two (with '?' in the other) or use two schedules"
        )
    if _restricted(day_of_week):
        days = ",".join(_quartz_day_token(token) for token in day_of_week.split(","))
        return f"0 {minute} {hour} ? {month} {days}"
    return f"0 {minute} {hour} {day_of_month} {month} ?"
