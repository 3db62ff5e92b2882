"""One retry policy for both transports, built on tenacity, and the one failure classifier.

The sync hook (requests) and the async hook (aiohttp) classify failures with the same
function and wait with the same strategy: exponential backoff with jitter, replaced by the
server's ``Retry-After`` when it sends one, bounded in attempts *and* in total time. The
policy itself is a frozen dataclass of plain numbers so that it survives JSON (trigger
kwargs, operator arguments, connection extras).

Three questions about a failure are answered here, and only here:

- :func:`is_transient`: inside the policy, is this *attempt* worth another one? (an error
  status Hopsworks may not repeat, a dropped connection, a timeout, a body cut short);
- :func:`is_ambiguous`: may the failed request still have been carried out by the server?
  (what a call that is not idempotent must check before sending again);
- :func:`is_outage`: outside the policy, does an error that reached the caller mean the API
  could not be reached? (what a wait rides out rather than reports). The policy turns its
  last transient failure into :class:`HopsworksApiUnavailableError`, so this set is that
  error plus the raw connection errors and timeouts a caller may meet outside the policy.

Two call shapes sit on top of the policy: :func:`call_not_idempotent` (send once, recover the
result of a request whose answer was lost) and :func:`poll_until_ready` (look again until
something is there, within a deadline).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from typing import Any, Generic, NoReturn, Protocol, TypeVar

import aiohttp
import requests
from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception, retry_if_exception_type
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_exponential, wait_random

from airflow_provider_hopsjobs.clock import SYSTEM_CLOCK, Clock
from airflow_provider_hopsjobs.errors import HopsworksApiUnavailableError, HopsworksConfigError

log = logging.getLogger(__name__)

T = TypeVar("T")


class WarningLogger(Protocol):
    """Anything with ``warning()``: a stdlib logger or the hook's structlog-backed ``log``."""

    def warning(self, msg: Any, /, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one API call tries before giving up.

    :param max_attempts: attempts per call, the first one included.
    :param initial_wait: first backoff in seconds; it doubles on every retry.
    :param max_wait: ceiling of one backoff (before jitter).
    :param max_total_seconds: budget of one call, waits included; no retry starts past it.
    :param jitter: up to this many random seconds added to each backoff, so that many
        clients that failed together do not come back together.
    """

    max_attempts: int = 6
    initial_wait: float = 1.0
    max_wait: float = 30.0
    max_total_seconds: float = 120.0
    jitter: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.max_attempts, int) or isinstance(self.max_attempts, bool):
            raise HopsworksConfigError(f"max_attempts must be an integer, got {self.max_attempts!r}")
        if self.max_attempts < 1:
            raise HopsworksConfigError(f"max_attempts must be at least 1, got {self.max_attempts}")
        for name in ("initial_wait", "max_wait", "max_total_seconds", "jitter"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise HopsworksConfigError(f"{name} must be a finite number, got {value!r}")
            if value < 0:
                raise HopsworksConfigError(f"{name} must not be negative, got {value}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, the inverse of :meth:`from_dict`."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RetryPolicy:
        """Build a policy from a mapping; unknown keys are an error rather than silently ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise HopsworksConfigError(
                f"Unknown retry policy setting(s) {unknown}; expected some of {sorted(known)}"
            )
        return cls(**dict(data))

    @classmethod
    def coerce(cls, value: RetryPolicy | Mapping[str, Any] | None) -> RetryPolicy | None:
        """Accept a policy, its dict form, or None (meaning: use the connection's)."""
        if value is None or isinstance(value, RetryPolicy):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        raise HopsworksConfigError(
            f"retry_policy must be a RetryPolicy or a mapping, got {type(value).__name__}"
        )


class TransientHttpError(Exception):
    """A response worth retrying: 5xx, or 429 with an optional ``Retry-After``."""

    def __init__(self, message: str, *, status_code: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after


def is_retryable_status(status_code: int) -> bool:
    """5xx and 429 are worth another try; every other status is final."""
    return status_code == 429 or status_code >= 500


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


_TRANSIENT_EXCEPTIONS: tuple[type[BaseException], ...] = (
    TransientHttpError,
    # requests: refused/reset connections, DNS failures, connect and read timeouts, a body cut short.
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    # aiohttp: the same failures on the async side.
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    asyncio.TimeoutError,
    TimeoutError,
)


def is_transient(exc: BaseException | None) -> bool:
    """Inside the policy: True for an attempt's failure that another attempt may fix."""
    return isinstance(exc, _TRANSIENT_EXCEPTIONS)


#: The errors :func:`is_outage` accepts, for an ``except`` clause that handles them.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    # What the policy raises when it gives up on transient failures.
    HopsworksApiUnavailableError,
    # Raw failures to reach the API, from code outside the policy (or the standard library).
    ConnectionError,
    TimeoutError,
    asyncio.TimeoutError,
    requests.ConnectionError,
    requests.Timeout,
    aiohttp.ClientConnectionError,
    aiohttp.ServerTimeoutError,
)


def is_outage(error: BaseException | None) -> bool:
    """Outside the policy: True when an error that reached the caller means "the API could not be
    reached" (so a wait may ride it out), rather than "the API answered and refused".
    """
    return isinstance(error, OUTAGE_ERRORS)


def is_ambiguous(exc: BaseException | None) -> bool:
    """Could the failed request still have been carried out by the server?

    A 429 is an explicit refusal; a timeout, a dropped connection or a 5xx may have
    happened after the server acted. Non-idempotent calls check before resending.
    """
    if isinstance(exc, TransientHttpError):
        return exc.status_code != 429
    return is_transient(exc)


class wait_retry_after(wait_base):
    """Honour the server's ``Retry-After``; otherwise fall back to the backoff strategy."""

    def __init__(self, fallback: wait_base) -> None:
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None and outcome.failed else None
        if isinstance(exc, TransientHttpError) and exc.retry_after is not None:
            return exc.retry_after
        return float(self.fallback(retry_state))


class stop_within_budget(stop_base):
    """Stop after ``max_attempts``, or when the next wait would cross the time budget.

    Counting the upcoming wait (not only the time spent) means a ``Retry-After`` longer
    than what is left gives up at once instead of sleeping past the budget.
    """

    def __init__(self, max_attempts: int, max_total_seconds: float, *, spent: float = 0.0) -> None:
        self.max_attempts = max_attempts
        self.max_total_seconds = max_total_seconds
        self.spent = spent

    def __call__(self, retry_state: RetryCallState) -> bool:
        if retry_state.attempt_number >= self.max_attempts:
            return True
        elapsed = (retry_state.seconds_since_start or 0.0) + self.spent
        upcoming = float(getattr(retry_state, "upcoming_sleep", 0.0) or 0.0)
        return elapsed + upcoming > self.max_total_seconds


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "no error"
    text = str(exc) or type(exc).__name__
    if isinstance(exc, TransientHttpError):
        return text
    return f"{type(exc).__name__}: {text}"


def _common_kwargs(
    policy: RetryPolicy, what: str, logger: WarningLogger | None, spent: float = 0.0
) -> dict[str, Any]:
    logger = logger or log

    def before_sleep(retry_state: RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome is not None else None
        logger.warning(
            "Hopsworks API: %s failed (%s); attempt %d of %d, retrying in %.1f s",
            what,
            _describe(exc),
            retry_state.attempt_number,
            policy.max_attempts,
            retry_state.upcoming_sleep,
        )

    def give_up(retry_state: RetryCallState) -> NoReturn:
        exc = retry_state.outcome.exception() if retry_state.outcome is not None else None
        elapsed = (retry_state.seconds_since_start or 0.0) + spent
        raise HopsworksApiUnavailableError(
            f"Hopsworks API unavailable: {what} failed after {retry_state.attempt_number} attempt(s) "
            f"in {elapsed:.1f} s; last error: {_describe(exc)}"
        ) from exc

    backoff = wait_exponential(multiplier=policy.initial_wait, max=policy.max_wait) + wait_random(
        0, policy.jitter
    )
    return {
        "stop": stop_within_budget(policy.max_attempts, policy.max_total_seconds, spent=spent),
        "wait": wait_retry_after(backoff),
        "retry": retry_if_exception(is_transient),
        "before_sleep": before_sleep,
        "retry_error_callback": give_up,
        "reraise": True,
    }


def retrying(
    policy: RetryPolicy,
    what: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    logger: WarningLogger | None = None,
) -> Retrying:
    """A tenacity ``Retrying`` for one sync call; ``what`` names it in warnings and errors.

    Non-transient exceptions pass through untouched; when the policy gives up the caller
    gets :class:`HopsworksApiUnavailableError` chained to the last failure.
    """
    return Retrying(sleep=sleep, **_common_kwargs(policy, what, logger))


def async_retrying(
    policy: RetryPolicy,
    what: str,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    logger: WarningLogger | None = None,
) -> AsyncRetrying:
    """The async twin of :func:`retrying`, with the same classifier, waits and bounds."""
    return AsyncRetrying(sleep=sleep, **_common_kwargs(policy, what, logger))


async def async_call(
    policy: RetryPolicy,
    what: str,
    fn: Callable[..., Awaitable[T]],
    *args: Any,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    logger: WarningLogger | None = None,
    **kwargs: Any,
) -> T:
    """Await ``fn(*args, **kwargs)`` under the policy, like :func:`async_retrying` would.

    Nearly every call succeeds at once, so the first attempt runs bare: a fresh tenacity
    ``AsyncRetrying`` inspects each of its callbacks on every call, which cost a triggerer
    polling a thousand executions about a third of its CPU. Only after a transient failure
    does the retry machinery start, with that failure as attempt one and its time charged
    to the budget, so the attempts, waits, bounds and messages are those of
    :func:`async_retrying`.
    """
    began = time.monotonic()
    try:
        return await fn(*args, **kwargs)
    except Exception as exc:
        if not is_transient(exc):
            raise
        first_failure: list[BaseException] = [exc]

    async def attempt(*a: Any, **kw: Any) -> T:
        if first_failure:
            raise first_failure.pop()
        return await fn(*a, **kw)

    retryer = AsyncRetrying(
        sleep=sleep, **_common_kwargs(policy, what, logger, spent=time.monotonic() - began)
    )
    result: T = await retryer(attempt, *args, **kwargs)
    return result


class _NotIdempotentCall(Generic[T]):
    """The attempts of one :func:`call_not_idempotent` call, and whether one may have landed."""

    def __init__(
        self,
        send: Callable[[], T],
        recover: Callable[[], T | None],
        recover_on: Callable[[BaseException], bool] | None,
    ) -> None:
        self.send = send
        self.recover = recover
        self.recover_on = recover_on
        #: An earlier attempt failed in a way that may have reached the server.
        self.ambiguous = False

    def __call__(self) -> T:
        if self.ambiguous and self.recover_on is None:
            found = self.recover()
            if found is not None:
                return found
        try:
            return self.send()
        except BaseException as exc:
            if self.ambiguous and self.recover_on is not None and self.recover_on(exc):
                found = self.recover()
                if found is not None:
                    return found
            self.ambiguous = self.ambiguous or is_ambiguous(exc)
            raise


def call_not_idempotent(
    policy: RetryPolicy,
    what: str,
    send: Callable[[], T],
    recover: Callable[[], T | None],
    *,
    recover_on: Callable[[BaseException], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    logger: WarningLogger | None = None,
) -> T:
    """Call ``send`` under the policy although sending it twice would do the work twice.

    After an attempt that failed ambiguously (see :func:`is_ambiguous`: a timeout, a dropped
    connection, a 5xx), the server may have carried the request out and only its answer was
    lost. ``recover()`` then looks for what that request produced and returns it, or None when
    it produced nothing; a found result is returned instead of sending again.

    :param recover_on: without it, ``recover`` is asked before every resend that follows an
        ambiguous failure. With it, the resend goes out first and ``recover`` is asked only when
        the resend is refused with an error ``recover_on`` accepts (the server saying "already
        done"); any other refusal, or a None from ``recover``, is raised as it is.
    """
    retryer = retrying(policy, what, sleep=sleep, logger=logger)
    result: T = retryer(_NotIdempotentCall(send, recover, recover_on))
    return result


class NotReady(Exception):
    """Raised by a look of :func:`poll_until_ready`: nothing there yet, look again later."""


def poll_until_ready(
    look: Callable[[], T],
    *,
    timeout: float,
    first_wait: float,
    max_wait: float,
    clock: Clock = SYSTEM_CLOCK,
) -> T:
    """Call ``look`` until it returns rather than raise :class:`NotReady`, within ``timeout`` seconds.

    Pauses start at ``first_wait`` and double up to ``max_wait``; no pause would end past the
    deadline (read from ``clock.monotonic``), so a zero timeout looks exactly once. Past the
    deadline the last :class:`NotReady` is raised; any other exception ends the wait at once.
    """
    deadline = clock.monotonic() + timeout

    def past_deadline(retry_state: RetryCallState) -> bool:
        return clock.monotonic() + retry_state.upcoming_sleep > deadline

    waiter = Retrying(
        retry=retry_if_exception_type(NotReady),
        wait=wait_exponential(multiplier=first_wait, min=first_wait, max=max_wait),
        stop=past_deadline,
        sleep=clock.sleep,
        reraise=True,
    )
    result: T = waiter(look)
    return result
