"""Scenario steps shared by the profiles' test modules: the same checks on SQLite and PostgreSQL/Celery."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.operators.reattach import STATE_STORE_KEY, variable_key
from airflow_provider_hopsjobs.version_compat import AIRFLOW_V_3_3_PLUS

from .airflow_processes import AirflowProcesses, poll

MAPPED_DAG = "real_airflow_hopsworks_mapped"
MAPPED_SENSOR_DAG = "real_airflow_hopsworks_mapped_sensor"
SLEEPER = Path(__file__).resolve().parent / "dags" / "jobs" / "real_airflow_sleeper.py"
ENDED = frozenset({"KILLED", "FINISHED", "FAILED"})


def execution_id(
    airflow: AirflowProcesses, dag_id: str, run_id: str, task_id: str, map_index: int = -1
) -> int:
    """The execution the run operator pushed to XCom before it deferred or waited."""
    path = f"{airflow.run_path(dag_id, run_id)}/taskInstances/{task_id}/xcomEntries/execution_id"
    return int(airflow.api("GET", path, params={"map_index": map_index}).json()["value"])


def wait_for_execution_state(
    hook: HopsworksHook, job_name: str, execution_id: int, states: set[str] | frozenset[str], timeout: float
) -> str:
    def probe() -> str | None:
        state = str(hook.get_execution(job_name, execution_id).state)
        return state if state in states else None

    return poll(f"execution {execution_id} of {job_name} to reach {sorted(states)}", probe, timeout)


def mapped_states(
    airflow: AirflowProcesses, dag_id: str, run_id: str, task_id: str = "run_job"
) -> dict[int, str]:
    return {
        ti["map_index"]: ti["state"]
        for ti in airflow.task_instances(dag_id, run_id)
        if ti["task_id"] == task_id
    }


def mapped_kill_kills_exactly_its_execution(
    airflow: AirflowProcesses, hopsworks_conn: EmulatorHandle, job_name: str
) -> None:
    """Mark map index 1 of three deferred runs failed: its execution is killed, the others finish."""
    airflow.wait_for_dag(MAPPED_DAG)
    run_id = airflow.trigger_dag(MAPPED_DAG, {"job_name": job_name})
    for map_index in range(3):
        airflow.wait_for_task_state(
            MAPPED_DAG, run_id, "run_job", {"deferred"}, timeout=180, map_index=map_index
        )
    # Only a running trigger can be cancelled: a deferred task whose trigger no triggerer has picked
    # up yet is marked failed without any code of ours running (Airflow cancels running triggers only).
    airflow.wait_for_trigger_log(MAPPED_DAG, run_id, "run_job", timeout=90, map_index=1)
    ids = [execution_id(airflow, MAPPED_DAG, run_id, "run_job", map_index) for map_index in range(3)]
    assert len(set(ids)) == 3
    hook = HopsworksHook()

    airflow.set_task_state(MAPPED_DAG, run_id, "run_job", "failed", map_index=1)

    assert wait_for_execution_state(hook, job_name, ids[1], ENDED, 90) == "KILLED"
    assert airflow.wait_for_dag_run(MAPPED_DAG, run_id, timeout=180) == "failed"
    assert mapped_states(airflow, MAPPED_DAG, run_id) == {0: "success", 1: "failed", 2: "success"}
    assert [hook.get_execution(job_name, i).state for i in ids] == ["FINISHED", "KILLED", "FINISHED"]
    assert hopsworks_conn.executions_started(job_name) == 3


def _trigger_id(
    airflow: AirflowProcesses, dag_id: str, run_id: str, task_id: str, map_index: int
) -> int | None:
    rows = airflow.sql(
        "SELECT trigger_id FROM task_instance WHERE dag_id = :dag_id AND run_id = :run_id"
        " AND task_id = :task_id AND map_index = :map_index",
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        map_index=map_index,
    )
    return int(rows[0][0]) if rows and rows[0][0] is not None else None


def mapped_sensor_kill_ends_exactly_its_wait(
    airflow: AirflowProcesses, hopsworks_conn: EmulatorHandle, job_name: str
) -> None:
    """Mark map index 1 of three deferred sensors failed: its trigger goes, the others succeed.

    A sensor watches an execution it does not own (``cancel_on_kill`` is off for it), so the
    execution it watched keeps running; the test stops it afterwards.
    """
    hook = HopsworksHook()
    app_path, _ = hook.upload_file_if_changed(SLEEPER, f"Resources/jobs/{job_name}")
    hook.create_or_update_job(job_name, "PYTHON", app_path=app_path)
    ids = [hook.start_execution(job_name, seconds).id for seconds in ("30", "300", "30")]
    airflow.wait_for_dag(MAPPED_SENSOR_DAG)
    run_id = airflow.trigger_dag(MAPPED_SENSOR_DAG, {"job_name": job_name, "execution_ids": ids})
    for map_index in range(3):
        airflow.wait_for_task_state(
            MAPPED_SENSOR_DAG, run_id, "watch", {"deferred"}, timeout=180, map_index=map_index
        )
    airflow.wait_for_trigger_log(MAPPED_SENSOR_DAG, run_id, "watch", timeout=90, map_index=1)
    trigger = _trigger_id(airflow, MAPPED_SENSOR_DAG, run_id, "watch", 1)
    assert trigger is not None

    airflow.set_task_state(MAPPED_SENSOR_DAG, run_id, "watch", "failed", map_index=1)

    def trigger_gone() -> bool | None:
        rows = airflow.sql("SELECT count(*) FROM trigger WHERE id = :id", id=trigger)
        return True if rows[0][0] == 0 else None

    poll(f"trigger {trigger} of the failed sensor to be removed", trigger_gone, timeout=90)
    assert airflow.wait_for_dag_run(MAPPED_SENSOR_DAG, run_id, timeout=180) == "failed"
    assert mapped_states(airflow, MAPPED_SENSOR_DAG, run_id, "watch") == {
        0: "success",
        1: "failed",
        2: "success",
    }
    assert [str(hook.get_execution(job_name, i).state) for i in ids] == ["FINISHED", "RUNNING", "FINISHED"]
    assert hopsworks_conn.executions_started(job_name) == 3
    hook.stop_execution(job_name, ids[1])


def reattach_record(
    airflow: AirflowProcesses, dag_id: str, run_id: str, task_id: str, map_index: int = -1
) -> dict[str, Any] | None:
    """The run operator's reattach record as stored in the metadata DB; None when absent or cleared.

    Airflow 3.3+: the task state store row (key ``hopsworks_execution``); before: the Variable
    ``hopsjobs_execution_<hash>`` (an empty object once the task succeeded on Airflow 3.0).
    """
    if AIRFLOW_V_3_3_PLUS:
        rows = airflow.sql(
            "SELECT value FROM task_state_store WHERE dag_id = :dag_id AND run_id = :run_id"
            " AND task_id = :task_id AND map_index = :map_index AND key = :key",
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            map_index=map_index,
            key=STATE_STORE_KEY,
        )
        raw = rows[0][0] if rows else None
    else:
        key = variable_key(dag_id, run_id, task_id, map_index)
        response = airflow.api("GET", f"variables/{key}", allow={404})
        raw = response.json()["value"] if response.status_code == 200 else None
    value = json.loads(raw) if isinstance(raw, str) else raw
    return dict(value) if isinstance(value, dict) and value else None
