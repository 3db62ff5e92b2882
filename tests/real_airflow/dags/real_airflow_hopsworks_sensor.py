"""Two deferrable sensors on one execution whose id is known when the DAG is parsed.

The test writes ``real_airflow_sensor_target.json`` beside this file (job name and execution
id of an execution it started) and asks Airflow to re-parse the file, which then defines
``real_airflow_hopsworks_sensor_<execution id>`` (a new DAG id per target: no DAG version
of an earlier target can be reused); the ids are literals, as in a DAG that watches a known
execution. ``wait_in_triggerer`` may start in the
triggerer (Airflow 3.3+); ``wait_via_worker`` opts out, for comparison.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG

from airflow_provider_hopsjobs.sensors.execution import HopsworksExecutionSensor

TARGET_FILE = Path(__file__).with_name("real_airflow_sensor_target.json")
target = (
    json.loads(TARGET_FILE.read_text())
    if TARGET_FILE.is_file()
    else {"job_name": "rt_sensor_unset", "execution_id": 0}
)

with DAG(
    dag_id=f"real_airflow_hopsworks_sensor_{target['execution_id']}"
    if TARGET_FILE.is_file()
    else ("real_airflow_hopsworks_sensor"),
    description=f"execution {target['execution_id']} of {target['job_name']}",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["test"],
):
    for task_id, start_from_trigger in (("wait_in_triggerer", None), ("wait_via_worker", False)):
        HopsworksExecutionSensor(
            task_id=task_id,
            job_name=target["job_name"],
            execution_id=target["execution_id"],
            deferrable=True,
            poke_interval=2,
            timeout=300,
            start_from_trigger=start_from_trigger,
        )
