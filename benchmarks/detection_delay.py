"""Detection delay: from an execution reaching its terminal state to the trigger's event.

Usage: ``python benchmarks/detection_delay.py [--jobs 16] [--shortest 1] [--longest 30]``

Each sample is a real PYTHON job on a fresh emulator that sleeps a known time, watched by
the real :class:`HopsworksExecutionTrigger` with its defaults (the operator's defaults:
``poll_interval=30``), started right after the execution as the operator does before it
defers. All samples run at once in one event loop, so the run takes about as long as the
longest job. The job lengths are spread evenly over the range, so that none of them
is picked to suit the poll schedule.

* terminal time: the emulator's own record of the execution's transition to its terminal
  state (``GET /_emulator/executions/{id}/history``, epoch ms; the emulator's clock is the
  machine's wall clock, its offset is checked to be zero);
* event time: ``time.time()`` when the trigger yields its event.

``--live-logs``: the triggers also read the pod-log tail after each poll (the time that
takes comes off their next sleep), to show it does not delay detection.

Goal: median delay <= 1.0 s over jobs of 1-30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from _common import SLEEP_JOB, banner, describe, emulator, python_job, result

from airflow_provider_hopsjobs.execution import TERMINAL_STATES
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger

JOB = "bench_sleep"


async def watch(execution_id: int, live_logs: bool = False) -> tuple[dict[str, Any], float]:
    trigger = HopsworksExecutionTrigger(job_name=JOB, execution_id=execution_id, live_logs=live_logs)
    agen = trigger.run()
    try:
        event = await agen.__anext__()
    finally:
        await agen.aclose()
    return event.payload, time.time()


async def run_all(execution_ids: list[int], live_logs: bool = False) -> list[tuple[dict[str, Any], float]]:
    return list(await asyncio.gather(*(watch(eid, live_logs) for eid in execution_ids)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=16, help="how many executions")
    parser.add_argument("--shortest", type=float, default=1.0, help="seconds")
    parser.add_argument("--longest", type=float, default=30.0, help="seconds")
    parser.add_argument("--live-logs", action="store_true", help="triggers read the pod-log tail too")
    args = parser.parse_args()
    step = (args.longest - args.shortest) / max(args.jobs - 1, 1)
    lengths = [round(args.shortest + i * step, 2) for i in range(args.jobs)]
    banner(
        "detection delay",
        jobs=args.jobs,
        lengths=f"{args.shortest:g}-{args.longest:g} s",
        live_logs=args.live_logs,
    )

    with emulator() as emu:
        assert emu.admin("GET", "clock")["offsetMs"] == 0
        python_job(JOB, SLEEP_JOB)
        hook = HopsworksHook()
        # The executions and their triggers start together, as run_all gathers them at once.
        started = [(length, hook.start_execution(JOB, [f"{length:g}"]).id) for length in lengths]
        outcomes = asyncio.run(run_all([eid for _, eid in started], args.live_logs))

        delays: list[float] = []
        rows = []
        for (length, eid), (payload, event_at) in zip(started, outcomes, strict=True):
            history = emu.admin("GET", f"executions/{eid}/history")["transitions"]
            terminal_ms = next(t["atMs"] for t in history if t["state"] in TERMINAL_STATES)
            delay = event_at - terminal_ms / 1000
            delays.append(delay)
            rows.append((length, eid, payload["status"], delay))
            if payload["status"] != "success":
                raise SystemExit(f"execution {eid} ended {payload}")

    for length, eid, status, delay in sorted(rows):
        print(f"   job {length:>4g} s  execution {eid:>3}  {status:<7}  delay {delay:6.3f} s")
    median = statistics.median(delays)
    print(f"   detection delay: {describe(delays)}")
    what = "detection delay, jobs 1-30 s" + (", live logs on" if args.live_logs else "")
    ok = result(what, f"median {median:.2f} s", "median <= 1.0 s", median <= 1.0)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
