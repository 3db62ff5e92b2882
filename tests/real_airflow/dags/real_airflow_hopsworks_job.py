"""One Hopsworks job, created then run deferrably, with its name and duration taken from the run's conf.

Each test names its own job (``job_name``) so the emulator's per-job counters belong to that test,
and picks how long the job runs (``seconds``) so the task stays deferred while the test acts on it.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_hopsjobs.operators.jobs import HopsworksCreateJobOperator, HopsworksRunJobOperator

JOB_NAME = "{{ dag_run.conf['job_name'] }}"

with DAG(
    dag_id="real_airflow_hopsworks_job",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["test"],
):
    create = HopsworksCreateJobOperator(
        task_id="create_job", job_name=JOB_NAME, job_type="PYTHON", app_file="jobs/real_airflow_sleeper.py"
    )
    run = HopsworksRunJobOperator(
        task_id="run_job",
        job_name=JOB_NAME,
        args="{{ dag_run.conf.get('seconds', 1) }}",
        deferrable=True,
        poll_interval=2,
    )
    create >> run
