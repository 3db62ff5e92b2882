"""What an execution will do once INITIALIZING is over: run a process, simulate, or fail.

Decided from the job's type and ``appPath`` and the execution's arguments, the way
Hopsworks decides while initialising: an app file that cannot be found (or a relative
``appPath`` for a YARN type, which Hopsworks cannot resolve) ends INITIALIZATION_FAILED.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.fs import ProjectFiles
from airflow_provider_hopsjobs.emulator.simulation import Simulation, parse_simulation
from airflow_provider_hopsjobs.emulator.states import YARN_TYPES

#: Types whose configuration names no app file.
_TYPES_WITHOUT_APP = ("DOCKER", "PYTHON_APP")
#: Types whose ``.py`` app the emulator runs for real.
_PYTHON_TYPES = ("PYTHON", "PYSPARK")


@dataclass
class Plan:
    """Exactly one field is set."""

    init_failure: str | None = None
    command: list[str] | None = None
    simulation: Simulation | None = None
    argument_error: str | None = None


def plan_execution(
    job: dict[str, Any], project: dict[str, Any], execution: dict[str, Any], files: ProjectFiles
) -> Plan:
    job_type = str(job.get("job_type") or "")
    config = job["config"]
    split_error: str | None = None
    try:
        tokens = shlex.split(execution.get("args") or "")
    except ValueError as exc:
        tokens, split_error = [], str(exc)
    app_file: Path | None = None
    if job_type not in _TYPES_WITHOUT_APP:
        app_file, failure = _locate_app(job_type, config.get("appPath"), str(project["name"]), files)
        if failure is not None:
            return Plan(init_failure=failure)
    if job_type in _PYTHON_TYPES and app_file is not None and app_file.suffix == ".py":
        if split_error is not None:
            return Plan(argument_error=split_error)
        return Plan(command=[sys.executable, "-u", str(app_file), *tokens])
    try:
        simulation = parse_simulation(tokens)
    except ValueError as exc:
        return Plan(argument_error=str(exc))
    if split_error is not None:
        return Plan(argument_error=split_error)
    return Plan(simulation=simulation)


def _locate_app(
    job_type: str, app_path: Any, project: str, files: ProjectFiles
) -> tuple[Path | None, str | None]:
    """(the app's local file, None), or (None, why initialisation fails)."""
    if not app_path:
        return None, "no appPath"
    text = str(app_path)
    if job_type in YARN_TYPES and not (text.startswith("hdfs://") or text.startswith("/")):
        return None, "relative appPath"
    try:
        resolved = files.resolve(project, text)
    except errors.ApiError:
        return None, "app path outside the project"
    if not resolved.local.is_file():
        return None, "app file missing"
    return resolved.local, None


def app_id_for(job_type: str, execution_id: int) -> str:
    """YARN's ``application_<cluster ts>_<n>`` for Spark types, ``<type>-<n>`` for the others."""
    if job_type in YARN_TYPES:
        return f"application_1700000000000_{execution_id:04d}"
    return f"{job_type.lower().replace('_', '-') or 'job'}-{execution_id}"
