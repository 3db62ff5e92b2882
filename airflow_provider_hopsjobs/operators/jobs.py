"""Operators that create, run, stop and delete Hopsworks jobs.

:class:`HopsworksRunJobOperator` is the centre: it starts an execution (or reattaches to
the one an earlier try started, see :mod:`airflow_provider_hopsjobs.operators.reattach`),
publishes its id and URL at once, waits for it synchronously or in the triggerer, copies
its logs into the task log and turns the outcome into a return value or a precise error.
Both ways of waiting end in the same completion code, fed the same event, so they time
out, stop, log and fail identically.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from airflow.sdk import BaseOperator

from airflow_provider_hopsjobs.errors import (
    HopsworksApiUnavailableError,
    HopsworksConfigError,
    HopsworksError,
    HopsworksExecutionKilledError,
    HopsworksJobFailedError,
    HopsworksNotFoundError,
    HopsworksWaitTimeoutError,
)
from airflow_provider_hopsjobs.execution import Outcome
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.hooks.job_config import validate_job_name
from airflow_provider_hopsjobs.job_types import CREATABLE_JOB_TYPES, known_job_type
from airflow_provider_hopsjobs.operators.links import (
    XCOM_EXECUTION_ID,
    XCOM_EXECUTION_URL,
    HopsworksExecutionLink,
)
from airflow_provider_hopsjobs.operators.reattach import SafeMemory, memory_for, new_record
from airflow_provider_hopsjobs.status import is_terminal, outcome_of
from airflow_provider_hopsjobs.task_logs import (
    DEFAULT_TAIL_LINES,
    FetchLogs,
    LogSelection,
    write_execution_logs,
)
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger
from airflow_provider_hopsjobs.waiting import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_TRANSIENT_ERROR_BUDGET,
    ExecutionEvent,
    ExecutionWatch,
    deadline_after,
    earliest_deadline,
    format_deadline,
    terminal_event,
    validate_event,
    wait_for_execution,
)

try:
    from airflow.sdk.configuration import conf
except ImportError:  # pragma: no cover - older Task SDK
    from airflow.configuration import conf  # type: ignore[no-redef]

if TYPE_CHECKING:
    from airflow.sdk import Context

#: ``config.type`` of a JobDTO, for jobs whose DTO carries no ``jobType`` (Spark without main class).
_CONFIG_TYPE_TO_JOB_TYPE: Final[dict[str, str]] = {
    "sparkJobConfiguration": "SPARK",
    "pythonJobConfiguration": "PYTHON",
    "dockerJobConfiguration": "DOCKER",
    "flinkJobConfiguration": "FLINK",
    "rayJobConfiguration": "RAY",
}

#: Non-terminal states, for listing the executions of a job that are still going.
_RUNNING_STATES: Final[tuple[str, ...]] = (
    "INITIALIZING",
    "NEW",
    "NEW_SAVING",
    "SUBMITTED",
    "ACCEPTED",
    "RUNNING",
    "AGGREGATING_LOGS",
    "STARTING_APP_MASTER",
    "GENERATING_SECURITY_MATERIAL",
    "CONVERTING_NOTEBOOK",
)


def _is_templated(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def check_job_name(name: Any) -> None:
    """Refuse a job name Hopsworks would reject, before anything is sent.

    Templated names are checked once rendered, at the start of ``execute``.
    """
    if _is_templated(name):
        return
    validate_job_name(name)


def job_type_of(job: Mapping[str, Any]) -> str | None:
    """The job type of a JobDTO (Spark jobs without a main class carry only ``config.type``)."""
    job_type = job.get("jobType")
    if job_type:
        return str(job_type).upper()
    config = job.get("config")
    config_type = config.get("type") if isinstance(config, Mapping) else None
    return _CONFIG_TYPE_TO_JOB_TYPE.get(str(config_type)) if config_type else None


def _optional_seconds(name: str, value: timedelta | float | None) -> float | None:
    """A non-negative duration in seconds from a number or a timedelta; None stays None."""
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise HopsworksConfigError(f"{name} must be a number of seconds or a timedelta, got {value!r}")
    if seconds < 0:
        raise HopsworksConfigError(f"{name} must not be negative, got {value!r}")
    return float(seconds)


def _seconds(name: str, value: timedelta | float, *, positive: bool = False) -> float:
    seconds = _optional_seconds(name, value)
    if seconds is None:
        raise HopsworksConfigError(f"{name} is required")
    if positive and seconds == 0:
        raise HopsworksConfigError(f"{name} must be greater than 0")
    return seconds


def _check_args(args: Any) -> None:
    """Refuse ``args`` that can never become a command line (XComArgs and templates pass)."""
    if isinstance(args, (Mapping, bytes, set, bool)):
        raise HopsworksConfigError(f"args must be a string or a list of strings, got {type(args).__name__}")


def _normalise_args(args: Any) -> str | list[str] | None:
    """Rendered ``args`` as the hook takes them: a string, a list of strings, or None."""
    _check_args(args)
    if args is None or isinstance(args, str):
        return args
    if isinstance(args, (int, float)):
        return str(args)
    if isinstance(args, (list, tuple)):
        return [str(a) for a in args]
    raise HopsworksConfigError(f"args must be a string or a list of strings, got {type(args).__name__}")


def execution_summary(
    execution: Mapping[str, Any], *, job_name: str, url: str | None, execution_id: int | None = None
) -> dict[str, Any]:
    """The small JSON summary operators return (and the sensor reports)."""
    duration = execution.get("duration")
    return {
        "execution_id": int(execution_id if execution_id is not None else execution["id"]),
        "job_name": job_name,
        "state": execution.get("state"),
        "final_status": execution.get("finalStatus"),
        "duration_ms": int(duration) if isinstance(duration, (int, float)) else None,
        "url": url,
    }


def _failure_message(event: ExecutionEvent, tails: Mapping[Any, list[str]], url: str | None) -> str:
    parts = [
        event["message"] or f"Hopsworks job {event['job_name']!r} execution {event['execution_id']} failed."
    ]
    err_tail = [line for line in tails.get("err", []) if line.strip()]
    if err_tail:
        parts.append("Last lines of stderr:\n" + "\n".join(f"    {line}" for line in err_tail))
    if url:
        parts.append(f"Execution page: {url}")
    return "\n".join(parts)


class _HopsworksOperator(BaseOperator):
    """Connection plumbing shared by the operators."""

    def __init__(
        self, *, hopsworks_conn_id: str = "hopsworks_default", project: str | None = None, **kwargs: Any
    ):
        super().__init__(**kwargs)
        self.hopsworks_conn_id = hopsworks_conn_id
        self.project = project

    @cached_property
    def hook(self) -> HopsworksHook:
        return HopsworksHook(hopsworks_conn_id=self.hopsworks_conn_id, project=self.project)


# -- create ---------------------------------------------------------------------------------


def _sha256_of_chunks(chunks: Iterator[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def _sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class HopsworksCreateJobOperator(_HopsworksOperator):
    """Create a Hopsworks job, or update it to match, by name.

    Re-running with the same inputs changes nothing remote: the uploaded file is compared
    with the local one first, and the hook sends no update when the job already matches.

    :param job_name: the job's name (templated).
    :param job_type: ``PYTHON``, ``PYSPARK``, ``SPARK``, ``RAY`` or ``DOCKER``.
    :param app_path: the program already in the project, e.g. ``Resources/jobs/x/main.py``
        (templated). Give this or ``app_file``.
    :param app_file: a local script or jar to upload first (templated). A relative path is
        looked up next to the DAG file, then in the working directory.
    :param upload_dir: project folder for ``app_file`` (default ``Resources/jobs/<job_name>``).
    :param main_class: Spark main class (required for ``SPARK``).
    :param job_default_args: the job's ``defaultArgs``: arguments an execution started without
        any gets (templated). Not called ``default_args``, which Airflow reserves for the
        DAG-level defaults of every operator.
    :param environment_name: Python environment the job runs in.
    :param config: settings merged over the job type's default configuration (templated).
    :returns: ``{"job_name", "job_id", "job_type", "action", "changed", "app_path", "uploaded", "url"}``
        with ``action`` one of ``created``, ``updated``, ``unchanged``.
    """

    template_fields: Sequence[str] = (
        "job_name",
        "app_path",
        "app_file",
        "upload_dir",
        "main_class",
        "job_default_args",
        "environment_name",
        "config",
        "project",
    )
    template_fields_renderers = {"config": "json"}
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        job_name: str,
        job_type: str,
        app_path: str | None = None,
        app_file: str | os.PathLike[str] | None = None,
        upload_dir: str | None = None,
        main_class: str | None = None,
        job_default_args: str | None = None,
        environment_name: str | None = None,
        config: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_job_name(job_name)
        if not isinstance(job_type, str) or job_type.upper() not in CREATABLE_JOB_TYPES:
            raise HopsworksConfigError(
                f"Unknown job_type {job_type!r}; expected one of {', '.join(sorted(CREATABLE_JOB_TYPES))}."
            )
        if app_path is not None and app_file is not None:
            raise HopsworksConfigError("Give app_path or app_file, not both.")
        if config is not None and not isinstance(config, Mapping) and not _is_templated(config):
            raise HopsworksConfigError(f"config must be a mapping, got {type(config).__name__}")
        self.job_name = job_name
        self.job_type = job_type.upper()
        self.app_path = app_path
        self.app_file = os.fspath(app_file) if app_file is not None else None
        self.upload_dir = upload_dir
        self.main_class = main_class
        self.job_default_args = job_default_args
        self.environment_name = environment_name
        self.config: Any = dict(config) if isinstance(config, Mapping) else config

    def _local_file(self) -> Path:
        """The file to upload; a relative path is looked up next to the DAG file first."""
        assert self.app_file is not None
        path = Path(self.app_file).expanduser()
        if not path.is_absolute():
            fileloc = getattr(self.dag, "fileloc", None) if self.has_dag() else None  # type: ignore[no-untyped-call]
            beside_dag = Path(fileloc).parent / path if fileloc else None
            if beside_dag is not None and beside_dag.is_file():
                path = beside_dag
        if not path.is_file():
            raise HopsworksConfigError(
                f"app_file {self.app_file!r} is not a readable file (looked at {path.resolve()})."
            )
        return path

    def _upload(self, local: Path, remote_dir: str) -> tuple[str, bool]:
        """Upload ``local`` unless the project already holds an identical file."""
        remote_path = f"{remote_dir.rstrip('/')}/{local.name}"
        current = self.hook.stat(remote_path)
        if current is not None:
            attributes = (
                current.get("attributes") if isinstance(current.get("attributes"), Mapping) else current
            )
            size = attributes.get("size") if isinstance(attributes, Mapping) else None
            if (
                size is not None
                and int(size) == local.stat().st_size
                and _sha256_of_chunks(self.hook.download(remote_path)) == _sha256_of_file(local)
            ):
                self.log.info("%s already holds an identical %s; not uploading.", remote_dir, local.name)
                return remote_path, False
        remote = self.hook.upload_file(local, remote_dir, overwrite=True)
        self.log.info("Uploaded %s to %s.", local, remote)
        return remote, True

    def execute(self, context: Context) -> dict[str, Any]:
        check_job_name(self.job_name)
        config = self.config
        if config is not None and not isinstance(config, Mapping):
            raise HopsworksConfigError(f"config must render to a mapping, got {type(config).__name__}")
        options: dict[str, Any] = {
            "main_class": self.main_class,
            "default_args": self.job_default_args,
            "environment_name": self.environment_name,
            "config": config,
        }
        app_path = self.app_path
        local: Path | None = None
        remote_dir = self.upload_dir or f"Resources/jobs/{self.job_name}"
        if self.app_file is not None:
            local = self._local_file()
            app_path = f"{remote_dir.rstrip('/')}/{local.name}"
        # Validate everything (and read the type's defaults) before the first write.
        self.hook.build_job_config(self.job_name, self.job_type, app_path=app_path, **options)
        uploaded = False
        if local is not None:
            app_path, uploaded = self._upload(local, remote_dir)
        result = self.hook.create_or_update_job(self.job_name, self.job_type, app_path=app_path, **options)
        if result.action == "updated":
            self.log.info("Updated Hopsworks job %r:", self.job_name)
            for key, (old, new) in sorted(result.changes.items()):
                self.log.info("  %s: %s -> %s", key, _short(old), _short(new))
        else:
            self.log.info("Hopsworks job %r: %s.", self.job_name, result.action)
        job = result.job
        return {
            "job_name": self.job_name,
            "job_id": job.get("id"),
            "job_type": job_type_of(job) or self.job_type,
            "action": result.action,
            "changed": sorted(result.changes),
            "app_path": (job.get("config") or {}).get("appPath", app_path),
            "uploaded": uploaded,
            "url": self.hook.job_url(self.job_name),
        }


# -- run --------------------------------------------------------------------------------------


class HopsworksRunJobOperator(_HopsworksOperator):
    """Run a Hopsworks job and wait for it, in the worker or in the triggerer.

    The execution's id and page URL are pushed to XCom (``execution_id``, ``execution_url``)
    as soon as it starts, before any waiting, so downstream tasks and the "Hopsworks
    Execution" link can use them while it runs.

    On completion stdout (and stderr when the execution did not succeed) is copied into the
    task log. Outcomes:

    - success: returns ``{"execution_id", "job_name", "state", "final_status", "duration_ms", "url"}``;
    - the job failed: :class:`~airflow_provider_hopsjobs.status.HopsworksJobFailedError`
      (Airflow retries apply), with the tail of stderr in the message;
    - someone else killed it: :class:`~airflow_provider_hopsjobs.status.HopsworksExecutionKilledError`,
      which fails the task without retrying it (unless ``retry_on_kill``);
    - the API stayed unreachable: :class:`~airflow_provider_hopsjobs.status.HopsworksApiUnavailableError`;
    - ``timeout`` passed: the execution is stopped, then
      :class:`~airflow_provider_hopsjobs.status.HopsworksWaitTimeoutError`.

    :param job_name: the job to run (templated).
    :param args: arguments, a string or a list (joined shell-style) (templated).
    :param wait_for_completion: wait for the execution to end (default); otherwise return
        once it started.
    :param deferrable: wait in the triggerer; defaults to ``[operators] default_deferrable``.
    :param poll_interval: cap of the adaptive poll schedule (starts near one second), seconds.
    :param timeout: longest wait, seconds or timedelta; the execution is stopped when it passes.
        When deferred, ``execution_timeout`` is honoured the same way.
    :param fetch_logs: which logs to copy into the task log: ``True`` (stdout, and stderr on
        failure), ``"both"``, ``"out"``, ``"err"``, ``"on_failure"``, or ``False``.
    :param log_wait_timeout: how long to wait for Hopsworks to aggregate a log, seconds.
    :param cancel_on_kill: stop the execution when the task is killed (also while deferred).
    :param reattach_on_retry: on a retry, reattach to the execution an earlier try started
        instead of starting another (see :mod:`airflow_provider_hopsjobs.operators.reattach`).
    :param retry_on_kill: let Airflow retry when someone else killed the execution.
    :param transient_error_budget: how long an unreachable or failing API is ridden out, seconds.
    :param job_type: the job's type, when known; saves one request.
    """

    template_fields: Sequence[str] = ("job_name", "args", "project")
    ui_color = "#cfe8fc"
    operator_extra_links = (HopsworksExecutionLink(),)

    def __init__(
        self,
        *,
        job_name: str,
        args: str | Sequence[str] | None = None,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: timedelta | float | None = None,
        fetch_logs: FetchLogs = True,
        log_wait_timeout: float = 120.0,
        cancel_on_kill: bool = True,
        reattach_on_retry: bool = True,
        retry_on_kill: bool = False,
        transient_error_budget: float = DEFAULT_TRANSIENT_ERROR_BUDGET,
        job_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_job_name(job_name)
        _check_args(args)
        job_type = known_job_type(job_type)
        self.job_name = job_name
        self.args = args
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = _seconds("poll_interval", poll_interval, positive=True)
        self.timeout = _optional_seconds("timeout", timeout)
        try:
            self.log_selection = LogSelection.parse(fetch_logs)
        except ValueError as err:
            raise HopsworksConfigError(str(err)) from err
        self.fetch_logs = fetch_logs
        self.log_wait_timeout = _seconds("log_wait_timeout", log_wait_timeout)
        self.cancel_on_kill = cancel_on_kill
        self.reattach_on_retry = reattach_on_retry
        self.retry_on_kill = retry_on_kill
        self.transient_error_budget = _seconds("transient_error_budget", transient_error_budget)
        self.job_type = job_type
        self._execution_id: int | None = None
        self._done = False

    # The pieces below are separate methods so a subclass can adjust one without the rest.

    def _deadline(self) -> float | None:
        """Absolute end of the wait: ``timeout``, and when deferred also ``execution_timeout``.

        A synchronous task already has ``execution_timeout`` enforced by Airflow (which then
        calls :meth:`on_kill`); a deferred one does not, so its deadline carries it.
        """
        deadlines = [deadline_after(self.timeout)]
        if self.deferrable and self.execution_timeout is not None:
            deadlines.append(deadline_after(self.execution_timeout))
        return earliest_deadline(*deadlines)

    def _trigger(
        self, execution_id: int, job_type: str | None, deadline: float | None
    ) -> HopsworksExecutionTrigger:
        return HopsworksExecutionTrigger(
            job_name=self.job_name,
            execution_id=execution_id,
            hopsworks_conn_id=self.hopsworks_conn_id,
            project=self.project,
            job_type=job_type,
            deadline=deadline,
            poll_interval=self.poll_interval,
            transient_error_budget_seconds=self.transient_error_budget,
            cancel_on_kill=self.cancel_on_kill,
        )

    def _memory(self, context: Context) -> SafeMemory:
        return memory_for(context, enabled=self.reattach_on_retry, logger=self.log)

    def execute(self, context: Context) -> dict[str, Any] | None:
        check_job_name(self.job_name)
        args = _normalise_args(self.args)
        job_type = self.job_type or job_type_of(self.hook.get_job(self.job_name))
        deadline = self._deadline()
        if self.wait_for_completion and self.deferrable:
            # Builds (and so validates) the trigger before anything remote happens.
            self._trigger(0, job_type, deadline)

        memory = self._memory(context)
        execution, reused = self._reattach_or_start(context, memory, args, job_type)
        execution_id = int(execution["id"])
        self._execution_id = execution_id
        url = self._publish(context, execution_id)

        if reused and outcome_of(execution, job_type) is Outcome.SUCCESS:
            event = terminal_event(
                execution, job_name=self.job_name, execution_id=execution_id, job_type=job_type
            )
            assert event is not None
            return self._complete(context, event, execution=execution)

        if not self.wait_for_completion:
            self.log.info("Not waiting for execution %s; see %s", execution_id, url)
            memory.forget()
            self._done = True
            return execution_summary(execution, job_name=self.job_name, url=url, execution_id=execution_id)

        if self.deferrable:
            try:
                current = self.hook.get_execution(self.job_name, execution_id)
            except HopsworksApiUnavailableError as err:
                # The trigger rides outages out; no reason to fail the try over this one look.
                self.log.warning("Could not check execution %s before deferring: %s", execution_id, err)
                current = execution
            event = terminal_event(
                current, job_name=self.job_name, execution_id=execution_id, job_type=job_type
            )
            if event is not None:
                return self._complete(context, event, execution=current)
            self.log.info(
                "Deferring until execution %s ends (deadline %s); see %s",
                execution_id,
                format_deadline(deadline),
                url,
            )
            # No framework timeout on purpose: it would end the wait without stopping the
            # execution. The trigger carries the deadline and reports "timeout" instead.
            self.defer(
                trigger=self._trigger(execution_id, job_type, deadline),
                method_name="execute_complete",
                timeout=None,
            )

        watch = ExecutionWatch(
            job_name=self.job_name,
            execution_id=execution_id,
            job_type=job_type,
            deadline=deadline,
            poll_interval=self.poll_interval,
            transient_error_budget=self.transient_error_budget,
            log=self.log,
        )
        self.log.info(
            "Waiting for execution %s (deadline %s); see %s", execution_id, format_deadline(deadline), url
        )
        event = wait_for_execution(self.hook.get_execution, watch)
        return self._complete(context, event, execution=watch.last_execution)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: same completion as the synchronous wait."""
        checked = validate_event(event)
        self._execution_id = checked["execution_id"]
        return self._complete(context, checked)

    def _reattach_or_start(
        self, context: Context, memory: SafeMemory, args: str | list[str] | None, job_type: str | None
    ) -> tuple[dict[str, Any], bool]:
        """The execution of an earlier try when it still counts, else a new one."""
        record = memory.recall()
        earlier: dict[str, Any] = {}
        if record is not None and record["job_name"] == self.job_name:
            previous_id = record["execution_id"]
            # Never to be taken for the execution a lost start request created.
            earlier = {"known_ids": [int(previous_id)]}
            try:
                previous: dict[str, Any] | None = self.hook.get_execution(self.job_name, previous_id)
            except HopsworksNotFoundError:
                previous = None
            if previous is None:
                self.log.info(
                    "Execution %s of an earlier try no longer exists; starting a new one.", previous_id
                )
            else:
                outcome = outcome_of(previous, job_type)
                if outcome is Outcome.RUNNING:
                    self.log.info(
                        "Reattaching to execution %s of an earlier try (state %s); not starting another.",
                        previous_id,
                        previous.get("state"),
                    )
                    return previous, True
                if outcome is Outcome.SUCCESS:
                    self.log.info(
                        "Execution %s of an earlier try already succeeded; not running the job again.",
                        previous_id,
                    )
                    return previous, True
                self.log.info(
                    "Execution %s of an earlier try ended %s/%s; starting a new one.",
                    previous_id,
                    previous.get("state"),
                    previous.get("finalStatus"),
                )
        execution = self.hook.start_execution(self.job_name, args, **earlier)
        execution_id = int(execution["id"])
        ti = context.get("ti")
        memory.remember(new_record(self.job_name, execution_id, getattr(ti, "try_number", None)))
        self.log.info("Started execution %s of Hopsworks job %r.", execution_id, self.job_name)
        return execution, False

    def _publish(self, context: Context, execution_id: int) -> str:
        url = self.hook.execution_url(self.job_name, execution_id)
        ti = context["ti"]
        ti.xcom_push(key=XCOM_EXECUTION_ID, value=execution_id)
        ti.xcom_push(key=XCOM_EXECUTION_URL, value=url)
        return url

    def _stop(self, job_name: str, execution_id: int, reason: str) -> None:
        self.log.info("Stopping Hopsworks job %r execution %s: %s.", job_name, execution_id, reason)
        try:
            self.hook.stop_execution(job_name, execution_id)
        except HopsworksError as err:
            self.log.warning("Could not stop execution %s: %s", execution_id, err)

    def _complete(
        self, context: Context, event: ExecutionEvent, *, execution: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Turn a final event into the task's outcome: stop, fetch logs, return or raise."""
        job_name, execution_id = event["job_name"], event["execution_id"]
        url = self.hook.execution_url(job_name, execution_id)
        status = event["status"]
        self._done = True
        if status == "timeout":
            self._stop(job_name, execution_id, "its deadline passed")
            raise HopsworksWaitTimeoutError(f"{event['message']} It was stopped. Execution page: {url}")
        if status == "error":
            error_cls = HopsworksApiUnavailableError if event["transient"] else HopsworksError
            raise error_cls(f"{event['message']} Execution page: {url}")

        final = dict(execution) if execution is not None and is_terminal(execution.get("state")) else None
        if final is None:
            try:
                final = self.hook.get_execution(job_name, execution_id)
            except HopsworksError as err:
                self.log.warning("Could not read the final details of execution %s: %s", execution_id, err)
                final = {"id": execution_id, "state": event["state"], "finalStatus": event["final_status"]}
        summary = execution_summary(final, job_name=job_name, url=url, execution_id=execution_id)

        tails = write_execution_logs(
            self.hook,
            event,
            self.log_selection,
            log=self.log,
            wait_timeout=self.log_wait_timeout,
            tail_lines=DEFAULT_TAIL_LINES,
        )
        if status == "success":
            self._memory(context).forget()
            self.log.info("%s", event["message"])
            return summary
        message = _failure_message(event, tails, url)
        if status == "killed" and not self.retry_on_kill:
            raise HopsworksExecutionKilledError(message, execution=final)
        raise HopsworksJobFailedError(message, execution=final)

    def on_kill(self) -> None:
        """Stop the execution when the task is killed or times out while waiting here."""
        if not self.cancel_on_kill or self._execution_id is None or self._done:
            return
        self._stop(self.job_name, self._execution_id, "the task was killed")


# -- stop and delete -------------------------------------------------------------------------------


class HopsworksStopExecutionOperator(_HopsworksOperator):
    """Stop one execution, or every running execution of a job.

    :param job_name: the job (templated).
    :param execution_id: the execution to stop (templated, e.g. from an XCom); when None,
        every execution of the job that is still running is stopped.
    :param wait_for_termination: wait until the stopped executions reached a final state.
    :param timeout: longest wait for that, seconds.
    :param poll_interval: cap of the adaptive poll schedule, seconds.
    :returns: ``{"job_name", "stopped": [ids], "states": {id: state}}``.
    """

    template_fields: Sequence[str] = ("job_name", "execution_id", "project")
    ui_color = "#fde2e2"

    def __init__(
        self,
        *,
        job_name: str,
        execution_id: int | str | None = None,
        wait_for_termination: bool = True,
        timeout: timedelta | float = 300.0,
        poll_interval: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_job_name(job_name)
        self.job_name = job_name
        self.execution_id = execution_id
        self.wait_for_termination = wait_for_termination
        self.timeout = _seconds("timeout", timeout)
        self.poll_interval = _seconds("poll_interval", poll_interval, positive=True)

    def _targets(self) -> list[dict[str, Any]]:
        if self.execution_id not in (None, ""):
            try:
                execution_id = int(str(self.execution_id).strip())
            except ValueError as err:
                raise HopsworksConfigError(
                    f"execution_id must be an integer, got {self.execution_id!r}"
                ) from err
            execution = self.hook.get_execution(self.job_name, execution_id)
            if is_terminal(execution.get("state")):
                self.log.info("Execution %s is already over (%s).", execution_id, execution.get("state"))
                return []
            return [execution]
        running = self.hook.list_executions(self.job_name, filter_by=[f"state:{','.join(_RUNNING_STATES)}"])
        # The filter narrows the listing; the check below is what decides.
        return [e for e in running if not is_terminal(e.get("state"))]

    def execute(self, context: Context) -> dict[str, Any]:
        check_job_name(self.job_name)
        targets = self._targets()
        if not targets:
            self.log.info("No running execution of Hopsworks job %r to stop.", self.job_name)
        states: dict[str, Any] = {}
        for execution in targets:
            execution_id = int(execution["id"])
            self.log.info(
                "Stopping Hopsworks job %r execution %s (%s).",
                self.job_name,
                execution_id,
                execution.get("state"),
            )
            after = self.hook.stop_execution(self.job_name, execution_id)
            states[str(execution_id)] = after.get("state") if isinstance(after, Mapping) else None
        if self.wait_for_termination and targets:
            deadline = deadline_after(self.timeout)
            for execution in targets:
                execution_id = int(execution["id"])
                watch = ExecutionWatch(
                    job_name=self.job_name,
                    execution_id=execution_id,
                    deadline=deadline,
                    poll_interval=self.poll_interval,
                    log=self.log,
                )
                event = wait_for_execution(self.hook.get_execution, watch)
                if event["status"] == "timeout":
                    raise HopsworksWaitTimeoutError(
                        f"Execution {execution_id} of Hopsworks job {self.job_name!r} was asked to stop "
                        f"but is still {event['state']} after {self.timeout:.0f} s."
                    )
                if event["status"] == "error":
                    raise (HopsworksApiUnavailableError if event["transient"] else HopsworksError)(
                        event["message"]
                    )
                states[str(execution_id)] = event["state"]
        return {
            "job_name": self.job_name,
            "stopped": [int(e["id"]) for e in targets],
            "states": states,
        }


class HopsworksDeleteJobOperator(_HopsworksOperator):
    """Delete a Hopsworks job (and its executions).

    :param job_name: the job (templated).
    :param ignore_missing: succeed when the job does not exist (default), which makes the
        task safe to retry and to use as a teardown.
    :returns: ``{"job_name", "deleted": bool}``.
    """

    template_fields: Sequence[str] = ("job_name", "project")
    ui_color = "#fde2e2"

    def __init__(self, *, job_name: str, ignore_missing: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_job_name(job_name)
        self.job_name = job_name
        self.ignore_missing = ignore_missing

    def execute(self, context: Context) -> dict[str, Any]:
        check_job_name(self.job_name)
        try:
            self.hook.delete_job(self.job_name)
        except HopsworksNotFoundError:
            if not self.ignore_missing:
                raise
            self.log.warning("Hopsworks job %r does not exist; nothing to delete.", self.job_name)
            return {"job_name": self.job_name, "deleted": False}
        self.log.info("Deleted Hopsworks job %r.", self.job_name)
        return {"job_name": self.job_name, "deleted": True}
