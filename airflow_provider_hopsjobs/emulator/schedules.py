"""v2 cron schedules (``/jobs/{name}/schedule/v2``) and the loop that fires them.

Validation follows ``JobScheduleV2InputValidation``: ``cronExpression`` is a Quartz
expression (6 or 7 fields, exactly one ``?`` day field, no ``@`` shorthands) whose seconds
field is exactly ``0``, else 422/120001. ``startDateTime``/``endDateTime`` are epoch
milliseconds and are stored truncated to whole seconds. The next fire time is computed in
UTC from ``nextExecutionDateTime`` + 1 ms when the body carries one, else from
``startDateTime`` (a fire exactly at the start counts), else from now. A create whose
next fire would fall after ``endDateTime`` is refused (422); an update in that case is
stored disabled with no next fire. GET without a schedule is 404/130042, POST answers 201
with a ``Location``, PUT needs the ``id`` (422 otherwise, 404/130042 for an unknown one),
DELETE answers 204. A second POST for a job that already has a schedule fails the way the
unique key does in Hopsworks: 500/120005. The 5.x fields (``catchup``, ``maxActiveRuns``,
``startTimeOffsetSeconds``, ...) are stored and returned but do not change the firing.

**Firing.** Every ``schedule_tick`` seconds (and on ``POST /_emulator/scheduler/tick``)
each enabled schedule whose ``nextExecutionDateTime`` has passed on the emulator clock
fires once: an execution with the job's ``defaultArgs`` and, as Hopsworks 5.x does, the
data interval in the environment: ``HOPS_END_TIME`` = the fire time,
``HOPS_LOGICAL_DATE`` = ``HOPS_START_TIME`` = the previous cron fire (not before
``startDateTime``), all ISO-8601 UTC. If an execution of the job is still unfinished the
fire is skipped (no parallel scheduled runs). Either way ``nextExecutionDateTime`` moves to
the following fire time, so a schedule whose start lies in the past catches up one fire
per tick. Disabled and deleted schedules never fire. The clock can be moved forward with
``POST /_emulator/clock`` so tests need not wait for the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.clock import from_ms, to_ms
from airflow_provider_hopsjobs.emulator.dto import schedule_dto
from airflow_provider_hopsjobs.emulator.runtime import (
    API_PREFIX,
    RequestContext,
    Runtime,
    read_json,
    require_json_content,
)
from airflow_provider_hopsjobs.emulator.states import TERMINAL_STATES

if TYPE_CHECKING:
    from airflow_provider_hopsjobs.timetables.quartz_cron import QuartzCron

log = logging.getLogger(__name__)

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


def _rt(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _invalid(message: str) -> errors.ApiError:
    return errors.ApiError(422, errors.ILLEGAL_ARGUMENT, message)


def parse_cron(expression: Any) -> QuartzCron:
    from airflow_provider_hopsjobs.timetables.quartz_cron import QuartzCron, QuartzCronError

    if not isinstance(expression, str) or not expression.strip():
        raise _invalid("Cron expression is required.")
    if expression.strip().startswith("@"):
        raise _invalid(f"Invalid cron expression provided '{expression}'.")
    try:
        cron = QuartzCron.parse(expression)
    except (QuartzCronError, ValueError) as exc:
        raise _invalid(f"Invalid cron expression provided '{expression}'. {exc}") from None
    if cron.seconds_field != "0":
        raise _invalid("Seconds should be 0.")
    return cron


def _epoch_seconds(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _invalid(f"{key} must be epoch milliseconds.")
    return int(value) // 1000 * 1000


def first_fire(cron: QuartzCron, base_ms: int, *, inclusive: bool) -> int | None:
    after = from_ms(base_ms) - (timedelta(milliseconds=1) if inclusive else timedelta(0))
    fire = cron.next_fire(after)
    return None if fire is None else to_ms(fire)


def _job(rt: Runtime, ctx: RequestContext, name: str) -> Row:
    job = rt.store.get_job(ctx.project_id, name)
    if job is None:
        raise errors.ApiError(404, errors.JOB_NOT_FOUND, f"jobId:{name}")
    return job


def _not_found(job: Row) -> errors.ApiError:
    return errors.ApiError(
        404, errors.JOB_SCHEDULE_NOT_FOUND, f"There is no schedule for this job id {job['id']}."
    )


async def get_schedule(request: Request) -> Response:
    rt = _rt(request)
    ctx = rt.context(request, "JOB")
    job = _job(rt, ctx, request.path_params["name"])
    schedule = rt.store.get_schedule_for_job(int(job["id"]))
    if schedule is None:
        raise _not_found(job)
    return JSONResponse(schedule_dto(ctx, job, schedule))


async def _body(request: Request) -> dict[str, Any]:
    require_json_content(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise _invalid("Job schedule was not provided.")
    return body


def _validated(
    rt: Runtime, body: dict[str, Any]
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
        next_ms = first_fire(cron, rt.clock.now_ms(), inclusive=False)
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


async def create_schedule(request: Request) -> Response:
    rt = _rt(request)
    ctx = rt.context(request, "JOB")
    job = _job(rt, ctx, request.path_params["name"])
    body = await _body(request)
    cron, enabled, start, end, next_ms, extra = _validated(rt, body)
    if next_ms is None:
        raise _invalid(NEVER_TRIGGERED)
    if rt.store.get_schedule_for_job(int(job["id"])) is not None:
        raise errors.ApiError(500, errors.PERSISTENCE, f"Duplicate entry '{job['id']}' for key 'job_id'")
    schedule = rt.store.save_schedule(
        int(job["id"]), cron=cron, enabled=enabled, start_ms=start, end_ms=end, next_ms=next_ms, extra=extra
    )
    dto = schedule_dto(ctx, job, schedule)
    return JSONResponse(dto, status_code=201, headers={"Location": dto["href"]})


async def update_schedule(request: Request) -> Response:
    rt = _rt(request)
    ctx = rt.context(request, "JOB")
    job = _job(rt, ctx, request.path_params["name"])
    body = await _body(request)
    schedule_id = body.get("id")
    if schedule_id is None:
        raise _invalid("Cannot update the job schedule because the job schedule id is missing.")
    if isinstance(schedule_id, bool) or not isinstance(schedule_id, int):
        raise _invalid("The job schedule id must be an integer.")
    existing = rt.store.get_schedule(schedule_id)
    if existing is None:
        raise _not_found(job)
    if int(existing["job_id"]) != int(job["id"]):
        raise errors.ApiError(400, (130044, "Requested job schedule id does not match the job name."))
    cron, enabled, start, end, next_ms, extra = _validated(rt, body)
    if next_ms is None:
        enabled = False
    schedule = rt.store.save_schedule(
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


async def delete_schedule(request: Request) -> Response:
    rt = _rt(request)
    ctx = rt.context(request, "JOB")
    job = _job(rt, ctx, request.path_params["name"])
    if rt.store.get_schedule_for_job(int(job["id"])) is None:
        raise _not_found(job)
    rt.store.delete_schedule(int(job["id"]))
    return Response(status_code=204)


def routes() -> list[Route]:
    p = f"{API_PREFIX}/project/{{id:int}}/jobs/{{name}}/schedule/v2"
    return [
        Route(p, get_schedule, methods=["GET"]),
        Route(p, create_schedule, methods=["POST"]),
        Route(p, update_schedule, methods=["PUT"]),
        Route(p, delete_schedule, methods=["DELETE"]),
    ]


class Scheduler:
    """Fires due v2 schedules; see the module docstring for the rules."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="schedules")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.rt.settings.schedule_tick)
            try:
                await self.tick()
            except Exception:
                log.exception("schedule pass failed")

    async def tick(self) -> list[dict[str, Any]]:
        """One pass: fire (or skip) each due schedule once. Returns what happened."""
        now = self.rt.clock.now_ms()
        report: list[dict[str, Any]] = []
        for schedule in self.rt.store.list_schedules():
            fire = schedule.get("next_ms")
            if not schedule["enabled"] or fire is None or fire > now:
                continue
            job = self.rt.store.get_job_by_id(int(schedule["job_id"]))
            if job is None:
                continue
            cron = parse_cron(schedule["cron"])
            following = first_fire(cron, int(fire), inclusive=False)
            end = schedule.get("end_ms")
            if following is not None and end is not None and following > end:
                following = None
            busy = any(
                e["state"] not in TERMINAL_STATES for e in self.rt.store.list_executions(int(job["id"]))
            )
            entry: dict[str, Any] = {"job": job["name"], "fireTime": fire, "skipped": busy}
            if not busy:
                execution = self.rt.engine.start(
                    job,
                    str(job["config"].get("defaultArgs") or ""),
                    int(job["creator_id"]),
                    self._interval_env(cron, int(fire), schedule.get("start_ms")),
                )
                entry["executionId"] = execution["id"]
            self.rt.store.update_schedule_next(int(schedule["id"]), following)
            report.append(entry)
        return report

    @staticmethod
    def _interval_env(cron: QuartzCron, fire_ms: int, start_ms: int | None) -> dict[str, str]:
        fire = from_ms(fire_ms)
        previous: datetime | None = cron.prev_fire(fire)
        logical = previous if previous is not None else fire
        if start_ms is not None and to_ms(logical) < start_ms:
            logical = from_ms(start_ms)
        return {
            "HOPS_LOGICAL_DATE": logical.isoformat(),
            "HOPS_START_TIME": logical.isoformat(),
            "HOPS_END_TIME": fire.isoformat(),
        }
