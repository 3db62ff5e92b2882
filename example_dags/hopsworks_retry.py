"""Retry on failure: a Hopsworks job that fails on its first try and succeeds on the next.

The job receives the task's try number and fails while it is below ``--succeed-from``.
Airflow retries the task; each retry starts a new execution only because the previous one
*failed*: had it still been running (say the worker died), the retry would have reattached
to it instead of starting a duplicate.

A failed execution raises ``HopsworksJobFailedError`` (retried); one killed by a person
raises ``HopsworksExecutionKilledError``, which is not retried; an unreachable API raises
``HopsworksApiUnavailableError``. On Airflow 3.3 a ``retry_policy`` can tell them apart.

Connection: ``hopsworks_default``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_hopsjobs.operators.jobs import HopsworksCreateJobOperator, HopsworksRunJobOperator

FLAKY_JOB = "example_flaky"

with DAG(
    dag_id="example_hopsworks_retry",
    description="A job that fails on its first try and succeeds when Airflow retries it",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["hopsworks", "example"],
):
    create = HopsworksCreateJobOperator(
        task_id="create_flaky_job",
        job_name=FLAKY_JOB,
        job_type="PYTHON",
        app_file="jobs/flaky.py",
    )

    run = HopsworksRunJobOperator(
        task_id="run_flaky_job",
        job_name=FLAKY_JOB,
        args=["--attempt", "{{ ti.try_number }}", "--succeed-from", "2"],
        retries=2,
        # Short for the demo; give real jobs time to recover (minutes, with backoff).
        retry_delay=timedelta(seconds=2),
        fetch_logs="both",
    )

    create >> run
