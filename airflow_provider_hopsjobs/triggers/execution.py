"""Wait for a Hopsworks execution to end, in the triggerer.

The trigger polls with the shared adaptive schedule (:mod:`airflow_provider_hopsjobs.waiting`),
rides out an unreachable or failing API for a bounded time (a single 5xx or a server
restart never fails the task), honours an absolute deadline of its own and then yields
exactly one event. The event carries ids, states and a message, never log text or secrets:
trigger payloads are stored unencrypted, and the logs are copied on the worker afterwards.

Killing the task while it is deferred stops the remote execution (when ``cancel_on_kill``):

- Airflow 3.3+ calls :meth:`HopsworksExecutionTrigger.on_kill` for user actions only (mark
  failed/success, clear), never for a triggerer restart, a redistribution or a timeout.
- Older Airflow has no such hook. The trigger then reacts to its own cancellation, but stops
  the execution only when the task instance is no longer ``DEFERRED``: a triggerer that
  restarts or hands the trigger to another triggerer leaves the task deferred, and the
  execution must keep running. When the state cannot be read (``dag.test()`` sets no task
  instance) nothing is stopped.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_hopsjobs.clock import SYSTEM_CLOCK, Clock
from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.execution import ExecutionEvent
from airflow_provider_hopsjobs.live_logs import DEFAULT_LIVE_LOG_LINES, LiveLog, live_log_lines_checked
from airflow_provider_hopsjobs.validation import flag, known_job_type
from airflow_provider_hopsjobs.version_compat import AIRFLOW_V_3_3_PLUS
from airflow_provider_hopsjobs.waiting import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_TRANSIENT_ERROR_BUDGET,
    ExecutionWatch,
    WaitPolicy,
    format_deadline,
    should_read_live,
    with_live_progress,
)

if TYPE_CHECKING:
    from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

#: Message the Airflow 3.3+ triggerer passes to ``Task.cancel`` for user actions (it then calls on_kill).
USER_ACTION_CANCEL_MSG: Final[str] = "__airflow_user_action__"


def _epoch_seconds(name: str, value: Any) -> float | None:
    """An optional instant as epoch seconds (what the run operator and the sensor compute)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise HopsworksConfigError(f"{name} must be epoch seconds, got {value!r}")
    return float(value)


def _non_empty(name: str, value: Any, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise HopsworksConfigError(f"{name} must be a non-empty string, got {value!r}")


class HopsworksExecutionTrigger(BaseTrigger):
    """Fire once when a Hopsworks execution ends, its deadline passes, or the API stays down.

    The run operator and the sensor build it from arguments they validated when the DAG was
    parsed; the triggerer re-creates it from :meth:`serialize`'s JSON kwargs. Either way the
    constructor only checks that each value has the type it carries.

    :param job_name: the job the execution belongs to.
    :param execution_id: the execution to watch.
    :param hopsworks_conn_id: Airflow connection to Hopsworks.
    :param project: project name overriding the connection's.
    :param job_type: the job's type; decides whether ``FINISHED`` with final status
        ``UNDEFINED`` is a success (it is, except for Spark types).
    :param deadline: absolute deadline, epoch seconds; None waits forever.
    :param poll_interval: cap of the adaptive poll schedule, seconds.
    :param transient_error_budget_seconds: how long an unreachable or failing API is ridden out.
    :param cancel_on_kill: stop the execution when the task is killed while deferred.
    :param live_logs: write the running execution's output into this trigger's log (which
        Airflow 3 shows in the task's log while it is deferred) from Hopsworks 5.1's pod-log
        tail, read after each status poll; the event then says how much was shown.
    :param live_log_lines: cap of lines written per poll (the length of the tail read).
    :param wait_started_at: when the wait began, epoch seconds; defaults to now, i.e. when
        the task defers. The poll schedule stretches with the time waited since, so a
        trigger that a restarted or rebalanced triggerer re-creates from its kwargs keeps
        its pace instead of polling every second again.
    """

    #: The one time seam (see :mod:`airflow_provider_hopsjobs.clock`).
    clock: Clock = SYSTEM_CLOCK

    def __init__(
        self,
        *,
        job_name: str,
        execution_id: int,
        hopsworks_conn_id: str = "hopsworks_default",
        project: str | None = None,
        job_type: str | None = None,
        deadline: float | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        transient_error_budget_seconds: float = DEFAULT_TRANSIENT_ERROR_BUDGET,
        cancel_on_kill: bool = True,
        wait_started_at: float | None = None,
        live_logs: bool = False,
        live_log_lines: int = DEFAULT_LIVE_LOG_LINES,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        _non_empty("job_name", job_name)
        _non_empty("hopsworks_conn_id", hopsworks_conn_id)
        _non_empty("project", project, optional=True)
        if isinstance(execution_id, bool) or not isinstance(execution_id, int) or execution_id < 0:
            raise HopsworksConfigError(f"execution_id must be a non-negative integer, got {execution_id!r}")
        self.job_name = job_name
        self.execution_id = execution_id
        self.hopsworks_conn_id = hopsworks_conn_id
        self.project = project
        self.job_type = known_job_type(job_type)
        self.deadline = _epoch_seconds("deadline", deadline)
        self.policy = WaitPolicy(poll_interval, transient_error_budget_seconds)
        self.cancel_on_kill = flag("cancel_on_kill", cancel_on_kill)
        self.live_logs = flag("live_logs", live_logs)
        self.live_log_lines = live_log_lines_checked(live_log_lines)
        started = self.clock.time() if wait_started_at is None else wait_started_at
        self.wait_started_at = _epoch_seconds("wait_started_at", started)
        self._fired = False

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job_name": self.job_name,
                "execution_id": self.execution_id,
                "hopsworks_conn_id": self.hopsworks_conn_id,
                "project": self.project,
                "job_type": self.job_type,
                "deadline": self.deadline,
                "poll_interval": self.policy.poll_interval,
                "transient_error_budget_seconds": self.policy.transient_error_budget,
                "cancel_on_kill": self.cancel_on_kill,
                "wait_started_at": self.wait_started_at,
                "live_logs": self.live_logs,
                "live_log_lines": self.live_log_lines,
            },
        )

    @cached_property
    def hook(self) -> HopsworksHook:
        from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

        return HopsworksHook(hopsworks_conn_id=self.hopsworks_conn_id, project=self.project)

    def _watch(self) -> ExecutionWatch:
        assert self.wait_started_at is not None
        return ExecutionWatch(
            job_name=self.job_name,
            execution_id=self.execution_id,
            job_type=self.job_type,
            deadline=self.deadline,
            policy=self.policy,
            clock=self.clock,
            log=self.log,
            waited=self.clock.time() - self.wait_started_at,
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            event = await self._wait()
        except asyncio.CancelledError as err:
            user_action = bool(err.args) and err.args[0] == USER_ACTION_CANCEL_MSG
            # On 3.3+ the triggerer calls on_kill() for user actions; other cancellations
            # (shutdown, redistribution) must leave the execution running.
            if not AIRFLOW_V_3_3_PLUS and not user_action:
                await self._stop_if_task_was_killed()
            raise
        self._fired = True
        yield TriggerEvent(dict(event))  # type: ignore[no-untyped-call]

    async def _read_live_log(self, watch: ExecutionWatch, live: LiveLog) -> None:
        """One read of the tail, like :func:`~airflow_provider_hopsjobs.waiting.read_live_log`."""
        try:
            lines = live.request_lines
            answer = await self.hook.async_get_pod_logs(self.job_name, self.execution_id, lines=lines)
            if live.needs_longer_tail(answer, lines):
                lines = live.max_lines
                answer = await self.hook.async_get_pod_logs(self.job_name, self.execution_id, lines=lines)
        except Exception as err:
            live.on_error(err)
        else:
            live.on_pod_log(answer, lines)

    async def _wait(self) -> ExecutionEvent:
        watch = self._watch()
        live = (
            LiveLog(self.job_name, self.execution_id, log=self.log, max_lines=self.live_log_lines)
            if self.live_logs
            else None
        )
        self.log.info("Waiting on %s (deadline %s).", watch.description, format_deadline(self.deadline))
        while True:
            if event := watch.expired():
                return with_live_progress(event, live)
            try:
                execution = await self.hook.async_get_execution(
                    self.job_name, self.execution_id, job_type=self.job_type
                )
            except Exception as err:
                # Whatever goes wrong becomes an event: an exception escaping a trigger
                # fails the task without the worker ever seeing what happened.
                event = watch.on_error(err)
            else:
                event = watch.on_execution(execution)
            if event is not None:
                return with_live_progress(event, live)
            spent = 0.0
            if live is not None and should_read_live(watch, live):
                began = self.clock.monotonic()
                await self._read_live_log(watch, live)
                spent = self.clock.monotonic() - began
            await self.clock.async_sleep(max(0.0, watch.next_sleep() - spent))

    async def on_kill(self) -> None:
        """Stop the execution when a user kills the deferred task (Airflow 3.3+)."""
        if self._fired or not self.cancel_on_kill:
            return
        await self._stop("the task was killed while deferred")

    async def _stop(self, reason: str) -> None:
        self.log.info("Stopping Hopsworks job %r execution %s: %s.", self.job_name, self.execution_id, reason)
        try:
            execution = await self.hook.async_stop_execution(
                self.job_name, self.execution_id, job_type=self.job_type
            )
        except Exception as err:
            self.log.warning(
                "Could not stop Hopsworks job %r execution %s: %s", self.job_name, self.execution_id, err
            )
            return
        if execution.is_terminal:
            self.log.info("Execution %s was already over (%s).", self.execution_id, execution.state)

    async def _stop_if_task_was_killed(self) -> None:
        """Airflow < 3.3: stop only if the task left DEFERRED, i.e. a person acted on it."""
        if self._fired or not self.cancel_on_kill:
            return
        try:
            safe = await self.safe_to_cancel()
        except Exception as err:
            self.log.warning(
                "Could not read the task's state; leaving execution %s running: %s", self.execution_id, err
            )
            return
        if safe:
            await self._stop("the task is no longer deferred")
        else:
            self.log.info(
                "Trigger cancelled while the task is still deferred (triggerer restart or hand-over); "
                "execution %s keeps running.",
                self.execution_id,
            )

    async def safe_to_cancel(self) -> bool:
        """Whether the task instance has left DEFERRED (unknown, e.g. in ``dag.test()``, means no)."""
        ti = self.task_instance
        if ti is None:
            return False
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
        from asgiref.sync import sync_to_async

        states = await sync_to_async(RuntimeTaskInstance.get_task_states)(
            dag_id=ti.dag_id,
            task_ids=[ti.task_id],
            run_ids=[ti.run_id],
            map_index=ti.map_index,
        )
        from airflow.utils.state import TaskInstanceState

        return bool(states[ti.run_id][task_state_key(ti.task_id, ti.map_index)] != TaskInstanceState.DEFERRED)


def task_state_key(task_id: str, map_index: int | None) -> str:
    """How Airflow's task-states route names a task instance: mapped ones as ``<task_id>_<map_index>``."""
    if map_index is None or map_index < 0:
        return task_id
    return f"{task_id}_{map_index}"
