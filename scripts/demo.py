"""Run the chained example pipeline through Airflow against a local Hopsworks emulator.

``scripts/demo.sh`` makes (or reuses) ``.venv`` and then runs this file with its Python.
Everything lives in a throw-away directory: the emulator's data, an ``AIRFLOW_HOME`` with a
migrated SQLite DB, and Airflow's full output. The pipeline runs with ``dag.test()``: each
task runs in this process through the Task SDK, and a deferred task's trigger runs in-line,
so the deferrable path is exercised without starting a scheduler or a triggerer.

Airflow's own console output is redirected to a file; the terminal shows one line per
phase, what each task did, the jobs' stdout exactly as the operators framed it in the task
logs, and a summary table. Whatever happens (failure, Ctrl-C, SIGTERM) the emulator and its
job processes are stopped. Exit status: 0 when every task succeeded, 1 when one did not,
2 when the demo could not run, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DAG_ID = "example_hopsworks_pipeline"
DEFAULT_DAGS_FOLDER = REPO / "example_dags"

Say = Callable[[str], None]

EXIT_OK, EXIT_TASK_FAILED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

#: The start of a log record in structlog's console format: ``<time> [<level>] <event>``.
_STRUCTLOG_START = re.compile(r"^\d{4}-\d\d-\d\d[T ][\d:.]+Z? \[(?P<level>[a-z]+)\s*\] (?P<text>.*)$")
#: The end of a structlog event: `` [<logger>] key=value ...`` (values without spaces, as ours).
#: It closes the first line it matches: a job line that itself contains brackets stays whole.
_STRUCTLOG_END = re.compile(r"^(?P<text>.*?) *\[(?P<logger>[\w.]+)\](?: [\w.]+=\S*)*\s*$")
#: The start of a record in Airflow 3.0's stdlib format: ``[<time>] {<file>:<line>} <LEVEL> - ``.
#: 3.0 writes task records twice, the copy with a ``,``-millisecond time; copies are skipped.
_STDLIB_START = re.compile(
    r"^\[\d{4}-\d\d-\d\d(?P<sep>[T ])[^\]]*\] \{(?P<file>[\w.]+):\d+\} (?P<level>[A-Z]+) - (?P<text>.*)$"
)
#: Source files of our operators, sensor and trigger (3.0's stdlib format names no logger).
_PROVIDER_FILES = frozenset(
    {"jobs.py", "reattach.py", "base.py", "execution.py", "task_logs.py", "waiting.py", "schedules.py"}
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TASK_START = re.compile(r"^\[DAG TEST\] starting task_id=(?P<task>\S+)")
_FRAME_START = re.compile(r"^----- Hopsworks job '.+' execution \d+ (stdout|stderr) -----$")
_FRAME_END = re.compile(r"^----- Hopsworks job '.+' execution \d+ (stdout|stderr) end \(\d+ lines?\) -----$")
_EXCEPTION = re.compile(
    r"^(?P<cls>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Timeout)\w*): (?P<msg>.*)$"
)
_PROVIDER_LOGGER = "airflow_provider_hopsjobs"
#: Our own messages that the narrator's lines already say better.
_CHATTER = re.compile(
    r"^(Uploaded |Waiting (for|on) |Deferring until |Hopsworks job '[^']+' execution \d+ is \w+\.$"
    r"|Hopsworks job [\w-]+ (created|updated) )"  # the hook's words; Airflow 3.0 names no logger
)
#: Loggers whose errors are the task's own failure (others, say a missing Variable, are noise).
_ERROR_SOURCES = frozenset({"task", "airflow.sdk.definitions.dag", "dag.py"})
#: Airflow's messages worth a line, reworded for someone watching the demo.
_AIRFLOW_MILESTONES = {
    "Pausing task as DEFERRED.": "deferred: the task gives up its worker slot while the job runs",
    "[DAG TEST] running trigger in line": "the trigger waits on the execution (run in-line by dag.test)",
    "[DAG TEST] Trigger completed": "the trigger fired; the task resumes to copy the job's logs",
}


# -- reading Airflow's output ------------------------------------------------------------------
@dataclass
class Record:
    """One log record: its first line and any continuation lines (multi-line events, tracebacks)."""

    level: str
    logger: str = ""
    lines: list[str] = field(default_factory=list)
    #: Lines after the end of the event: an exception's traceback.
    trailer: list[str] = field(default_factory=list)
    copy: bool = False
    stdlib: bool = False
    _closed: bool = False

    @classmethod
    def start(cls, raw: str) -> Record | None:
        """A new record if ``raw`` starts one, else None (it continues the current record)."""
        match = _STRUCTLOG_START.match(raw)
        if match:
            record = cls(match["level"])
            record.add(match["text"])
            return record
        match = _STDLIB_START.match(raw)
        if match:
            file = match["file"]
            logger = f"{_PROVIDER_LOGGER}.{file}" if file in _PROVIDER_FILES else file
            # No end marker in this format: every line belongs to the event.
            level = match["level"].lower()
            return cls(level, logger, [match["text"]], copy=match["sep"] == " ", stdlib=True)
        return None

    def add(self, text: str) -> None:
        if self._closed:
            self.trailer.append(text)
            return
        end = None if self.stdlib else _STRUCTLOG_END.match(text)
        if end:
            self.lines.append(end["text"])
            self.logger, self._closed = end["logger"], True
        else:
            self.lines.append(text)

    @property
    def event(self) -> str:
        return self.lines[0].rstrip() if self.lines else ""

    @property
    def from_provider(self) -> bool:
        return _PROVIDER_LOGGER in self.logger and ".hooks." not in self.logger


class Narrator:
    """Turns Airflow's output, line by line, into the few lines worth showing.

    Shown, per task: that it started, our operators' own messages, each job's stdout/stderr
    section exactly as the operator framed it in the task log, deferral and the in-line
    trigger, and the exception a failed task raised. Everything else (the execution API, the
    ORM, Airflow's warnings, polling chatter) stays in the log file.

    A record is shown once the next one starts (or at :meth:`finish`), as only then is it whole.
    """

    def __init__(self, task_width: int = 26) -> None:
        self.task = ""
        self.task_width = task_width
        self.in_frame = False
        self.record: Record | None = None

    def feed(self, raw: str) -> list[str]:
        text = _ANSI.sub("", raw.rstrip("\n"))
        record = Record.start(text)
        if record is None:
            if self.record is not None:
                self.record.add(text)
            return []
        shown = self.finish()
        self.record = record
        return shown

    def finish(self) -> list[str]:
        """Show the record in progress."""
        record, self.record = self.record, None
        if record is None or record.copy:
            return []
        return self._narrate(record)

    def _show(self, *texts: str) -> list[str]:
        return [f"  {self.task:<{self.task_width}} | {text}".rstrip() for text in texts]

    def _narrate(self, record: Record) -> list[str]:
        event = record.event
        started = _TASK_START.match(event)
        if started:
            resumed = started["task"] == self.task  # Airflow 3.0 logs a resumed task's start again
            self.task, self.in_frame = started["task"], False
            return [] if resumed else self._show("started")
        if record.level in ("error", "critical"):
            if record.from_provider or record.logger in _ERROR_SOURCES:
                return self._show(f"ERROR {event}", *_exception_lines([*record.lines[1:], *record.trailer]))
            return []
        if event in _AIRFLOW_MILESTONES:
            return self._show(_AIRFLOW_MILESTONES[event])
        return self._show(*self._provider_lines(record)) if record.from_provider else []

    def _provider_lines(self, record: Record) -> list[str]:
        if _FRAME_START.match(record.event):
            self.in_frame = True
        elif _FRAME_END.match(record.event):
            self.in_frame = False
        elif self.in_frame:
            return [f"    {line}" for line in record.lines]
        elif _CHATTER.match(record.event):
            return []
        return record.lines


def _exception_lines(traceback_lines: Sequence[str]) -> list[str]:
    """From a traceback, the exception line(s) and their messages; no frames."""
    shown: list[str] = []
    in_message = False
    for text in traceback_lines:
        exception = _EXCEPTION.match(text)
        if exception:
            in_message = True
            shown.append(f"ERROR {exception['cls'].rsplit('.', 1)[-1]}: {exception['msg']}")
        elif text.startswith(("Traceback ", "During handling", "The above exception", *"╭│╰")):
            in_message = False  # frames follow, or a rich traceback's box (Airflow 3.0)
        elif in_message and text.strip():
            shown.append(f"    {text}")
    return shown


class Follower(threading.Thread):
    """Tails Airflow's output file while the DAG runs and narrates it on the console."""

    def __init__(self, path: Path, narrator: Narrator, say: Say, interval: float = 0.2) -> None:
        super().__init__(name="demo-log-follower", daemon=True)
        self.path, self.narrator, self.say, self.interval = path, narrator, say, interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        with open(self.path, encoding="utf-8", errors="replace") as log:
            pending = ""
            while True:
                stopping = self._stop_event.is_set()
                pending += log.read()
                *complete, pending = pending.split("\n")
                if stopping and pending:
                    complete.append(pending)
                for raw in complete:
                    for shown in self.narrator.feed(raw):
                        self.say(shown)
                if stopping:
                    for shown in self.narrator.finish():
                        self.say(shown)
                    return
                self._stop_event.wait(self.interval)

    def finish(self) -> None:
        """Show what is left in the file, then stop."""
        self._stop_event.set()
        self.join(timeout=10)


# -- the summary ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskRow:
    task_id: str
    state: str
    execution_id: int | None = None
    result: str | None = None
    duration: float | None = None
    url: str | None = None


def row_from(task_id: str, state: str | None, duration: float | None, xcoms: Mapping[str, Any]) -> TaskRow:
    """A table row from a task instance and its XComs.

    The run operator and the sensor push ``execution_id`` and ``execution_url`` before they
    wait and return a summary (``state``, ``final_status``); the create operator returns
    the ``action`` it took and the job's ``url``.
    """
    summary = xcoms.get("return_value")
    summary = summary if isinstance(summary, Mapping) else {}
    execution_id = xcoms.get("execution_id", summary.get("execution_id"))
    result = None
    if summary.get("state"):
        result = "/".join(str(s) for s in (summary.get("state"), summary.get("final_status")) if s)
    elif summary.get("action"):
        result = f"job {summary['action']}"
    return TaskRow(
        task_id=task_id,
        state=state or "none",
        execution_id=int(execution_id) if execution_id is not None else None,
        result=result,
        duration=duration,
        url=xcoms.get("execution_url") or summary.get("url"),
    )


def render_table(rows: Sequence[TaskRow]) -> str:
    header = ("TASK", "STATE", "EXECUTION", "RESULT", "DURATION", "LINK")
    body = [
        (
            row.task_id,
            row.state,
            "-" if row.execution_id is None else str(row.execution_id),
            row.result or "-",
            "-" if row.duration is None else f"{row.duration:.1f}s",
            row.url or "-",
        )
        for row in rows
    ]
    widths = [max(len(cells[i]) for cells in (header, *body)) for i in range(len(header))]
    return "\n".join(
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        for cells in (header, *body)
    )


def exit_status(rows: Sequence[TaskRow], run_state: str | None) -> int:
    """0 only when the run and every one of its tasks succeeded (a skipped task is fine)."""
    ok = run_state == "success" and all(row.state in ("success", "skipped") for row in rows)
    return EXIT_OK if ok and rows else EXIT_TASK_FAILED


# -- the environment --------------------------------------------------------------------------
def airflow_environment(home: Path, dags_folder: Path, connection_json: str) -> dict[str, str]:
    """What Airflow reads at import time: a throw-away home, no examples, our DAGs, the emulator."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW_CONN_HOPSWORKS_DEFAULT": connection_json,
        # Wide enough that rich (Airflow 3.0's tracebacks) does not wrap an exception's message.
        "COLUMNS": "200",
        # Deprecation notices from Airflow's dependencies are not the demo's business.
        "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::FutureWarning,ignore::UserWarning",
    }


def send_output_to(path: Path) -> Say:
    """Send file descriptors 1 and 2 to ``path`` for good; return a printer for the terminal.

    Not undone on the way out: threads Airflow started may still write while the demo stops,
    and their lines belong in the log, not on the terminal. The printer writes to the file
    descriptor directly, so a signal handler may use it while the main thread is printing.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    console = os.dup(1)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)

    def say(text: str = "") -> None:
        data = f"{text}\n".encode()
        while data:
            data = data[os.write(console, data) :]

    return say


class Interrupts:
    """On the first SIGINT, SIGTERM or SIGHUP, call ``on_signal`` (which stops everything and
    exits); ignore the rest, so that a second Ctrl-C cannot cut the clean-up short.

    The clean-up runs in the handler itself rather than by unwinding: ``dag.test()`` runs each
    task in this process, and Airflow's task runner catches whatever a task raises, even a
    ``KeyboardInterrupt``, marks the task failed and carries on. The same runner installs a
    SIGTERM handler of its own for every task (it calls the operator's ``on_kill``) and never
    puts the previous one back, so once installed these handlers stay: later attempts to
    replace them are ignored. Stopping the emulator, which kills its jobs, ends a running
    execution here.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self, on_signal: Callable[[str], NoReturn]) -> None:
        self.on_signal = on_signal
        self.received: str | None = None
        self._set_handler = signal.signal

    def install(self) -> None:
        for sig in self.SIGNALS:
            self._set_handler(sig, self._handle)
        signal.signal = self._keep_ours  # type: ignore[assignment]

    def hold(self) -> None:
        """From now on ignore these signals: the clean-up is running."""
        self.received = self.received or ""

    def _keep_ours(self, signalnum: int, handler: Any) -> Any:
        if signalnum in self.SIGNALS:
            return self._handle
        return self._set_handler(signalnum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(signum).name
            self.on_signal(self.received)


# -- Airflow ----------------------------------------------------------------------------------
def migrate_db() -> None:
    from airflow.utils.db import initdb

    initdb()


def run_dag(dag_id: str, dags_folder: Path) -> tuple[Any, str, str | None]:
    """Parse the DAGs folder and run one DAG with ``dag.test()``; return (DAG, run id, run state)."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0-3.2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef,attr-defined]

    bag = DagBag(dag_folder=str(dags_folder))
    dag = bag.get_dag(dag_id)
    if dag is None:
        errors = "; ".join(f"{path}: {err}" for path, err in bag.import_errors.items())
        raise RuntimeError(f"no DAG {dag_id!r} in {dags_folder}" + (f" ({errors})" if errors else ""))
    dag_run = dag.test()
    return dag, str(dag_run.run_id), None if dag_run.state is None else str(dag_run.state)


def collect_rows(dag: Any, run_id: str) -> list[TaskRow]:
    """Task instances of the run, in start order, with their XComs."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == run_id)
        ).all()
        xcoms: dict[str, dict[str, Any]] = {}
        query = select(XComModel).where(XComModel.dag_id == dag.dag_id, XComModel.run_id == run_id)
        for xcom in session.scalars(query):
            xcoms.setdefault(xcom.task_id, {})[xcom.key] = XComModel.deserialize_value(xcom)
        never = time.time()
        tis = sorted(tis, key=lambda ti: (ti.start_date.timestamp() if ti.start_date else never, ti.task_id))
        rows = [
            row_from(ti.task_id, ti.state and str(ti.state), ti.duration, xcoms.get(ti.task_id, {}))
            for ti in tis
        ]
    return [_with_result_from_hopsworks(row, dag) for row in rows]


def _with_result_from_hopsworks(row: TaskRow, dag: Any) -> TaskRow:
    """A task that failed returned nothing: ask Hopsworks (the emulator) how its execution ended."""
    job_name = getattr(dag.get_task(row.task_id), "job_name", None)
    if row.result or row.execution_id is None or not isinstance(job_name, str):
        return row
    from airflow_provider_hopsjobs.errors import HopsworksError
    from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

    try:
        execution = HopsworksHook().get_execution(job_name, row.execution_id)
    except HopsworksError:
        return row
    result = "/".join(str(execution[k]) for k in ("state", "finalStatus") if execution.get(k))
    return replace(row, result=result or None)


# -- main -------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dag-id", default=DEFAULT_DAG_ID, help=f"the DAG to run (default {DEFAULT_DAG_ID})")
    parser.add_argument("--dags-folder", type=Path, default=DEFAULT_DAGS_FOLDER, help="where the DAG lives")
    parser.add_argument("--workdir", type=Path, help="use this directory instead of a new temporary one")
    parser.add_argument(
        "--keep", action="store_true", help="keep the Airflow home and the emulator's data afterwards"
    )
    return parser.parse_args(argv)


class Teardown:
    """Stops what the demo started and reports, once: at the end, or from a signal handler."""

    def __init__(self, emulator: EmulatorHandle, workdir: Path, *, keep: bool, say: Say) -> None:
        self.emulator, self.workdir, self.keep, self.say = emulator, workdir, keep, say
        self.started = time.monotonic()
        self.done = False

    def __call__(self, status: int) -> None:
        if self.done:
            return
        self.done = True
        self.say("==> stopping the emulator and its jobs")
        self.emulator.stop()
        if self.emulator.log_path.exists():
            shutil.copy(self.emulator.log_path, self.workdir / "emulator.log")
        if not self.keep:
            for sub in ("airflow", "emulator"):
                shutil.rmtree(self.workdir / sub, ignore_errors=True)
        self.say(f"    full Airflow output: {self.workdir / 'airflow-output.log'}")
        outcome = "every task succeeded" if status == EXIT_OK else f"exit status {status}"
        self.say(f"==> done in {time.monotonic() - self.started:.0f} s: {outcome}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hopsjobs-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    airflow_log = workdir / "airflow-output.log"
    airflow_log.touch()
    # From here on the terminal gets only our own lines; Airflow's go to the log file.
    say = send_output_to(airflow_log)

    from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle

    emulator = EmulatorHandle(data_dir=workdir / "emulator")
    teardown = Teardown(emulator, workdir, keep=args.keep, say=say)

    def interrupted(name: str) -> NoReturn:
        say(f"==> interrupted ({name}); stopping everything")
        teardown(EXIT_INTERRUPTED)
        os._exit(EXIT_INTERRUPTED)

    interrupts = Interrupts(interrupted)
    interrupts.install()

    def narrate(text: str) -> None:
        if not teardown.done:  # the narration stops where the teardown's report starts
            say(text)

    status = EXIT_ERROR
    try:
        status = run_demo(args, workdir, emulator, say, narrate)
    except Exception as err:
        say(f"==> the demo failed: {type(err).__name__}: {err}")
        traceback.print_exc()  # into the log
    finally:
        interrupts.hold()
        teardown(status)
    return status


def run_demo(
    args: argparse.Namespace, workdir: Path, emulator: EmulatorHandle, say: Say, narrate: Say
) -> int:
    """Start the emulator, prepare Airflow, run the DAG, print the summary; return the exit status."""
    say("==> starting the Hopsworks emulator")
    emulator.start()
    say(f"    {emulator.base_url} (project {emulator.project!r}; jobs run as local processes)")

    home = workdir / "airflow"
    say(f"==> preparing Airflow: throw-away AIRFLOW_HOME {home}, SQLite metadata DB")
    home.mkdir(exist_ok=True)
    dags_folder = args.dags_folder.resolve()
    # Hermetic: the caller's Airflow settings (a real DB, another executor...) must not leak in.
    for name in [name for name in os.environ if name.startswith("AIRFLOW")]:
        del os.environ[name]
    os.environ.update(airflow_environment(home, dags_folder, emulator.connection_json()))
    migrate_db()

    say(f"==> running {args.dag_id} with dag.test() (deferrable tasks run their trigger in-line)")
    say("    the first task starts after a few seconds: Airflow builds its in-process execution API")
    follower = Follower(workdir / "airflow-output.log", Narrator(), narrate)
    follower.start()
    try:
        dag, run_id, run_state = run_dag(args.dag_id, dags_folder)
    finally:
        follower.finish()

    rows = collect_rows(dag, run_id)
    say(f"==> summary: run {run_id} ended {run_state}")
    say(render_table(rows))
    say("    (links point at the emulator, which stops now; on a cluster they open Hopsworks' pages)")
    return exit_status(rows, run_state)


if __name__ == "__main__":
    sys.exit(main())
