"""Validate and normalise job configurations the way Hopsworks needs them.

Pure functions, no I/O: the hook fetches the type's default configuration and hands it in.
What Hopsworks does not check for us (or checks with an unhelpful 500) is checked here
before any request: the job name's forbidden characters, a SPARK job without ``mainClass``,
a job type we do not know, an app path a Spark job could not find.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.job_types import CONFIG_TYPES, SPARK_CONFIG_JOB_TYPES
from airflow_provider_hopsjobs.validation import creatable_job_type, validate_job_name

PYTHON_RUNNER = "org.apache.spark.deploy.PythonRunner"

#: Keys the server computes or owns; never part of a comparison.
READ_ONLY_KEYS = frozenset({"jobType"})


def check_app_path(path: str) -> str:
    """The app path, stripped; refused when empty or on another file system (s3://, file://...)."""
    value = path.strip()
    if not value:
        raise HopsworksConfigError("appPath must not be empty")
    if "://" in value and not value.startswith("hdfs://"):
        raise HopsworksConfigError(f"appPath {path!r} must be a project path or an hdfs:// URL")
    return value


def to_hdfs_path(path: str, project_name: str) -> str:
    """``Resources/x.py`` -> ``hdfs:///Projects/<project>/Resources/x.py``.

    Spark jobs fail in INITIALIZING without a log when the path is relative, so every
    app path is sent in the absolute form the SDK also sends. Paths that already are
    ``hdfs://`` URLs or absolute ``/Projects/...`` paths keep their target.
    """
    value = check_app_path(path)
    if value.startswith("hdfs://"):
        return value
    if value.startswith("/Projects/"):
        return "hdfs://" + value
    return f"hdfs:///Projects/{project_name}/{value.lstrip('/')}"


def _deep_merge(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


@dataclass(frozen=True)
class JobConfigRequest:
    """A caller's wishes for one job, validated before anything is fetched."""

    job_name: str
    job_type: str
    app_path: str | None = None
    main_class: str | None = None
    default_args: str | None = None
    environment_name: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        job_name: str,
        job_type: str,
        *,
        app_path: str | None = None,
        main_class: str | None = None,
        default_args: str | None = None,
        environment_name: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> JobConfigRequest:
        """Validate everything that does not need the server's default configuration."""
        validate_job_name(job_name)
        kind = creatable_job_type(job_type)
        user = dict(config or {})
        if not all(isinstance(k, str) for k in user):
            raise HopsworksConfigError("Job configuration keys must be strings")
        expected_type = CONFIG_TYPES[kind]
        if user.get("type") not in (None, expected_type):
            raise HopsworksConfigError(
                f"A {kind} job needs config type {expected_type!r}, not {user['type']!r}"
            )
        if user.get("appName") not in (None, job_name):
            raise HopsworksConfigError(
                f"config appName {user['appName']!r} differs from the job name {job_name!r}; "
                "Hopsworks would create a job under the appName, so leave appName out"
            )
        app = app_path if app_path is not None else user.get("appPath")
        main = main_class if main_class is not None else user.get("mainClass")
        if kind == "DOCKER":
            if app is not None:
                raise HopsworksConfigError("DOCKER jobs take no app path; set config['imagePath'] instead")
            if not user.get("imagePath"):
                raise HopsworksConfigError("A DOCKER job needs config['imagePath'] (the container image)")
        elif not app or not str(app).strip():
            raise HopsworksConfigError(f"A {kind} job needs an app path (app_path= or config['appPath'])")
        else:
            check_app_path(str(app))  # its form now; the project it lives in is filled in later
        if kind == "SPARK" and not main:
            raise HopsworksConfigError(
                "A SPARK job needs main_class (the jar's entry point); Hopsworks fails on a Spark job "
                "without mainClass. For a Python script use job type PYSPARK."
            )
        if kind == "PYSPARK" and main not in (None, PYTHON_RUNNER):
            raise HopsworksConfigError(f"A PYSPARK job runs with mainClass {PYTHON_RUNNER!r}, not {main!r}")
        if kind not in SPARK_CONFIG_JOB_TYPES and main is not None:
            raise HopsworksConfigError(f"main_class only applies to SPARK and PYSPARK jobs, not {kind}")
        if environment_name is not None and kind == "DOCKER":
            raise HopsworksConfigError("DOCKER jobs run an image, not a Python environment")
        return cls(
            job_name=job_name,
            job_type=kind,
            app_path=str(app) if app is not None else None,
            main_class=str(main) if main is not None else None,
            default_args=default_args,
            environment_name=environment_name,
            config=user,
        )

    def controlled(self, project_name: str) -> dict[str, Any]:
        """The normalised values the caller decides; these alone are compared and enforced."""
        values: dict[str, Any] = {
            key: value for key, value in self.config.items() if key not in READ_ONLY_KEYS
        }
        values["type"] = CONFIG_TYPES[self.job_type]
        values["appName"] = self.job_name
        if self.app_path is not None:
            values["appPath"] = to_hdfs_path(self.app_path, project_name)
        if self.job_type == "PYSPARK":
            values["mainClass"] = PYTHON_RUNNER
        elif self.main_class is not None:
            values["mainClass"] = self.main_class
        if self.default_args is not None:
            values["defaultArgs"] = self.default_args
        if self.environment_name is not None:
            values["environmentName"] = self.environment_name
        return values

    def build(self, default_config: Mapping[str, Any] | None, project_name: str) -> dict[str, Any]:
        """The full configuration to PUT for a new job: the type's default plus the caller's values."""
        base = dict(default_config or {})
        if base.get("type") not in (None, CONFIG_TYPES[self.job_type]):
            base = {}
        config = _deep_merge(base, self.controlled(project_name))
        # The server computes jobType from the config; sending it matches what the SDK does
        # and keeps a PUT readable, and the server ignores it.
        config["jobType"] = self.job_type
        return config


def diff_config(
    existing: Mapping[str, Any], wanted: Mapping[str, Any], prefix: str = ""
) -> dict[str, tuple[Any, Any]]:
    """Changes between a job's current config and the caller's values, by dotted key.

    Only keys in ``wanted`` are compared, so defaults the server fills in do not look
    like changes. Nested mappings are compared key by key.
    """
    changes: dict[str, tuple[Any, Any]] = {}
    for key, new in wanted.items():
        if key in READ_ONLY_KEYS:
            continue
        old = existing.get(key)
        name = f"{prefix}{key}"
        if isinstance(new, Mapping) and isinstance(old, Mapping):
            changes.update(diff_config(old, new, prefix=f"{name}."))
        elif not _same(old, new):
            changes[name] = (old, new)
    return changes


def _same(old: Any, new: Any) -> bool:
    if old == new:
        return True
    # Numbers come back as 1.0 where 1 was sent (and vice versa); "" and a missing value agree.
    if isinstance(old, (int, float)) and isinstance(new, (int, float)) and not isinstance(old, bool):
        return float(old) == float(new)
    return old in (None, "") and new in (None, "")


def updated_config(existing: Mapping[str, Any], wanted: Mapping[str, Any], job_type: str) -> dict[str, Any]:
    """The body for an update: the job's current config with the caller's values laid over it.

    Settings someone changed in the Hopsworks UI and the DAG does not mention survive.
    """
    config = _deep_merge(dict(existing), wanted)
    config["jobType"] = job_type
    return config
