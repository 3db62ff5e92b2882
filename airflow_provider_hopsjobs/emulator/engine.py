"""Runs executions: real subprocesses for Python code, a scripted lifecycle for the rest.

**What runs for real.** PYTHON jobs, and PYSPARK jobs whose app is a ``.py`` file, are run
by the emulator's own interpreter (``python -u <app> <args>``) with the arguments split
like a shell would (``shlex.split``), in a fresh working directory
``<data_dir>/runs/<execution id>/cwd``, in their own process group, with the environment
:mod:`.job_environment` builds.

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

**States.** See :mod:`.lifecycle`, which drives them from a table of transitions. Exit
code 0 is ``SUCCEEDED``, anything else ``FAILED``. An app file that is missing (or a
relative ``appPath`` for a YARN type, which Hopsworks cannot resolve) ends
``INITIALIZATION_FAILED`` with ``finalStatus`` ``UNDEFINED``, duration 0 and no logs.

**Logs.** stdout/stderr are written to the run directory while the job runs and are
moved under ``Logs/`` ``log_delay`` seconds after the terminal state (:mod:`.log_aggregation`).

**Stop.** Stopping kills the whole process group (SIGTERM, then SIGKILL after
``kill_grace``) and the execution ends ``KILLED``/``KILLED``. Unlike Hopsworks, a stop
that arrives during ``INITIALIZING`` is honoured too, so a client's cancel always wins.

**Restart.** Job processes do not outlive the emulator; on start-up :mod:`.recovery` ends
``FAILED`` every execution a previous process left unfinished.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from airflow_provider_hopsjobs.emulator.clock import Clock
from airflow_provider_hopsjobs.emulator.counters import Counters
from airflow_provider_hopsjobs.emulator.lifecycle import Lifecycle
from airflow_provider_hopsjobs.emulator.log_aggregation import LogAggregator
from airflow_provider_hopsjobs.emulator.processes import JobProcesses
from airflow_provider_hopsjobs.emulator.recorder import ExecutionRecorder
from airflow_provider_hopsjobs.emulator.states import TERMINAL_STATES
from airflow_provider_hopsjobs.emulator.store import Store


class Engine:
    """Starts executions, stops them, and ends them all when the emulator stops."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        counters: Counters,
        recorder: ExecutionRecorder,
        processes: JobProcesses,
        logs: LogAggregator,
        lifecycle: Lifecycle,
    ) -> None:
        self._store = store
        self._clock = clock
        self._counters = counters
        self._recorder = recorder
        self._processes = processes
        self._logs = logs
        self._lifecycle = lifecycle
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._stops: dict[int, asyncio.Event] = {}

    def start(
        self, job: dict[str, Any], args: str, user_id: int, env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Create the execution (INITIALIZING/UNDEFINED/0) and run it in the background."""
        execution = self._store.create_execution(
            int(job["id"]),
            int(job["project_id"]),
            args=args,
            user_id=user_id,
            now_ms=self._clock.now_ms(),
            env=env or {},
        )
        self._counters.executions_started[str(job["name"])] += 1
        eid = int(execution["id"])
        self._recorder.created(execution)
        stop = self._stops[eid] = asyncio.Event()
        task = asyncio.get_running_loop().create_task(self._lifecycle.run(eid, stop), name=f"execution-{eid}")
        self._tasks[eid] = task
        task.add_done_callback(lambda _task: self._forget(eid))
        return execution

    def stop(self, execution_id: int) -> None:
        """Ask a running execution to end KILLED; a no-op for finished ones."""
        execution = self._store.get_execution(execution_id)
        if execution is None or execution["state"] in TERMINAL_STATES:
            return
        self._store.update_execution(execution_id, stop_requested=1)
        event = self._stops.get(execution_id)
        if event is not None:
            event.set()
        self._processes.kill(execution_id)

    async def shutdown(self) -> None:
        """Kill every job process (they must not outlive the emulator) and stop the tasks."""
        self._processes.kill_all()
        tasks = [*self._tasks.values(), *self._logs.pending()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _forget(self, eid: int) -> None:
        self._tasks.pop(eid, None)
        self._stops.pop(eid, None)
        self._processes.forget(eid)
