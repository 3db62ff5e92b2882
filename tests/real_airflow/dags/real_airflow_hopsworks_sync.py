"""Synchronous (non-deferrable) runs with one retry: the worker-loss and reattach-record tests.

``real_airflow_hopsworks_sync`` runs one execution of ``seconds`` (from the run's conf); its worker
can be killed while it waits and the retry reattaches. ``real_airflow_hopsworks_sync_mapped`` runs
three at once, each with its own reattach record.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_hopsjobs.operators.jobs import HopsworksCreateJobOperator, HopsworksRunJobOperator

JOB_NAME = "{{ dag_run.conf['job_name'] }}"
RETRY_DELAY = timedelta(seconds=5)

with DAG(
    dag_id="real_airflow_hopsworks_sync",
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
        deferrable=False,
        poll_interval=2,
        retries=1,
        retry_delay=RETRY_DELAY,
    )
    create >> run

with DAG(
    dag_id="real_airflow_hopsworks_sync_mapped",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["test"],
):
    create_mapped = HopsworksCreateJobOperator(
        task_id="create_job", job_name=JOB_NAME, job_type="PYTHON", app_file="jobs/real_airflow_sleeper.py"
    )
    run_mapped = HopsworksRunJobOperator.partial(
        task_id="run_job",
        job_name=JOB_NAME,
        deferrable=False,
        poll_interval=2,
        retries=1,
        retry_delay=RETRY_DELAY,
    ).expand(args=["{{ dag_run.conf.get('seconds', 30) }}"] * 3)
    create_mapped >> run_mapped
