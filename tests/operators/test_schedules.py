"""HopsworksScheduleJobOperator against the emulator: every action, and idempotence."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.operators.schedules import HopsworksScheduleJobOperator

JOB = "sched_op_job"


def _writes(handle: EmulatorHandle) -> list[str]:
    return sorted(
        route
        for route in handle.request_counts()
        if route.startswith(("POST", "PUT", "DELETE")) and "schedule" in route
    )


def _op(action: str, **kwargs: object) -> HopsworksScheduleJobOperator:
    return HopsworksScheduleJobOperator(task_id=f"schedule_{action}", job_name=JOB, action=action, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def job(hopsworks_conn: EmulatorHandle) -> HopsworksHook:
    hook = HopsworksHook()
    hook.create_or_update_job(JOB, "PYTHON", app_path="Resources/jobs/none.py")
    if hook.get_schedule(JOB) is not None:
        hook.delete_schedule(JOB)
    return hook


def test_upsert_enable_disable_delete_each_write_once(
    job: HopsworksHook, hopsworks_conn: EmulatorHandle
) -> None:
    start = datetime(2026, 1, 1, 6, 0, 0, 123000, tzinfo=timezone.utc)
    upsert = _op("upsert", cron_expression="0 0 6 ? * MON-FRI", schedule_start=start)

    hopsworks_conn.reset_counters()
    created = upsert.execute({})
    assert created["changed"] is True
    assert created["schedule"]["cronExpression"] == "0 0 6 ? * MON-FRI"
    assert created["schedule"]["startDateTime"] == 1767247200000  # truncated to the second
    assert _writes(hopsworks_conn) == ["POST /hopsworks-api/api/project/{id}/jobs/{name}/schedule/v2"]

    hopsworks_conn.reset_counters()
    assert upsert.execute({})["changed"] is False
    assert _writes(hopsworks_conn) == []

    changed = _op("upsert", cron_expression="0 30 7 ? * MON-FRI", schedule_start=start).execute({})
    assert changed["changed"] is True and changed["schedule"]["id"] == created["schedule"]["id"]
    assert job.get_schedule(JOB)["cronExpression"] == "0 30 7 ? * MON-FRI"  # type: ignore[index]

    assert _op("disable").execute({})["changed"] is True
    assert job.get_schedule(JOB)["enabled"] is False  # type: ignore[index]
    hopsworks_conn.reset_counters()
    assert _op("disable").execute({})["changed"] is False
    assert _writes(hopsworks_conn) == []
    assert _op("enable").execute({})["changed"] is True
    assert job.get_schedule(JOB)["enabled"] is True  # type: ignore[index]

    assert _op("delete").execute({})["changed"] is True
    assert job.get_schedule(JOB) is None
    assert _op("delete").execute({})["changed"] is False


def test_toggling_a_missing_schedule_is_a_clear_error(job: HopsworksHook) -> None:
    with pytest.raises(HopsworksConfigError, match="has no Hopsworks schedule to enable"):
        _op("enable").execute({})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "upsert"}, "needs a cron_expression"),
        ({"action": "upsert", "cron_expression": "0 2 * * *"}, "6 or 7 fields"),
        ({"action": "upsert", "cron_expression": "30 0 2 * * ?"}, "seconds"),
        ({"action": "upsert", "cron_expression": "0 0 2 31 FEB-X ?"}, "month"),
        ({"action": "pause"}, "Unknown schedule action"),
    ],
)
def test_bad_input_fails_at_parse_time_without_a_request(
    kwargs: dict[str, object], message: str, hopsworks_conn: EmulatorHandle
) -> None:
    hopsworks_conn.reset_counters()
    with pytest.raises(HopsworksConfigError, match=message):
        HopsworksScheduleJobOperator(task_id="bad", job_name=JOB, **kwargs)  # type: ignore[arg-type]
    assert hopsworks_conn.request_counts() == {}


EVERY_MINUTE = "0 * * ? * *"


def _logged(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> str:
    """The task's log lines: structlog's console on Airflow 3.3, stdlib records (caplog) on 3.0."""
    text = capsys.readouterr().out + "\n".join(
        f"[{r.levelname.lower()}] {r.getMessage()}" for r in caplog.records
    )
    caplog.clear()
    return text


def test_a_past_start_does_not_backfill_by_default(
    job: HopsworksHook,
    hopsworks_conn: EmulatorHandle,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """catchup=False (default) is sent, and the emulator fires only the latest missed time."""
    caplog.set_level("INFO")
    now_ms = hopsworks_conn.now_ms()  # ahead of the wall clock when an earlier test moved it
    start = datetime.now(timezone.utc) - timedelta(minutes=30)
    try:
        created = _op("upsert", cron_expression=EVERY_MINUTE, schedule_start=start).execute({})
        assert created["schedule"]["catchup"] is False
        out = _logged(capsys, caplog)
        assert "fire times missed since then are skipped (catchup=False)" in out
        assert "catchup=True" not in out
        hopsworks_conn.tick_scheduler()
        schedule = job.get_schedule(JOB)
        assert schedule is not None
        assert schedule["nextExecutionDateTime"] > now_ms  # not start + 2 minutes: nothing to backfill
        assert hopsworks_conn.executions_started(JOB) <= 2  # the latest missed time (and a new minute)
    finally:
        job.delete_schedule(JOB)


def test_catchup_true_with_a_past_start_warns_how_many_runs_will_backfill(
    job: HopsworksHook,
    hopsworks_conn: EmulatorHandle,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO")
    start = datetime.now(timezone.utc).replace(second=30, microsecond=0) - timedelta(hours=4)
    try:
        created = _op(
            "upsert", cron_expression=EVERY_MINUTE, schedule_start=start, catchup=True, enabled=False
        ).execute({})
        assert created["schedule"]["catchup"] is True
        assert "missed" not in _logged(capsys, caplog)  # a disabled schedule fires nothing
        _op("upsert", cron_expression=EVERY_MINUTE, schedule_start=start, catchup=True).execute({})
        lines = [line for line in _logged(capsys, caplog).splitlines() if "catchup=True:" in line]
        assert lines  # once, or twice on 3.0 (its console handler and caplog)
        for line in lines:
            assert "warning" in line.lower()
            assert "Hopsworks will start an execution for each of the 240 fire times" in line
            assert "Pass catchup=False" in line
    finally:
        _op("disable").execute({})
        job.delete_schedule(JOB)
