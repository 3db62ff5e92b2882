"""Create or update a Hopsworks job by name, uploading its program first when it changed."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_hopsjobs import validation
from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.job_types import job_type_of
from airflow_provider_hopsjobs.operators.base import HopsworksBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class HopsworksCreateJobOperator(HopsworksBaseOperator):
    """Create a Hopsworks job, or update it to match, by name.

    Re-running with the same inputs changes nothing remote: the uploaded file is compared
    with the local one first, and the hook sends no update when the job already matches.

    :param job_name: the job's name (templated).
    :param job_type: ``PYTHON``, ``PYSPARK``, ``SPARK``, ``RAY`` or ``DOCKER``.
    :param app_path: the program already in the project, e.g. ``Resources/jobs/x/main.py``
        (templated). Give this or ``app_file``.
    :param app_file: a local script or jar to upload first (templated). A relative path is
        looked up next to the DAG file, then in the working directory.
    :param upload_dir: project folder for ``app_file`` (default ``Resources/jobs/<job_name>``).
    :param main_class: Spark main class (required for ``SPARK``).
    :param job_default_args: the job's ``defaultArgs``: arguments an execution started without
        any gets (templated). Not called ``default_args``, which Airflow reserves for the
        DAG-level defaults of every operator.
    :param environment_name: Python environment the job runs in.
    :param config: settings merged over the job type's default configuration (templated).
    :param hopsworks_conn_id: the Airflow connection to Hopsworks (default ``hopsworks_default``).
    :param project: the project, overriding the connection's (templated).
    :returns: ``{"job_name", "job_id", "job_type", "action", "changed", "app_path", "uploaded", "url"}``
        with ``action`` one of ``created``, ``updated``, ``unchanged``.
    """

    template_fields: Sequence[str] = (
        "job_name",
        "app_path",
        "app_file",
        "upload_dir",
        "main_class",
        "job_default_args",
        "environment_name",
        "config",
        "project",
    )
    template_fields_renderers = {"config": "json"}
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        job_name: str,
        job_type: str,
        app_path: str | None = None,
        app_file: str | os.PathLike[str] | None = None,
        upload_dir: str | None = None,
        main_class: str | None = None,
        job_default_args: str | None = None,
        environment_name: str | None = None,
        config: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        validation.job_name(job_name)
        self.job_type = validation.creatable_job_type(job_type)
        if app_path is not None and app_file is not None:
            raise HopsworksConfigError("Give app_path or app_file, not both.")
        if config is not None and not isinstance(config, Mapping) and not validation.is_templated(config):
            raise HopsworksConfigError(f"config must be a mapping, got {type(config).__name__}")
        self.job_name = job_name
        self.app_path = app_path
        self.app_file = os.fspath(app_file) if app_file is not None else None
        self.upload_dir = upload_dir
        self.main_class = main_class
        self.job_default_args = job_default_args
        self.environment_name = environment_name
        self.config: Any = dict(config) if isinstance(config, Mapping) else config

    def _local_file(self) -> Path:
        """The file to upload; a relative path is looked up next to the DAG file first."""
        assert self.app_file is not None
        path = Path(self.app_file).expanduser()
        if not path.is_absolute():
            fileloc = getattr(self.dag, "fileloc", None) if self.has_dag() else None  # type: ignore[no-untyped-call]
            beside_dag = Path(fileloc).parent / path if fileloc else None
            if beside_dag is not None and beside_dag.is_file():
                path = beside_dag
        if not path.is_file():
            raise HopsworksConfigError(
                f"app_file {self.app_file!r} is not a readable file (looked at {path.resolve()})."
            )
        return path

    def execute(self, context: Context) -> dict[str, Any]:
        validation.job_name(self.job_name)
        config = self.config
        if config is not None and not isinstance(config, Mapping):
            raise HopsworksConfigError(f"config must render to a mapping, got {type(config).__name__}")
        options: dict[str, Any] = {
            "main_class": self.main_class,
            "default_args": self.job_default_args,
            "environment_name": self.environment_name,
            "config": config,
        }
        app_path = self.app_path
        local: Path | None = None
        remote_dir = self.upload_dir or f"Resources/jobs/{self.job_name}"
        if self.app_file is not None:
            local = self._local_file()
            app_path = f"{remote_dir.rstrip('/')}/{local.name}"
        # Validate everything (and read the type's defaults) before the first write.
        self.hook.build_job_config(self.job_name, self.job_type, app_path=app_path, **options)
        uploaded = False
        if local is not None:
            app_path, uploaded = self.hook.upload_file_if_changed(local, remote_dir)
        result = self.hook.create_or_update_job(self.job_name, self.job_type, app_path=app_path, **options)
        if result.action == "updated":
            self.log.info("Updated Hopsworks job %r:", self.job_name)
            for key, (old, new) in sorted(result.changes.items()):
                self.log.info("  %s: %s -> %s", key, _short(old), _short(new))
        else:
            self.log.info("Hopsworks job %r: %s.", self.job_name, result.action)
        job = result.job
        return {
            "job_name": self.job_name,
            "job_id": job.get("id"),
            "job_type": job_type_of(job) or self.job_type,
            "action": result.action,
            "changed": sorted(result.changes),
            "app_path": (job.get("config") or {}).get("appPath", app_path),
            "uploaded": uploaded,
            "url": self.hook.job_url(self.job_name),
        }
