"""The job's output in the task log while it runs, against the emulator over real HTTP.

The emulator plays Hopsworks 5.1+ (a real tail of the running process's stdout) by default,
and 4.x (no pod-logs) in one test. Sync waits write to the task's logger; a deferred wait
writes to the trigger's, which Airflow 3 shows with the task's log.
"""

from __future__ import annotations

import asyncio
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.operators.jobs import HopsworksCreateJobOperator, HopsworksRunJobOperator
from tests.airflow_support import connect, make_context, run_operator

COUNTER = """
    import sys, time
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    for i in range(n):
        print(f"COUNT {i:04d}", flush=True)
        time.sleep(0.1)
"""


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("live") / "counter.py"
    path.write_text(textwrap.dedent(COUNTER))
    return path


def create(name: str, script: Path) -> None:
    HopsworksCreateJobOperator(task_id="c", job_name=name, job_type="PYTHON", app_file=script).execute(
        make_context()
    )


def counts(out: str) -> list[str]:
    return re.findall(r"COUNT \d{4}", out)


@pytest.mark.parametrize("deferrable", [False, True])
def test_every_line_once_some_while_it_runs(
    hopsworks_conn: EmulatorHandle, script: Path, deferrable: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    create("live_counter", script)
    op = HopsworksRunJobOperator(
        task_id="run",
        job_name="live_counter",
        args="30",
        deferrable=deferrable,
        poll_interval=0.5,
        live_logs=True,
    )
    result = run_operator(op, make_context())
    out = capsys.readouterr().out
    expected = [f"COUNT {i:04d}" for i in range(30)]
    assert counts(out) == expected  # each line exactly once, in order: live part + archived rest
    live_part, archived = out.split(f"execution {result['execution_id']} stdout -----", 1)
    assert len(counts(live_part)) >= 10  # shown while it ran, before the final copy
    assert "were shown live above" in archived


def test_the_line_cap_makes_a_gap_that_is_said_and_covered(
    hopsworks_conn: EmulatorHandle, script: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create("live_counter", script)
    op = HopsworksRunJobOperator(
        task_id="run", job_name="live_counter", args="40", deferrable=False, poll_interval=2, live_log_lines=2
    )
    op.live_logs = True
    run_operator(op, make_context())
    out = capsys.readouterr().out
    assert "lines are missing before the next one" in out
    _, archived = out.split("stdout -----", 1)
    assert counts(archived) == [f"COUNT {i:04d}" for i in range(40)]  # the whole stdout, framed
    assert "repeating lines shown live" in archived


def test_a_simulated_workload_says_so_once_and_copies_as_before(
    hopsworks_conn: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    HopsworksHook().create_or_update_job(
        "live_docker", "DOCKER", config={"imagePath": "busybox", "command": ["true"]}
    )
    op = HopsworksRunJobOperator(
        task_id="run", job_name="live_docker", args="--emulator-duration=2", poll_interval=0.5, live_logs=True
    )
    run_operator(op, make_context())
    out = capsys.readouterr().out
    assert out.count("Live log not available (UNSUPPORTED_WORKLOAD") == 1


@pytest.fixture(scope="module")
def hopsworks_4(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    with EmulatorHandle(tmp_path_factory.mktemp("live-4x"), hopsworks_version="4.x") as handle:
        yield handle


def test_without_pod_logs_one_line_then_todays_copy(
    hopsworks_4: EmulatorHandle,
    script: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    connect(hopsworks_4, monkeypatch)
    create("live_counter", script)
    op = HopsworksRunJobOperator(
        task_id="run", job_name="live_counter", args="10", poll_interval=0.5, live_logs=True
    )
    run_operator(op, make_context())
    out = capsys.readouterr().out
    assert out.count("this Hopsworks has no pod-logs") == 1
    assert counts(out) == [f"COUNT {i:04d}" for i in range(10)]
    asked = [n for route, n in hopsworks_4.request_counts().items() if "pod-logs" in route]
    assert sum(asked) == 1  # asked once, then never again


async def test_async_pod_logs_read_the_running_tail(hopsworks_conn: EmulatorHandle, script: Path) -> None:
    create("live_counter", script)
    hook = HopsworksHook()
    execution = hook.start_execution("live_counter", "30")
    for _ in range(100):
        answer = await hook.async_get_pod_logs("live_counter", execution.id, lines=3)
        if answer.status == "AVAILABLE" and answer.log and answer.log.count("\n") == 3:
            break
        await asyncio.sleep(0.1)
    assert answer.available and counts(answer.log or "")
    hook.stop_execution("live_counter", execution.id)


@pytest.mark.parametrize("deferrable", [False, True])
def test_the_sensor_shows_the_output_of_an_execution_it_waits_on(
    hopsworks_conn: EmulatorHandle, script: Path, deferrable: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    from airflow_provider_hopsjobs.sensors.execution import HopsworksExecutionSensor

    create("live_counter", script)
    execution = HopsworksHook().start_execution("live_counter", "20")
    sensor = HopsworksExecutionSensor(
        task_id="wait",
        job_name="live_counter",
        execution_id=execution.id,
        poke_interval=0.5,
        deferrable=deferrable,
        live_logs=True,
    )
    run_operator(sensor, make_context())
    shown = counts(capsys.readouterr().out)
    assert len(shown) >= 10 and len(shown) == len(set(shown))  # live lines, none twice
    assert shown == sorted(shown)


def test_a_rescheduled_sensor_cannot_show_live_logs() -> None:
    from airflow_provider_hopsjobs.errors import HopsworksConfigError
    from airflow_provider_hopsjobs.sensors.execution import HopsworksExecutionSensor

    with pytest.raises(HopsworksConfigError, match="live_logs needs mode='poke'"):
        HopsworksExecutionSensor(task_id="w", job_name="j", mode="reschedule", live_logs=True)
