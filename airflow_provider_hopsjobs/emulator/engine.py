"""Runs executions: real subprocesses for Python code, a scripted lifecycle for the rest.

**What runs for real.** PYTHON jobs, and PYSPARK jobs whose app is a ``.py`` file, are run
by the emulator's own interpreter (``python -u <app> <args>``) with the arguments split
like a shell would (``shlex.split``), in a fresh working directory
``<data_dir>/runs/<execution id>/cwd``, in their own process group. The environment is
the emulator's, minus Airflow connection variables and API keys, plus ``HOPSWORKS_PROJECT_NAME``,
``HOPSWORKS_PROJECT_ID``, ``HOPSWORKS_JOB_NAME``, ``HOPSWORKS_JOB_TYPE``,
``HOPSWORKS_EXECUTION_ID``, ``HOPSWORKS_PROJECT_DIR`` (the project's local directory)
and any ``envVars`` given when the execution was started.

**What is simulated.** SPARK jars, RAY, DOCKER, FLINK, PYTHON_APP and notebooks go
through their documented lifecycle without running anything. A test decides how it
ends through ``--emulator-*`` tokens in the execution's arguments (or the job's
``defaultArgs``), which the emulator consumes:

* ``--emulator-outcome=OUTCOME`` with OUTCOME one of ``SUCCEEDED``, ``FAILED``, ``KILLED``,
  ``INITIALIZATION_FAILED``, ``APP_MASTER_START_FAILED``, ``FRAMEWORK_FAILURE``
  (default ``SUCCEEDED``; ``FAILED`` means ``FINISHED``/``FAILED`` for YARN types and
  ``FAILED``/``FAILED`` for the others);
* ``--emulator-state=STATE`` / ``--emulator-final-status=STATUS`` to force exact values;
* ``--emulator-duration=SECONDS`` (default ``simulated_duration``; PYTHON_APP runs until stopped);
* ``--emulator-stdout=LINE`` / ``--emulator-stderr=LINE`` (repeatable) and
  ``--emulator-stdout-bytes=N`` (N bytes of filler, e.g. to pass the 1 MB log limit).

The remaining arguments are echoed on the simulated stdout.

**States.** Python-like types: ``INITIALIZING → RUNNING → FINISHED|FAILED|KILLED``.
YARN types (SPARK, PYSPARK, FLINK): ``INITIALIZING → SUBMITTED → ACCEPTED → RUNNING →
AGGREGATING_LOGS → FINISHED`` with ``finalStatus`` ``SUCCEEDED`` or ``FAILED`` (a failed
Spark app ends ``FINISHED``/``FAILED``, as on YARN), or ``KILLED``/``KILLED`` when stopped.
Exit code 0 is ``SUCCEEDED``, anything else ``FAILED``. An app file that is missing (or a
relative ``appPath`` for a YARN type, which Hopsworks cannot resolve) ends
``INITIALIZATION_FAILED`` with ``finalStatus`` ``UNDEFINED``, duration 0 and no logs.

**Logs.** stdout/stderr are written to the run directory while the job runs and are
moved to ``/Projects/<p>/Logs/<Type>/<appId>/stdout.log`` (and ``stderr.log``)
``log_delay`` seconds after the terminal state; only then do ``stdoutPath`` and
``stderrPath`` appear on the execution ("log aggregation").

**Stop.** Stopping kills the whole process group (SIGTERM, then SIGKILL after
``kill_grace``) and the execution ends ``KILLED``/``KILLED``. Unlike Hopsworks, a stop
that arrives during ``INITIALIZING`` is honoured too, so a client's cancel always wins.

**Restart.** Job processes do not outlive the emulator. On start-up every execution that
was not terminal ends ``FAILED`` with ``finalStatus`` ``FAILED``, the output captured so
far, and a note on stderr. ``FAILED`` (rather than ``KILLED`` or ``FRAMEWORK_FAILURE``)
is what every client, including the official SDK, reads as "over, unsuccessfully":
Airflow may retry it, and nobody waits forever on an ``UNDEFINED`` final status.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.states import LOG_FOLDERS, TERMINAL_STATES, YARN_TYPES

if TYPE_CHECKING:
    from airflow_provider_hopsjobs.emulator.runtime import Runtime

log = logging.getLogger(__name__)

RESTART_NOTE = (
    "[hopsworks-emulator] The emulator stopped while this execution was running; "
    "it was marked FAILED when the emulator started again.\n"
)
_FILLER_LINE = b"emulator filler output: 0123456789abcdefghijklmnopqrstuvwxyz\n"
#: Never handed to job processes: they could print them.
_SCRUBBED_ENV_PREFIXES = ("AIRFLOW_CONN_", "HOPSWORKS_API_KEY", "HOPSJOBS_EMULATOR_API_KEY")


@dataclass
class Simulation:
    outcome: str = "SUCCEEDED"
    state: str | None = None
    final_status: str | None = None
    duration: float | None = None
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    stdout_bytes: int = 0
    rest: list[str] = field(default_factory=list)


def parse_simulation(tokens: list[str]) -> Simulation:
    """Consume ``--emulator-*`` tokens; everything else is kept in ``rest``."""
    sim = Simulation()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--emulator-"):
            sim.rest.append(token)
            i += 1
            continue
        name, eq, value = token[len("--emulator-") :].partition("=")
        if not eq:
            value = tokens[i + 1] if i + 1 < len(tokens) else ""
            i += 1
        i += 1
        if name == "outcome":
            sim.outcome = value.upper()
        elif name == "state":
            sim.state = value.upper()
        elif name == "final-status":
            sim.final_status = value.upper()
        elif name == "duration":
            sim.duration = float(value)
        elif name == "stdout":
            sim.stdout.append(value)
        elif name == "stderr":
            sim.stderr.append(value)
        elif name == "stdout-bytes":
            sim.stdout_bytes = int(value)
        else:
            raise ValueError(f"unknown emulator option --emulator-{name}")
    return sim


@dataclass
class Plan:
    """What an execution will do once INITIALIZING is over."""

    init_failure: str | None = None
    command: list[str] | None = None
    simulation: Simulation | None = None
    argument_error: str | None = None


class Engine:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._procs: dict[int, subprocess.Popen[bytes]] = {}
        self._stops: dict[int, asyncio.Event] = {}
        self._background: set[asyncio.Task[None]] = set()
        #: State transitions seen by this process, per execution: (state, finalStatus, epoch ms).
        self.history: dict[int, list[tuple[str, str, int]]] = {}
        self._runs_root = rt.settings.data_dir / "runs"

    # -- public API -----------------------------------------------------------------------
    def start(
        self, job: dict[str, Any], args: str, user_id: int, env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Create the execution (INITIALIZING/UNDEFINED/0) and run it in the background."""
        execution = self.rt.store.create_execution(
            int(job["id"]),
            int(job["project_id"]),
            args=args,
            user_id=user_id,
            now_ms=self.rt.clock.now_ms(),
            env=env or {},
        )
        self.rt.executions_started[str(job["name"])] += 1
        eid = int(execution["id"])
        self.history[eid] = [("INITIALIZING", "UNDEFINED", int(execution["submitted_ms"]))]
        self._stops[eid] = asyncio.Event()
        task = asyncio.get_running_loop().create_task(self._run(eid), name=f"execution-{eid}")
        self._tasks[eid] = task
        task.add_done_callback(lambda _task: self._forget(eid))
        return execution

    def stop(self, execution_id: int) -> None:
        """Ask a running execution to end KILLED; a no-op for finished ones."""
        execution = self.rt.store.get_execution(execution_id)
        if execution is None or execution["state"] in TERMINAL_STATES:
            return
        self.rt.store.update_execution(execution_id, stop_requested=1)
        event = self._stops.get(execution_id)
        if event is not None:
            event.set()
        proc = self._procs.get(execution_id)
        if proc is not None:
            self._kill(proc)

    def is_active(self, execution_id: int) -> bool:
        return execution_id in self._tasks

    def recover(self) -> None:
        """End what a previous emulator process left running (see the module docstring)."""
        for execution in self.rt.store.unfinished_executions():
            eid = int(execution["id"])
            self._kill_leftover(execution)
            run_dir = Path(execution["run_dir"]) if execution.get("run_dir") else self._runs_root / str(eid)
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / "stdout.log").touch()
            with open(run_dir / "stderr.log", "a", encoding="utf-8") as err:
                err.write(RESTART_NOTE)
            now = self.rt.clock.now_ms()
            self.rt.store.update_execution(
                eid,
                state="FAILED",
                final_status="FAILED",
                finished_ms=now,
                started_ms=execution.get("started_ms") or now,
                run_dir=str(run_dir),
                pid=None,
            )
            self.aggregate_logs(eid)
        # Terminal executions whose logs were still waiting for aggregation.
        for job in (j for p in self.rt.store.list_projects() for j in self.rt.store.list_jobs(int(p["id"]))):
            for execution in self.rt.store.list_executions(int(job["id"])):
                if (
                    execution["state"] in TERMINAL_STATES
                    and execution.get("stdout_path") is None
                    and execution.get("run_dir")
                    and Path(execution["run_dir"], "stdout.log").exists()
                ):
                    self.aggregate_logs(int(execution["id"]))

    async def shutdown(self) -> None:
        """Kill every job process (they must not outlive the emulator) and stop the tasks."""
        for proc in list(self._procs.values()):
            self._kill(proc, grace=0)
        for task in [*self._tasks.values(), *self._background]:
            task.cancel()
        for task in [*self._tasks.values(), *self._background]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- the lifecycle --------------------------------------------------------------------
    def _forget(self, eid: int) -> None:
        self._tasks.pop(eid, None)
        self._stops.pop(eid, None)
        self._procs.pop(eid, None)

    def _update(self, eid: int, **fields: Any) -> dict[str, Any] | None:
        row = self.rt.store.update_execution(eid, **fields)
        if row is not None and "state" in fields:
            self.history.setdefault(eid, []).append(
                (row["state"], row["final_status"], self.rt.clock.now_ms())
            )
        return row

    async def _sleep_or_stop(self, seconds: float | None, eid: int) -> bool:
        """Wait; True when a stop arrived meanwhile. ``None`` waits for the stop only."""
        event = self._stops[eid]
        if event.is_set():
            return True
        if seconds is not None and seconds <= 0:
            return False
        try:
            await asyncio.wait_for(event.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            return False
        return True

    async def _run(self, eid: int) -> None:
        try:
            await self._lifecycle(eid)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("execution %s crashed inside the emulator", eid)
            self._update(eid, state="FAILED", final_status="FAILED", finished_ms=self.rt.clock.now_ms())

    async def _lifecycle(self, eid: int) -> None:  # noqa: PLR0911, PLR0912, PLR0915
        settings = self.rt.settings
        execution = self.rt.store.get_execution(eid)
        if execution is None:
            return
        job = self.rt.store.get_job_by_id(int(execution["job_id"]))
        project = self.rt.store.get_project(int(execution["project_id"]))
        if job is None or project is None:
            return
        job_type = str(job.get("job_type") or "")
        yarn = job_type in YARN_TYPES
        if await self._sleep_or_stop(settings.init_delay, eid):
            self._end(eid, "KILLED", "KILLED", started=False)
            return
        plan = self._plan(job, project, execution)
        if plan.init_failure is not None:
            self._update(
                eid,
                state="INITIALIZATION_FAILED",
                final_status="UNDEFINED",
                finished_ms=self.rt.clock.now_ms(),
            )
            return
        sim = plan.simulation
        if sim is not None and sim.outcome == "INITIALIZATION_FAILED":
            self._update(
                eid,
                state="INITIALIZATION_FAILED",
                final_status="UNDEFINED",
                finished_ms=self.rt.clock.now_ms(),
            )
            return
        if yarn:
            for state in ("SUBMITTED", "ACCEPTED"):
                if self._update(eid, state=state) is None:
                    return
                if await self._sleep_or_stop(settings.yarn_state_delay, eid):
                    self._end(eid, "KILLED", "KILLED", started=False)
                    return
        if sim is not None and sim.outcome == "APP_MASTER_START_FAILED":
            self._update(
                eid,
                state="APP_MASTER_START_FAILED",
                final_status=sim.final_status or "UNDEFINED",
                finished_ms=self.rt.clock.now_ms(),
            )
            return

        run_dir = self._runs_root / str(eid)
        (run_dir / "cwd").mkdir(parents=True, exist_ok=True)
        app_id = self._app_id(job_type, eid)
        if (
            self._update(
                eid,
                state="RUNNING",
                app_id=app_id,
                started_ms=self.rt.clock.now_ms(),
                run_dir=str(run_dir),
                progress=0.1 if yarn else 0.0,
            )
            is None
        ):
            return

        if plan.argument_error is not None:
            (run_dir / "stdout.log").write_bytes(b"")
            (run_dir / "stderr.log").write_text(f"Could not split the arguments: {plan.argument_error}\n")
            succeeded, killed = False, False
        elif plan.command is not None:
            succeeded, killed = await self._run_process(
                eid, plan.command, run_dir=run_dir, job=job, project=project, execution=execution
            )
        else:
            assert sim is not None
            succeeded, killed = await self._simulate(eid, sim, run_dir, job)

        finished = self.rt.clock.now_ms()
        if killed:
            self._end(eid, "KILLED", "KILLED")
            return
        if sim is not None and (sim.state or sim.outcome in ("FRAMEWORK_FAILURE", "KILLED")):
            state = sim.state or sim.outcome
            final = sim.final_status or {"KILLED": "KILLED", "FINISHED": "SUCCEEDED"}.get(state, "UNDEFINED")
            if state == "FINISHED" and sim.final_status is None:
                final = "SUCCEEDED" if succeeded else "FAILED"
            self._end(eid, state, final)
            return
        final = (
            sim.final_status
            if sim is not None and sim.final_status
            else ("SUCCEEDED" if succeeded else "FAILED")
        )
        if yarn:
            self._update(eid, state="AGGREGATING_LOGS", finished_ms=finished, progress=1.0)
            if await self._sleep_or_stop(settings.aggregating_delay, eid):
                pass  # too late to kill: the application has already ended
            self._end(eid, "FINISHED", final)
        else:
            self._end(eid, "FINISHED" if final == "SUCCEEDED" else "FAILED", final)

    def _end(self, eid: int, state: str, final_status: str, *, started: bool = True) -> None:
        execution = self.rt.store.get_execution(eid)
        if execution is None:
            return
        fields: dict[str, Any] = {"state": state, "final_status": final_status, "pid": None}
        if execution.get("finished_ms") is None:
            fields["finished_ms"] = self.rt.clock.now_ms()
        if final_status == "SUCCEEDED":
            fields["progress"] = 1.0
        self._update(eid, **fields)
        if started and execution.get("run_dir"):
            task = asyncio.get_running_loop().create_task(self._aggregate_later(eid))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _aggregate_later(self, eid: int) -> None:
        await asyncio.sleep(self.rt.settings.log_delay)
        self.aggregate_logs(eid)

    def aggregate_logs(self, eid: int) -> None:
        """Move the run's stdout/stderr under ``Logs/`` and publish their paths."""
        execution = self.rt.store.get_execution(eid)
        if execution is None or not execution.get("run_dir"):
            return
        job = self.rt.store.get_job_by_id(int(execution["job_id"]))
        project = self.rt.store.get_project(int(execution["project_id"]))
        if job is None or project is None:
            return
        folder = LOG_FOLDERS.get(str(job.get("job_type") or ""), "Jobs")
        app_id = execution.get("app_id") or f"execution-{eid}"
        full_dir = f"/Projects/{project['name']}/Logs/{folder}/{app_id}"
        local_dir = self.rt.files.local_of(full_dir)
        local_dir.mkdir(parents=True, exist_ok=True)
        run_dir = Path(execution["run_dir"])
        paths: dict[str, str] = {}
        for stream in ("stdout", "stderr"):
            source = run_dir / f"{stream}.log"
            target = local_dir / f"{stream}.log"
            if source.exists():
                os.replace(source, target)
            elif not target.exists():
                target.write_bytes(b"")
            paths[f"{stream}_path"] = f"{full_dir}/{stream}.log"
        self._update(eid, **paths)

    # -- planning ---------------------------------------------------------------------------
    def _plan(self, job: dict[str, Any], project: dict[str, Any], execution: dict[str, Any]) -> Plan:  # noqa: PLR0911
        job_type = str(job.get("job_type") or "")
        config = job["config"]
        app_path = config.get("appPath")
        split_error: str | None = None
        try:
            tokens = shlex.split(execution.get("args") or "")
        except ValueError as exc:
            tokens, split_error = [], str(exc)
        app_file: Path | None = None
        if job_type not in ("DOCKER", "PYTHON_APP"):
            if not app_path:
                return Plan(init_failure="no appPath")
            text = str(app_path)
            if job_type in YARN_TYPES and not (text.startswith("hdfs://") or text.startswith("/")):
                return Plan(init_failure="relative appPath")
            try:
                resolved = self.rt.files.resolve(str(project["name"]), text)
            except errors.ApiError:
                return Plan(init_failure="app path outside the project")
            if not resolved.local.is_file():
                return Plan(init_failure="app file missing")
            app_file = resolved.local
        runs_python = job_type in ("PYTHON", "PYSPARK") and app_file is not None and app_file.suffix == ".py"
        if runs_python:
            assert app_file is not None
            if split_error is not None:
                return Plan(argument_error=split_error)
            return Plan(command=[sys.executable, "-u", str(app_file), *tokens])
        try:
            simulation = parse_simulation(tokens)
        except ValueError as exc:
            return Plan(argument_error=str(exc))
        if split_error is not None:
            return Plan(argument_error=split_error)
        return Plan(simulation=simulation)

    @staticmethod
    def _app_id(job_type: str, eid: int) -> str:
        if job_type in YARN_TYPES:
            return f"application_1700000000000_{eid:04d}"
        return f"{job_type.lower().replace('_', '-') or 'job'}-{eid}"

    # -- running ----------------------------------------------------------------------------
    def _environment(
        self, job: dict[str, Any], project: dict[str, Any], execution: dict[str, Any]
    ) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_ENV_PREFIXES)}
        env.update(
            PYTHONUNBUFFERED="1",
            HOPSWORKS_PROJECT_NAME=str(project["name"]),
            HOPSWORKS_PROJECT_ID=str(project["id"]),
            HOPSWORKS_JOB_NAME=str(job["name"]),
            HOPSWORKS_JOB_TYPE=str(job.get("job_type") or ""),
            HOPSWORKS_EXECUTION_ID=str(execution["id"]),
            HOPSWORKS_PROJECT_DIR=str(self.rt.files.project_dir(str(project["name"]))),
        )
        env.update({str(k): str(v) for k, v in (execution.get("env") or {}).items()})
        return env

    async def _run_process(
        self,
        eid: int,
        command: list[str],
        *,
        run_dir: Path,
        job: dict[str, Any],
        project: dict[str, Any],
        execution: dict[str, Any],
    ) -> tuple[bool, bool]:
        with open(run_dir / "stdout.log", "wb") as out, open(run_dir / "stderr.log", "wb") as err:
            proc = subprocess.Popen(
                command,
                cwd=run_dir / "cwd",
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=self._environment(job, project, execution),
                start_new_session=True,
            )
        self._procs[eid] = proc
        self._update(eid, pid=proc.pid)
        if self._stops[eid].is_set():
            self._kill(proc)
        code = await self._wait_process(proc)
        self._procs.pop(eid, None)
        self._update(eid, exit_code=code, pid=None)
        return code == 0, self._stops[eid].is_set()

    @staticmethod
    async def _wait_process(proc: subprocess.Popen[bytes]) -> int:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()

        def waiter() -> None:
            code = proc.wait()

            def deliver() -> None:
                if not done.done():
                    done.set_result(code)

            with contextlib.suppress(RuntimeError):  # loop already closed at shutdown
                loop.call_soon_threadsafe(deliver)

        threading.Thread(target=waiter, name=f"wait-{proc.pid}", daemon=True).start()
        return await done

    async def _simulate(
        self, eid: int, sim: Simulation, run_dir: Path, job: dict[str, Any]
    ) -> tuple[bool, bool]:
        job_type = str(job.get("job_type") or "")
        with open(run_dir / "stdout.log", "wb") as out:
            out.write(
                f"Simulated {job_type} job {job['name']} (execution {eid}); "
                f"args: {shlex.join(sim.rest)}\n".encode()
            )
            for line in sim.stdout:
                out.write(line.encode() + b"\n")
            written = 0
            while written < sim.stdout_bytes:
                chunk = _FILLER_LINE[: sim.stdout_bytes - written]
                out.write(chunk)
                written += len(chunk)
        with open(run_dir / "stderr.log", "wb") as err:
            for line in sim.stderr:
                err.write(line.encode() + b"\n")
        duration = sim.duration
        if duration is None:
            duration = None if job_type == "PYTHON_APP" else self.rt.settings.simulated_duration
        killed = await self._sleep_or_stop(duration, eid)
        succeeded = sim.outcome in ("SUCCEEDED", "SUCCESS", "FINISHED") and (
            sim.final_status in (None, "SUCCEEDED", "UNDEFINED")
        )
        return succeeded, killed

    # -- killing ----------------------------------------------------------------------------
    def _kill(self, proc: subprocess.Popen[bytes], grace: float | None = None) -> None:
        if proc.poll() is not None:
            return
        wait = self.rt.settings.kill_grace if grace is None else grace
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL if wait <= 0 else signal.SIGTERM)
        if wait > 0:

            def escalate() -> None:
                try:
                    proc.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(proc.pid, signal.SIGKILL)

            threading.Thread(target=escalate, daemon=True).start()

    def _kill_leftover(self, execution: dict[str, Any]) -> None:
        """Kill a process an earlier emulator started, if it is provably still that process."""
        pid, run_dir = execution.get("pid"), execution.get("run_dir")
        if not pid or not run_dir:
            return
        try:
            cwd = os.readlink(f"/proc/{int(pid)}/cwd")
        except OSError:
            return
        if Path(cwd) == Path(run_dir) / "cwd":
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(int(pid), signal.SIGKILL)
