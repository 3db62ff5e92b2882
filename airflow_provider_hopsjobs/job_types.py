"""The job-type vocabulary: which types exist, which the provider creates, how each is configured.

One table answers every question a part of the provider asks about a job type: can it be
created here, can its executions be waited on, which configuration ``type`` it has, and
whether its executions carry a meaningful YARN ``finalStatus`` (which decides the success
rule, see :mod:`airflow_provider_hopsjobs.execution`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from airflow_provider_hopsjobs.errors import HopsworksConfigError

#: The configuration's polymorphic ``type`` per job type (Hopsworks' ``JobConfiguration`` subtypes).
CONFIG_TYPES: Final[Mapping[str, str]] = {
    "PYTHON": "pythonJobConfiguration",
    "PYSPARK": "sparkJobConfiguration",
    "SPARK": "sparkJobConfiguration",
    "RAY": "rayJobConfiguration",
    "DOCKER": "dockerJobConfiguration",
    "FLINK": "flinkJobConfiguration",
}

#: The job types the provider knows how to create.
CREATABLE_JOB_TYPES: Final[frozenset[str]] = frozenset({"PYTHON", "PYSPARK", "SPARK", "RAY", "DOCKER"})

#: Job types that can be waited on: those the provider creates, and those made elsewhere.
KNOWN_JOB_TYPES: Final[frozenset[str]] = CREATABLE_JOB_TYPES | {"FLINK", "YARN", "PYTHON_APP"}

#: Job types configured with a ``sparkJobConfiguration`` (they need a main class, an hdfs app path).
SPARK_CONFIG_JOB_TYPES: Final[frozenset[str]] = frozenset(
    job_type for job_type, config_type in CONFIG_TYPES.items() if config_type == "sparkJobConfiguration"
)

#: Job types whose executions run on YARN and so carry a meaningful ``finalStatus``.
YARN_JOB_TYPES: Final[frozenset[str]] = SPARK_CONFIG_JOB_TYPES | {"FLINK", "YARN"}

#: A Spark JobDTO without a main class has no ``jobType``; its config type then says what it is.
_JOB_TYPE_OF_CONFIG: Final[Mapping[str, str]] = {
    "sparkJobConfiguration": "SPARK",
    "pythonJobConfiguration": "PYTHON",
    "dockerJobConfiguration": "DOCKER",
    "flinkJobConfiguration": "FLINK",
    "rayJobConfiguration": "RAY",
}


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


def job_type_of(job: Mapping[str, Any]) -> str | None:
    """The job type of a JobDTO (Spark jobs without a main class carry only ``config.type``)."""
    job_type = job.get("jobType")
    if job_type:
        return str(job_type).upper()
    config = job.get("config")
    config_type = config.get("type") if isinstance(config, Mapping) else None
    return _JOB_TYPE_OF_CONFIG.get(str(config_type)) if config_type else None


def has_yarn_final_status(job_type: str | None) -> bool:
    """Whether ``FINISHED`` with ``finalStatus`` ``UNDEFINED`` means the final status was lost."""
    return (job_type or "").upper() in YARN_JOB_TYPES
