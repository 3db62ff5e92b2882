"""The environment a job process starts with.

The emulator's own environment, minus what a job could print and leak (Airflow connection
variables and API keys), plus what Hopsworks tells its jobs: ``HOPSWORKS_PROJECT_NAME``,
``HOPSWORKS_PROJECT_ID``, ``HOPSWORKS_JOB_NAME``, ``HOPSWORKS_JOB_TYPE``,
``HOPSWORKS_EXECUTION_ID``, ``HOPSWORKS_PROJECT_DIR`` (the project's local directory) and
any ``envVars`` given when the execution was started, which win.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: Never handed to job processes: they could print them.
SCRUBBED_ENV_PREFIXES = ("AIRFLOW_CONN_", "HOPSWORKS_API_KEY", "HOPSJOBS_EMULATOR_API_KEY")


def job_environment(
    job: dict[str, Any], project: dict[str, Any], execution: dict[str, Any], project_dir: Path
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_ENV_PREFIXES)}
    env.update(
        PYTHONUNBUFFERED="1",
        HOPSWORKS_PROJECT_NAME=str(project["name"]),
        HOPSWORKS_PROJECT_ID=str(project["id"]),
        HOPSWORKS_JOB_NAME=str(job["name"]),
        HOPSWORKS_JOB_TYPE=str(job.get("job_type") or ""),
        HOPSWORKS_EXECUTION_ID=str(execution["id"]),
        HOPSWORKS_PROJECT_DIR=str(project_dir),
    )
    env.update({str(k): str(v) for k, v in (execution.get("env") or {}).items()})
    return env
