"""Twenty deferred runs of one job at once (a mapped task), for the triggerer failover test.

Each execution runs ``seconds`` (default 60) so every trigger is still waiting when a test SIGKILLs
the triggerer that holds it.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_hopsjobs.operators.jobs import HopsworksCreateJobOperator, HopsworksRunJobOperator

JOB_NAME = "{{ dag_run.conf['job_name'] }}"
RUNS = 20

with DAG(
    dag_id="real_airflow_hopsworks_failover",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_tasks=RUNS + 2,
    tags=["test"],
):
    create = HopsworksCreateJobOperator(
        task_id="create_job", job_name=JOB_NAME, job_type="PYTHON", app_file="jobs/real_airflow_sleeper.py"
    )
    run = HopsworksRunJobOperator.partial(
        task_id="run_job", job_name=JOB_NAME, deferrable=True, poll_interval=5
    ).expand(args=["{{ dag_run.conf.get('seconds', 60) }}"] * RUNS)
    create >> run
