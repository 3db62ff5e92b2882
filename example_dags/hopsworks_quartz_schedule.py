"""A Hopsworks job on the Quartz cron schedule it used to have in Hopsworks.

Hopsworks v2 schedules use Quartz cron (seconds first, ``?`` in one day field, day-of-week
1-7 = SUN-SAT); ``QuartzCronTimetable`` fires at the same instants, so moving a schedule
into Airflow keeps the expression as it was. This one fires at 02:30 on weekdays, Amsterdam
time (DST handled as Airflow's own cron timetables do). ``interval`` gives each run a
one-day data interval, which the job receives as arguments.
``max_active_runs=1`` keeps Hopsworks' rule that a scheduled job never overlaps itself.

Connection: ``hopsworks_default``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_hopsjobs.operators.jobs import HopsworksCreateJobOperator, HopsworksRunJobOperator
from airflow_provider_hopsjobs.timetables.quartz import QuartzCronTimetable

REPORT_JOB = "example_nightly_report"

with DAG(
    dag_id="example_hopsworks_quartz_schedule",
    description="A Hopsworks job on a Quartz cron schedule (weekdays 02:30 Amsterdam time)",
    schedule=QuartzCronTimetable(
        "0 30 2 ? * MON-FRI", timezone="Europe/Amsterdam", interval=timedelta(days=1)
    ),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["hopsworks", "example", "schedule"],
):
    create = HopsworksCreateJobOperator(
        task_id="create_report_job",
        job_name=REPORT_JOB,
        job_type="PYTHON",
        app_file="jobs/nightly_report.py",
    )
    report = HopsworksRunJobOperator(
        task_id="run_report",
        job_name=REPORT_JOB,
        args=[
            "--interval-start",
            "{{ data_interval_start | ts }}",
            "--interval-end",
            "{{ data_interval_end | ts }}",
        ],
    )
    create >> report
