"""What a route knows about the request it serves, and the request plumbing every route shares.

:class:`ContextResolver` turns a request into a :class:`RequestContext` (authenticated user,
project, base URL); :func:`read_json` and :func:`require_json_content` read bodies the way
Jersey does. Nothing here knows about executions or jobs, so every route module (and the
DTO builders) can import it without importing each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.auth import Authenticator
from airflow_provider_hopsjobs.emulator.store import Store

API_PREFIX = "/hopsworks-api/api"
#: The emulator's own routes (faults, counters, clock): never faulted nor counted.
ADMIN_PREFIX = "/_emulator"


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


class ContextResolver:
    """Authenticates a request and resolves the project it names."""

    def __init__(self, auth: Authenticator, store: Store) -> None:
        self._auth = auth
        self._store = store

    def resolve(self, request: Request, scope: str | None, *, project: bool = True) -> RequestContext:
        """Authenticate, then resolve ``{id}`` to a project (404/150004 when unknown)."""
        user = self._auth.authenticate(request.headers.get("authorization"), scope)
        origin = _origin(request)
        project_row = None
        if project:
            raw = request.path_params.get("id")
            project_row = self._store.get_project(int(raw)) if raw is not None else None
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
