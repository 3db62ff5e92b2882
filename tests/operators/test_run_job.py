"""HopsworksRunJobOperator: control flow with the hook's methods patched.

Each test patches only the hook methods it needs, so a call the test did not expect
(starting a second execution, say) fails loudly instead of passing silently.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest

from airflow_provider_hopsjobs._compat import AirflowFailException, TaskDeferred
from airflow_provider_hopsjobs.errors import (
    HopsworksApiUnavailableError,
    HopsworksConfigError,
    HopsworksError,
    HopsworksExecutionKilledError,
    HopsworksJobFailedError,
    HopsworksLogUnavailableError,
    HopsworksNotFoundError,
    HopsworksWaitTimeoutError,
)
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.operators import reattach
from airflow_provider_hopsjobs.operators.jobs import HopsworksRunJobOperator
from airflow_provider_hopsjobs.operators.reattach import STATE_STORE_KEY
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger
from airflow_provider_hopsjobs.waiting import poll_intervals
from tests.airflow_support import FakeClock, FakeTaskStateStore, FakeTI, execution, make_context

URL = "https://hopsworks.example.com/p/119/jobs/named/train/executions"
PYTHON_JOB = {"id": 3, "name": "train", "jobType": "PYTHON", "config": {"type": "pythonJobConfiguration"}}


def make_op(**overrides: Any) -> HopsworksRunJobOperator:
    kwargs: dict[str, Any] = {"task_id": "run", "job_name": "train", "deferrable": False}
    kwargs.update(overrides)
    return HopsworksRunJobOperator(**kwargs)


def logs(out: list[str] | None = None, err: list[str] | None = None, missing: tuple[str, ...] = ()) -> Any:
    """A stand-in for iter_execution_log serving canned lines per stream."""
    streams = {"out": out or [], "err": err or []}

    def iter_log(
        _hook: Any, job_name: str, execution_id: int, log_type: str = "out", *, wait_timeout: float = 60.0
    ) -> Iterator[str]:
        if log_type in missing:
            raise HopsworksLogUnavailableError(f"no {log_type} log after {wait_timeout} s")
        yield from streams[log_type]

    return mock.patch.object(HopsworksHook, "iter_execution_log", side_effect=iter_log, autospec=True)


@pytest.fixture
def hook_basics() -> Iterator[dict[str, mock.MagicMock]]:
    """get_job and execution_url, which every run needs."""
    with (
        mock.patch.object(HopsworksHook, "get_job", return_value=PYTHON_JOB) as get_job,
        mock.patch.object(HopsworksHook, "execution_url", return_value=URL) as url,
    ):
        yield {"get_job": get_job, "execution_url": url}


@pytest.fixture(autouse=True)
def task_state_store_tier(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests hand the operator a fake task state store, whatever the Airflow version.

    (Airflow before 3.3 keeps the record in a Variable; that tier has tests of its own.)
    """
    monkeypatch.setattr(reattach, "AIRFLOW_V_3_3_PLUS", True)


# -- construction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"job_name": "bad name"}, "Invalid job name"),
        ({"job_name": ""}, "job name is required"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"timeout": -5}, "timeout"),
        ({"fetch_logs": "sometimes"}, "fetch_logs"),
        ({"args": {"a": 1}}, "args"),
        ({"job_type": "COBOL"}, "job_type"),
    ],
)
def test_bad_input_fails_when_the_dag_is_parsed(override: dict[str, Any], message: str) -> None:
    with pytest.raises(HopsworksConfigError, match=message):
        make_op(**override)


def test_templated_fields_and_templated_name_accepted() -> None:
    op = make_op(job_name="{{ params.job }}", args=["--date", "{{ ds }}"])
    assert set(HopsworksRunJobOperator.template_fields) >= {"job_name", "args"}
    assert op.job_name == "{{ params.job }}"


def test_deferrable_default_follows_airflow_config(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from airflow_provider_hopsjobs.operators import jobs

    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    reloaded = importlib.reload(jobs)
    try:
        assert reloaded.HopsworksRunJobOperator(task_id="t", job_name="train").deferrable is True
    finally:
        monkeypatch.delenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE")
        importlib.reload(jobs)


# -- deferrable path -----------------------------------------------------------------------------


def test_defers_with_trigger_after_publishing_the_execution(fake_clock: FakeClock, hook_basics: Any) -> None:
    op = make_op(deferrable=True, timeout=timedelta(minutes=10), poll_interval=15, args=["--epochs", "3"])
    ti = FakeTI()
    store = FakeTaskStateStore()
    with (
        mock.patch.object(
            HopsworksHook, "start_execution", return_value=execution(state="INITIALIZING")
        ) as start,
        mock.patch.object(HopsworksHook, "get_execution", return_value=execution(state="RUNNING")) as get,
        pytest.raises(TaskDeferred) as deferred,
    ):
        op.execute(make_context(ti, store))
    start.assert_called_once_with("train", ["--epochs", "3"], known_ids=(), job_type="PYTHON")
    get.assert_called_once_with("train", 7, job_type="PYTHON")  # checked once before deferring
    trigger = deferred.value.trigger
    assert isinstance(trigger, HopsworksExecutionTrigger)
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout is None  # the trigger carries the deadline instead
    _, kwargs = trigger.serialize()
    assert kwargs == {
        "job_name": "train",
        "execution_id": 7,
        "hopsworks_conn_id": "hopsworks_default",
        "project": None,
        "job_type": "PYTHON",
        "deadline": fake_clock.now + 600,
        "poll_interval": 15.0,
        "transient_error_budget_seconds": 600.0,
        "cancel_on_kill": True,
        "wait_started_at": fake_clock.now,  # the poll schedule continues from here in the triggerer
        "live_logs": False,
        "live_log_lines": 1000,
    }
    assert ti.xcoms == {"execution_id": 7, "execution_url": URL}
    assert store.values[STATE_STORE_KEY]["execution_id"] == 7


def test_deferred_deadline_honours_execution_timeout(fake_clock: FakeClock, hook_basics: Any) -> None:
    op = make_op(deferrable=True, timeout=3600, execution_timeout=timedelta(minutes=5))
    with (
        mock.patch.object(HopsworksHook, "start_execution", return_value=execution()),
        mock.patch.object(HopsworksHook, "get_execution", return_value=execution()),
        pytest.raises(TaskDeferred) as deferred,
    ):
        op.execute(make_context())
    assert deferred.value.trigger.deadline == fake_clock.now + 300


def test_does_not_defer_when_already_finished(fake_clock: FakeClock, hook_basics: Any) -> None:
    op = make_op(deferrable=True)
    done = execution(state="FINISHED", final_status="SUCCEEDED", duration=1200)
    with (
        mock.patch.object(HopsworksHook, "start_execution", return_value=execution(state="INITIALIZING")),
        mock.patch.object(HopsworksHook, "get_execution", return_value=done),
        logs(out=["hello"]),
    ):
        result = op.execute(make_context())
    assert result == {
        "execution_id": 7,
        "job_name": "train",
        "state": "FINISHED",
        "final_status": "SUCCEEDED",
        "duration_ms": 1200,
        "url": URL,
    }


def test_an_outage_at_the_check_before_deferring_still_defers(
    fake_clock: FakeClock, hook_basics: Any
) -> None:
    with (
        mock.patch.object(HopsworksHook, "start_execution", return_value=execution(state="INITIALIZING")),
        mock.patch.object(HopsworksHook, "get_execution", side_effect=HopsworksApiUnavailableError("503")),
        pytest.raises(TaskDeferred) as deferred,
    ):
        make_op(deferrable=True).execute(make_context())
    assert deferred.value.trigger.execution_id == 7


def test_bad_connection_argument_fails_when_the_dag_is_parsed() -> None:
    with pytest.raises(HopsworksConfigError, match="project must be a project name"):
        make_op(deferrable=True, project="")
    with pytest.raises(HopsworksConfigError, match="hopsworks_conn_id must be a connection id"):
        make_op(deferrable=True, hopsworks_conn_id="")


def test_unknown_job_fails_before_starting() -> None:
    missing = HopsworksNotFoundError("HTTP 404, errorCode 130009: Job not found.", status_code=404)
    with (
        mock.patch.object(HopsworksHook, "get_job", side_effect=missing),
        mock.patch.object(HopsworksHook, "start_execution") as start,
        pytest.raises(HopsworksNotFoundError, match="Job not found"),
    ):
        make_op().execute(make_context())
    start.assert_not_called()


# -- execute_complete: every branch ---------------------------------------------------------------


def event(status: str, **extra: Any) -> dict[str, Any]:
    base = {
        "status": status,
        "execution_id": 7,
        "job_name": "train",
        "state": "FINISHED",
        "final_status": "SUCCEEDED",
        "message": f"Hopsworks job 'train' execution 7: {status}.",
        "transient": False,
    }
    base.update(extra)
    return base


@pytest.mark.parametrize(
    "bad", [None, "success", {"status": "maybe", "execution_id": 7, "job_name": "x"}, {}]
)
def test_execute_complete_refuses_missing_or_unknown_events(bad: Any) -> None:
    with pytest.raises(HopsworksError, match="event"):
        make_op().execute_complete(make_context(), bad)


def test_execute_complete_success_returns_summary_and_logs_stdout(
    hook_basics: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    store = FakeTaskStateStore({STATE_STORE_KEY: {"job_name": "train", "execution_id": 7}})
    done = execution(state="FINISHED", final_status="SUCCEEDED", duration=4200)
    with (
        mock.patch.object(HopsworksHook, "get_execution", return_value=done),
        logs(out=["epoch 1 loss=0.3", "epoch 2 loss=0.1"], err=["a warning"]) as iter_log,
    ):
        result = make_op().execute_complete(make_context(store=store), event("success"))
    assert result["duration_ms"] == 4200
    assert result["state"] == "FINISHED"
    assert [c.args[3] for c in iter_log.call_args_list] == ["out"]  # stderr only on failure by default
    text = capsys.readouterr().out
    assert "----- Hopsworks job 'train' execution 7 stdout -----" in text
    assert "epoch 2 loss=0.1" in text
    assert "a warning" not in text
    assert STATE_STORE_KEY not in store.values  # forgotten: clearing the task later runs the job again


def test_execute_complete_failure_raises_with_stderr_tail(hook_basics: Any) -> None:
    failed = execution(state="FAILED", final_status="FAILED")
    with (
        mock.patch.object(HopsworksHook, "get_execution", return_value=failed),
        logs(
            out=["starting"], err=["Traceback (most recent call last):", "ValueError: bad input"]
        ) as iter_log,
        pytest.raises(HopsworksJobFailedError) as raised,
    ):
        make_op().execute_complete(make_context(), event("failed", state="FAILED", final_status="FAILED"))
    assert not isinstance(raised.value, AirflowFailException)  # Airflow may retry a failed job
    assert "ValueError: bad input" in str(raised.value)
    assert URL in str(raised.value)
    assert raised.value.execution is not None and raised.value.execution.state == "FAILED"
    assert [c.args[3] for c in iter_log.call_args_list] == ["out", "err"]


def test_execute_complete_killed_fails_without_retry(hook_basics: Any) -> None:
    killed = execution(state="KILLED", final_status="KILLED")
    with (
        mock.patch.object(HopsworksHook, "get_execution", return_value=killed),
        logs(),
        pytest.raises(HopsworksExecutionKilledError) as raised,
    ):
        make_op().execute_complete(make_context(), event("killed", state="KILLED", final_status="KILLED"))
    assert isinstance(raised.value, AirflowFailException)


def test_execute_complete_killed_may_retry_when_asked(hook_basics: Any) -> None:
    killed = execution(state="KILLED", final_status="KILLED")
    with (
        mock.patch.object(HopsworksHook, "get_execution", return_value=killed),
        logs(),
        pytest.raises(HopsworksJobFailedError) as raised,
    ):
        make_op(retry_on_kill=True).execute_complete(make_context(), event("killed", state="KILLED"))
    assert not isinstance(raised.value, HopsworksExecutionKilledError)


def test_execute_complete_timeout_stops_the_execution(hook_basics: Any) -> None:
    with (
        mock.patch.object(HopsworksHook, "stop_execution", return_value=execution()) as stop,
        logs(out=["before the stop"], err=["slow"]) as copied,
        pytest.raises(HopsworksWaitTimeoutError, match="stopped") as raised,
    ):
        make_op().execute_complete(make_context(), event("timeout", state="RUNNING"))
    stop.assert_called_once_with("train", 7)
    assert [c.args[3] for c in copied.call_args_list] == ["out", "err"]  # after the stop, both streams
    assert "slow" in str(raised.value)


def test_execute_complete_timeout_still_fails_when_stop_fails(hook_basics: Any) -> None:
    with (
        mock.patch.object(HopsworksHook, "stop_execution", side_effect=HopsworksApiUnavailableError("down")),
        logs(),
        pytest.raises(HopsworksWaitTimeoutError),
    ):
        make_op().execute_complete(make_context(), event("timeout", state="RUNNING"))


def test_execute_complete_transient_error_is_api_unavailable(hook_basics: Any) -> None:
    with pytest.raises(HopsworksApiUnavailableError, match="unavailable"):
        make_op().execute_complete(
            make_context(), event("error", transient=True, message="The Hopsworks API stayed unavailable")
        )


def test_execute_complete_other_error_is_not_transient(hook_basics: Any) -> None:
    with pytest.raises(HopsworksError, match="no longer exists") as raised:
        make_op().execute_complete(make_context(), event("error", message="execution 7 no longer exists"))
    assert not isinstance(raised.value, HopsworksApiUnavailableError)


def test_missing_log_warns_but_success_stands(hook_basics: Any, capsys: pytest.CaptureFixture[str]) -> None:
    done = execution(state="FINISHED", final_status="SUCCEEDED")
    with (
        mock.patch.object(HopsworksHook, "get_execution", return_value=done),
        logs(missing=("out",)),
    ):
        result = make_op().execute_complete(make_context(), event("success"))
    assert result["final_status"] == "SUCCEEDED"
    assert "is not available" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fetch_logs", "status", "streams"),
    [
        (True, "success", ["out"]),
        (True, "failed", ["out", "err"]),
        ("both", "success", ["out", "err"]),
        ("err", "success", ["err"]),
        ("on_failure", "success", []),
        ("on_failure", "failed", ["out", "err"]),
        (False, "failed", []),
    ],
)
def test_fetch_logs_selects_streams(
    hook_basics: Any, fetch_logs: Any, status: str, streams: list[str]
) -> None:
    final = execution(state="FINISHED", final_status="SUCCEEDED" if status == "success" else "FAILED")
    with (
        mock.patch.object(HopsworksHook, "get_execution", return_value=final),
        logs() as iter_log,
    ):
        try:
            make_op(fetch_logs=fetch_logs).execute_complete(make_context(), event(status))
        except HopsworksJobFailedError:
            assert status == "failed"
    assert [c.args[3] for c in iter_log.call_args_list] == streams


# -- synchronous path --------------------------------------------------------------------------------


def test_sync_wait_rides_out_an_outage_and_succeeds(fake_clock: FakeClock, hook_basics: Any) -> None:
    polls = [
        execution(state="RUNNING"),
        HopsworksApiUnavailableError("HTTP 503"),
        execution(state="RUNNING"),
        execution(state="FINISHED", final_status="SUCCEEDED", duration=9000),
    ]
    ti = FakeTI()
    with (
        mock.patch.object(
            HopsworksHook, "start_execution", return_value=execution(state="INITIALIZING")
        ) as start,
        mock.patch.object(HopsworksHook, "get_execution", side_effect=polls),
        logs(out=["done"]),
    ):
        result = make_op().execute(make_context(ti))
    start.assert_called_once()
    assert result["duration_ms"] == 9000
    assert ti.push_order == ["execution_id", "execution_url"]
    assert fake_clock.sleeps == list(itertools.islice(poll_intervals(30), 3))  # the shared adaptive schedule


def test_sync_timeout_stops_and_raises(fake_clock: FakeClock, hook_basics: Any) -> None:
    with (
        mock.patch.object(HopsworksHook, "start_execution", return_value=execution(state="INITIALIZING")),
        mock.patch.object(HopsworksHook, "get_execution", return_value=execution(state="RUNNING")),
        mock.patch.object(HopsworksHook, "stop_execution", return_value=execution()) as stop,
        logs(),
        pytest.raises(HopsworksWaitTimeoutError),
    ):
        make_op(timeout=30).execute(make_context())
    stop.assert_called_once_with("train", 7)
    assert sum(fake_clock.sleeps) == pytest.approx(30.01, abs=0.02)


def test_sync_failure_raises_job_failed(fake_clock: FakeClock, hook_basics: Any) -> None:
    with (
        mock.patch.object(HopsworksHook, "start_execution", return_value=execution(state="INITIALIZING")),
        mock.patch.object(HopsworksHook, "get_execution", return_value=execution(state="FAILED")),
        logs(err=["boom"]),
        pytest.raises(HopsworksJobFailedError, match="boom"),
    ):
        make_op().execute(make_context())


def test_fire_and_forget_returns_after_start(hook_basics: Any) -> None:
    store = FakeTaskStateStore()
    with (
        mock.patch.object(HopsworksHook, "start_execution", return_value=execution(state="INITIALIZING")),
        mock.patch.object(HopsworksHook, "get_execution") as get,
    ):
        result = make_op(wait_for_completion=False).execute(make_context(store=store))
    get.assert_not_called()
    assert result["state"] == "INITIALIZING"
    assert STATE_STORE_KEY not in store.values


def test_on_kill_stops_the_running_execution() -> None:
    op = make_op()
    op._execution_id = 7
    with (
        mock.patch.object(HopsworksHook, "stop_execution", return_value=execution()) as stop,
        logs(out=["x"]) as copied,
    ):
        op.on_kill()
    stop.assert_called_once_with("train", 7)
    assert [c.args[3] for c in copied.call_args_list] == ["out", "err"]


@pytest.mark.parametrize("setup", ["cancel_off", "not_started", "finished"])
def test_on_kill_leaves_it_alone_otherwise(setup: str) -> None:
    op = make_op(cancel_on_kill=setup != "cancel_off")
    op._execution_id = None if setup == "not_started" else 7
    op._done = setup == "finished"
    with mock.patch.object(HopsworksHook, "stop_execution") as stop:
        op.on_kill()
    stop.assert_not_called()


# -- reattach on retry ---------------------------------------------------------------------------


def stored(execution_id: int = 5, job_name: str = "train") -> FakeTaskStateStore:
    record = {"job_name": job_name, "execution_id": execution_id, "started_at": "x", "try_number": 1}
    return FakeTaskStateStore({STATE_STORE_KEY: record})


def test_retry_reattaches_to_a_running_execution(fake_clock: FakeClock, hook_basics: Any) -> None:
    ti = FakeTI(try_number=2)
    with (
        mock.patch.object(HopsworksHook, "start_execution") as start,
        mock.patch.object(HopsworksHook, "get_execution", return_value=execution(5, state="RUNNING")),
        pytest.raises(TaskDeferred) as deferred,
    ):
        make_op(deferrable=True).execute(make_context(ti, stored(5)))
    start.assert_not_called()
    assert deferred.value.trigger.execution_id == 5
    assert ti.xcoms["execution_id"] == 5


def test_retry_does_not_rerun_a_succeeded_execution(hook_basics: Any) -> None:
    done = execution(5, state="FINISHED", final_status="SUCCEEDED", duration=10)
    store = stored(5)
    with (
        mock.patch.object(HopsworksHook, "start_execution") as start,
        mock.patch.object(HopsworksHook, "get_execution", return_value=done),
        logs(out=["ran once"]),
    ):
        result = make_op().execute(make_context(FakeTI(try_number=2), store))
    start.assert_not_called()
    assert result["execution_id"] == 5
    assert STATE_STORE_KEY not in store.values


@pytest.mark.parametrize(
    "previous",
    [
        execution(5, state="FAILED", final_status="FAILED"),
        execution(5, state="KILLED", final_status="KILLED"),
        HopsworksNotFoundError("gone", status_code=404, error_code=130007),
    ],
)
def test_retry_starts_anew_after_a_failed_or_vanished_execution(
    fake_clock: FakeClock, hook_basics: Any, previous: Any
) -> None:
    store = stored(5)
    with (
        mock.patch.object(
            HopsworksHook, "start_execution", return_value=execution(8, state="INITIALIZING")
        ) as start,
        mock.patch.object(
            HopsworksHook, "get_execution", side_effect=[previous, execution(8, state="RUNNING")]
        ),
        pytest.raises(TaskDeferred) as deferred,
    ):
        make_op(deferrable=True).execute(make_context(FakeTI(try_number=2), store))
    start.assert_called_once()
    # The earlier try's execution may be seconds old: never to be taken for a lost start of this one.
    assert start.call_args.kwargs == {"known_ids": (5,), "job_type": "PYTHON"}
    assert deferred.value.trigger.execution_id == 8
    assert store.values[STATE_STORE_KEY]["execution_id"] == 8
    assert store.values[STATE_STORE_KEY]["try_number"] == 2


def test_record_of_another_job_is_ignored(fake_clock: FakeClock, hook_basics: Any) -> None:
    with (
        mock.patch.object(HopsworksHook, "start_execution", return_value=execution(8)) as start,
        mock.patch.object(HopsworksHook, "get_execution", return_value=execution(8)),
        pytest.raises(TaskDeferred),
    ):
        make_op(deferrable=True).execute(make_context(store=stored(5, job_name="features")))
    start.assert_called_once()


def test_reattach_can_be_switched_off(fake_clock: FakeClock, hook_basics: Any) -> None:
    store = stored(5)
    with (
        mock.patch.object(HopsworksHook, "start_execution", return_value=execution(8)) as start,
        mock.patch.object(HopsworksHook, "get_execution", return_value=execution(8)),
        pytest.raises(TaskDeferred),
    ):
        make_op(deferrable=True, reattach_on_retry=False).execute(make_context(store=store))
    start.assert_called_once()
    assert store.values[STATE_STORE_KEY]["execution_id"] == 5  # untouched


def test_unreachable_api_on_reattach_does_not_start_a_duplicate(hook_basics: Any) -> None:
    with (
        mock.patch.object(HopsworksHook, "start_execution") as start,
        mock.patch.object(HopsworksHook, "get_execution", side_effect=HopsworksApiUnavailableError("down")),
        pytest.raises(HopsworksApiUnavailableError),
    ):
        make_op().execute(make_context(store=stored(5)))
    start.assert_not_called()
