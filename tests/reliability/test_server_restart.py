"""Server restart: Hopsworks goes away while waits are in progress, sync and deferred, then returns.

Four waits run at once, each on an execution of its own: the run operator waiting in the
worker and deferred (its trigger in an event loop, as in the triggerer), and the sensor
poking and deferred. While they wait the emulator is stopped for
``HOPSJOBS_RESTART_OUTAGE_SECONDS`` (8 s by default, 60 s for the full check) and started
again on the same port with its state.

Job processes do not outlive the emulator: on restart it marks the executions that were
running ``FAILED`` and appends a note to their stderr. So every wait must end with the
job's real outcome, a failure of the job (which Airflow may retry), not an "API
unavailable" error nor a hang; with no second execution started, and the note in the
task log.

What is under test is the waits' own transient-error allowance (10 minutes by default):
each API call gives up after its retry policy (about 35 s with the defaults), and the wait
rides that out and polls again. With the short default outage the connection allows 3
attempts per call (under a second of back-off with the quick-time scaling), so calls
really give up during the outage, as they do with the defaults in a 60 s one.
"""

from __future__ import annotations

import json
import os
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.errors import HopsworksJobFailedError
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.operators.jobs import HopsworksCreateJobOperator, HopsworksRunJobOperator
from airflow_provider_hopsjobs.sensors.execution import HopsworksExecutionSensor
from tests.airflow_support import FakeTaskStateStore, FakeTI, make_context, run_operator
from tests.reliability.chaos_pipeline import LogRecorder

pytestmark = pytest.mark.airflow_e2e

OUTAGE = float(os.environ.get("HOPSJOBS_RESTART_OUTAGE_SECONDS", "8"))
JOB = "restart_job"
SCRIPT = """
    import sys, time
    print("restart job started", flush=True)
    time.sleep(float(sys.argv[1]))
    print("restart job done", flush=True)
"""
RESTART_NOTE = "The emulator stopped while this execution was running"


def wait_in_thread(operator: Any, outcomes: dict[str, Any]) -> threading.Thread:
    log = LogRecorder()
    operator._cached_logger = operator._log = log

    def work() -> None:
        context = make_context(FakeTI(task_id=operator.task_id), FakeTaskStateStore())
        try:
            outcomes[operator.task_id] = (run_operator(operator, context), log)
        except Exception as err:
            outcomes[operator.task_id] = (err, log)

    thread = threading.Thread(target=work, name=operator.task_id)
    thread.start()
    return thread


def test_waits_ride_out_a_server_restart(
    emulator: EmulatorHandle, quick_time: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if OUTAGE < 40:
        conn = json.loads(emulator.connection_json())
        conn["extra"] = {**conn["extra"], "retry_attempts": 3}
        monkeypatch.setenv("AIRFLOW_CONN_HOPSWORKS_DEFAULT", json.dumps(conn))
    script = tmp_path / "restart_job.py"
    script.write_text(textwrap.dedent(SCRIPT))
    HopsworksCreateJobOperator(task_id="create", job_name=JOB, job_type="PYTHON", app_file=script).execute(
        make_context()
    )
    emulator.reset_counters()
    hook = HopsworksHook()
    watched = [hook.start_execution(JOB, ["600"]).id for _ in range(2)]
    waits = [
        HopsworksRunJobOperator(task_id="run_sync", job_name=JOB, args=["600"], deferrable=False),
        HopsworksRunJobOperator(task_id="run_deferred", job_name=JOB, args=["600"], deferrable=True),
        HopsworksExecutionSensor(
            task_id="sensor_poke", job_name=JOB, execution_id=watched[0], poke_interval=1, mode="poke"
        ),
        HopsworksExecutionSensor(
            task_id="sensor_deferred", job_name=JOB, execution_id=watched[1], deferrable=True
        ),
    ]
    outcomes: dict[str, Any] = {}
    threads = [wait_in_thread(op, outcomes) for op in waits]

    deadline = time.monotonic() + 30
    while emulator.executions_started(JOB) < 4 or any(
        e.state != "RUNNING" for e in hook.list_executions(JOB)
    ):
        assert time.monotonic() < deadline, "the waits did not start"
        time.sleep(0.2)
    time.sleep(1.5)  # every wait has polled at least once
    assert outcomes == {}

    emulator.stop()
    time.sleep(OUTAGE)
    assert outcomes == {}, "a wait ended while Hopsworks was down"
    emulator.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a wait did not end after the restart"

    for task_id, (outcome, _) in outcomes.items():
        assert isinstance(outcome, HopsworksJobFailedError), f"{task_id}: {outcome!r}"
        assert "state FAILED" in str(outcome), task_id
    for task_id in ("run_sync", "sensor_poke"):  # a deferred wait logs this in the triggerer instead
        assert "unavailable" in outcomes[task_id][1].text, f"{task_id} never saw the outage"
    for task_id in ("run_sync", "run_deferred"):
        assert RESTART_NOTE in outcomes[task_id][1].text  # the stderr of the failed job, in the task log
        assert "restart job started" in outcomes[task_id][1].text
    # Two started by the operators, two watched by the sensors: none twice (the emulator's request
    # counters restart with it; its executions persist).
    assert len(hook.list_executions(JOB)) == 4
