"""Operators that create, run, stop and delete Hopsworks jobs.

The run operator lives here; the create operator in :mod:`.create`, stop and delete in
:mod:`.admin`, all four importable from this module.

:class:`HopsworksRunJobOperator` is the centre: it starts an execution (or reattaches to
the one an earlier try started, see :mod:`airflow_provider_hopsjobs.operators.reattach`),
publishes its id and URL at once, waits for it synchronously or in the triggerer, copies
its logs into the task log and turns the outcome into a return value or a precise error.
Both ways of waiting end in the same completion code, fed the same event, so they time
out, stop, log and fail identically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_hopsjobs import validation
from airflow_provider_hopsjobs.errors import (
    HopsworksApiUnavailableError,
    HopsworksConfigError,
    HopsworksError,
    HopsworksWaitTimeoutError,
)
from airflow_provider_hopsjobs.execution import Execution, ExecutionEvent, Outcome
from airflow_provider_hopsjobs.hooks.start_request import env_vars_checked
from airflow_provider_hopsjobs.job_types import job_type_of
from airflow_provider_hopsjobs.live_logs import (
    DEFAULT_LIVE_LOG_LINES,
    LiveLog,
    LiveProgress,
    live_log_lines_checked,
)
from airflow_provider_hopsjobs.operators.admin import (
    HopsworksDeleteJobOperator,
    HopsworksStopExecutionOperator,
)
from airflow_provider_hopsjobs.operators.base import (
    HopsworksBaseOperator,
    error_for_event,
    failure_for_event,
)
from airflow_provider_hopsjobs.operators.create import HopsworksCreateJobOperator
from airflow_provider_hopsjobs.operators.links import HopsworksExecutionLink
from airflow_provider_hopsjobs.operators.reattach import ExecutionMemory, memory_for, reattach_or_start
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
    ExecutionWatch,
    WaitPolicy,
    deadline_after,
    earliest_deadline,
    format_deadline,
    validate_event,
    wait_for_execution,
)

try:
    from airflow.sdk.configuration import conf
except ImportError:  # pragma: no cover - older Task SDK
    from airflow.configuration import conf  # type: ignore[no-redef]

if TYPE_CHECKING:
    from airflow.sdk import Context

#: The public names of this module; the create operator lives in :mod:`.create`, stop and
#: delete in :mod:`.admin`.
__all__ = [
    "HopsworksCreateJobOperator",
    "HopsworksDeleteJobOperator",
    "HopsworksRunJobOperator",
    "HopsworksStopExecutionOperator",
]


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


# -- run --------------------------------------------------------------------------------------


class HopsworksRunJobOperator(HopsworksBaseOperator):
    """Run a Hopsworks job and wait for it, in the worker or in the triggerer.

    The execution's id and page URL are pushed to XCom (``execution_id``, ``execution_url``)
    as soon as it starts, before any waiting, so downstream tasks and the "Hopsworks
    Execution" link can use them while it runs.

    On completion stdout (and stderr when the execution did not succeed) is copied into the
    task log. Outcomes:

    - success: returns ``{"execution_id", "job_name", "state", "final_status", "duration_ms", "url"}``;
    - the job failed: :class:`~airflow_provider_hopsjobs.errors.HopsworksJobFailedError`
      (Airflow retries apply), with the tail of stderr in the message;
    - someone else killed it: :class:`~airflow_provider_hopsjobs.errors.HopsworksExecutionKilledError`,
      which fails the task without retrying it (unless ``retry_on_kill``);
    - the API stayed unreachable: :class:`~airflow_provider_hopsjobs.errors.HopsworksApiUnavailableError`;
    - ``timeout`` passed: the execution is stopped, its stdout and stderr are copied, then
      :class:`~airflow_provider_hopsjobs.errors.HopsworksWaitTimeoutError`.

    A stopped run loses nothing: after a timeout, a kill of the task (``on_kill``) or a stop
    by someone else, what the job printed up to then is copied into the task log too.

    :param job_name: the job to run (templated).
    :param args: arguments, a string or a list (joined shell-style) (templated).
    :param env_vars: environment variables for this execution, a mapping (templated; Hopsworks
        5.0+, which takes them in its JSON start body; an older server makes the task fail
        before anything starts instead of dropping them).
    :param send_run_dates: hand the run's dates to the job (default), as Hopsworks' own
        scheduler does for scheduled runs: the data interval as ``HOPS_START_TIME`` and
        ``HOPS_END_TIME`` (ISO-8601, UTC) in its environment, and the logical date and
        interval end as the execution's ``logicalDate``/``dataIntervalEnd``. Only what the
        run has is sent (a run without a logical date sends none). Hopsworks before 5.0
        cannot take them: the task then starts the job with its args only, and says so.
    :param wait_for_completion: wait for the execution to end (default); otherwise return
        once it started.
    :param deferrable: wait in the triggerer; defaults to ``[operators] default_deferrable``.
    :param poll_interval: cap of the adaptive poll schedule (starts at half a second), seconds.
    :param timeout: longest wait, seconds or timedelta; the execution is stopped when it passes.
        When deferred, ``execution_timeout`` is honoured the same way.
    :param fetch_logs: which logs to copy into the task log: ``True`` (stdout, and stderr on
        failure), ``"both"``, ``"out"``, ``"err"``, ``"on_failure"``, or ``False``.
    :param log_wait_timeout: how long to wait for Hopsworks to aggregate a log, seconds.
    :param live_logs: show the job's output in the task log while it runs (Hopsworks 5.1+
        pod logs, read after each status poll; deferred, in the trigger's log, which Airflow 3
        shows with the task's). The copy at the end then starts where the live part ended.
        Servers or job types without live logs get one line saying so, and today's copy.
    :param live_log_lines: cap of live lines written per poll (the tail read each poll).
    :param cancel_on_kill: stop the execution when the task is killed (also while deferred).
    :param reattach_on_retry: on a retry, reattach to the execution an earlier try started
        instead of starting another (see :mod:`airflow_provider_hopsjobs.operators.reattach`).
        ``durable``, the name Airflow 3.3's ``ResumableJobMixin`` gives the same switch, is
        accepted too (on every supported version).
    :param retry_on_kill: let Airflow retry when someone else killed the execution.
    :param transient_error_budget: how long an unreachable or failing API is ridden out, seconds.
    :param job_type: the job's type, when known; saves one request.
    :param hopsworks_conn_id: the Airflow connection to Hopsworks (default ``hopsworks_default``).
    :param project: the project, overriding the connection's (templated).
    """

    template_fields: Sequence[str] = ("job_name", "args", "env_vars", "project")
    template_fields_renderers = {"env_vars": "json"}
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
        env_vars: Mapping[str, str] | None = None,
        send_run_dates: bool = True,
        live_logs: bool = False,
        live_log_lines: int = DEFAULT_LIVE_LOG_LINES,
        **kwargs: Any,
    ) -> None:
        if (durable := kwargs.pop("durable", None)) is not None:  # Airflow 3.3's name for it
            reattach_on_retry = validation.flag("durable", durable)
        super().__init__(**kwargs)
        validation.job_name(job_name)
        validation.check_args(args)
        if env_vars is not None and not validation.is_templated(env_vars):
            env_vars_checked(env_vars)
        self.job_name = job_name
        self.args = args
        self.env_vars: Any = dict(env_vars) if isinstance(env_vars, Mapping) else env_vars
        self.send_run_dates = validation.flag("send_run_dates", send_run_dates)
        self.live_logs = validation.flag("live_logs", live_logs)
        self.live_log_lines = live_log_lines_checked(live_log_lines)
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.policy = WaitPolicy(poll_interval, transient_error_budget)
        self.timeout = validation.optional_seconds("timeout", timeout)
        try:
            self.log_selection = LogSelection.parse(fetch_logs)
        except ValueError as err:
            raise HopsworksConfigError(str(err)) from err
        self.log_wait_timeout = validation.seconds("log_wait_timeout", log_wait_timeout)
        self.cancel_on_kill = cancel_on_kill
        self.reattach_on_retry = reattach_on_retry
        self.retry_on_kill = retry_on_kill
        self.job_type = validation.known_job_type(job_type)
        self._execution_id: int | None = None
        self._done = False
        self._logs_copied_for: int | None = None
        self._live: LiveLog | None = None

    # The pieces below are separate methods so a subclass can adjust one without the rest.

    def _deadline(self) -> float | None:
        """Absolute end of the wait: ``timeout``, and when deferred also ``execution_timeout``.

        A synchronous task already has ``execution_timeout`` enforced by Airflow (which then
        calls :meth:`on_kill`); a deferred one does not, so its deadline carries it.
        """
        deadlines = [deadline_after(self.timeout, clock=self.clock)]
        if self.deferrable and self.execution_timeout is not None:
            deadlines.append(deadline_after(self.execution_timeout, clock=self.clock))
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
            poll_interval=self.policy.poll_interval,
            transient_error_budget_seconds=self.policy.transient_error_budget,
            cancel_on_kill=self.cancel_on_kill,
            live_logs=self.live_logs,
            live_log_lines=self.live_log_lines,
        )

    def _start_options(self, context: Context) -> dict[str, Any]:
        """Env vars, and the run's dates as far as the run has them (nothing is made up)."""
        options: dict[str, Any] = {}
        if env_vars := env_vars_checked(self.env_vars):
            options["env_vars"] = env_vars
        if self.send_run_dates:
            for key in ("logical_date", "data_interval_start", "data_interval_end"):
                if (value := context.get(key)) is not None:
                    options[key] = value
        from airflow_provider_hopsjobs.lineage import parent_env_vars

        if lineage_parent := parent_env_vars(context):
            # Any job's OpenLineage client links its lineage back to this task (5.x servers).
            options["optional_env_vars"] = lineage_parent
        return options

    def _memory(self, context: Context) -> ExecutionMemory:
        return memory_for(context, enabled=self.reattach_on_retry, logger=self.log)

    def execute(self, context: Context) -> dict[str, Any] | None:
        validation.job_name(self.job_name)
        args = validation.args(self.args)
        job_type = self.job_type or job_type_of(self.hook.get_job(self.job_name))
        self._prepare_lineage(context, job_type)
        deadline = self._deadline()
        memory = self._memory(context)
        execution, reused = reattach_or_start(
            self.hook,
            memory,
            self.job_name,
            args,
            job_type=job_type,
            context=context,
            log=self.log,
            start_options=self._start_options(context),
        )
        self._execution_id = execution.id
        url = self.publish_execution(context, self.job_name, execution.id)

        if reused and (event := execution.terminal_event()) is not None:
            # Only a success is ever reused: a failed earlier execution starts a new one.
            return self._complete(context, event, execution=execution)

        if not self.wait_for_completion:
            self.log.info("Not waiting for execution %s; see %s", execution.id, url)
            memory.forget()
            self._done = True
            return execution.summary(url)

        if self.deferrable:
            return self._defer_unless_over(context, execution, job_type, deadline, url)

        watch = ExecutionWatch(
            job_name=self.job_name,
            execution_id=execution.id,
            job_type=job_type,
            deadline=deadline,
            policy=self.policy,
            clock=self.clock,
            log=self.log,
        )
        self.log.info(
            "Waiting for execution %s (deadline %s); see %s", execution.id, format_deadline(deadline), url
        )
        live = (
            LiveLog(self.job_name, execution.id, log=self.log, max_lines=self.live_log_lines)
            if self.live_logs
            else None
        )
        self._live = live
        event = wait_for_execution(self.hook, watch, live)
        return self._complete(context, event, execution=watch.last_execution)

    def _defer_unless_over(
        self, context: Context, execution: Execution, job_type: str | None, deadline: float | None, url: str
    ) -> dict[str, Any]:
        """Defer to the trigger; a quick job that is already over completes here instead."""
        try:
            current = self.hook.get_execution(self.job_name, execution.id, job_type=job_type)
        except HopsworksApiUnavailableError as err:
            # The trigger rides outages out; no reason to fail the try over this one look.
            self.log.warning("Could not check execution %s before deferring: %s", execution.id, err)
            current = execution
        event = current.terminal_event()
        if event is not None:
            return self._complete(context, event, execution=current)
        self.log.info(
            "Deferring until execution %s ends (deadline %s); see %s",
            execution.id,
            format_deadline(deadline),
            url,
        )
        # No framework timeout on purpose: it would end the wait without stopping the
        # execution. The trigger carries the deadline and reports "timeout" instead.
        self.defer(
            trigger=self._trigger(execution.id, job_type, deadline),
            method_name="execute_complete",
            timeout=None,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: same completion as the synchronous wait."""
        checked = validate_event(event)
        self._execution_id = checked["execution_id"]
        self.resumed_on(checked["execution_id"])
        return self._complete(context, checked)

    def _stop(self, job_name: str, execution_id: int, reason: str) -> None:
        self.log.info("Stopping Hopsworks job %r execution %s: %s.", job_name, execution_id, reason)
        try:
            self.hook.stop_execution(job_name, execution_id)
        except HopsworksError as err:
            self.log.warning("Could not stop execution %s: %s", execution_id, err)

    def _complete(
        self, context: Context, event: ExecutionEvent, *, execution: Execution | None = None
    ) -> dict[str, Any]:
        """Turn a final event into the task's outcome: stop, fetch logs, return or raise."""
        job_name, execution_id = event["job_name"], event["execution_id"]
        url = self.hook.execution_url(job_name, execution_id)
        self._done = True
        if event["status"] == Outcome.TIMEOUT.value:
            self._stop(job_name, execution_id, "its deadline passed")
            # What the job printed before it was stopped belongs in the task log too.
            tails = self._copy_logs(job_name, execution_id, succeeded=False, event=event)
            message = _failure_message(
                {**event, "message": f"{event['message']} It was stopped."}, tails, url
            )
            raise HopsworksWaitTimeoutError(message)
        if event["status"] == Outcome.ERROR.value:
            raise error_for_event(event, url=url)

        final = execution if execution is not None and execution.is_terminal else self.final_execution(event)
        succeeded = event["status"] == Outcome.SUCCESS.value
        tails = self._copy_logs(job_name, execution_id, succeeded=succeeded, event=event)
        if succeeded:
            self._memory(context).forget()
            self.log.info("%s", event["message"])
            return final.summary(url)
        message = _failure_message(event, tails, url)
        raise failure_for_event(event, message, execution=final, retry_on_kill=self.retry_on_kill)

    def _copy_logs(
        self, job_name: str, execution_id: int, *, succeeded: bool, event: ExecutionEvent | None = None
    ) -> dict[Any, list[str]]:
        """Copy the selected streams once per execution (a kill and the wait may both end here).

        What the event says was shown live is not written again.
        """
        if self._logs_copied_for == execution_id:
            return {}
        self._logs_copied_for = execution_id
        return write_execution_logs(
            self.hook,
            job_name,
            execution_id,
            succeeded=succeeded,
            selection=self.log_selection,
            log=self.log,
            wait_timeout=self.log_wait_timeout,
            tail_lines=DEFAULT_TAIL_LINES,
            live=LiveProgress.from_dict(event.get("live_log") if event is not None else None),
        )

    def on_kill(self) -> None:
        """Stop the execution when the task is killed or times out while waiting here.

        Its stdout and stderr up to the stop are then copied into the task log (within
        ``log_wait_timeout``): a stopped run's output is what explains why it was slow.
        """
        if not self.cancel_on_kill or self._execution_id is None or self._done:
            return
        self._stop(self.job_name, self._execution_id, "the task was killed")
        # What a synchronous wait already showed live is not copied again.
        shown: ExecutionEvent | None = None
        if self._live is not None and self._live.merger.shown:
            shown = self._live_event(self._live)
        self._copy_logs(self.job_name, self._execution_id, succeeded=False, event=shown)

    def _live_event(self, live: LiveLog) -> ExecutionEvent:
        """Only for its ``live_log``: what the wait showed before it was interrupted."""
        event = Execution(id=live.execution_id, job_name=self.job_name).event(Outcome.KILLED, "")
        event["live_log"] = live.progress().to_dict()
        return event

    # -- OpenLineage (optional; see airflow_provider_hopsjobs.lineage) ----------------------------

    def _prepare_lineage(self, context: Context, job_type: str | None) -> None:
        """Hand the task's OpenLineage parent run to a Spark job, when configured (never fails the task)."""
        from airflow_provider_hopsjobs.lineage import inject_parent_into_spark_job

        self.resolved_job_type = job_type  # for the facets; saves a look-up then
        try:
            inject_parent_into_spark_job(self.hook, self.job_name, job_type, context, logger=self.log)
        except HopsworksError as err:
            self.log.warning(
                "OpenLineage: could not write the parent run into job %r: %s", self.job_name, err
            )

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The execution (run facet) and the job (job facets), read by the OpenLineage listener."""
        from airflow_provider_hopsjobs.lineage import lineage_for_operator

        return lineage_for_operator(self, failed=False)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        """As on completion, plus what Hopsworks reported as an ``errorMessage`` facet."""
        from airflow_provider_hopsjobs.lineage import lineage_for_operator

        return lineage_for_operator(self, failed=True)
