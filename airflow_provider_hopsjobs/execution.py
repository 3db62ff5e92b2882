"""One execution as one value: its states, the success rule, its summary and its event.

The hook turns every ExecutionDTO it receives into an :class:`Execution` (see
:meth:`Execution.from_dto`); nothing else in the provider reads the API's raw fields. The
rule follows Hopsworks' ``JobState`` and ``JobFinalStatus`` enums: an execution is over when
its *state* is terminal, and it succeeded only when ``state == FINISHED`` and ``finalStatus``
is ``SUCCEEDED``, or ``UNDEFINED`` for job types that have no YARN final status. Waiting on
``finalStatus`` alone would hang forever on a Spark job that fails to initialise (its final
status stays ``UNDEFINED``).

An :class:`Outcome` is where an execution stands (running, success, failed, killed), and
also how a wait ended, which adds ``timeout`` and ``error``. The single payload that ends a
wait, sync or deferred, is an :class:`ExecutionEvent`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, TypedDict

from typing_extensions import NotRequired

from airflow_provider_hopsjobs.job_types import has_yarn_final_status

#: States Hopsworks never leaves (``JobState.isFinalState``).
TERMINAL_STATES: Final[frozenset[str]] = frozenset(
    {
        "FINISHED",
        "FAILED",
        "KILLED",
        "FRAMEWORK_FAILURE",
        "APP_MASTER_START_FAILED",
        "INITIALIZATION_FAILED",
    }
)

#: States of an execution that is still going (``JobState.getRunningStates``), for listing filters.
RUNNING_STATES: Final[tuple[str, ...]] = (
    "INITIALIZING",
    "NEW",
    "NEW_SAVING",
    "SUBMITTED",
    "ACCEPTED",
    "RUNNING",
    "AGGREGATING_LOGS",
    "STARTING_APP_MASTER",
    "GENERATING_SECURITY_MATERIAL",
    "CONVERTING_NOTEBOOK",
)


class Outcome(str, enum.Enum):
    """Where an execution stands (the first four), or how a wait on it ended (any but ``RUNNING``)."""

    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    KILLED = "killed"
    #: The wait passed its deadline; the execution itself may still run.
    TIMEOUT = "timeout"
    #: The wait could not learn the outcome (the API refused, or stayed unreachable).
    ERROR = "error"


#: The outcomes that end a wait: the values an event's ``status`` may take.
WAIT_OUTCOMES: Final[frozenset[str]] = frozenset(o.value for o in Outcome if o is not Outcome.RUNNING)

_VERBS: Final[Mapping[Outcome, str]] = {
    Outcome.SUCCESS: "succeeded",
    Outcome.FAILED: "failed",
    Outcome.KILLED: "was killed",
}


class ExecutionEvent(TypedDict):
    """The single payload that ends a wait. No secrets, no log text: it is stored unencrypted."""

    status: str
    execution_id: int
    job_name: str
    state: str | None
    final_status: str | None
    message: str
    #: Only meaningful for ``error``: the failure was an outage that an Airflow retry may fix.
    transient: bool
    #: When the wait showed the output live: ``LiveProgress.to_dict()`` (a count, a flag and a
    #: digest; never log text), so the archived copy does not repeat it.
    live_log: NotRequired[dict[str, Any]]


def describe(job_name: str, execution_id: int) -> str:
    """How every message names an execution."""
    return f"Hopsworks job {job_name!r} execution {execution_id}"


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Execution:
    """An execution as the provider sees it; built once from the API's answer, by the hook.

    :param id: the execution id.
    :param job_name: the job it belongs to.
    :param state: Hopsworks' ``JobState`` name.
    :param final_status: Hopsworks' ``JobFinalStatus`` name (``UNDEFINED`` until it has one).
    :param job_type: the job's type when known; decides whether ``FINISHED`` + ``UNDEFINED`` is
        a success (it is, except for job types with a YARN final status).
    :param duration_ms: run time so far, milliseconds.
    :param submission_time: when it was submitted, as Hopsworks wrote it.
    :param args: the arguments it actually ran with (the job's defaults substituted).
    :param stdout_path: where its aggregated stdout lives, once aggregated.
    :param stderr_path: the same for stderr.
    """

    id: int
    job_name: str
    state: str | None = None
    final_status: str | None = None
    job_type: str | None = None
    duration_ms: int | None = None
    submission_time: str | None = None
    args: str | None = None
    stdout_path: str | None = None
    stderr_path: str | None = None

    @classmethod
    def from_dto(cls, dto: Mapping[str, Any], *, job_name: str, job_type: str | None = None) -> Execution:
        """Read an ExecutionDTO (null fields are omitted by Hopsworks, so every field is optional)."""
        duration = dto.get("duration")
        return cls(
            id=int(dto.get("id") or 0),
            job_name=job_name,
            state=_optional_str(dto.get("state")),
            final_status=_optional_str(dto.get("finalStatus")),
            job_type=job_type.upper() if job_type else None,
            duration_ms=int(duration) if isinstance(duration, (int, float)) else None,
            submission_time=_optional_str(dto.get("submissionTime")),
            args=_optional_str(dto.get("args")),
            stdout_path=_optional_str(dto.get("stdoutPath")),
            stderr_path=_optional_str(dto.get("stderrPath")),
        )

    @classmethod
    def from_event(cls, event: ExecutionEvent, *, job_type: str | None = None) -> Execution:
        """What an event says of its execution, when the execution itself cannot be read again."""
        return cls(
            id=event["execution_id"],
            job_name=event["job_name"],
            state=event["state"],
            final_status=event["final_status"],
            job_type=job_type,
        )

    def with_job_type(self, job_type: str | None) -> Execution:
        """The same execution, judged as one of ``job_type`` (when that is newly known)."""
        if not job_type or job_type.upper() == self.job_type:
            return self
        return replace(self, job_type=job_type.upper())

    @property
    def description(self) -> str:
        return describe(self.job_name, self.id)

    @property
    def is_terminal(self) -> bool:
        """True when Hopsworks will not move the execution to another state."""
        return (self.state or "").upper() in TERMINAL_STATES

    @property
    def outcome(self) -> Outcome:
        """``RUNNING`` until the state is terminal; then success, failed or killed under the rule."""
        state = (self.state or "").upper()
        final_status = (self.final_status or "UNDEFINED").upper()
        if state not in TERMINAL_STATES:
            return Outcome.RUNNING
        if state == "KILLED" or final_status == "KILLED":
            return Outcome.KILLED
        if state != "FINISHED":
            return Outcome.FAILED
        if final_status == "SUCCEEDED":
            return Outcome.SUCCESS
        if final_status == "UNDEFINED" and not has_yarn_final_status(self.job_type):
            return Outcome.SUCCESS
        return Outcome.FAILED

    def summary(self, url: str | None) -> dict[str, Any]:
        """The small JSON summary the run operator returns and the sensor reports."""
        return {
            "execution_id": self.id,
            "job_name": self.job_name,
            "state": self.state,
            "final_status": self.final_status,
            "duration_ms": self.duration_ms,
            "url": url,
        }

    def event(self, outcome: Outcome, message: str, *, transient: bool = False) -> ExecutionEvent:
        """An event about this execution (a timeout or an error may end a wait on a running one)."""
        return ExecutionEvent(
            status=outcome.value,
            execution_id=self.id,
            job_name=self.job_name,
            state=self.state,
            final_status=self.final_status,
            message=message,
            transient=transient,
        )

    def terminal_event(self) -> ExecutionEvent | None:
        """The event that ends a wait on this execution, or None while it is still running."""
        outcome = self.outcome
        if outcome is Outcome.RUNNING:
            return None
        message = (
            f"{self.description} {_VERBS[outcome]} "
            f"(state {self.state}, final status {self.final_status or 'UNDEFINED'})."
        )
        return self.event(outcome, message)
