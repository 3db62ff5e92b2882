"""TaskFlow on Hopsworks: ``@task.hopsworks`` runs a Python function as a Hopsworks job.

``train`` runs on Hopsworks, not on the Airflow worker: its source is uploaded as the job
``example_taskflow_train`` (created on first run, updated only when the function changes),
its arguments travel with the execution, and its return value comes back as the task's XCom,
which ``report`` (an ordinary Airflow task) reads. ``score`` is mapped: one Hopsworks
execution per shard, all running the same uploaded script.

``@task.hopsworks`` needs nothing but ``from airflow.sdk import task``: the provider
registers it. Functions import what they use inside their body, as with ``@task.virtualenv``.

Connection: ``hopsworks_default``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

with DAG(
    dag_id="example_hopsworks_taskflow",
    description="A Python function run as a Hopsworks job, its result used downstream",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["hopsworks", "example"],
):

    @task.hopsworks(
        job_name="example_taskflow_train",
        deferrable=True,
        environment="pandas-training-pipeline",
        retries=1,
    )
    def train(features_table: str, epochs: int = 3) -> dict[str, Any]:
        import os
        import random

        rng = random.Random(f"{features_table}-{epochs}")  # noqa: S311 - a demo loss curve
        for epoch in range(1, epochs + 1):
            print(f"epoch {epoch}/{epochs} loss={1.0 / (epoch + rng.random()):.4f}")
        execution = os.environ.get("HOPSWORKS_EXECUTION_ID")
        print(f"TRAINED {features_table} in execution {execution}")
        return {"features_table": features_table, "epochs": epochs, "auc": 0.91, "execution": execution}

    @task.hopsworks(job_name="example_taskflow_score")
    def score(shard: int) -> int:
        print(f"scoring shard {shard}")
        return shard * shard

    @task
    def report(metrics: dict[str, Any], scores: list[int]) -> str:
        line = f"REPORT auc={metrics['auc']} table={metrics['features_table']} scores={sorted(scores)}"
        print(line)
        return line

    metrics = train(features_table="{{ ds_nodash }}_features", epochs=5)
    report(metrics, score.expand(shard=[1, 2, 3]))
