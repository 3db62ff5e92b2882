"""Jobs: read, list, create or update (only when something changed), delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_hopsjobs.errors import HopsworksApiError, HopsworksConfigError
from airflow_provider_hopsjobs.hooks.base import HopsworksBaseHook
from airflow_provider_hopsjobs.hooks.job_config import JobConfigRequest, diff_config, updated_config
from airflow_provider_hopsjobs.hooks.wire import call_name, collection, json_body, string_list
from airflow_provider_hopsjobs.job_types import CONFIG_TYPES
from airflow_provider_hopsjobs.validation import creatable_job_type


@dataclass(frozen=True)
class JobUpsertResult:
    """What :meth:`~airflow_provider_hopsjobs.hooks.hopsworks.HopsworksHook.create_or_update_job` did.

    ``changes`` maps dotted config keys to ``(old, new)``; it is empty when unchanged.
    """

    action: Literal["created", "updated", "unchanged"]
    job: dict[str, Any]
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


class JobsMixin(HopsworksBaseHook):
    """The jobs part of :class:`~.hopsworks.HopsworksHook`."""

    def get_job(self, job_name: str) -> dict[str, Any]:
        """The JobDTO. :raises HopsworksNotFoundError: the job does not exist (130009)."""
        return dict(self._request_json("GET", self._job_path(job_name)))

    def job_exists(self, job_name: str) -> bool:
        return self._get_job_or_none(job_name) is not None

    def list_jobs(
        self,
        *,
        sort_by: str | None = None,
        filter_by: Sequence[str] = (),
        expand: Sequence[str] = (),
        page_size: int = 100,
    ) -> list[dict[str, Any]]:
        """All jobs, fetched ``page_size`` at a time. ``filter_by`` entries look like ``jobtype:PYTHON``."""
        if page_size < 1:
            raise HopsworksConfigError("page_size must be at least 1")
        base: list[tuple[str, Any]] = []
        if sort_by:
            base.append(("sort_by", sort_by))
        base += [("filter_by", f) for f in string_list(filter_by, "filter_by")]
        base += [("expand", e) for e in string_list(expand, "expand")]
        jobs: list[dict[str, Any]] = []
        while True:
            params = [("offset", len(jobs)), ("limit", page_size), *base]
            page = collection(self._request_json("GET", self._project_path("jobs"), params=params))
            jobs.extend(page.items)
            if len(page.items) < page_size or (page.count is not None and len(jobs) >= page.count):
                return jobs

    def get_default_job_config(self, job_type: str) -> dict[str, Any]:
        """The type's default configuration: the system endpoint, else the project-saved one.

        When neither answers (a type the cluster does not enable, an environment that is
        missing) the result is the bare ``{"type": ...}`` and Hopsworks fills in its defaults.
        """
        kind = creatable_job_type(job_type)
        try:
            return dict(self._request_json("GET", self._project_path("jobs", kind.lower(), "configuration")))
        except HopsworksApiError as first:
            try:
                saved = self._request_json("GET", self._project_path("jobconfig", kind))
            except HopsworksApiError:
                self.log.warning(
                    "No default configuration for %s jobs (%s); starting from an empty one", kind, first
                )
                return {"type": CONFIG_TYPES[kind]}
            return dict(saved.get("config") or {}) if isinstance(saved, Mapping) else {}

    def build_job_config(
        self,
        job_name: str,
        job_type: str,
        *,
        app_path: str | None = None,
        main_class: str | None = None,
        default_args: str | None = None,
        environment_name: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The configuration a new job would get: validated first, then the type's default plus ours."""
        request = JobConfigRequest.create(
            job_name,
            job_type,
            app_path=app_path,
            main_class=main_class,
            default_args=default_args,
            environment_name=environment_name,
            config=config,
        )
        return request.build(self.get_default_job_config(request.job_type), self.project_name)

    def create_or_update_job(
        self,
        job_name: str,
        job_type: str,
        *,
        app_path: str | None = None,
        main_class: str | None = None,
        default_args: str | None = None,
        environment_name: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> JobUpsertResult:
        """Make the job look like this; PUT only when something the caller controls differs."""
        request = JobConfigRequest.create(
            job_name,
            job_type,
            app_path=app_path,
            main_class=main_class,
            default_args=default_args,
            environment_name=environment_name,
            config=config,
        )
        existing = self._get_job_or_none(job_name)
        wanted = request.controlled(self.project_name)
        if existing is None:
            body = request.build(self.get_default_job_config(request.job_type), self.project_name)
            changes = diff_config({}, wanted)
        else:
            current = dict(existing.get("config") or {})
            changes = diff_config(current, wanted)
            if not changes and str(existing.get("jobType") or request.job_type).upper() == request.job_type:
                return JobUpsertResult("unchanged", existing, {})
            if current.get("type") == wanted["type"]:
                body = updated_config(current, wanted, request.job_type)
            else:
                body = request.build(self.get_default_job_config(request.job_type), self.project_name)
        path = self._job_path(job_name)
        response = self._request("PUT", path, json=body)
        job = dict(json_body(response, call_name("PUT", path)) or {})
        action: Literal["created", "updated"] = "created" if response.status_code == 201 else "updated"
        self.log.info("Hopsworks job %s %s (%d setting(s) changed)", job_name, action, len(changes))
        return JobUpsertResult(action, job, changes)

    def delete_job(self, job_name: str) -> None:
        """Delete the job and its executions. :raises HopsworksNotFoundError: no such job."""
        self._request("DELETE", self._job_path(job_name))
