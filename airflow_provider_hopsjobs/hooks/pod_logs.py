"""The live tail of a running execution's pod (Hopsworks 5.1+), sync and async.

``GET .../executions/{id}/pod-logs?lines=`` (the official SDK module ``core/execution_api``,
``_get_pod_logs``). Reading it is a best effort beside a wait, never a reason for the wait
to slow down: one attempt, no retries (the next poll is the retry). A server without the
route (before 5.1: Hopsworks' plain 404, not an unknown execution) answers
:data:`~airflow_provider_hopsjobs.live_logs.NOT_SERVED`.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hopsjobs.errors import HopsworksApiError, HopsworksConfigError
from airflow_provider_hopsjobs.hooks import async_session
from airflow_provider_hopsjobs.hooks.base import HopsworksBaseHook
from airflow_provider_hopsjobs.hooks.wire import call_name, json_body
from airflow_provider_hopsjobs.live_logs import NOT_SERVED, PodLog

#: Hopsworks' codes for an unknown execution or job: those 404s are about the execution, not the route.
_MISSING_THING_CODES = frozenset({130007, 130009})


def _params(lines: int | None, limit_bytes: int | None, table_index: int | None) -> list[tuple[str, Any]]:
    params: list[tuple[str, Any]] = []
    for name, value in (("lines", lines), ("limitBytes", limit_bytes), ("tableIndex", table_index)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise HopsworksConfigError(f"{name} must be a non-negative integer, got {value!r}")
            params.append((name, value))
    return params


def _not_served(err: HopsworksApiError) -> bool:
    return err.status_code == 404 and err.error_code not in _MISSING_THING_CODES


class PodLogsMixin(HopsworksBaseHook):
    """The live-log part of :class:`~.hopsworks.HopsworksHook`."""

    def get_pod_logs(
        self,
        job_name: str,
        execution_id: int,
        *,
        lines: int | None = None,
        limit_bytes: int | None = None,
        table_index: int | None = None,
    ) -> PodLog:
        """The tail of the execution's pod log, in one attempt."""
        params = _params(lines, limit_bytes, table_index)
        path = self._job_path(job_name, "executions", int(execution_id), "pod-logs")
        try:
            response = self._send("GET", path, params=params)
        except HopsworksApiError as err:
            if _not_served(err):
                return PodLog(NOT_SERVED)
            raise
        return PodLog.from_dto(json_body(response, call_name("GET", path)) or {})

    async def async_get_pod_logs(
        self,
        job_name: str,
        execution_id: int,
        *,
        lines: int | None = None,
        limit_bytes: int | None = None,
        table_index: int | None = None,
    ) -> PodLog:
        """:meth:`get_pod_logs` for triggers, on the shared aiohttp session."""
        params = _params(lines, limit_bytes, table_index)
        path = await self._ajob_path(job_name, "executions", int(execution_id), "pod-logs")
        settings = await self._aget_settings()
        session = await async_session.get_session(settings)
        try:
            dto = await self._asend(session, settings, "GET", path, params=params, json=None)
        except HopsworksApiError as err:
            if _not_served(err):
                return PodLog(NOT_SERVED)
            raise
        return PodLog.from_dto(dto if isinstance(dto, dict) else {})
