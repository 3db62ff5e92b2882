"""HopsworksExecutionSensor in poke, reschedule and deferrable modes (hook methods patched)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from airflow.sdk import PokeReturnValue

try:
    from airflow.sdk.exceptions import AirflowRescheduleException, AirflowSensorTimeout
except ImportError:  # Airflow 3.0
    from airflow.exceptions import AirflowRescheduleException, AirflowSensorTimeout
from airflow_provider_hopsjobs._compat import AirflowSkipException, TaskDeferred
from airflow_provider_hopsjobs.errors import (
    HopsworksApiUnavailableError,
    HopsworksConfigError,
    HopsworksExecutionKilledError,
    HopsworksJobFailedError,
)
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.sensors.execution import HopsworksExecutionSensor
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger
from tests.airflow_support import FakeClock, FakeTI, execution, make_context

URL = "https://hopsworks.example.com/p/119/jobs/named/train/executions"


def make_sensor(**overrides: Any) -> HopsworksExecutionSensor:
    kwargs: dict[str, Any] = {
        "task_id": "wait",
        "job_name": "train",
        "execution_id": 7,
        "job_type": "PYTHON",
        "deferrable": False,
    }
    kwargs.update(overrides)
    return HopsworksExecutionSensor(**kwargs)


@pytest.fixture(autouse=True)
def fixed_url() -> Any:
    with mock.patch.object(HopsworksHook, "execution_url", return_value=URL) as url:
        yield url


def test_bad_input_fails_at_parse() -> None:
    with pytest.raises(HopsworksConfigError, match="execution_id"):
        make_sensor(execution_id="seven")
    with pytest.raises(HopsworksConfigError, match="job name"):
        make_sensor(job_name="a/b")
    assert make_sensor(execution_id="{{ ti.xcom_pull(task_ids='run', key='execution_id') }}")


def test_poke_running_is_not_done_and_publishes_the_execution() -> None:
    ti = FakeTI()
    with mock.patch.object(HopsworksHook, "get_execution", return_value=execution(state="RUNNING")) as get:
        assert make_sensor().poke(make_context(ti)) is False
    get.assert_called_once_with("train", 7, job_type="PYTHON")
    assert ti.xcoms == {"execution_id": 7, "execution_url": URL}


def test_poke_success_returns_the_summary() -> None:
    done = execution(state="FINISHED", final_status="SUCCEEDED", duration=1500)
    with mock.patch.object(HopsworksHook, "get_execution", return_value=done):
        result = make_sensor(execution_id="7").poke(make_context())
    assert isinstance(result, PokeReturnValue)
    assert result.is_done
    assert result.xcom_value == {
        "execution_id": 7,
        "job_name": "train",
        "state": "FINISHED",
        "final_status": "SUCCEEDED",
        "duration_ms": 1500,
        "url": URL,
    }


@pytest.mark.parametrize(
    ("state", "error"),
    [("FAILED", HopsworksJobFailedError), ("KILLED", HopsworksExecutionKilledError)],
)
def test_poke_fails_fast_on_failure(state: str, error: type[Exception]) -> None:
    with (
        mock.patch.object(HopsworksHook, "get_execution", return_value=execution(state=state)),
        pytest.raises(error, match=state),
    ):
        make_sensor().poke(make_context())


def test_report_only_mode_succeeds_and_reports_the_failure() -> None:
    with mock.patch.object(HopsworksHook, "get_execution", return_value=execution(state="FAILED")):
        result = make_sensor(fail_on_failure=False).poke(make_context())
    assert isinstance(result, PokeReturnValue)
    assert result.is_done
    assert result.xcom_value["state"] == "FAILED"


def test_soft_fail_skips_on_failure() -> None:
    with (
        mock.patch.object(HopsworksHook, "get_execution", return_value=execution(state="FAILED")),
        pytest.raises(AirflowSkipException),
    ):
        make_sensor(soft_fail=True).poke(make_context())


def test_an_outage_is_not_yet_rather_than_a_failure() -> None:
    with mock.patch.object(HopsworksHook, "get_execution", side_effect=HopsworksApiUnavailableError("503")):
        assert make_sensor().poke(make_context()) is False


def test_latest_execution_of_the_job_when_no_id() -> None:
    with (
        mock.patch.object(HopsworksHook, "get_latest_execution", side_effect=[None, execution(9)]) as latest,
        mock.patch.object(HopsworksHook, "get_job", return_value={"jobType": "PYTHON"}) as get_job,
    ):
        sensor = make_sensor(execution_id=None, job_type=None)
        assert sensor.poke(make_context()) is False  # no execution yet
        assert sensor.poke(make_context()) is False
    assert latest.call_count == 2
    get_job.assert_called_once_with("train")  # the job type is read once


def test_spark_finished_undefined_is_a_failure() -> None:
    # What the hook answers when asked for a Spark job's execution.
    undefined = execution(state="FINISHED", final_status="UNDEFINED", job_type="SPARK")
    with (
        mock.patch.object(HopsworksHook, "get_execution", return_value=undefined) as get,
        pytest.raises(HopsworksJobFailedError),
    ):
        make_sensor(job_type="SPARK").poke(make_context())
    get.assert_called_once_with("train", 7, job_type="SPARK")


def test_reschedule_mode_reschedules_while_running() -> None:
    ti = FakeTI()
    ti.get_first_reschedule_date = lambda context: None  # type: ignore[attr-defined]
    with (
        mock.patch.object(HopsworksHook, "get_execution", return_value=execution(state="RUNNING")),
        pytest.raises(AirflowRescheduleException),
    ):
        make_sensor(mode="reschedule").execute(make_context(ti))


def test_poke_mode_execute_returns_summary() -> None:
    done = execution(state="FINISHED", final_status="SUCCEEDED")
    with mock.patch.object(HopsworksHook, "get_execution", side_effect=[execution(), done]):
        result = make_sensor(poke_interval=0).execute(make_context())
    assert result["final_status"] == "SUCCEEDED"


# -- deferrable ------------------------------------------------------------------------------------


def test_deferrable_defers_with_a_trigger_that_stops_nothing(fake_clock: FakeClock) -> None:
    sensor = make_sensor(deferrable=True, timeout=timedelta(hours=1), poke_interval=20)
    ti = FakeTI()
    with (
        mock.patch.object(HopsworksHook, "get_execution", return_value=execution(state="RUNNING")),
        pytest.raises(TaskDeferred) as deferred,
    ):
        sensor.execute(make_context(ti))
    trigger = deferred.value.trigger
    assert isinstance(trigger, HopsworksExecutionTrigger)
    assert deferred.value.method_name == "execute_complete"
    assert trigger.cancel_on_kill is False  # the sensor does not own the execution
    assert trigger.execution_id == 7
    assert trigger.policy.poll_interval == 20
    assert trigger.deadline == pytest.approx(fake_clock.now + 3600, abs=5)
    assert ti.xcoms["execution_id"] == 7


def test_deferrable_finishes_at_once_when_already_over() -> None:
    done = execution(state="FINISHED", final_status="SUCCEEDED")
    with mock.patch.object(HopsworksHook, "get_execution", return_value=done):
        result = make_sensor(deferrable=True).execute(make_context())
    assert result["state"] == "FINISHED"


def test_deferrable_waits_for_a_first_execution() -> None:
    with (
        mock.patch.object(HopsworksHook, "get_latest_execution", return_value=None),
        pytest.raises(TaskDeferred) as deferred,
    ):
        make_sensor(deferrable=True, execution_id=None, poke_interval=15).execute(make_context())
    assert deferred.value.method_name == "resume_waiting_for_execution"
    assert "started_at" in deferred.value.kwargs
    assert type(deferred.value.trigger).__name__ == "TimeDeltaTrigger"


def test_deferrable_times_out_without_an_execution() -> None:
    with (
        mock.patch.object(HopsworksHook, "get_latest_execution", return_value=None),
        pytest.raises(AirflowSensorTimeout),
    ):
        make_sensor(deferrable=True, execution_id=None, timeout=60).resume_waiting_for_execution(
            make_context(), None, started_at=1.0
        )


def complete_event(status: str, **extra: Any) -> dict[str, Any]:
    base = {
        "status": status,
        "execution_id": 7,
        "job_name": "train",
        "state": "FINISHED",
        "final_status": "SUCCEEDED",
        "message": f"execution 7 {status}",
        "transient": False,
    }
    return {**base, **extra}


def test_execute_complete_success() -> None:
    final = execution(state="FINISHED", final_status="SUCCEEDED", duration=77)
    with mock.patch.object(HopsworksHook, "get_execution", return_value=final):
        assert make_sensor().execute_complete(make_context(), complete_event("success"))["duration_ms"] == 77


def test_execute_complete_timeout_is_a_sensor_timeout() -> None:
    with pytest.raises(AirflowSensorTimeout):
        make_sensor().execute_complete(make_context(), complete_event("timeout", state="RUNNING"))


def test_execute_complete_failure_and_outage() -> None:
    failed = execution(state="FAILED")
    with (
        mock.patch.object(HopsworksHook, "get_execution", return_value=failed),
        pytest.raises(HopsworksJobFailedError),
    ):
        make_sensor().execute_complete(make_context(), complete_event("failed", state="FAILED"))
    with pytest.raises(HopsworksApiUnavailableError):
        make_sensor().execute_complete(make_context(), complete_event("error", transient=True))


def test_execute_complete_refuses_no_event() -> None:
    with pytest.raises(Exception, match="without an event"):
        make_sensor().execute_complete(make_context(), None)
