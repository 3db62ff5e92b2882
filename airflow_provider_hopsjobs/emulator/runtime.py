"""The emulator's shared services, and the per-request context routes work with.

One :class:`Runtime` per server process: settings, store, clock, file system, execution
engine, counters and faults. Routes reach it through ``request.app.state.runtime`` and
turn each request into a :class:`RequestContext` (authenticated user, project, base URL)
with :meth:`Runtime.context`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.auth import ALL_SCOPES, Authenticator, split_key
from airflow_provider_hopsjobs.emulator.clock import Clock
from airflow_provider_hopsjobs.emulator.fs import ProjectFiles
from airflow_provider_hopsjobs.emulator.store import Store

if TYPE_CHECKING:
    from airflow_provider_hopsjobs.emulator.engine import Engine
    from airflow_provider_hopsjobs.emulator.faults import FaultInjector
    from airflow_provider_hopsjobs.emulator.schedules import Scheduler
    from airflow_provider_hopsjobs.emulator.settings import Settings

API_PREFIX = "/hopsworks-api/api"

DEFAULT_USER = {
    "username": "meb10000",
    "firstname": "Emulator",
    "lastname": "User",
    "email": "emulator@hopsworks.local",
}


@dataclass
class RequestContext:
    user: dict[str, Any]
    project: dict[str, Any] | None
    origin: str  # scheme://host:port, no trailing slash

    @property
    def project_id(self) -> int:
        assert self.project is not None
        return int(self.project["id"])

    @property
    def project_name(self) -> str:
        assert self.project is not None
        return str(self.project["name"])

    def api(self, *parts: object) -> str:
        """Absolute URL under the API prefix, as Hopsworks puts in every ``href``."""
        tail = "/".join(str(p) for p in parts)
        return f"{self.origin}{API_PREFIX}/{tail}" if tail else f"{self.origin}{API_PREFIX}"

    def project_api(self, *parts: object) -> str:
        return self.api("project", self.project_id, *parts)


class Runtime:
    """Everything one emulator process shares between requests and background tasks."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.clock = clock or Clock()
        self.store = Store(settings.data_dir / "emulator.sqlite3")
        saved_offset = self.store.get_meta("clock_offset_ms")
        if saved_offset is not None and clock is None:
            # Time never goes back across a restart, even when a test moved it forward.
            self.clock.set_offset(int(saved_offset))
        self.files = ProjectFiles(settings.data_dir / "fs")
        self.auth = Authenticator(self.store)
        self.request_counts: Counter[str] = Counter()
        self.executions_started: Counter[str] = Counter()
        self.api_key = settings.resolved_api_key()
        self.user = self.store.ensure_user(**DEFAULT_USER)
        prefix, secret = split_key(self.api_key)
        self.store.put_api_key(prefix, secret, ALL_SCOPES, int(self.user["id"]))
        self.project = self.add_project(settings.project)
        # Filled in by the app factory (they need the runtime themselves).
        self.engine: Engine
        self.faults: FaultInjector
        self.scheduler: Scheduler

    def add_project(self, name: str) -> dict[str, Any]:
        project = self.store.ensure_project(name, int(self.user["id"]), self.clock.now_ms())
        self.files.ensure_project(name)
        return project

    def save_clock(self) -> None:
        self.store.set_meta("clock_offset_ms", str(self.clock.offset_ms))

    def context(self, request: Request, scope: str | None, *, project: bool = True) -> RequestContext:
        """Authenticate, then resolve ``{id}`` to a project (404/150004 when unknown)."""
        user = self.auth.authenticate(request.headers.get("authorization"), scope)
        origin = _origin(request)
        project_row = None
        if project:
            raw = request.path_params.get("id")
            project_row = self.store.get_project(int(raw)) if raw is not None else None
            if project_row is None:
                raise errors.ApiError(404, errors.PROJECT_NOT_FOUND)
        return RequestContext(user=user, project=project_row, origin=origin)


def _origin(request: Request) -> str:
    """``scheme://host:port`` as the client addressed us (cheaper than building ``request.url``)."""
    scope = request.scope
    host = request.headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


async def read_json(request: Request) -> Any:
    """The body as JSON; malformed JSON is a 400/120004 like Jersey's own mapper."""
    raw = await request.body()
    try:
        return json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise errors.web_application_error(400) from None


def require_json_content(request: Request) -> None:
    """``@Consumes(APPLICATION_JSON)``: anything else is 415/120004."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise errors.web_application_error(415)
