"""Execution logs: waited for within a bound, streamed when too big to come inline."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from airflow_provider_hopsjobs.errors import (
    HopsworksApiError,
    HopsworksConfigError,
    HopsworksLogUnavailableError,
)
from airflow_provider_hopsjobs.hooks.datasets import DatasetsMixin
from airflow_provider_hopsjobs.hooks.executions import ExecutionsMixin
from airflow_provider_hopsjobs.hooks.lines import iter_text_lines, split_text_lines
from airflow_provider_hopsjobs.hooks.retry_policy import NotReady, poll_until_ready

#: Hopsworks' replacement text for an inline log over 1,000,000 bytes.
LOG_TOO_BIG_PREFIX = "Log is too big to display"
#: Python jobs' text while log aggregation has not finished.
LOG_NOT_YET_PREFIX = "No log available"
#: The inline text for an empty log file.
LOG_EMPTY_TEXT = "No information."


class LogsMixin(ExecutionsMixin, DatasetsMixin):
    """The logs part of :class:`~.hopsworks.HopsworksHook`."""

    #: First pause before another look at a log that is not ready yet; it doubles each time.
    #: Short, because a finished job's log usually arrives within a second and the task
    #: (and every task after it) waits for it.
    log_poll_first_wait: float = 0.25
    #: Longest pause between two looks at a log that is not ready yet.
    log_poll_max_wait: float = 10.0

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
                file_path = execution.stdout_path if kind == "out" else execution.stderr_path
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
        def look() -> dict[str, Any]:
            try:
                dto = self._request_json("GET", path)
            except HopsworksApiError as err:
                if err.error_code == 130010:
                    raise NotReady("the execution is still running") from err
                raise
            if not isinstance(dto, Mapping) or dto.get("log") is None:
                raise NotReady("log aggregation has not finished")
            if str(dto["log"]).startswith(LOG_NOT_YET_PREFIX):
                raise NotReady("log aggregation has not finished")
            return dict(dto)

        try:
            return poll_until_ready(
                look,
                timeout=wait_timeout,
                first_wait=self.log_poll_first_wait,
                max_wait=self.log_poll_max_wait,
                clock=self.clock,
            )
        except NotReady as err:
            raise HopsworksLogUnavailableError(
                f"The {kind} log of execution {execution_id} of job {job_name} is not available "
                f"after waiting {wait_timeout:g} s: {err}"
            ) from err
