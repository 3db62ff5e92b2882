"""Argument checks shared by the operators, the sensor and the trigger: one rule per kind of value.

Every check raises :class:`~airflow_provider_hopsjobs.errors.HopsworksConfigError` with a
message that names the argument and says what it takes, at DAG parse time where the value
is already known, and again once a templated value has been rendered (at the start of
``execute``), always before anything is sent to Hopsworks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.job_types import CREATABLE_JOB_TYPES, KNOWN_JOB_TYPES

#: Characters Hopsworks rejects in a job name with 400/130006
#: (``Settings.FILENAME_DISALLOWED_CHARS`` plus the space).
FORBIDDEN_NAME_CHARS = frozenset(" /\\?*:|'\"<>%()&;#öäåÖÅÄàáéèâîïüÜ@${}[]+~^`")
MAX_JOB_NAME_LENGTH = 255


def is_templated(value: Any) -> bool:
    """A Jinja template not rendered yet: checked only once rendered."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def validate_job_name(job_name: str) -> str:
    """Reject names Hopsworks would reject (400/130006), with the offending characters named."""
    if not isinstance(job_name, str) or not job_name.strip():
        raise HopsworksConfigError("A job name is required")
    if len(job_name) > MAX_JOB_NAME_LENGTH:
        raise HopsworksConfigError(f"Job name is longer than {MAX_JOB_NAME_LENGTH} characters")
    bad = sorted({c for c in job_name if c in FORBIDDEN_NAME_CHARS or not c.isprintable()})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise HopsworksConfigError(
            f"Invalid job name {job_name!r}: Hopsworks does not allow {shown} in job names "
            "(use letters, digits, '-', '_' or '.')"
        )
    return job_name


def creatable_job_type(job_type: object) -> str:
    """Upper-case a job type to create, or refuse it naming the ones the provider creates."""
    value = job_type.strip().upper() if isinstance(job_type, str) else None
    if value not in CREATABLE_JOB_TYPES:
        raise HopsworksConfigError(
            f"Unknown job_type {job_type!r}; expected one of {', '.join(sorted(CREATABLE_JOB_TYPES))}"
        )
    return value


def known_job_type(job_type: object) -> str | None:
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


def job_name(value: Any) -> None:
    """Refuse a job name Hopsworks would reject (templated names are checked once rendered)."""
    if not is_templated(value):
        validate_job_name(value)


def optional_seconds(name: str, value: timedelta | float | None) -> float | None:
    """A non-negative duration in seconds from a number or a timedelta; None stays None."""
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise HopsworksConfigError(f"{name} must be a number of seconds or a timedelta, got {value!r}")
    if seconds < 0:
        raise HopsworksConfigError(f"{name} must not be negative, got {value!r}")
    return float(seconds)


def seconds(name: str, value: timedelta | float, *, positive: bool = False) -> float:
    """A required duration in seconds; ``positive`` also refuses zero."""
    result = optional_seconds(name, value)
    if result is None:
        raise HopsworksConfigError(f"{name} is required")
    if positive and result == 0:
        raise HopsworksConfigError(f"{name} must be greater than 0")
    return result


def execution_id(value: Any) -> int | None:
    """An execution id given as an int or a rendered template string; None or "" mean "none given"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise HopsworksConfigError(f"execution_id must be an integer, got {value!r}")
    try:
        result = int(str(value).strip())
    except ValueError as err:
        raise HopsworksConfigError(f"execution_id must be an integer, got {value!r}") from err
    if result < 0:
        raise HopsworksConfigError(f"execution_id must not be negative, got {value!r}")
    return result


def check_execution_id(value: Any) -> None:
    """:func:`execution_id` at parse time: templates and XComArgs are checked once resolved."""
    if isinstance(value, (int, str)) and not is_templated(value):
        execution_id(value)


def check_args(value: Any) -> None:
    """Refuse ``args`` that can never become a command line (XComArgs and templates pass)."""
    if isinstance(value, (Mapping, bytes, set, bool)):
        raise HopsworksConfigError(f"args must be a string or a list of strings, got {type(value).__name__}")


def args(value: Any) -> str | list[str] | None:
    """Rendered ``args`` as the hook takes them: a string, a list of strings, or None."""
    check_args(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [str(a) for a in value]
    raise HopsworksConfigError(f"args must be a string or a list of strings, got {type(value).__name__}")


def flag(name: str, value: Any) -> bool:
    """A real boolean: ``"false"`` is a string, and truthy."""
    if not isinstance(value, bool):
        raise HopsworksConfigError(f"{name} must be True or False, got {value!r}")
    return value
