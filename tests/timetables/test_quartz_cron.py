"""Conformance of QuartzCron with Quartz's documented semantics.

Expected fire times below were worked out by hand from the CronExpression javadoc and the
Quartz "CronTrigger" tutorial (and a wall calendar), not produced by the code under test.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pendulum
import pytest

from airflow_provider_hopsjobs.timetables.quartz_cron import QUARTZ_ALIASES, QuartzCron, QuartzCronError

UTC = timezone.utc


def _fires(expression: str, after: str, count: int, tz: str = "UTC") -> list[str | None]:
    cron = QuartzCron.parse(expression)
    current: datetime | None = datetime.fromisoformat(after).replace(tzinfo=ZoneInfo(tz))
    result: list[str | None] = []
    for _ in range(count):
        assert current is not None
        current = cron.next_fire(current)
        result.append(None if current is None else current.isoformat())
        if current is None:
            break
    return result


def _z(*stamps: str | None) -> list[str | None]:
    return [None if s is None else f"{s}+00:00" for s in stamps]


# (expression, after (UTC wall time), expected next fire times)
CONFORMANCE = [
    # Quartz tutorial examples
    ("0 0 12 * * ?", "2024-01-01T12:00:00", _z("2024-01-02T12:00:00", "2024-01-03T12:00:00")),
    ("0 15 10 ? * *", "2024-01-01T10:15:01", _z("2024-01-02T10:15:00", "2024-01-03T10:15:00")),
    ("0 15 10 * * ? 2030", "2029-06-01T00:00:00", _z("2030-01-01T10:15:00", "2030-01-02T10:15:00")),
    ("0 * 14 * * ?", "2024-01-01T14:58:30", _z("2024-01-01T14:59:00", "2024-01-02T14:00:00")),
    ("0 0/5 14 * * ?", "2024-01-01T14:50:00", _z("2024-01-01T14:55:00", "2024-01-02T14:00:00")),
    ("0 0/5 14,18 * * ?", "2024-01-01T14:55:00", _z("2024-01-01T18:00:00", "2024-01-01T18:05:00")),
    ("0 0-5 14 * * ?", "2024-01-01T14:04:00", _z("2024-01-01T14:05:00", "2024-01-02T14:00:00")),
    (
        "0 10,44 14 ? 3 WED",
        "2024-01-01T00:00:00",
        _z("2024-03-06T14:10:00", "2024-03-06T14:44:00", "2024-03-13T14:10:00"),
    ),
    ("0 15 10 ? * MON-FRI", "2024-01-05T10:15:00", _z("2024-01-08T10:15:00", "2024-01-09T10:15:00")),
    ("0 15 10 15 * ?", "2024-01-15T10:15:00", _z("2024-02-15T10:15:00", "2024-03-15T10:15:00")),
    # L: last day of the month, across month ends and leap years
    ("0 15 10 L * ?", "2023-01-31T11:00:00", _z("2023-02-28T10:15:00", "2023-03-31T10:15:00")),
    ("0 15 10 L * ?", "2024-01-31T11:00:00", _z("2024-02-29T10:15:00", "2024-03-31T10:15:00")),
    (
        "0 0 0 L 2 ?",
        "2023-01-01T00:00:00",
        _z("2023-02-28T00:00:00", "2024-02-29T00:00:00", "2025-02-28T00:00:00"),
    ),
    # L-n: n days before the last day
    (
        "0 15 10 L-2 * ?",
        "2024-01-01T00:00:00",
        _z("2024-01-29T10:15:00", "2024-02-27T10:15:00", "2024-03-29T10:15:00"),
    ),
    ("0 15 10 L-2 * ?", "2023-02-01T00:00:00", _z("2023-02-26T10:15:00")),
    # L-30 only exists in 31-day months
    (
        "0 0 0 L-30 * ?",
        "2024-01-01T00:00:00",
        _z("2024-03-01T00:00:00", "2024-05-01T00:00:00", "2024-07-01T00:00:00"),
    ),
    # nL: last given weekday of the month (6 = FRI)
    (
        "0 15 10 ? * 6L",
        "2024-01-01T00:00:00",
        _z("2024-01-26T10:15:00", "2024-02-23T10:15:00", "2024-03-29T10:15:00"),
    ),
    ("0 15 10 ? * FRIL", "2024-01-01T00:00:00", _z("2024-01-26T10:15:00")),
    # n#k: k-th given weekday
    (
        "0 15 10 ? * 6#3",
        "2024-01-01T00:00:00",
        _z("2024-01-19T10:15:00", "2024-02-16T10:15:00", "2024-03-15T10:15:00"),
    ),
    # "#5" does not fire in months without a fifth such day
    (
        "0 0 0 ? * 2#5",
        "2024-01-30T00:00:00",
        _z("2024-04-29T00:00:00", "2024-07-29T00:00:00", "2024-09-30T00:00:00"),
    ),
    (
        "0 0 0 ? * 6#5",
        "2024-01-01T00:00:00",
        _z("2024-03-29T00:00:00", "2024-05-31T00:00:00", "2024-08-30T00:00:00"),
    ),
    # steps
    (
        "0 0 12 1/5 * ?",
        "2024-01-26T12:00:00",
        _z("2024-01-31T12:00:00", "2024-02-01T12:00:00", "2024-02-06T12:00:00"),
    ),
    (
        "0 0 0/7 * * ?",
        "2024-01-01T00:00:00",
        _z("2024-01-01T07:00:00", "2024-01-01T14:00:00", "2024-01-01T21:00:00", "2024-01-02T00:00:00"),
    ),
    (
        "0 0 3-20/4 * * ?",
        "2024-01-01T00:00:00",
        _z(
            "2024-01-01T03:00:00",
            "2024-01-01T07:00:00",
            "2024-01-01T11:00:00",
            "2024-01-01T15:00:00",
            "2024-01-01T19:00:00",
            "2024-01-02T03:00:00",
        ),
    ),
    (
        "*/15 * * * * ?",
        "2024-01-01T00:00:00",
        _z("2024-01-01T00:00:15", "2024-01-01T00:00:30", "2024-01-01T00:00:45", "2024-01-01T00:01:00"),
    ),
    (
        "/20 0 0 * * ?",
        "2024-01-01T00:00:00",
        _z("2024-01-01T00:00:20", "2024-01-01T00:00:40", "2024-01-02T00:00:00"),
    ),
    ("30 * * * * ?", "2024-01-01T00:00:30", _z("2024-01-01T00:01:30")),
    ("0 11 11 11 11 ?", "2024-01-01T00:00:00", _z("2024-11-11T11:11:00", "2025-11-11T11:11:00")),
    # W: nearest weekday, never crossing the month boundary
    (
        "0 0 0 15W * ?",
        "2024-06-01T00:00:00",
        _z("2024-06-14T00:00:00", "2024-07-15T00:00:00", "2024-08-15T00:00:00"),
    ),
    ("0 0 0 15W * ?", "2024-09-01T00:00:00", _z("2024-09-16T00:00:00")),
    ("0 0 0 1W * ?", "2024-05-02T00:00:00", _z("2024-06-03T00:00:00", "2024-07-01T00:00:00")),
    (
        "0 0 0 31W * ?",
        "2024-03-01T00:00:00",
        _z("2024-03-29T00:00:00", "2024-05-31T00:00:00", "2024-07-31T00:00:00"),
    ),
    # LW: last weekday of the month
    (
        "0 0 0 LW * ?",
        "2024-01-01T00:00:00",
        _z("2024-01-31T00:00:00", "2024-02-29T00:00:00", "2024-03-29T00:00:00"),
    ),
    ("0 0 0 LW * ?", "2024-08-01T00:00:00", _z("2024-08-30T00:00:00")),
    # L-nW: nearest weekday to n days before the last day (Quartz's parser accepts it)
    (
        "0 0 0 L-3W * ?",
        "2024-03-01T00:00:00",
        _z("2024-03-28T00:00:00", "2024-04-26T00:00:00", "2024-05-28T00:00:00"),
    ),
    # day-of-month lists mixing plain days and L / LW are a union
    (
        "0 0 12 1,15,L * ?",
        "2024-02-01T12:00:00",
        _z("2024-02-15T12:00:00", "2024-02-29T12:00:00", "2024-03-01T12:00:00"),
    ),
    (
        "0 0 0 LW,15 * ?",
        "2024-03-01T00:00:00",
        _z("2024-03-15T00:00:00", "2024-03-29T00:00:00", "2024-04-15T00:00:00", "2024-04-30T00:00:00"),
    ),
    # leap day
    ("0 0 0 29 2 ?", "2024-03-01T00:00:00", _z("2028-02-29T00:00:00", "2032-02-29T00:00:00")),
    # day-of-week is 1-7 = SUN-SAT, names are the same days; L alone is SAT
    ("0 0 0 ? * SUN", "2024-01-01T00:00:00", _z("2024-01-07T00:00:00", "2024-01-14T00:00:00")),
    ("0 0 0 ? * 1", "2024-01-01T00:00:00", _z("2024-01-07T00:00:00", "2024-01-14T00:00:00")),
    ("0 0 0 ? * 7", "2024-01-01T00:00:00", _z("2024-01-06T00:00:00", "2024-01-13T00:00:00")),
    ("0 0 0 ? * SAT", "2024-01-01T00:00:00", _z("2024-01-06T00:00:00", "2024-01-13T00:00:00")),
    ("0 0 0 ? * L", "2024-01-01T00:00:00", _z("2024-01-06T00:00:00", "2024-01-13T00:00:00")),
    ("0 0 12 ? * 2-6", "2024-01-06T00:00:00", _z("2024-01-08T12:00:00")),
    (
        "0 0 0 ? * 1/2",
        "2024-01-01T00:00:00",
        _z(
            "2024-01-02T00:00:00",
            "2024-01-04T00:00:00",
            "2024-01-06T00:00:00",
            "2024-01-07T00:00:00",
            "2024-01-09T00:00:00",
        ),
    ),
    # names are case-insensitive
    (
        "0 0 12 ? jan mon",
        "2024-01-01T12:00:00",
        _z(
            "2024-01-08T12:00:00",
            "2024-01-15T12:00:00",
            "2024-01-22T12:00:00",
            "2024-01-29T12:00:00",
            "2025-01-06T12:00:00",
        ),
    ),
    # overflowing ranges wrap, steps continue across the wrap
    (
        "0 0 0 ? * FRI-MON",
        "2024-01-02T00:00:00",
        _z(
            "2024-01-05T00:00:00",
            "2024-01-06T00:00:00",
            "2024-01-07T00:00:00",
            "2024-01-08T00:00:00",
            "2024-01-12T00:00:00",
        ),
    ),
    (
        "0 0 22-2 * * ?",
        "2024-01-01T12:00:00",
        _z(
            "2024-01-01T22:00:00",
            "2024-01-01T23:00:00",
            "2024-01-02T00:00:00",
            "2024-01-02T01:00:00",
            "2024-01-02T02:00:00",
            "2024-01-02T22:00:00",
        ),
    ),
    (
        "0 0 22-3/2 * * ?",
        "2024-01-01T12:00:00",
        _z("2024-01-01T22:00:00", "2024-01-02T00:00:00", "2024-01-02T02:00:00", "2024-01-02T22:00:00"),
    ),
    (
        "0 0 0 1 NOV-FEB ?",
        "2024-03-01T00:00:00",
        _z(
            "2024-11-01T00:00:00",
            "2024-12-01T00:00:00",
            "2025-01-01T00:00:00",
            "2025-02-01T00:00:00",
            "2025-11-01T00:00:00",
        ),
    ),
    (
        "0 0 0 1 10-3/4 ?",
        "2024-01-01T00:00:00",
        _z("2024-02-01T00:00:00", "2024-10-01T00:00:00", "2025-02-01T00:00:00"),
    ),
    (
        "0 0 0 30-2 * ?",
        "2024-02-01T00:00:00",
        _z(
            "2024-02-02T00:00:00",
            "2024-03-01T00:00:00",
            "2024-03-02T00:00:00",
            "2024-03-30T00:00:00",
            "2024-03-31T00:00:00",
            "2024-04-01T00:00:00",
        ),
    ),
    # a-a is the single value a (croniter reads it as the whole cycle; Quartz does not)
    ("0 5-5 * * * ?", "2024-01-01T00:05:00", _z("2024-01-01T01:05:00")),
    # year field
    ("0 0 0 1 1 ? 2030/5", "2024-01-01T00:00:00", _z("2030-01-01T00:00:00", "2035-01-01T00:00:00")),
    (
        "0 0 0 1 1 ? 2025,2027-2028",
        "2024-06-01T00:00:00",
        _z("2025-01-01T00:00:00", "2027-01-01T00:00:00", "2028-01-01T00:00:00", None),
    ),
    # Hopsworks CLI shorthands
    ("@hourly", "2024-01-01T00:30:00", _z("2024-01-01T01:00:00", "2024-01-01T02:00:00")),
    ("@daily", "2024-01-01T00:00:00", _z("2024-01-02T00:00:00", "2024-01-03T00:00:00")),
    ("@weekly", "2024-01-01T00:00:00", _z("2024-01-07T00:00:00")),
    ("@monthly", "2024-01-15T00:00:00", _z("2024-02-01T00:00:00", "2024-03-01T00:00:00")),
    ("@YEARLY", "2024-06-01T00:00:00", _z("2025-01-01T00:00:00")),
]


@pytest.mark.parametrize(("expression", "after", "expected"), CONFORMANCE)
def test_conformance(expression, after, expected):
    assert _fires(expression, after, len(expected)) == expected


# DST: evaluated on the zone's wall clock, like Airflow's cron timetables.
DST = [
    # Amsterdam springs forward 2024-03-31 02:00 -> 03:00: 02:30 does not exist, fires shifted to 03:30
    (
        "0 30 2 * * ?",
        "Europe/Amsterdam",
        "2024-03-30T03:00:00",
        ["2024-03-31T03:30:00+02:00", "2024-04-01T02:30:00+02:00"],
    ),
    (
        "0 0 3 * * ?",
        "Europe/Amsterdam",
        "2024-03-30T03:00:00",
        ["2024-03-31T03:00:00+02:00", "2024-04-01T03:00:00+02:00"],
    ),
    # Amsterdam falls back 2024-10-27 03:00 -> 02:00: a daily 02:30 fires once, at its second
    # occurrence (the one Airflow's make_aware picks)
    (
        "0 30 2 * * ?",
        "Europe/Amsterdam",
        "2024-10-26T03:00:00",
        ["2024-10-27T02:30:00+01:00", "2024-10-28T02:30:00+01:00"],
    ),
    # an hourly schedule fires in both copies of the repeated hour, and once through the gap
    (
        "0 0 * * * ?",
        "Europe/Amsterdam",
        "2024-10-27T01:30:00",
        ["2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00", "2024-10-27T03:00:00+01:00"],
    ),
    (
        "0 0 * * * ?",
        "Europe/Amsterdam",
        "2024-03-31T01:30:00",
        ["2024-03-31T03:00:00+02:00", "2024-03-31T04:00:00+02:00"],
    ),
    # New York: wall time stays 09:00 while the offset changes
    (
        "0 0 9 * * ?",
        "America/New_York",
        "2024-03-09T00:00:00",
        ["2024-03-09T09:00:00-05:00", "2024-03-10T09:00:00-04:00"],
    ),
    (
        "0 0/30 * * * ?",
        "America/New_York",
        "2024-11-03T00:45:00",
        [
            "2024-11-03T01:00:00-04:00",
            "2024-11-03T01:30:00-04:00",
            "2024-11-03T01:00:00-05:00",
            "2024-11-03T01:30:00-05:00",
            "2024-11-03T02:00:00-05:00",
        ],
    ),
    (
        "0 0 2 ? * SUN",
        "America/New_York",
        "2024-03-09T00:00:00",
        ["2024-03-10T03:00:00-04:00", "2024-03-17T02:00:00-04:00"],
    ),
    (
        "0 30 1 * * ?",
        "America/New_York",
        "2024-11-02T03:00:00",
        ["2024-11-03T01:30:00-05:00", "2024-11-04T01:30:00-05:00"],
    ),
    (
        "0 0,30 1 * * ?",
        "America/New_York",
        "2024-11-03T00:59:00",
        ["2024-11-03T01:00:00-05:00", "2024-11-03T01:30:00-05:00", "2024-11-04T01:00:00-05:00"],
    ),
]


@pytest.mark.parametrize(("expression", "tz", "after", "expected"), DST)
def test_dst(expression, tz, after, expected):
    assert _fires(expression, after, len(expected), tz) == expected


def test_start_inside_the_repeated_hour():
    ny = ZoneInfo("America/New_York")
    second_0110 = datetime(2024, 11, 3, 1, 10, tzinfo=ny, fold=1)  # 01:10 EST, after the change
    assert second_0110.utcoffset() == timedelta(hours=-5)
    daily = QuartzCron.parse("0 5 1 * * ?").next_fire(second_0110)
    assert daily is not None and daily.isoformat() == "2024-11-04T01:05:00-05:00"
    hourly = QuartzCron.parse("0 30 * * * ?").next_fire(second_0110)
    assert hourly is not None and hourly.isoformat() == "2024-11-03T01:30:00-05:00"


def test_evaluated_in_the_zone_of_after():
    cron = QuartzCron.parse("0 0 9 * * ?")
    instant = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)  # 07:00 in New York
    assert cron.next_fire(instant) == datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
    in_ny = cron.next_fire(instant.astimezone(ZoneInfo("America/New_York")))
    assert in_ny is not None and in_ny.isoformat() == "2024-01-01T09:00:00-05:00"


def test_pendulum_datetimes_are_accepted():
    after = pendulum.datetime(2024, 3, 30, 3, 0, tz="Europe/Amsterdam")
    fire = QuartzCron.parse("0 30 2 * * ?").next_fire(after)
    assert fire is not None and fire.isoformat() == "2024-03-31T03:30:00+02:00"


def test_strictly_after_and_sub_second_input():
    cron = QuartzCron.parse("0 0 12 * * ?")
    noon = datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert cron.next_fire(noon) == noon + timedelta(days=1)
    assert cron.next_fire(noon - timedelta(microseconds=1)) == noon
    assert cron.next_fire(noon + timedelta(microseconds=1)) == noon + timedelta(days=1)
    assert cron.prev_fire(noon) == noon - timedelta(days=1)
    assert cron.prev_fire(noon + timedelta(microseconds=1)) == noon


def test_no_future_fire():
    assert (
        QuartzCron.parse("0 15 10 * * ? 2030").next_fire(datetime(2030, 12, 31, 10, 15, tzinfo=UTC)) is None
    )
    assert (
        QuartzCron.parse("0 15 10 ? * 6L 2024-2025").next_fire(datetime(2025, 12, 26, 10, 15, tzinfo=UTC))
        is None
    )
    assert QuartzCron.parse("0 0 0 29 2 ? 2097-2099").next_fire(datetime(2024, 1, 1, tzinfo=UTC)) is None
    assert QuartzCron.parse("0 0 0 30 2 ?").next_fire(datetime(2024, 1, 1, tzinfo=UTC)) is None
    assert QuartzCron.parse("0 0 0 * * ?").next_fire(datetime(2099, 12, 31, 0, 0, tzinfo=UTC)) is None
    assert QuartzCron.parse("0 0 0 * * ?").prev_fire(datetime(1970, 1, 1, 0, 0, tzinfo=UTC)) is None


def test_prev_fire_examples():
    cron = QuartzCron.parse("0 15 10 ? * 6L")
    assert cron.prev_fire(datetime(2024, 3, 1, tzinfo=UTC)) == datetime(2024, 2, 23, 10, 15, tzinfo=UTC)
    ams = ZoneInfo("Europe/Amsterdam")
    hourly = QuartzCron.parse("0 0 * * * ?")
    prev = hourly.prev_fire(datetime(2024, 10, 27, 3, 0, tzinfo=ams))
    assert prev is not None and prev.isoformat() == "2024-10-27T02:00:00+01:00"
    prev = hourly.prev_fire(prev)
    assert prev is not None and prev.isoformat() == "2024-10-27T02:00:00+02:00"


def test_naive_datetime_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        QuartzCron.parse("0 0 12 * * ?").next_fire(datetime(2024, 1, 1))


def test_properties_of_a_parsed_expression():
    cron = QuartzCron.parse("  0   0 12 ? * MON-FRI 2030 ")
    assert cron.expression == "0 0 12 ? * MON-FRI 2030"
    assert cron.seconds_field == "0"
    assert len(cron.fields) == 7
    assert QuartzCron.parse("30 0 12 * * ?").seconds_field == "30"
    daily = QuartzCron.parse("@daily")
    assert daily.expression == "@daily"
    assert daily.quartz_expression == QUARTZ_ALIASES["@daily"] == "0 0 0 * * ?"
    assert daily.seconds_field == "0"
    assert QuartzCron.parse("0 0 * * * ?").fires_every_hour
    assert not QuartzCron.parse("0 0 */2 * * ?").fires_every_hour
    assert QuartzCron.parse("0 0 12 * * ?") == QuartzCron.parse("0 0 12 * * ?")
    assert str(cron) == cron.expression


def test_iter_fires():
    cron = QuartzCron.parse("0 0 0 ? * MON")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    fires = list(cron.iter_fires(start, start + timedelta(days=21)))
    assert fires == [start + timedelta(days=7), start + timedelta(days=14), start + timedelta(days=21)]


# (expression, field, token); the message must name both
BAD = [
    ("0 0 12 ? * 0", "day-of-week", "0"),
    ("0 0 12 ? * 8", "day-of-week", "8"),
    ("0 0 12 ? * 0-4", "day-of-week", "0-4"),
    ("60 * * * * ?", "seconds", "60"),
    ("0 60 * * * ?", "minutes", "60"),
    ("0 0-60 * * * ?", "minutes", "0-60"),
    ("0 0 24 * * ?", "hours", "24"),
    ("0 0 0 0 * ?", "day-of-month", "0"),
    ("0 0 0 32 * ?", "day-of-month", "32"),
    ("0 0 0 1 13 ?", "month", "13"),
    ("0 0 0 1 0 ?", "month", "0"),
    ("0 0 0 1 Foo ?", "month", "Foo"),
    ("0 0 0 ? * FUN", "day-of-week", "FUN"),
    ("0 0 MON * * ?", "hours", "MON"),
    ("0 0 0 1 * ? 1969", "year", "1969"),
    ("0 0 0 1 * ? 2100", "year", "2100"),
    ("0 0 0 1 * ? 2030-2020", "year", "2030-2020"),
    ("0 0 0 1 * ? 20x0", "year", "20x0"),
    ("0 */0 * * * ?", "minutes", "*/0"),
    ("0 */60 * * * ?", "minutes", "*/60"),
    ("0 0 */24 * * ?", "hours", "*/24"),
    ("0 0 0 */32 * ?", "day-of-month", "*/32"),
    ("0 0 0 1 */13 ?", "month", "*/13"),
    ("0 0 0 ? * */8", "day-of-week", "*/8"),
    ("0 0 0 1/ * ?", "day-of-month", "1/"),
    ("0 0 0 5- * ?", "day-of-month", "5-"),
    ("0 0 0 L-31 * ?", "day-of-month", "L-31"),
    ("0 0 0 L- * ?", "day-of-month", "L-"),
    ("0 0 0 32W * ?", "day-of-month", "32W"),
    ("0 0 0 0W * ?", "day-of-month", "0W"),
    ("0 0 0 1-5W * ?", "day-of-month", "1-5W"),
    ("0 0 0 5L * ?", "day-of-month", "5L"),
    ("0 0 0 6#3 * ?", "day-of-month", "6#3"),
    ("0 0 0 ? * 6#0", "day-of-week", "6#0"),
    ("0 0 0 ? * 6#6", "day-of-week", "6#6"),
    ("0 0 0 ? * 6#", "day-of-week", "6#"),
    ("0 0 0 ? * 8L", "day-of-week", "8L"),
    ("0 0 0 ? * 0#1", "day-of-week", "0#1"),
    ("0 0 0 ? * 6L,2", "day-of-week", "6L"),
    ("0 0 0 ? * 2#1,6#3", "day-of-week", "2#1"),
    ("0 0 0 ? * L,2", "day-of-week", "L"),
    ("0 0 0 ? * 5W", "day-of-week", "5W"),
    ("0 0 0 ? * L-2", "day-of-week", "L-2"),
    ("0 0 L * * ?", "hours", "L"),
    ("0 0 0 1 #3 ?", "month", "#3"),
    ("0 0 ? * * ?", "hours", "?"),
    ("0 0 0 ?,1 * *", "day-of-month", "?"),
    ("0 0 0 1,,2 * ?", "day-of-month", "1,,2"),
    ("0 0 0 1 * ? ?", "year", "?"),
]


@pytest.mark.parametrize(("expression", "field", "token"), BAD)
def test_errors_name_field_and_token(expression, field, token):
    with pytest.raises(QuartzCronError) as info:
        QuartzCron.parse(expression)
    error = info.value
    assert (error.field, error.token) == (field, token)
    assert f"{field} field, token {token!r}" in str(error)
    assert repr(expression) in str(error)


@pytest.mark.parametrize(
    ("expression", "needle"),
    [
        ("0 0 12 * * *", "exactly one of the two must be '?'"),
        ("0 0 12 ? * ?", "exactly one of the two must be '?'"),
        ("0 0 0 1 * MON", "exactly one of the two must be '?'"),
        ("0 0 12 * *", "5-field Unix cron"),
        ("0 0 0 * * ? * *", "got 8"),
        ("", "empty"),
        ("@every5m", "unknown shorthand"),
    ],
)
def test_structural_errors(expression, needle):
    with pytest.raises(QuartzCronError) as info:
        QuartzCron.parse(expression)
    assert needle in str(info.value)


def test_day_rule_error_names_both_fields():
    with pytest.raises(QuartzCronError) as info:
        QuartzCron.parse("0 0 12 * * *")
    assert info.value.field == "day-of-month and day-of-week"
    assert "'*'" in str(info.value)


def test_error_is_a_value_error():
    assert issubclass(QuartzCronError, ValueError)
    with pytest.raises(TypeError):
        QuartzCron.parse(None)  # type: ignore[arg-type]


def test_module_does_not_import_airflow():
    import subprocess

    code = (
        "import sys; import airflow_provider_hopsjobs.timetables.quartz_cron; "
        "print(any(m == 'airflow' or m.startswith('airflow.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
