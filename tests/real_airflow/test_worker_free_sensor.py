"""A deferrable sensor that starts in the triggerer: no worker runs it before the execution ended.

Under a real scheduler, triggerer and LocalExecutor, against the emulator. On Airflow 3.3+
``wait_in_triggerer`` is deferred without any worker log (the scheduler handed its trigger
straight to the triggerer), and a worker runs only its completion; ``wait_via_worker``
(``start_from_trigger=False``) and, on Airflow 3.0-3.2, both sensors first run on a worker.
The worker time the fallback spends before it defers is printed.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.version_compat import AIRFLOW_V_3_3_PLUS

from .airflow_processes import AirflowProcesses

pytestmark = pytest.mark.real_airflow

PLACEHOLDER_DAG = "real_airflow_hopsworks_sensor"
JOB = "rt_sensor_target"
SLEEPER = Path(__file__).resolve().parent / "dags" / "jobs" / "real_airflow_sleeper.py"
TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)")


def _dag_watching(airflow: AirflowProcesses, job_name: str, execution_id: int) -> str:
    """Write the target beside the DAG file, have Airflow re-parse it now; the new DAG's id."""
    dag = airflow.wait_for_dag(PLACEHOLDER_DAG)
    (airflow.dags_folder / "real_airflow_sensor_target.json").write_text(
        json.dumps({"job_name": job_name, "execution_id": execution_id})
    )
    airflow.api("PUT", f"parseDagFile/{quote(dag['file_token'], safe='')}")
    dag_id = f"{PLACEHOLDER_DAG}_{execution_id}"
    assert (
        airflow.wait_for_dag(dag_id, timeout=120)["description"] == f"execution {execution_id} of {job_name}"
    )
    return dag_id


def _worker_logs(airflow: AirflowProcesses, dag_id: str, run_id: str, task_id: str) -> dict[str, str]:
    """What workers wrote for the task (the triggerer may create an empty attempt file first)."""
    logs = airflow.task_logs(dag_id, run_id, task_id)
    return {name: text for name, text in logs.items() if ".log.trigger." not in name and text.strip()}


def _seconds_logged(text: str) -> float:
    stamps = [datetime.fromisoformat(m.group(1)) for m in TIMESTAMP.finditer(text)]
    return (max(stamps) - min(stamps)).total_seconds() if len(stamps) > 1 else 0.0


def test_the_sensor_waits_in_the_triggerer_without_a_worker(
    airflow_processes: AirflowProcesses, hopsworks_conn: EmulatorHandle
) -> None:
    airflow, hook = airflow_processes, HopsworksHook()
    app_path, _ = hook.upload_file_if_changed(SLEEPER, f"Resources/jobs/{JOB}")
    hook.create_or_update_job(JOB, "PYTHON", app_path=app_path)
    execution = hook.start_execution(JOB, "25")
    dag_id = _dag_watching(airflow, JOB, execution.id)

    run_id = airflow.trigger_dag(dag_id)
    for task_id in ("wait_in_triggerer", "wait_via_worker"):
        airflow.wait_for_task_state(dag_id, run_id, task_id, {"deferred"}, timeout=90)
        airflow.wait_for_trigger_log(dag_id, run_id, task_id)
    assert str(hook.get_execution(JOB, execution.id).state) == "RUNNING"
    tis = {t: airflow.task_instance(dag_id, run_id, t) for t in ("wait_in_triggerer", "wait_via_worker")}
    assert tis["wait_via_worker"]["hostname"]  # a worker ran it

    # While deferred: the fallback ran on a worker first; the other never saw one.
    via_worker = _worker_logs(airflow, dag_id, run_id, "wait_via_worker")
    assert list(via_worker) == ["attempt=1.log"], via_worker
    in_triggerer = _worker_logs(airflow, dag_id, run_id, "wait_in_triggerer")
    if AIRFLOW_V_3_3_PLUS:
        assert in_triggerer == {}, in_triggerer
        assert not tis["wait_in_triggerer"]["hostname"]  # no worker has picked it up
    else:  # documented fallback: Airflow 3.0-3.2 have no worker-free start
        assert list(in_triggerer) == ["attempt=1.log"], in_triggerer
    # Not asserted (timing): the worker time the fallback spends before it defers, first to
    # last line of its worker log (the task process's start-up before the first line comes on top).
    print(
        f"\nfallback sensor: {_seconds_logged(via_worker['attempt=1.log']):.2f} s of logged worker time "
        "before deferring; worker-free sensor: 0 s"
    )

    assert airflow.wait_for_dag_run(dag_id, run_id, timeout=180) == "success"
    assert hook.get_execution(JOB, execution.id).state == "FINISHED"
    path = f"{airflow.run_path(dag_id, run_id)}/taskInstances/wait_in_triggerer/xcomEntries"
    assert int(airflow.api("GET", f"{path}/execution_id").json()["value"]) == execution.id
    summary = airflow.api("GET", f"{path}/return_value").json()["value"]
    assert "FINISHED" in str(summary)
    trigger_log = "\n".join(airflow.trigger_logs(dag_id, run_id, "wait_in_triggerer").values())
    assert f"execution {execution.id}" in trigger_log
    # Only one worker run of the worker-free sensor in all: its completion.
    assert list(_worker_logs(airflow, dag_id, run_id, "wait_in_triggerer")) == ["attempt=1.log"]
    assert hopsworks_conn.executions_started(JOB) == 1
    completion = _worker_logs(airflow, dag_id, run_id, "wait_in_triggerer")["attempt=1.log"]
    assert "execute_complete" in completion or "succeeded" in completion, completion[-2000:]
