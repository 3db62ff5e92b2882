"""Execution states and job-type knowledge the emulator shares across modules.

Kept free of the provider's own ``status`` module on purpose: the emulator is an
independent stand-in for Hopsworks and must not agree with the provider by construction.
"""

from __future__ import annotations

from typing import Any

TERMINAL_STATES = frozenset(
    {"FINISHED", "FAILED", "KILLED", "FRAMEWORK_FAILURE", "APP_MASTER_START_FAILED", "INITIALIZATION_FAILED"}
)
ALL_STATES = frozenset(
    {
        "INITIALIZING",
        "INITIALIZATION_FAILED",
        "FINISHED",
        "RUNNING",
        "ACCEPTED",
        "FAILED",
        "KILLED",
        "NEW",
        "NEW_SAVING",
        "SUBMITTED",
        "AGGREGATING_LOGS",
        "FRAMEWORK_FAILURE",
        "STARTING_APP_MASTER",
        "APP_MASTER_START_FAILED",
        "GENERATING_SECURITY_MATERIAL",
        "CONVERTING_NOTEBOOK",
    }
)
FINAL_STATUSES = frozenset({"UNDEFINED", "SUCCEEDED", "FAILED", "KILLED"})

#: Job types that run on YARN: several intermediate states and a separate finalStatus.
YARN_TYPES = frozenset({"SPARK", "PYSPARK", "FLINK", "YARN"})

PYTHON_RUNNER = "org.apache.spark.deploy.PythonRunner"

#: JSON discriminator (``config.type``) -> job type; ``None`` means "computed from mainClass".
CONFIG_TYPES: dict[str, str | None] = {
    "pythonJobConfiguration": "PYTHON",
    "sparkJobConfiguration": None,
    "dockerJobConfiguration": "DOCKER",
    "rayJobConfiguration": "RAY",
    "flinkJobConfiguration": "FLINK",
    "pythonAppJobConfiguration": "PYTHON_APP",
}

#: Lower-case names accepted by ``GET /jobs/{jobtype}/configuration`` -> job type.
CONFIGURATION_PATH_TYPES = {
    "python": "PYTHON",
    "docker": "DOCKER",
    "spark": "SPARK",
    "pyspark": "PYSPARK",
    "flink": "FLINK",
    "ray": "RAY",
    "python_app": "PYTHON_APP",
}

#: Job types known to ``/jobconfig/{type}`` (JobType enum, case-insensitive on input).
JOB_TYPES = frozenset({"SPARK", "PYSPARK", "PYTHON", "DOCKER", "FLINK", "YARN", "RAY", "PYTHON_APP"})

#: Characters Hopsworks refuses in a job name (``Settings.FILENAME_DISALLOWED_CHARS`` + space).
JOB_NAME_FORBIDDEN = set(" /\\?*:|'\"<>%()&;#öäåÖÅÄàáéèâîïüÜ@${}[]+~^$`")

#: Folder under ``Logs/`` where each type's aggregated logs land.
LOG_FOLDERS = {
    "SPARK": "Spark",
    "PYSPARK": "PySpark",
    "PYTHON": "Python",
    "DOCKER": "Docker",
    "RAY": "Ray",
    "FLINK": "Flink",
    "YARN": "Yarn",
    "PYTHON_APP": "PythonApp",
}


def job_type_of(config: dict[str, Any]) -> str | None:
    """The ``jobType`` Hopsworks computes for a stored configuration."""
    kind = config.get("type")
    if kind == "sparkJobConfiguration":
        main_class = config.get("mainClass")
        if main_class is None:
            return None
        return "PYSPARK" if main_class == PYTHON_RUNNER else "SPARK"
    return CONFIG_TYPES.get(str(kind))


def default_config(job_type: str) -> dict[str, Any]:  # long: one literal per type, read as a table
    """The built-in default configuration for a type, as ``/jobs/{type}/configuration`` returns it."""
    if job_type in ("SPARK", "PYSPARK"):
        return {
            "type": "sparkJobConfiguration",
            "environmentName": "spark-feature-pipeline",
            "spark.driver.cores": 1.0,
            "spark.driver.memory": 2048,
            "spark.executor.instances": 1,
            "spark.executor.cores": 1.0,
            "spark.executor.memory": 4096,
            "spark.executor.gpus": 0,
            "spark.dynamicAllocation.enabled": True,
            "spark.dynamicAllocation.minExecutors": 1,
            "spark.dynamicAllocation.maxExecutors": 2,
            "spark.dynamicAllocation.initialExecutors": 1,
            "spark.blacklist.enabled": False,
        }
    if job_type == "PYTHON":
        return {
            "type": "pythonJobConfiguration",
            "environmentName": "pandas-training-pipeline",
            "resourceConfig": {"cores": 1.0, "memory": 2048, "gpus": 0},
            "logRedirection": True,
            "jobType": "PYTHON",
        }
    if job_type == "DOCKER":
        return {
            "type": "dockerJobConfiguration",
            "resourceConfig": {"cores": 1.0, "memory": 2048, "gpus": 0},
            "logRedirection": True,
            "jobType": "DOCKER",
        }
    if job_type == "RAY":
        return {
            "type": "rayJobConfiguration",
            "environmentName": "ray-training-pipeline",
            "driverCores": 1.0,
            "driverMemory": 2048,
            "driverGpus": 0,
            "workerCores": 1.0,
            "workerMemory": 4096,
            "workerGpus": 0,
            "workerMinInstances": 1,
            "workerMaxInstances": 1,
            "jobType": "RAY",
        }
    if job_type == "FLINK":
        return {
            "type": "flinkJobConfiguration",
            "jobmanager.heap.size": 1024,
            "taskmanager.numberOfTaskSlots": 1,
            "taskmanager.heap.size": 1024,
            "jobType": "FLINK",
        }
    if job_type == "PYTHON_APP":
        return {
            "type": "pythonAppJobConfiguration",
            "environmentName": "pandas-training-pipeline",
            "resourceConfig": {"cores": 1.0, "memory": 2048, "gpus": 0},
            "jobType": "PYTHON_APP",
        }
    raise KeyError(job_type)


def strip_nulls(value: Any) -> Any:
    """Drop ``None`` members recursively, as Hopsworks' NON_NULL JSON writer does."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value if v is not None]
    return value
