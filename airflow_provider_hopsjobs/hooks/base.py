"""The hook's foundation: connection settings, one sync and one async transport, the project.

Every request, sync or async, goes through :meth:`HopsworksBaseHook._request` or
:meth:`HopsworksBaseHook._arequest`, which share the retry policy and the error mapping.
The parts of the API (jobs, executions, logs, datasets, schedules) live in their own
modules as mixins over this class; :class:`~.hopsworks.HopsworksHook` puts them together.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter

from airflow_provider_hopsjobs import __version__, get_provider_info
from airflow_provider_hopsjobs._compat import BaseHook
from airflow_provider_hopsjobs.clock import SYSTEM_CLOCK, Clock
from airflow_provider_hopsjobs.errors import (
    HopsworksApiError,
    HopsworksConfigError,
    HopsworksError,
    HopsworksNotFoundError,
)
from airflow_provider_hopsjobs.hooks import async_session
from airflow_provider_hopsjobs.hooks.connection import (
    API_PREFIX,
    HopsworksConnectionSettings,
    settings_from_connection,
)
from airflow_provider_hopsjobs.hooks.errors import api_error_from_response, describe_response
from airflow_provider_hopsjobs.hooks.job_config import validate_job_name
from airflow_provider_hopsjobs.hooks.retry_policy import (
    RetryPolicy,
    TransientHttpError,
    async_call,
    is_retryable_status,
    parse_retry_after,
    retrying,
)

if TYPE_CHECKING:
    import aiohttp

DEFAULT_CONN_ID = "hopsworks_default"
_ERROR_BODY_LIMIT = 64 * 1024


def segment(value: str | int) -> str:
    """One URL path segment; ``/`` becomes ``%2F`` as Hopsworks' dataset paths expect."""
    return quote(str(value), safe="")


class HopsworksBaseHook(BaseHook):
    """Connection, transport and project resolution shared by the hook's parts.

    The parameters are documented on :class:`~.hopsworks.HopsworksHook`. Nothing is looked
    up or sent in ``__init__``.
    """

    def __init__(
        self,
        hopsworks_conn_id: str = DEFAULT_CONN_ID,
        project: str | None = None,
        retry_policy: RetryPolicy | Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.hopsworks_conn_id = hopsworks_conn_id
        self._project_override = project
        self._retry_policy_override = RetryPolicy.coerce(retry_policy)
        self._settings: HopsworksConnectionSettings | None = None
        self._session: requests.Session | None = None
        self._project_id: int | None = None
        self._project_name: str | None = None
        #: Retry waits and the log wait's deadline read time and sleep here (tests put a fake one).
        self.clock: Clock = SYSTEM_CLOCK

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The connection form for Airflow versions that read it from the hook (before 3.2)."""
        info = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
        return {
            "hidden_fields": list(info["hidden-fields"]),
            "relabeling": dict(info["relabeling"]),
            "placeholders": dict(info["placeholders"]),
        }

    @property
    def settings(self) -> HopsworksConnectionSettings:
        """The validated connection settings (read from Airflow on first use)."""
        if self._settings is None:
            conn = self.get_connection(self.hopsworks_conn_id)
            self._settings = settings_from_connection(
                conn, project=self._project_override, retry_policy=self._retry_policy_override
            )
        return self._settings

    async def _aget_settings(self) -> HopsworksConnectionSettings:
        """The same settings, fetched without a synchronous look-up on the event loop."""
        if self._settings is not None:
            return self._settings
        conn = await aget_connection(self.hopsworks_conn_id)
        self._settings = await asettings_from_connection(
            conn, project=self._project_override, retry_policy=self._retry_policy_override
        )
        return self._settings

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.settings.retry_policy

    def get_conn(self) -> requests.Session:
        """The hook's pooled session (one per hook, created on first use)."""
        if self._session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=8, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.headers["User-Agent"] = f"airflow-provider-hopsjobs/{__version__}"
            self._session = session
        return self._session

    def close(self) -> None:
        """Release the sync session's pooled connections."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """One attempt: send, and turn an error status into the matching exception."""
        settings = self.settings
        # No Accept header: the download endpoint produces octet-stream and a strict server
        # would answer "Accept: application/json" with 406.
        request_headers = {"Authorization": settings.authorization}
        request_headers.update(headers or {})
        response = self.get_conn().request(
            method,
            settings.api_url + path,
            params=list(params or ()),
            json=json,
            data=data,
            files=files,
            headers=request_headers,
            timeout=(settings.connect_timeout, settings.read_timeout),
            verify=settings.verify,
            stream=stream,
            allow_redirects=False,
        )
        self._raise_for_status(response, f"{method} {API_PREFIX}{path}")
        return response

    @staticmethod
    def _raise_for_status(response: requests.Response, what: str) -> None:
        if response.status_code < 300:
            return
        try:
            body = next(response.iter_content(_ERROR_BODY_LIMIT), b"")
        except requests.RequestException:
            body = b""
        finally:
            response.close()
        status = response.status_code
        if is_retryable_status(status):
            raise TransientHttpError(
                describe_response(status, body)[0],
                status_code=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if 300 <= status < 400:
            raise HopsworksApiError(
                f"Hopsworks answered {what} with a redirect (HTTP {status}); check the connection's "
                "host and scheme",
                status_code=status,
            )
        raise api_error_from_response(status, body, what)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Every sync call goes through here: one attempt per try, under the retry policy."""
        what = f"{method} {API_PREFIX}{path}"
        retryer = retrying(self.retry_policy, what, sleep=self.clock.sleep, logger=self.log)
        response: requests.Response = retryer(
            self._send,
            method,
            path,
            params=params,
            json=json,
            data=data,
            files=files,
            headers=headers,
            stream=stream,
        )
        return response

    def _request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        return json_body(self._request(method, path, **kwargs), f"{method} {API_PREFIX}{path}")

    def _resolve_project(self, *, force: bool = False) -> tuple[int, str]:
        if not force and self._project_id is not None and self._project_name is not None:
            return self._project_id, self._project_name
        settings = self.settings
        if settings.project_name:
            what = f"project {settings.project_name!r}"
            path = f"/project/getProjectInfo/{segment(settings.project_name)}"
        else:
            what = f"project id {settings.project_id}"
            path = f"/project/{settings.project_id}"
        try:
            info = self._request_json("GET", path)
        except HopsworksNotFoundError as err:
            raise HopsworksNotFoundError(
                f"Hopsworks has no {what}, or the API key's user is not a member of it ({err})",
                status_code=err.status_code,
                error_code=err.error_code,
                error_msg=err.error_msg,
                usr_msg=err.usr_msg,
            ) from err
        self._project_id, self._project_name = project_from_info(info, settings)
        return self._project_id, self._project_name

    @property
    def project_id(self) -> int:
        """The project's numeric id (the extra's ``project_id``, or looked up once by name)."""
        if self._project_id is None:
            if self.settings.project_id is not None and not self.settings.project_name:
                self._project_id = self.settings.project_id
            elif self.settings.project_id is not None and self.settings.project_name:
                self._project_id, self._project_name = self.settings.project_id, self.settings.project_name
            else:
                self._resolve_project()
        assert self._project_id is not None
        return self._project_id

    @property
    def project_name(self) -> str:
        """The project's name (the connection's, or looked up once by id)."""
        if self._project_name is None:
            if self.settings.project_name and self._project_id is not None:
                self._project_name = self.settings.project_name
            else:
                self._resolve_project()
        assert self._project_name is not None
        return self._project_name

    def _project_path(self, *segments: str | int) -> str:
        return f"/project/{self.project_id}/" + "/".join(str(s) for s in segments)

    def test_connection(self) -> tuple[bool, str]:
        """Resolve the project; say which one, or why not. Never echoes the key."""
        try:
            project_id, name = self._resolve_project(force=True)
        except HopsworksError as err:
            return False, str(err)
        except Exception as err:  # the connection test must answer, whatever went wrong
            return False, f"{type(err).__name__}: {err}"
        return True, f"Connected to project {name} (id {project_id})"

    def job_url(self, job_name: str) -> str:
        """The job's page in the Hopsworks UI."""
        return f"{self.settings.base_url}/p/{self.project_id}/jobs/named/{segment(job_name)}"

    def execution_url(self, job_name: str, execution_id: int) -> str:
        """The job's executions page, the page Hopsworks' own SDK links an execution to."""
        return f"{self.job_url(job_name)}/executions"

    def _job_path(self, job_name: str, *rest: str | int) -> str:
        validate_job_name(job_name)
        return self._project_path("jobs", segment(job_name), *rest)

    def _get_job_or_none(self, job_name: str) -> dict[str, Any] | None:
        """The JobDTO, or None when Hopsworks says the job does not exist (130009)."""
        try:
            return dict(self._request_json("GET", self._job_path(job_name)))
        except HopsworksNotFoundError as err:
            if err.error_code in (None, 130009):
                return None
            raise

    async def _asend(
        self,
        session: aiohttp.ClientSession,
        settings: HopsworksConnectionSettings,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, Any]] | None,
        json: Any,
    ) -> Any:
        what = f"{method} {API_PREFIX}{path}"
        async with session.request(
            method,
            settings.api_url + path,
            params=[(k, str(v)) for k, v in (params or ())],
            json=json,
            headers={"Authorization": settings.authorization},
            allow_redirects=False,
        ) as response:
            status = response.status
            if status >= 300:
                body = await response.content.read(_ERROR_BODY_LIMIT)
                if is_retryable_status(status):
                    raise TransientHttpError(
                        describe_response(status, body)[0],
                        status_code=status,
                        retry_after=parse_retry_after(response.headers.get("Retry-After")),
                    )
                if status < 400:
                    raise HopsworksApiError(
                        f"Hopsworks answered {what} with a redirect (HTTP {status}); check the connection's "
                        "host and scheme",
                        status_code=status,
                    )
                raise api_error_from_response(status, body, what)
            return parse_json(await response.read(), what)

    async def _arequest(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, Any]] | None = None,
        json: Any = None,
    ) -> Any:
        """Every async call goes through here, under the same retry policy as the sync ones."""
        settings = await self._aget_settings()
        session = await async_session.get_session(settings)
        what = f"{method} {API_PREFIX}{path}"
        return await async_call(
            settings.retry_policy,
            what,
            self._asend,
            session,
            settings,
            method,
            path,
            params=params,
            json=json,
            sleep=self.clock.async_sleep,
            logger=self.log,
        )

    async def _aproject_id(self) -> int:
        settings = await self._aget_settings()
        if self._project_id is None:
            if settings.project_id is not None:
                self._project_id = settings.project_id
                self._project_name = settings.project_name or self._project_name
            else:
                info = await self._arequest(
                    "GET", f"/project/getProjectInfo/{segment(settings.project_name or '')}"
                )
                self._project_id, self._project_name = project_from_info(info, settings)
        return self._project_id

    async def _ajob_path(self, job_name: str, *rest: str | int) -> str:
        validate_job_name(job_name)
        project_id = await self._aproject_id()
        return f"/project/{project_id}/jobs/{segment(job_name)}" + "".join(f"/{s}" for s in rest)


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
    if isinstance(values, str):
        return [values] if values else []
    if not all(isinstance(v, str) for v in values):
        raise HopsworksConfigError(f"{name} entries must be strings")
    return list(values)


def parse_json(body: bytes, what: str) -> Any:
    if not body or not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError as err:
        raise HopsworksApiError(f"Hopsworks answered {what} with a body that is not JSON") from err


def json_body(response: requests.Response, what: str) -> Any:
    return parse_json(response.content, what)


def project_from_info(info: Any, settings: HopsworksConnectionSettings) -> tuple[int, str]:
    raw_id = info.get("projectId", info.get("id")) if isinstance(info, Mapping) else None
    if raw_id is None:
        raise HopsworksApiError("Hopsworks' project information has no projectId")
    project_id = int(raw_id)
    name = info.get("projectName") or info.get("name") or settings.project_name or str(project_id)
    return project_id, str(name)


async def aget_connection(conn_id: str) -> Any:
    """Fetch a connection from async code without a synchronous look-up on the event loop.

    ``BaseHook.aget_connection`` exists from Airflow 3.1, but before 3.3.2 it masks secrets
    with a synchronous supervisor call that can deadlock beside another async call; there,
    and on 3.0, the sync look-up runs in a worker thread instead.
    """
    from airflow.sdk import Connection

    if hasattr(BaseHook, "aget_connection") and hasattr(Connection, "aextra_dejson"):
        return await BaseHook.aget_connection(conn_id)
    from asgiref.sync import sync_to_async

    return await sync_to_async(BaseHook.get_connection)(conn_id)


async def asettings_from_connection(
    conn: Any, *, project: str | None, retry_policy: RetryPolicy | None
) -> HopsworksConnectionSettings:
    """Parse settings in async code; the key is masked with the async masker when there is one."""
    try:
        from airflow.sdk.log import amask_secret
    except ImportError:
        from asgiref.sync import sync_to_async

        parse = sync_to_async(settings_from_connection)
        result: HopsworksConnectionSettings = await parse(conn, project=project, retry_policy=retry_policy)
        return result
    settings = settings_from_connection(conn, project=project, retry_policy=retry_policy, mask=False)
    await amask_secret(settings.api_key)
    return settings
