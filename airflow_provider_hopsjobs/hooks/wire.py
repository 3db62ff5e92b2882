"""What goes over the wire, as pure functions: API paths, a call's name, answers read as JSON.

Both transports (requests for sync calls, aiohttp for triggers) build their paths and read
their answers here, so a path or a collection cannot differ between them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_hopsjobs.errors import HopsworksApiError, HopsworksConfigError
from airflow_provider_hopsjobs.hooks.connection import API_PREFIX

if TYPE_CHECKING:
    import requests


def segment(value: str | int) -> str:
    """One URL path segment; ``/`` becomes ``%2F`` as Hopsworks' dataset paths expect."""
    return quote(str(value), safe="")


def call_name(method: str, path: str) -> str:
    """How warnings and errors name a call: ``GET /hopsworks-api/api/project/119/jobs/etl``."""
    return f"{method} {API_PREFIX}{path}"


def project_path(project_id: int, *segments: str | int) -> str:
    """``/project/<id>/<segments...>``; the segments are already quoted."""
    return f"/project/{project_id}/" + "/".join(str(s) for s in segments)


def job_path(project_id: int, job_name: str, *rest: str | int) -> str:
    """``/project/<id>/jobs/<name>[/<rest...>]``; the name is quoted, not validated (callers do)."""
    return project_path(project_id, "jobs", segment(job_name), *rest)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    count: int | None


def collection(data: Any) -> Page:
    """A Hopsworks collection; an empty one comes without ``items`` at all."""
    if not isinstance(data, Mapping):
        return Page([], None)
    items = data.get("items") or []
    count = data.get("count")
    return Page([dict(i) for i in items], int(count) if isinstance(count, (int, float)) else None)


def string_list(values: Sequence[str] | str, name: str) -> list[str]:
    """Repeated query parameter values (``filter_by``, ``expand``); one string is one value."""
    if isinstance(values, str):
        return [values] if values else []
    if not all(isinstance(v, str) for v in values):
        raise HopsworksConfigError(f"{name} entries must be strings")
    return list(values)


def parse_json(body: bytes, what: str) -> Any:
    """A success answer's JSON; an empty body is None, anything else that is not JSON an error."""
    if not body or not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError as err:
        raise HopsworksApiError(f"Hopsworks answered {what} with a body that is not JSON") from err


def json_body(response: requests.Response, what: str) -> Any:
    return parse_json(response.content, what)
