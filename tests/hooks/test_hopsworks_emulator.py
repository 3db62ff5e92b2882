"""The hook against the emulator, over real HTTP on loopback: the same calls a DAG makes."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from airflow_provider_hopsjobs.errors import HopsworksApiError, HopsworksNotFoundError
from airflow_provider_hopsjobs.execution import Execution, Outcome
from airflow_provider_hopsjobs.hooks import async_session
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

EXECUTIONS_ROUTE = "POST /hopsworks-api/api/project/{id}/jobs/{name}/executions"
JOB_PUT_ROUTE = "PUT /hopsworks-api/api/project/{id}/jobs/{name}"


@pytest.fixture
def job_name() -> str:
    return f"hookjob_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def hook(hopsworks_conn) -> HopsworksHook:
    return HopsworksHook(retry_policy={"max_attempts": 4, "initial_wait": 0.05, "max_wait": 0.2, "jitter": 0})


def python_job(hook: HopsworksHook, tmp_path: Path, job_name: str, script: str, **kwargs) -> str:
    local = tmp_path / f"{job_name}.py"
    local.write_text(script)
    remote = hook.upload_file(local, f"Resources/jobs/{job_name}", overwrite=True)
    hook.create_or_update_job(job_name, "PYTHON", app_path=remote, **kwargs)
    return remote


def wait(hook: HopsworksHook, job_name: str, execution_id: int, timeout: float = 60) -> Execution:
    deadline = time.monotonic() + timeout
    while True:
        execution = hook.get_execution(job_name, execution_id, job_type="PYTHON")
        if execution.is_terminal:
            return execution
        assert time.monotonic() < deadline, execution
        time.sleep(0.1)


def test_test_connection(hook, hopsworks_conn):
    assert hook.test_connection() == (
        True,
        f"Connected to project {hopsworks_conn.project} (id {hopsworks_conn.project_id})",
    )
    assert hook.project_id == hopsworks_conn.project_id


def test_upload_stat_overwrite_and_download(hook, tmp_path, job_name):
    local = tmp_path / "data.bin"
    content = bytes(range(256)) * 100
    local.write_bytes(content)
    hook.upload_chunk_size = 7000  # several chunks
    remote = hook.upload_file(local, f"Resources/jobs/{job_name}")
    assert remote == f"Resources/jobs/{job_name}/data.bin"
    assert int(hook.stat(remote)["attributes"]["size"]) == len(content)
    assert b"".join(hook.download(remote, chunk_size=4096)) == content
    with pytest.raises(HopsworksApiError, match="overwrite=True"):
        hook.upload_file(local, f"Resources/jobs/{job_name}")
    local.write_bytes(b"new")
    hook.upload_file(local, f"/Projects/{hook.project_name}/Resources/jobs/{job_name}/", overwrite=True)
    assert b"".join(hook.download(remote)) == b"new"
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert int(hook.stat(hook.upload_file(empty, f"Resources/jobs/{job_name}"))["attributes"]["size"]) == 0
    hook.delete_path(remote)
    assert hook.stat(remote) is None


def test_job_lifecycle_run_logs_and_delete(hook, hopsworks_conn, tmp_path, job_name):
    script = "import sys\nprint('args:', sys.argv[1:])\nprint('oops', file=sys.stderr)\n"
    python_job(hook, tmp_path, job_name, script, default_args="--default")
    job = hook.get_job(job_name)
    assert job["jobType"] == "PYTHON"
    assert (
        job["config"]["appPath"]
        == f"hdfs:///Projects/{hook.project_name}/Resources/jobs/{job_name}/{job_name}.py"
    )

    hopsworks_conn.reset_counters()
    again = hook.create_or_update_job(
        job_name, "PYTHON", app_path=f"Resources/jobs/{job_name}/{job_name}.py", default_args="--default"
    )
    assert again.action == "unchanged"
    assert hopsworks_conn.request_counts().get(JOB_PUT_ROUTE, 0) == 0
    changed = hook.create_or_update_job(
        job_name, "PYTHON", app_path=f"Resources/jobs/{job_name}/{job_name}.py", default_args="--other"
    )
    assert (changed.action, changed.changes) == ("updated", {"defaultArgs": ("--default", "--other")})

    started = hook.start_execution(job_name, ["--day", "2024-01-01", "two words"])
    assert (started.job_name, started.args) == (job_name, "--day 2024-01-01 'two words'")
    finished = wait(hook, job_name, started.id)
    assert (finished.id, finished.job_type, finished.outcome) == (started.id, "PYTHON", Outcome.SUCCESS)
    out = list(hook.iter_execution_log(job_name, started.id, "out", wait_timeout=30))
    assert "args: ['--day', '2024-01-01', 'two words']" in out
    assert "oops" in list(hook.iter_execution_log(job_name, started.id, "err", wait_timeout=30))

    assert hook.get_latest_execution(job_name).id == started.id
    assert [e.id for e in hook.list_executions(job_name)] == [started.id]
    assert hook.job_exists(job_name)
    assert any(j["name"] == job_name for j in hook.list_jobs(page_size=1, filter_by=[f"name:{job_name}"]))

    hook.delete_execution(job_name, started.id)
    assert hook.list_executions(job_name) == []
    hook.delete_job(job_name)
    assert not hook.job_exists(job_name)
    with pytest.raises(HopsworksNotFoundError):
        hook.delete_job(job_name)


def test_failed_job_and_stop(hook, tmp_path, job_name):
    python_job(
        hook,
        tmp_path,
        job_name,
        "import sys, time\nif sys.argv[1:] == ['fail']: raise SystemExit(3)\ntime.sleep(60)\n",
    )
    failed = wait(hook, job_name, hook.start_execution(job_name, "fail").id)
    assert failed.outcome is Outcome.FAILED

    running = hook.start_execution(job_name, "run")
    deadline = time.monotonic() + 30
    while hook.get_execution(job_name, running.id).state != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    hook.stop_execution(job_name, running.id)
    assert wait(hook, job_name, running.id).outcome is Outcome.KILLED


def test_big_log_is_streamed(hook, hopsworks_conn, tmp_path, job_name):
    python_job(hook, tmp_path, job_name, "for i in range(30000):\n    print(f'line {i:05d} ' + 'x' * 40)\n")
    execution = wait(hook, job_name, hook.start_execution(job_name).id)
    hopsworks_conn.reset_counters()
    lines = list(hook.iter_execution_log(job_name, execution.id, wait_timeout=30))
    assert len(lines) == 30000  # 1.5 MB: above the inline limit, so it came through the download
    assert any("/dataset/download/with_auth/" in route for route in hopsworks_conn.request_counts())
    assert lines[-1].startswith("line 29999 ")


def test_lost_start_does_not_run_twice(hook, hopsworks_conn, tmp_path, job_name):
    python_job(hook, tmp_path, job_name, "print('once')\n")
    hopsworks_conn.reset_counters()
    hopsworks_conn.set_faults(
        [{"method": "POST", "path": r"/executions$", "fault": "drop@after", "times": 1}]
    )
    execution = hook.start_execution(job_name, "--x 1")
    assert hopsworks_conn.executions_started(job_name) == 1
    assert hopsworks_conn.request_counts()[EXECUTIONS_ROUTE] == 1
    assert hook.list_executions(job_name)[0].id == execution.id
    wait(hook, job_name, execution.id)


def test_transient_faults_are_ridden_out(hook, hopsworks_conn, tmp_path, job_name):
    python_job(hook, tmp_path, job_name, "print(1)\n")
    hopsworks_conn.set_faults(
        [{"path": rf"/jobs/{job_name}$", "method": "GET", "sequence": ["503", "429:0.1", "drop"]}]
    )
    assert hook.get_job(job_name)["name"] == job_name
    assert hopsworks_conn.faults()["injected"] == 3  # a 503, a 429 and a dropped connection


def test_schedules(hook, tmp_path, job_name):
    python_job(hook, tmp_path, job_name, "print(1)\n")
    assert hook.get_schedule(job_name) is None
    created = hook.create_or_update_schedule(job_name, "0 0 * ? * * *")
    assert created["cronExpression"] == "0 0 * ? * * *"
    assert created["enabled"] is True
    updated = hook.create_or_update_schedule(job_name, "0 30 6 ? * MON-FRI")
    assert updated["id"] == created["id"]
    assert hook.get_schedule(job_name)["cronExpression"] == "0 30 6 ? * MON-FRI"
    assert hook.set_schedule_enabled(job_name, False)["enabled"] is False
    assert hook.get_schedule(job_name)["enabled"] is False
    hook.delete_schedule(job_name)
    assert hook.get_schedule(job_name) is None


async def test_async_calls(hook, tmp_path, job_name):
    python_job(hook, tmp_path, job_name, "import time\ntime.sleep(30)\n")
    started = hook.start_execution(job_name)
    async_hook = HopsworksHook()
    try:
        read = await async_hook.async_get_execution(job_name, started.id, job_type="python")
        assert (read.id, read.job_name, read.job_type) == (started.id, job_name, "PYTHON")
        stopped = await async_hook.async_stop_execution(job_name, started.id)
        assert (stopped.id, stopped.job_name) == (started.id, job_name)
    finally:
        await async_session.close_sessions()
    assert wait(hook, job_name, started.id).state == "KILLED"
