"""Executions: start without duplicates, read, list, stop, delete; async reads for triggers."""

from __future__ import annotations

import shlex
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.hooks.base import HopsworksBaseHook
from airflow_provider_hopsjobs.hooks.retry_policy import call_not_idempotent
from airflow_provider_hopsjobs.hooks.timestamps import parse_timestamp
from airflow_provider_hopsjobs.hooks.wire import call_name, collection, json_body, string_list


def args_string(args: str | Sequence[str] | None) -> str:
    """The text/plain body: a string as is, a list shell-quoted into one string."""
    if args is None:
        return ""
    if isinstance(args, str):
        return args
    if not all(isinstance(a, str) for a in args):
        raise HopsworksConfigError("Execution args must be a string or a sequence of strings")
    return shlex.join(args)


def _safe_timestamp(value: Any) -> datetime | None:
    try:
        return parse_timestamp(value)
    except (TypeError, ValueError):
        return None


class ExecutionsMixin(HopsworksBaseHook):
    """The executions part of :class:`~.hopsworks.HopsworksHook`."""

    def start_execution(
        self, job_name: str, args: str | Sequence[str] | None = None, *, known_ids: Collection[int] = ()
    ) -> dict[str, Any]:
        """Start one execution; ``args`` as one string, or a list that is shell-quoted into one.

        Starting is not idempotent. Before the first attempt the hook notes the job's newest
        execution id; after an ambiguous failure (timeout, dropped connection, 5xx) the next
        attempt first looks for an execution the lost request created (a newer id, same
        args) and returns it instead of starting a second one. Ids rather than submission
        times decide, so a server clock that runs ahead of ours cannot make an older
        execution look new. ``known_ids`` are executions an earlier task try started: they
        are never taken for the lost one either.
        """
        path = self._job_path(job_name, "executions")
        body = args_string(args)
        what = call_name("POST", path)
        baseline_id = self._newest_execution_id(job_name)

        def send() -> dict[str, Any]:
            response = self._send(
                "POST", path, data=body.encode("utf-8"), headers={"Content-Type": "text/plain; charset=utf-8"}
            )
            return dict(json_body(response, what) or {})

        def recover() -> dict[str, Any] | None:
            found = self._find_lost_execution(job_name, body, baseline_id, known_ids)
            if found is not None:
                self.log.warning(
                    "The start request for job %s was interrupted, but it had started execution %s; "
                    "using that one instead of starting another",
                    job_name,
                    found.get("id"),
                )
            return found

        execution = call_not_idempotent(
            self.retry_policy, what, send, recover, sleep=self.clock.sleep, logger=self.log
        )
        self.log.info("Started execution %s of Hopsworks job %s", execution.get("id"), job_name)
        return execution

    def _newest_execution_id(self, job_name: str) -> int:
        """The highest execution id the job has now (0 for none); its own retries apply."""
        newest = self.list_executions(job_name, sort_by="id:desc", limit=1)
        return int(newest[0].get("id") or 0) if newest else 0

    def _find_lost_execution(
        self, job_name: str, args: str, baseline_id: int, known_ids: Collection[int] = ()
    ) -> dict[str, Any] | None:
        """The oldest execution newer than ``baseline_id`` with these args, if any."""
        recent = self.list_executions(job_name, sort_by="id:desc", limit=20)
        known = {int(i) for i in known_ids}
        candidates = [
            execution
            for execution in recent
            if int(execution.get("id") or 0) > baseline_id and int(execution.get("id") or 0) not in known
        ]
        if not candidates:
            return None
        accepted = {args.strip()}
        if not args.strip() and any(str(c.get("args") or "").strip() for c in candidates):
            # An empty body runs with the job's defaultArgs, which then show up as the args.
            job = self._get_job_or_none(job_name) or {}
            accepted.add(str((job.get("config") or {}).get("defaultArgs") or "").strip())
        matching = [c for c in candidates if str(c.get("args") or "").strip() in accepted]
        if not matching:
            return None
        return min(matching, key=lambda c: int(c.get("id") or 0))

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
        params += [("filter_by", f) for f in string_list(filter_by, "filter_by")]
        if offset is not None:
            params.append(("offset", int(offset)))
        if limit is not None:
            params.append(("limit", int(limit)))
        return collection(
            self._request_json("GET", self._job_path(job_name, "executions"), params=params)
        ).items

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

    # async counterparts, for triggers

    async def async_get_execution(self, job_name: str, execution_id: int) -> dict[str, Any]:
        path = await self._ajob_path(job_name, "executions", int(execution_id))
        return dict(await self._arequest("GET", path))

    async def async_get_latest_execution(self, job_name: str) -> dict[str, Any] | None:
        path = await self._ajob_path(job_name, "executions")
        data = await self._arequest("GET", path, params=[("sort_by", "submissiontime:desc"), ("limit", 1)])
        items = collection(data).items
        return items[0] if items else None

    async def async_stop_execution(self, job_name: str, execution_id: int) -> dict[str, Any]:
        path = await self._ajob_path(job_name, "executions", int(execution_id), "status")
        result = await self._arequest("PUT", path, json={"state": "stopped"})
        if isinstance(result, Mapping) and result:
            return dict(result)
        return await self.async_get_execution(job_name, execution_id)
