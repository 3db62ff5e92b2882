"""Wait on a Hopsworks execution something else started.

By id (typically the ``execution_id`` XCom of a run task, or an execution started outside
Airflow), or the latest execution of a job. Succeeds when the execution succeeds; fails at
once when it fails or is killed, or, with ``fail_on_failure=False``, only reports the
outcome in its return value. ``soft_fail`` turns that failure into a skip, as for any
sensor. Poke, reschedule and deferrable modes; deferrable reuses the run operator's
trigger, without stopping anything on kill: the sensor does not own the execution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_hopsjobs import waiting
from airflow_provider_hopsjobs._compat import AirflowSkipException
from airflow_provider_hopsjobs.errors import (
    HopsworksApiUnavailableError,
    HopsworksConfigError,
    HopsworksError,
    HopsworksExecutionKilledError,
    HopsworksJobFailedError,
)
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.job_types import known_job_type
from airflow_provider_hopsjobs.operators.jobs import check_job_name, execution_summary
from airflow_provider_hopsjobs.operators.links import (
    XCOM_EXECUTION_ID,
    XCOM_EXECUTION_URL,
    HopsworksExecutionLink,
)
from airflow_provider_hopsjobs.status import is_terminal
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger
from airflow_provider_hopsjobs.waiting import (
    DEFAULT_TRANSIENT_ERROR_BUDGET,
    ExecutionEvent,
    is_transient,
    terminal_event,
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


def _parse_execution_id(value: Any) -> int | None:
    """An execution id given as an int or a rendered template string; None/"" mean "latest"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise HopsworksConfigError(f"execution_id must be an integer, got {value!r}")
    try:
        execution_id = int(str(value).strip())
    except ValueError as err:
        raise HopsworksConfigError(f"execution_id must be an integer, got {value!r}") from err
    if execution_id < 0:
        raise HopsworksConfigError(f"execution_id must not be negative, got {value!r}")
    return execution_id


class HopsworksExecutionSensor(BaseSensorOperator):
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
    :returns: ``{"execution_id", "job_name", "state", "final_status", "duration_ms", "url"}``.
    """

    template_fields: Sequence[str] = ("job_name", "execution_id", "project")
    ui_color = "#d9f2e6"
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
        hopsworks_conn_id: str = "hopsworks_default",
        project: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 30.0)
        super().__init__(**kwargs)
        check_job_name(job_name)
        if not (isinstance(execution_id, str) and "{{" in execution_id):
            _parse_execution_id(execution_id)
        job_type = known_job_type(job_type)
        self.job_name = job_name
        self.execution_id = execution_id
        self.fail_on_failure = fail_on_failure
        self.deferrable = deferrable
        self.job_type = job_type
        self.transient_error_budget = float(transient_error_budget)
        self.hopsworks_conn_id = hopsworks_conn_id
        self.project = project
        self._published: int | None = None

    @cached_property
    def hook(self) -> HopsworksHook:
        return HopsworksHook(hopsworks_conn_id=self.hopsworks_conn_id, project=self.project)

    @cached_property
    def _job_type(self) -> str | None:
        if self.job_type:
            return self.job_type
        from airflow_provider_hopsjobs.operators.jobs import job_type_of

        return job_type_of(self.hook.get_job(self.job_name))

    def _current(self) -> dict[str, Any] | None:
        execution_id = _parse_execution_id(self.execution_id)
        if execution_id is None:
            return self.hook.get_latest_execution(self.job_name)
        return self.hook.get_execution(self.job_name, execution_id)

    def _publish(self, context: Context, execution_id: int) -> str:
        url = self.hook.execution_url(self.job_name, execution_id)
        if self._published != execution_id:
            context["ti"].xcom_push(key=XCOM_EXECUTION_ID, value=execution_id)
            context["ti"].xcom_push(key=XCOM_EXECUTION_URL, value=url)
            self._published = execution_id
        return url

    def _finish(self, event: ExecutionEvent, execution: Mapping[str, Any] | None) -> dict[str, Any]:
        """The sensor's verdict on a terminal event."""
        url = self.hook.execution_url(event["job_name"], event["execution_id"])
        details = execution or {"state": event["state"], "finalStatus": event["final_status"]}
        summary = execution_summary(
            details, job_name=event["job_name"], url=url, execution_id=event["execution_id"]
        )
        if event["status"] == "success":
            self.log.info("%s", event["message"])
            return summary
        message = f"{event['message']} Execution page: {url}"
        if not self.fail_on_failure:
            self.log.warning("%s (reported only: fail_on_failure is False)", message)
            return summary
        if self.soft_fail:
            raise AirflowSkipException(message)
        if event["status"] == "killed":
            raise HopsworksExecutionKilledError(message, execution=details)
        raise HopsworksJobFailedError(message, execution=details)

    def poke(self, context: Context) -> bool | PokeReturnValue:
        try:
            execution = self._current()
            job_type = self._job_type
        except HopsworksError as err:
            if is_transient(err):
                self.log.warning("The Hopsworks API is unavailable (%s); checking again later.", err)
                return False
            raise
        if execution is None:
            self.log.info("Hopsworks job %r has no execution yet.", self.job_name)
            return False
        execution_id = int(execution["id"])
        self._publish(context, execution_id)
        event = terminal_event(
            execution, job_name=self.job_name, execution_id=execution_id, job_type=job_type
        )
        if event is None:
            self.log.info(
                "Execution %s of Hopsworks job %r is %s.", execution_id, self.job_name, execution.get("state")
            )
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._finish(event, execution))

    # -- deferrable -------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        return self._defer_or_finish(context, started_at=waiting.wall_time())

    def _defer_or_finish(self, context: Context, started_at: float) -> Any:
        deadline = started_at + float(self.timeout)
        execution = self._current()
        if execution is None:
            if waiting.wall_time() >= deadline:
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
        execution_id = int(execution["id"])
        self._publish(context, execution_id)
        job_type = self._job_type
        event = terminal_event(
            execution, job_name=self.job_name, execution_id=execution_id, job_type=job_type
        )
        if event is not None:
            return self._finish(event, execution)
        self.defer(
            trigger=HopsworksExecutionTrigger(
                job_name=self.job_name,
                execution_id=execution_id,
                hopsworks_conn_id=self.hopsworks_conn_id,
                project=self.project,
                job_type=job_type,
                deadline=deadline,
                poll_interval=float(self.poke_interval),
                transient_error_budget_seconds=self.transient_error_budget,
                cancel_on_kill=False,
            ),
            method_name="execute_complete",
            timeout=None,
        )

    def resume_waiting_for_execution(
        self, context: Context, event: Any = None, started_at: float = 0.0
    ) -> Any:
        """Deferrable mode, when the job had no execution yet: look again."""
        return self._defer_or_finish(context, started_at=started_at or waiting.wall_time())

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        checked = validate_event(event)
        if checked["status"] == "timeout":
            raise AirflowSensorTimeout(checked["message"])
        if checked["status"] == "error":
            error_cls = HopsworksApiUnavailableError if checked["transient"] else HopsworksError
            raise error_cls(checked["message"])
        try:
            execution: dict[str, Any] | None = self.hook.get_execution(
                checked["job_name"], checked["execution_id"]
            )
        except HopsworksError as err:
            self.log.warning(
                "Could not read the final details of execution %s: %s", checked["execution_id"], err
            )
            execution = None
        if execution is not None and not is_terminal(execution.get("state")):
            execution = None
        return self._finish(checked, execution)


def _delay_trigger(delta: timedelta) -> Any:
    try:
        from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger
    except ImportError:  # pragma: no cover - standard provider missing
        from airflow.triggers.temporal import TimeDeltaTrigger  # type: ignore[no-redef]
    return TimeDeltaTrigger(delta)
