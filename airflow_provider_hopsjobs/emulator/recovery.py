"""What a previous emulator process left unfinished, ended on start-up.

Job processes do not outlive the emulator. On start-up every execution that was not
terminal ends ``FAILED`` with ``finalStatus`` ``FAILED``, the output captured so far, and a
note on stderr. ``FAILED`` (rather than ``KILLED`` or ``FRAMEWORK_FAILURE``) is what every
client, including the official SDK, reads as "over, unsuccessfully": Airflow may retry it,
and nobody waits forever on an ``UNDEFINED`` final status. Terminal executions whose logs
were still waiting for aggregation are aggregated at once.
"""

from __future__ import annotations

from pathlib import Path

from airflow_provider_hopsjobs.emulator.clock import Clock
from airflow_provider_hopsjobs.emulator.log_aggregation import LogAggregator
from airflow_provider_hopsjobs.emulator.processes import kill_leftover
from airflow_provider_hopsjobs.emulator.states import TERMINAL_STATES
from airflow_provider_hopsjobs.emulator.store import Store

RESTART_NOTE = (
    "[hopsworks-emulator] The emulator stopped while this execution was running; "
    "it was marked FAILED when the emulator started again.\n"
)


def recover(store: Store, clock: Clock, logs: LogAggregator, runs_root: Path) -> None:
    """End the unfinished executions, then publish the logs that were never aggregated."""
    for execution in store.unfinished_executions():
        eid = int(execution["id"])
        kill_leftover(execution)
        run_dir = Path(execution["run_dir"]) if execution.get("run_dir") else runs_root / str(eid)
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "stdout.log").touch()
        with open(run_dir / "stderr.log", "a", encoding="utf-8") as err:
            err.write(RESTART_NOTE)
        now = clock.now_ms()
        # Straight to the store: this process never saw the execution's earlier transitions.
        store.update_execution(
            eid,
            state="FAILED",
            final_status="FAILED",
            finished_ms=now,
            started_ms=execution.get("started_ms") or now,
            run_dir=str(run_dir),
            pid=None,
        )
        logs.aggregate(eid)
    for job in (j for p in store.list_projects() for j in store.list_jobs(int(p["id"]))):
        for execution in store.list_executions(int(job["id"])):
            if (
                execution["state"] in TERMINAL_STATES
                and execution.get("stdout_path") is None
                and execution.get("run_dir")
                and Path(execution["run_dir"], "stdout.log").exists()
            ):
                logs.aggregate(int(execution["id"]))
