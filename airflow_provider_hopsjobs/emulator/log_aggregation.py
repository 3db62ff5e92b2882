"""Log aggregation: a run's stdout/stderr move under ``Logs/`` and their paths are published.

While a job runs its output goes to ``<data_dir>/runs/<execution id>/``. ``log_delay``
seconds after the terminal state (read then, so ``PATCH /_emulator/timing`` applies) both
files move to ``/Projects/<p>/Logs/<Type>/<appId>/stdout.log`` (and ``stderr.log``), and only
then do ``stdoutPath`` and ``stderrPath`` appear on the execution, as they do in Hopsworks
once YARN or Kubernetes has handed the logs over.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from airflow_provider_hopsjobs.emulator.fs import ProjectFiles
from airflow_provider_hopsjobs.emulator.recorder import ExecutionRecorder
from airflow_provider_hopsjobs.emulator.settings import Settings
from airflow_provider_hopsjobs.emulator.states import LOG_FOLDERS
from airflow_provider_hopsjobs.emulator.store import Store


class LogAggregator:
    def __init__(
        self, store: Store, files: ProjectFiles, recorder: ExecutionRecorder, settings: Settings
    ) -> None:
        self._store = store
        self._files = files
        self._recorder = recorder
        self._settings = settings
        self._pending: set[asyncio.Task[None]] = set()

    def aggregate_later(self, execution_id: int) -> None:
        """Aggregate after ``log_delay`` seconds, in the background."""
        task = asyncio.get_running_loop().create_task(self._aggregate_after_delay(execution_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def pending(self) -> list[asyncio.Task[None]]:
        """Aggregations still waiting (cancelled at shutdown; the restart catches up on them)."""
        return list(self._pending)

    async def _aggregate_after_delay(self, execution_id: int) -> None:
        await asyncio.sleep(self._settings.log_delay)
        self.aggregate(execution_id)

    def aggregate(self, execution_id: int) -> None:
        """Move the run's stdout/stderr under ``Logs/`` and publish their paths."""
        execution = self._store.get_execution(execution_id)
        if execution is None or not execution.get("run_dir"):
            return
        job = self._store.get_job_by_id(int(execution["job_id"]))
        project = self._store.get_project(int(execution["project_id"]))
        if job is None or project is None:
            return
        folder = LOG_FOLDERS.get(str(job.get("job_type") or ""), "Jobs")
        app_id = execution.get("app_id") or f"execution-{execution_id}"
        full_dir = f"/Projects/{project['name']}/Logs/{folder}/{app_id}"
        local_dir = self._files.local_of(full_dir)
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
        self._recorder.update(execution_id, **paths)
