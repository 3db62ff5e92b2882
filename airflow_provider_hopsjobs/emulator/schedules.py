"""v2 cron schedules: ``/jobs/{name}/schedule/v2`` (the loop that fires them is :mod:`.scheduler`).

Validation follows ``JobScheduleV2InputValidation`` (see :mod:`.cron`).
``startDateTime``/``endDateTime`` are epoch milliseconds and are stored truncated to whole
seconds. The next fire time is computed in UTC from ``nextExecutionDateTime`` + 1 ms when
the body carries one, else from ``startDateTime`` (a fire exactly at the start counts),
else from now. A create whose next fire would fall after ``endDateTime`` is refused (422);
an update in that case is stored disabled with no next fire. GET without a schedule is
404/130042, POST answers 201 with a ``Location``, PUT needs the ``id`` (422 otherwise,
404/130042 for an unknown one), DELETE answers 204. A POST without ``startDateTime`` fails
as the insert of its NOT NULL column does in Hopsworks: 500/120005 (the official SDK
cannot read a schedule without one either). A second POST for a job that already
has a schedule fails the way the unique key does in Hopsworks: 500/120005. The 5.x fields
(``catchup``, ``maxActiveRuns``, ``startTimeOffsetSeconds``, ...) are stored and returned;
of them only ``catchup: false`` changes the firing (:mod:`.scheduler`: missed fire times
are skipped).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.clock import Clock
from airflow_provider_hopsjobs.emulator.context import (
    API_PREFIX,
    ContextResolver,
    RequestContext,
    read_json,
    require_json_content,
)
from airflow_provider_hopsjobs.emulator.cron import first_fire, invalid, parse_cron
from airflow_provider_hopsjobs.emulator.dto import schedule_dto
from airflow_provider_hopsjobs.emulator.store import Store

Row = dict[str, Any]
EXTRA_FIELDS = (
    "catchup",
    "maxActiveRuns",
    "startTimeOffsetSeconds",
    "endTimeOffsetSeconds",
    "skipToDate",
    "maxCatchupRuns",
)
NEVER_TRIGGERED = "The next execution time has already passed and will never be triggered"


def _epoch_seconds(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(f"{key} must be epoch milliseconds.")
    return int(value) // 1000 * 1000


def _not_found(job: Row) -> errors.ApiError:
    return errors.ApiError(
        404, errors.JOB_SCHEDULE_NOT_FOUND, f"There is no schedule for this job id {job['id']}."
    )


async def _body(request: Request) -> dict[str, Any]:
    require_json_content(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise invalid("Job schedule was not provided.")
    return body


class ScheduleRoutes:
    def __init__(self, *, contexts: ContextResolver, store: Store, clock: Clock) -> None:
        self._contexts = contexts
        self._store = store
        self._clock = clock

    def routes(self) -> list[Route]:
        p = f"{API_PREFIX}/project/{{id:int}}/jobs/{{name}}/schedule/v2"
        return [
            Route(p, self.get_schedule, methods=["GET"]),
            Route(p, self.create_schedule, methods=["POST"]),
            Route(p, self.update_schedule, methods=["PUT"]),
            Route(p, self.delete_schedule, methods=["DELETE"]),
        ]

    def _job(self, ctx: RequestContext, name: str) -> Row:
        job = self._store.get_job(ctx.project_id, name)
        if job is None:
            raise errors.ApiError(404, errors.JOB_NOT_FOUND, f"jobId:{name}")
        return job

    def _validated(
        self, body: dict[str, Any]
    ) -> tuple[str, bool, int | None, int | None, int | None, dict[str, Any]]:
        cron = parse_cron(body.get("cronExpression"))
        start = _epoch_seconds(body, "startDateTime")
        end = _epoch_seconds(body, "endDateTime")
        given_next = body.get("nextExecutionDateTime")
        if isinstance(given_next, (int, float)) and not isinstance(given_next, bool):
            next_ms = first_fire(cron, int(given_next) + 1, inclusive=True)
        elif start is not None:
            next_ms = first_fire(cron, start, inclusive=True)
        else:
            next_ms = first_fire(cron, self._clock.now_ms(), inclusive=False)
        if next_ms is not None and end is not None and next_ms > end:
            next_ms = None
        enabled = body.get("enabled")
        extra = {k: body[k] for k in EXTRA_FIELDS if body.get(k) is not None}
        return (
            str(body["cronExpression"]).strip(),
            True if enabled is None else bool(enabled),
            start,
            end,
            next_ms,
            extra,
        )

    async def get_schedule(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job = self._job(ctx, request.path_params["name"])
        schedule = self._store.get_schedule_for_job(int(job["id"]))
        if schedule is None:
            raise _not_found(job)
        return JSONResponse(schedule_dto(ctx, job, schedule))

    async def create_schedule(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job = self._job(ctx, request.path_params["name"])
        body = await _body(request)
        cron, enabled, start, end, next_ms, extra = self._validated(body)
        if start is None:
            # The column is NOT NULL in Hopsworks: the insert fails like any persistence error.
            raise errors.ApiError(500, errors.PERSISTENCE, "Column 'start_date_time' cannot be null")
        if next_ms is None:
            raise invalid(NEVER_TRIGGERED)
        if self._store.get_schedule_for_job(int(job["id"])) is not None:
            raise errors.ApiError(500, errors.PERSISTENCE, f"Duplicate entry '{job['id']}' for key 'job_id'")
        schedule = self._store.save_schedule(
            int(job["id"]),
            cron=cron,
            enabled=enabled,
            start_ms=start,
            end_ms=end,
            next_ms=next_ms,
            extra=extra,
        )
        dto = schedule_dto(ctx, job, schedule)
        return JSONResponse(dto, status_code=201, headers={"Location": dto["href"]})

    async def update_schedule(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job = self._job(ctx, request.path_params["name"])
        body = await _body(request)
        schedule_id = body.get("id")
        if schedule_id is None:
            raise invalid("Cannot update the job schedule because the job schedule id is missing.")
        if isinstance(schedule_id, bool) or not isinstance(schedule_id, int):
            raise invalid("The job schedule id must be an integer.")
        existing = self._store.get_schedule(schedule_id)
        if existing is None:
            raise _not_found(job)
        if int(existing["job_id"]) != int(job["id"]):
            raise errors.ApiError(400, (130044, "Requested job schedule id does not match the job name."))
        cron, enabled, start, end, next_ms, extra = self._validated(body)
        if next_ms is None:
            enabled = False
        schedule = self._store.save_schedule(
            int(job["id"]),
            cron=cron,
            enabled=enabled,
            start_ms=start,
            end_ms=end,
            next_ms=next_ms,
            extra=extra,
            schedule_id=schedule_id,
        )
        return JSONResponse(schedule_dto(ctx, job, schedule))

    async def delete_schedule(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job = self._job(ctx, request.path_params["name"])
        if self._store.get_schedule_for_job(int(job["id"])) is None:
            raise _not_found(job)
        self._store.delete_schedule(int(job["id"]))
        return Response(status_code=204)
