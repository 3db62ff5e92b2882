"""What every task of this provider shares: the connection, the hook, the execution's XComs, verdicts.

:class:`HopsworksBaseOperator` is the base of the operators and (with
``BaseSensorOperator``) of the sensor. It owns the connection parameters every task takes,
builds the hook, publishes the execution a task started or watches (so the "Hopsworks
Execution" link works while it runs), and turns a wait's final event into the one exception
that fits, so that the run operator and the sensor fail alike.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_hopsjobs.clock import SYSTEM_CLOCK, Clock
from airflow_provider_hopsjobs.errors import (
    HopsworksApiUnavailableError,
    HopsworksConfigError,
    HopsworksError,
    HopsworksExecutionKilledError,
    HopsworksJobFailedError,
)
from airflow_provider_hopsjobs.execution import Execution, ExecutionEvent, Outcome
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.operators.links import XCOM_EXECUTION_ID, XCOM_EXECUTION_URL

if TYPE_CHECKING:
    from airflow.sdk import Context


def error_for_event(event: ExecutionEvent, *, url: str | None = None) -> HopsworksError:
    """The exception for a wait that ended in ``error``: an outage (transient) or a refusal."""
    message = event["message"] + (f" Execution page: {url}" if url else "")
    if event["transient"]:
        return HopsworksApiUnavailableError(message)
    return HopsworksError(message)


def failure_for_event(
    event: ExecutionEvent, message: str, *, execution: Execution | None, retry_on_kill: bool = False
) -> HopsworksJobFailedError:
    """The exception for an execution that failed, or was killed (not retried unless asked)."""
    if event["status"] == Outcome.KILLED.value and not retry_on_kill:
        return HopsworksExecutionKilledError(message, execution=execution)
    return HopsworksJobFailedError(message, execution=execution)


class HopsworksBaseOperator(BaseOperator):
    """Base of the provider's tasks.

    Every operator and the sensor of this provider take these parameters:

    :param hopsworks_conn_id: the Airflow connection to Hopsworks (connection type
        ``hopsworks``; the API key in its password). Default ``hopsworks_default``.
    :param project: the project's name, overriding the connection's ``project`` extra
        (templated where the task lists it in ``template_fields``).
    """

    #: The one time seam (see :mod:`airflow_provider_hopsjobs.clock`).
    clock: Clock = SYSTEM_CLOCK

    def __init__(
        self,
        *,
        hopsworks_conn_id: str = HopsworksHook.default_conn_name,
        project: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(hopsworks_conn_id, str) or not hopsworks_conn_id.strip():
            raise HopsworksConfigError(
                f"hopsworks_conn_id must be a connection id, got {hopsworks_conn_id!r}"
            )
        if project is not None and (not isinstance(project, str) or not project.strip()):
            raise HopsworksConfigError(f"project must be a project name or None, got {project!r}")
        self.hopsworks_conn_id = hopsworks_conn_id
        self.project = project
        #: The execution this task has published (started, reattached to, watched or resumed on).
        self.published_execution_id: int | None = None

    @cached_property
    def hook(self) -> HopsworksHook:
        return HopsworksHook(hopsworks_conn_id=self.hopsworks_conn_id, project=self.project)

    def publish_execution(self, context: Context, job_name: str, execution_id: int) -> str:
        """Push ``execution_id`` and ``execution_url`` (once per execution); return the URL."""
        url = self.hook.execution_url(job_name, execution_id)
        if self.published_execution_id != execution_id:
            ti = context["ti"]
            ti.xcom_push(key=XCOM_EXECUTION_ID, value=execution_id)
            ti.xcom_push(key=XCOM_EXECUTION_URL, value=url)
            self.published_execution_id = execution_id
        return url

    def resumed_on(self, execution_id: int) -> None:
        """A try resumed from the triggerer: its execution was published before it deferred."""
        self.published_execution_id = execution_id

    def final_execution(self, event: ExecutionEvent) -> Execution:
        """The finished execution read once more (for its duration); the event's view if that fails."""
        try:
            execution = self.hook.get_execution(event["job_name"], event["execution_id"])
        except HopsworksError as err:
            self.log.warning(
                "Could not read the final details of execution %s: %s", event["execution_id"], err
            )
        else:
            if execution.is_terminal:
                return execution
        return Execution.from_event(event)
