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
from airflow_provider_hopsjobs.emulator.accounts import Accounts
from airflow_provider_hopsjobs.emulator.auth import ALL_SCOPES, Authenticator
from airflow_provider_hopsjobs.emulator.clock import Clock
from airflow_provider_hopsjobs.emulator.clock_persistence import ClockPersistence
from airflow_provider_hopsjobs.emulator.context import ADMIN_PREFIX, read_json
from airflow_provider_hopsjobs.emulator.counters import Counters
from airflow_provider_hopsjobs.emulator.faults import FaultInjector, FaultRuleError
from airflow_provider_hopsjobs.emulator.recorder import ExecutionRecorder
from airflow_provider_hopsjobs.emulator.scheduler import Scheduler
from airflow_provider_hopsjobs.emulator.settings import PROJECT_NAME, Settings, generate_api_key
from airflow_provider_hopsjobs.emulator.store import Store

TIMING_FIELDS = (
    "init_delay",
    "yarn_state_delay",
    "aggregating_delay",
    "log_delay",
    "simulated_duration",
    "schedule_tick",
    "kill_grace",
)


def _bad(message: str) -> errors.ApiError:
    return errors.ApiError(422, errors.ILLEGAL_ARGUMENT, message)


class AdminRoutes:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        auth: Authenticator,
        accounts: Accounts,
        clock: Clock,
        clock_persistence: ClockPersistence,
        counters: Counters,
        faults: FaultInjector,
        scheduler: Scheduler,
        recorder: ExecutionRecorder,
    ) -> None:
        self._settings = settings
        self._store = store
        self._auth = auth
        self._accounts = accounts
        self._clock = clock
        self._clock_persistence = clock_persistence
        self._counters = counters
        self._faults = faults
        self._scheduler = scheduler
        self._recorder = recorder

    def routes(self) -> list[Route]:
        a = ADMIN_PREFIX
        return [
            Route(f"{a}/health", self.health, methods=["GET"]),
            Route(f"{a}/requests", self.get_requests, methods=["GET"]),
            Route(f"{a}/requests", self.reset_requests, methods=["DELETE"]),
            Route(f"{a}/faults", self.get_faults, methods=["GET"]),
            Route(f"{a}/faults", self.put_faults, methods=["PUT"]),
            Route(f"{a}/faults", self.clear_faults, methods=["DELETE"]),
            Route(f"{a}/api-keys", self.create_api_key, methods=["POST"]),
            Route(f"{a}/projects", self.create_project, methods=["POST"]),
            Route(f"{a}/clock", self.get_clock, methods=["GET"]),
            Route(f"{a}/clock", self.move_clock, methods=["POST"]),
            Route(f"{a}/scheduler/tick", self.scheduler_tick, methods=["POST"]),
            Route(f"{a}/executions/{{execution_id:int}}/history", self.history, methods=["GET"]),
            Route(f"{a}/timing", self.get_timing, methods=["GET"]),
            Route(f"{a}/timing", self.patch_timing, methods=["PATCH"]),
        ]

    def _admin(self, request: Request) -> None:
        """Every admin route but health needs the ADMIN scope."""
        self._auth.authenticate(request.headers.get("authorization"), "ADMIN")

    async def health(self, request: Request) -> Response:
        project = self._accounts.project
        return JSONResponse({"status": "ok", "project": project["name"], "projectId": project["id"]})

    async def get_requests(self, request: Request) -> Response:
        self._admin(request)
        counters = self._counters
        return JSONResponse(
            {"counts": dict(counters.requests), "executionsStarted": dict(counters.executions_started)}
        )

    async def reset_requests(self, request: Request) -> Response:
        self._admin(request)
        self._counters.reset()
        return Response(status_code=204)

    async def get_faults(self, request: Request) -> Response:
        self._admin(request)
        return JSONResponse(self._faults.describe())

    async def put_faults(self, request: Request) -> Response:
        self._admin(request)
        body = await read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("rules", []), list):
            raise _bad('expected {"rules": [...], "seed": <int or null>}')
        seed = body.get("seed")
        if seed is not None and not isinstance(seed, int):
            raise _bad("seed must be an integer")
        try:
            self._faults.configure(
                body.get("rules", []), seed if seed is not None else self._settings.fault_seed
            )
        except FaultRuleError as exc:
            raise _bad(str(exc)) from None
        return JSONResponse(self._faults.describe())

    async def clear_faults(self, request: Request) -> Response:
        self._admin(request)
        self._faults.clear()
        return Response(status_code=204)

    async def create_api_key(self, request: Request) -> Response:
        self._admin(request)
        body = await read_json(request) or {}
        scopes = body.get("scopes") if isinstance(body, dict) else None
        if not isinstance(scopes, list) or not set(scopes) <= ALL_SCOPES:
            raise _bad(f"scopes must be a list drawn from {sorted(ALL_SCOPES)}")
        key = generate_api_key()
        prefix, secret = key.split(".", 1)
        self._store.put_api_key(prefix, secret, scopes, self._accounts.user_id)
        self._auth.forget()
        return JSONResponse({"apiKey": key, "scopes": sorted(scopes)}, status_code=201)

    async def create_project(self, request: Request) -> Response:
        self._admin(request)
        body = await read_json(request)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not PROJECT_NAME.match(name):
            raise _bad("a project name is letters, digits and single underscores, at most 63 characters")
        project = self._accounts.add_project(name)
        return JSONResponse({"projectId": project["id"], "projectName": project["name"]}, status_code=201)

    def _clock_body(self) -> dict[str, Any]:
        return {"nowMs": self._clock.now_ms(), "offsetMs": self._clock.offset_ms}

    async def get_clock(self, request: Request) -> Response:
        self._admin(request)
        return JSONResponse(self._clock_body())

    async def move_clock(self, request: Request) -> Response:
        self._admin(request)
        body = await read_json(request)
        advance = body.get("advance") if isinstance(body, dict) else None
        if not isinstance(advance, (int, float)) or advance < 0:
            raise _bad("advance must be a non-negative number of seconds")
        self._clock.advance(float(advance))
        self._clock_persistence.save()
        return JSONResponse(self._clock_body())

    async def scheduler_tick(self, request: Request) -> Response:
        self._admin(request)
        fired = await self._scheduler.tick()
        return JSONResponse({"fired": fired})

    async def history(self, request: Request) -> Response:
        self._admin(request)
        eid = int(request.path_params["execution_id"])
        if self._store.get_execution(eid) is None:
            raise errors.ApiError(404, errors.EXECUTION_NOT_FOUND, f"id: {eid}")
        transitions = [
            {"state": s, "finalStatus": f, "atMs": at} for s, f, at in self._recorder.transitions(eid)
        ]
        return JSONResponse({"transitions": transitions})

    def _timing(self) -> dict[str, float]:
        return {name: float(getattr(self._settings, name)) for name in TIMING_FIELDS}

    async def get_timing(self, request: Request) -> Response:
        self._admin(request)
        return JSONResponse(self._timing())

    async def patch_timing(self, request: Request) -> Response:
        self._admin(request)
        body = await read_json(request)
        if not isinstance(body, dict) or not set(body) <= set(TIMING_FIELDS):
            raise _bad(f"expected an object with keys from {list(TIMING_FIELDS)}")
        for name, value in body.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise _bad(f"{name} must be a non-negative number of seconds")
        for name, value in body.items():
            setattr(self._settings, name, float(value))
        return JSONResponse(self._timing())
