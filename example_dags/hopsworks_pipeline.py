"""A chained Hopsworks pipeline: features, then training, then evaluation.

* The three jobs are created (or updated) from scripts shipped beside this DAG in
  ``jobs/``; a re-run with unchanged scripts changes nothing in Hopsworks.
* The feature job runs in the worker; the training job waits in the triggerer
  (``deferrable=True``), so no worker slot is held while it trains.
* Each run publishes its execution id (XCom ``execution_id``) before it waits: the training
  job receives the feature execution's id as an argument, a sensor watches the training
  execution by id, and the evaluation job receives the training execution's id.
* Job stdout lands in each task's log; the "Hopsworks Execution" link opens the execution.

Connection: ``hopsworks_default`` (host, API key as password, ``{"project": "..."}`` extra).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_hopsjobs.operators.jobs import HopsworksCreateJobOperator, HopsworksRunJobOperator
from airflow_provider_hopsjobs.sensors.execution import HopsworksExecutionSensor

FEATURE_JOB = "example_features"
TRAINING_JOB = "example_training"
EVALUATION_JOB = "example_evaluation"

with DAG(
    dag_id="example_hopsworks_pipeline",
    description="Jobs from local scripts: features -> training (deferred) -> sensor -> evaluation",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
    tags=["hopsworks", "example"],
):
    create_jobs = [
        HopsworksCreateJobOperator(
            task_id=f"create_{name}",
            job_name=name,
            job_type="PYTHON",
            app_file=f"jobs/{script}",  # relative to this file; uploaded to Resources/jobs/<job>/
        )
        for name, script in (
            (FEATURE_JOB, "features.py"),
            (TRAINING_JOB, "train.py"),
            (EVALUATION_JOB, "evaluate.py"),
        )
    ]

    features = HopsworksRunJobOperator(
        task_id="compute_features",
        job_name=FEATURE_JOB,
        args=["--date", "{{ ds }}"],
        poll_interval=10,
    )

    train = HopsworksRunJobOperator(
        task_id="train_model",
        job_name=TRAINING_JOB,
        args=["--features-execution", "{{ ti.xcom_pull(task_ids='compute_features', key='execution_id') }}"],
        deferrable=True,
        poll_interval=10,
        timeout=timedelta(hours=2),
    )

    training_done = HopsworksExecutionSensor(
        task_id="training_succeeded",
        job_name=TRAINING_JOB,
        execution_id="{{ ti.xcom_pull(task_ids='train_model', key='execution_id') }}",
        deferrable=True,
        poke_interval=10,
        timeout=timedelta(hours=2),
    )

    evaluate = HopsworksRunJobOperator(
        task_id="evaluate_model",
        job_name=EVALUATION_JOB,
        args=["--training-execution", "{{ ti.xcom_pull(task_ids='train_model', key='execution_id') }}"],
        fetch_logs="both",
    )

    create_jobs >> features >> train >> training_done >> evaluate
