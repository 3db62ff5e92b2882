"""Execution endpoints: start (text/plain), list, get, stop (202), delete, logs.

Start accepts ``text/plain`` (the raw argument string; empty means the job's
``defaultArgs``) and, like Hopsworks 5.x, ``application/json`` with
``{"args", "envVars", "logicalDate", "dataIntervalEnd"}`` (the two dates reach the job as
``HOPS_LOGICAL_DATE`` / ``HOPS_DATA_INTERVAL_END``); any other or no content type is
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
from airflow_provider_hopsjobs.emulator.dto import collection, execution_dto, execution_duration
from airflow_provider_hopsjobs.emulator.runtime import API_PREFIX, RequestContext, Runtime
from airflow_provider_hopsjobs.emulator.states import TERMINAL_STATES

Row = dict[str, Any]

LOG_LIMIT_BYTES = 1_000_000
LOG_TOO_BIG = "Log is too big to display in browser. Click on the download button to get the log file."
LOG_EMPTY = "No information."
LOG_NOT_AVAILABLE = (
    "No log available. If job failed instantaneously, please check again later or try running the job again. "
    "Log aggregation can take a few minutes to complete."
)
RETRIABLE = {"OUT": "RETRIEABLE_OUT", "ERR": "RETRIABLE_ERR"}  # sic, as spelled in Hopsworks


def _rt(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _job(rt: Runtime, ctx: RequestContext, name: str) -> Row:
    job = rt.store.get_job(ctx.project_id, name)
    if job is None:
        raise errors.ApiError(404, errors.JOB_NOT_FOUND, f"jobId:{name}")
    return job


def _execution(rt: Runtime, job: Row, raw_id: Any, *, check_owner: bool = True) -> Row:
    execution = rt.store.get_execution(int(raw_id))
    if execution is None or int(execution["project_id"]) != int(job["project_id"]):
        raise errors.ApiError(404, errors.EXECUTION_NOT_FOUND, f"id: {raw_id}")
    if check_owner and int(execution["job_id"]) != int(job["id"]):
        raise errors.ApiError(403, errors.EXECUTION_FORBIDDEN, f"id: {raw_id}")
    return execution


def _dto(
    rt: Runtime, ctx: RequestContext, job: Row, execution: Row, expand_user: bool = False
) -> dict[str, Any]:
    return execution_dto(
        ctx,
        job,
        execution,
        now_ms=rt.clock.now_ms(),
        user=rt.store.get_user(int(execution["user_id"])),
        expand_user=expand_user,
    )


# -- listing, shared with the job's ``expand=executions`` ---------------------------------------
def _matches(execution: Row, flt: queries.Filter) -> bool:  # noqa: PLR0911
    key, value = flt.key, flt.value
    if key == "STATE":
        return execution["state"] in queries.execution_state_values(value)
    if key == "STATE_NEQ":
        return execution["state"] not in queries.execution_state_values(value)
    if key == "FINALSTATUS":
        return execution["final_status"] in queries.final_status_values(value)
    if key == "FINALSTATUS_NEQ":
        return execution["final_status"] not in queries.final_status_values(value)
    submitted = int(execution["submitted_ms"])
    if key == "SUBMISSIONTIME":
        return submitted == queries.date_value(value)
    if key == "SUBMISSIONTIME_GT":
        return submitted > queries.date_value(value)
    if key == "SUBMISSIONTIME_LT":
        return submitted < queries.date_value(value)
    return True


def _check_filters(filters: list[queries.Filter]) -> None:
    """Read every filter value up front, so a bad one fails even when no row is compared."""
    for flt in filters:
        if flt.key.startswith("STATE"):
            queries.execution_state_values(flt.value)
        elif flt.key.startswith("FINALSTATUS"):
            queries.final_status_values(flt.value)
        elif flt.key.startswith("SUBMISSIONTIME"):
            queries.date_value(flt.value)


def execution_collection(
    rt: Runtime, ctx: RequestContext, job: Row, query: queries.ListQuery, expand_user: bool
) -> dict[str, Any]:
    _check_filters(query.filters)
    executions = [
        e for e in rt.store.list_executions(int(job["id"])) if all(_matches(e, f) for f in query.filters)
    ]
    users = {int(e["user_id"]): rt.store.get_user(int(e["user_id"])) or {} for e in executions}
    now = rt.clock.now_ms()

    def key(execution: Row, field: str) -> Any:
        user = users.get(int(execution["user_id"])) or {}
        return {
            "ID": execution["id"],
            "SUBMISSIONTIME": (execution["submitted_ms"], execution["id"]),
            "USER": user.get("username"),
            "USER_FIRST_NAME": user.get("firstname"),
            "USER_LAST_NAME": user.get("lastname"),
            "STATE": execution["state"],
            "FINALSTATUS": execution["final_status"],
            "APPID": execution.get("app_id"),
            "PROGRESS": execution["progress"],
            "DURATION": execution_duration(execution, now),
        }[field]

    executions = queries.apply_sorts(executions, query.sorts, key)
    page = queries.paginate(executions, query)
    items = [_dto(rt, ctx, job, e, expand_user) for e in page]
    return collection(ctx.project_api("jobs", job["name"], "executions"), items, len(executions))


# -- handlers ------------------------------------------------------------------------------------
async def start_execution(request: Request) -> Response:
    rt = _rt(request)
    ctx = rt.context(request, "JOB")
    job = _job(rt, ctx, request.path_params["name"])
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    env: dict[str, str] = {}
    if media == "text/plain":
        try:
            args = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise errors.web_application_error(400) from None
    elif media == "application/json":
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
        env = {str(k): str(v) for k, v in env_vars.items()}
        if body.get("logicalDate"):
            env["HOPS_LOGICAL_DATE"] = str(body["logicalDate"])
        if body.get("dataIntervalEnd"):
            env["HOPS_DATA_INTERVAL_END"] = str(body["dataIntervalEnd"])
    else:
        raise errors.web_application_error(415)
    if not args:
        args = str(job["config"].get("defaultArgs") or "")
    execution = rt.engine.start(job, args, int(ctx.user["id"]), env)
    body_out = _dto(rt, ctx, job, execution)
    return JSONResponse(body_out, status_code=201, headers={"Location": body_out["href"]})


async def list_executions(request: Request) -> Response:
    rt = _rt(request)
    ctx = rt.context(request, "JOB")
    job = _job(rt, ctx, request.path_params["name"])
    query = queries.parse_list_query(
        request.query_params,
        queries.EXECUTION_SORTS,
        queries.EXECUTION_FILTERS,
        queries.EXECUTION_DEFAULT_DESC,
    )
    expansions = queries.parse_expand(request.query_params.getlist("expand"), frozenset({"user"}))
    return JSONResponse(execution_collection(rt, ctx, job, query, expand_user="user" in expansions))


async def get_execution(request: Request) -> Response:
    rt = _rt(request)
    ctx = rt.context(request, "JOB")
    job = _job(rt, ctx, request.path_params["name"])
    expansions = queries.parse_expand(request.query_params.getlist("expand"), frozenset({"user"}))
    execution = _execution(rt, job, request.path_params["execution_id"])
    return JSONResponse(_dto(rt, ctx, job, execution, "user" in expansions))


async def stop_execution(request: Request) -> Response:
    rt = _rt(request)
    ctx = rt.context(request, "JOB")
    job = _job(rt, ctx, request.path_params["name"])
    await request.body()  # any body, or none, is accepted and ignored
    # Hopsworks looks the execution up by id only, whichever job the URL names.
    execution = _execution(rt, job, request.path_params["execution_id"], check_owner=False)
    rt.engine.stop(int(execution["id"]))
    owner = rt.store.get_job_by_id(int(execution["job_id"])) or job
    current = rt.store.get_execution(int(execution["id"])) or execution
    return JSONResponse(_dto(rt, ctx, owner, current), status_code=202)


async def delete_execution(request: Request) -> Response:
    rt = _rt(request)
    ctx = rt.context(request, "JOB")
    job = _job(rt, ctx, request.path_params["name"])
    execution = _execution(rt, job, request.path_params["execution_id"])
    rt.engine.stop(int(execution["id"]))
    rt.store.delete_execution(int(execution["id"]))
    return Response(status_code=204)


def _log_type(raw: str) -> str:
    log_type = raw.upper()
    if log_type not in RETRIABLE:
        raise errors.web_application_error(404)
    return log_type


def log_dto(rt: Runtime, job: Row, execution: Row, log_type: str) -> dict[str, Any]:
    if execution["state"] not in TERMINAL_STATES:
        raise errors.ApiError(400, errors.EXECUTION_INVALID_STATE, "Job still running.")
    path = execution.get("stdout_path" if log_type == "OUT" else "stderr_path")
    body: dict[str, Any] = {}
    text: str | None = None
    if path:
        local = rt.files.local_of(str(path))
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


async def get_log(request: Request) -> Response:
    rt = _rt(request)
    ctx = rt.context(request, "JOB")
    job = _job(rt, ctx, request.path_params["name"])
    log_type = _log_type(request.path_params["type"])
    execution = _execution(rt, job, request.path_params["execution_id"])
    return JSONResponse(log_dto(rt, job, execution, log_type))


async def retry_log(request: Request) -> Response:
    """``POST .../log/{type}``: copy the logs now if the run left any, else 400/130011."""
    rt = _rt(request)
    ctx = rt.context(request, "JOB")
    job = _job(rt, ctx, request.path_params["name"])
    log_type = _log_type(request.path_params["type"])
    execution = _execution(rt, job, request.path_params["execution_id"])
    if execution["state"] not in TERMINAL_STATES:
        raise errors.ApiError(400, errors.EXECUTION_INVALID_STATE, "Job still running.")
    if execution.get("stdout_path") is None:
        if not execution.get("run_dir"):
            raise errors.ApiError(
                400, errors.JOB_LOG, "Logs not available. This could be caused by the retention policy."
            )
        rt.engine.aggregate_logs(int(execution["id"]))
        execution = rt.store.get_execution(int(execution["id"])) or execution
    return JSONResponse(log_dto(rt, job, execution, log_type))


def routes() -> list[Route]:
    p = f"{API_PREFIX}/project/{{id:int}}/jobs/{{name}}/executions"
    return [
        Route(p, start_execution, methods=["POST"]),
        Route(p, list_executions, methods=["GET"]),
        Route(f"{p}/{{execution_id:int}}", get_execution, methods=["GET"]),
        Route(f"{p}/{{execution_id:int}}", delete_execution, methods=["DELETE"]),
        Route(f"{p}/{{execution_id:int}}/status", stop_execution, methods=["PUT"]),
        Route(f"{p}/{{execution_id:int}}/log/{{type}}", get_log, methods=["GET"]),
        Route(f"{p}/{{execution_id:int}}/log/{{type}}", retry_log, methods=["POST"]),
    ]
