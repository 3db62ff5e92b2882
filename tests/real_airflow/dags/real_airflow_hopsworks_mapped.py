"""Three executions of one job from a mapped deferrable run task, one per ``args`` value.

The middle one runs long so a test can kill exactly that map index while the others finish.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_hopsjobs.operators.jobs import HopsworksCreateJobOperator, HopsworksRunJobOperator

JOB_NAME = "{{ dag_run.conf['job_name'] }}"

with DAG(
    dag_id="real_airflow_hopsworks_mapped",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["test"],
):
    create = HopsworksCreateJobOperator(
        task_id="create_job", job_name=JOB_NAME, job_type="PYTHON", app_file="jobs/real_airflow_sleeper.py"
    )
    run = HopsworksRunJobOperator.partial(
        task_id="run_job", job_name=JOB_NAME, deferrable=True, poll_interval=2
    ).expand(args=["20", "300", "20"])
    create >> run
