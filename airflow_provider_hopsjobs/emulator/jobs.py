"""Job endpoints: list, get, create-or-update (bare config body), delete, legacy schedule.

The quirks kept on purpose: the PUT body *is* the configuration; a missing or unknown
``type`` is 422/120001 "Job configuration was not provided."; ``appName`` defaults to the
URL name and wins over it when both are given; ``jobType`` is computed (Spark: from
``mainClass``), a ``jobType`` in the body is ignored, and a Spark config without
``mainClass`` crashes with Hopsworks' 500; job names with forbidden characters are
400/130006. Nothing stored changes when a request is refused.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_hopsjobs.emulator import errors, queries
from airflow_provider_hopsjobs.emulator.clock import Clock, iso_ms
from airflow_provider_hopsjobs.emulator.context import (
    API_PREFIX,
    ContextResolver,
    RequestContext,
    read_json,
    require_json_content,
)
from airflow_provider_hopsjobs.emulator.dto import (
    collection,
    config_dto,
    execution_duration,
    schedule_dto,
    user_dto,
)
from airflow_provider_hopsjobs.emulator.engine import Engine
from airflow_provider_hopsjobs.emulator.execution_views import ExecutionViews
from airflow_provider_hopsjobs.emulator.states import (
    CONFIG_TYPES,
    JOB_NAME_FORBIDDEN,
    TERMINAL_STATES,
    job_type_of,
    strip_nulls,
)
from airflow_provider_hopsjobs.emulator.store import Store

Row = dict[str, Any]

NO_CONFIG = "Job configuration was not provided."
SPARK_NULL_JOB_TYPE = (
    'Cannot invoke "io.hops.hopsworks.persistence.entity.jobs.configuration.JobType.ordinal()" '
    'because "jobType" is null'
)
MIN_EXECUTOR_MEMORY_MB = 1024


def _job_sort_key(latest: dict[int, Row], users: dict[int, Row], now: int) -> Any:
    def key(job: Row, field: str) -> Any:
        creator = users.get(int(job["creator_id"])) or {}
        execution = latest.get(int(job["id"])) or {}
        return {
            "ID": job["id"],
            "NAME": job["name"],
            "DATE_CREATED": job["created_ms"],
            "JOBTYPE": job.get("job_type"),
            "CREATOR": creator.get("username"),
            "CREATOR_FIRST_NAME": creator.get("firstname"),
            "CREATOR_LAST_NAME": creator.get("lastname"),
            "STATE": execution.get("state"),
            "FINALSTATUS": execution.get("final_status"),
            "PROGRESS": execution.get("progress"),
            "SUBMISSIONTIME": execution.get("submitted_ms"),
            "DURATION": execution_duration(execution, now) if execution else None,
        }[field]

    return key


def _same_day_or_equal(value: str, ms: int) -> bool:
    target = queries.date_value(value)
    if len(value.strip()) == 10:  # yyyy-MM-dd
        return target <= ms < target + 86_400_000
    return ms == target


def _job_matches(job: Row, flt: queries.Filter, latest: Row | None, creator: Row | None) -> bool:  # noqa: PLR0911
    key, value = flt.key, flt.value
    if key == "JOBTYPE":
        return job.get("job_type") in queries.job_type_values(value)
    if key == "JOBTYPE_NEQ":
        return job.get("job_type") not in queries.job_type_values(value)
    if key == "DATE_CREATED":
        return _same_day_or_equal(value, int(job["created_ms"]))
    if key == "DATE_CREATED_GT":
        return int(job["created_ms"]) > queries.date_value(value)
    if key == "DATE_CREATED_LT":
        return int(job["created_ms"]) < queries.date_value(value)
    if key == "NAME":
        return value.lower() in str(job["name"]).lower()
    if key == "CREATOR":
        fields = [str((creator or {}).get(f) or "") for f in ("username", "firstname", "lastname", "email")]
        return any(value.lower() in f.lower() for f in fields)
    if key == "LATEST_EXECUTION":
        if latest is None:
            return False
        fields = [str(latest.get(f) or "") for f in ("state", "final_status", "app_id", "args")]
        return any(value.lower() in f.lower() for f in fields)
    if key == "LATEST_EXECUTION_STATE":
        return latest is not None and latest["state"] in queries.execution_state_values(value)
    return True


def validate_config_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("type") not in CONFIG_TYPES:
        raise errors.ApiError(422, errors.ILLEGAL_ARGUMENT, NO_CONFIG)
    return {k: v for k, v in body.items() if k != "jobType"}


def validate_job_name(name: Any) -> str:
    if not isinstance(name, str) or not name or any(ch in JOB_NAME_FORBIDDEN for ch in name):
        raise errors.ApiError(400, errors.JOB_NAME_INVALID, f"Job name: {name}")
    return name


class JobRoutes:
    def __init__(
        self, *, contexts: ContextResolver, store: Store, clock: Clock, engine: Engine, views: ExecutionViews
    ) -> None:
        self._contexts = contexts
        self._store = store
        self._clock = clock
        self._engine = engine
        self._views = views

    def routes(self) -> list[Route]:
        p = f"{API_PREFIX}/project/{{id:int}}"
        return [
            Route(f"{p}/jobs", self.list_jobs, methods=["GET"]),
            Route(f"{p}/jobs/{{name}}", self.get_job, methods=["GET"]),
            Route(f"{p}/jobs/{{name}}", self.put_job, methods=["PUT"]),
            Route(f"{p}/jobs/{{name}}", self.delete_job, methods=["DELETE"]),
            Route(f"{p}/jobs/{{name}}/schedule", self.put_legacy_schedule, methods=["PUT"]),
            Route(f"{p}/jobs/{{name}}/schedule", self.delete_legacy_schedule, methods=["DELETE"]),
        ]

    def _job(self, ctx: RequestContext, name: str) -> Row:
        job = self._store.get_job(ctx.project_id, name)
        if job is None:
            raise errors.ApiError(404, errors.JOB_NOT_FOUND, f"jobId:{name}")
        return job

    def job_dto(
        self,
        ctx: RequestContext,
        job: Row,
        expansions: dict[str, queries.Expansion],
        *,
        schedule: Row | None = None,
        with_schedule: bool = True,
    ) -> dict[str, Any]:
        creator = self._store.get_user(int(job["creator_id"]))
        executions_href = ctx.project_api("jobs", job["name"], "executions")
        executions: dict[str, Any] = {"href": executions_href}
        if "executions" in expansions:
            query = queries.parse_list_query(
                expansions["executions"].params,
                queries.EXECUTION_SORTS,
                queries.EXECUTION_FILTERS,
                queries.EXECUTION_DEFAULT_DESC,
            )
            executions = self._views.collection(ctx, job, query, expand_user=False)
        if with_schedule and schedule is None:
            schedule = self._store.get_schedule_for_job(int(job["id"]))
        body = {
            "href": ctx.project_api("jobs", job["name"]),
            "id": job["id"],
            "name": job["name"],
            "creationTime": iso_ms(int(job["created_ms"])),
            "config": config_dto(job["config"]),
            "jobType": job.get("job_type"),
            "creator": user_dto(ctx, creator, expand="creator" in expansions) if creator else None,
            "executions": executions,
            "jobSchedule": schedule_dto(ctx, job, schedule) if schedule else None,
        }
        return strip_nulls(body)  # type: ignore[no-any-return]

    async def list_jobs(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        query = queries.parse_list_query(request.query_params, queries.JOB_SORTS, queries.JOB_FILTERS)
        expansions = queries.parse_expand(
            request.query_params.getlist("expand"), frozenset({"creator", "executions", "alerts"})
        )
        for flt in query.filters:
            _job_matches({"created_ms": 0, "name": "", "job_type": None}, flt, {"state": ""}, {})
        jobs = self._store.list_jobs(ctx.project_id)
        latest = self._store.latest_executions(int(j["id"]) for j in jobs)
        users = {int(j["creator_id"]): self._store.get_user(int(j["creator_id"])) or {} for j in jobs}
        jobs = [
            j
            for j in jobs
            if all(
                _job_matches(j, f, latest.get(int(j["id"])), users.get(int(j["creator_id"])))
                for f in query.filters
            )
        ]
        if any(s.field in queries.JOB_SORTS_ON_LATEST for s in query.sorts):
            jobs = [j for j in jobs if int(j["id"]) in latest]  # an inner join in Hopsworks
        jobs = queries.apply_sorts(jobs, query.sorts, _job_sort_key(latest, users, self._clock.now_ms()))
        page = queries.paginate(jobs, query)
        schedules = self._store.schedules_for_jobs(int(j["id"]) for j in page)
        items = [
            self.job_dto(ctx, j, expansions, schedule=schedules.get(int(j["id"])), with_schedule=False)
            for j in page
        ]
        return JSONResponse(collection(ctx.project_api("jobs"), items, len(jobs)))

    async def get_job(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        expansions = queries.parse_expand(
            request.query_params.getlist("expand"), frozenset({"creator", "executions", "alerts"})
        )
        job = self._job(ctx, request.path_params["name"])
        return JSONResponse(self.job_dto(ctx, job, expansions))

    async def put_job(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        require_json_content(request)
        config = validate_config_body(await read_json(request))
        if not config.get("appName"):
            config["appName"] = request.path_params["name"]
        name = validate_job_name(config["appName"])
        job_type = job_type_of(config)
        if job_type is None:
            raise errors.ApiError(500, errors.GENERIC_UNKNOWN, SPARK_NULL_JOB_TYPE)
        memory = config.get("spark.executor.memory")
        if (
            job_type in ("SPARK", "PYSPARK")
            and isinstance(memory, (int, float))
            and memory < MIN_EXECUTOR_MEMORY_MB
        ):
            raise errors.ApiError(
                400,
                (130029, "Insufficient executor memory provided."),
                f"Executor memory should not be less than {MIN_EXECUTOR_MEMORY_MB}",
            )
        existing = self._store.get_job(ctx.project_id, name)
        if existing is not None:
            job = self._store.update_job(int(existing["id"]), job_type, config)
            return JSONResponse(self.job_dto(ctx, job, {}))
        job = self._store.create_job(
            ctx.project_id,
            name,
            job_type=job_type,
            config=config,
            creator_id=int(ctx.user["id"]),
            now_ms=self._clock.now_ms(),
        )
        location = f"{ctx.project_api('jobs', name)}/{job['id']}"  # sic: Hopsworks' own odd Location
        return JSONResponse(self.job_dto(ctx, job, {}), status_code=201, headers={"Location": location})

    async def delete_job(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job = self._job(ctx, request.path_params["name"])
        for execution in self._store.list_executions(int(job["id"])):
            if execution["state"] not in TERMINAL_STATES:
                self._engine.stop(int(execution["id"]))
        self._store.delete_job(int(job["id"]))
        return Response(status_code=204)

    async def put_legacy_schedule(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job = self._job(ctx, request.path_params["name"])
        require_json_content(request)
        body = await read_json(request)
        units = {"SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH"}
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("start"), int)
            or not isinstance(body.get("number"), int)
            or body["number"] < 1
            or str(body.get("unit", "")).upper() not in units
        ):
            raise errors.ApiError(422, errors.ILLEGAL_ARGUMENT, "Schedule is not valid.")
        config = dict(
            job["config"],
            schedule={"start": body["start"], "number": body["number"], "unit": body["unit"].upper()},
        )
        self._store.update_job(int(job["id"]), job.get("job_type"), config)
        return Response(status_code=204)

    async def delete_legacy_schedule(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job = self._job(ctx, request.path_params["name"])
        config = {k: v for k, v in job["config"].items() if k != "schedule"}
        self._store.update_job(int(job["id"]), job.get("job_type"), config)
        return Response(status_code=204)
