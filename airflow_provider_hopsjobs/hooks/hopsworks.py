"""The Hopsworks hook: the only code in the provider that speaks HTTP to Hopsworks.

Sync calls go through one pooled ``requests.Session`` per hook, async calls (for triggers)
through one aiohttp session per event loop and connection. Both use the same retry policy
and the same error mapping, so a sync operator and a deferred trigger see the same errors.
Paths, status codes and quirks follow the project's Hopsworks API reference.
"""

from __future__ import annotations

import asyncio
import math
import os
import shlex
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type
from tenacity.wait import wait_exponential

from airflow_provider_hopsjobs import __version__, get_provider_info
from airflow_provider_hopsjobs._compat import BaseHook
from airflow_provider_hopsjobs.hooks import async_session
from airflow_provider_hopsjobs.hooks.connection import (
    API_PREFIX,
    HopsworksConnectionSettings,
    settings_from_connection,
)
from airflow_provider_hopsjobs.hooks.cron import normalise_quartz_cron
from airflow_provider_hopsjobs.hooks.errors import (
    HopsworksLogUnavailableError,
    api_error_from_response,
    describe_response,
)
from airflow_provider_hopsjobs.hooks.job_config import (
    CONFIG_TYPES,
    JobConfigRequest,
    diff_config,
    normalise_job_type,
    updated_config,
    validate_job_name,
)
from airflow_provider_hopsjobs.hooks.lines import iter_text_lines, split_text_lines
from airflow_provider_hopsjobs.hooks.retry_policy import (
    RetryPolicy,
    TransientHttpError,
    async_retrying,
    is_ambiguous,
    is_retryable_status,
    parse_retry_after,
    retrying,
)
from airflow_provider_hopsjobs.hooks.timestamps import parse_timestamp, to_epoch_ms
from airflow_provider_hopsjobs.status import (
    HopsworksApiError,
    HopsworksApiUnavailableError,
    HopsworksConfigError,
    HopsworksError,
    HopsworksNotFoundError,
)

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "HopsworksHook",
    "HopsworksLogUnavailableError",
    "JobUpsertResult",
    "RetryPolicy",
    "parse_timestamp",
]

#: Hopsworks' replacement text for an inline log over 1,000,000 bytes.
LOG_TOO_BIG_PREFIX = "Log is too big to display"
#: Python jobs' text while log aggregation has not finished.
LOG_NOT_YET_PREFIX = "No log available"
#: The inline text for an empty log file.
LOG_EMPTY_TEXT = "No information."
_ERROR_BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class JobUpsertResult:
    """What :meth:`HopsworksHook.create_or_update_job` did.

    ``changes`` maps dotted config keys to ``(old, new)``; it is empty when unchanged.
    """

    action: Literal["created", "updated", "unchanged"]
    job: dict[str, Any]
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


class _LogNotReady(Exception):
    """The log is not there yet; the bounded wait tries again."""


def _seg(value: str | int) -> str:
    """One URL path segment; ``/`` becomes ``%2F`` as Hopsworks' dataset paths expect."""
    return quote(str(value), safe="")


def _args_string(args: str | Sequence[str] | None) -> str:
    if args is None:
        return ""
    if isinstance(args, str):
        return args
    if not all(isinstance(a, str) for a in args):
        raise HopsworksConfigError("Execution args must be a string or a sequence of strings")
    return shlex.join(args)


class HopsworksHook(BaseHook):
    """Talk to one Hopsworks project through an Airflow connection of type ``hopsworks``.

    :param hopsworks_conn_id: the Airflow connection (host, API key in the password field,
        extra ``project`` or ``project_id``, ``verify``, timeouts, retry settings).
    :param project: project name; overrides the connection's extra.
    :param retry_policy: overrides the connection's retry settings (a :class:`RetryPolicy`
        or its dict form).

    Nothing is looked up or sent in ``__init__``; the connection is read on first use and
    the project id resolved once per hook.
    """

    conn_name_attr = "hopsworks_conn_id"
    default_conn_name = "hopsworks_default"
    conn_type = "hopsworks"
    hook_name = "Hopsworks"

    #: Flow upload chunk size; Hopsworks' SDK uses 10 MiB and the server caps a file at 10,000 chunks.
    upload_chunk_size: int = 10 * 1024 * 1024
    #: How far a server clock may lag ours when looking for an execution a lost request started.
    start_clock_skew: timedelta = timedelta(seconds=2)
    #: Longest pause between two looks at a log that is not ready yet.
    log_poll_max_wait: float = 10.0

    def __init__(
        self,
        hopsworks_conn_id: str = default_conn_name,
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
        # Injected in tests so that waits cost no time.
        self._sleep: Callable[[float], None] = time.sleep
        self._clock: Callable[[], float] = time.monotonic
        self._async_sleep: Callable[[float], Any] = asyncio.sleep

    # ------------------------------------------------------------------ connection form

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The connection form for Airflow versions that read it from the hook (before 3.2)."""
        info = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
        return {
            "hidden_fields": list(info["hidden-fields"]),
            "relabeling": dict(info["relabeling"]),
            "placeholders": dict(info["placeholders"]),
        }

    # ------------------------------------------------------------------ settings and session

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
        conn = await _aget_connection(self.hopsworks_conn_id)
        self._settings = await _asettings_from_connection(
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

    # ------------------------------------------------------------------ sync transport

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
        retryer = retrying(self.retry_policy, what, sleep=self._sleep, logger=self.log)
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
        return _json_body(self._request(method, path, **kwargs), f"{method} {API_PREFIX}{path}")

    # ------------------------------------------------------------------ project

    def _resolve_project(self, *, force: bool = False) -> tuple[int, str]:
        if not force and self._project_id is not None and self._project_name is not None:
            return self._project_id, self._project_name
        settings = self.settings
        if settings.project_name:
            what = f"project {settings.project_name!r}"
            path = f"/project/getProjectInfo/{_seg(settings.project_name)}"
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
        self._project_id, self._project_name = _project_from_info(info, settings)
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

    # ------------------------------------------------------------------ URLs for people

    def job_url(self, job_name: str) -> str:
        """The job's page in the Hopsworks UI."""
        return f"{self.settings.base_url}/p/{self.project_id}/jobs/named/{_seg(job_name)}"

    def execution_url(self, job_name: str, execution_id: int) -> str:
        """The job's executions page, the page Hopsworks' own SDK links an execution to."""
        return f"{self.job_url(job_name)}/executions"

    # ------------------------------------------------------------------ jobs

    def _job_path(self, job_name: str, *rest: str | int) -> str:
        validate_job_name(job_name)
        return self._project_path("jobs", _seg(job_name), *rest)

    def get_job(self, job_name: str) -> dict[str, Any]:
        """The JobDTO. :raises HopsworksNotFoundError: the job does not exist (130009)."""
        return dict(self._request_json("GET", self._job_path(job_name)))

    def _get_job_or_none(self, job_name: str) -> dict[str, Any] | None:
        try:
            return self.get_job(job_name)
        except HopsworksNotFoundError as err:
            if err.error_code in (None, 130009):
                return None
            raise

    def job_exists(self, job_name: str) -> bool:
        return self._get_job_or_none(job_name) is not None

    def list_jobs(
        self,
        *,
        sort_by: str | None = None,
        filter_by: Sequence[str] = (),
        expand: Sequence[str] = (),
        page_size: int = 100,
    ) -> list[dict[str, Any]]:
        """All jobs, fetched ``page_size`` at a time. ``filter_by`` entries look like ``jobtype:PYTHON``."""
        if page_size < 1:
            raise HopsworksConfigError("page_size must be at least 1")
        base: list[tuple[str, Any]] = []
        if sort_by:
            base.append(("sort_by", sort_by))
        base += [("filter_by", f) for f in _as_list(filter_by, "filter_by")]
        base += [("expand", e) for e in _as_list(expand, "expand")]
        jobs: list[dict[str, Any]] = []
        while True:
            params = [("offset", len(jobs)), ("limit", page_size), *base]
            page = _items(self._request_json("GET", self._project_path("jobs"), params=params))
            jobs.extend(page.items)
            if len(page.items) < page_size or (page.count is not None and len(jobs) >= page.count):
                return jobs

    def get_default_job_config(self, job_type: str) -> dict[str, Any]:
        """The type's default configuration: the system endpoint, else the project-saved one.

        When neither answers (a type the cluster does not enable, an environment that is
        missing) the result is the bare ``{"type": ...}`` and Hopsworks fills in its defaults.
        """
        kind = normalise_job_type(job_type)
        try:
            return dict(self._request_json("GET", self._project_path("jobs", kind.lower(), "configuration")))
        except HopsworksApiError as first:
            try:
                saved = self._request_json("GET", self._project_path("jobconfig", kind))
            except HopsworksApiError:
                self.log.warning(
                    "No default configuration for %s jobs (%s); starting from an empty one", kind, first
                )
                return {"type": CONFIG_TYPES[kind]}
            return dict(saved.get("config") or {}) if isinstance(saved, Mapping) else {}

    def build_job_config(
        self,
        job_name: str,
        job_type: str,
        *,
        app_path: str | None = None,
        main_class: str | None = None,
        default_args: str | None = None,
        environment_name: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The configuration a new job would get: validated first, then the type's default plus ours."""
        request = JobConfigRequest.create(
            job_name,
            job_type,
            app_path=app_path,
            main_class=main_class,
            default_args=default_args,
            environment_name=environment_name,
            config=config,
        )
        return request.build(self.get_default_job_config(request.job_type), self.project_name)

    def create_or_update_job(
        self,
        job_name: str,
        job_type: str,
        *,
        app_path: str | None = None,
        main_class: str | None = None,
        default_args: str | None = None,
        environment_name: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> JobUpsertResult:
        """Make the job look like this; PUT only when something the caller controls differs."""
        request = JobConfigRequest.create(
            job_name,
            job_type,
            app_path=app_path,
            main_class=main_class,
            default_args=default_args,
            environment_name=environment_name,
            config=config,
        )
        existing = self._get_job_or_none(job_name)
        wanted = request.controlled(self.project_name)
        if existing is None:
            body = request.build(self.get_default_job_config(request.job_type), self.project_name)
            changes = diff_config({}, wanted)
        else:
            current = dict(existing.get("config") or {})
            changes = diff_config(current, wanted)
            if not changes and str(existing.get("jobType") or request.job_type).upper() == request.job_type:
                return JobUpsertResult("unchanged", existing, {})
            if current.get("type") == wanted["type"]:
                body = updated_config(current, wanted, request.job_type)
            else:
                body = request.build(self.get_default_job_config(request.job_type), self.project_name)
        response = self._request("PUT", self._job_path(job_name), json=body)
        job = dict(_json_body(response, f"PUT {API_PREFIX}{self._job_path(job_name)}") or {})
        action: Literal["created", "updated"] = "created" if response.status_code == 201 else "updated"
        self.log.info("Hopsworks job %s %s (%d setting(s) changed)", job_name, action, len(changes))
        return JobUpsertResult(action, job, changes)

    def delete_job(self, job_name: str) -> None:
        """Delete the job and its executions. :raises HopsworksNotFoundError: no such job."""
        self._request("DELETE", self._job_path(job_name))

    # ------------------------------------------------------------------ executions

    def start_execution(self, job_name: str, args: str | Sequence[str] | None = None) -> dict[str, Any]:
        """Start one execution; ``args`` as one string, or a list that is shell-quoted into one.

        Starting is not idempotent. After an ambiguous failure (timeout, dropped connection,
        5xx) the next attempt first looks for an execution that the lost request created
        (submitted since the first attempt began, same args) and returns it instead of
        starting a second one.
        """
        path = self._job_path(job_name, "executions")
        body = _args_string(args)
        what = f"POST {API_PREFIX}{path}"
        first_attempt_at: datetime | None = None
        ambiguous = False

        def attempt() -> dict[str, Any]:
            nonlocal first_attempt_at, ambiguous
            if ambiguous and first_attempt_at is not None:
                found = self._find_lost_execution(job_name, body, first_attempt_at - self.start_clock_skew)
                if found is not None:
                    self.log.warning(
                        "The start request for job %s was interrupted, but it had started execution %s; "
                        "using that one instead of starting another",
                        job_name,
                        found.get("id"),
                    )
                    return found
            if first_attempt_at is None:
                first_attempt_at = datetime.now(timezone.utc)
            try:
                response = self._send(
                    "POST",
                    path,
                    data=body.encode("utf-8"),
                    headers={"Content-Type": "text/plain; charset=utf-8"},
                )
            except BaseException as exc:
                ambiguous = ambiguous or is_ambiguous(exc)
                raise
            return dict(_json_body(response, what) or {})

        retryer = retrying(self.retry_policy, what, sleep=self._sleep, logger=self.log)
        execution: dict[str, Any] = retryer(attempt)
        self.log.info("Started execution %s of Hopsworks job %s", execution.get("id"), job_name)
        return execution

    def _find_lost_execution(self, job_name: str, args: str, since: datetime) -> dict[str, Any] | None:
        """The oldest recent execution submitted at or after ``since`` with these args."""
        recent = self.list_executions(job_name, sort_by="submissiontime:desc", limit=20)
        candidates = []
        for execution in recent:
            submitted = _safe_timestamp(execution.get("submissionTime"))
            if submitted is not None and submitted >= since:
                candidates.append((submitted, int(execution.get("id") or 0), execution))
        if not candidates:
            return None
        accepted = {args.strip()}
        if not args.strip() and any(str(c[2].get("args") or "").strip() for c in candidates):
            # An empty body runs with the job's defaultArgs, which then show up as the args.
            job = self._get_job_or_none(job_name) or {}
            accepted.add(str((job.get("config") or {}).get("defaultArgs") or "").strip())
        matching = [c for c in candidates if str(c[2].get("args") or "").strip() in accepted]
        if not matching:
            return None
        return min(matching, key=lambda c: (c[0], c[1]))[2]

    def get_execution(self, job_name: str, execution_id: int) -> dict[str, Any]:
        """The ExecutionDTO. :raises HopsworksNotFoundError: unknown execution (130007)."""
        return dict(self._request_json("GET", self._job_path(job_name, "executions", int(execution_id))))

    def list_executions(
        self,
        job_name: str,
        *,
        sort_by: str = "submissiontime:desc",
        filter_by: Sequence[str] = (),
        offset: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Executions of a job, newest first by default (Hopsworks' order is undefined without a sort)."""
        params: list[tuple[str, Any]] = []
        if sort_by:
            params.append(("sort_by", sort_by))
        params += [("filter_by", f) for f in _as_list(filter_by, "filter_by")]
        if offset is not None:
            params.append(("offset", int(offset)))
        if limit is not None:
            params.append(("limit", int(limit)))
        return _items(self._request_json("GET", self._job_path(job_name, "executions"), params=params)).items

    def get_latest_execution(self, job_name: str) -> dict[str, Any] | None:
        executions = self.list_executions(job_name, sort_by="submissiontime:desc", limit=1)
        return executions[0] if executions else None

    def stop_execution(self, job_name: str, execution_id: int) -> dict[str, Any]:
        """Ask Hopsworks to stop the execution (202); it reaches KILLED asynchronously."""
        path = self._job_path(job_name, "executions", int(execution_id), "status")
        result = self._request_json("PUT", path, json={"state": "stopped"})
        if isinstance(result, Mapping) and result:
            return dict(result)
        return self.get_execution(job_name, execution_id)

    def delete_execution(self, job_name: str, execution_id: int) -> None:
        self._request("DELETE", self._job_path(job_name, "executions", int(execution_id)))

    # ------------------------------------------------------------------ logs

    def iter_execution_log(
        self,
        job_name: str,
        execution_id: int,
        log_type: Literal["out", "err"] = "out",
        *,
        wait_timeout: float = 60.0,
    ) -> Iterator[str]:
        """Lines of a finished execution's stdout or stderr, without trailing newlines.

        Waits up to ``wait_timeout`` seconds while Hopsworks says the job is still running
        (400/130010) or the log has not been aggregated yet. A log over Hopsworks' 1 MB
        inline limit is streamed from the dataset API in chunks.

        :raises HopsworksLogUnavailableError: still no log after ``wait_timeout``.
        """
        kind = str(log_type).lower()
        if kind not in ("out", "err"):
            raise HopsworksConfigError(f"log_type must be 'out' or 'err', got {log_type!r}")
        if wait_timeout < 0:
            raise HopsworksConfigError("wait_timeout must not be negative")
        path = self._job_path(job_name, "executions", int(execution_id), "log", kind)
        return self._iter_log(job_name, int(execution_id), kind, path, wait_timeout)

    def _iter_log(
        self, job_name: str, execution_id: int, kind: str, path: str, wait_timeout: float
    ) -> Iterator[str]:
        dto = self._wait_for_log(job_name, execution_id, kind, path, wait_timeout)
        text = str(dto.get("log") or "")
        if text.startswith(LOG_TOO_BIG_PREFIX):
            file_path = dto.get("path")
            if not file_path:
                execution = self.get_execution(job_name, execution_id)
                file_path = execution.get("stdoutPath" if kind == "out" else "stderrPath")
            if not file_path:
                raise HopsworksLogUnavailableError(
                    f"The {kind} log of execution {execution_id} of job {job_name} is too big to show inline "
                    "and Hopsworks did not say where the file is"
                )
            yield from iter_text_lines(self.download(str(file_path)))
            return
        if text == LOG_EMPTY_TEXT:
            return
        yield from split_text_lines(text)

    def _wait_for_log(
        self, job_name: str, execution_id: int, kind: str, path: str, wait_timeout: float
    ) -> dict[str, Any]:
        def fetch() -> dict[str, Any]:
            try:
                dto = self._request_json("GET", path)
            except HopsworksApiError as err:
                if err.error_code == 130010:
                    raise _LogNotReady("the execution is still running") from err
                raise
            if not isinstance(dto, Mapping) or dto.get("log") is None:
                raise _LogNotReady("log aggregation has not finished")
            if str(dto["log"]).startswith(LOG_NOT_YET_PREFIX):
                raise _LogNotReady("log aggregation has not finished")
            return dict(dto)

        deadline = self._clock() + wait_timeout

        def past_deadline(retry_state: RetryCallState) -> bool:
            return self._clock() + retry_state.upcoming_sleep > deadline

        waiter = Retrying(
            retry=retry_if_exception_type(_LogNotReady),
            wait=wait_exponential(multiplier=1, min=1, max=self.log_poll_max_wait),
            stop=past_deadline,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            result: dict[str, Any] = waiter(fetch)
        except _LogNotReady as err:
            raise HopsworksLogUnavailableError(
                f"The {kind} log of execution {execution_id} of job {job_name} is not available "
                f"after waiting {wait_timeout:g} s: {err}"
            ) from err
        return result

    # ------------------------------------------------------------------ datasets

    def _dataset_relative(self, path: str) -> str:
        """``/Projects/<p>/Resources/x`` or ``hdfs:///Projects/<p>/...`` -> ``Resources/x``."""
        value = str(path).strip()
        if value.startswith("hdfs://"):
            value = value[len("hdfs://") :]
            value = value[value.index("/") :] if "/" in value else ""
        prefix = f"/Projects/{self.project_name}/"
        if value.startswith(prefix):
            value = value[len(prefix) :]
        elif value.rstrip("/") == prefix.rstrip("/"):
            value = ""
        return value.strip("/") if not value.startswith("/Projects/") else value.rstrip("/")

    def _dataset_path(self, *segments: str) -> str:
        return self._project_path("dataset", *segments)

    def stat(self, path: str) -> dict[str, Any] | None:
        """The file's or directory's inode DTO (``attributes.size`` …), or None when it does not exist."""
        relative = self._dataset_relative(path)
        try:
            return dict(
                self._request_json("GET", self._dataset_path(_seg(relative)), params=[("action", "stat")])
            )
        except HopsworksNotFoundError:
            return None
        except HopsworksApiError as err:
            text = f"{err.error_msg or ''} {err.usr_msg or ''}".lower()
            if err.status_code == 400 and ("not found" in text or "not exist" in text):
                return None
            raise

    def mkdir(self, path: str) -> None:
        """Create a directory (and missing parents); an existing one is fine."""
        relative = self._dataset_relative(path)
        if not relative:
            raise HopsworksConfigError("mkdir needs a path inside a dataset, e.g. Resources/jobs")
        if self.stat(relative) is not None:
            return
        parent = relative.rsplit("/", 1)[0] if "/" in relative.strip("/") else ""
        if parent and parent != "/Projects" and self.stat(parent) is None:
            self.mkdir(parent)
        params = [
            ("action", "create"),
            ("searchable", "true"),
            ("generate_readme", "false"),
            ("type", "DATASET"),
        ]
        self._request("POST", self._dataset_path(_seg(relative)), params=params)

    def delete_path(self, path: str) -> None:
        """Delete a file or directory. :raises HopsworksNotFoundError: nothing there."""
        relative = self._dataset_relative(path)
        if not relative:
            raise HopsworksConfigError("Refusing to delete the project root")
        self._request("DELETE", self._dataset_path(_seg(relative)))

    def download(self, path: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream a file's bytes in chunks of at most ``chunk_size``; nothing is buffered whole."""
        if chunk_size < 1:
            raise HopsworksConfigError("chunk_size must be at least 1")
        relative = self._dataset_relative(path)
        if not relative:
            raise HopsworksConfigError("download needs a file path")
        api_path = self._dataset_path("download", "with_auth", _seg(relative))
        return self._iter_download(api_path, chunk_size)

    def _iter_download(self, api_path: str, chunk_size: int) -> Iterator[bytes]:
        response = self._request("GET", api_path, params=[("type", "DATASET")], stream=True)
        try:
            yield from response.iter_content(chunk_size)
        except requests.RequestException as err:
            raise HopsworksApiUnavailableError(
                f"Download of {API_PREFIX}{api_path} was interrupted: {type(err).__name__}"
            ) from err
        finally:
            response.close()

    def upload_file(
        self, local_path: str | os.PathLike[str], remote_dir: str, *, overwrite: bool = False
    ) -> str:
        """Upload one file into ``remote_dir`` with Hopsworks' chunked flow protocol.

        Chunks go one after another, the first one first (it creates the file on the
        server); the directory is created when missing. Returns the project-relative path
        of the uploaded file, e.g. ``Resources/jobs/etl/script.py``.
        """
        local = Path(local_path)
        if not local.is_file():
            raise HopsworksConfigError(f"Cannot upload {str(local)!r}: no such file")
        directory = self._dataset_relative(remote_dir)
        if not directory:
            raise HopsworksConfigError(
                "remote_dir must be a directory inside a dataset, e.g. Resources/jobs/etl"
            )
        name = local.name
        target = f"{directory}/{name}"
        if self.stat(directory) is None:
            self.mkdir(directory)
        if overwrite and self.stat(target) is not None:
            self.delete_path(target)
        size = local.stat().st_size
        chunk_size = int(self.upload_chunk_size)
        # flow.js sends an empty file as one empty chunk; so do we.
        total_chunks = max(1, math.ceil(size / chunk_size))
        fields: dict[str, Any] = {
            "templateId": -1,
            "flowChunkSize": chunk_size,
            "flowTotalSize": size,
            "flowIdentifier": f"{size}_{name}",
            "flowFilename": name,
            "flowRelativePath": name,
            "flowTotalChunks": total_chunks,
        }
        upload_path = self._dataset_path("upload", _seg(directory))
        with local.open("rb") as handle:
            for number in range(1, total_chunks + 1):
                chunk = handle.read(chunk_size)
                form = {**fields, "flowChunkNumber": number, "flowCurrentChunkSize": len(chunk)}
                try:
                    self._request(
                        "POST",
                        upload_path,
                        data=form,
                        files={"file": (name, chunk, "application/octet-stream")},
                    )
                except HopsworksApiError as err:
                    if err.error_code == 110012:
                        raise HopsworksApiError(
                            f"Cannot upload {name}: {target} already exists in project {self.project_name}; "
                            "pass overwrite=True to replace it",
                            status_code=err.status_code,
                            error_code=err.error_code,
                            error_msg=err.error_msg,
                            usr_msg=err.usr_msg,
                        ) from err
                    raise
        self.log.info("Uploaded %s (%d bytes) to %s", local, size, target)
        return target

    # ------------------------------------------------------------------ v2 schedules

    def get_schedule(self, job_name: str) -> dict[str, Any] | None:
        """The job's v2 (cron) schedule, or None when it has none (404/130042)."""
        try:
            return dict(self._request_json("GET", self._job_path(job_name, "schedule", "v2")))
        except HopsworksNotFoundError as err:
            if err.error_code == 130042:
                return None
            raise

    def create_or_update_schedule(
        self,
        job_name: str,
        cron_expression: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        enabled: bool = True,
    ) -> dict[str, Any]:
        """Set the job's Quartz cron schedule: POST a new one, or PUT over the existing one (by id).

        Naive datetimes are taken as UTC. Without ``start`` a new schedule starts now and an
        existing one keeps its start.
        """
        cron = normalise_quartz_cron(cron_expression)
        validate_job_name(job_name)
        if start is not None and end is not None and to_epoch_ms(end) <= to_epoch_ms(start):
            raise HopsworksConfigError("The schedule's end must be after its start")
        body: dict[str, Any] = {"cronExpression": cron, "enabled": bool(enabled)}
        if end is not None:
            body["endDateTime"] = to_epoch_ms(end)
        existing = self.get_schedule(job_name)
        path = self._job_path(job_name, "schedule", "v2")
        if existing is None:
            body["startDateTime"] = to_epoch_ms(start or datetime.now(timezone.utc))
            return dict(self._request_json("POST", path, json=body))
        body["id"] = existing["id"]
        if start is not None:
            body["startDateTime"] = to_epoch_ms(start)
        elif existing.get("startDateTime") is not None:
            body["startDateTime"] = existing["startDateTime"]
        return dict(self._request_json("PUT", path, json=body))

    def set_schedule_enabled(self, job_name: str, enabled: bool) -> dict[str, Any]:
        """Pause or resume the job's schedule. :raises HopsworksNotFoundError: it has none."""
        existing = self.get_schedule(job_name)
        if existing is None:
            raise HopsworksNotFoundError(
                f"Hopsworks job {job_name} has no schedule to {'enable' if enabled else 'disable'}",
                status_code=404,
                error_code=130042,
            )
        body = {
            key: existing[key]
            for key in ("id", "cronExpression", "startDateTime", "endDateTime")
            if existing.get(key) is not None
        }
        body["enabled"] = bool(enabled)
        return dict(self._request_json("PUT", self._job_path(job_name, "schedule", "v2"), json=body))

    def delete_schedule(self, job_name: str) -> None:
        """Remove the job's v2 schedule. :raises HopsworksNotFoundError: it has none."""
        self._request("DELETE", self._job_path(job_name, "schedule", "v2"))

    # ------------------------------------------------------------------ async (triggers)

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
            return _parse_json(await response.read(), what)

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
        retryer = async_retrying(settings.retry_policy, what, sleep=self._async_sleep, logger=self.log)
        return await retryer(self._asend, session, settings, method, path, params=params, json=json)

    async def _aproject_id(self) -> int:
        settings = await self._aget_settings()
        if self._project_id is None:
            if settings.project_id is not None:
                self._project_id = settings.project_id
                self._project_name = settings.project_name or self._project_name
            else:
                info = await self._arequest(
                    "GET", f"/project/getProjectInfo/{_seg(settings.project_name or '')}"
                )
                self._project_id, self._project_name = _project_from_info(info, settings)
        return self._project_id

    async def _ajob_path(self, job_name: str, *rest: str | int) -> str:
        validate_job_name(job_name)
        project_id = await self._aproject_id()
        return f"/project/{project_id}/jobs/{_seg(job_name)}" + "".join(f"/{s}" for s in rest)

    async def async_get_execution(self, job_name: str, execution_id: int) -> dict[str, Any]:
        path = await self._ajob_path(job_name, "executions", int(execution_id))
        return dict(await self._arequest("GET", path))

    async def async_get_latest_execution(self, job_name: str) -> dict[str, Any] | None:
        path = await self._ajob_path(job_name, "executions")
        data = await self._arequest("GET", path, params=[("sort_by", "submissiontime:desc"), ("limit", 1)])
        items = _items(data).items
        return items[0] if items else None

    async def async_stop_execution(self, job_name: str, execution_id: int) -> dict[str, Any]:
        path = await self._ajob_path(job_name, "executions", int(execution_id), "status")
        result = await self._arequest("PUT", path, json={"state": "stopped"})
        if isinstance(result, Mapping) and result:
            return dict(result)
        return await self.async_get_execution(job_name, execution_id)


# ---------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _Page:
    items: list[dict[str, Any]]
    count: int | None


def _items(data: Any) -> _Page:
    """A Hopsworks collection; an empty one comes without ``items`` at all."""
    if not isinstance(data, Mapping):
        return _Page([], None)
    items = data.get("items") or []
    count = data.get("count")
    return _Page([dict(i) for i in items], int(count) if isinstance(count, (int, float)) else None)


def _as_list(values: Sequence[str] | str, name: str) -> list[str]:
    if isinstance(values, str):
        return [values] if values else []
    if not all(isinstance(v, str) for v in values):
        raise HopsworksConfigError(f"{name} entries must be strings")
    return list(values)


def _parse_json(body: bytes, what: str) -> Any:
    if not body or not body.strip():
        return None
    import json

    try:
        return json.loads(body)
    except ValueError as err:
        raise HopsworksApiError(f"Hopsworks answered {what} with a body that is not JSON") from err


def _json_body(response: requests.Response, what: str) -> Any:
    return _parse_json(response.content, what)


def _safe_timestamp(value: Any) -> datetime | None:
    try:
        return parse_timestamp(value)
    except (TypeError, ValueError):
        return None


def _project_from_info(info: Any, settings: HopsworksConnectionSettings) -> tuple[int, str]:
    raw_id = info.get("projectId", info.get("id")) if isinstance(info, Mapping) else None
    if raw_id is None:
        raise HopsworksApiError("Hopsworks' project information has no projectId")
    project_id = int(raw_id)
    name = info.get("projectName") or info.get("name") or settings.project_name or str(project_id)
    return project_id, str(name)


async def _aget_connection(conn_id: str) -> Any:
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


async def _asettings_from_connection(
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
