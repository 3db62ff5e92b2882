"""The shared wait policy: schedule, deadlines, event validation, and the watch itself."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import requests

from airflow_provider_hopsjobs.errors import (
    HopsworksApiError,
    HopsworksApiUnavailableError,
    HopsworksConfigError,
    HopsworksError,
    HopsworksNotFoundError,
)
from airflow_provider_hopsjobs.execution import Execution
from airflow_provider_hopsjobs.waiting import (
    FIRST_POLL_INTERVAL,
    ExecutionWatch,
    WaitPolicy,
    earliest_deadline,
    format_deadline,
    poll_intervals,
    validate_event,
    wait_for_execution,
)
from tests.airflow_support import FakeClock


def test_poll_schedule_starts_fast_backs_off_and_caps() -> None:
    intervals = list(itertools.islice(poll_intervals(10), 200))
    assert intervals[0] == FIRST_POLL_INTERVAL
    assert intervals == sorted(intervals)  # never speeds up again
    assert max(intervals) == 10  # reaches the cap, never passes it
    assert intervals[-1] == 10
    assert list(itertools.islice(poll_intervals(0.2), 3)) == [0.2, 0.2, 0.2]


def test_poll_schedule_resumes_a_wait_that_began_earlier() -> None:
    assert list(itertools.islice(poll_intervals(30, waited=100), 2)) == [5.0, 5.25]
    assert list(itertools.islice(poll_intervals(30, waited=3600), 2)) == [30, 30]
    assert next(poll_intervals(30, waited=-5)) == FIRST_POLL_INTERVAL  # a clock that went back


def test_poll_schedule_is_cheap_for_long_waits() -> None:
    """An hour's wait with a 30 s cap costs a few hundred polls, not thousands."""
    waited, polls = 0.0, 0
    for interval in poll_intervals(30):
        if waited >= 3600:
            break
        waited += interval
        polls += 1
    assert polls < 400


def test_earliest_deadline() -> None:
    assert earliest_deadline(None, None) is None
    assert earliest_deadline(None, 5.0, 3.0) == 3.0


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        {"status": "success"},
        {"status": "done", "execution_id": 1, "job_name": "j"},
        {"status": "success", "execution_id": None, "job_name": "j"},
    ],
)
def test_validate_event_refuses(bad: object) -> None:
    with pytest.raises(HopsworksError):
        validate_event(bad)


def test_validate_event_normalises() -> None:
    event = validate_event({"status": "failed", "execution_id": "4", "job_name": "j", "message": None})
    assert event["execution_id"] == 4
    assert event["message"] == ""
    assert event["transient"] is False


# -- the wait policy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"poll_interval": 0}, "poll_interval must be greater than 0"),
        ({"poll_interval": "5"}, "poll_interval must be a number"),
        ({"poll_interval": float("nan")}, "poll_interval"),
        ({"transient_error_budget": -1}, "transient_error_budget must not be negative"),
    ],
)
def test_wait_policy_refuses_bad_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(HopsworksConfigError, match=message):
        WaitPolicy(**kwargs)


def test_wait_policy_accepts_a_zero_budget_and_floats_its_numbers() -> None:
    policy = WaitPolicy(poll_interval=5, transient_error_budget=0)
    assert (policy.poll_interval, policy.transient_error_budget) == (5.0, 0.0)
    assert isinstance(policy.poll_interval, float)


# -- the watch, driven directly ----------------------------------------------------------------


def running(state: str = "RUNNING") -> Execution:
    return Execution(id=7, job_name="train", state=state, final_status="UNDEFINED")


def watch(clock: FakeClock, **kwargs: Any) -> ExecutionWatch:
    kwargs.setdefault("policy", WaitPolicy(poll_interval=30, transient_error_budget=60))
    return ExecutionWatch(job_name="train", execution_id=7, clock=clock, **kwargs)


def test_watch_reports_nothing_while_running_and_the_event_once_over() -> None:
    w = watch(FakeClock(), job_type="SPARK")
    assert w.on_execution(running("INITIALIZING")) is None
    assert w.on_execution(running()) is None
    event = w.on_execution(Execution(id=7, job_name="train", state="FINISHED", final_status="UNDEFINED"))
    # The watch judges with the job type it was given: a Spark job without final status failed.
    assert event is not None and event["status"] == "failed"
    assert w.last_execution is not None and w.last_execution.job_type == "SPARK"


def test_watch_expires_at_its_deadline_with_the_last_state() -> None:
    clock = FakeClock()
    w = watch(clock, deadline=clock.now + 10)
    assert w.expired() is None
    w.on_execution(running())
    clock.advance(10)
    event = w.expired()
    assert event is not None
    assert event["status"] == "timeout"
    assert event["state"] == "RUNNING"
    assert format_deadline(clock.now) in event["message"]


def test_watch_sleeps_follow_the_schedule_and_never_pass_the_deadline() -> None:
    clock = FakeClock()
    w = watch(clock, deadline=clock.now + 1.2)
    assert w.next_sleep() == FIRST_POLL_INTERVAL
    clock.advance(1.0)
    assert w.next_sleep() == pytest.approx(0.21)  # what is left of the wait, plus a hair


@pytest.mark.parametrize(
    "outage",
    [
        HopsworksApiUnavailableError("gave up"),
        requests.ConnectionError("refused"),
        TimeoutError("slow"),
    ],
)
def test_watch_rides_out_outages_within_the_budget_then_reports_a_transient_error(
    outage: BaseException,
) -> None:
    clock = FakeClock()
    w = watch(clock)
    assert w.on_error(outage) is None
    clock.advance(60)
    assert w.on_error(outage) is None  # exactly at the budget: still riding it out
    clock.advance(1)
    event = w.on_error(outage)
    assert event is not None
    assert (event["status"], event["transient"]) == ("error", True)
    assert "stayed unavailable for 61 s" in event["message"]


def test_an_answer_restarts_the_outage_budget() -> None:
    clock = FakeClock()
    w = watch(clock)
    w.on_error(HopsworksApiUnavailableError("down"))
    clock.advance(59)
    w.on_execution(running())
    clock.advance(30)
    assert w.on_error(HopsworksApiUnavailableError("down again")) is None
    clock.advance(59)
    assert w.on_error(HopsworksApiUnavailableError("down again")) is None


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (HopsworksNotFoundError("HTTP 404"), "no longer exists"),
        (HopsworksApiError("HTTP 403"), "refused to report"),
        (RuntimeError("boom"), "Unexpected error"),
    ],
)
def test_refusals_and_surprises_are_errors_at_once(error: BaseException, words: str) -> None:
    event = watch(FakeClock()).on_error(error)
    assert event is not None
    assert (event["status"], event["transient"]) == ("error", False)
    assert words in event["message"]


class ScriptedHook:
    """Answers ``get_execution`` from a script of executions and errors."""

    def __init__(self, *answers: Execution | BaseException) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, int, str | None]] = []

    def get_execution(self, job_name: str, execution_id: int, *, job_type: str | None = None) -> Execution:
        self.calls.append((job_name, execution_id, job_type))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def test_wait_for_execution_polls_through_an_outage_until_the_end() -> None:
    clock = FakeClock()
    done = Execution(id=7, job_name="train", state="FINISHED", final_status="SUCCEEDED")
    hook = ScriptedHook(running(), requests.ConnectionError("dropped"), running(), done)
    event = wait_for_execution(hook, watch(clock, job_type="PYTHON"))
    assert event["status"] == "success"
    assert hook.calls == [("train", 7, "PYTHON")] * 4
    assert clock.sleeps == list(itertools.islice(poll_intervals(30), 3))


def test_wait_for_execution_lets_foreign_exceptions_through() -> None:
    with pytest.raises(KeyError):
        wait_for_execution(ScriptedHook(KeyError("not ours")), watch(FakeClock()))
