"""Project, user and variable endpoints: what a client needs to log in and find its project."""

from __future__ import annotations

import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.dto import project_dto, user_dto
from airflow_provider_hopsjobs.emulator.runtime import API_PREFIX, Runtime
from airflow_provider_hopsjobs.emulator.settings import HOPSWORKS_VERSION

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


def _rt(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


async def project_info(request: Request) -> Response:
    rt = _rt(request)
    ctx = rt.context(request, "PROJECT", project=False)
    project = rt.store.get_project_by_name(request.path_params["name"])
    if project is None:
        raise errors.ApiError(404, errors.PROJECT_NOT_FOUND)
    return _json(project_dto(ctx, project, rt.store.get_user(int(project["owner_id"]))))


async def project_by_id(request: Request) -> Response:
    rt = _rt(request)
    ctx = rt.context(request, "PROJECT")
    assert ctx.project is not None
    return _json(project_dto(ctx, ctx.project, rt.store.get_user(int(ctx.project["owner_id"]))))


async def list_projects(request: Request) -> Response:
    """Project-team memberships of the caller (``GET /project``)."""
    rt = _rt(request)
    ctx = rt.context(request, "PROJECT", project=False)
    items = []
    for project in rt.store.list_projects():
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


async def credentials(request: Request) -> Response:
    """Placeholder client certificates: enough for SDKs that download them at login."""
    rt = _rt(request)
    rt.context(request, "PROJECT")
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


async def get_user(request: Request) -> Response:
    rt = _rt(request)
    ctx = rt.context(request, None, project=False)
    user = rt.store.get_user(int(request.path_params["uid"]))
    if user is None:
        raise errors.ApiError(404, (160002, "User not found"))
    return _json(user_dto(ctx, user, expand=True))


async def versions(request: Request) -> Response:
    _rt(request).context(request, None, project=False)
    return _json(
        [
            {"software": "hopsworks", "version": HOPSWORKS_VERSION},
            {"software": "hopsworks-emulator", "version": HOPSWORKS_VERSION},
        ]
    )


_VARIABLES = {"hopsworks_version": HOPSWORKS_VERSION}


async def variable(request: Request) -> Response:
    _rt(request).context(request, None, project=False)
    name = request.path_params["name"]
    if name not in _VARIABLES:
        raise errors.ApiError(404, (120008, "Variable not found."), f"Variable {name} not found")
    return _json({"successMessage": _VARIABLES[name]})


def routes() -> list[Route]:
    p = API_PREFIX
    return [
        Route(f"{p}/project", list_projects, methods=["GET"]),
        Route(f"{p}/project/getProjectInfo/{{name}}", project_info, methods=["GET"]),
        Route(f"{p}/project/{{id:int}}", project_by_id, methods=["GET"]),
        Route(f"{p}/project/{{id:int}}/credentials", credentials, methods=["GET"]),
        Route(f"{p}/users/{{uid:int}}", get_user, methods=["GET"]),
        Route(f"{p}/variables/versions", versions, methods=["GET"]),
        Route(f"{p}/variables/{{name}}", variable, methods=["GET"]),
    ]
