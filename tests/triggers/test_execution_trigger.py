"""HopsworksExecutionTrigger: validation, serialisation, event sequences, outages, deadline, kill."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import datetime, timezone
from typing import Any
from unittest import mock

import pytest
from airflow.triggers.base import TriggerEvent

from airflow_provider_hopsjobs.clock import Clock
from airflow_provider_hopsjobs.errors import (
    HopsworksApiError,
    HopsworksApiUnavailableError,
    HopsworksNotFoundError,
)
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.triggers import execution as trigger_module
from airflow_provider_hopsjobs.triggers.execution import USER_ACTION_CANCEL_MSG, HopsworksExecutionTrigger
from airflow_provider_hopsjobs.waiting import poll_intervals
from tests.airflow_support import FakeClock, execution

CLASSPATH = "airflow_provider_hopsjobs.triggers.execution.HopsworksExecutionTrigger"


def make_trigger(**overrides: Any) -> HopsworksExecutionTrigger:
    kwargs: dict[str, Any] = {"job_name": "train", "execution_id": 7, "poll_interval": 30.0}
    kwargs.update(overrides)
    return HopsworksExecutionTrigger(**kwargs)


async def collect(trigger: HopsworksExecutionTrigger) -> list[TriggerEvent]:
    return [event async for event in trigger.run()]


def patch_get(*results: Any) -> Any:
    return mock.patch.object(
        HopsworksHook, "async_get_execution", new=mock.AsyncMock(side_effect=list(results))
    )


# -- construction and serialisation ---------------------------------------------------------


def test_serialize_round_trips_with_json_only_values() -> None:
    trigger = make_trigger(
        hopsworks_conn_id="hw",
        project="demo",
        job_type="pyspark",
        deadline=datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp(),
        transient_error_budget_seconds=120,
        cancel_on_kill=False,
        wait_started_at=1_800_000_000,
        live_logs=True,
        live_log_lines=200,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == CLASSPATH
    assert kwargs == {
        "job_name": "train",
        "execution_id": 7,
        "hopsworks_conn_id": "hw",
        "project": "demo",
        "job_type": "PYSPARK",
        "deadline": datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp(),
        "poll_interval": 30.0,
        "transient_error_budget_seconds": 120.0,
        "cancel_on_kill": False,
        "wait_started_at": 1_800_000_000.0,
        "live_logs": True,
        "live_log_lines": 200,
    }
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert HopsworksExecutionTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_kwargs_survive_airflows_own_encoding() -> None:
    """What the worker stores for the triggerer must decode back to the same kwargs."""
    try:
        from airflow.sdk.serde import deserialize, serialize
    except ImportError:  # Airflow before 3.2 encodes trigger kwargs with BaseSerialization
        from airflow.serialization.serialized_objects import BaseSerialization

        serialize, deserialize = BaseSerialization.serialize, BaseSerialization.deserialize
    _, kwargs = make_trigger(deadline=1_900_000_000.5, project="demo").serialize()
    decoded = deserialize(serialize(kwargs))
    assert decoded == kwargs
    assert HopsworksExecutionTrigger(**decoded).serialize()[1] == kwargs


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"job_name": ""}, "job_name"),
        ({"execution_id": -1}, "execution_id"),
        ({"execution_id": "7"}, "execution_id"),
        ({"execution_id": True}, "execution_id"),
        ({"hopsworks_conn_id": ""}, "hopsworks_conn_id"),
        ({"project": ""}, "project"),
        ({"job_type": "COBOL"}, "job_type"),
        ({"deadline": "2030-01-01T00:00:00Z"}, "deadline must be epoch seconds"),
        ({"deadline": datetime(2030, 1, 1, tzinfo=timezone.utc)}, "deadline must be epoch seconds"),
        ({"deadline": float("nan")}, "deadline"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"poll_interval": "5"}, "poll_interval"),
        ({"transient_error_budget_seconds": -1}, "transient_error_budget"),
        ({"cancel_on_kill": "yes"}, "cancel_on_kill"),
    ],
)
def test_bad_arguments_fail_at_construction(override: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_trigger(**override)


# -- event sequences -------------------------------------------------------------------------


async def test_polls_until_success_with_adaptive_schedule(fake_clock: FakeClock) -> None:
    states = [execution(state=s) for s in ("INITIALIZING", "RUNNING", "RUNNING", "RUNNING")]
    done = execution(state="FINISHED", final_status="SUCCEEDED")
    with patch_get(*states, done) as get:
        events = await collect(make_trigger(poll_interval=2.5))
    assert len(events) == 1
    assert events[0].payload == {
        "status": "success",
        "execution_id": 7,
        "job_name": "train",
        "state": "FINISHED",
        "final_status": "SUCCEEDED",
        "message": "Hopsworks job 'train' execution 7 succeeded (state FINISHED, final status SUCCEEDED).",
        "transient": False,
    }
    assert get.await_count == 5
    get.assert_awaited_with("train", 7, job_type=None)
    # The shared adaptive schedule: starts near one second, never beyond the cap.
    assert fake_clock.sleeps == list(itertools.islice(poll_intervals(2.5), 4))


async def test_a_recreated_trigger_keeps_the_pace_of_its_wait(fake_clock: FakeClock) -> None:
    """A triggerer restart must not turn an hour-old wait back into polling every second."""
    running = [execution(state="RUNNING")] * 3
    done = execution(state="FINISHED", final_status="SUCCEEDED")
    with patch_get(*running, done):
        await collect(make_trigger(poll_interval=10, wait_started_at=fake_clock.now - 3600))
    assert fake_clock.sleeps == [10.0, 10.0, 10.0]


def test_wait_started_at_defaults_to_now_and_is_checked(fake_clock: FakeClock) -> None:
    assert make_trigger().wait_started_at == fake_clock.now
    with pytest.raises(ValueError, match="wait_started_at"):
        make_trigger(wait_started_at="yesterday")


@pytest.mark.parametrize(
    ("state", "final_status", "job_type", "status"),
    [
        ("FINISHED", "FAILED", "PYTHON", "failed"),
        ("FAILED", "UNDEFINED", "PYTHON", "failed"),
        ("KILLED", "KILLED", "PYTHON", "killed"),
        ("FINISHED", "KILLED", "SPARK", "killed"),
        ("INITIALIZATION_FAILED", "UNDEFINED", "SPARK", "failed"),
        ("FINISHED", "UNDEFINED", "SPARK", "failed"),
        ("FINISHED", "UNDEFINED", "PYTHON", "success"),
    ],
)
async def test_terminal_states_map_to_one_event(
    fake_clock: FakeClock, state: str, final_status: str, job_type: str, status: str
) -> None:
    with patch_get(execution(state=state, final_status=final_status)):
        events = await collect(make_trigger(job_type=job_type))
    assert [e.payload["status"] for e in events] == [status]
    assert events[0].payload["state"] == state
    assert events[0].payload["final_status"] == final_status


async def test_rides_out_transient_errors_and_a_restart(fake_clock: FakeClock) -> None:
    results = [
        execution(state="RUNNING"),
        HopsworksApiUnavailableError("HTTP 503 after retries"),
        ConnectionRefusedError("server restarting"),
        asyncio.TimeoutError(),
        execution(state="RUNNING"),
        execution(state="FINISHED", final_status="SUCCEEDED"),
    ]
    with patch_get(*results) as get:
        events = await collect(make_trigger())
    assert [e.payload["status"] for e in events] == ["success"]
    assert get.await_count == 6


async def test_gives_up_after_the_transient_budget(fake_clock: FakeClock) -> None:
    outage = [HopsworksApiUnavailableError("gateway timeout")] * 50
    with patch_get(execution(state="RUNNING"), *outage):
        events = await collect(make_trigger(transient_error_budget_seconds=20, poll_interval=5))
    assert len(events) == 1
    payload = events[0].payload
    assert payload["status"] == "error"
    assert payload["transient"] is True
    assert payload["state"] == "RUNNING"  # the last state seen is kept
    assert "stayed unavailable" in payload["message"]
    # The allowance was used up, but not by much.
    assert 20 < fake_clock.mono <= 30


async def test_the_budget_restarts_after_the_api_answers_again(fake_clock: FakeClock) -> None:
    blip = [HopsworksApiUnavailableError("503")] * 3  # 1 + 1 + 2 s of outage each time
    results = [
        *blip,
        execution(state="RUNNING"),
        *blip,
        execution(state="FINISHED", final_status="SUCCEEDED"),
    ]
    with patch_get(*results):
        events = await collect(make_trigger(transient_error_budget_seconds=5, poll_interval=1))
    assert events[0].payload["status"] == "success"


async def test_a_rejected_request_is_an_error_at_once(fake_clock: FakeClock) -> None:
    rejected = HopsworksApiError("HTTP 401: invalid API key", status_code=401)
    with patch_get(rejected) as get:
        events = await collect(make_trigger())
    assert get.await_count == 1
    assert events[0].payload["status"] == "error"
    assert events[0].payload["transient"] is False
    assert "invalid API key" in events[0].payload["message"]


async def test_a_vanished_execution_is_an_error(fake_clock: FakeClock) -> None:
    with patch_get(HopsworksNotFoundError("HTTP 404 errorCode 130007", status_code=404, error_code=130007)):
        events = await collect(make_trigger())
    assert events[0].payload["status"] == "error"
    assert "no longer exists" in events[0].payload["message"]


async def test_an_unexpected_exception_becomes_an_error_event(fake_clock: FakeClock) -> None:
    with patch_get(KeyError("state")):
        events = await collect(make_trigger())
    assert events[0].payload["status"] == "error"
    assert "KeyError" in events[0].payload["message"]


async def test_deadline_yields_timeout_with_last_state(fake_clock: FakeClock) -> None:
    running = [execution(state="RUNNING")] * 100
    with patch_get(*running) as get:
        events = await collect(make_trigger(deadline=fake_clock.now + 10, poll_interval=4))
    assert [e.payload["status"] for e in events] == ["timeout"]
    assert events[0].payload["state"] == "RUNNING"
    assert "deadline" in events[0].payload["message"]
    assert sum(fake_clock.sleeps) == pytest.approx(10.01, abs=0.02)  # sleeps never overshoot the deadline
    assert max(fake_clock.sleeps) <= 4
    assert get.await_count == len(fake_clock.sleeps)  # one poll before each sleep; none after the deadline


async def test_deadline_already_past_does_not_poll(fake_clock: FakeClock) -> None:
    with patch_get() as get:
        events = await collect(make_trigger(deadline=fake_clock.now - 1))
    assert events[0].payload["status"] == "timeout"
    get.assert_not_awaited()


async def test_event_carries_no_secret_and_no_log_text(fake_clock: FakeClock) -> None:
    secret = "kPrefix.s3cr3t"
    done = execution(
        state="FINISHED", final_status="SUCCEEDED", stdoutPath="/Projects/demo/Logs/x", args=secret
    )
    with patch_get(done):
        events = await collect(make_trigger())
    payload = events[0].payload
    assert set(payload) == {
        "status",
        "execution_id",
        "job_name",
        "state",
        "final_status",
        "message",
        "transient",
    }
    assert secret not in json.dumps(payload)


# -- kill while deferred ------------------------------------------------------------------------


async def test_on_kill_stops_the_execution() -> None:
    with mock.patch.object(
        HopsworksHook, "async_stop_execution", new=mock.AsyncMock(return_value=execution(state="RUNNING"))
    ) as stop:
        await make_trigger().on_kill()
    stop.assert_awaited_once_with("train", 7, job_type=None)


async def test_on_kill_respects_cancel_on_kill() -> None:
    with mock.patch.object(HopsworksHook, "async_stop_execution", new=mock.AsyncMock()) as stop:
        await make_trigger(cancel_on_kill=False).on_kill()
    stop.assert_not_awaited()


async def test_on_kill_after_the_event_does_nothing(fake_clock: FakeClock) -> None:
    trigger = make_trigger()
    with patch_get(execution(state="FINISHED", final_status="SUCCEEDED")):
        await collect(trigger)
    with mock.patch.object(HopsworksHook, "async_stop_execution", new=mock.AsyncMock()) as stop:
        await trigger.on_kill()
    stop.assert_not_awaited()


async def test_on_kill_swallows_stop_errors() -> None:
    failing = mock.AsyncMock(side_effect=HopsworksApiUnavailableError("down"))
    with mock.patch.object(HopsworksHook, "async_stop_execution", new=failing):
        await make_trigger().on_kill()  # must not raise: the triggerer only logs it
    failing.assert_awaited_once()


async def cancel_while_waiting(trigger: HopsworksExecutionTrigger, message: str | None) -> None:
    """Start the trigger on a forever-running execution, then cancel it like the triggerer does."""
    running = mock.AsyncMock(return_value=execution(state="RUNNING"))
    with mock.patch.object(HopsworksHook, "async_get_execution", new=running):
        task = asyncio.ensure_future(trigger.run().__anext__())
        while running.await_count < 2:
            await asyncio.sleep(0)
        task.cancel(message)
        with pytest.raises(asyncio.CancelledError):
            await task


@pytest.fixture
def airflow_before_3_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trigger_module, "AIRFLOW_V_3_3_PLUS", False)


@pytest.fixture
def instant_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoSleep(Clock):
        async def async_sleep(self, seconds: float) -> None:
            await asyncio.sleep(0)

    monkeypatch.setattr(HopsworksExecutionTrigger, "clock", NoSleep())


@pytest.mark.usefixtures("airflow_before_3_3", "instant_sleep")
async def test_before_3_3_cancellation_stops_when_task_left_deferred() -> None:
    trigger = make_trigger()
    with (
        mock.patch.object(HopsworksExecutionTrigger, "safe_to_cancel", new=mock.AsyncMock(return_value=True)),
        mock.patch.object(
            HopsworksHook, "async_stop_execution", new=mock.AsyncMock(return_value=execution(state="KILLED"))
        ) as stop,
    ):
        await cancel_while_waiting(trigger, None)
    stop.assert_awaited_once_with("train", 7, job_type=None)


@pytest.mark.usefixtures("airflow_before_3_3", "instant_sleep")
async def test_before_3_3_triggerer_restart_leaves_execution_running() -> None:
    trigger = make_trigger()
    with (
        mock.patch.object(
            HopsworksExecutionTrigger, "safe_to_cancel", new=mock.AsyncMock(return_value=False)
        ),
        mock.patch.object(HopsworksHook, "async_stop_execution", new=mock.AsyncMock()) as stop,
    ):
        await cancel_while_waiting(trigger, None)
    stop.assert_not_awaited()


@pytest.mark.usefixtures("airflow_before_3_3", "instant_sleep")
async def test_before_3_3_without_task_instance_nothing_is_stopped() -> None:
    trigger = make_trigger()  # dag.test() runs triggers without a task instance
    assert trigger.task_instance is None
    with mock.patch.object(HopsworksHook, "async_stop_execution", new=mock.AsyncMock()) as stop:
        await cancel_while_waiting(trigger, None)
    stop.assert_not_awaited()


@pytest.mark.usefixtures("instant_sleep")
async def test_on_3_3_cancellation_leaves_stopping_to_on_kill(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trigger_module, "AIRFLOW_V_3_3_PLUS", True)
    trigger = make_trigger()
    with (
        mock.patch.object(HopsworksExecutionTrigger, "safe_to_cancel", new=mock.AsyncMock(return_value=True)),
        mock.patch.object(HopsworksHook, "async_stop_execution", new=mock.AsyncMock()) as stop,
    ):
        await cancel_while_waiting(trigger, USER_ACTION_CANCEL_MSG)
        await cancel_while_waiting(make_trigger(), None)  # a shutdown: also nothing
    stop.assert_not_awaited()


@pytest.mark.parametrize(("map_index", "key"), [(-1, "t"), (0, "t_0"), (2, "t_2")])
@pytest.mark.parametrize(("state", "safe"), [("deferred", False), ("failed", True)])
async def test_safe_to_cancel_finds_a_mapped_task_instance(
    map_index: int, key: str, state: str, safe: bool
) -> None:
    """Airflow's task-states answer keys a mapped task instance as ``<task_id>_<map_index>``."""
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    trigger = make_trigger()
    ti = mock.Mock(spec=["dag_id", "task_id", "run_id", "map_index"])
    ti.configure_mock(dag_id="d", task_id="t", run_id="r", map_index=map_index)
    trigger.task_instance = ti
    # The other map indexes are deferred: only the right key gives the right answer.
    answer = {"r": {"t_0": "deferred", "t_1": "deferred", "t_2": "deferred", "t": "deferred", key: state}}
    with mock.patch.object(RuntimeTaskInstance, "get_task_states", return_value=answer):
        assert await trigger.safe_to_cancel() is safe


@pytest.mark.parametrize(("state", "safe"), [("deferred", False), ("failed", True), ("success", True)])
async def test_safe_to_cancel_reads_the_task_state(state: str, safe: bool) -> None:
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    trigger = make_trigger()
    ti = mock.Mock(spec=["dag_id", "task_id", "run_id", "map_index"])
    ti.configure_mock(dag_id="d", task_id="t", run_id="r", map_index=-1)
    trigger.task_instance = ti
    with mock.patch.object(
        RuntimeTaskInstance, "get_task_states", return_value={"r": {"t": state}}
    ) as states:
        assert await trigger.safe_to_cancel() is safe
    states.assert_called_once_with(dag_id="d", task_ids=["t"], run_ids=["r"], map_index=-1)
