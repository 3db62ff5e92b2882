"""``hopsjobs migrate-schedules`` end to end against the emulator.

Jobs with v2 schedules become DAG files, the files import cleanly, the Hopsworks schedules
are switched off (and the emulator's scheduler fires nothing more for them), re-running
changes nothing, and the generated DAG runs the job through ``dag.test()``.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hopsjobs.cli import migrate
from airflow_provider_hopsjobs.cli.dag_render import MigratedSchedule, render_dag
from airflow_provider_hopsjobs.cli.main import main
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from tests.conftest import GENERATED_DAGS

SCRIPT = 'import sys\nprint("NIGHTLY_RAN args=" + " ".join(sys.argv[1:]))\n'
SCHEDULE_WRITES = ("POST", "PUT", "DELETE")


def _args(out: Path | None, *, disable: bool = False) -> argparse.Namespace:
    return argparse.Namespace(
        conn_id="hopsworks_default",
        project=None,
        out=out,
        disable=disable,
        dag_id_prefix="migrated_",
        append_start_time=False,
    )


def _schedule_writes(handle: EmulatorHandle) -> dict[str, int]:
    return {
        route: count
        for route, count in handle.request_counts().items()
        if route.startswith(SCHEDULE_WRITES) and "schedule" in route
    }


@pytest.fixture
def scheduled_jobs(hopsworks_conn: EmulatorHandle, tmp_path: Path) -> HopsworksHook:
    """Three jobs: an enabled nightly schedule, a disabled weekly one, and none."""
    hook = HopsworksHook()
    script = tmp_path / "nightly.py"
    script.write_text(SCRIPT)
    remote = hook.upload_file(script, "Resources/jobs/mig_nightly", overwrite=True)
    now = datetime.fromtimestamp(hopsworks_conn.now_ms() / 1000, tz=timezone.utc)
    for name in ("mig_nightly", "mig_weekly", "mig_adhoc"):
        hook.create_or_update_job(name, "PYTHON", app_path=remote, default_args="--mode nightly")
    hook.create_or_update_schedule("mig_nightly", "0 0 2 * * ?", start=now)
    hook.create_or_update_schedule("mig_weekly", "0 30 6 ? * MON", start=now, enabled=False)
    return hook


def test_dry_run_writes_nothing_and_reports_every_job(
    scheduled_jobs: HopsworksHook, hopsworks_conn: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    hopsworks_conn.reset_counters()
    assert main(["migrate-schedules", "--dag-id-prefix", "migrated_"]) == 0
    out = capsys.readouterr().out
    assert "Dry run" in out
    assert any(line.startswith("mig_nightly") and "to migrate" in line for line in out.splitlines())
    weekly = [line for line in out.splitlines() if line.startswith("mig_weekly")]
    assert len(weekly) == 1 and "disabled" in weekly[0]
    assert "would start paused" in weekly[0] and "written" not in weekly[0]  # a dry run writes nothing
    assert any(line.startswith("mig_adhoc") and "no schedule" in line for line in out.splitlines())
    assert _schedule_writes(hopsworks_conn) == {}
    assert scheduled_jobs.get_schedule("mig_nightly")["enabled"] is True  # type: ignore[index]


def test_migrate_disable_is_safe_idempotent_and_runs_the_job(
    scheduled_jobs: HopsworksHook,
    hopsworks_conn: EmulatorHandle,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Before the migration the emulator fires the nightly schedule: the control case.
    hopsworks_conn.advance_clock(24 * 3600)
    hopsworks_conn.tick_scheduler()
    fired_before = hopsworks_conn.executions_started("mig_nightly")
    assert fired_before >= 1

    out_dir = tmp_path / "dags"
    assert migrate.run(_args(out_dir, disable=True)) == 0
    report = capfd.readouterr().out
    nightly_file = out_dir / "migrated_mig_nightly.py"
    weekly_file = out_dir / "migrated_mig_weekly.py"
    assert sorted(p.name for p in out_dir.iterdir()) == [nightly_file.name, weekly_file.name]
    assert "QuartzCronTimetable('0 0 2 * * ?', timezone=\"UTC\")" in nightly_file.read_text()
    assert "max_active_runs=1" in nightly_file.read_text()
    assert "catchup=False" in nightly_file.read_text()
    assert "is_paused_upon_creation=True" in weekly_file.read_text()
    assert "is_paused_upon_creation" not in nightly_file.read_text()
    assert "migrated" in report and "switched off" in report

    assert scheduled_jobs.get_schedule("mig_nightly")["enabled"] is False  # type: ignore[index]
    assert scheduled_jobs.get_schedule("mig_weekly")["enabled"] is False  # type: ignore[index]

    # The switched-off schedule never fires again.
    hopsworks_conn.advance_clock(3 * 24 * 3600)
    hopsworks_conn.tick_scheduler()
    hopsworks_conn.tick_scheduler()
    assert hopsworks_conn.executions_started("mig_nightly") == fired_before

    # Re-running: same files, no schedule writes, no error on already-disabled schedules.
    contents = {p.name: p.read_text() for p in out_dir.iterdir()}
    hopsworks_conn.reset_counters()
    assert migrate.run(_args(out_dir, disable=True)) == 0
    rerun = capfd.readouterr().out
    assert {p.name: p.read_text() for p in out_dir.iterdir()} == contents
    assert _schedule_writes(hopsworks_conn) == {}
    assert "DAG exists; Hopsworks schedule is off" in rerun

    # The generated DAG runs the job with its default args through Airflow.
    shutil.copy(nightly_file, GENERATED_DAGS / nightly_file.name)
    dag_run, output = _dag_test("migrated_mig_nightly", capfd)
    assert str(dag_run.state) == "success", output[-4000:]
    assert hopsworks_conn.executions_started("mig_nightly") == 1  # counters were reset above
    latest = scheduled_jobs.get_latest_execution("mig_nightly")
    assert latest is not None and latest.args == "--mode nightly"
    assert "NIGHTLY_RAN args=--mode nightly" in output


def _dag_test(dag_id: str, capfd: pytest.CaptureFixture[str]) -> tuple[Any, str]:
    from airflow.utils.db import initdb

    initdb()
    try:
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(GENERATED_DAGS))
    except ImportError:  # Airflow 3.0-3.2
        from airflow.models.dagbag import DagBag

        bag = DagBag(dag_folder=str(GENERATED_DAGS), include_examples=False)
    assert bag.import_errors == {}
    capfd.readouterr()
    dag_run = bag.get_dag(dag_id).test()
    captured = capfd.readouterr()
    return dag_run, captured.out + captured.err


def test_disable_without_out_is_refused_before_any_request(
    hopsworks_conn: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    hopsworks_conn.reset_counters()
    assert migrate.run(_args(None, disable=True)) == 2
    assert "--disable needs --out" in capsys.readouterr().err
    assert hopsworks_conn.request_counts() == {}


def test_a_missing_connection_is_one_line_and_a_failure(
    hopsworks_conn: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate-schedules", "--conn-id", "no_such_conn"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "no_such_conn" in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_a_wrong_key_is_one_line_without_the_key(
    hopsworks_conn: EmulatorHandle, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = json.loads(hopsworks_conn.connection_json())
    conn["password"] = "wrongprefix.wrongsecretwrongsecret"
    monkeypatch.setenv("AIRFLOW_CONN_WRONG_KEY", json.dumps(conn))
    hopsworks_conn.reset_counters()
    assert main(["migrate-schedules", "--conn-id", "wrong_key"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "HTTP 401" in lines[0]
    assert "wrongsecret" not in captured.err + captured.out
    assert _schedule_writes(hopsworks_conn) == {}


def test_plan_reports_unsupported_and_unscheduled_jobs() -> None:
    jobs = [
        {"name": "bad", "jobSchedule": {"cronExpression": "0 0 25 * * ?", "enabled": True}},
        {"name": "unix", "jobSchedule": {"cronExpression": "0 2 * * *", "enabled": True}},
        {"name": "every_second", "jobSchedule": {"cronExpression": "*/5 * * * * ?", "enabled": True}},
        {"name": "plain"},
        {
            "name": "ok",
            "config": {"defaultArgs": "-x 1"},
            "jobSchedule": {"cronExpression": "0 15 10 ? * MON-FRI", "enabled": True, "startDateTime": 0},
        },
    ]
    plan = {entry.job_name: entry for entry in migrate.build_plan(jobs, conn_id="c", project=None)}
    assert plan["bad"].status == "unsupported" and "hour" in plan["bad"].detail.lower()
    assert plan["unix"].status == "unsupported"
    assert plan["every_second"].status == "unsupported" and "seconds" in plan["every_second"].detail
    assert plan["plain"].status == "no schedule"
    assert plan["ok"].status == "to migrate"
    assert plan["ok"].schedule is not None and plan["ok"].schedule.default_args == "-x 1"

    stream = io.StringIO()
    migrate.print_summary(list(plan.values()), dry_run=True, stream=stream)
    table = stream.getvalue()
    assert all(name in table for name in plan)
    assert "1 no schedule" in table and "3 unsupported" in table and "1 to migrate" in table


def test_rendering_is_deterministic_and_quotes_user_text() -> None:
    schedule = MigratedSchedule(
        job_name="odd'name",
        cron_expression="0 0 12 ? * WED",
        start=datetime(2026, 1, 1, tzinfo=timezone.utc),
        end=datetime(2027, 1, 1, tzinfo=timezone.utc),
        default_args='--text "it\'s" \\n',
        conn_id="hopsworks_default",
        project="demo",
        dag_id="hopsworks_odd_name",
    )
    first, second = render_dag(schedule), render_dag(schedule)
    assert first == second
    compile(first, "generated.py", "exec")  # valid Python whatever the job name and args
    assert repr(schedule.default_args) in first
    assert 'job_name="odd\'name"' in first
    assert "end_date=pendulum.datetime(2027, 1, 1, 0, 0, 0, tz='UTC')" in first
