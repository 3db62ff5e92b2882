"""Execution endpoints: start (text/plain), list, get, stop (202), delete, logs.

Start accepts ``text/plain`` (the raw argument string; empty means the job's
``defaultArgs``) and, like Hopsworks 5.x (not when the emulator plays an older release),
``application/json`` with ``{"args", "envVars", "logicalDate", "dataIntervalEnd"}``: the
dates reach the job as the 5.x scheduler hands them to scheduled runs
(``HOPS_LOGICAL_DATE`` = ``HOPS_START_TIME`` = ``logicalDate``, ``HOPS_END_TIME`` =
``dataIntervalEnd``) and ``envVars`` win over them; any other or no content type is
415/120004. Stop accepts any body or none and answers 202 with the execution as it is
right now. Logs follow ``getLog``: 400/130010 while the execution is not final, then the
file's contents, ``"No information."`` for an empty file, a placeholder above 1,000,000
bytes, and before aggregation either the "No log available..." text (PYTHON) or no
``log`` at all (other types).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_hopsjobs.emulator import errors, queries
from airflow_provider_hopsjobs.emulator.context import API_PREFIX, ContextResolver, RequestContext
from airflow_provider_hopsjobs.emulator.engine import Engine
from airflow_provider_hopsjobs.emulator.execution_views import ExecutionViews
from airflow_provider_hopsjobs.emulator.fs import ProjectFiles
from airflow_provider_hopsjobs.emulator.log_aggregation import LogAggregator
from airflow_provider_hopsjobs.emulator.states import TERMINAL_STATES
from airflow_provider_hopsjobs.emulator.store import Store

Row = dict[str, Any]

LOG_LIMIT_BYTES = 1_000_000
LOG_TOO_BIG = "Log is too big to display in browser. Click on the download button to get the log file."
LOG_EMPTY = "No information."
LOG_NOT_AVAILABLE = (
    "No log available. If job failed instantaneously, please check again later or try running the job again. "
    "Log aggregation can take a few minutes to complete."
)
RETRIABLE = {"OUT": "RETRIEABLE_OUT", "ERR": "RETRIABLE_ERR"}  # sic, as spelled in Hopsworks


def _start_request(media: str, raw: bytes, *, json_start: bool = True) -> tuple[str, dict[str, str]]:
    """(args, env) from a start body; empty args mean "the job's defaultArgs"."""
    env: dict[str, str] = {}
    if media == "text/plain":
        try:
            args = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise errors.web_application_error(400) from None
    elif media == "application/json" and json_start:
        try:
            body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise errors.web_application_error(400) from None
        if not isinstance(body, dict):
            raise errors.ApiError(422, errors.ILLEGAL_ARGUMENT, "The execution request is not valid.")
        args = body.get("args") or ""
        env_vars = body.get("envVars") or {}
        if not isinstance(args, str) or not isinstance(env_vars, dict):
            raise errors.ApiError(422, errors.ILLEGAL_ARGUMENT, "The execution request is not valid.")
        if body.get("logicalDate"):
            env["HOPS_LOGICAL_DATE"] = env["HOPS_START_TIME"] = str(body["logicalDate"])
        if body.get("dataIntervalEnd"):
            env["HOPS_END_TIME"] = str(body["dataIntervalEnd"])
        env.update({str(k): str(v) for k, v in env_vars.items()})
    else:
        raise errors.web_application_error(415)
    return args, env


def _log_type(raw: str) -> str:
    log_type = raw.upper()
    if log_type not in RETRIABLE:
        raise errors.web_application_error(404)
    return log_type


def log_dto(files: ProjectFiles, job: Row, execution: Row, log_type: str) -> dict[str, Any]:
    if execution["state"] not in TERMINAL_STATES:
        raise errors.ApiError(400, errors.EXECUTION_INVALID_STATE, "Job still running.")
    path = execution.get("stdout_path" if log_type == "OUT" else "stderr_path")
    body: dict[str, Any] = {}
    text: str | None = None
    if path:
        local = files.local_of(str(path))
        if local.is_file():
            body["path"] = path
            size = local.stat().st_size
            if size > LOG_LIMIT_BYTES:
                text = LOG_TOO_BIG
            else:
                text = local.read_bytes().decode("utf-8", errors="replace")
    missing_or_empty = not text
    if text == "":
        text = LOG_EMPTY
    elif text is None and job.get("job_type") == "PYTHON":
        text = LOG_NOT_AVAILABLE
    if text is not None:
        body["log"] = text
    body["type"] = log_type
    if (
        missing_or_empty
        and execution.get("app_id")
        and (log_type == "ERR" or execution["final_status"] == "SUCCEEDED")
    ):
        body["retriable"] = RETRIABLE[log_type]
    return body


class ExecutionRoutes:
    def __init__(
        self,
        *,
        contexts: ContextResolver,
        store: Store,
        files: ProjectFiles,
        engine: Engine,
        logs: LogAggregator,
        views: ExecutionViews,
        json_start: bool = True,
    ) -> None:
        self._contexts = contexts
        self._store = store
        self._files = files
        self._engine = engine
        self._logs = logs
        self._views = views
        self._json_start = json_start

    def routes(self) -> list[Route]:
        p = f"{API_PREFIX}/project/{{id:int}}/jobs/{{name}}/executions"
        return [
            Route(p, self.start_execution, methods=["POST"]),
            Route(p, self.list_executions, methods=["GET"]),
            Route(f"{p}/{{execution_id:int}}", self.get_execution, methods=["GET"]),
            Route(f"{p}/{{execution_id:int}}", self.delete_execution, methods=["DELETE"]),
            Route(f"{p}/{{execution_id:int}}/status", self.stop_execution, methods=["PUT"]),
            Route(f"{p}/{{execution_id:int}}/log/{{type}}", self.get_log, methods=["GET"]),
            Route(f"{p}/{{execution_id:int}}/log/{{type}}", self.retry_log, methods=["POST"]),
        ]

    def _job(self, ctx: RequestContext, name: str) -> Row:
        job = self._store.get_job(ctx.project_id, name)
        if job is None:
            raise errors.ApiError(404, errors.JOB_NOT_FOUND, f"jobId:{name}")
        return job

    def _execution(self, job: Row, raw_id: Any, *, check_owner: bool = True) -> Row:
        execution = self._store.get_execution(int(raw_id))
        if execution is None or int(execution["project_id"]) != int(job["project_id"]):
            raise errors.ApiError(404, errors.EXECUTION_NOT_FOUND, f"id: {raw_id}")
        if check_owner and int(execution["job_id"]) != int(job["id"]):
            raise errors.ApiError(403, errors.EXECUTION_FORBIDDEN, f"id: {raw_id}")
        return execution

    async def start_execution(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job = self._job(ctx, request.path_params["name"])
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        args, env = _start_request(media, await request.body(), json_start=self._json_start)
        if not args:
            args = str(job["config"].get("defaultArgs") or "")
        execution = self._engine.start(job, args, int(ctx.user["id"]), env)
        body_out = self._views.dto(ctx, job, execution)
        return JSONResponse(body_out, status_code=201, headers={"Location": body_out["href"]})

    async def list_executions(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job = self._job(ctx, request.path_params["name"])
        query = queries.parse_list_query(
            request.query_params,
            queries.EXECUTION_SORTS,
            queries.EXECUTION_FILTERS,
            queries.EXECUTION_DEFAULT_DESC,
        )
        expansions = queries.parse_expand(request.query_params.getlist("expand"), frozenset({"user"}))
        return JSONResponse(self._views.collection(ctx, job, query, expand_user="user" in expansions))

    async def get_execution(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job = self._job(ctx, request.path_params["name"])
        expansions = queries.parse_expand(request.query_params.getlist("expand"), frozenset({"user"}))
        execution = self._execution(job, request.path_params["execution_id"])
        return JSONResponse(self._views.dto(ctx, job, execution, "user" in expansions))

    async def stop_execution(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job = self._job(ctx, request.path_params["name"])
        await request.body()  # any body, or none, is accepted and ignored
        # Hopsworks looks the execution up by id only, whichever job the URL names.
        execution = self._execution(job, request.path_params["execution_id"], check_owner=False)
        self._engine.stop(int(execution["id"]))
        owner = self._store.get_job_by_id(int(execution["job_id"])) or job
        current = self._store.get_execution(int(execution["id"])) or execution
        return JSONResponse(self._views.dto(ctx, owner, current), status_code=202)

    async def delete_execution(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job = self._job(ctx, request.path_params["name"])
        execution = self._execution(job, request.path_params["execution_id"])
        self._engine.stop(int(execution["id"]))
        self._store.delete_execution(int(execution["id"]))
        return Response(status_code=204)

    async def get_log(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job = self._job(ctx, request.path_params["name"])
        log_type = _log_type(request.path_params["type"])
        execution = self._execution(job, request.path_params["execution_id"])
        return JSONResponse(log_dto(self._files, job, execution, log_type))

    async def retry_log(self, request: Request) -> Response:
        """``POST .../log/{type}``: copy the logs now if the run left any, else 400/130011."""
        ctx = self._contexts.resolve(request, "JOB")
        job = self._job(ctx, request.path_params["name"])
        log_type = _log_type(request.path_params["type"])
        execution = self._execution(job, request.path_params["execution_id"])
        if execution["state"] not in TERMINAL_STATES:
            raise errors.ApiError(400, errors.EXECUTION_INVALID_STATE, "Job still running.")
        if execution.get("stdout_path") is None:
            if not execution.get("run_dir"):
                raise errors.ApiError(
                    400, errors.JOB_LOG, "Logs not available. This could be caused by the retention policy."
                )
            self._logs.aggregate(int(execution["id"]))
            execution = self._store.get_execution(int(execution["id"])) or execution
        return JSONResponse(log_dto(self._files, job, execution, log_type))
