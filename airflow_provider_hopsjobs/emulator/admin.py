"""Admin API under ``/_emulator`` (outside ``/hopsworks-api``): faults, counters, clock.

Every route except ``GET /_emulator/health`` needs the emulator's API key with the
``ADMIN`` scope (the key the emulator prints has every scope).

* ``GET /_emulator/health``: liveness, no secrets.
* ``GET /_emulator/requests``: ``{"counts": {"<METHOD> <route template>": n},
  "executionsStarted": {"<job>": n}}``; ``DELETE`` resets both.
* ``GET|PUT|DELETE /_emulator/faults``: read, replace (``{"rules": [...], "seed": 1}``),
  clear the fault rules (see :mod:`.faults`).
* ``POST /_emulator/api-keys`` ``{"scopes": ["JOB"]}``: a new key limited to those scopes.
* ``POST /_emulator/projects`` ``{"name": "other"}``: another project.
* ``GET|POST /_emulator/clock`` ``{"advance": seconds}``: read or move the emulator clock.
* ``POST /_emulator/scheduler/tick``: run one pass of the v2 schedule loop now.
* ``GET /_emulator/executions/{id}/history``: the state transitions this process saw.
* ``GET|PATCH /_emulator/timing``: read or change the lifecycle delays (seconds), e.g.
  ``{"log_delay": 2}`` to keep logs "not yet aggregated" long enough to look at.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.auth import ALL_SCOPES
from airflow_provider_hopsjobs.emulator.faults import ADMIN_PREFIX, FaultRuleError
from airflow_provider_hopsjobs.emulator.runtime import Runtime, read_json
from airflow_provider_hopsjobs.emulator.settings import PROJECT_NAME, generate_api_key


def _admin(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    rt.auth.authenticate(request.headers.get("authorization"), "ADMIN")
    return rt


def _bad(message: str) -> errors.ApiError:
    return errors.ApiError(422, errors.ILLEGAL_ARGUMENT, message)


async def health(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    return JSONResponse({"status": "ok", "project": rt.project["name"], "projectId": rt.project["id"]})


async def get_requests(request: Request) -> Response:
    rt = _admin(request)
    return JSONResponse({"counts": dict(rt.request_counts), "executionsStarted": dict(rt.executions_started)})


async def reset_requests(request: Request) -> Response:
    rt = _admin(request)
    rt.request_counts.clear()
    rt.executions_started.clear()
    return Response(status_code=204)


async def get_faults(request: Request) -> Response:
    return JSONResponse(_admin(request).faults.describe())


async def put_faults(request: Request) -> Response:
    rt = _admin(request)
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("rules", []), list):
        raise _bad('expected {"rules": [...], "seed": <int or null>}')
    seed = body.get("seed")
    if seed is not None and not isinstance(seed, int):
        raise _bad("seed must be an integer")
    try:
        rt.faults.configure(body.get("rules", []), seed if seed is not None else rt.settings.fault_seed)
    except FaultRuleError as exc:
        raise _bad(str(exc)) from None
    return JSONResponse(rt.faults.describe())


async def clear_faults(request: Request) -> Response:
    _admin(request).faults.clear()
    return Response(status_code=204)


async def create_api_key(request: Request) -> Response:
    rt = _admin(request)
    body = await read_json(request) or {}
    scopes = body.get("scopes") if isinstance(body, dict) else None
    if not isinstance(scopes, list) or not set(scopes) <= ALL_SCOPES:
        raise _bad(f"scopes must be a list drawn from {sorted(ALL_SCOPES)}")
    key = generate_api_key()
    prefix, secret = key.split(".", 1)
    rt.store.put_api_key(prefix, secret, scopes, int(rt.user["id"]))
    rt.auth.forget()
    return JSONResponse({"apiKey": key, "scopes": sorted(scopes)}, status_code=201)


async def create_project(request: Request) -> Response:
    rt = _admin(request)
    body = await read_json(request)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not PROJECT_NAME.match(name):
        raise _bad("a project name is letters, digits and single underscores, at most 63 characters")
    project = rt.add_project(name)
    return JSONResponse({"projectId": project["id"], "projectName": project["name"]}, status_code=201)


def _clock_body(rt: Runtime) -> dict[str, Any]:
    return {"nowMs": rt.clock.now_ms(), "offsetMs": rt.clock.offset_ms}


async def get_clock(request: Request) -> Response:
    return JSONResponse(_clock_body(_admin(request)))


async def move_clock(request: Request) -> Response:
    rt = _admin(request)
    body = await read_json(request)
    advance = body.get("advance") if isinstance(body, dict) else None
    if not isinstance(advance, (int, float)) or advance < 0:
        raise _bad("advance must be a non-negative number of seconds")
    rt.clock.advance(float(advance))
    rt.save_clock()
    return JSONResponse(_clock_body(rt))


async def scheduler_tick(request: Request) -> Response:
    rt = _admin(request)
    fired = await rt.scheduler.tick()
    return JSONResponse({"fired": fired})


async def history(request: Request) -> Response:
    rt = _admin(request)
    eid = int(request.path_params["execution_id"])
    if rt.store.get_execution(eid) is None:
        raise errors.ApiError(404, errors.EXECUTION_NOT_FOUND, f"id: {eid}")
    transitions = [{"state": s, "finalStatus": f, "atMs": at} for s, f, at in rt.engine.history.get(eid, [])]
    return JSONResponse({"transitions": transitions})


TIMING_FIELDS = (
    "init_delay",
    "yarn_state_delay",
    "aggregating_delay",
    "log_delay",
    "simulated_duration",
    "schedule_tick",
    "kill_grace",
)


def _timing(rt: Runtime) -> dict[str, float]:
    return {name: float(getattr(rt.settings, name)) for name in TIMING_FIELDS}


async def get_timing(request: Request) -> Response:
    return JSONResponse(_timing(_admin(request)))


async def patch_timing(request: Request) -> Response:
    rt = _admin(request)
    body = await read_json(request)
    if not isinstance(body, dict) or not set(body) <= set(TIMING_FIELDS):
        raise _bad(f"expected an object with keys from {list(TIMING_FIELDS)}")
    for name, value in body.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise _bad(f"{name} must be a non-negative number of seconds")
    for name, value in body.items():
        setattr(rt.settings, name, float(value))
    return JSONResponse(_timing(rt))


def routes() -> list[Route]:
    a = ADMIN_PREFIX
    return [
        Route(f"{a}/health", health, methods=["GET"]),
        Route(f"{a}/requests", get_requests, methods=["GET"]),
        Route(f"{a}/requests", reset_requests, methods=["DELETE"]),
        Route(f"{a}/faults", get_faults, methods=["GET"]),
        Route(f"{a}/faults", put_faults, methods=["PUT"]),
        Route(f"{a}/faults", clear_faults, methods=["DELETE"]),
        Route(f"{a}/api-keys", create_api_key, methods=["POST"]),
        Route(f"{a}/projects", create_project, methods=["POST"]),
        Route(f"{a}/clock", get_clock, methods=["GET"]),
        Route(f"{a}/clock", move_clock, methods=["POST"]),
        Route(f"{a}/scheduler/tick", scheduler_tick, methods=["POST"]),
        Route(f"{a}/executions/{{execution_id:int}}/history", history, methods=["GET"]),
        Route(f"{a}/timing", get_timing, methods=["GET"]),
        Route(f"{a}/timing", patch_timing, methods=["PATCH"]),
    ]
