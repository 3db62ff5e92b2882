"""A DAG whose only job is to sit in the real triggerer for as long as the test asks.

``wait_seconds`` in the run's conf sets the wait, counted from the run's creation (TimeDeltaSensor's
base time for runs without a data interval). Native rendering turns the template into a timedelta.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor
from airflow.sdk import DAG

with DAG(
    dag_id="real_airflow_smoke",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    render_template_as_native_obj=True,
    tags=["test"],
):
    TimeDeltaSensor(
        task_id="wait",
        delta="{{ macros.timedelta(seconds=dag_run.conf.get('wait_seconds', 15)) }}",
        deferrable=True,
    )
