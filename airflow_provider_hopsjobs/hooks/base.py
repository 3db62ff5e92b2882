"""The hook's foundation: connection settings, one sync and one async transport, the project.

Every request goes through one path per transport: :meth:`HopsworksBaseHook._request`
(requests) or :meth:`HopsworksBaseHook._arequest` (aiohttp). Both run under the same retry
policy (:mod:`.retry_policy`), read an error answer with the same function
(:func:`.errors.response_error`), build their paths with the same functions (:mod:`.wire`)
and learn the project by the same rules (:mod:`.project`). The parts of the API (jobs,
executions, logs, datasets, schedules) live in their own modules as mixins over this class;
:class:`~.hopsworks.HopsworksHook` puts them together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import requests
from requests.adapters import HTTPAdapter

from airflow_provider_hopsjobs import __version__
from airflow_provider_hopsjobs._compat import BaseHook
from airflow_provider_hopsjobs.clock import SYSTEM_CLOCK, Clock
from airflow_provider_hopsjobs.errors import HopsworksApiError, HopsworksError, HopsworksNotFoundError
from airflow_provider_hopsjobs.hooks import async_session
from airflow_provider_hopsjobs.hooks.connection import (
    HopsworksConnectionSettings,
    aget_connection,
    asettings_from_connection,
    settings_from_connection,
)
from airflow_provider_hopsjobs.hooks.errors import ERROR_BODY_LIMIT, response_error
from airflow_provider_hopsjobs.hooks.project import ProjectLookup, ProjectRef, project_from_info
from airflow_provider_hopsjobs.hooks.retry_policy import RetryPolicy, async_call, retrying
from airflow_provider_hopsjobs.hooks.wire import (
    call_name,
    job_path,
    json_body,
    parse_json,
    project_path,
    segment,
)
from airflow_provider_hopsjobs.validation import validate_job_name

if TYPE_CHECKING:
    import aiohttp
    from typing_extensions import Unpack

DEFAULT_CONN_ID = "hopsworks_default"
#: What to do when Hopsworks refuses the key, for the connection test (the UI's "Test" button).
KEY_REFUSED_HINT = (
    "Put a valid Hopsworks API key in the connection's API key (password) field: Hopsworks,"
    " Account settings, API keys; scope JOB, and PROJECT to look the project up by name."
)


class SendOptions(TypedDict, total=False):
    """What a sync request may carry besides its method and path."""

    params: Sequence[tuple[str, Any]] | None
    json: Any
    data: Any
    files: Any
    headers: Mapping[str, str] | None
    stream: bool


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
        self._project = ProjectRef()
        #: Retry waits and the log wait's deadline read time and sleep here (tests put a fake one).
        self.clock: Clock = SYSTEM_CLOCK

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

    # -- the sync transport ---------------------------------------------------------------

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

    def _send(self, method: str, path: str, **options: Unpack[SendOptions]) -> requests.Response:
        """One attempt: send, and raise what an error answer means (:func:`.errors.response_error`)."""
        settings = self.settings
        # No Accept header: the download endpoint produces octet-stream and a strict server
        # would answer "Accept: application/json" with 406.
        headers = {"Authorization": settings.authorization, **(options.get("headers") or {})}
        response = self.get_conn().request(
            method,
            settings.api_url + path,
            params=list(options.get("params") or ()),
            json=options.get("json"),
            data=options.get("data"),
            files=options.get("files"),
            headers=headers,
            timeout=(settings.connect_timeout, settings.read_timeout),
            verify=settings.verify,
            stream=options.get("stream", False),
            allow_redirects=False,
        )
        status = response.status_code
        body = _read_error_body(response) if status >= 300 else b""
        error = response_error(
            status, body, call_name(method, path), retry_after=response.headers.get("Retry-After")
        )
        if error is not None:
            raise error
        return response

    def _request(self, method: str, path: str, **options: Unpack[SendOptions]) -> requests.Response:
        """Every sync call goes through here: one :meth:`_send` per attempt, under the retry policy."""
        retryer = retrying(
            self.retry_policy, call_name(method, path), sleep=self.clock.sleep, logger=self.log
        )
        response: requests.Response = retryer(self._send, method, path, **options)
        return response

    def _request_json(self, method: str, path: str, **options: Unpack[SendOptions]) -> Any:
        return json_body(self._request(method, path, **options), call_name(method, path))

    # -- the async transport --------------------------------------------------------------

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
        """One async attempt: send, raise what an error answer means, else read its JSON."""
        what = call_name(method, path)
        async with session.request(
            method,
            settings.api_url + path,
            params=[(k, str(v)) for k, v in (params or ())],
            json=json,
            headers={"Authorization": settings.authorization},
            allow_redirects=False,
        ) as response:
            status = response.status
            body = await response.content.read(ERROR_BODY_LIMIT) if status >= 300 else b""
            error = response_error(status, body, what, retry_after=response.headers.get("Retry-After"))
            if error is not None:
                raise error
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
        return await async_call(
            settings.retry_policy,
            call_name(method, path),
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

    # -- the project ------------------------------------------------------------------------

    def _resolve_project(self, *, force: bool = False) -> ProjectRef:
        """Look the project up (once per hook, unless ``force``); sets and returns its id and name."""
        if force or not self._project.complete:
            lookup = ProjectLookup.of(self.settings)
            with lookup.explaining_not_found():
                info = self._request_json("GET", lookup.path)
            self._project = project_from_info(info, self.settings)
        return self._project

    async def _aresolve_project(self, settings: HopsworksConnectionSettings) -> ProjectRef:
        lookup = ProjectLookup.of(settings)
        with lookup.explaining_not_found():
            info = await self._arequest("GET", lookup.path)
        self._project = project_from_info(info, settings)
        return self._project

    @property
    def project_id(self) -> int:
        """The project's numeric id (the extra's ``project_id``, or looked up once by name)."""
        self._project = self._project.with_connection_id(self.settings)
        project_id = self._project.id if self._project.id is not None else self._resolve_project().id
        assert project_id is not None
        return project_id

    async def _aproject_id(self) -> int:
        settings = await self._aget_settings()
        self._project = self._project.with_connection_id(settings)
        project = self._project if self._project.id is not None else await self._aresolve_project(settings)
        assert project.id is not None
        return project.id

    @property
    def project_name(self) -> str:
        """The project's name (the connection's, or looked up once by id)."""
        self._project = self._project.with_connection_name(self.settings)
        name = self._project.name if self._project.name is not None else self._resolve_project().name
        assert name is not None
        return name

    def _project_path(self, *segments: str | int) -> str:
        return project_path(self.project_id, *segments)

    def _job_path(self, job_name: str, *rest: str | int) -> str:
        validate_job_name(job_name)  # before the project look-up: a bad name sends nothing
        return job_path(self.project_id, job_name, *rest)

    async def _ajob_path(self, job_name: str, *rest: str | int) -> str:
        validate_job_name(job_name)
        return job_path(await self._aproject_id(), job_name, *rest)

    def test_connection(self) -> tuple[bool, str]:
        """Resolve the project; say which one, or why not. Never echoes the key."""
        try:
            project = self._resolve_project(force=True)
        except HopsworksApiError as err:
            if err.status_code in (401, 403):
                return False, f"{err} {KEY_REFUSED_HINT}"
            return False, str(err)
        except HopsworksError as err:
            return False, str(err)
        except Exception as err:  # the connection test must answer, whatever went wrong
            return False, f"{type(err).__name__}: {err}"
        return True, f"Connected to project {project.name} (id {project.id})"

    def job_url(self, job_name: str) -> str:
        """The job's page in the Hopsworks UI."""
        return f"{self.settings.base_url}/p/{self.project_id}/jobs/named/{segment(job_name)}"

    def execution_url(self, job_name: str, execution_id: int) -> str:
        """The job's executions page: the link for one execution, ``execution_id`` included.

        The Hopsworks UI has no page of its own for one execution that is known to us: the
        official SDK's ``Execution.get_url`` (``hopsworks_common/execution.py``, 5.2.1) and
        its ``util`` URL helper both link an execution to ``/p/<project>/jobs/named/<job>/
        executions``, the job's list of executions, where the execution is a row (with its
        logs). Linking a guessed per-execution path would risk a dead page, so this is the
        same list; ``execution_id`` stays in the signature for the day such a page exists.
        """
        return f"{self.job_url(job_name)}/executions"

    def _get_job_or_none(self, job_name: str) -> dict[str, Any] | None:
        """The JobDTO, or None when Hopsworks says the job does not exist (130009)."""
        try:
            return dict(self._request_json("GET", self._job_path(job_name)))
        except HopsworksNotFoundError as err:
            if err.error_code in (None, 130009):
                return None
            raise


def _read_error_body(response: requests.Response) -> bytes:
    """The start of an error answer's body; the response is closed (its connection reused)."""
    try:
        return next(response.iter_content(ERROR_BODY_LIMIT), b"")
    except requests.RequestException:
        return b""
    finally:
        response.close()
