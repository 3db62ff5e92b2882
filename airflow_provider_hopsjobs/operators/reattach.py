"""Remember which execution a task started, so a retry reattaches instead of starting another.

A retry must never launch a second execution while the first is still running. The run
operator records the execution it started *right after starting it, before it waits or
defers*; the next try of the same task instance reads the record back and:

- the execution is still running: reattach and wait on it (sync or deferred alike);
- it already succeeded: do not run the job again, report that execution;
- it failed, was killed, or no longer exists: start a new execution.

The record is dropped when the task succeeds, so clearing a successful task later runs the
job again, as one would expect.

Where the record lives depends on the Airflow version:

**Airflow 3.3 and later: the task state store** (``context["task_state_store"]``, key
``hopsworks_execution``). It is scoped to dag id, run id, task id and map index, survives
retries and deferrals, and expires after ``[state_store] default_retention_days``.

**Airflow 3.0 to 3.2: an Airflow Variable.** These versions have no task state store, and
XComs cannot serve: every non-deferral attempt starts with the task's XComs cleared. The
operator writes a Variable named ``hopsjobs_execution_<hash>``, the hash taken over dag id,
run id, task id and map index (the Variable's description names them in clear), through
the Task SDK's ``Variable.set``. Its limits:

- Variables are global and editable: anyone who may edit Variables can change or delete
  the record (deleting it only means the next try starts a fresh execution).
- A task instance that fails for good leaves its Variable behind until the same task
  instance succeeds; on Airflow 3.0, whose Task SDK cannot delete Variables, a success
  overwrites the record with an empty one instead of deleting it.
- A secrets backend that shadows Variables by name would hide the record; the prefix
  ``hopsjobs_execution_`` must stay free of such shadows.

**Both tiers** share one gap that no external system can close: if the worker dies between
Hopsworks accepting the start request and the record being written, the next try does not
know that execution and starts another. The hook narrows that gap for lost responses (it
looks for the execution an ambiguous start request created before sending it again).

Set ``reattach_on_retry=False`` (or Airflow 3.3's name for it, ``durable=False``) on the
operator to start a new execution on every try.

**Airflow 3.3's durable-job convention.** The decisions above are those of Airflow's
``ResumableJobMixin`` (reconnect to a running job, return a succeeded one, resubmit after a
failure) and are counted under the same metric names, with the same ``operator`` tag:
``resumable_job.fresh_submit``, ``resumable_job.reconnect_attempt``,
``resumable_job.reconnect_success``, ``resumable_job.already_succeeded`` and
``resumable_job.terminal_resubmit``. The mixin itself is not used: it covers only the
synchronous path on 3.3+, while this record also serves deferred waits and Airflow 3.0-3.2
(see the README).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final, Protocol, TypedDict

from airflow_provider_hopsjobs.errors import HopsworksNotFoundError
from airflow_provider_hopsjobs.execution import Outcome
from airflow_provider_hopsjobs.version_compat import AIRFLOW_V_3_3_PLUS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_hopsjobs.execution import Execution
    from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

STATE_STORE_KEY: Final[str] = "hopsworks_execution"
VARIABLE_PREFIX: Final[str] = "hopsjobs_execution_"

log = logging.getLogger(__name__)

#: Prefix of the metrics Airflow 3.3's ``ResumableJobMixin`` emits for the same decisions.
METRIC_PREFIX: Final[str] = "resumable_job."


def count_decision(decision: str, context: Mapping[str, Any]) -> None:
    """Count one reattach decision as Airflow's durable-job metrics do (never fails the task)."""
    task = context.get("task")
    tags = {"operator": type(task).__name__ if task is not None else "unknown"}
    try:
        try:
            from airflow.sdk.observability import stats

            stats.incr(METRIC_PREFIX + decision, tags=tags)
        except ImportError:  # Airflow 3.0-3.2
            from airflow.stats import Stats

            Stats.incr(METRIC_PREFIX + decision, tags=tags)
    except Exception as err:  # a metrics backend must never fail a run
        log.debug("Could not count %s: %s", decision, err)


class ExecutionRecord(TypedDict):
    """What a try remembers about the execution it started."""

    job_name: str
    execution_id: int
    started_at: str
    try_number: int | None


def new_record(job_name: str, execution_id: int, try_number: int | None) -> ExecutionRecord:
    return ExecutionRecord(
        job_name=job_name,
        execution_id=int(execution_id),
        started_at=datetime.now(tz=timezone.utc).isoformat(timespec="seconds"),
        try_number=try_number,
    )


def _as_record(value: Any) -> ExecutionRecord | None:
    """Accept only a well-formed record; anything else (tombstone, edited by hand) is ignored."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict):
        return None
    job_name, execution_id = value.get("job_name"), value.get("execution_id")
    if not isinstance(job_name, str) or isinstance(execution_id, bool) or not isinstance(execution_id, int):
        return None
    try_number = value.get("try_number")
    return ExecutionRecord(
        job_name=job_name,
        execution_id=execution_id,
        started_at=str(value.get("started_at") or ""),
        try_number=try_number if isinstance(try_number, int) else None,
    )


class ExecutionMemory(Protocol):
    """Where a task instance keeps its execution record across tries."""

    #: Short name for log lines.
    kind: str

    def recall(self) -> ExecutionRecord | None: ...

    def remember(self, record: ExecutionRecord) -> None: ...

    def forget(self) -> None: ...


class NoMemory:
    """Reattaching is off, or this Airflow offers nowhere to keep the record."""

    kind = "none"

    def recall(self) -> ExecutionRecord | None:
        return None

    def remember(self, record: ExecutionRecord) -> None:
        return None

    def forget(self) -> None:
        return None


class TaskStateStoreMemory:
    """Airflow 3.3+: the task state store, scoped to this task instance."""

    kind = "task state store"

    def __init__(self, store: Any) -> None:
        self._store = store

    def recall(self) -> ExecutionRecord | None:
        return _as_record(self._store.get(STATE_STORE_KEY))

    def remember(self, record: ExecutionRecord) -> None:
        self._store.set(STATE_STORE_KEY, dict(record))

    def forget(self) -> None:
        self._store.delete(STATE_STORE_KEY)


def variable_key(dag_id: str, run_id: str, task_id: str, map_index: int | None) -> str:
    """A Variable name for one task instance: short, and free of run-id punctuation."""
    scope = f"{dag_id}\x1f{run_id}\x1f{task_id}\x1f{-1 if map_index is None else map_index}"
    return VARIABLE_PREFIX + hashlib.sha256(scope.encode()).hexdigest()[:32]


class VariableMemory:
    """Airflow 3.0-3.2: an Airflow Variable per task instance (see the module docstring for limits)."""

    kind = "Airflow Variable"

    def __init__(self, dag_id: str, run_id: str, task_id: str, map_index: int | None) -> None:
        self.key = variable_key(dag_id, run_id, task_id, map_index)
        self.description = (
            "Hopsworks execution started by task "
            f"dag_id={dag_id} run_id={run_id} task_id={task_id} map_index={map_index}; "
            "lets a retry reattach to it. Removed when the task succeeds."
        )

    @staticmethod
    def _variable() -> Any:
        from airflow.sdk import Variable

        return Variable

    def recall(self) -> ExecutionRecord | None:
        return _as_record(self._variable().get(self.key, default=None))

    def remember(self, record: ExecutionRecord) -> None:
        self._variable().set(self.key, json.dumps(dict(record)), description=self.description)

    def forget(self) -> None:
        variable = self._variable()
        delete = getattr(variable, "delete", None)
        if delete is not None:
            delete(self.key)
        else:
            variable.set(self.key, "{}", description=self.description)


class SafeMemory:
    """Wrap a memory so bookkeeping trouble is a warning, never a failed task.

    A record that cannot be written only costs the reattach feature on the next try; it
    must not fail a try whose execution is already running.
    """

    def __init__(self, inner: ExecutionMemory, logger: logging.Logger | Any = log) -> None:
        self.inner = inner
        self.kind = inner.kind
        self._log = logger

    def recall(self) -> ExecutionRecord | None:
        try:
            return self.inner.recall()
        except Exception as err:
            self._log.warning("Could not read the execution record from the %s: %s", self.kind, err)
            return None

    def remember(self, record: ExecutionRecord) -> None:
        try:
            self.inner.remember(record)
        except Exception as err:
            self._log.warning(
                "Could not record execution %s in the %s; a retry will not reattach to it: %s",
                record["execution_id"],
                self.kind,
                err,
            )

    def forget(self) -> None:
        try:
            self.inner.forget()
        except Exception as err:
            self._log.warning("Could not remove the execution record from the %s: %s", self.kind, err)


def memory_for(
    context: Mapping[str, Any], *, enabled: bool, logger: logging.Logger | Any = log
) -> SafeMemory:
    """The right memory for this Airflow version and task instance."""
    if not enabled:
        return SafeMemory(NoMemory(), logger)
    store = context.get("task_state_store") if AIRFLOW_V_3_3_PLUS else None
    if store is not None:
        return SafeMemory(TaskStateStoreMemory(store), logger)
    ti = context.get("ti") or context.get("task_instance")
    if ti is None:
        return SafeMemory(NoMemory(), logger)
    return SafeMemory(
        VariableMemory(ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1)),
        logger,
    )


def _still_counts(
    hook: HopsworksHook, record: ExecutionRecord, job_type: str | None, logger: logging.Logger | Any
) -> Execution | None:
    """The earlier try's execution when it is still running or already succeeded, else None."""
    previous_id = record["execution_id"]
    try:
        previous = hook.get_execution(record["job_name"], previous_id, job_type=job_type)
    except HopsworksNotFoundError:
        logger.info("Execution %s of an earlier try no longer exists; starting a new one.", previous_id)
        return None
    outcome = previous.outcome
    if outcome is Outcome.RUNNING:
        logger.info(
            "Reattaching to execution %s of an earlier try (state %s); not starting another.",
            previous_id,
            previous.state,
        )
        return previous
    if outcome is Outcome.SUCCESS:
        logger.info(
            "Execution %s of an earlier try already succeeded; not running the job again.", previous_id
        )
        return previous
    logger.info(
        "Execution %s of an earlier try ended %s/%s; starting a new one.",
        previous_id,
        previous.state,
        previous.final_status,
    )
    return None


def reattach_or_start(
    hook: HopsworksHook,
    memory: ExecutionMemory,
    job_name: str,
    args: str | Sequence[str] | None,
    *,
    job_type: str | None,
    context: Mapping[str, Any],
    log: logging.Logger | Any = log,
    start_options: Mapping[str, Any] | None = None,
) -> tuple[Execution, bool]:
    """The execution of an earlier try when it still counts, else a new one (recorded at once).

    Returns the execution and whether it was reused. ``start_options`` go to
    ``hook.start_execution`` (env vars, the run's dates).
    """
    record = memory.recall()
    known_ids: tuple[int, ...] = ()
    if record is not None and record["job_name"] == job_name:
        # Never to be taken for the execution a lost start request created.
        known_ids = (record["execution_id"],)
        count_decision("reconnect_attempt", context)
        previous = _still_counts(hook, record, job_type, log)
        if previous is not None:
            running = previous.outcome is Outcome.RUNNING
            count_decision("reconnect_success" if running else "already_succeeded", context)
            return previous, True
        count_decision("terminal_resubmit", context)
    elif memory.kind != NoMemory.kind:
        count_decision("fresh_submit", context)
    execution = hook.start_execution(
        job_name, args, known_ids=known_ids, job_type=job_type, **dict(start_options or {})
    )
    ti = context.get("ti")
    memory.remember(new_record(job_name, execution.id, getattr(ti, "try_number", None)))
    log.info("Started execution %s of Hopsworks job %r.", execution.id, job_name)
    return execution, False
