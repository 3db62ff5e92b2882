"""The harness itself, proven on a plain deferrable sensor: real triggerer, mark failed, triggerer restart."""

from __future__ import annotations

import pytest

from .airflow_processes import AirflowProcesses

pytestmark = pytest.mark.real_airflow

DAG_ID = "real_airflow_smoke"


def test_deferred_tasks_survive_the_real_triggerer(airflow_processes: AirflowProcesses) -> None:
    airflow = airflow_processes
    airflow.wait_for_dag(DAG_ID)
    finishing = airflow.trigger_dag(DAG_ID, {"wait_seconds": 25})
    doomed = airflow.trigger_dag(DAG_ID, {"wait_seconds": 600})
    for run_id in (finishing, doomed):
        airflow.wait_for_task_state(DAG_ID, run_id, "wait", {"deferred"}, timeout=60)

    # A user marks one deferred task failed through the REST API; its trigger must go away.
    airflow.set_task_state(DAG_ID, doomed, "wait", "failed")
    assert airflow.wait_for_dag_run(DAG_ID, doomed, timeout=30) == "failed"

    # The other one is deferred while the triggerer restarts; the new triggerer picks it up.
    airflow.wait_for_trigger_log(DAG_ID, finishing, "wait")
    airflow.restart_component("triggerer")
    assert airflow.wait_for_dag_run(DAG_ID, finishing, timeout=90) == "success"

    trigger_logs = airflow.trigger_logs(DAG_ID, finishing, "wait")
    assert len(trigger_logs) == 2, f"expected one trigger log per triggerer, got {sorted(trigger_logs)}"
    assert any("Trigger fired event" in text for text in trigger_logs.values())
    assert airflow.task_instance(DAG_ID, finishing, "wait")["try_number"] == 1
    assert airflow.task_instance(DAG_ID, doomed, "wait")["state"] == "failed"
