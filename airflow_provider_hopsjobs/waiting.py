"""One wait policy for every way of waiting on an execution.

The run operator's synchronous loop, the deferrable trigger, the sensor and the stop
operator all drive the same :class:`ExecutionWatch`: it decides what one poll result means
(still running, over, a transient error to ride out, an error to report), how long to
sleep next and when the absolute deadline has passed. Keeping that in one place is what
makes "sync and deferrable behave the same" true by construction instead of by two loops
that happen to agree.

The outcome of a wait is a plain JSON-able :class:`~airflow_provider_hopsjobs.execution.ExecutionEvent`
(the payload a trigger yields), so the worker-side completion code handles a sync wait and
a deferred one identically.

Polling starts at half a second and stretches with the time already waited (each sleep
is at most 5 % of it) up to the configured cap: a job that takes half a minute is noticed
within about a second of its end, and one that takes five hours costs a request every
``poll_interval`` seconds (about 200 requests in its first hour with the default cap).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final, Protocol

from airflow_provider_hopsjobs import validation
from airflow_provider_hopsjobs.clock import SYSTEM_CLOCK, Clock
from airflow_provider_hopsjobs.errors import HopsworksError, HopsworksNotFoundError
from airflow_provider_hopsjobs.execution import (
    WAIT_OUTCOMES,
    Execution,
    ExecutionEvent,
    Outcome,
    describe,
)
from airflow_provider_hopsjobs.hooks.retry_policy import is_outage
from airflow_provider_hopsjobs.live_logs import LiveLog, LiveProgress, PodLog

#: Default cap of the adaptive poll schedule (seconds).
DEFAULT_POLL_INTERVAL: Final[float] = 30.0
#: How long a wait rides out an unreachable or failing API before giving up (seconds).
DEFAULT_TRANSIENT_ERROR_BUDGET: Final[float] = 600.0
#: First interval of the adaptive schedule (seconds).
FIRST_POLL_INTERVAL: Final[float] = 0.5
#: Longest sleep of the adaptive schedule, as a share of the time waited so far.
POLL_GROWTH: Final[float] = 0.05


@dataclass(frozen=True)
class WaitPolicy:
    """How one task waits: validated once, when the task is built, then carried as is.

    :param poll_interval: cap of the adaptive poll schedule, seconds (> 0).
    :param transient_error_budget: how long an unreachable or failing API is ridden out, seconds.
    """

    poll_interval: float = DEFAULT_POLL_INTERVAL
    transient_error_budget: float = DEFAULT_TRANSIENT_ERROR_BUDGET

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "poll_interval", validation.seconds("poll_interval", self.poll_interval, positive=True)
        )
        object.__setattr__(
            self,
            "transient_error_budget",
            validation.seconds("transient_error_budget", self.transient_error_budget),
        )


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


# -- deadlines ----------------------------------------------------------------------------------


def deadline_after(timeout: timedelta | float | None, *, clock: Clock = SYSTEM_CLOCK) -> float | None:
    """Absolute deadline (epoch seconds) ``timeout`` from now; None means "no deadline"."""
    if timeout is None:
        return None
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    return clock.time() + seconds


def earliest_deadline(*deadlines: float | None) -> float | None:
    """The earliest of several optional deadlines."""
    present = [d for d in deadlines if d is not None]
    return min(present) if present else None


def format_deadline(deadline: float | None) -> str:
    """Human form of a deadline for log lines."""
    if deadline is None:
        return "none"
    return datetime.fromtimestamp(deadline, tz=timezone.utc).isoformat(timespec="seconds")


# -- events --------------------------------------------------------------------------------------


def validate_event(event: Any) -> ExecutionEvent:
    """Refuse a missing or malformed event: a lost payload must fail loudly, never succeed."""
    if event is None:
        raise HopsworksError(
            "The trigger resumed the task without an event; the execution's outcome is unknown."
        )
    if not isinstance(event, Mapping):
        raise HopsworksError(f"The trigger sent an unexpected event of type {type(event).__name__}.")
    status = event.get("status")
    if status not in WAIT_OUTCOMES:
        raise HopsworksError(f"The trigger sent an event with unknown status {status!r}.")
    for key in ("execution_id", "job_name"):
        if event.get(key) in (None, ""):
            raise HopsworksError(f"The trigger sent a {status!r} event without {key!r}.")
    checked = ExecutionEvent(
        status=str(status),
        execution_id=int(event["execution_id"]),
        job_name=str(event["job_name"]),
        state=event.get("state"),
        final_status=event.get("final_status"),
        message=str(event.get("message") or ""),
        transient=bool(event.get("transient", False)),
    )
    live = LiveProgress.from_dict(event.get("live_log"))
    if live is not None:
        checked["live_log"] = live.to_dict()
    return checked


# -- the wait itself ---------------------------------------------------------------------------


class ExecutionReader(Protocol):
    """The one hook call a synchronous wait makes."""

    def get_execution(
        self, job_name: str, execution_id: int, *, job_type: str | None = None
    ) -> Execution: ...


class ExecutionWatch:
    """What to do after each poll of one execution, shared by the sync loop and the trigger.

    The driver loop is, in either flavour::

        while True:
            if event := watch.expired(): return event
            try: execution = hook.get_execution(...)
            except Exception as err: event = watch.on_error(err)
            else: event = watch.on_execution(execution)
            if event: return event
            (async_)sleep(watch.next_sleep())
    """

    def __init__(
        self,
        *,
        job_name: str,
        execution_id: int,
        job_type: str | None = None,
        deadline: float | None = None,
        policy: WaitPolicy | None = None,
        clock: Clock = SYSTEM_CLOCK,
        log: logging.Logger | Any | None = None,
        waited: float = 0.0,
    ) -> None:
        self.job_name = job_name
        self.execution_id = int(execution_id)
        self.job_type = job_type
        self.deadline = deadline
        self.policy = policy or WaitPolicy()
        self.clock = clock
        self.log = log if log is not None else logging.getLogger(__name__)
        self._intervals = poll_intervals(self.policy.poll_interval, waited=waited)
        self._first_error_at: float | None = None
        #: The latest answer, or None before the first one.
        self.last_execution: Execution | None = None

    @property
    def description(self) -> str:
        return describe(self.job_name, self.execution_id)

    @property
    def _latest(self) -> Execution:
        """What is known of the execution: the last answer, or only its identity."""
        return self.last_execution or Execution(
            id=self.execution_id, job_name=self.job_name, job_type=self.job_type
        )

    def seconds_left(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - self.clock.time()

    def expired(self) -> ExecutionEvent | None:
        """A ``timeout`` event once the deadline has passed."""
        left = self.seconds_left()
        if left is None or left > 0:
            return None
        return self._latest.event(
            Outcome.TIMEOUT,
            f"{self.description} did not end before its deadline {format_deadline(self.deadline)}.",
        )

    def on_execution(self, execution: Execution) -> ExecutionEvent | None:
        """Digest one poll result; an event when the execution is over."""
        if self._first_error_at is not None:
            self.log.info("%s: the Hopsworks API answers again.", self.description)
            self._first_error_at = None
        previous = self.last_execution.state if self.last_execution is not None else None
        self.last_execution = execution.with_job_type(self.job_type)
        if execution.state != previous:
            self.log.info("%s is %s.", self.description, execution.state)
        return self.last_execution.terminal_event()

    def on_error(self, error: BaseException) -> ExecutionEvent | None:
        """Ride out outages within the budget; report anything else at once."""
        if is_outage(error):
            now = self.clock.monotonic()
            if self._first_error_at is None:
                self._first_error_at = now
            elapsed = now - self._first_error_at
            budget = self.policy.transient_error_budget
            if elapsed <= budget:
                self.log.warning(
                    "%s: the Hopsworks API is unavailable (%s); still waiting (%.0f s of %.0f s allowed).",
                    self.description,
                    error,
                    elapsed,
                    budget,
                )
                return None
            message = (
                f"The Hopsworks API stayed unavailable for {elapsed:.0f} s while waiting on "
                f"{self.description}: {error}"
            )
            return self._latest.event(Outcome.ERROR, message, transient=True)
        if isinstance(error, HopsworksNotFoundError):
            message = f"{self.description} no longer exists: {error}"
        elif isinstance(error, HopsworksError):
            message = f"Hopsworks refused to report on {self.description}: {error}"
        else:
            message = f"Unexpected error while waiting on {self.description}: {type(error).__name__}: {error}"
        return self._latest.event(Outcome.ERROR, message)

    def next_sleep(self) -> float:
        """The next poll interval, never past the deadline (plus a hair, to land after it)."""
        interval = next(self._intervals)
        left = self.seconds_left()
        if left is not None:
            interval = max(0.0, min(interval, left + 0.01))
        return interval


class PodLogReader(Protocol):
    """The hook call that reads a running execution's live tail."""

    def get_pod_logs(self, job_name: str, execution_id: int, *, lines: int | None = None) -> PodLog: ...


def should_read_live(watch: ExecutionWatch, live: LiveLog | None) -> bool:
    """Read the tail only while it can show something: on, still asked for, execution running."""
    latest = watch.last_execution
    return live is not None and live.active and latest is not None and not latest.is_terminal


def read_live_log(hook: Any, job_name: str, execution_id: int, live: LiveLog) -> None:
    """One read of the tail between two status polls (two when the first was too short);
    a failed read is said once, never raised."""
    try:
        lines = live.request_lines
        answer = hook.get_pod_logs(job_name, execution_id, lines=lines)
        if live.needs_longer_tail(answer, lines):
            lines = live.max_lines
            answer = hook.get_pod_logs(job_name, execution_id, lines=lines)
    except Exception as err:
        live.on_error(err)
    else:
        live.on_pod_log(answer, lines)


def with_live_progress(event: ExecutionEvent, live: LiveLog | None) -> ExecutionEvent:
    """The final event, carrying what the live part showed (for the archived copy)."""
    if live is not None and live.merger.shown:
        event["live_log"] = live.progress().to_dict()
    return event


def wait_for_execution(
    hook: ExecutionReader, watch: ExecutionWatch, live: LiveLog | None = None
) -> ExecutionEvent:
    """Block until the watched execution ends, its deadline passes, or the API is gone for good.

    With ``live``, the pod's log tail is read after each status poll that found the
    execution running, and the time that took is taken off the next sleep: status polls
    keep their schedule, so an end is noticed as soon as without live logs.
    """
    while True:
        if event := watch.expired():
            return with_live_progress(event, live)
        try:
            execution = hook.get_execution(watch.job_name, watch.execution_id, job_type=watch.job_type)
        except Exception as err:
            # Only API outcomes are judged here; anything else (including Airflow's own
            # task timeout) propagates so the worker handles it as usual.
            if not (isinstance(err, HopsworksError) or is_outage(err)):
                raise
            event = watch.on_error(err)
        else:
            event = watch.on_execution(execution)
        if event is not None:
            return with_live_progress(event, live)
        spent = 0.0
        if live is not None and should_read_live(watch, live):
            began = watch.clock.monotonic()
            read_live_log(hook, watch.job_name, watch.execution_id, live)
            spent = watch.clock.monotonic() - began
        watch.clock.sleep(max(0.0, watch.next_sleep() - spent))
