"""Wait on a Hopsworks execution something else started.

By id (typically the ``execution_id`` XCom of a run task, or an execution started outside
Airflow), or the latest execution of a job. Succeeds when the execution succeeds; fails at
once when it fails or is killed, or, with ``fail_on_failure=False``, only reports the
outcome in its return value. ``soft_fail`` turns that failure into a skip, as for any
sensor. Poke, reschedule and deferrable modes; deferrable reuses the run operator's
trigger, without stopping anything on kill: the sensor does not own the execution.

**Starting in the triggerer (Airflow 3.3+).** A deferrable sensor whose arguments are all
known when the DAG is parsed (a literal ``execution_id``, a plain ``job_name`` and
``project``) starts directly in the triggerer (``start_from_trigger``, ``StartTriggerArgs``):
the scheduler hands its trigger to the triggerer without running the sensor on a worker,
and a worker runs only ``execute_complete`` once the execution ended. Everywhere else the
sensor starts on a worker and defers as before, which costs one short worker run first:
on Airflow 3.0-3.2 (no such path in the Task SDK), for a mapped sensor (Airflow keeps the
class attribute for mapped tasks), when an argument is a template or an XCom (only a worker
renders it), without an ``execution_id`` (the latest execution is looked up on a worker),
or with ``start_from_trigger=False``. The sensor's ``timeout`` then travels as Airflow's
trigger timeout, which Airflow turns into ``AirflowSensorTimeout`` as for any sensor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_hopsjobs import validation
from airflow_provider_hopsjobs._compat import AirflowSkipException
from airflow_provider_hopsjobs.errors import HopsworksConfigError, HopsworksError
from airflow_provider_hopsjobs.execution import Execution, ExecutionEvent, Outcome
from airflow_provider_hopsjobs.hooks.retry_policy import is_outage
from airflow_provider_hopsjobs.job_types import job_type_of
from airflow_provider_hopsjobs.live_logs import DEFAULT_LIVE_LOG_LINES, LiveLog, live_log_lines_checked
from airflow_provider_hopsjobs.operators.base import (
    HopsworksBaseOperator,
    error_for_event,
    failure_for_event,
)
from airflow_provider_hopsjobs.operators.links import HopsworksExecutionLink
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger
from airflow_provider_hopsjobs.version_compat import AIRFLOW_V_3_3_PLUS
from airflow_provider_hopsjobs.waiting import (
    DEFAULT_TRANSIENT_ERROR_BUDGET,
    WaitPolicy,
    read_live_log,
    validate_event,
)

try:
    from airflow.sdk.exceptions import AirflowSensorTimeout
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.exceptions import AirflowSensorTimeout  # type: ignore[no-redef,attr-defined]

try:
    from airflow.sdk.configuration import conf
except ImportError:  # pragma: no cover - older Task SDK
    from airflow.configuration import conf  # type: ignore[no-redef]

if TYPE_CHECKING:
    from airflow.sdk import Context


class HopsworksExecutionSensor(HopsworksBaseOperator, BaseSensorOperator):
    """Wait until a Hopsworks execution ends.

    :param job_name: the job the execution belongs to (templated).
    :param execution_id: the execution (templated, e.g.
        ``"{{ ti.xcom_pull(task_ids='train', key='execution_id') }}"``); when empty, the
        latest execution of the job at each check.
    :param fail_on_failure: fail when the execution failed or was killed (default); when
        False the sensor succeeds and its return value reports the outcome.
    :param deferrable: wait in the triggerer; defaults to ``[operators] default_deferrable``.
        ``poke_interval`` is then the cap of the adaptive poll schedule.
    :param job_type: the job's type, when known; otherwise read from Hopsworks once.
    :param transient_error_budget: deferrable mode: how long an unreachable API is ridden
        out. In poke/reschedule modes an unreachable API simply counts as "not yet", bounded
        by the sensor's ``timeout``.
    :param start_from_trigger: Airflow 3.3+, deferrable only: start in the triggerer without
        a worker when the arguments allow it (default ``None``: whenever they do; ``False``:
        never). See the module docstring for when Airflow cannot.
    :param live_logs: show the execution's output in the log while it runs (Hopsworks 5.1+
        pod logs, read at each check; deferred, in the trigger's log). Poke and deferrable
        modes only: a rescheduled sensor forgets between checks what it already showed.
    :param live_log_lines: cap of live lines written per check.
    :param hopsworks_conn_id: the Airflow connection to Hopsworks (default ``hopsworks_default``).
    :param project: the project, overriding the connection's (templated).
    :returns: ``{"execution_id", "job_name", "state", "final_status", "duration_ms", "url"}``.
    """

    template_fields: Sequence[str] = ("job_name", "execution_id", "project")
    ui_color = "#d9f2e6"
    TRIGGER_CLASS = f"{HopsworksExecutionTrigger.__module__}.{HopsworksExecutionTrigger.__qualname__}"
    operator_extra_links = (HopsworksExecutionLink(),)

    def __init__(
        self,
        *,
        job_name: str,
        execution_id: int | str | None = None,
        fail_on_failure: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        job_type: str | None = None,
        transient_error_budget: float = DEFAULT_TRANSIENT_ERROR_BUDGET,
        start_from_trigger: bool | None = None,
        live_logs: bool = False,
        live_log_lines: int = DEFAULT_LIVE_LOG_LINES,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 30.0)
        kwargs.pop("start_trigger_args", None)  # built here, from the validated arguments
        super().__init__(**kwargs)
        self.live_logs = validation.flag("live_logs", live_logs)
        self.live_log_lines = live_log_lines_checked(live_log_lines)
        if self.live_logs and self.mode == "reschedule" and not deferrable:
            raise HopsworksConfigError(
                "live_logs needs mode='poke' or deferrable=True: a rescheduled sensor forgets "
                "between checks which lines it already showed."
            )
        self._live: LiveLog | None = None
        validation.job_name(job_name)
        validation.check_execution_id(execution_id)
        self.job_name = job_name
        self.execution_id = execution_id
        self.fail_on_failure = fail_on_failure
        self.deferrable = deferrable
        self.job_type = validation.known_job_type(job_type)
        self.transient_error_budget = validation.seconds("transient_error_budget", transient_error_budget)
        # In the triggerer ``poke_interval`` caps the adaptive schedule, so it must be positive there.
        self.policy = (
            WaitPolicy(float(self.poke_interval), self.transient_error_budget) if deferrable else None
        )
        self._configure_start_from_trigger(start_from_trigger)

    def _configure_start_from_trigger(self, wanted: bool | None) -> None:
        """Airflow 3.3+: let the scheduler hand the trigger straight to the triggerer when it can."""
        self.start_from_trigger = False
        self.start_trigger_args = None
        execution_id = self.execution_id
        known = (
            isinstance(execution_id, int)
            or (isinstance(execution_id, str) and execution_id.strip().isdigit())
        ) and not any(validation.is_templated(v) for v in (self.job_name, self.project))
        if wanted is False or not (AIRFLOW_V_3_3_PLUS and self.deferrable and known and self.policy):
            if wanted:
                self.log.info(
                    "Task %s starts on a worker: starting in the triggerer needs Airflow 3.3+, "
                    "deferrable=True and a literal execution_id, job_name and project.",
                    self.task_id,
                )
            return
        from airflow.triggers.base import StartTriggerArgs

        self.start_from_trigger = True
        self.start_trigger_args = StartTriggerArgs(
            trigger_cls=self.TRIGGER_CLASS,
            trigger_kwargs={
                "job_name": self.job_name,
                "execution_id": int(str(execution_id).strip()),
                "hopsworks_conn_id": self.hopsworks_conn_id,
                "project": self.project,
                "job_type": self.job_type,
                "deadline": None,  # the timeout below bounds the wait
                "poll_interval": self.policy.poll_interval,
                "transient_error_budget_seconds": self.policy.transient_error_budget,
                "cancel_on_kill": False,
            },
            next_method="execute_complete",
            next_kwargs=None,
            timeout=timedelta(seconds=float(self.timeout)),
        )

    @cached_property
    def _job_type(self) -> str | None:
        return self.job_type or job_type_of(self.hook.get_job(self.job_name))

    def _current(self) -> Execution | None:
        execution_id = validation.execution_id(self.execution_id)
        if execution_id is None:
            return self.hook.get_latest_execution(self.job_name, job_type=self._job_type)
        return self.hook.get_execution(self.job_name, execution_id, job_type=self._job_type)

    def _finish(self, event: ExecutionEvent, execution: Execution) -> dict[str, Any]:
        """The sensor's verdict on a terminal event."""
        url = self.hook.execution_url(event["job_name"], event["execution_id"])
        summary = execution.summary(url)
        if event["status"] == Outcome.SUCCESS.value:
            self.log.info("%s", event["message"])
            return summary
        message = f"{event['message']} Execution page: {url}"
        if not self.fail_on_failure:
            self.log.warning("%s (reported only: fail_on_failure is False)", message)
            return summary
        if self.soft_fail:
            raise AirflowSkipException(message)
        raise failure_for_event(event, message, execution=execution)

    def poke(self, context: Context) -> bool | PokeReturnValue:
        validation.job_name(self.job_name)
        try:
            execution = self._current()
        except HopsworksError as err:
            if is_outage(err):
                self.log.warning("The Hopsworks API is unavailable (%s); checking again later.", err)
                return False
            raise
        if execution is None:
            self.log.info("Hopsworks job %r has no execution yet.", self.job_name)
            return False
        self.publish_execution(context, self.job_name, execution.id)
        event = execution.terminal_event()
        if event is None:
            self.log.info("%s is %s.", execution.description, execution.state)
            self._show_live(execution)
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._finish(event, execution))

    def _show_live(self, execution: Execution) -> None:
        """Poke mode: the lines printed since the last check (one live log per execution)."""
        if not self.live_logs:
            return
        if self._live is None or self._live.execution_id != execution.id:
            self._live = LiveLog(self.job_name, execution.id, log=self.log, max_lines=self.live_log_lines)
        if not self._live.active:
            return
        read_live_log(self.hook, self.job_name, execution.id, self._live)

    # -- deferrable -------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        return self._defer_or_finish(context, started_at=self.clock.time())

    def _defer_or_finish(self, context: Context, started_at: float) -> Any:
        validation.job_name(self.job_name)
        deadline = started_at + float(self.timeout)
        execution = self._current()
        policy = self.policy or WaitPolicy(float(self.poke_interval), self.transient_error_budget)
        if execution is None:
            if self.clock.time() >= deadline:
                raise AirflowSensorTimeout(
                    f"Hopsworks job {self.job_name!r} had no execution within the timeout."
                )
            self.log.info(
                "Hopsworks job %r has no execution yet; checking again in %s s.",
                self.job_name,
                self.poke_interval,
            )
            self.defer(
                trigger=_delay_trigger(timedelta(seconds=float(self.poke_interval))),
                method_name="resume_waiting_for_execution",
                kwargs={"started_at": started_at},
            )
        self.publish_execution(context, self.job_name, execution.id)
        event = execution.terminal_event()
        if event is not None:
            return self._finish(event, execution)
        self.defer(
            trigger=HopsworksExecutionTrigger(
                job_name=self.job_name,
                execution_id=execution.id,
                hopsworks_conn_id=self.hopsworks_conn_id,
                project=self.project,
                job_type=self._job_type,
                deadline=deadline,
                poll_interval=policy.poll_interval,
                transient_error_budget_seconds=policy.transient_error_budget,
                cancel_on_kill=False,
                live_logs=self.live_logs,
                live_log_lines=self.live_log_lines,
            ),
            method_name="execute_complete",
            timeout=None,
        )

    def resume_waiting_for_execution(
        self, context: Context, event: Any = None, started_at: float = 0.0
    ) -> Any:
        """Deferrable mode, when the job had no execution yet: look again."""
        return self._defer_or_finish(context, started_at=started_at or self.clock.time())

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        checked = validate_event(event)
        if self.start_from_trigger and self.published_execution_id is None and context.get("ti") is not None:
            # Started in the triggerer: no worker published the execution before.
            self.publish_execution(context, checked["job_name"], checked["execution_id"])
        else:
            self.resumed_on(checked["execution_id"])
        if checked["status"] == Outcome.TIMEOUT.value:
            raise AirflowSensorTimeout(checked["message"])
        if checked["status"] == Outcome.ERROR.value:
            raise error_for_event(checked)
        final = self.final_execution(checked)
        if self.start_from_trigger and self.job_type is None:
            # The triggerer judged without the job's type (nobody looked it up): judge again with it.
            final = final.with_job_type(self._job_type)
            checked = final.terminal_event() or checked
        return self._finish(checked, final)


def _delay_trigger(delta: timedelta) -> Any:
    try:
        from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger
    except ImportError:  # pragma: no cover - standard provider missing
        from airflow.triggers.temporal import TimeDeltaTrigger  # type: ignore[no-redef]
    return TimeDeltaTrigger(delta)
