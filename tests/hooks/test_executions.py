"""Executions: start (text/plain, quoted args, no duplicate after a lost request), read, stop, delete."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from airflow_provider_hopsjobs.errors import (
    HopsworksApiError,
    HopsworksApiUnavailableError,
    HopsworksNotFoundError,
)
from airflow_provider_hopsjobs.execution import Execution, Outcome
from airflow_provider_hopsjobs.hooks.hopsworks import parse_timestamp
from tests.hooks.conftest import P

EXECS = f"{P}/jobs/etl/executions"


def execution(
    id_: int, *, state: str = "INITIALIZING", args: str = "", submitted: str | int | None = None
) -> dict:
    return {
        "href": f"{EXECS}/{id_}",
        "id": id_,
        "submissionTime": submitted or "2024-05-01T10:00:00.000Z",
        "state": state,
        "finalStatus": "UNDEFINED",
        "progress": 0.0,
        "args": args,
    }


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def listing(*executions: dict) -> dict:
    """An executions collection; an empty one has no ``items`` key (Hopsworks leaves empty fields out)."""
    body: dict = {"href": EXECS, "count": len(executions)}
    if executions:
        body["items"] = list(executions)
    return body


@pytest.fixture
def no_history(requests_mock):
    """The job has no executions yet: what the hook sees when it notes the newest id first."""
    return requests_mock.get(EXECS, json=listing())


def test_start_sends_text_plain_args(hook, project, requests_mock, no_history):
    post = requests_mock.post(EXECS, status_code=201, json=execution(7, args="--day 2024-01-01"))
    result = hook.start_execution("etl", "--day 2024-01-01")
    assert result == Execution(
        id=7,
        job_name="etl",
        state="INITIALIZING",
        final_status="UNDEFINED",
        submission_time="2024-05-01T10:00:00.000Z",
        args="--day 2024-01-01",
    )
    assert post.call_count == 1
    request = post.last_request
    assert request.headers["Content-Type"].split(";")[0] == "text/plain"
    assert request.body == b"--day 2024-01-01"
    # One look at the newest execution id before the start, and no other read.
    assert no_history.call_count == 1
    assert no_history.last_request.qs["sort_by"] == ["id:desc"]
    assert no_history.last_request.qs["limit"] == ["1"]


def test_start_shell_quotes_a_list(hook, project, requests_mock, no_history):
    post = requests_mock.post(EXECS, status_code=201, json=execution(8))
    hook.start_execution("etl", ["--name", "two words", "it's"])
    assert post.last_request.body.decode() == "--name 'two words' 'it'\"'\"'s'"


def test_start_without_args_sends_an_empty_text_body(hook, project, requests_mock, no_history):
    post = requests_mock.post(EXECS, status_code=201, json=execution(9))
    hook.start_execution("etl")
    assert not post.last_request.body
    assert post.last_request.headers["Content-Length"] == "0"
    assert post.last_request.headers["Content-Type"].startswith("text/plain")


def test_start_of_unknown_job(hook, project, requests_mock):
    not_found = {"errorCode": 130009, "errorMsg": "Job not found."}
    requests_mock.get(EXECS, status_code=404, json=not_found)
    post = requests_mock.post(EXECS, status_code=404, json=not_found)
    with pytest.raises(HopsworksNotFoundError):
        hook.start_execution("etl")
    assert post.call_count == 0  # the unknown job shows before anything is started


def test_start_rejected_by_quota_is_not_retried(hook, project, requests_mock, no_history):
    post = requests_mock.post(
        EXECS,
        status_code=400,
        json={"errorCode": 130040, "errorMsg": "Job reached the maximum number of executions."},
    )
    with pytest.raises(HopsworksApiError, match="maximum number of executions"):
        hook.start_execution("etl")
    assert post.call_count == 1


def test_lost_start_adopts_the_execution_it_created(hook, project, requests_mock, sleeps):
    """The POST reaches Hopsworks but the connection drops before the answer: no second POST."""
    post = requests_mock.post(EXECS, exc=requests.ConnectionError("Connection aborted: RemoteDisconnected"))
    listed = requests_mock.get(
        EXECS,
        [
            {"json": listing(execution(11, args="--run 1"))},  # before the start
            {"json": listing(execution(12, args="--run 1"), execution(11, args="--run 1"))},
        ],
    )
    result = hook.start_execution("etl", ["--run", "1"], job_type="python")
    assert (result.id, result.args, result.job_type) == (12, "--run 1", "PYTHON")
    assert post.call_count == 1
    assert listed.call_count == 2


def test_lost_start_ignores_server_clocks(hook, project, requests_mock, sleeps):
    """A server clock far ahead of ours must not make an older execution look like the lost one."""
    future = iso(datetime.now(timezone.utc) + timedelta(days=4))
    post = requests_mock.post(
        EXECS,
        [{"exc": requests.ConnectionError("dropped")}, {"status_code": 201, "json": execution(13, args="a")}],
    )
    older = execution(12, args="a", submitted=future)
    requests_mock.get(EXECS, json=listing(older))  # nothing new appeared after the lost request
    assert hook.start_execution("etl", "a").id == 13
    assert post.call_count == 2


def test_lost_start_resends_when_nothing_was_created(hook, project, requests_mock, sleeps):
    post = requests_mock.post(
        EXECS,
        [
            {"exc": requests.exceptions.ReadTimeout},
            {"status_code": 201, "json": execution(13, args="a")},
        ],
    )
    # An older execution with the same args, and a new one with other args: neither is ours.
    requests_mock.get(
        EXECS,
        [
            {"json": listing(execution(10, args="a"))},
            {"json": listing(execution(12, args="b"), execution(10, args="a"))},
        ],
    )
    assert hook.start_execution("etl", "a").id == 13
    assert post.call_count == 2


def test_lost_start_never_adopts_an_earlier_tries_execution(hook, project, requests_mock, sleeps):
    """A retry right after a quick failure: the failed try's execution is newer, same args."""
    post = requests_mock.post(
        EXECS,
        [{"exc": requests.ConnectionError("dropped")}, {"status_code": 201, "json": execution(13, args="a")}],
    )
    # The earlier try's execution 12 shows up only after our first attempt (a slow listing).
    requests_mock.get(EXECS, [{"json": listing()}, {"json": listing(execution(12, args="a"))}])
    assert hook.start_execution("etl", "a", known_ids=[12]).id == 13
    assert post.call_count == 2


def test_lost_start_with_empty_args_matches_default_args(hook, project, requests_mock, sleeps):
    requests_mock.post(EXECS, exc=requests.exceptions.ReadTimeout)
    requests_mock.get(f"{P}/jobs/etl", json={"name": "etl", "config": {"defaultArgs": "--default"}})
    requests_mock.get(EXECS, [{"json": listing()}, {"json": listing(execution(20, args="--default"))}])
    assert hook.start_execution("etl").id == 20


def test_503_start_is_ambiguous_but_429_is_not(hook, project, requests_mock, sleeps):
    post = requests_mock.post(
        EXECS,
        [
            {"status_code": 429, "headers": {"Retry-After": "1"}, "json": {}},
            {"status_code": 201, "json": execution(30)},
        ],
    )
    listed = requests_mock.get(EXECS, json=listing())
    assert hook.start_execution("etl").id == 30
    assert post.call_count == 2
    assert listed.call_count == 1  # only the newest id before the start: a 429 is a refusal
    assert sleeps == [1.0]


def test_start_gives_up_as_unavailable(hook, project, requests_mock, sleeps):
    post = requests_mock.post(EXECS, status_code=502, text="Bad gateway")
    listed = requests_mock.get(EXECS, json=listing())
    with pytest.raises(HopsworksApiUnavailableError, match="Bad gateway"):
        hook.start_execution("etl")
    assert post.call_count == 6
    assert listed.call_count == 6  # the newest id once, then a look before every resend


def test_get_execution_and_its_dates(hook, project, requests_mock):
    requests_mock.get(f"{EXECS}/7", json=execution(7, state="RUNNING", submitted="2024-05-01T10:00:00.123Z"))
    requests_mock.get(f"{EXECS}/8", json=execution(8, submitted=1714557600123))
    first = hook.get_execution("etl", 7)
    second = hook.get_execution("etl", 8)
    assert (first.id, first.job_name, first.state) == (7, "etl", "RUNNING")
    assert parse_timestamp(first.submission_time) == parse_timestamp(second.submission_time)
    assert parse_timestamp(second.submission_time) == datetime(
        2024, 5, 1, 10, 0, 0, 123000, tzinfo=timezone.utc
    )


def test_unknown_execution(hook, project, requests_mock):
    requests_mock.get(
        f"{EXECS}/99", status_code=404, json={"errorCode": 130007, "errorMsg": "Execution not found."}
    )
    with pytest.raises(HopsworksNotFoundError) as err:
        hook.get_execution("etl", 99)
    assert err.value.error_code == 130007


def test_list_executions_paging_and_filters(hook, project, requests_mock):
    requests_mock.get(EXECS, json={"href": EXECS, "count": 10, "items": [execution(3), execution(2)]})
    result = hook.list_executions("etl", filter_by=["state:RUNNING,ACCEPTED"], offset=2, limit=2)
    assert [e.id for e in result] == [3, 2]
    assert {e.job_name for e in result} == {"etl"}
    qs = requests_mock.last_request.qs
    assert qs["sort_by"] == ["submissiontime:desc"]
    assert qs["filter_by"] == ["state:running,accepted"]
    assert (qs["offset"], qs["limit"]) == (["2"], ["2"])


def test_empty_history_has_no_items_key(hook, project, requests_mock):
    requests_mock.get(EXECS, json={"href": EXECS, "count": 0})
    assert hook.list_executions("etl") == []
    assert hook.get_latest_execution("etl") is None


def test_latest_execution(hook, project, requests_mock):
    requests_mock.get(EXECS, json={"href": EXECS, "count": 5, "items": [execution(5)]})
    assert hook.get_latest_execution("etl").id == 5
    assert requests_mock.last_request.qs["limit"] == ["1"]


def test_stop_execution_is_202_with_the_dto(hook, project, requests_mock):
    put = requests_mock.put(f"{EXECS}/7/status", status_code=202, json=execution(7, state="RUNNING"))
    assert hook.stop_execution("etl", 7) == Execution(
        id=7,
        job_name="etl",
        state="RUNNING",
        final_status="UNDEFINED",
        submission_time="2024-05-01T10:00:00.000Z",
        args="",
    )
    assert put.last_request.json() == {"state": "stopped"}


def test_stop_execution_with_empty_answer_reads_the_execution(hook, project, requests_mock):
    requests_mock.put(f"{EXECS}/7/status", status_code=202, text="")
    requests_mock.get(f"{EXECS}/7", json=execution(7, state="KILLED"))
    stopped = hook.stop_execution("etl", 7, job_type="spark")
    assert (stopped.id, stopped.state, stopped.job_type, stopped.outcome) == (
        7,
        "KILLED",
        "SPARK",
        Outcome.KILLED,
    )


def test_delete_execution(hook, project, requests_mock):
    delete = requests_mock.delete(f"{EXECS}/7", status_code=204)
    hook.delete_execution("etl", 7)
    assert delete.call_count == 1


def finished(id_: int, final_status: str) -> dict:
    return {**execution(id_, state="FINISHED"), "finalStatus": final_status}


def test_the_job_type_passes_through_every_read(hook, project, requests_mock):
    """FINISHED with finalStatus UNDEFINED: a success for a Python job, a lost status for Spark."""
    requests_mock.get(f"{EXECS}/7", json=finished(7, "UNDEFINED"))
    requests_mock.get(EXECS, json=listing(finished(7, "UNDEFINED")))
    requests_mock.put(f"{EXECS}/7/status", status_code=202, json=finished(7, "UNDEFINED"))
    assert hook.get_execution("etl", 7).outcome is Outcome.SUCCESS  # no job type: no YARN status
    reads = [
        hook.get_execution("etl", 7, job_type="SPARK"),
        *hook.list_executions("etl", job_type="spark"),
        hook.get_latest_execution("etl", job_type="Spark"),
        hook.stop_execution("etl", 7, job_type="SPARK"),
    ]
    assert [(e.job_type, e.outcome) for e in reads] == [("SPARK", Outcome.FAILED)] * 4
    python = hook.get_execution("etl", 7, job_type="PYTHON")
    assert (python.job_type, python.outcome) == ("PYTHON", Outcome.SUCCESS)


def test_start_passes_the_job_type_through(hook, project, requests_mock, no_history):
    requests_mock.post(EXECS, status_code=201, json=execution(9))
    started = hook.start_execution("etl", job_type="pyspark")
    assert (started.id, started.job_type, started.outcome) == (9, "PYSPARK", Outcome.RUNNING)
