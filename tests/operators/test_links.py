"""The "Hopsworks Execution" extra link."""

from __future__ import annotations

import contextlib
from unittest import mock

try:
    from airflow.sdk.execution_time.xcom import XCom
except ImportError:  # Airflow 3.0
    from airflow.models.xcom import XCom

from airflow_provider_hopsjobs import get_provider_info
from airflow_provider_hopsjobs.operators.jobs import HopsworksRunJobOperator
from airflow_provider_hopsjobs.operators.links import HopsworksExecutionLink
from airflow_provider_hopsjobs.sensors.execution import HopsworksExecutionSensor

URL = "https://hopsworks.example.com/p/119/jobs/named/train/executions"


def test_link_reads_the_execution_url_xcom() -> None:
    ti_key = mock.Mock(dag_id="d", task_id="t", run_id="r", map_index=-1)
    with mock.patch.object(XCom, "get_value", return_value=URL) as get_value:
        link = HopsworksExecutionLink().get_link(mock.Mock(), ti_key=ti_key)
    assert link == URL
    get_value.assert_called_once_with(ti_key=ti_key, key="execution_url")


def test_link_is_empty_before_an_execution_exists() -> None:
    with mock.patch.object(XCom, "get_value", return_value=None):
        assert HopsworksExecutionLink().get_link(mock.Mock(), ti_key=mock.Mock()) == ""


def test_no_xcom_is_asked_for_when_the_try_published_no_execution() -> None:
    """A try that failed before starting anything must not make Airflow log "XCom not found"."""
    op = HopsworksRunJobOperator(task_id="run", job_name="train")
    with mock.patch.object(XCom, "get_value", return_value=URL) as get_value:
        assert HopsworksExecutionLink().get_link(op, ti_key=mock.Mock()) == ""
        get_value.assert_not_called()
        op.published_execution_id = 7  # what publishing the execution records
        assert HopsworksExecutionLink().get_link(op, ti_key=mock.Mock()) == URL


def test_a_resumed_try_links_to_the_execution_it_deferred_on() -> None:
    sensor = HopsworksExecutionSensor(task_id="wait", job_name="train", execution_id=7, deferrable=True)
    event = {"status": "timeout", "execution_id": 7, "job_name": "train", "message": "late"}
    with contextlib.suppress(Exception):  # the timeout is the sensor's business; the link is checked here
        sensor.execute_complete({}, event)
    with mock.patch.object(XCom, "get_value", return_value=URL):
        assert HopsworksExecutionLink().get_link(sensor, ti_key=mock.Mock()) == URL


def test_link_is_registered_and_attached() -> None:
    assert HopsworksExecutionLink.name == "Hopsworks Execution"
    path = f"{HopsworksExecutionLink.__module__}.{HopsworksExecutionLink.__qualname__}"
    assert path in get_provider_info()["extra-links"]
    for operator_class in (HopsworksRunJobOperator, HopsworksExecutionSensor):
        assert any(isinstance(link, HopsworksExecutionLink) for link in operator_class.operator_extra_links)
