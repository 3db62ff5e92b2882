"""The job-type vocabulary: which types exist, which the provider creates, how each is configured.

Pure data and questions about it; the argument checks built on it (``creatable_job_type``,
``known_job_type``) are in :mod:`airflow_provider_hopsjobs.validation`.

One table answers every question a part of the provider asks about a job type: can it be
created here, can its executions be waited on, which configuration ``type`` it has, and
whether its executions carry a meaningful YARN ``finalStatus`` (which decides the success
rule, see :mod:`airflow_provider_hopsjobs.execution`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

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
