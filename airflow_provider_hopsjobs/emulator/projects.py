"""Project, user and variable endpoints: what a client needs to log in and find its project."""

from __future__ import annotations

import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.context import API_PREFIX, ContextResolver
from airflow_provider_hopsjobs.emulator.dto import project_dto, user_dto
from airflow_provider_hopsjobs.emulator.settings import HOPSWORKS_VERSION
from airflow_provider_hopsjobs.emulator.store import Store

_FAKE_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "TUlJQkVtdWxhdG9yQ2VydGlmaWNhdGVOb3RGb3JVc2VXaXRoUmVhbFRMUw==\n"
    "-----END CERTIFICATE-----\n"
)
_FAKE_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "TUlJQkVtdWxhdG9yS2V5Tm90Rm9yVXNlV2l0aFJlYWxUTFM=\n"
    "-----END PRIVATE KEY-----\n"
)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


class ProjectRoutes:
    def __init__(self, *, contexts: ContextResolver, store: Store, version: str = HOPSWORKS_VERSION) -> None:
        self._contexts = contexts
        self._store = store
        self._version = version
        self._variables = {"hopsworks_version": version}

    def routes(self) -> list[Route]:
        p = API_PREFIX
        return [
            Route(f"{p}/project", self.list_projects, methods=["GET"]),
            Route(f"{p}/project/getProjectInfo/{{name}}", self.project_info, methods=["GET"]),
            Route(f"{p}/project/{{id:int}}", self.project_by_id, methods=["GET"]),
            Route(f"{p}/project/{{id:int}}/credentials", self.credentials, methods=["GET"]),
            Route(f"{p}/users/{{uid:int}}", self.get_user, methods=["GET"]),
            Route(f"{p}/variables/versions", self.versions, methods=["GET"]),
            Route(f"{p}/variables/{{name}}", self.variable, methods=["GET"]),
        ]

    async def project_info(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "PROJECT", project=False)
        project = self._store.get_project_by_name(request.path_params["name"])
        if project is None:
            raise errors.ApiError(404, errors.PROJECT_NOT_FOUND)
        return _json(project_dto(ctx, project, self._store.get_user(int(project["owner_id"]))))

    async def project_by_id(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "PROJECT")
        assert ctx.project is not None
        return _json(project_dto(ctx, ctx.project, self._store.get_user(int(ctx.project["owner_id"]))))

    async def list_projects(self, request: Request) -> Response:
        """Project-team memberships of the caller (``GET /project``)."""
        ctx = self._contexts.resolve(request, "PROJECT", project=False)
        items = []
        for project in self._store.list_projects():
            items.append(
                {
                    "project": {
                        "id": project["id"],
                        "name": project["name"],
                        "owner": ctx.user["email"],
                        "created": project_dto(ctx, project, None)["created"],
                    },
                    "user": user_dto(ctx, ctx.user, expand=True),
                    "teamRole": "Data owner",
                    "timestamp": project_dto(ctx, project, None)["created"],
                }
            )
        return _json(items)

    async def credentials(self, request: Request) -> Response:
        """Placeholder client certificates: enough for SDKs that download them at login."""
        self._contexts.resolve(request, "PROJECT")
        store_bytes = base64.b64encode(b"emulator keystore: not a real keystore").decode()
        return _json(
            {
                "kStore": store_bytes,
                "tStore": store_bytes,
                "password": "emulator",
                "caChain": _FAKE_PEM,
                "rootCA": _FAKE_PEM,
                "clientCert": _FAKE_PEM,
                "clientKey": _FAKE_KEY,
            }
        )

    async def get_user(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, None, project=False)
        user = self._store.get_user(int(request.path_params["uid"]))
        if user is None:
            raise errors.ApiError(404, (160002, "User not found"))
        return _json(user_dto(ctx, user, expand=True))

    async def versions(self, request: Request) -> Response:
        self._contexts.resolve(request, None, project=False)
        return _json(
            [
                {"software": "hopsworks", "version": self._version},
                {"software": "hopsworks-emulator", "version": HOPSWORKS_VERSION},
            ]
        )

    async def variable(self, request: Request) -> Response:
        self._contexts.resolve(request, None, project=False)
        name = request.path_params["name"]
        if name not in self._variables:
            raise errors.ApiError(404, (120008, "Variable not found."), f"Variable {name} not found")
        return _json({"successMessage": self._variables[name]})
