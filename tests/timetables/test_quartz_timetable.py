"""QuartzCronTimetable: trigger-style scheduling, DST like Airflow's cron timetables, serialization."""

from __future__ import annotations

import datetime
import json
import textwrap

import pendulum
import pytest
from airflow.exceptions import AirflowTimetableInvalid
from airflow.timetables.base import DataInterval, TimeRestriction
from airflow.timetables.trigger import CronTriggerTimetable

from airflow_provider_hopsjobs.timetables import quartz
from airflow_provider_hopsjobs.timetables.quartz import QuartzCronTimetable
from airflow_provider_hopsjobs.timetables.quartz_cron import QuartzCronError

UTC = pendulum.UTC


def _utc(*args: int) -> pendulum.DateTime:
    return pendulum.datetime(*args, tz="UTC")


def _runs(timetable, start, count, *, catchup=True, end=None):
    """Logical dates of the first ``count`` scheduled runs, chaining like the scheduler does."""
    restriction = TimeRestriction(earliest=start, latest=end, catchup=catchup)
    last = None
    out = []
    for _ in range(count):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None:
            break
        out.append(info)
        last = info.data_interval
    return out


@pytest.fixture
def frozen_now(monkeypatch):
    """Freeze "now" for both this timetable and Airflow's own trigger timetable."""

    def freeze(moment: pendulum.DateTime) -> None:
        monkeypatch.setattr(quartz, "_utcnow", lambda: moment)
        monkeypatch.setattr("airflow.timetables.trigger.utcnow", lambda: moment)

    return freeze


# ----------------------------------------------------------------------------- construction


def test_bad_expression_fails_in_init_naming_field_and_token():
    with pytest.raises(QuartzCronError, match=r"day-of-week field, token '0'.*not Unix 0-6"):
        QuartzCronTimetable("0 0 12 ? * 0")
    with pytest.raises(ValueError, match="exactly one of the two must be '\\?'"):
        QuartzCronTimetable("0 0 12 * * *")


def test_bad_timezone_and_interval():
    with pytest.raises(ValueError, match="Unknown time zone 'Mars/Olympus'"):
        QuartzCronTimetable("0 0 12 * * ?", "Mars/Olympus")
    with pytest.raises(ValueError, match="non-negative timedelta"):
        QuartzCronTimetable("0 0 12 * * ?", interval=datetime.timedelta(hours=-1))
    with pytest.raises(TypeError, match="run_immediately"):
        QuartzCronTimetable("0 0 12 * * ?", run_immediately="yes")  # type: ignore[arg-type]


def test_summary_and_description():
    timetable = QuartzCronTimetable("0 15 10 ? * 6L", "Europe/Amsterdam")
    assert timetable.summary == "0 15 10 ? * 6L"
    assert timetable.description == "At 10:15, on the last Friday of the month"
    # Quartz day numbers, not Unix ones: 2-6 is Monday to Friday
    assert QuartzCronTimetable("0 0 12 ? * 2-6").description == "At 12:00, Monday through Friday"
    assert QuartzCronTimetable("0 0 0 ? * L").description == "At 00:00, only on Saturday"
    assert QuartzCronTimetable("@daily").summary == "@daily"
    assert "Europe/Amsterdam" in repr(timetable)


def test_hopsworks_seconds_rule_is_visible_but_not_enforced():
    timetable = QuartzCronTimetable("*/30 * * * * ?")
    assert timetable.quartz_cron.seconds_field == "*/30"
    runs = _runs(timetable, _utc(2024, 1, 1), 3)
    assert [r.logical_date for r in runs] == [
        _utc(2024, 1, 1),
        _utc(2024, 1, 1, 0, 0, 30),
        _utc(2024, 1, 1, 0, 1),
    ]


@pytest.mark.parametrize(
    "timezone",
    ["UTC", "Europe/Amsterdam", pendulum.timezone("America/New_York"), pendulum.fixed_timezone(19800)],
)
@pytest.mark.parametrize("interval", [None, datetime.timedelta(hours=6)])
@pytest.mark.parametrize("run_immediately", [False, True, datetime.timedelta(minutes=10)])
def test_serialize_round_trip(timezone, interval, run_immediately):
    timetable = QuartzCronTimetable(
        "0 0 6 ? * MON-FRI", timezone, interval=interval, run_immediately=run_immediately
    )
    data = json.loads(json.dumps(timetable.serialize()))
    restored = QuartzCronTimetable.deserialize(data)
    assert restored == timetable
    assert restored.serialize() == timetable.serialize()
    assert restored.summary == timetable.summary and restored.description == timetable.description
    start = _utc(2024, 3, 1)
    assert _runs(restored, start, 5) == _runs(timetable, start, 5)


def test_timezone_spellings():
    from zoneinfo import ZoneInfo

    assert (
        QuartzCronTimetable("0 0 6 * * ?", ZoneInfo("Europe/Amsterdam")).timezone.name == "Europe/Amsterdam"
    )
    fixed = QuartzCronTimetable("0 0 6 * * ?", datetime.timezone(datetime.timedelta(hours=2)))
    assert fixed.serialize()["timezone"] == 7200
    assert QuartzCronTimetable.deserialize(fixed.serialize()) == fixed


def test_validate():
    QuartzCronTimetable("0 0 12 * * ?").validate()
    with pytest.raises(AirflowTimetableInvalid, match="never fires"):
        QuartzCronTimetable("0 0 0 30 2 ?").validate()


# ----------------------------------------------------------------------------- scheduling


def test_catchup_from_start_date_in_local_time():
    timetable = QuartzCronTimetable("0 0 9 ? * MON-FRI", "Europe/Amsterdam")
    runs = _runs(timetable, _utc(2024, 3, 29), 3)  # Friday; Amsterdam moves to CEST on Sunday the 31st
    assert [r.logical_date for r in runs] == [_utc(2024, 3, 29, 8), _utc(2024, 4, 1, 7), _utc(2024, 4, 2, 7)]
    assert all(r.run_after == r.logical_date for r in runs)
    assert all(r.data_interval == DataInterval(r.logical_date, r.logical_date) for r in runs)


def test_start_date_on_a_fire_time_is_the_first_run():
    timetable = QuartzCronTimetable("0 0 12 * * ?")
    assert _runs(timetable, _utc(2024, 1, 1, 12), 1)[0].logical_date == _utc(2024, 1, 1, 12)
    assert _runs(timetable, _utc(2024, 1, 1, 12, 0, 1), 1)[0].logical_date == _utc(2024, 1, 2, 12)


def test_data_interval_ends_at_the_fire_time():
    timetable = QuartzCronTimetable("0 15 10 ? * 6L", interval=datetime.timedelta(days=7))
    (run,) = _runs(timetable, _utc(2024, 1, 1), 1)
    assert run.data_interval == DataInterval(_utc(2024, 1, 19, 10, 15), _utc(2024, 1, 26, 10, 15))
    # as with CronTriggerTimetable: the run is created at the fire time, its logical date is the
    # start of the data interval
    assert run.run_after == _utc(2024, 1, 26, 10, 15)
    assert run.logical_date == _utc(2024, 1, 19, 10, 15)
    weekly = QuartzCronTimetable("0 0 12 ? * FRI", interval=datetime.timedelta(days=7))
    twin = CronTriggerTimetable("0 12 * * 5", timezone="UTC", interval=datetime.timedelta(days=7))
    assert _runs(weekly, _utc(2024, 1, 1), 3) == _runs(twin, _utc(2024, 1, 1), 3)


def test_infer_manual_data_interval():
    timetable = QuartzCronTimetable("0 0 12 * * ?", interval=datetime.timedelta(hours=3))
    moment = _utc(2024, 5, 5, 17, 3)
    assert timetable.infer_manual_data_interval(run_after=moment) == DataInterval(
        _utc(2024, 5, 5, 14, 3), moment
    )
    assert QuartzCronTimetable("0 0 12 * * ?").infer_manual_data_interval(run_after=moment) == DataInterval(
        moment, moment
    )


def test_end_date_and_exhausted_year_field_stop_scheduling():
    timetable = QuartzCronTimetable("0 0 0 1 * ?")
    runs = _runs(timetable, _utc(2024, 1, 1), 10, end=_utc(2024, 3, 15))
    assert [r.logical_date for r in runs] == [_utc(2024, 1, 1), _utc(2024, 2, 1), _utc(2024, 3, 1)]
    limited = QuartzCronTimetable("0 0 0 1 1 ? 2025-2026")
    assert [r.logical_date for r in _runs(limited, _utc(2024, 1, 1), 10)] == [
        _utc(2025, 1, 1),
        _utc(2026, 1, 1),
    ]


def test_no_catchup_runs_the_latest_past_fire_then_follows_the_schedule(frozen_now):
    frozen_now(_utc(2024, 6, 12, 15, 30))  # a Wednesday
    timetable = QuartzCronTimetable("0 0 9 ? * MON-FRI")
    runs = _runs(timetable, _utc(2024, 1, 1), 2, catchup=False)
    assert [r.logical_date for r in runs] == [_utc(2024, 6, 12, 9), _utc(2024, 6, 13, 9)]
    # an old last run is not caught up: the next run is the latest past fire time
    old = DataInterval(_utc(2024, 2, 1, 9), _utc(2024, 2, 1, 9))
    info = timetable.next_dagrun_info(
        last_automated_data_interval=old,
        restriction=TimeRestriction(earliest=_utc(2024, 1, 1), latest=None, catchup=False),
    )
    assert info is not None and info.logical_date == _utc(2024, 6, 12, 9)


def test_no_catchup_start_date_in_the_future(frozen_now):
    frozen_now(_utc(2024, 6, 12, 15, 30))
    runs = _runs(QuartzCronTimetable("0 0 9 * * ?"), _utc(2024, 7, 1, 12), 1, catchup=False)
    assert runs[0].logical_date == _utc(2024, 7, 2, 9)


def test_no_catchup_after_the_last_fire_schedules_nothing(frozen_now):
    frozen_now(_utc(2031, 6, 1))
    timetable = QuartzCronTimetable("0 0 0 1 1 ? 2030")
    last = DataInterval(_utc(2030, 1, 1), _utc(2030, 1, 1))
    restriction = TimeRestriction(earliest=_utc(2024, 1, 1), latest=None, catchup=False)
    assert timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction) is None


# ----------------------------------------------------------------------------- same as Airflow's cron

# Quartz expressions and their Unix-cron twins: wherever the two dialects can say the same thing,
# the timetable must schedule exactly what CronTriggerTimetable schedules, DST changes included.
TWINS = [
    ("0 30 2 * * ?", "30 2 * * *"),
    ("0 0 * * * ?", "0 * * * *"),
    ("0 */15 * * * ?", "*/15 * * * *"),
    ("0 0 9 ? * MON-FRI", "0 9 * * 1-5"),
    ("0 0 9 ? * 2-6", "0 9 * * 1-5"),
    ("0 30 1 ? * SUN", "30 1 * * 0"),
    ("0 0 0 1 * ?", "0 0 1 * *"),
    ("0 0 */6 * * ?", "0 */6 * * *"),
    ("0 0 0 L * ?", "0 0 L * *"),
]
ZONES_AND_STARTS = [
    ("Europe/Amsterdam", _utc(2024, 3, 30)),
    ("Europe/Amsterdam", _utc(2024, 10, 26)),
    ("America/New_York", _utc(2024, 3, 9)),
    ("America/New_York", _utc(2024, 11, 2)),
    ("UTC", _utc(2024, 2, 27)),
]


@pytest.mark.parametrize(("quartz_expr", "unix_expr"), TWINS)
@pytest.mark.parametrize(("zone", "start"), ZONES_AND_STARTS)
def test_same_runs_as_cron_trigger_timetable(quartz_expr, unix_expr, zone, start):
    ours = _runs(QuartzCronTimetable(quartz_expr, zone), start, 60)
    airflow = _runs(CronTriggerTimetable(unix_expr, timezone=zone), start, 60)
    assert [r.logical_date for r in ours] == [r.logical_date for r in airflow]
    assert [r.data_interval for r in ours] == [r.data_interval for r in airflow]


@pytest.mark.parametrize(("quartz_expr", "unix_expr"), TWINS)
@pytest.mark.parametrize("now", [_utc(2024, 3, 31, 0, 50), _utc(2024, 10, 27, 1, 10), _utc(2024, 6, 3, 9, 2)])
def test_same_no_catchup_choice_as_cron_trigger_timetable(frozen_now, quartz_expr, unix_expr, now):
    frozen_now(now)
    for earliest in (None, _utc(2024, 1, 1)):
        ours = _runs(QuartzCronTimetable(quartz_expr, "Europe/Amsterdam"), earliest, 3, catchup=False)
        airflow = _runs(
            CronTriggerTimetable(unix_expr, timezone="Europe/Amsterdam"), earliest, 3, catchup=False
        )
        assert [r.logical_date for r in ours] == [r.logical_date for r in airflow]


# ----------------------------------------------------------------------------- DAG files


def _dag_bag(folder):
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    return DagBag(dag_folder=str(folder))


def test_dag_file_with_bad_expression_is_an_import_error(tmp_path):
    (tmp_path / "bad_quartz.py").write_text(
        textwrap.dedent(
            """
            import pendulum
            from airflow.sdk import DAG
            from airflow_provider_hopsjobs.timetables.quartz import QuartzCronTimetable

            with DAG("bad_quartz", schedule=QuartzCronTimetable("0 0 6 ? * 0-4"),
                     start_date=pendulum.datetime(2024, 1, 1)):
                pass
            """
        )
    )
    bag = _dag_bag(tmp_path)
    assert not bag.dags
    (error,) = bag.import_errors.values()
    assert "day-of-week field, token '0-4'" in error


def test_dag_file_with_never_firing_expression_fails_validation(tmp_path):
    (tmp_path / "never.py").write_text(
        textwrap.dedent(
            """
            import pendulum
            from airflow.sdk import DAG
            from airflow_provider_hopsjobs.timetables.quartz import QuartzCronTimetable

            with DAG("never", schedule=QuartzCronTimetable("0 0 0 31 4 ?"),
                     start_date=pendulum.datetime(2024, 1, 1)):
                pass
            """
        )
    )
    bag = _dag_bag(tmp_path)
    assert not bag.dags
    (error,) = bag.import_errors.values()
    assert "never fires" in error
