"""The live tail (5.1+ pod-logs), sync and async, and what a server without it answers.

Source: the official SDK modules ``core/execution_api`` (``_get_pod_logs``) and
``core/execution_pod_log``.
"""

from __future__ import annotations

import pytest

from airflow_provider_hopsjobs.errors import HopsworksConfigError, HopsworksNotFoundError
from airflow_provider_hopsjobs.live_logs import NOT_SERVED, PodLog
from tests.hooks.conftest import P

POD_LOGS = f"{P}/jobs/etl/executions/7/pod-logs"


def test_get_pod_logs_reads_the_sdk_shape(hook, project, requests_mock):
    body = {
        "status": "AVAILABLE",
        "available": True,
        "log": "a\nb\n",
        "podName": "etl-7",
        "containerName": "main",
    }
    get = requests_mock.get(POD_LOGS, json=body)
    assert hook.get_pod_logs("etl", 7, lines=50) == PodLog("AVAILABLE", True, None, "a\nb\n", "etl-7", "main")
    assert get.last_request.qs == {"lines": ["50"]}


def test_a_server_without_pod_logs_says_not_served(hook, project, requests_mock):
    no_route = {
        "errorCode": 120004,
        "errorMsg": "Web application exception occurred",
        "usrMsg": "HTTP 404 Not Found",
    }
    requests_mock.get(POD_LOGS, status_code=404, json=no_route)
    assert hook.get_pod_logs("etl", 7).status == NOT_SERVED


def test_an_unknown_execution_is_still_an_error(hook, project, requests_mock):
    get = requests_mock.get(
        POD_LOGS, status_code=404, json={"errorCode": 130007, "errorMsg": "Execution not found."}
    )
    with pytest.raises(HopsworksNotFoundError):
        hook.get_pod_logs("etl", 7)
    assert get.call_count == 1  # one attempt: the next poll is the retry


def test_bad_arguments_send_nothing(hook, project, requests_mock):
    get = requests_mock.get(POD_LOGS, json={})
    with pytest.raises(HopsworksConfigError, match="lines"):
        hook.get_pod_logs("etl", 7, lines=-1)
    assert get.call_count == 0
