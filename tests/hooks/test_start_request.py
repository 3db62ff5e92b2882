"""The 5.x JSON start: the run's dates and env vars, the 415 fall-back remembered per connection.

Sources: the official SDK module ``core/execution_api`` (``_start``: the JSON body, dates in
``envVars`` as ``HOPS_START_TIME``/``HOPS_END_TIME``); the Hopsworks REST resource
``ExecutionsResource`` (before 5.0 only ``text/plain``, anything else 415/120004).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone

import pendulum
import pytest
import requests

from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.hooks.start_request import TEXT_ONLY_SERVERS, StartRequest, utc_iso
from tests.hooks.conftest import P

EXECS = f"{P}/jobs/etl/executions"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
END = datetime(2026, 1, 2, tzinfo=timezone.utc)
REFUSED = {
    "status_code": 415,
    "json": {"errorCode": 120004, "errorMsg": "Web application exception occurred"},
}


def created(id_: int, args: str = "") -> dict:
    return {"id": id_, "state": "INITIALIZING", "finalStatus": "UNDEFINED", "args": args}


@pytest.fixture(autouse=True)
def fresh_memory() -> Iterator[None]:
    TEXT_ONLY_SERVERS.discard("hopsworks_default")
    yield
    TEXT_ONLY_SERVERS.discard("hopsworks_default")


@pytest.fixture
def no_history(requests_mock):
    return requests_mock.get(EXECS, json={"count": 0})


def test_dates_are_formatted_as_the_scheduler_formats_them() -> None:
    assert utc_iso(START) == "2026-01-01T00:00:00+00:00"
    assert utc_iso(pendulum.datetime(2026, 1, 1, 2, tz="Europe/Stockholm")) == "2026-01-01T01:00:00+00:00"
    assert utc_iso(datetime(2026, 1, 1)) == "2026-01-01T00:00:00+00:00"  # naive is UTC


def test_only_what_is_known_is_sent() -> None:
    assert not StartRequest("a").needs_json
    assert StartRequest(logical_date=START).json_body() == {"logicalDate": "2026-01-01T00:00:00+00:00"}
    body = StartRequest("x", {"HOPS_END_TIME": "mine"}, START, START, END).json_body()
    assert body == {
        "args": "x",
        "envVars": {"HOPS_START_TIME": "2026-01-01T00:00:00+00:00", "HOPS_END_TIME": "mine"},
        "logicalDate": "2026-01-01T00:00:00+00:00",
        "dataIntervalEnd": "2026-01-02T00:00:00+00:00",
    }


def test_json_start_body(hook, project, requests_mock, no_history):
    post = requests_mock.post(EXECS, status_code=201, json=created(7, "a"))
    hook.start_execution(
        "etl", "a", env_vars={"K": "v"}, logical_date=START, data_interval_start=START, data_interval_end=END
    )
    request = post.last_request
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "args": "a",
        "envVars": {"HOPS_START_TIME": utc_iso(START), "HOPS_END_TIME": utc_iso(END), "K": "v"},
        "logicalDate": utc_iso(START),
        "dataIntervalEnd": utc_iso(END),
    }


def test_415_falls_back_to_text_once_and_remembers_it_per_connection(
    hook, project, requests_mock, no_history
):
    post = requests_mock.post(EXECS, [REFUSED, {"status_code": 201, "json": created(7, "a")}])
    assert hook.start_execution("etl", "a", logical_date=START).id == 7
    assert [r.headers["Content-Type"].split(";")[0] for r in post.request_history] == [
        "application/json",
        "text/plain",
    ]
    post = requests_mock.post(EXECS, status_code=201, json=created(8, "a"))
    other_hook = HopsworksHook()  # another task, same connection: no second 415
    assert other_hook.start_execution("etl", "a", logical_date=START).id == 8
    assert post.call_count == 1 and post.last_request.headers["Content-Type"].startswith("text/plain")


def test_env_vars_a_text_only_server_cannot_take_fail_clearly(hook, project, requests_mock, no_history):
    post = requests_mock.post(EXECS, [REFUSED])
    with pytest.raises(HopsworksConfigError, match=r"env_vars \(MY_VAR\) cannot reach the job"):
        hook.start_execution("etl", "a", env_vars={"MY_VAR": "1"})
    assert post.call_count == 1  # refused, nothing started, nothing resent
    with pytest.raises(HopsworksConfigError, match="Nothing was started"):
        hook.start_execution("etl", "a", env_vars={"MY_VAR": "1"})
    assert post.call_count == 1  # known now: refused before sending


def test_optional_env_vars_go_in_the_json_body_and_lose_to_the_users(
    hook, project, requests_mock, no_history
):
    post = requests_mock.post(EXECS, status_code=201, json=created(7, "a"))
    hook.start_execution(
        "etl",
        "a",
        env_vars={"K": "mine"},
        optional_env_vars={"K": "lineage", "OPENLINEAGE_PARENT_ID": "ns/j/r"},
    )
    assert json.loads(post.last_request.body)["envVars"] == {"K": "mine", "OPENLINEAGE_PARENT_ID": "ns/j/r"}


def test_optional_env_vars_are_dropped_by_a_text_only_server_not_failed_for(
    hook, project, requests_mock, no_history
):
    post = requests_mock.post(EXECS, [REFUSED, {"status_code": 201, "json": created(7, "a")}])
    assert hook.start_execution("etl", "a", optional_env_vars={"OPENLINEAGE_PARENT_ID": "ns/j/r"}).id == 7
    assert post.last_request.headers["Content-Type"].startswith("text/plain")
    assert post.last_request.body == b"a"


def test_bad_env_vars_are_refused_before_anything_is_sent(hook, project, requests_mock):
    post = requests_mock.post(EXECS, status_code=201, json=created(7))
    for bad in ({"A=B": "x"}, {"": "x"}, {"K": ["list"]}, ["K=v"]):
        with pytest.raises(HopsworksConfigError, match="env_vars"):
            hook.start_execution("etl", env_vars=bad)  # type: ignore[arg-type]
    assert post.call_count == 0


def test_lost_json_start_adopts_the_execution_it_created(hook, project, requests_mock, sleeps):
    post = requests_mock.post(EXECS, exc=requests.ConnectionError("Connection aborted"))
    requests_mock.get(
        EXECS,
        [
            {"json": {"count": 1, "items": [created(11, "--run 1")]}},
            {"json": {"count": 2, "items": [created(12, "--run 1"), created(11, "--run 1")]}},
        ],
    )
    result = hook.start_execution("etl", ["--run", "1"], logical_date=START, env_vars={"K": "v"})
    assert result.id == 12
    assert post.call_count == 1
    assert post.last_request.headers["Content-Type"] == "application/json"
