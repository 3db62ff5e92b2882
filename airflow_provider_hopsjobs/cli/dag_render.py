"""Render the DAG file that replaces one Hopsworks v2 schedule.

The file is meant to be read and owned by people afterwards, so it is plain, commented
Python rather than a generated blob, and rendering is deterministic: the same schedule
always gives the same bytes, which is what makes re-running the migration idempotent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

_DAG_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def dag_id_for(job_name: str, prefix: str = "hopsworks_") -> str:
    """A DAG id Airflow accepts, derived from the job name (unsafe characters become ``_``)."""
    return prefix + _DAG_ID_UNSAFE.sub("_", job_name)


@dataclass(frozen=True)
class MigratedSchedule:
    """What the DAG file needs to know about one job and its schedule."""

    job_name: str
    cron_expression: str
    start: datetime | None
    end: datetime | None
    default_args: str | None
    conn_id: str
    project: str | None
    dag_id: str
    #: A disabled Hopsworks schedule becomes a DAG that starts paused: the definition moves
    #: over, the "do not run" decision too.
    paused: bool = False


def epoch_ms_to_datetime(value: object) -> datetime | None:
    """Schedule instants arrive as epoch milliseconds (Hopsworks' `JobScheduleV2DTO`)."""
    if value is None:
        return None
    return datetime.fromtimestamp(int(str(value)) / 1000, tz=timezone.utc)


def _pendulum_literal(value: datetime) -> str:
    value = value.astimezone(timezone.utc)
    return (
        f"pendulum.datetime({value.year}, {value.month}, {value.day}, "
        f"{value.hour}, {value.minute}, {value.second}, tz='UTC')"
    )


def render_dag(schedule: MigratedSchedule, *, now: datetime | None = None) -> str:
    """Return the DAG module source for one migrated schedule.

    Without a ``startDateTime`` the DAG starts at the current day (UTC midnight) so that,
    with ``catchup=False``, it begins firing at the next matching instant just as the
    Hopsworks schedule would have.
    """
    start = schedule.start or (now or datetime.now(timezone.utc)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    end_line = f"    end_date={_pendulum_literal(schedule.end)},\n" if schedule.end else ""
    paused_line = "    is_paused_upon_creation=True,\n" if schedule.paused else ""
    project_line = f"        project={schedule.project!r},\n" if schedule.project else ""
    args_repr = repr(schedule.default_args or "")
    return f'''"""Runs Hopsworks job {schedule.job_name!r} on the cron its Hopsworks v2 schedule used.

Written by `hopsjobs migrate-schedules`. The Hopsworks schedule was
    cron: {schedule.cron_expression}
and is switched off once this file imports cleanly (`--disable`), so the job never runs twice.
`max_active_runs=1` keeps Hopsworks' rule that a scheduled job never overlaps itself.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_hopsjobs.operators.jobs import HopsworksRunJobOperator
from airflow_provider_hopsjobs.timetables.quartz import QuartzCronTimetable

with DAG(
    dag_id={schedule.dag_id!r},
    schedule=QuartzCronTimetable({schedule.cron_expression!r}, timezone="UTC"),
    start_date={_pendulum_literal(start)},
{end_line}    catchup=False,
    max_active_runs=1,
{paused_line}    tags=["hopsworks", "migrated-schedule"],
):
    HopsworksRunJobOperator(
        task_id="run_job",
        job_name={schedule.job_name!r},
        args={args_repr},
        hopsworks_conn_id={schedule.conn_id!r},
{project_line}    )
'''
