"""The chaos pipeline: the example pipeline's shape, run task by task under faults on every route.

One *run* is what ``example_dags/hopsworks_pipeline.py`` does, with jobs of its own:
create three jobs from a local script, run the feature job (in the worker), the training
job (deferred: its trigger is re-created from its serialised kwargs and run to its event,
as the triggerer would), wait on the training execution with the deferrable sensor, then
run the evaluation job. Every task gets Airflow's treatment: ``retries=1``, a fresh
operator per try, the same task state store across tries (for reattaching), no retry
after :class:`AirflowFailException`. The evaluation job of every fourth run fails on
purpose, so "the state its job deserves" is not always success.

Each job prints numbered lines that carry the run, the job, its own execution id and
its upstream execution id, so the checks know exactly which lines every task log must
hold. The checks, after all runs (with the faults cleared):

* every task ended as its job deserves (evaluation failed on both tries when it should);
* the emulator started exactly as many executions of each job as task tries said
  "Started execution" (a retry that reattached started none), and they are the same ids:
  no start was ever resent blindly, nothing started behind a task's back;
* every stdout line of every execution (and stderr of the failed ones) is in the log of
  the task that ran it.

Used by ``tests/reliability/test_chaos.py`` (a few runs) and ``benchmarks/chaos.py``
(200 runs by default).
"""

from __future__ import annotations

import itertools
import textwrap
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_hopsjobs._compat import AirflowFailException
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.operators.jobs import HopsworksCreateJobOperator, HopsworksRunJobOperator
from airflow_provider_hopsjobs.sensors.execution import HopsworksExecutionSensor
from tests.airflow_support import FakeTaskStateStore, FakeTI, make_context, run_operator

#: Fault mix on every API route: 20 % 503, 5 % 429 with Retry-After, 5 % dropped
#: connections (3 % before the server acts, 2 % after it acted and before it answered),
#: 2 % stalls. One rule, so the shares are exact; the remaining 68 % pass.
FAULT_SHARES: tuple[tuple[str, int], ...] = (
    ("503", 20),
    ("429:1", 5),
    ("drop", 3),
    ("drop@after", 2),
    ("stall:{stall}", 2),
)

JOB_SCRIPT = """
    import argparse, os, sys, time

    parser = argparse.ArgumentParser()
    parser.add_argument("--run", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--upstream", default="-")
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--fail", action="store_true")
    args = parser.parse_args()
    execution = os.environ.get("HOPSWORKS_EXECUTION_ID")
    for number in range(1, args.lines + 1):
        print(f"chaos run={args.run} job={args.job} execution={execution} upstream={args.upstream} "
              f"line={number}/{args.lines}", flush=True)
        time.sleep(args.seconds / args.lines)
    if args.fail:
        print(f"chaos run={args.run} job={args.job} execution={execution} fails on purpose", file=sys.stderr)
        sys.exit(3)
"""

STAGES = ("features", "training", "evaluation")
LINES = 20


def fault_rules(stall_seconds: float) -> list[dict[str, Any]]:
    actions = [name.format(stall=f"{stall_seconds:g}") for name, share in FAULT_SHARES for _ in range(share)]
    return [{"fault": actions, "rate": len(actions) / 100}]


def expected_stdout(run: str, job: str, execution_id: int, upstream: str) -> list[str]:
    return [
        f"chaos run={run} job={job} execution={execution_id} upstream={upstream} line={n}/{LINES}"
        for n in range(1, LINES + 1)
    ]


class LogRecorder:
    """Stands in for an operator's task logger: keeps every formatted line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def _record(self, msg: Any, *args: Any, **_: Any) -> None:
        text = str(msg) % args if args else str(msg)
        with self._lock:
            self.lines.extend(text.split("\n"))

    debug = info = warning = error = critical = exception = _record

    def __getattr__(self, name: str) -> Callable[..., None]:
        return self._record

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class Try:
    number: int
    outcome: str  # "success" or the exception's class name
    message: str
    started: int | None  # the execution this try started, if any
    execution_id: int | None  # the execution this try reported (started or reattached)
    log: LogRecorder


@dataclass
class TaskRecord:
    task_id: str
    job: str | None
    tries: list[Try] = field(default_factory=list)

    @property
    def state(self) -> str:
        return "success" if self.tries and self.tries[-1].outcome == "success" else "failed"


@dataclass
class RunRecord:
    run: str
    fail_evaluation: bool
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    crash: str | None = None

    def job(self, stage: str) -> str:
        return f"{self.run}_{stage}"


def _started_id(log: LogRecorder, job: str) -> int | None:
    marker = "Started execution "
    suffix = f" of Hopsworks job {job!r}."
    for line in log.lines:
        if line.startswith(marker) and line.endswith(suffix):
            return int(line[len(marker) : -len(suffix)])
    return None


def run_task(
    record: RunRecord,
    task_id: str,
    job: str | None,
    make_operator: Callable[[], Any],
    *,
    max_tries: int = 2,
) -> TaskRecord:
    """Run one task the way Airflow would, retries included; never raises."""
    task = TaskRecord(task_id, job)
    record.tasks[task_id] = task
    store = FakeTaskStateStore()  # survives across tries, like Airflow 3.3's task state store
    for number in range(1, max_tries + 1):
        operator = make_operator()
        log = LogRecorder()
        # The operator's task logger (``_cached_logger`` on Airflow 3.3, ``_log`` before).
        operator._cached_logger = operator._log = log
        ti = FakeTI(dag_id="chaos", task_id=task_id, run_id=record.run, try_number=number)
        final = False
        try:
            run_operator(operator, make_context(ti, store))
        except Exception as err:
            outcome, message = type(err).__name__, str(err)
            final = isinstance(err, AirflowFailException)  # Airflow does not retry these
        else:
            outcome, message, final = "success", "", True
        started = _started_id(log, job) if job else None
        reported = ti.xcoms.get("execution_id")
        task.tries.append(Try(number, outcome, message, started, reported, log))
        if final:
            break
    return task


def run_pipeline(run: str, script: Path, *, fail_evaluation: bool) -> RunRecord:
    """One pipeline run; what happened is in the returned record (nothing raises)."""
    record = RunRecord(run, fail_evaluation)
    try:
        _run_pipeline(record, script)
    except Exception as err:  # a bug in the harness itself, reported rather than lost
        record.crash = f"{type(err).__name__}: {err}"
    return record


def _run_pipeline(record: RunRecord, script: Path) -> None:
    jobs = {stage: record.job(stage) for stage in STAGES}
    for stage, job in jobs.items():
        task = run_task(
            record,
            f"create_{stage}",
            None,
            lambda job=job: HopsworksCreateJobOperator(
                task_id=f"create_{job}", job_name=job, job_type="PYTHON", app_file=script
            ),
        )
        if task.state != "success":
            return

    def args(stage: str, upstream: str, *, fail: bool = False) -> list[str]:
        extra = ["--fail"] if fail else []
        return ["--run", record.run, "--job", jobs[stage], "--upstream", upstream, *extra]

    features = run_task(
        record,
        "compute_features",
        jobs["features"],
        lambda: HopsworksRunJobOperator(
            task_id="compute_features",
            job_name=jobs["features"],
            args=args("features", "-"),
            deferrable=False,
        ),
    )
    if features.state != "success":
        return
    features_id = str(features.tries[-1].execution_id)
    train = run_task(
        record,
        "train_model",
        jobs["training"],
        lambda: HopsworksRunJobOperator(
            task_id="train_model",
            job_name=jobs["training"],
            args=args("training", features_id),
            deferrable=True,
        ),
    )
    if train.state != "success":
        return
    training_id = train.tries[-1].execution_id
    sensor = run_task(
        record,
        "training_succeeded",
        None,
        lambda: HopsworksExecutionSensor(
            task_id="training_succeeded", job_name=jobs["training"], execution_id=training_id, deferrable=True
        ),
    )
    if sensor.state != "success":
        return
    run_task(
        record,
        "evaluate_model",
        jobs["evaluation"],
        lambda: HopsworksRunJobOperator(
            task_id="evaluate_model",
            job_name=jobs["evaluation"],
            args=args("evaluation", str(training_id), fail=record.fail_evaluation),
            fetch_logs="both",
        ),
    )


def run_many(
    count: int,
    script: Path,
    *,
    concurrency: int,
    prefix: str = "chaos",
    progress: Callable[[int], None] | None = None,
) -> list[RunRecord]:
    """``count`` pipeline runs, ``concurrency`` at a time; every fourth one's evaluation fails."""
    names = [f"{prefix}{number:03d}" for number in range(count)]
    done = itertools.count(1)

    def one(index_name: tuple[int, str]) -> RunRecord:
        index, name = index_name
        record = run_pipeline(name, script, fail_evaluation=index % 4 == 3)
        if progress is not None:
            progress(next(done))
        return record

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(one, enumerate(names)))


def write_script(folder: Path) -> Path:
    script = folder / "chaos_job.py"
    script.write_text(textwrap.dedent(JOB_SCRIPT))
    return script


# -- checks ------------------------------------------------------------------------------------


def check_run(record: RunRecord, emulator: EmulatorHandle, hook: HopsworksHook) -> list[str]:
    """Everything wrong with one run (an empty list when it behaved)."""
    problems: list[str] = []
    where = f"run {record.run}"
    if record.crash:
        return [f"{where}: the harness crashed: {record.crash}"]
    expected_states = {
        **{f"create_{stage}": "success" for stage in STAGES},
        "compute_features": "success",
        "train_model": "success",
        "training_succeeded": "success",
        "evaluate_model": "failed" if record.fail_evaluation else "success",
    }
    for task_id, wanted in expected_states.items():
        task = record.tasks.get(task_id)
        if task is None:
            problems.append(f"{where}: {task_id} never ran")
            continue
        if task.state != wanted:
            last = task.tries[-1]
            problems.append(
                f"{where}: {task_id} ended {task.state}, expected {wanted}: {last.outcome}: {last.message}"
            )
        if task_id == "evaluate_model" and record.fail_evaluation:
            outcomes = [t.outcome for t in task.tries]
            if outcomes != ["HopsworksJobFailedError", "HopsworksJobFailedError"]:
                problems.append(
                    f"{where}: evaluate_model tries ended {outcomes}, expected the job's failure twice"
                )

    for stage, task_id, upstream_task in (
        ("features", "compute_features", None),
        ("training", "train_model", "compute_features"),
        ("evaluation", "evaluate_model", "train_model"),
    ):
        task = record.tasks.get(task_id)
        if task is None:
            continue
        job = record.job(stage)
        problems += _check_executions(where, task, job, emulator, hook)
        upstream = "-"
        if upstream_task is not None:
            upstream = str(record.tasks[upstream_task].tries[-1].execution_id)
        problems += _check_logs(
            where, task, record.run, job, upstream, failed=stage == "evaluation" and record.fail_evaluation
        )
    return problems


def _check_executions(
    where: str, task: TaskRecord, job: str, emulator: EmulatorHandle, hook: HopsworksHook
) -> list[str]:
    started = [t.started for t in task.tries if t.started is not None]
    listed = sorted(e.id for e in hook.list_executions(job))
    counted = emulator.executions_started(job)
    problems = []
    if counted != len(started) or sorted(started) != listed:
        problems.append(
            f"{where}: {task.task_id} tries started {started} but the emulator started {counted} "
            f"executions of {job}: {listed}"
        )
    for attempt in task.tries:
        if attempt.started is not None and attempt.execution_id not in (None, attempt.started):
            problems.append(
                f"{where}: {task.task_id} try {attempt.number} started {attempt.started} "
                f"but reported {attempt.execution_id}"
            )
    return problems


def _check_logs(
    where: str, task: TaskRecord, run: str, job: str, upstream: str, *, failed: bool
) -> list[str]:
    problems = []
    logged = set(itertools.chain.from_iterable(t.log.lines for t in task.tries))
    for execution_id in {t.execution_id for t in task.tries if t.execution_id is not None}:
        missing = [line for line in expected_stdout(run, job, execution_id, upstream) if line not in logged]
        if missing:
            problems.append(
                f"{where}: {len(missing)} of {LINES} stdout lines of {job} execution {execution_id} "
                f"are not in the task log, e.g. {missing[0]!r}"
            )
        if failed:
            line = f"chaos run={run} job={job} execution={execution_id} fails on purpose"
            if line not in logged:
                problems.append(
                    f"{where}: the stderr of failed {job} execution {execution_id} is not in the task log"
                )
    return problems


def check_all(records: Sequence[RunRecord], emulator: EmulatorHandle) -> list[str]:
    hook = HopsworksHook()
    problems: list[str] = []
    for record in records:
        problems += check_run(record, emulator, hook)
    still_running = [
        (record.run, execution.id, execution.state)
        for record in records
        for task in record.tasks.values()
        if task.job is not None
        for execution in hook.list_executions(task.job)
        if not execution.is_terminal
    ]
    if still_running:
        problems.append(f"executions left running: {still_running}")
    return problems
