"""The retry policy: what is retried, how long it waits, when it gives up."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import aiohttp
import pytest
import requests

from airflow_provider_hopsjobs.errors import (
    HopsworksApiError,
    HopsworksApiUnavailableError,
    HopsworksConfigError,
    HopsworksNotFoundError,
)
from airflow_provider_hopsjobs.hooks.retry_policy import (
    OUTAGE_ERRORS,
    NotReady,
    RetryPolicy,
    TransientHttpError,
    async_call,
    async_retrying,
    call_not_idempotent,
    is_ambiguous,
    is_outage,
    is_transient,
    parse_retry_after,
    poll_until_ready,
    retrying,
)


def test_policy_round_trips_through_json():
    policy = RetryPolicy(max_attempts=3, initial_wait=0.5, max_wait=4, max_total_seconds=20, jitter=0)
    assert RetryPolicy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy
    assert RetryPolicy.coerce(policy.to_dict()) == policy
    assert RetryPolicy.coerce(None) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"max_attempts": 0},
        {"max_attempts": 1.5},
        {"initial_wait": -1},
        {"max_wait": float("nan")},
        {"retries": 3},
    ],
)
def test_policy_rejects_bad_settings(bad):
    with pytest.raises(HopsworksConfigError):
        RetryPolicy.from_dict(bad)


@pytest.mark.parametrize(
    ("exc", "transient", "ambiguous"),
    [
        (TransientHttpError("x", status_code=503), True, True),
        (TransientHttpError("x", status_code=429, retry_after=2), True, False),
        (requests.ConnectionError("reset"), True, True),
        (requests.ReadTimeout("slow"), True, True),
        (requests.exceptions.ChunkedEncodingError("cut"), True, True),
        (aiohttp.ServerDisconnectedError(), True, True),
        (aiohttp.ClientPayloadError("cut"), True, True),
        (asyncio.TimeoutError(), True, True),
        (HopsworksApiError("no"), False, False),
        (ValueError("bug"), False, False),
    ],
)
def test_one_classifier_for_both_transports(exc, transient, ambiguous):
    assert is_transient(exc) is transient
    assert is_ambiguous(exc) is ambiguous


def test_parse_retry_after_seconds_and_http_date():
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


class Flaky:
    """Fails with the given exceptions, then returns "ok"."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def test_retry_after_is_honoured_with_a_fake_clock():
    sleeps: list[float] = []
    fn = Flaky(
        TransientHttpError("busy", status_code=429, retry_after=7),
        TransientHttpError("busy", status_code=503, retry_after=3),
    )
    policy = RetryPolicy(max_attempts=5, initial_wait=1, max_wait=2, max_total_seconds=60, jitter=0)
    assert retrying(policy, "GET /x", sleep=sleeps.append)(fn) == "ok"
    assert sleeps == [7, 3]  # the server's waits, not the (shorter) backoff
    assert fn.calls == 3


def test_backoff_is_exponential_with_bounded_jitter_and_attempts():
    sleeps: list[float] = []
    fn = Flaky(*[requests.ConnectionError("down") for _ in range(10)])
    policy = RetryPolicy(max_attempts=6, initial_wait=1, max_wait=8, max_total_seconds=1000, jitter=0.5)
    with pytest.raises(HopsworksApiUnavailableError, match="after 6 attempt") as err:
        retrying(policy, "GET /x", sleep=sleeps.append)(fn)
    assert fn.calls == 6
    assert len(sleeps) == 5
    floors = [1, 2, 4, 8, 8]
    for slept, floor in zip(sleeps, floors, strict=True):
        assert floor <= slept <= floor + 0.5
    assert isinstance(err.value.__cause__, requests.ConnectionError)


def test_retry_after_beyond_the_budget_gives_up_at_once():
    sleeps: list[float] = []
    fn = Flaky(TransientHttpError("HTTP 429", status_code=429, retry_after=600))
    policy = RetryPolicy(max_attempts=5, max_total_seconds=30)
    with pytest.raises(HopsworksApiUnavailableError, match="HTTP 429"):
        retrying(policy, "GET /x", sleep=sleeps.append)(fn)
    assert sleeps == []
    assert fn.calls == 1


def test_total_time_budget_counts_elapsed_time(monkeypatch):
    """With a clock that advances 10 s per attempt, a 25 s budget allows three attempts."""
    import tenacity

    clock = {"now": 1000.0}

    def fake_sleep(seconds: float) -> None:
        clock["now"] += seconds

    def slow_failure() -> None:
        clock["now"] += 10
        raise requests.ReadTimeout("slow")

    monkeypatch.setattr(tenacity.time, "monotonic", lambda: clock["now"])
    policy = RetryPolicy(max_attempts=100, initial_wait=0, max_wait=0, max_total_seconds=25, jitter=0)
    calls = []
    with pytest.raises(HopsworksApiUnavailableError):
        retrying(policy, "GET /x", sleep=fake_sleep)(lambda: calls.append(1) or slow_failure())
    assert len(calls) == 3


def test_non_transient_errors_are_not_retried():
    sleeps: list[float] = []
    fn = Flaky(HopsworksApiError("rejected"))
    with pytest.raises(HopsworksApiError, match="rejected"):
        retrying(RetryPolicy(), "GET /x", sleep=sleeps.append)(fn)
    assert fn.calls == 1
    assert sleeps == []


def test_retries_are_logged_without_secrets(caplog):
    fn = Flaky(TransientHttpError("HTTP 503", status_code=503))
    with caplog.at_level("WARNING"):
        retrying(RetryPolicy(jitter=0), "GET /hopsworks-api/api/x", sleep=lambda s: None)(fn)
    assert "GET /hopsworks-api/api/x failed (HTTP 503); attempt 1 of 6" in caplog.text


async def test_async_retrying_shares_waits_and_bounds():
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    calls = 0

    async def fn() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise TransientHttpError("busy", status_code=429, retry_after=5)
        if calls == 2:
            raise aiohttp.ServerDisconnectedError()
        return "ok"

    policy = RetryPolicy(max_attempts=3, initial_wait=1, max_wait=1, max_total_seconds=60, jitter=0)
    assert await async_retrying(policy, "GET /x", sleep=fake_sleep)(fn) == "ok"
    assert sleeps == [5, 1]

    async def always_down() -> None:
        raise aiohttp.ClientConnectionError("down")

    with pytest.raises(HopsworksApiUnavailableError, match="after 3 attempt"):
        await async_retrying(policy, "GET /x", sleep=fake_sleep)(always_down)


async def test_async_call_makes_one_bare_attempt_when_it_works():
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    calls = []

    async def fn(value: str, *, suffix: str) -> str:
        calls.append(value)
        return value + suffix

    assert await async_call(RetryPolicy(), "GET /x", fn, "o", suffix="k", sleep=fake_sleep) == "ok"
    assert calls == ["o"]
    assert sleeps == []


async def test_async_call_retries_exactly_like_async_retrying():
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    calls = 0

    async def fn() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise TransientHttpError("busy", status_code=429, retry_after=5)
        if calls == 2:
            raise aiohttp.ServerDisconnectedError()
        return "ok"

    policy = RetryPolicy(max_attempts=3, initial_wait=1, max_wait=1, max_total_seconds=60, jitter=0)
    assert await async_call(policy, "GET /x", fn, sleep=fake_sleep) == "ok"
    assert (calls, sleeps) == (3, [5, 1])

    async def always_down() -> None:
        raise aiohttp.ClientConnectionError("down")

    with pytest.raises(HopsworksApiUnavailableError, match="GET /x failed after 3 attempt"):
        await async_call(policy, "GET /x", always_down, sleep=fake_sleep)
    with pytest.raises(HopsworksApiUnavailableError, match="after 1 attempt"):
        await async_call(RetryPolicy(max_attempts=1), "GET /x", always_down, sleep=fake_sleep)

    async def rejected() -> None:
        raise HopsworksApiError("rejected")

    sleeps.clear()
    with pytest.raises(HopsworksApiError, match="rejected"):
        await async_call(policy, "GET /x", rejected, sleep=fake_sleep)
    assert sleeps == []


async def test_async_call_charges_the_bare_attempt_to_the_budget(monkeypatch):
    """A first attempt that took 10 s leaves 15 s of a 25 s budget: three attempts in all."""
    import tenacity

    clock = {"now": 1000.0}

    async def fake_sleep(seconds: float) -> None:
        clock["now"] += seconds

    calls = []

    async def slow_failure() -> None:
        calls.append(1)
        clock["now"] += 10
        raise aiohttp.ServerTimeoutError("slow")

    monkeypatch.setattr(tenacity.time, "monotonic", lambda: clock["now"])
    policy = RetryPolicy(max_attempts=100, initial_wait=0, max_wait=0, max_total_seconds=25, jitter=0)
    with pytest.raises(HopsworksApiUnavailableError, match=r"after 3 attempt\(s\) in 30.0 s"):
        await async_call(policy, "GET /x", slow_failure, sleep=fake_sleep)
    assert len(calls) == 3


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (HopsworksApiUnavailableError("gave up"), True),
        (ConnectionError("refused"), True),
        (ConnectionResetError("reset"), True),
        (TimeoutError(), True),
        (asyncio.TimeoutError(), True),
        (requests.ConnectionError("reset"), True),
        (requests.ConnectTimeout("slow"), True),
        (requests.ReadTimeout("slow"), True),
        (aiohttp.ClientConnectionError("down"), True),
        (aiohttp.ServerDisconnectedError(), True),
        (aiohttp.ServerTimeoutError("slow"), True),
        # The API answered: a refusal, not an outage.
        (HopsworksApiError("rejected"), False),
        (HopsworksNotFoundError("gone"), False),
        # Retried inside the policy, which turns them into HopsworksApiUnavailableError when it gives up.
        (TransientHttpError("busy", status_code=503), False),
        (requests.exceptions.ChunkedEncodingError("cut"), False),
        (aiohttp.ClientPayloadError("cut"), False),
        (ValueError("bug"), False),
        (None, False),
    ],
)
def test_is_outage_names_what_a_wait_rides_out(error, outage):
    assert is_outage(error) is outage
    try:
        raise error or ValueError()
    except OUTAGE_ERRORS:
        caught = True
    except Exception:
        caught = False
    assert caught is outage  # the tuple for an except clause says the same


class Recorder:
    """What a not-idempotent call did, in order."""

    def __init__(self, *outcomes: object, found: list[object] | None = None) -> None:
        self.outcomes = list(outcomes)  # exceptions to raise, or results, one per send
        self.found = list(found or [])  # recover's answers, one per call
        self.events: list[str] = []

    def send(self) -> object:
        self.events.append("send")
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def recover(self) -> object:
        self.events.append("recover")
        return self.found.pop(0)


FAST = RetryPolicy(max_attempts=4, initial_wait=1, max_wait=1, max_total_seconds=100, jitter=0)


def call(recorder: Recorder, sleeps: list[float] | None = None, **kwargs: object) -> object:
    sleep = sleeps.append if sleeps is not None else (lambda s: None)
    return call_not_idempotent(FAST, "POST /x", recorder.send, recorder.recover, sleep=sleep, **kwargs)


def test_not_idempotent_call_that_works_sends_once_and_never_recovers():
    recorder = Recorder("started")
    assert call(recorder) == "started"
    assert recorder.events == ["send"]


def test_after_an_ambiguous_failure_the_lost_result_is_recovered_instead_of_resent():
    recorder = Recorder(requests.ConnectionError("dropped"), found=["the lost one"])
    sleeps: list[float] = []
    assert call(recorder, sleeps) == "the lost one"
    assert recorder.events == ["send", "recover"]
    assert sleeps == [1]


def test_when_nothing_was_lost_the_request_is_sent_again():
    recorder = Recorder(
        requests.ReadTimeout("slow"), TransientHttpError("x", status_code=502), "new", found=[None, None]
    )
    assert call(recorder) == "new"
    assert recorder.events == ["send", "recover", "send", "recover", "send"]


def test_a_429_is_a_refusal_so_nothing_is_looked_for():
    recorder = Recorder(TransientHttpError("busy", status_code=429, retry_after=2), "started")
    sleeps: list[float] = []
    assert call(recorder, sleeps) == "started"
    assert recorder.events == ["send", "send"]
    assert sleeps == [2]


def test_ambiguity_is_remembered_across_a_later_429():
    recorder = Recorder(
        requests.ConnectionError("dropped"),
        TransientHttpError("busy", status_code=429),
        "started",
        found=[None, None],
    )
    assert call(recorder) == "started"
    assert recorder.events == ["send", "recover", "send", "recover", "send"]


def test_a_refusal_is_raised_at_once():
    recorder = Recorder(HopsworksApiError("quota"))
    with pytest.raises(HopsworksApiError, match="quota"):
        call(recorder)
    assert recorder.events == ["send"]


def test_giving_up_looks_before_every_resend():
    recorder = Recorder(
        *[TransientHttpError("bad gateway", status_code=502) for _ in range(4)], found=[None] * 3
    )
    with pytest.raises(HopsworksApiUnavailableError, match="POST /x failed after 4 attempt"):
        call(recorder)
    assert recorder.events == ["send", "recover"] * 3 + ["send"]


def already_done(error: BaseException) -> bool:
    return isinstance(error, HopsworksApiError) and error.error_code == 110012


EXISTS = HopsworksApiError("exists", status_code=400, error_code=110012)


def test_recover_on_resends_first_and_recovers_only_on_the_already_done_refusal():
    recorder = Recorder(requests.ConnectionError("dropped"), EXISTS, found=[True])
    assert call(recorder, recover_on=already_done) is True
    assert recorder.events == ["send", "send", "recover"]


def test_recover_on_without_an_earlier_ambiguous_failure_is_a_plain_refusal():
    recorder = Recorder(EXISTS, found=[True])
    with pytest.raises(HopsworksApiError) as err:
        call(recorder, recover_on=already_done)
    assert err.value is EXISTS
    assert recorder.events == ["send"]


def test_recover_on_finding_nothing_raises_the_refusal():
    recorder = Recorder(requests.ConnectionError("dropped"), EXISTS, found=[None])
    with pytest.raises(HopsworksApiError) as err:
        call(recorder, recover_on=already_done)
    assert err.value is EXISTS
    assert recorder.events == ["send", "send", "recover"]


def test_recover_on_other_refusals_pass_without_recovering():
    other = HopsworksApiError("forbidden", status_code=403, error_code=200001)
    recorder = Recorder(requests.ConnectionError("dropped"), other, found=[True])
    with pytest.raises(HopsworksApiError, match="forbidden"):
        call(recorder, recover_on=already_done)
    assert recorder.events == ["send", "send"]


class Looks:
    """Not ready ``times`` times, then "ready"; records the clock at each look."""

    def __init__(self, clock, times: int) -> None:
        self.clock = clock
        self.times = times
        self.at: list[float] = []

    def __call__(self) -> str:
        self.at.append(self.clock.monotonic())
        if len(self.at) <= self.times:
            raise NotReady(f"not yet ({len(self.at)})")
        return "ready"


def test_poll_until_ready_backs_off_exponentially_up_to_the_cap(clock):
    look = Looks(clock, 5)
    assert poll_until_ready(look, timeout=60, first_wait=0.25, max_wait=1.5, clock=clock) == "ready"
    assert clock.sleeps == [0.25, 0.5, 1.0, 1.5, 1.5]
    assert len(look.at) == 6


def test_poll_until_ready_stops_before_passing_its_deadline(clock):
    look = Looks(clock, 1000)
    with pytest.raises(NotReady, match=r"not yet \(5\)"):
        poll_until_ready(look, timeout=10, first_wait=0.5, max_wait=4, clock=clock)
    assert clock.sleeps == [0.5, 1, 2, 4]  # one more 4 s pause would end at 11.5 s
    assert look.at[-1] - look.at[0] <= 10


def test_poll_until_ready_with_no_time_looks_once(clock):
    look = Looks(clock, 1000)
    with pytest.raises(NotReady):
        poll_until_ready(look, timeout=0, first_wait=0.25, max_wait=1, clock=clock)
    assert (len(look.at), clock.sleeps) == (1, [])


def test_poll_until_ready_lets_other_errors_through_at_once(clock):
    def look() -> str:
        raise HopsworksNotFoundError("no such execution")

    with pytest.raises(HopsworksNotFoundError):
        poll_until_ready(look, timeout=60, first_wait=0.25, max_wait=1, clock=clock)
    assert clock.sleeps == []


def test_poll_until_ready_reads_its_deadline_from_the_clock(clock):
    """Time spent looking counts: with 1 s pauses, looks that take 4 s fit three times in 10 s, not eleven."""
    look = Looks(clock, 1000)

    def slow_look() -> str:
        clock.now += 4
        return look()

    with pytest.raises(NotReady):
        poll_until_ready(slow_look, timeout=10, first_wait=1, max_wait=1, clock=clock)
    assert look.at == [1004.0, 1009.0, 1014.0]  # the pause after the third would end past 1010
