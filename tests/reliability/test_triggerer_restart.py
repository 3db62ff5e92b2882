"""Triggerer restart: a deferred run's trigger dies mid-wait and is re-created from its kwargs.

The worker defers; a "triggerer" runs the trigger for a while and is shut down (its task
cancelled without the user-action message, as a triggerer stopping or handing the
trigger to another one does); a second one re-creates the trigger from the serialised
kwargs (through JSON, as the database stores them) and runs it to its event; the worker
resumes. The execution must keep running across the hand-over, end once, and its stdout
must be in the task log exactly once.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hopsjobs._compat import TaskDeferred
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.operators.jobs import HopsworksCreateJobOperator, HopsworksRunJobOperator
from airflow_provider_hopsjobs.triggers import execution as trigger_module
from tests.airflow_support import FakeTaskStateStore, FakeTI, first_event, make_context
from tests.reliability.chaos_pipeline import LogRecorder

JOB = "handover_job"
SCRIPT = """
    import sys, time
    for number in range(1, 6):
        print(f"handover line {number}/5", flush=True)
        time.sleep(float(sys.argv[1]) / 5)
"""


def recreate(trigger: Any) -> Any:
    """What a triggerer does with a row of the trigger table."""
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))


async def run_then_shut_down(trigger: Any, seconds: float) -> None:
    waiting = asyncio.ensure_future(first_event(trigger))
    await asyncio.sleep(seconds)
    assert not waiting.done(), "the job should still be running"
    waiting.cancel()  # no user-action message: a triggerer shutting down or rebalancing
    with pytest.raises(asyncio.CancelledError):
        await waiting


@pytest.mark.parametrize("airflow_3_3", [True, False], ids=["airflow-3.3", "airflow-before-3.3"])
def test_a_recreated_trigger_completes_without_a_second_execution(
    emulator: EmulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, airflow_3_3: bool
) -> None:
    # Before 3.3 the trigger reacts to its own cancellation: it must see the task still deferred.
    monkeypatch.setattr(trigger_module, "AIRFLOW_V_3_3_PLUS", airflow_3_3)
    script = tmp_path / "handover.py"
    script.write_text(textwrap.dedent(SCRIPT))
    HopsworksCreateJobOperator(task_id="create", job_name=JOB, job_type="PYTHON", app_file=script).execute(
        make_context()
    )
    emulator.reset_counters()

    operator = HopsworksRunJobOperator(task_id="run", job_name=JOB, args=["4"], deferrable=True)
    log = LogRecorder()
    operator._cached_logger = operator._log = log
    context = make_context(FakeTI(task_id="run"), FakeTaskStateStore())
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    trigger = deferred.value.trigger
    execution_id = trigger.execution_id

    asyncio.run(run_then_shut_down(recreate(trigger), 1.5))
    hook = HopsworksHook()
    assert hook.get_execution(JOB, execution_id).state == "RUNNING"  # the hand-over stopped nothing

    event = asyncio.run(first_event(recreate(trigger)))
    assert event.payload["status"] == "success"
    assert event.payload["execution_id"] == execution_id
    result = getattr(operator, deferred.value.method_name)(context, event=event.payload)

    assert result["execution_id"] == execution_id
    assert result["final_status"] == "SUCCEEDED"
    assert emulator.executions_started(JOB) == 1
    stops = [route for route in emulator.request_counts() if route.startswith("PUT ") and "/status" in route]
    assert stops == []  # nobody asked the execution to stop
    header = f"----- Hopsworks job {JOB!r} execution {execution_id} stdout -----"
    assert log.lines.count(header) == 1
    for number in range(1, 6):
        assert log.lines.count(f"handover line {number}/5") == 1
