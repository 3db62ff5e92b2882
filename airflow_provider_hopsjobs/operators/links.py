"""The "Hopsworks Execution" button on a task: a link to the execution's page in Hopsworks.

The URL is read from the ``execution_url`` XCom, which the run operator and the sensor push
before they wait or defer. Airflow 3 evaluates extra links on the worker when a try ends,
deferral included, so the button works while the job is still running.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

try:
    from airflow.sdk import BaseOperatorLink
except ImportError:  # pragma: no cover - Airflow before the Task SDK
    from airflow.models.baseoperatorlink import BaseOperatorLink  # type: ignore[no-redef]

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

#: XCom keys every operator of this provider that starts or watches an execution pushes.
XCOM_EXECUTION_ID: Final[str] = "execution_id"
XCOM_EXECUTION_URL: Final[str] = "execution_url"


def _xcom() -> type:
    try:
        from airflow.sdk.execution_time.xcom import XCom
    except ImportError:  # pragma: no cover
        from airflow.models.xcom import XCom  # type: ignore[no-redef]
    return XCom  # type: ignore[no-any-return]


class HopsworksExecutionLink(BaseOperatorLink):
    """Link to the Hopsworks page of the execution a task started or watches."""

    name = "Hopsworks Execution"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        # Airflow evaluates the link on the worker at the end of every try, with the operator that
        # ran it. A try that failed before any execution existed (a missing connection, an unknown
        # job) has nothing to link to, and asking for the XCom would log "XCom not found" as an
        # error beside the real cause.
        if getattr(operator, "published_execution_id", -1) is None:
            return ""
        url = _xcom().get_value(ti_key=ti_key, key=XCOM_EXECUTION_URL)  # type: ignore[attr-defined]
        return url if isinstance(url, str) else ""
