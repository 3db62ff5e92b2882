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

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.admin import AdminRoutes
from airflow_provider_hopsjobs.emulator.context import ContextResolver
from airflow_provider_hopsjobs.emulator.datasets import DatasetRoutes
from airflow_provider_hopsjobs.emulator.execution_views import ExecutionViews
from airflow_provider_hopsjobs.emulator.executions import ExecutionRoutes
from airflow_provider_hopsjobs.emulator.fault_middleware import ConnectionLookup, FaultMiddleware
from airflow_provider_hopsjobs.emulator.job_configs import JobConfigRoutes
from airflow_provider_hopsjobs.emulator.jobs import JobRoutes
from airflow_provider_hopsjobs.emulator.pod_logs import PodLogRoutes
from airflow_provider_hopsjobs.emulator.projects import ProjectRoutes
from airflow_provider_hopsjobs.emulator.recovery import recover
from airflow_provider_hopsjobs.emulator.schedules import ScheduleRoutes
from airflow_provider_hopsjobs.emulator.wiring import Emulator, runs_root

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


def api_routes(emu: Emulator) -> list[BaseRoute]:
    """Every route, Hopsworks' API first, each group handed the parts it uses."""
    contexts = ContextResolver(emu.auth, emu.store)
    views = ExecutionViews(emu.store, emu.clock)
    version = emu.settings.hopsworks_version
    return [
        *ProjectRoutes(contexts=contexts, store=emu.store, version=version.text).routes(),
        *JobRoutes(
            contexts=contexts, store=emu.store, clock=emu.clock, engine=emu.engine, views=views
        ).routes(),
        *JobConfigRoutes(contexts=contexts, store=emu.store, files=emu.files).routes(),
        *ExecutionRoutes(
            contexts=contexts,
            store=emu.store,
            files=emu.files,
            engine=emu.engine,
            logs=emu.logs,
            views=views,
            json_start=version.accepts_json_start,
        ).routes(),
        *(PodLogRoutes(contexts=contexts, store=emu.store).routes() if version.serves_pod_logs else []),
        *ScheduleRoutes(contexts=contexts, store=emu.store, clock=emu.clock).routes(),
        *DatasetRoutes(
            contexts=contexts, files=emu.files, uploads_dir=emu.settings.data_dir / "uploads"
        ).routes(),
        *AdminRoutes(
            settings=emu.settings,
            store=emu.store,
            auth=emu.auth,
            accounts=emu.accounts,
            clock=emu.clock,
            clock_persistence=emu.clock_persistence,
            counters=emu.counters,
            faults=emu.faults,
            scheduler=emu.scheduler,
            recorder=emu.recorder,
        ).routes(),
    ]


def build_app(emu: Emulator, connection_lookup: ConnectionLookup | None = None) -> FaultMiddleware:
    """The emulator's ASGI app, wrapped in the counting/fault-injecting middleware."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        recover(emu.store, emu.clock, emu.logs, runs_root(emu.settings))
        emu.scheduler.start()
        try:
            yield
        finally:
            await emu.scheduler.stop()
            await emu.engine.shutdown()
            emu.clock_persistence.save()

    routes = api_routes(emu)
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={errors.ApiError: _api_error, HTTPException: _http_error, Exception: _crash},
    )
    return FaultMiddleware(
        app, routes, faults=emu.faults, counters=emu.counters, connection_lookup=connection_lookup
    )
