"""Default job configurations: the built-in ones per type, and those a project saved.

``GET /jobs/{jobtype}/configuration`` takes a lower-case type and answers the project's
saved default, else the built-in one; SPARK and PYSPARK share one saved default, whose
``mainClass`` is dropped. ``GET /jobs/{jobtype}/inspection?path=`` prefills a
configuration for an app file. ``/jobconfig/{TYPE}`` (any case) reads, saves (201 on
create, 200 on replace) and deletes a project's saved default, 404/150077 when there is none.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.context import (
    API_PREFIX,
    ContextResolver,
    RequestContext,
    read_json,
    require_json_content,
)
from airflow_provider_hopsjobs.emulator.dto import collection, config_dto
from airflow_provider_hopsjobs.emulator.fs import ProjectFiles
from airflow_provider_hopsjobs.emulator.jobs import validate_config_body
from airflow_provider_hopsjobs.emulator.states import (
    CONFIGURATION_PATH_TYPES,
    JOB_TYPES,
    PYTHON_RUNNER,
    default_config,
)
from airflow_provider_hopsjobs.emulator.store import Store


def _jobconfig_type(raw: str) -> str:
    job_type = raw.upper()
    if job_type not in JOB_TYPES:
        raise errors.web_application_error(404)
    return job_type


def _jobconfig_dto(ctx: RequestContext, job_type: str, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "href": ctx.project_api("jobconfig", job_type.lower()),
        "jobType": job_type,
        "config": config_dto(config),
    }


class JobConfigRoutes:
    def __init__(self, *, contexts: ContextResolver, store: Store, files: ProjectFiles) -> None:
        self._contexts = contexts
        self._store = store
        self._files = files

    def routes(self) -> list[Route]:
        p = f"{API_PREFIX}/project/{{id:int}}"
        return [
            Route(f"{p}/jobs/{{jobtype}}/configuration", self.job_type_configuration, methods=["GET"]),
            Route(f"{p}/jobs/{{jobtype}}/inspection", self.job_type_inspection, methods=["GET"]),
            Route(f"{p}/jobconfig", self.list_jobconfigs, methods=["GET"]),
            Route(f"{p}/jobconfig/{{type}}", self.get_jobconfig, methods=["GET"]),
            Route(f"{p}/jobconfig/{{type}}", self.put_jobconfig, methods=["PUT"]),
            Route(f"{p}/jobconfig/{{type}}", self.delete_jobconfig, methods=["DELETE"]),
        ]

    def _saved_default(self, project_id: int, job_type: str) -> dict[str, Any] | None:
        if job_type in ("SPARK", "PYSPARK"):
            other = "PYSPARK" if job_type == "SPARK" else "SPARK"
            saved = self._store.get_default_config(project_id, job_type) or self._store.get_default_config(
                project_id, other
            )
            if saved is not None:
                saved.pop("mainClass", None)  # shared by SPARK and PYSPARK, so the main class is dropped
            return saved
        return self._store.get_default_config(project_id, job_type)

    async def job_type_configuration(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job_type = CONFIGURATION_PATH_TYPES.get(request.path_params["jobtype"])
        if job_type is None:
            raise errors.web_application_error(404)
        config = self._saved_default(ctx.project_id, job_type) or default_config(job_type)
        return JSONResponse(config_dto(config))

    async def job_type_inspection(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job_type = CONFIGURATION_PATH_TYPES.get(request.path_params["jobtype"])
        path = request.query_params.get("path")
        if job_type is None:
            raise errors.web_application_error(404)
        if not path:
            raise errors.ApiError(422, errors.ILLEGAL_ARGUMENT, "path is required")
        resolved = self._files.resolve(ctx.project_name, path)
        if not resolved.local.is_file():
            raise errors.ApiError(404, errors.INODE_NOT_FOUND, f"path: {resolved.full}")
        config = self._saved_default(ctx.project_id, job_type) or default_config(job_type)
        config["appPath"] = f"hdfs://{resolved.full}"
        if job_type in ("SPARK", "PYSPARK") and resolved.local.suffix in (".py", ".ipynb"):
            config["mainClass"] = PYTHON_RUNNER
        return JSONResponse(config_dto(config))

    async def list_jobconfigs(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        saved = self._store.list_default_configs(ctx.project_id)
        items = [_jobconfig_dto(ctx, t, c) for t, c in saved]
        return JSONResponse(collection(ctx.project_api("jobconfig"), items, len(items)))

    async def get_jobconfig(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job_type = _jobconfig_type(request.path_params["type"])
        config = self._store.get_default_config(ctx.project_id, job_type)
        if config is None:
            raise errors.ApiError(404, errors.DEFAULT_JOB_CONFIG_NOT_FOUND, f"jobType: {job_type}")
        return JSONResponse(_jobconfig_dto(ctx, job_type, config))

    async def put_jobconfig(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job_type = _jobconfig_type(request.path_params["type"])
        require_json_content(request)
        config = validate_config_body(await read_json(request))
        created = self._store.put_default_config(ctx.project_id, job_type, config)
        body = _jobconfig_dto(ctx, job_type, config)
        if created:
            return JSONResponse(body, status_code=201, headers={"Location": body["href"]})
        return JSONResponse(body)

    async def delete_jobconfig(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job_type = _jobconfig_type(request.path_params["type"])
        if not self._store.delete_default_config(ctx.project_id, job_type):
            raise errors.ApiError(404, errors.DEFAULT_JOB_CONFIG_NOT_FOUND, f"jobType: {job_type}")
        return Response(status_code=204)
