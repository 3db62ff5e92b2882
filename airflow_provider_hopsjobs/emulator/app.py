"""The ASGI application: routes, Hopsworks-style error rendering, lifespan.

Every answer that is not a success is Hopsworks' JSON error body, including unknown
routes (404/120004 "HTTP 404 Not Found"), wrong methods (405/120004), wrong content
types (415/120004), malformed JSON (400/120004) and unexpected crashes (500/120000,
never a stack trace).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from airflow_provider_hopsjobs.emulator import admin, datasets, errors, executions, jobs, projects, schedules
from airflow_provider_hopsjobs.emulator.engine import Engine
from airflow_provider_hopsjobs.emulator.faults import FaultInjector, FaultMiddleware
from airflow_provider_hopsjobs.emulator.runtime import Runtime

log = logging.getLogger(__name__)


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.ApiError)
    return exc.to_response()


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return errors.web_application_error(exc.status_code, exc.headers).to_response()


async def _crash(_request: Request, exc: Exception) -> Response:
    log.error("unexpected error", exc_info=exc)
    return errors.ApiError(500, errors.GENERIC_UNKNOWN).to_response()


def build_app(rt: Runtime) -> FaultMiddleware:
    """The emulator's ASGI app, wrapped in the counting/fault-injecting middleware."""
    rt.engine = Engine(rt)
    rt.faults = FaultInjector()
    if rt.settings.faults:
        rt.faults.configure(rt.settings.faults, rt.settings.fault_seed)
    rt.scheduler = schedules.Scheduler(rt)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        rt.engine.recover()
        rt.scheduler.start()
        try:
            yield
        finally:
            await rt.scheduler.stop()
            await rt.engine.shutdown()
            rt.save_clock()

    routes: list[BaseRoute] = [
        *projects.routes(),
        *jobs.routes(),
        *executions.routes(),
        *schedules.routes(),
        *datasets.routes(),
        *admin.routes(),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={errors.ApiError: _api_error, HTTPException: _http_error, Exception: _crash},
    )
    app.state.runtime = rt
    return FaultMiddleware(app, rt, routes)
