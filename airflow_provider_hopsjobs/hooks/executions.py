"""Executions: start without duplicates, read, list, stop, delete; async reads for triggers.

Every ExecutionDTO Hopsworks answers with becomes an
:class:`~airflow_provider_hopsjobs.execution.Execution` here, read once by
:meth:`Execution.from_dto`; callers pass the job's type when they know it, since it decides
the success rule.
"""

from __future__ import annotations

import shlex
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_hopsjobs.errors import HopsworksApiError, HopsworksConfigError
from airflow_provider_hopsjobs.execution import Execution
from airflow_provider_hopsjobs.hooks.base import HopsworksBaseHook
from airflow_provider_hopsjobs.hooks.retry_policy import call_not_idempotent
from airflow_provider_hopsjobs.hooks.start_request import (
    TEXT_ONLY_SERVERS,
    StartRequest,
    env_vars_checked,
    env_vars_refused,
)
from airflow_provider_hopsjobs.hooks.wire import call_name, collection, json_body, string_list

if TYPE_CHECKING:
    import requests

#: How many of the newest executions the lost-start look-up reads.
LOST_START_WINDOW = 20


def args_string(args: str | Sequence[str] | None) -> str:
    """The text/plain body: a string as is, a list shell-quoted into one string."""
    if args is None:
        return ""
    if isinstance(args, str):
        return args
    if not all(isinstance(a, str) for a in args):
        raise HopsworksConfigError("Execution args must be a string or a sequence of strings")
    return shlex.join(args)


def stopped_execution(answer: Any) -> Mapping[str, Any] | None:
    """The ExecutionDTO a stop request answered with; None when it answered with nothing."""
    return answer if isinstance(answer, Mapping) and answer else None


class ExecutionsMixin(HopsworksBaseHook):
    """The executions part of :class:`~.hopsworks.HopsworksHook`."""

    def start_execution(  # long: its docstring is the contract of a call that must not run twice
        self,
        job_name: str,
        args: str | Sequence[str] | None = None,
        *,
        known_ids: Collection[int] = (),
        job_type: str | None = None,
        env_vars: Mapping[str, str] | None = None,
        logical_date: datetime | None = None,
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
        optional_env_vars: Mapping[str, str] | None = None,
    ) -> Execution:
        """Start one execution; ``args`` as one string, or a list that is shell-quoted into one.

        With ``env_vars`` or any of the dates, the 5.x JSON body is sent (see
        ``hooks.start_request``): the job then sees ``HOPS_START_TIME``/``HOPS_END_TIME`` as
        in a run Hopsworks' scheduler started. A server before 5.0 answers 415 (nothing
        started); the hook then sends text, and remembers that for the connection. Dates
        alone are then dropped with a warning; ``env_vars`` cannot be, and raise
        :class:`~airflow_provider_hopsjobs.errors.HopsworksConfigError` before anything starts.
        ``optional_env_vars`` (the OpenLineage parent run) go with the dates: sent in the JSON
        body, dropped with them by an older server.

        Starting is not idempotent. Before the first attempt the hook notes the job's newest
        execution id; after an ambiguous failure (timeout, dropped connection, 5xx) the next
        attempt first looks for an execution the lost request created (a newer id, same
        args) and returns it instead of starting a second one. Ids rather than submission
        times decide, so a server clock that runs ahead of ours cannot make an older
        execution look new. ``known_ids`` are executions an earlier task try started: they
        are never taken for the lost one either.
        """
        request = StartRequest(
            args_string(args),
            env_vars_checked(env_vars),
            logical_date,
            data_interval_start,
            data_interval_end,
            env_vars_checked(optional_env_vars),
        )
        if request.env_vars and self.hopsworks_conn_id in TEXT_ONLY_SERVERS:
            raise env_vars_refused(self.hopsworks_conn_id, request.env_vars)
        path = self._job_path(job_name, "executions")
        body = request.args
        what = call_name("POST", path)
        baseline_id = self._newest_execution_id(job_name)

        def send() -> Execution:
            response = self._send_start(path, request)
            return Execution.from_dto(json_body(response, what) or {}, job_name=job_name, job_type=job_type)

        def recover() -> Execution | None:
            found = self._find_lost_execution(job_name, body, baseline_id, known_ids, job_type=job_type)
            if found is not None:
                self.log.warning(
                    "The start request for job %s was interrupted, but it had started execution %s; "
                    "using that one instead of starting another",
                    job_name,
                    found.id,
                )
            return found

        execution = call_not_idempotent(
            self.retry_policy, what, send, recover, sleep=self.clock.sleep, logger=self.log
        )
        # The task that asked says so in its own log ("Started execution ..."); once is enough.
        self.log.debug("Started execution %s of Hopsworks job %s", execution.id, job_name)
        return execution

    def _send_start(self, path: str, request: StartRequest) -> requests.Response:
        """POST the JSON body when it is needed and the server takes it, else the text body."""
        conn_id = self.hopsworks_conn_id
        if request.needs_json and conn_id not in TEXT_ONLY_SERVERS:
            try:
                return self._send("POST", path, json=request.json_body())
            except HopsworksApiError as err:
                if err.status_code != 415:
                    raise
            # 415: the server predates the JSON start, and started nothing; text is safe to send.
            TEXT_ONLY_SERVERS.add(conn_id)
            if request.env_vars:
                raise env_vars_refused(conn_id, request.env_vars)
            self.log.warning(
                "The Hopsworks server of connection %r is older than 5.0 (415 to the JSON start): "
                "the run's dates (and an OpenLineage parent) cannot reach the job as environment variables; "
                "sending args only.",
                conn_id,
            )
        return self._send(
            "POST",
            path,
            data=request.args.encode("utf-8"),
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )

    def _newest_execution_id(self, job_name: str) -> int:
        """The highest execution id the job has now (0 for none); its own retries apply."""
        newest = self.list_executions(job_name, sort_by="id:desc", limit=1)
        return newest[0].id if newest else 0

    def _find_lost_execution(
        self,
        job_name: str,
        args: str,
        baseline_id: int,
        known_ids: Collection[int] = (),
        *,
        job_type: str | None = None,
    ) -> Execution | None:
        """The oldest execution newer than ``baseline_id`` with these args, if any."""
        recent = self.list_executions(job_name, sort_by="id:desc", limit=LOST_START_WINDOW, job_type=job_type)
        known = {int(i) for i in known_ids}
        candidates = [e for e in recent if e.id > baseline_id and e.id not in known]
        if not candidates:
            return None
        accepted = {args.strip()}
        if not args.strip() and any((c.args or "").strip() for c in candidates):
            # An empty body runs with the job's defaultArgs, which then show up as the args.
            job = self._get_job_or_none(job_name) or {}
            accepted.add(str((job.get("config") or {}).get("defaultArgs") or "").strip())
        matching = [c for c in candidates if (c.args or "").strip() in accepted]
        return min(matching, key=lambda c: c.id) if matching else None

    def get_execution(self, job_name: str, execution_id: int, *, job_type: str | None = None) -> Execution:
        """The execution. :raises HopsworksNotFoundError: unknown execution (130007)."""
        dto = self._request_json("GET", self._job_path(job_name, "executions", int(execution_id)))
        return Execution.from_dto(dict(dto), job_name=job_name, job_type=job_type)

    def list_executions(
        self,
        job_name: str,
        *,
        sort_by: str = "submissiontime:desc",
        filter_by: Sequence[str] = (),
        offset: int | None = None,
        limit: int | None = None,
        job_type: str | None = None,
    ) -> list[Execution]:
        """Executions of a job, newest first by default (Hopsworks' order is undefined without a sort)."""
        params: list[tuple[str, Any]] = []
        if sort_by:
            params.append(("sort_by", sort_by))
        params += [("filter_by", f) for f in string_list(filter_by, "filter_by")]
        if offset is not None:
            params.append(("offset", int(offset)))
        if limit is not None:
            params.append(("limit", int(limit)))
        page = collection(self._request_json("GET", self._job_path(job_name, "executions"), params=params))
        return [Execution.from_dto(dto, job_name=job_name, job_type=job_type) for dto in page.items]

    def get_latest_execution(self, job_name: str, *, job_type: str | None = None) -> Execution | None:
        """The most recently submitted execution, or None when the job has none."""
        executions = self.list_executions(job_name, sort_by="submissiontime:desc", limit=1, job_type=job_type)
        return executions[0] if executions else None

    def stop_execution(self, job_name: str, execution_id: int, *, job_type: str | None = None) -> Execution:
        """Ask Hopsworks to stop the execution (202); it reaches KILLED asynchronously."""
        path = self._job_path(job_name, "executions", int(execution_id), "status")
        dto = stopped_execution(self._request_json("PUT", path, json={"state": "stopped"}))
        if dto is not None:
            return Execution.from_dto(dto, job_name=job_name, job_type=job_type)
        return self.get_execution(job_name, execution_id, job_type=job_type)

    def delete_execution(self, job_name: str, execution_id: int) -> None:
        self._request("DELETE", self._job_path(job_name, "executions", int(execution_id)))

    # async counterparts, for triggers

    async def async_get_execution(
        self, job_name: str, execution_id: int, *, job_type: str | None = None
    ) -> Execution:
        path = await self._ajob_path(job_name, "executions", int(execution_id))
        return Execution.from_dto(
            dict(await self._arequest("GET", path)), job_name=job_name, job_type=job_type
        )

    async def async_stop_execution(
        self, job_name: str, execution_id: int, *, job_type: str | None = None
    ) -> Execution:
        path = await self._ajob_path(job_name, "executions", int(execution_id), "status")
        dto = stopped_execution(await self._arequest("PUT", path, json={"state": "stopped"}))
        if dto is not None:
            return Execution.from_dto(dto, job_name=job_name, job_type=job_type)
        return await self.async_get_execution(job_name, execution_id, job_type=job_type)
