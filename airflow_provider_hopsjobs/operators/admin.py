"""Stop executions and delete jobs: the tasks that clean up after (or instead of) a run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_hopsjobs import validation
from airflow_provider_hopsjobs.errors import HopsworksNotFoundError, HopsworksWaitTimeoutError
from airflow_provider_hopsjobs.execution import RUNNING_STATES, Execution, Outcome
from airflow_provider_hopsjobs.operators.base import HopsworksBaseOperator, error_for_event
from airflow_provider_hopsjobs.waiting import ExecutionWatch, WaitPolicy, deadline_after, wait_for_execution

if TYPE_CHECKING:
    from airflow.sdk import Context


class HopsworksStopExecutionOperator(HopsworksBaseOperator):
    """Stop one execution, or every running execution of a job.

    :param job_name: the job (templated).
    :param execution_id: the execution to stop (templated, e.g. from an XCom); when None,
        every execution of the job that is still running is stopped.
    :param wait_for_termination: wait until the stopped executions reached a final state.
    :param timeout: longest wait for that, seconds.
    :param poll_interval: cap of the adaptive poll schedule, seconds.
    :param hopsworks_conn_id: the Airflow connection to Hopsworks (default ``hopsworks_default``).
    :param project: the project, overriding the connection's (templated).
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
        validation.job_name(job_name)
        validation.check_execution_id(execution_id)
        self.job_name = job_name
        self.execution_id = execution_id
        self.wait_for_termination = wait_for_termination
        self.timeout = validation.seconds("timeout", timeout)
        self.policy = WaitPolicy(poll_interval=poll_interval)

    def _targets(self) -> list[Execution]:
        execution_id = validation.execution_id(self.execution_id)
        if execution_id is not None:
            execution = self.hook.get_execution(self.job_name, execution_id)
            if execution.is_terminal:
                self.log.info("Execution %s is already over (%s).", execution_id, execution.state)
                return []
            return [execution]
        running = self.hook.list_executions(self.job_name, filter_by=[f"state:{','.join(RUNNING_STATES)}"])
        # The filter narrows the listing; the check below is what decides.
        return [e for e in running if not e.is_terminal]

    def execute(self, context: Context) -> dict[str, Any]:
        validation.job_name(self.job_name)
        targets = self._targets()
        if not targets:
            self.log.info("No running execution of Hopsworks job %r to stop.", self.job_name)
        states: dict[str, Any] = {}
        for execution in targets:
            self.log.info("Stopping %s (%s).", execution.description, execution.state)
            states[str(execution.id)] = self.hook.stop_execution(self.job_name, execution.id).state
        if self.wait_for_termination and targets:
            deadline = deadline_after(self.timeout, clock=self.clock)
            for execution in targets:
                states[str(execution.id)] = self._wait_until_over(execution, deadline)
        return {"job_name": self.job_name, "stopped": [e.id for e in targets], "states": states}

    def _wait_until_over(self, execution: Execution, deadline: float | None) -> str | None:
        watch = ExecutionWatch(
            job_name=self.job_name,
            execution_id=execution.id,
            deadline=deadline,
            policy=self.policy,
            clock=self.clock,
            log=self.log,
        )
        event = wait_for_execution(self.hook, watch)
        if event["status"] == Outcome.TIMEOUT.value:
            raise HopsworksWaitTimeoutError(
                f"Execution {execution.id} of Hopsworks job {self.job_name!r} was asked to stop "
                f"but is still {event['state']} after {self.timeout:.0f} s."
            )
        if event["status"] == Outcome.ERROR.value:
            raise error_for_event(event)
        return event["state"]


class HopsworksDeleteJobOperator(HopsworksBaseOperator):
    """Delete a Hopsworks job (and its executions).

    :param job_name: the job (templated).
    :param ignore_missing: succeed when the job does not exist (default), which makes the
        task safe to retry and to use as a teardown.
    :param hopsworks_conn_id: the Airflow connection to Hopsworks (default ``hopsworks_default``).
    :param project: the project, overriding the connection's (templated).
    :returns: ``{"job_name", "deleted": bool}``.
    """

    template_fields: Sequence[str] = ("job_name", "project")
    ui_color = "#fde2e2"

    def __init__(self, *, job_name: str, ignore_missing: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        validation.job_name(job_name)
        self.job_name = job_name
        self.ignore_missing = ignore_missing

    def execute(self, context: Context) -> dict[str, Any]:
        validation.job_name(self.job_name)
        try:
            self.hook.delete_job(self.job_name)
        except HopsworksNotFoundError:
            if not self.ignore_missing:
                raise
            self.log.warning("Hopsworks job %r does not exist; nothing to delete.", self.job_name)
            return {"job_name": self.job_name, "deleted": False}
        self.log.info("Deleted Hopsworks job %r.", self.job_name)
        return {"job_name": self.job_name, "deleted": True}
