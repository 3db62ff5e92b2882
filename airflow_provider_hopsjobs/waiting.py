"""One wait policy for every way of waiting on an execution.

The run operator's synchronous loop, the deferrable trigger and the sensor all drive the
same :class:`ExecutionWatch`: it decides what one poll result means (still running, over,
a transient error to ride out, an error to report), how long to sleep next and when the
absolute deadline has passed. Keeping that in one place is what makes "sync and deferrable
behave the same" true by construction instead of by two loops that happen to agree.

The outcome of a wait is a plain JSON-able *event* dict (the payload a trigger yields), so
the worker-side completion code handles a sync wait and a deferred one identically.

Polling starts at half a second and stretches with the time already waited (each sleep
is at most 5 % of it) up to the configured cap: a job that takes half a minute is noticed
within about a second of its end, and one that takes five hours costs a request every
``poll_interval`` seconds (about 200 requests in its first hour with the default cap).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Final, Literal, TypedDict

from airflow_provider_hopsjobs.errors import (
    HopsworksApiUnavailableError,
    HopsworksError,
    HopsworksNotFoundError,
)
from airflow_provider_hopsjobs.execution import Outcome
from airflow_provider_hopsjobs.status import outcome_of

EventStatus = Literal["success", "failed", "killed", "timeout", "error"]
EVENT_STATUSES: Final[frozenset[str]] = frozenset({"success", "failed", "killed", "timeout", "error"})

#: Default cap of the adaptive poll schedule (seconds).
DEFAULT_POLL_INTERVAL: Final[float] = 30.0
#: How long a wait rides out an unreachable or failing API before giving up (seconds).
DEFAULT_TRANSIENT_ERROR_BUDGET: Final[float] = 600.0
#: First interval of the adaptive schedule (seconds).
FIRST_POLL_INTERVAL: Final[float] = 0.5
#: Longest sleep of the adaptive schedule, as a share of the time waited so far.
POLL_GROWTH: Final[float] = 0.05


class ExecutionEvent(TypedDict):
    """The single payload that ends a wait. No secrets, no log text: it is stored unencrypted."""

    status: EventStatus
    execution_id: int
    job_name: str
    state: str | None
    final_status: str | None
    message: str
    #: Only meaningful for ``error``: the failure was an outage that an Airflow retry may fix.
    transient: bool


def _transient_error_types() -> tuple[type[BaseException], ...]:
    """Errors that say "the API could not be reached", whichever transport raised them."""
    types: list[type[BaseException]] = [
        HopsworksApiUnavailableError,
        ConnectionError,
        TimeoutError,
        asyncio.TimeoutError,
    ]
    try:
        import requests

        types.append(requests.ConnectionError)
        types.append(requests.Timeout)
    except ImportError:  # pragma: no cover - requests ships with Airflow
        pass
    try:
        import aiohttp

        types.append(aiohttp.ClientConnectionError)
        types.append(aiohttp.ServerTimeoutError)
    except ImportError:  # pragma: no cover - aiohttp is a declared dependency
        pass
    return tuple(types)


TRANSIENT_ERRORS: Final[tuple[type[BaseException], ...]] = _transient_error_types()


def is_transient(error: BaseException) -> bool:
    """True for outages worth riding out: connection errors, timeouts, an API that kept failing."""
    return isinstance(error, TRANSIENT_ERRORS)


def poll_intervals(
    cap: float, first: float = FIRST_POLL_INTERVAL, growth: float = POLL_GROWTH, *, waited: float = 0.0
) -> Iterator[float]:
    """Yield sleep intervals: ``first`` while the wait is young, then ``growth`` times the time
    waited so far, never more than ``cap``.

    The delay in noticing that an execution ended thus stays within a few per cent of its
    run time: half a second for jobs of up to ``first / growth`` seconds (10 s), 1.5 s for
    a 30 s job, the cap for long ones. A geometric back-off (1, 1, 2, 3, 5, 8 ...) would be
    cheaper early on but notices a 14 s job only at 20 s. A cap below ``first`` simply
    polls at the cap. ``waited`` resumes the schedule of a wait that began earlier (a
    trigger handed to another triggerer keeps polling at its old pace).
    """
    if cap <= first:
        while True:
            yield cap
    waited = max(0.0, waited)
    while True:
        interval = min(cap, max(first, waited * growth))
        yield interval
        waited += interval


# -- clocks and deadlines ---------------------------------------------------------------------


def wall_time() -> float:
    """Epoch seconds; deadlines are absolute so they survive a hand-over to the triggerer."""
    return time.time()


def pause(seconds: float) -> None:
    """Sleep between synchronous polls (one name to replace in tests)."""
    time.sleep(seconds)


def monotonic_time() -> float:
    """For durations measured inside one process (the transient-error allowance)."""
    return time.monotonic()


def deadline_after(timeout: timedelta | float | None, *, now: float | None = None) -> float | None:
    """Absolute deadline (epoch seconds) ``timeout`` from now; None means "no deadline"."""
    if timeout is None:
        return None
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    return (wall_time() if now is None else now) + seconds


def earliest_deadline(*deadlines: float | None) -> float | None:
    """The earliest of several optional deadlines."""
    present = [d for d in deadlines if d is not None]
    return min(present) if present else None


def parse_deadline(value: float | int | str | datetime | None) -> float | None:
    """Normalise a deadline given as epoch seconds, an ISO-8601 string or an aware datetime.

    :raises ValueError: for anything else (a naive datetime is refused: it is ambiguous).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"deadline must be epoch seconds or an ISO-8601 time, not {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"deadline must be a finite number of epoch seconds, not {value!r}")
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as err:
            raise ValueError(f"deadline {value!r} is neither epoch seconds nor an ISO-8601 time") from err
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"deadline {value.isoformat()!r} has no time zone; give an aware time")
        return value.timestamp()
    raise ValueError(f"deadline must be epoch seconds or an ISO-8601 time, not {type(value).__name__}")


def format_deadline(deadline: float | None) -> str:
    """Human form of a deadline for log lines."""
    if deadline is None:
        return "none"
    return datetime.fromtimestamp(deadline, tz=timezone.utc).isoformat(timespec="seconds")


# -- events --------------------------------------------------------------------------------


def _describe(job_name: str, execution_id: int) -> str:
    return f"Hopsworks job {job_name!r} execution {execution_id}"


def make_event(
    status: EventStatus,
    *,
    job_name: str,
    execution_id: int,
    execution: Mapping[str, Any] | None = None,
    message: str,
    transient: bool = False,
) -> ExecutionEvent:
    """Build the one event that ends a wait."""
    execution = execution or {}
    state = execution.get("state")
    final_status = execution.get("finalStatus")
    return ExecutionEvent(
        status=status,
        execution_id=int(execution_id),
        job_name=job_name,
        state=None if state is None else str(state),
        final_status=None if final_status is None else str(final_status),
        message=message,
        transient=transient,
    )


_OUTCOME_STATUS: Final[dict[Outcome, EventStatus]] = {
    Outcome.SUCCESS: "success",
    Outcome.FAILED: "failed",
    Outcome.KILLED: "killed",
}


def terminal_event(
    execution: Mapping[str, Any], *, job_name: str, execution_id: int, job_type: str | None
) -> ExecutionEvent | None:
    """The event for a finished execution, or None while it is still running."""
    outcome = outcome_of(execution, job_type)
    if outcome is Outcome.RUNNING:
        return None
    status = _OUTCOME_STATUS[outcome]
    verb = {"success": "succeeded", "failed": "failed", "killed": "was killed"}[status]
    message = (
        f"{_describe(job_name, execution_id)} {verb} "
        f"(state {execution.get('state')}, final status {execution.get('finalStatus', 'UNDEFINED')})."
    )
    return make_event(
        status, job_name=job_name, execution_id=execution_id, execution=execution, message=message
    )


def validate_event(event: Any) -> ExecutionEvent:
    """Refuse a missing or malformed event: a lost payload must fail loudly, never succeed."""
    if event is None:
        raise HopsworksError(
            "The trigger resumed the task without an event; the execution's outcome is unknown."
        )
    if not isinstance(event, Mapping):
        raise HopsworksError(f"The trigger sent an unexpected event of type {type(event).__name__}.")
    status = event.get("status")
    if status not in EVENT_STATUSES:
        raise HopsworksError(f"The trigger sent an event with unknown status {status!r}.")
    for key in ("execution_id", "job_name"):
        if event.get(key) in (None, ""):
            raise HopsworksError(f"The trigger sent a {status!r} event without {key!r}.")
    return ExecutionEvent(
        status=status,
        execution_id=int(event["execution_id"]),
        job_name=str(event["job_name"]),
        state=event.get("state"),
        final_status=event.get("final_status"),
        message=str(event.get("message") or ""),
        transient=bool(event.get("transient", False)),
    )


# -- the wait itself ----------------------------------------------------------------------


class ExecutionWatch:
    """What to do after each poll of one execution, shared by the sync loop and the trigger.

    The driver loop is, in either flavour::

        while True:
            if event := watch.expired(): return event
            try: execution = get_execution(...)
            except Exception as err: event = watch.on_error(err)
            else: event = watch.on_execution(execution)
            if event: return event
            (sleep or pause)(watch.next_sleep())
    """

    def __init__(
        self,
        *,
        job_name: str,
        execution_id: int,
        job_type: str | None = None,
        deadline: float | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        transient_error_budget: float = DEFAULT_TRANSIENT_ERROR_BUDGET,
        log: logging.Logger | Any | None = None,
        wall_clock: Callable[[], float] | None = None,
        monotonic: Callable[[], float] | None = None,
        waited: float = 0.0,
    ) -> None:
        self.job_name = job_name
        self.execution_id = int(execution_id)
        self.job_type = job_type
        self.deadline = deadline
        self.transient_error_budget = transient_error_budget
        self.log = log if log is not None else logging.getLogger(__name__)
        self._wall_clock = wall_clock
        self._monotonic = monotonic
        self._intervals = poll_intervals(poll_interval, waited=waited)
        self._first_error_at: float | None = None
        self.last_execution: dict[str, Any] | None = None
        self.polls = 0

    @property
    def description(self) -> str:
        return _describe(self.job_name, self.execution_id)

    def seconds_left(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - (self._wall_clock or wall_time)()

    def expired(self) -> ExecutionEvent | None:
        """A ``timeout`` event once the deadline has passed."""
        left = self.seconds_left()
        if left is None or left > 0:
            return None
        return make_event(
            "timeout",
            job_name=self.job_name,
            execution_id=self.execution_id,
            execution=self.last_execution,
            message=f"{self.description} did not end before its deadline {format_deadline(self.deadline)}.",
        )

    def on_execution(self, execution: Mapping[str, Any]) -> ExecutionEvent | None:
        """Digest one poll result; an event when the execution is over."""
        self.polls += 1
        if self._first_error_at is not None:
            self.log.info("%s: the Hopsworks API answers again.", self.description)
            self._first_error_at = None
        previous = (self.last_execution or {}).get("state")
        self.last_execution = dict(execution)
        state = execution.get("state")
        if state != previous:
            self.log.info("%s is %s.", self.description, state)
        return terminal_event(
            execution, job_name=self.job_name, execution_id=self.execution_id, job_type=self.job_type
        )

    def on_error(self, error: BaseException) -> ExecutionEvent | None:
        """Ride out transient errors within the budget; report anything else at once."""
        if is_transient(error):
            now = (self._monotonic or monotonic_time)()
            if self._first_error_at is None:
                self._first_error_at = now
            elapsed = now - self._first_error_at
            if elapsed <= self.transient_error_budget:
                self.log.warning(
                    "%s: the Hopsworks API is unavailable (%s); still waiting (%.0f s of %.0f s allowed).",
                    self.description,
                    error,
                    elapsed,
                    self.transient_error_budget,
                )
                return None
            return make_event(
                "error",
                job_name=self.job_name,
                execution_id=self.execution_id,
                execution=self.last_execution,
                message=(
                    f"The Hopsworks API stayed unavailable for {elapsed:.0f} s while waiting on "
                    f"{self.description}: {error}"
                ),
                transient=True,
            )
        if isinstance(error, HopsworksNotFoundError):
            message = f"{self.description} no longer exists: {error}"
        elif isinstance(error, HopsworksError):
            message = f"Hopsworks refused to report on {self.description}: {error}"
        else:
            message = f"Unexpected error while waiting on {self.description}: {type(error).__name__}: {error}"
        return make_event(
            "error",
            job_name=self.job_name,
            execution_id=self.execution_id,
            execution=self.last_execution,
            message=message,
        )

    def next_sleep(self) -> float:
        """The next poll interval, never past the deadline (plus a hair, to land after it)."""
        interval = next(self._intervals)
        left = self.seconds_left()
        if left is not None:
            interval = max(0.0, min(interval, left + 0.01))
        return interval


_SYNC_HANDLED: Final[tuple[type[BaseException], ...]] = (HopsworksError, *TRANSIENT_ERRORS)


def wait_for_execution(
    get_execution: Callable[[str, int], Mapping[str, Any]],
    watch: ExecutionWatch,
    *,
    sleep: Callable[[float], None] | None = None,
) -> ExecutionEvent:
    """Block until the watched execution ends, its deadline passes, or the API is gone for good."""
    while True:
        if event := watch.expired():
            return event
        try:
            execution = get_execution(watch.job_name, watch.execution_id)
        except _SYNC_HANDLED as err:
            # Only API outcomes are judged here; anything else (including Airflow's own
            # task timeout) propagates so the worker handles it as usual.
            event = watch.on_error(err)
        else:
            event = watch.on_execution(execution)
        if event is not None:
            return event
        (sleep or pause)(watch.next_sleep())
