"""Operators, trigger and sensor against the emulator over real HTTP (no mocks in between).

The Airflow side is the small harness in ``tests/airflow_support.py`` (a context, a fake
task state store, and :func:`run_operator`, which runs a deferred operator's trigger the
way the triggerer does); the example DAG tests run the same code through ``dag.test()``.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hopsjobs._compat import TaskDeferred
from airflow_provider_hopsjobs.clock import Clock
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.errors import (
    HopsworksApiUnavailableError,
    HopsworksExecutionKilledError,
    HopsworksJobFailedError,
    HopsworksWaitTimeoutError,
)
from airflow_provider_hopsjobs.execution import Execution
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.operators import reattach
from airflow_provider_hopsjobs.operators.jobs import (
    HopsworksCreateJobOperator,
    HopsworksDeleteJobOperator,
    HopsworksRunJobOperator,
    HopsworksStopExecutionOperator,
)
from airflow_provider_hopsjobs.operators.reattach import STATE_STORE_KEY
from airflow_provider_hopsjobs.sensors.execution import HopsworksExecutionSensor
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger
from tests.airflow_support import (
    FakeTaskStateStore,
    FakeTI,
    connect,
    first_event,
    make_context,
    private_emulator,
    run_operator,
)

SCRIPTS = {
    "sleeper.py": """
        import sys, time
        seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
        print("SLEEPER_START", " ".join(sys.argv[1:]), flush=True)
        time.sleep(seconds)
        print("SLEEPER_DONE", flush=True)
    """,
    "chatty.py": """
        import sys, time
        for i in range(1, 10):
            print(f"CHATTY line {i}", flush=True)
        print("CHATTY warning on stderr", file=sys.stderr, flush=True)
        time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 60)
    """,
    "failer.py": """
        import sys
        print("about to fail", flush=True)
        raise ValueError("broken input: column 'price' is missing")
    """,
}

EXECUTIONS_PATH = "/executions$"
EXECUTION_PATH = r"/executions/\d+$"


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("e2e-jobs")
    for name, body in SCRIPTS.items():
        (folder / name).write_text(textwrap.dedent(body))
    return folder


@pytest.fixture(scope="module")
def own_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    with private_emulator(tmp_path_factory.mktemp("jobs-e2e-emulator")) as handle:
        yield handle


@pytest.fixture
def emulator(own_emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorHandle]:
    yield connect(own_emulator, monkeypatch)
    if own_emulator.running:
        own_emulator.clear_faults()


def quick_retries(monkeypatch: pytest.MonkeyPatch, emulator: EmulatorHandle, **extra: Any) -> None:
    """Point the default connection at the emulator with a short retry budget."""
    conn = json.loads(emulator.connection_json())
    conn["extra"] = {**conn.get("extra", {}), **extra}
    monkeypatch.setenv("AIRFLOW_CONN_HOPSWORKS_DEFAULT", json.dumps(conn))


def create_job(name: str, script: Path) -> dict[str, Any]:
    op = HopsworksCreateJobOperator(
        task_id=f"create_{name}", job_name=name, job_type="PYTHON", app_file=script
    )
    return op.execute(make_context())  # type: ignore[no-any-return]


def wait_until(predicate: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def final_state(job_name: str, execution_id: int) -> Execution:
    hook = HopsworksHook()
    return wait_until(lambda: (e := hook.get_execution(job_name, execution_id)).is_terminal and e)  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def task_state_store_tier(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests hand the operator a fake task state store, whatever the Airflow version.

    (Airflow before 3.3 keeps the record in a Variable; that tier has tests of its own.)
    """
    monkeypatch.setattr(reattach, "AIRFLOW_V_3_3_PLUS", True)


# -- create ----------------------------------------------------------------------------------


def test_create_is_idempotent_over_http(emulator: EmulatorHandle, scripts: Path) -> None:
    first = create_job("e2e_idempotent", scripts / "sleeper.py")
    assert first["action"] in ("created", "unchanged")
    emulator.reset_counters()
    second = create_job("e2e_idempotent", scripts / "sleeper.py")
    assert second["action"] == "unchanged"
    assert second["uploaded"] is False
    writes = {route: n for route, n in emulator.request_counts().items() if not route.startswith("GET ")}
    assert writes == {}  # no PUT of the job, no upload


def test_create_updates_when_the_script_changes(emulator: EmulatorHandle, tmp_path: Path) -> None:
    script = tmp_path / "changing.py"
    script.write_text("print('v1')\n")
    create_job("e2e_changing", script)
    script.write_text("print('version two')\n")
    result = create_job("e2e_changing", script)
    assert result["uploaded"] is True
    run = HopsworksRunJobOperator(task_id="run", job_name="e2e_changing", deferrable=False, poll_interval=1)
    assert run_operator(run, make_context())["final_status"] == "SUCCEEDED"


# -- run: success, logs, deferral ------------------------------------------------------------------


def test_sync_run_puts_job_stdout_in_the_task_log(
    emulator: EmulatorHandle, scripts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_job("e2e_sleeper", scripts / "sleeper.py")
    emulator.reset_counters()
    ti = FakeTI()
    op = HopsworksRunJobOperator(
        task_id="run", job_name="e2e_sleeper", args=["0.5", "hello world"], deferrable=False
    )
    result = run_operator(op, make_context(ti))
    assert result["state"] == "FINISHED"
    assert result["final_status"] == "SUCCEEDED"
    assert ti.xcoms["execution_id"] == result["execution_id"]
    assert ti.xcoms["execution_url"].endswith("/jobs/named/e2e_sleeper/executions")
    out = capsys.readouterr().out
    assert f"----- Hopsworks job 'e2e_sleeper' execution {result['execution_id']} stdout -----" in out
    assert "SLEEPER_START 0.5 hello world" in out
    assert "SLEEPER_DONE" in out
    assert emulator.executions_started("e2e_sleeper") == 1


def test_deferrable_run_defers_and_completes(emulator: EmulatorHandle, scripts: Path, capsys: Any) -> None:
    create_job("e2e_sleeper", scripts / "sleeper.py")
    emulator.reset_counters()
    op = HopsworksRunJobOperator(
        task_id="run", job_name="e2e_sleeper", args="1.5", deferrable=True, poll_interval=1
    )
    ti = FakeTI()
    context = make_context(ti)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    assert ti.xcoms["execution_id"] == deferred.value.trigger.execution_id  # published before deferring
    result = run_operator(op, context)  # runs again as a retry would: reattaches, no second start
    assert result["final_status"] == "SUCCEEDED"
    assert emulator.executions_started("e2e_sleeper") == 1
    assert "SLEEPER_DONE" in capsys.readouterr().out


# -- timeouts, failures, kills ------------------------------------------------------------------------


@pytest.mark.parametrize("deferrable", [True, False])
def test_timeout_stops_the_execution(emulator: EmulatorHandle, scripts: Path, deferrable: bool) -> None:
    create_job("e2e_sleeper", scripts / "sleeper.py")
    ti = FakeTI()
    op = HopsworksRunJobOperator(
        task_id="run", job_name="e2e_sleeper", args="60", deferrable=deferrable, timeout=2, poll_interval=1
    )
    with pytest.raises(HopsworksWaitTimeoutError, match="stopped"):
        run_operator(op, make_context(ti))
    assert final_state("e2e_sleeper", ti.xcoms["execution_id"]).state == "KILLED"


@pytest.mark.parametrize("deferrable", [True, False])
def test_a_timed_out_run_still_copies_what_the_job_printed(
    emulator: EmulatorHandle, scripts: Path, deferrable: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    create_job("e2e_chatty", scripts / "chatty.py")
    op = HopsworksRunJobOperator(
        task_id="run", job_name="e2e_chatty", deferrable=deferrable, timeout=2, poll_interval=1
    )
    with pytest.raises(HopsworksWaitTimeoutError, match="stopped") as raised:
        run_operator(op, make_context())
    out = capsys.readouterr().out
    for i in range(1, 10):
        assert f"CHATTY line {i}" in out
    assert "stderr -----" in out
    assert "CHATTY warning on stderr" in str(raised.value)  # the stderr tail, as for a failure


class _Terminated(Exception):
    """What Airflow's SIGTERM handler raises into the wait after calling on_kill."""


@pytest.mark.parametrize("live_logs", [False, True])
def test_on_kill_copies_the_output_once(
    emulator: EmulatorHandle, scripts: Path, capsys: pytest.CaptureFixture[str], live_logs: bool
) -> None:
    create_job("e2e_chatty", scripts / "chatty.py")
    op = HopsworksRunJobOperator(
        task_id="run", job_name="e2e_chatty", deferrable=False, poll_interval=1, live_logs=live_logs
    )

    class KillingClock(Clock):
        """Sleeps for real; once the job printed, does what the SIGTERM handler does."""

        def sleep(self, seconds: float) -> None:
            time.sleep(seconds)
            shown_live = op._live is None or op._live.merger.shown >= 9
            if op._execution_id is not None and shown_live:
                hook = HopsworksHook()
                if hook.get_execution("e2e_chatty", op._execution_id).state == "RUNNING":
                    time.sleep(0.5)
                    op.on_kill()
                    raise _Terminated

    op.clock = KillingClock()
    with pytest.raises(_Terminated):
        run_operator(op, make_context())
    out = capsys.readouterr().out
    assert out.count("CHATTY line 9") == 1  # live, or in the copy, never both
    assert out.count("CHATTY warning on stderr") == 1
    if live_logs:
        assert "lines 1-9 were shown live above" in out


def test_a_run_killed_by_someone_else_copies_stdout_and_stderr(
    emulator: EmulatorHandle, scripts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_job("e2e_chatty", scripts / "chatty.py")
    ti = FakeTI()
    op = HopsworksRunJobOperator(task_id="run", job_name="e2e_chatty", deferrable=False, poll_interval=1)
    outcome: dict[str, BaseException] = {}

    def work() -> None:
        try:
            run_operator(op, make_context(ti))
        except BaseException as err:
            outcome["error"] = err

    worker = threading.Thread(target=work)
    worker.start()
    execution_id = wait_until(lambda: ti.xcoms.get("execution_id"))
    hook = HopsworksHook()
    wait_until(lambda: hook.get_execution("e2e_chatty", execution_id).state == "RUNNING")
    time.sleep(0.5)
    hook.stop_execution("e2e_chatty", execution_id)  # a user, from the Hopsworks UI
    worker.join(timeout=30)
    assert isinstance(outcome.get("error"), HopsworksExecutionKilledError)
    out = capsys.readouterr().out
    assert "CHATTY line 9" in out
    assert "CHATTY warning on stderr" in out


def test_a_failing_job_fails_the_task_with_its_error(
    emulator: EmulatorHandle, scripts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_job("e2e_failer", scripts / "failer.py")
    op = HopsworksRunJobOperator(task_id="run", job_name="e2e_failer", deferrable=True, poll_interval=1)
    with pytest.raises(HopsworksJobFailedError) as raised:
        run_operator(op, make_context())
    message = str(raised.value)
    assert "failed (state FAILED, final status FAILED)" in message
    assert "ValueError: broken input: column 'price' is missing" in message
    assert not isinstance(raised.value, HopsworksExecutionKilledError)
    out = capsys.readouterr().out
    assert "stderr -----" in out  # stderr copied to the task log on failure
    assert "about to fail" in out


def test_on_kill_stops_a_synchronous_wait(emulator: EmulatorHandle, scripts: Path) -> None:
    create_job("e2e_sleeper", scripts / "sleeper.py")
    ti = FakeTI()
    op = HopsworksRunJobOperator(
        task_id="run", job_name="e2e_sleeper", args="60", deferrable=False, poll_interval=1
    )
    outcome: dict[str, BaseException] = {}

    def work() -> None:
        try:
            run_operator(op, make_context(ti))
        except BaseException as err:
            outcome["error"] = err

    worker = threading.Thread(target=work)
    worker.start()
    execution_id = wait_until(lambda: ti.xcoms.get("execution_id"))
    hook = HopsworksHook()
    wait_until(lambda: hook.get_execution("e2e_sleeper", execution_id).state == "RUNNING")
    op.on_kill()
    worker.join(timeout=20)
    assert final_state("e2e_sleeper", execution_id).state == "KILLED"
    # The killed execution ends the wait; here the kill came from us, in real life Airflow stops the task.
    assert isinstance(outcome.get("error"), HopsworksExecutionKilledError)


async def test_trigger_on_kill_stops_the_execution(emulator: EmulatorHandle, scripts: Path) -> None:
    create_job("e2e_sleeper", scripts / "sleeper.py")
    hook = HopsworksHook()
    execution = hook.start_execution("e2e_sleeper", "60")
    trigger = HopsworksExecutionTrigger(job_name="e2e_sleeper", execution_id=execution.id, poll_interval=1)
    waiting = asyncio.ensure_future(first_event(trigger))
    await asyncio.sleep(1.0)
    assert not waiting.done()
    waiting.cancel("__airflow_user_action__")
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await trigger.on_kill()
    assert final_state("e2e_sleeper", execution.id).state == "KILLED"


# -- outages and faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize("deferrable", [True, False])
def test_faults_do_not_fail_the_task_nor_duplicate_the_execution(
    emulator: EmulatorHandle, scripts: Path, monkeypatch: pytest.MonkeyPatch, deferrable: bool
) -> None:
    create_job("e2e_sleeper", scripts / "sleeper.py")
    emulator.reset_counters()
    emulator.set_faults(
        [
            # Starting: a 5xx, a 429 with Retry-After, then the start succeeds but its response is lost.
            {"path": EXECUTIONS_PATH, "method": "POST", "sequence": ["503", "429:1", "drop@after"]},
            # Polling: a burst of 5xx, a dropped connection, a 429.
            {
                "path": EXECUTION_PATH,
                "method": "GET",
                "sequence": ["ok", "502", "503", "504", "drop", "429:1"],
            },
        ],
        seed=7,
    )
    op = HopsworksRunJobOperator(
        task_id="run", job_name="e2e_sleeper", args="1", deferrable=deferrable, poll_interval=1
    )
    result = run_operator(op, make_context())
    assert result["final_status"] == "SUCCEEDED"
    assert emulator.executions_started("e2e_sleeper") == 1
    counts = emulator.request_counts()
    assert counts["POST /hopsworks-api/api/project/{id}/jobs/{name}/executions"] == 3  # no blind resend


def test_a_retry_reattaches_after_the_api_stayed_down(
    emulator: EmulatorHandle,
    scripts: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    create_job("e2e_sleeper", scripts / "sleeper.py")
    quick_retries(monkeypatch, emulator, retry_attempts=2, retry_max_seconds=1)
    emulator.reset_counters()
    store = FakeTaskStateStore()
    op = HopsworksRunJobOperator(
        task_id="run",
        job_name="e2e_sleeper",
        args="8",
        deferrable=True,
        poll_interval=1,
        transient_error_budget=1,
    )
    # Try 1: the execution starts, then the API keeps failing until the trigger gives up.
    # ("ok" lets the check before deferring through; nothing but errors follow.)
    emulator.set_faults([{"path": EXECUTION_PATH, "method": "GET", "sequence": ["ok"] + ["503"] * 100}])
    with pytest.raises(HopsworksApiUnavailableError, match="unavailable"):
        run_operator(op, make_context(FakeTI(try_number=1), store))
    execution_id = store.values[STATE_STORE_KEY]["execution_id"]
    # Try 2, after the outage: reattaches to the execution that is still running.
    emulator.clear_faults()
    retry = HopsworksRunJobOperator(
        task_id="run",
        job_name="e2e_sleeper",
        args="8",
        deferrable=True,
        poll_interval=1,
        transient_error_budget=1,
    )
    result = run_operator(retry, make_context(FakeTI(try_number=2), store))
    assert result["execution_id"] == execution_id
    assert result["final_status"] == "SUCCEEDED"
    assert emulator.executions_started("e2e_sleeper") == 1
    out = capsys.readouterr().out
    assert f"Reattaching to execution {execution_id} of an earlier try (state RUNNING)" in out


def test_trigger_rides_out_an_emulator_restart(emulator: EmulatorHandle, scripts: Path) -> None:
    create_job("e2e_sleeper", scripts / "sleeper.py")
    hook = HopsworksHook()
    execution = hook.start_execution("e2e_sleeper", "0.2")
    final_state("e2e_sleeper", execution.id)
    emulator.stop()
    restarter = threading.Timer(2.0, emulator.start)
    restarter.start()
    try:
        trigger = HopsworksExecutionTrigger(
            job_name="e2e_sleeper", execution_id=execution.id, poll_interval=1
        )
        event = asyncio.run(first_event(trigger))
    finally:
        restarter.join()
    assert event.payload["status"] == "success"


# -- sensor, stop, delete ----------------------------------------------------------------------------


def test_sensor_by_id_and_by_latest(emulator: EmulatorHandle, scripts: Path) -> None:
    create_job("e2e_sleeper", scripts / "sleeper.py")
    started = HopsworksHook().start_execution("e2e_sleeper", "1")
    by_id = HopsworksExecutionSensor(
        task_id="wait",
        job_name="e2e_sleeper",
        execution_id=str(started.id),
        deferrable=True,
        poke_interval=1,
    )
    assert run_operator(by_id, make_context())["final_status"] == "SUCCEEDED"
    latest = HopsworksExecutionSensor(
        task_id="latest", job_name="e2e_sleeper", deferrable=False, poke_interval=1
    )
    assert run_operator(latest, make_context())["execution_id"] == started.id


def test_stop_then_delete(emulator: EmulatorHandle, scripts: Path) -> None:
    create_job("e2e_doomed", scripts / "sleeper.py")
    ti = FakeTI()
    start = HopsworksRunJobOperator(
        task_id="start", job_name="e2e_doomed", args="60", wait_for_completion=False
    )
    started = run_operator(start, make_context(ti))
    stop = HopsworksStopExecutionOperator(task_id="stop", job_name="e2e_doomed", poll_interval=1)
    result = run_operator(stop, make_context())
    assert result["stopped"] == [started["execution_id"]]
    assert result["states"] == {str(started["execution_id"]): "KILLED"}
    delete = HopsworksDeleteJobOperator(task_id="delete", job_name="e2e_doomed")
    assert run_operator(delete, make_context())["deleted"] is True
    assert not HopsworksHook().job_exists("e2e_doomed")
    assert run_operator(delete, make_context())["deleted"] is False
