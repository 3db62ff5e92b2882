"""The provider under a real scheduler, triggerer, dag-processor and api-server, against the emulator.

``dag.test()`` runs triggers in-line; these tests prove the deferrable path where it really runs:
in the triggerer process, across a triggerer restart, and when a user kills the task from the UI/API.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

from .airflow_processes import AirflowProcesses
from .scenarios import execution_id as _execution_id
from .scenarios import mapped_kill_kills_exactly_its_execution
from .scenarios import wait_for_execution_state as _wait_for_execution_state

pytestmark = pytest.mark.real_airflow

JOB_DAG = "real_airflow_hopsworks_job"
PIPELINE_DAG = "example_hopsworks_pipeline"
PIPELINE_JOBS = ("example_features", "example_training", "example_evaluation")


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
    mapped_kill_kills_exactly_its_execution(airflow_processes, hopsworks_conn, "rt_mapped_kill")


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
