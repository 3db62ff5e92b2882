"""The provider's Airflow plugin.

Airflow stores a DAG's timetable by class path and, when the scheduler or the API server reads
the DAG back, only re-creates timetable classes that a plugin registers. Without this plugin a
DAG scheduled with :class:`QuartzCronTimetable` parses on the DAG processor but cannot be
deserialised anywhere else. Registered through the ``airflow.plugins`` entry point.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_hopsjobs.timetables.quartz import QuartzCronTimetable


class HopsjobsPlugin(AirflowPlugin):
    """Registers the Quartz cron timetable with Airflow."""

    name = "hopsjobs"
    timetables = [QuartzCronTimetable]
