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
)
from airflow_provider_hopsjobs.hooks.retry_policy import (
    RetryPolicy,
    TransientHttpError,
    async_call,
    async_retrying,
    is_ambiguous,
    is_transient,
    parse_retry_after,
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
