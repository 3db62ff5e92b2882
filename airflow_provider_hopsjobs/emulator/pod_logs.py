"""``GET .../executions/{id}/pod-logs``: the live tail of a running execution (Hopsworks 5.1+).

Follows the official SDK (``core/execution_api._get_pod_logs``, ``core/execution_pod_log``):
``?lines=&limitBytes=&tableIndex=`` answers ``{status, available, message, log, podName,
containerName}``, ``status`` one of ``AVAILABLE``, ``WAITING_FOR_POD``,
``MULTIPLE_ACTIVE_PODS``, ``UNSUPPORTED_WORKLOAD``, ``LOGS_UNAVAILABLE``. It is a tail of the
pod, like ``kubectl logs --tail``: the last ``lines`` lines, then at most ``limitBytes``
bytes of them from their start, not a stream with offsets.

Here the "pod" of a Python execution is its process: ``AVAILABLE`` with the tail of its
stdout while it runs, ``WAITING_FOR_POD`` before that (``INITIALIZING``),
``LOGS_UNAVAILABLE`` once it ended (read the archived log instead). The simulated types
(Spark, Ray, Docker, ...) are ``UNSUPPORTED_WORKLOAD``. Without ``lines`` the last
:data:`DEFAULT_LINES` lines are served (the server's own default is not documented).
Emulators of releases before 5.1 do not register the route at all, so it is Hopsworks'
plain 404.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.context import API_PREFIX, ContextResolver
from airflow_provider_hopsjobs.emulator.states import TERMINAL_STATES
from airflow_provider_hopsjobs.emulator.store import Store

DEFAULT_LINES = 1000
#: How far back from the end of the file a tail reads at most.
MAX_READ_BYTES = 8 * 1024 * 1024
CHUNK_BYTES = 64 * 1024


def _positive(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise errors.web_application_error(404) from None  # JAX-RS: an unparsable query param
    if value < 0:
        raise errors.ApiError(422, errors.ILLEGAL_ARGUMENT, f"{name} must not be negative")
    return value


def tail_text(path: Path, lines: int, limit_bytes: int | None) -> str:
    """The last ``lines`` lines of the file, then its first ``limit_bytes`` bytes.

    Read backwards in chunks until enough lines are in: a long-running job's output file
    grows, a tail costs only what it returns.
    """
    if lines <= 0:
        return ""
    with open(path, "rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        data = b""
        position = end
        while position > 0 and data.count(b"\n") <= lines and end - position < MAX_READ_BYTES:
            step = min(CHUNK_BYTES, position)
            position -= step
            handle.seek(position)
            data = handle.read(step) + data
    if position > 0:
        data = data.split(b"\n", 1)[-1]  # drop the partial first line
    text = b"".join(data.splitlines(keepends=True)[-lines:])
    if limit_bytes is not None:
        text = text[:limit_bytes]
    return text.decode("utf-8", errors="replace")


def _answer(
    status: str, *, log: str | None = None, message: str | None = None, pod: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "available": status == "AVAILABLE"}
    if message is not None:
        body["message"] = message
    if log is not None:
        body["log"] = log
    if pod is not None:
        body["podName"] = pod
        body["containerName"] = "main"
    return body


class PodLogRoutes:
    def __init__(self, *, contexts: ContextResolver, store: Store) -> None:
        self._contexts = contexts
        self._store = store

    def routes(self) -> list[Route]:
        path = f"{API_PREFIX}/project/{{id:int}}/jobs/{{name}}/executions/{{execution_id:int}}/pod-logs"
        return [Route(path, self.pod_logs, methods=["GET"])]

    async def pod_logs(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "JOB")
        job = self._store.get_job(ctx.project_id, request.path_params["name"])
        if job is None:
            raise errors.ApiError(404, errors.JOB_NOT_FOUND, f"jobId:{request.path_params['name']}")
        execution = self._store.get_execution(int(request.path_params["execution_id"]))
        if execution is None or int(execution["job_id"]) != int(job["id"]):
            raise errors.ApiError(
                404, errors.EXECUTION_NOT_FOUND, f"id: {request.path_params['execution_id']}"
            )
        lines = _positive(request, "lines")
        limit_bytes = _positive(request, "limitBytes")
        _positive(request, "tableIndex")
        return JSONResponse(
            self._answer(job, execution, DEFAULT_LINES if lines is None else lines, limit_bytes)
        )

    def _answer(
        self, job: dict[str, Any], execution: dict[str, Any], lines: int, limit: int | None
    ) -> dict[str, Any]:
        pod = f"{job['name'].replace('_', '-')}-{execution['id']}"
        if job.get("job_type") != "PYTHON":
            return _answer(
                "UNSUPPORTED_WORKLOAD", message=f"Live logs are not available for {job.get('job_type')} jobs."
            )
        if execution["state"] in TERMINAL_STATES:
            return _answer("LOGS_UNAVAILABLE", message="The execution has ended; read its archived logs.")
        run_dir = execution.get("run_dir")
        stdout = Path(str(run_dir)) / "stdout.log" if run_dir else None
        if execution["state"] != "RUNNING" or stdout is None or not os.path.isfile(stdout):
            return _answer("WAITING_FOR_POD", message="The execution's pod has not started yet.")
        return _answer("AVAILABLE", log=tail_text(stdout, lines, limit), pod=pod)
