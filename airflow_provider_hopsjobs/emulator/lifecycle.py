"""The execution lifecycle as a table of transitions, and the driver that walks it.

Python-like types: ``INITIALIZING → RUNNING → FINISHED|FAILED|KILLED``. YARN types (SPARK,
PYSPARK, FLINK): ``INITIALIZING → SUBMITTED → ACCEPTED → RUNNING → AGGREGATING_LOGS →
FINISHED`` with ``finalStatus`` ``SUCCEEDED`` or ``FAILED`` (a failed Spark app ends
``FINISHED``/``FAILED``, as on YARN), or ``KILLED``/``KILLED`` when stopped. Nothing to run
ends ``INITIALIZATION_FAILED``/``UNDEFINED`` with no logs. A stop is honoured in every
phase but AGGREGATING_LOGS (the application has already ended by then), including
INITIALIZING, where Hopsworks would ignore it: a client's cancel always wins.

Each :class:`Phase` is a state the execution passes through, or a way for it to end. A
phase that is not terminal has an *activity* (wait, or run the application) that reports
an :class:`Event`; :data:`TRANSITIONS` names the phase that follows, and that phase's
*entry* writes the new state. Terminal phases have an entry only.

Two ends lie outside the table because no activity reports them: an exception inside the
emulator ends the execution ``FAILED``/``FAILED`` (:meth:`Lifecycle.run`), and executions
cut short by the emulator's own death are ended on the next start by :mod:`.recovery`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum, auto
from pathlib import Path
from typing import Any

from airflow_provider_hopsjobs.emulator.clock import Clock
from airflow_provider_hopsjobs.emulator.fs import ProjectFiles
from airflow_provider_hopsjobs.emulator.job_environment import job_environment
from airflow_provider_hopsjobs.emulator.log_aggregation import LogAggregator
from airflow_provider_hopsjobs.emulator.planning import Plan, app_id_for, plan_execution
from airflow_provider_hopsjobs.emulator.processes import JobProcesses
from airflow_provider_hopsjobs.emulator.recorder import ExecutionRecorder
from airflow_provider_hopsjobs.emulator.settings import Settings
from airflow_provider_hopsjobs.emulator.simulation import Simulation
from airflow_provider_hopsjobs.emulator.states import YARN_TYPES
from airflow_provider_hopsjobs.emulator.store import Store

log = logging.getLogger(__name__)

Row = dict[str, Any]


class Phase(Enum):
    INITIALIZING = auto()
    SUBMITTED = auto()
    ACCEPTED = auto()
    RUNNING = auto()
    AGGREGATING_LOGS = auto()
    # Terminal phases.
    INITIALIZATION_FAILED = auto()  # nothing to run: UNDEFINED, no logs
    APP_MASTER_START_FAILED = auto()  # only when a simulation asks for it
    STOPPED_BEFORE_START = auto()  # KILLED/KILLED, no logs
    STOPPED = auto()  # KILLED/KILLED, logs of what ran
    SCRIPTED_END = auto()  # the state --emulator-state/--emulator-outcome names
    ENDED = auto()  # Python-like types: FINISHED/SUCCEEDED, or FAILED with the app's status
    FINISHED = auto()  # YARN types: FINISHED with the app's finalStatus


class Event(Enum):
    STOP = auto()  # a stop arrived (while waiting, or the app was killed)
    NO_APP = auto()  # initialisation found nothing to run
    QUEUED = auto()  # initialised, handed to YARN
    APP_MASTER_FAILED = auto()  # the simulation fails the application master
    LAUNCHED = auto()  # the application starts
    WAITED = auto()  # the phase's delay is over
    APP_ENDED = auto()  # the application ended on its own
    APP_ENDED_ON_YARN = auto()  # ... and YARN still aggregates its logs
    OUTCOME_SCRIPTED = auto()  # the application ended; the simulation names the terminal state


TRANSITIONS: Mapping[tuple[Phase, Event], Phase] = {
    (Phase.INITIALIZING, Event.STOP): Phase.STOPPED_BEFORE_START,
    (Phase.INITIALIZING, Event.NO_APP): Phase.INITIALIZATION_FAILED,
    (Phase.INITIALIZING, Event.QUEUED): Phase.SUBMITTED,
    (Phase.INITIALIZING, Event.APP_MASTER_FAILED): Phase.APP_MASTER_START_FAILED,
    (Phase.INITIALIZING, Event.LAUNCHED): Phase.RUNNING,
    (Phase.SUBMITTED, Event.STOP): Phase.STOPPED_BEFORE_START,
    (Phase.SUBMITTED, Event.WAITED): Phase.ACCEPTED,
    (Phase.ACCEPTED, Event.STOP): Phase.STOPPED_BEFORE_START,
    (Phase.ACCEPTED, Event.APP_MASTER_FAILED): Phase.APP_MASTER_START_FAILED,
    (Phase.ACCEPTED, Event.LAUNCHED): Phase.RUNNING,
    (Phase.RUNNING, Event.STOP): Phase.STOPPED,
    (Phase.RUNNING, Event.OUTCOME_SCRIPTED): Phase.SCRIPTED_END,
    (Phase.RUNNING, Event.APP_ENDED): Phase.ENDED,
    (Phase.RUNNING, Event.APP_ENDED_ON_YARN): Phase.AGGREGATING_LOGS,
    (Phase.AGGREGATING_LOGS, Event.WAITED): Phase.FINISHED,
}


@dataclass
class Run:
    """One execution on its way through the table: what it runs and what has happened so far."""

    execution_id: int
    execution: Row
    job: Row
    project: Row
    stop: asyncio.Event
    plan: Plan = field(default_factory=Plan)  # decided when INITIALIZING is over
    run_dir: Path | None = None  # set on entering RUNNING
    succeeded: bool = False
    app_ended_ms: int | None = None

    @property
    def job_type(self) -> str:
        return str(self.job.get("job_type") or "")

    @property
    def on_yarn(self) -> bool:
        return self.job_type in YARN_TYPES

    @property
    def simulation(self) -> Simulation | None:
        return self.plan.simulation

    def final_status(self) -> str:
        """The app's ``finalStatus``: as scripted, else from its success."""
        sim = self.simulation
        if sim is not None and sim.final_status:
            return sim.final_status
        return "SUCCEEDED" if self.succeeded else "FAILED"

    def scripted_end(self) -> tuple[str, str]:
        """(state, finalStatus) that ``--emulator-state``/``--emulator-outcome`` force."""
        sim = self.simulation
        assert sim is not None
        state = sim.state or sim.outcome
        final = sim.final_status or {"KILLED": "KILLED", "FINISHED": "SUCCEEDED"}.get(state, "UNDEFINED")
        if state == "FINISHED" and sim.final_status is None:
            final = "SUCCEEDED" if self.succeeded else "FAILED"
        return state, final

    async def wait_or_stop(self, seconds: float | None) -> bool:
        """Wait; True when a stop arrived meanwhile. ``None`` waits for the stop only."""
        if self.stop.is_set():
            return True
        if seconds is not None and seconds <= 0:
            return False
        try:
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            return False
        return True


Activity = Callable[[Run], Awaitable[Event]]
#: Writes the phase's state; False when the execution is gone (deleted) and the run should stop.
Entry = Callable[[Run], bool]


class Lifecycle:
    """Walks one execution through :data:`TRANSITIONS`."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        settings: Settings,
        files: ProjectFiles,
        recorder: ExecutionRecorder,
        processes: JobProcesses,
        logs: LogAggregator,
        runs_root: Path,
    ) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._files = files
        self._recorder = recorder
        self._processes = processes
        self._logs = logs
        self._runs_root = runs_root
        self._activities: dict[Phase, Activity] = {
            Phase.INITIALIZING: self._initialize,
            Phase.SUBMITTED: self._wait_in_queue,
            Phase.ACCEPTED: self._start_app_master,
            Phase.RUNNING: self._run_app,
            Phase.AGGREGATING_LOGS: self._aggregate_logs,
        }
        self._entries: dict[Phase, Entry] = {
            Phase.SUBMITTED: lambda run: self._enter_state(run, "SUBMITTED"),
            Phase.ACCEPTED: lambda run: self._enter_state(run, "ACCEPTED"),
            Phase.RUNNING: self._enter_running,
            Phase.AGGREGATING_LOGS: self._enter_aggregating_logs,
            Phase.INITIALIZATION_FAILED: lambda run: self._fail_early(run, "INITIALIZATION_FAILED", None),
            Phase.APP_MASTER_START_FAILED: lambda run: self._fail_early(
                run, "APP_MASTER_START_FAILED", run.simulation.final_status if run.simulation else None
            ),
            Phase.STOPPED_BEFORE_START: lambda run: self._end(run, "KILLED", "KILLED", started=False),
            Phase.STOPPED: lambda run: self._end(run, "KILLED", "KILLED"),
            Phase.SCRIPTED_END: lambda run: self._end(run, *run.scripted_end()),
            Phase.ENDED: self._enter_ended,
            Phase.FINISHED: lambda run: self._end(run, "FINISHED", run.final_status()),
        }

    async def run(self, execution_id: int, stop: asyncio.Event) -> None:
        """Drive the execution to a terminal state; a crash in here ends it FAILED/FAILED."""
        try:
            await self._drive(execution_id, stop)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("execution %s crashed inside the emulator", execution_id)
            self._recorder.update(
                execution_id, state="FAILED", final_status="FAILED", finished_ms=self._clock.now_ms()
            )

    async def _drive(self, execution_id: int, stop: asyncio.Event) -> None:
        run = self._load(execution_id, stop)
        if run is None:
            return
        phase = Phase.INITIALIZING
        while (activity := self._activities.get(phase)) is not None:
            event = await activity(run)
            phase = TRANSITIONS[phase, event]
            if not self._entries[phase](run):
                return

    def _load(self, execution_id: int, stop: asyncio.Event) -> Run | None:
        execution = self._store.get_execution(execution_id)
        if execution is None:
            return None
        job = self._store.get_job_by_id(int(execution["job_id"]))
        project = self._store.get_project(int(execution["project_id"]))
        if job is None or project is None:
            return None
        return Run(execution_id, execution, job, project, stop)

    # -- activities ---------------------------------------------------------------------------
    async def _initialize(self, run: Run) -> Event:
        if await run.wait_or_stop(self._settings.init_delay):
            return Event.STOP
        run.plan = plan_execution(run.job, run.project, run.execution, self._files)
        sim = run.simulation
        if run.plan.init_failure is not None or (sim is not None and sim.outcome == "INITIALIZATION_FAILED"):
            return Event.NO_APP
        if run.on_yarn:
            return Event.QUEUED
        return self._launch_or_fail(run)

    async def _wait_in_queue(self, run: Run) -> Event:
        if await run.wait_or_stop(self._settings.yarn_state_delay):
            return Event.STOP
        return Event.WAITED

    async def _start_app_master(self, run: Run) -> Event:
        if await run.wait_or_stop(self._settings.yarn_state_delay):
            return Event.STOP
        return self._launch_or_fail(run)

    @staticmethod
    def _launch_or_fail(run: Run) -> Event:
        sim = run.simulation
        if sim is not None and sim.outcome == "APP_MASTER_START_FAILED":
            return Event.APP_MASTER_FAILED
        return Event.LAUNCHED

    async def _run_app(self, run: Run) -> Event:
        assert run.run_dir is not None
        plan, sim = run.plan, run.simulation
        if plan.argument_error is not None:
            (run.run_dir / "stdout.log").write_bytes(b"")
            (run.run_dir / "stderr.log").write_text(f"Could not split the arguments: {plan.argument_error}\n")
            succeeded, killed = False, False
        elif plan.command is not None:
            succeeded, killed = await self._run_process(run, plan.command, run.run_dir)
        else:
            assert sim is not None
            sim.write_logs(run.run_dir, run.job, run.execution_id)
            killed = await run.wait_or_stop(sim.run_seconds(run.job_type, self._settings.simulated_duration))
            succeeded = sim.succeeded
        run.app_ended_ms = self._clock.now_ms()
        run.succeeded = succeeded
        if killed:
            return Event.STOP
        if sim is not None and sim.forces_state:
            return Event.OUTCOME_SCRIPTED
        return Event.APP_ENDED_ON_YARN if run.on_yarn else Event.APP_ENDED

    async def _run_process(self, run: Run, command: list[str], run_dir: Path) -> tuple[bool, bool]:
        """(exit code was 0, a stop arrived)."""
        eid = run.execution_id
        project_dir = self._files.project_dir(str(run.project["name"]))
        env = job_environment(run.job, run.project, run.execution, project_dir)
        pid = self._processes.launch(eid, command, run_dir=run_dir, env=env)
        self._recorder.update(eid, pid=pid)
        if run.stop.is_set():
            self._processes.kill(eid)
        code = await self._processes.wait(eid)
        self._recorder.update(eid, exit_code=code, pid=None)
        return code == 0, run.stop.is_set()

    async def _aggregate_logs(self, run: Run) -> Event:
        # A stop only cuts the wait short: too late to kill, the application has already ended.
        await run.wait_or_stop(self._settings.aggregating_delay)
        return Event.WAITED

    # -- entries ------------------------------------------------------------------------------
    def _enter_state(self, run: Run, state: str) -> bool:
        return self._recorder.update(run.execution_id, state=state) is not None

    def _enter_running(self, run: Run) -> bool:
        run.run_dir = self._runs_root / str(run.execution_id)
        (run.run_dir / "cwd").mkdir(parents=True, exist_ok=True)
        row = self._recorder.update(
            run.execution_id,
            state="RUNNING",
            app_id=app_id_for(run.job_type, run.execution_id),
            started_ms=self._clock.now_ms(),
            run_dir=str(run.run_dir),
            progress=0.1 if run.on_yarn else 0.0,
        )
        return row is not None

    def _enter_aggregating_logs(self, run: Run) -> bool:
        self._recorder.update(
            run.execution_id, state="AGGREGATING_LOGS", finished_ms=run.app_ended_ms, progress=1.0
        )
        return True  # a deleted execution is noticed when it ends

    def _enter_ended(self, run: Run) -> bool:
        final = run.final_status()
        return self._end(run, "FINISHED" if final == "SUCCEEDED" else "FAILED", final)

    def _fail_early(self, run: Run, state: str, final_status: str | None) -> bool:
        """Ended before any application ran: duration 0, no logs to aggregate."""
        self._recorder.update(
            run.execution_id,
            state=state,
            final_status=final_status or "UNDEFINED",
            finished_ms=self._clock.now_ms(),
        )
        return False

    def _end(self, run: Run, state: str, final_status: str, *, started: bool = True) -> bool:
        """The terminal state; logs are aggregated ``log_delay`` later if the app ran."""
        execution = self._store.get_execution(run.execution_id)
        if execution is None:
            return False
        fields: dict[str, Any] = {"state": state, "final_status": final_status, "pid": None}
        if execution.get("finished_ms") is None:
            fields["finished_ms"] = self._clock.now_ms()
        if final_status == "SUCCEEDED":
            fields["progress"] = 1.0
        self._recorder.update(run.execution_id, **fields)
        if started and execution.get("run_dir"):
            self._logs.aggregate_later(run.execution_id)
        return False
