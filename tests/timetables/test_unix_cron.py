"""A 5-field Unix cron is refused with the Quartz expression it means (or why there is none)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from croniter import croniter

from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.hooks.cron import normalise_quartz_cron
from airflow_provider_hopsjobs.operators.schedules import HopsworksScheduleJobOperator
from airflow_provider_hopsjobs.timetables.quartz import QuartzCronTimetable
from airflow_provider_hopsjobs.timetables.quartz_cron import QuartzCron, QuartzCronError
from airflow_provider_hopsjobs.timetables.unix_cron import UntranslatableUnixCron, quartz_equivalent


@pytest.mark.parametrize(
    ("unix", "quartz"),
    [
        ("30 6 * * 1-5", "0 30 6 ? * 2-6"),
        ("0 0 * * 0", "0 0 0 ? * 1"),
        ("0 0 * * 7", "0 0 0 ? * 1"),
        ("0 0 * * 0-7", "0 0 0 ? * 1-7"),
        ("0 0 * * 5-7", "0 0 0 ? * 6-7,1"),
        ("0 0 * * 1,3,5", "0 0 0 ? * 2,4,6"),
        ("0 0 * * 1-5/2", "0 0 0 ? * 2-6/2"),
        ("0 0 * * */2", "0 0 0 ? * */2"),
        ("0 0 * * mon-fri", "0 0 0 ? * MON-FRI"),
        ("0 0 * * 1#2", "0 0 0 ? * 2#2"),
        ("0 0 * * 5L", "0 0 0 ? * 6L"),
        ("15 2 1,15 * *", "0 15 2 1,15 * ?"),
        ("*/5 * * * *", "0 */5 * * * ?"),
    ],
)
def test_unix_to_quartz(unix: str, quartz: str) -> None:
    assert quartz_equivalent(unix.split()) == quartz


@pytest.mark.parametrize(
    "unix", ["30 6 * * 1-5", "0 0 * * 0", "0 0 * * 5-7", "0 0 * * 1,3,5", "0 0 * * 1-5/2", "0 0 * * */2"]
)
def test_the_translation_fires_on_the_same_days_as_unix_cron(unix: str) -> None:
    """croniter reads Unix cron; the Quartz parser reads the translation; four weeks agree."""
    quartz = QuartzCron.parse(quartz_equivalent(unix.split()))
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    expected = []
    unix_iter = croniter(unix, start)
    while (fire := unix_iter.get_next(datetime)) < start + timedelta(days=28):
        expected.append(fire)
    got = []
    fire = quartz.next_fire(start)
    while fire is not None and fire < start + timedelta(days=28):
        got.append(fire)
        fire = quartz.next_fire(fire)
    assert got == expected


def test_both_day_fields_restricted_is_named_not_invented() -> None:
    with pytest.raises(UntranslatableUnixCron, match=r"either matches.*Quartz cannot express"):
        quartz_equivalent(["0", "12", "1", "*", "1"])


def test_the_schedule_operator_says_it_once_with_the_corrected_expression() -> None:
    with pytest.raises(HopsworksConfigError) as caught:
        HopsworksScheduleJobOperator(task_id="s", job_name="etl", cron_expression="30 6 * * 1-5")
    message = str(caught.value)
    assert "'0 30 6 ? * 2-6'" in message
    assert message.count("5-field Unix cron") == 1
    assert message.count("Invalid Quartz cron") == 1
    assert "prefix it with '0'" not in message
    assert normalise_quartz_cron("0 30 6 ? * 2-6") == "0 30 6 ? * 2-6"  # the suggestion is accepted


def test_the_timetable_shares_the_hint() -> None:
    with pytest.raises(QuartzCronError, match=r"'0 30 6 \? \* 2-6'"):
        QuartzCronTimetable("30 6 * * 1-5")
