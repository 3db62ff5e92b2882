"""The provider under a real scheduler, triggerer, dag-processor and api-server, against the emulator.

``dag.test()`` runs triggers in-line; these tests prove the deferrable path where it really runs:
in the triggerer process, across a triggerer restart, and when a user kills the task from the UI/API.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

from .airflow_processes import AirflowProcesses, poll

pytestmark = pytest.mark.real_airflow

JOB_DAG = "real_airflow_hopsworks_job"
MAPPED_DAG = "real_airflow_hopsworks_mapped"
PIPELINE_DAG = "example_hopsworks_pipeline"
PIPELINE_JOBS = ("example_features", "example_training", "example_evaluation")


def _execution_id(
    airflow: AirflowProcesses, dag_id: str, run_id: str, task_id: str, map_index: int = -1
) -> int:
    """The execution the run operator pushed to XCom before it deferred."""
    path = f"{airflow.run_path(dag_id, run_id)}/taskInstances/{task_id}/xcomEntries/execution_id"
    return int(airflow.api("GET", path, params={"map_index": map_index}).json()["value"])


def _wait_for_execution_state(
    hook: HopsworksHook, job_name: str, execution_id: int, states: set[str], timeout: float
) -> str:
    def probe() -> str | None:
        state = str(hook.get_execution(job_name, execution_id).state)
        return state if state in states else None

    return poll(f"execution {execution_id} of {job_name} to reach {sorted(states)}", probe, timeout)


def test_example_pipeline_succeeds_through_the_real_triggerer(
    airflow_processes: AirflowProcesses, hopsworks_conn: EmulatorHandle
) -> None:
    airflow = airflow_processes
    airflow.wait_for_dag(PIPELINE_DAG)
    started_before = {job: hopsworks_conn.executions_started(job) for job in PIPELINE_JOBS}

    run_id = airflow.trigger_dag(PIPELINE_DAG, logical_date=datetime.now(timezone.utc))

    assert airflow.wait_for_dag_run(PIPELINE_DAG, run_id, timeout=180) == "success"
    states = {
        ti["task_id"]: (ti["state"], ti["try_number"]) for ti in airflow.task_instances(PIPELINE_DAG, run_id)
    }
    assert set(states.values()) == {("success", 1)}, states
    for job in PIPELINE_JOBS:
        assert hopsworks_conn.executions_started(job) == started_before[job] + 1, job
    # The deferred training run waited in the triggerer process, not in-line.
    training_id = _execution_id(airflow, PIPELINE_DAG, run_id, "train_model")
    trigger_logs = "\n".join(airflow.trigger_logs(PIPELINE_DAG, run_id, "train_model").values())
    assert f"execution {training_id}" in trigger_logs
    # ...and its stdout reached the task log on the worker afterwards.
    assert "MODEL_TRAINED" in airflow.task_logs(PIPELINE_DAG, run_id, "train_model")["attempt=1.log"]


def test_marking_a_deferred_run_failed_kills_the_execution(
    airflow_processes: AirflowProcesses, hopsworks_conn: EmulatorHandle
) -> None:
    airflow, job_name = airflow_processes, "rt_mark_failed"
    airflow.wait_for_dag(JOB_DAG)
    run_id = airflow.trigger_dag(JOB_DAG, {"job_name": job_name, "seconds": 300})
    airflow.wait_for_task_state(JOB_DAG, run_id, "run_job", {"deferred"}, timeout=90)
    airflow.wait_for_trigger_log(JOB_DAG, run_id, "run_job")
    execution_id = _execution_id(airflow, JOB_DAG, run_id, "run_job")
    hook = HopsworksHook()
    assert hook.get_execution(job_name, execution_id).state == "RUNNING"

    airflow.set_task_state(JOB_DAG, run_id, "run_job", "failed")

    assert _wait_for_execution_state(hook, job_name, execution_id, {"KILLED", "FINISHED", "FAILED"}, 60) == (
        "KILLED"
    )
    assert airflow.wait_for_dag_run(JOB_DAG, run_id, timeout=30) == "failed"
    assert hopsworks_conn.executions_started(job_name) == 1


def test_marking_one_mapped_deferred_run_failed_kills_exactly_its_execution(
    airflow_processes: AirflowProcesses, hopsworks_conn: EmulatorHandle
) -> None:
    """Airflow keys a mapped task instance's state as ``<task_id>_<map_index>``; the kill must find it."""
    airflow, job_name = airflow_processes, "rt_mapped_kill"
    airflow.wait_for_dag(MAPPED_DAG)
    run_id = airflow.trigger_dag(MAPPED_DAG, {"job_name": job_name})
    for map_index in range(3):
        airflow.wait_for_task_state(
            MAPPED_DAG, run_id, "run_job", {"deferred"}, timeout=120, map_index=map_index
        )
    ids = [_execution_id(airflow, MAPPED_DAG, run_id, "run_job", map_index) for map_index in range(3)]
    assert len(set(ids)) == 3
    hook = HopsworksHook()
    # Act once the triggerer runs the trigger: a deferred task killed before any triggerer picked
    # its trigger up is dropped by Airflow without on_kill, and nothing could stop the job then.
    airflow.wait_for_trigger_log(MAPPED_DAG, run_id, "run_job", timeout=90, map_index=1)

    airflow.set_task_state(MAPPED_DAG, run_id, "run_job", "failed", map_index=1)

    assert _wait_for_execution_state(hook, job_name, ids[1], {"KILLED", "FINISHED", "FAILED"}, 60) == "KILLED"
    assert airflow.wait_for_dag_run(MAPPED_DAG, run_id, timeout=120) == "failed"
    states = {
        ti["map_index"]: ti["state"]
        for ti in airflow.task_instances(MAPPED_DAG, run_id)
        if ti["task_id"] == "run_job"
    }
    assert states == {0: "success", 1: "failed", 2: "success"}
    assert [hook.get_execution(job_name, i).state for i in ids] == ["FINISHED", "KILLED", "FINISHED"]
    assert hopsworks_conn.executions_started(job_name) == 3


def test_a_deferred_run_survives_a_triggerer_restart(
    airflow_processes: AirflowProcesses, hopsworks_conn: EmulatorHandle
) -> None:
    airflow, job_name = airflow_processes, "rt_triggerer_restart"
    airflow.wait_for_dag(JOB_DAG)
    run_id = airflow.trigger_dag(JOB_DAG, {"job_name": job_name, "seconds": 20})
    airflow.wait_for_task_state(JOB_DAG, run_id, "run_job", {"deferred"}, timeout=90)
    airflow.wait_for_trigger_log(JOB_DAG, run_id, "run_job")
    execution_id = _execution_id(airflow, JOB_DAG, run_id, "run_job")

    airflow.restart_component("triggerer")
    hook = HopsworksHook()
    # The old triggerer's cancellation must not have stopped the job.
    assert hook.get_execution(job_name, execution_id).state == "RUNNING"

    assert airflow.wait_for_dag_run(JOB_DAG, run_id, timeout=120) == "success"
    assert hopsworks_conn.executions_started(job_name) == 1
    assert hook.get_execution(job_name, execution_id).final_status == "SUCCEEDED"
    trigger_logs = airflow.trigger_logs(JOB_DAG, run_id, "run_job")
    assert len(trigger_logs) == 2, f"expected one trigger log per triggerer, got {sorted(trigger_logs)}"
    task_log = airflow.task_logs(JOB_DAG, run_id, "run_job")["attempt=1.log"]
    assert "sleeper: done" in task_log
