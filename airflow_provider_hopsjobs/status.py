"""Execution states, the success rule and the exception types, in one place.

Every part of the provider (hook, operators, trigger, sensor) decides "is it over?" and
"did it work?" through this module, so sync and deferrable waits cannot drift apart.
The rule follows the reference: an execution is over when its *state* is terminal, and
it succeeded only when ``state == FINISHED`` and ``finalStatus`` is ``SUCCEEDED`` (or
``UNDEFINED`` for job types that have no YARN final status). Waiting on ``finalStatus``
alone would hang forever on a Spark job that fails to initialise.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from airflow_provider_hopsjobs._compat import AirflowException, AirflowFailException

TERMINAL_STATES: frozenset[str] = frozenset(
    {
        "FINISHED",
        "FAILED",
        "KILLED",
        "FRAMEWORK_FAILURE",
        "APP_MASTER_START_FAILED",
        "INITIALIZATION_FAILED",
    }
)

#: Job types whose executions carry a meaningful YARN ``finalStatus``.
SPARK_JOB_TYPES: frozenset[str] = frozenset({"SPARK", "PYSPARK", "FLINK", "YARN"})

#: The job types the provider knows how to create.
SUPPORTED_JOB_TYPES: frozenset[str] = frozenset({"PYTHON", "PYSPARK", "SPARK", "RAY", "DOCKER"})

#: Job types that can be waited on: those the provider creates, and those made elsewhere.
KNOWN_JOB_TYPES: frozenset[str] = SUPPORTED_JOB_TYPES | {"FLINK", "YARN", "PYTHON_APP"}


class ExecutionOutcome(str, enum.Enum):
    """Where an execution stands, from the provider's point of view."""

    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    KILLED = "killed"


def is_terminal(state: str | None) -> bool:
    """True when Hopsworks will not move the execution to another state."""
    return (state or "").upper() in TERMINAL_STATES


def outcome_of(execution: Mapping[str, Any], job_type: str | None = None) -> ExecutionOutcome:
    """Classify an ExecutionDTO.

    ``job_type`` decides whether ``FINISHED`` + ``UNDEFINED`` counts as success: it does
    for Python, Docker and Ray jobs, which never get a YARN final status, and it does
    not for Spark types, where it would mean the final status was lost.
    """
    state = str(execution.get("state") or "").upper()
    final_status = str(execution.get("finalStatus") or "UNDEFINED").upper()
    if state not in TERMINAL_STATES:
        return ExecutionOutcome.RUNNING
    if state == "KILLED" or final_status == "KILLED":
        return ExecutionOutcome.KILLED
    if state != "FINISHED":
        return ExecutionOutcome.FAILED
    if final_status == "SUCCEEDED":
        return ExecutionOutcome.SUCCESS
    if final_status == "UNDEFINED" and (job_type or "").upper() not in SPARK_JOB_TYPES:
        return ExecutionOutcome.SUCCESS
    return ExecutionOutcome.FAILED


def check_known_job_type(job_type: object) -> str | None:
    """Upper-case an optional job type for waiting on its executions, or refuse it clearly.

    Raised as :class:`HopsworksConfigError` (a ``ValueError``) so operators, the sensor and the
    trigger all fail at construction, before any execution is started.
    """
    if job_type is None:
        return None
    if not isinstance(job_type, str) or job_type.upper() not in KNOWN_JOB_TYPES:
        raise HopsworksConfigError(
            f"job_type must be one of {sorted(KNOWN_JOB_TYPES)} or None, got {job_type!r}"
        )
    return job_type.upper()


class HopsworksError(AirflowException):
    """Base of every error the provider raises."""


class HopsworksConfigError(HopsworksError, ValueError):
    """Bad input (job name, job type, path, cron, connection). Raised before any request."""


class HopsworksApiError(HopsworksError):
    """Hopsworks answered, and rejected the request.

    The message is built from Hopsworks' own ``errorCode``/``errorMsg``/``usrMsg`` so a
    DAG author sees what the server said, never a request header.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_code: int | None = None,
        error_msg: str | None = None,
        usr_msg: str | None = None,
    ) -> None:
        super().__init__(message)
        # The HTTP status Hopsworks answered with (AirflowException types this as HTTPStatus).
        self.status_code = status_code  # type: ignore[assignment]
        self.error_code = error_code
        self.error_msg = error_msg
        self.usr_msg = usr_msg


class HopsworksNotFoundError(HopsworksApiError):
    """The project, job, execution, schedule or file does not exist."""


class HopsworksApiUnavailableError(HopsworksError):
    """The API could not be reached, or kept failing, after the retry policy gave up.

    Transient by nature: an Airflow retry is the right answer.
    """


class HopsworksJobFailedError(HopsworksError):
    """The remote execution ended in failure. Airflow may retry the task."""

    def __init__(self, message: str, *, execution: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.execution = dict(execution or {})


class HopsworksExecutionKilledError(HopsworksJobFailedError, AirflowFailException):
    """The execution was stopped by someone else; fails the task without retrying it.

    A retry would silently relaunch what a person deliberately stopped.
    """


class HopsworksWaitTimeoutError(HopsworksError):
    """The wait exceeded its deadline; the execution was stopped if asked to."""
