"""Three deferrable sensors from one mapped task, each watching an execution the test started.

The execution ids come from the run's conf (``execution_ids``), so the test decides what each map
index watches: it marks one sensor failed while its execution still runs.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_hopsjobs.sensors.execution import HopsworksExecutionSensor

with DAG(
    dag_id="real_airflow_hopsworks_mapped_sensor",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["test"],
):

    @task
    def execution_ids(**context: object) -> list[int]:
        dag_run = context["dag_run"]
        return [int(i) for i in dag_run.conf["execution_ids"]]  # type: ignore[attr-defined]

    HopsworksExecutionSensor.partial(
        task_id="watch",
        job_name="{{ dag_run.conf['job_name'] }}",
        deferrable=True,
        poke_interval=2,
        timeout=600,
    ).expand(execution_id=execution_ids())
