"""1,000 concurrent HopsworksExecutionTriggers in one event loop: CPU and added RSS.

Usage: ``python benchmarks/triggerer_capacity.py [--triggers 1000] [--cap 10] [--seconds 20]``

The triggers (``poll_interval=10``, the "10 s cap") watch long-running executions on a
fresh emulator, run the way the triggerer runs them: each trigger's ``run()`` generator
awaited in one asyncio event loop, sharing the provider's aiohttp session.

* steady state (the goal): the waits began an hour ago (``wait_started_at``), as for
  long jobs or after a triggerer restart, so each trigger polls at the cap. CPU is this
  process's CPU time over the measured window divided by the window; added RSS is the
  peak RSS while the triggers run minus the RSS before the first one was created;
* cold start (for information): the same number of triggers created at the same moment,
  as if a thousand tasks deferred in the same second; their schedule polls every second
  for the first 20 s, which is what makes short jobs finish promptly.

On Linux the emulator is pinned to one CPU and this process to the other.

Goals (steady state): <= 20 % of one core, <= 100 MB added RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from pathlib import Path

# _common isolates Airflow's configuration, so it comes before anything that may import Airflow.
from _common import SLEEP_JOB, banner, cpu_seconds, emulator, pin, python_job, result, rss_bytes

# isort: split
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks import async_session
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger

JOB = "bench_capacity"


def peak_rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc")


def polls(emu: EmulatorHandle) -> int:
    return sum(n for route, n in emu.request_counts().items() if route.endswith("/executions/{execution_id}"))


async def run_triggers(
    emu: EmulatorHandle,
    ids: list[int],
    *,
    cap: float,
    started_at: float | None,
    warmup: float,
    seconds: float,
) -> dict[str, float]:
    before = rss_bytes()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS high-water mark
    triggers = [
        HopsworksExecutionTrigger(
            job_name=JOB, execution_id=eid, poll_interval=cap, wait_started_at=started_at
        )
        for eid in ids
    ]
    generators = [t.run() for t in triggers]
    tasks = [asyncio.ensure_future(g.__anext__()) for g in generators]
    await asyncio.sleep(warmup)
    await asyncio.to_thread(emu.reset_counters)
    cpu0, wall0 = cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu1, wall1 = cpu_seconds(), time.monotonic()
    counted = await asyncio.to_thread(polls, emu)
    peak = peak_rss_bytes()
    fired = [t for t in tasks if t.done()]
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    for generator in generators:
        await generator.aclose()
    await async_session.close_sessions()
    if fired:
        raise RuntimeError(f"{len(fired)} triggers fired during the measurement")
    return {
        "cpu": (cpu1 - cpu0) / (wall1 - wall0),
        "polls_per_s": counted / (wall1 - wall0),
        "added_rss": peak - before,
        "sessions": async_session.session_count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triggers", type=int, default=1000)
    parser.add_argument("--cap", type=float, default=10.0, help="the triggers' poll_interval")
    parser.add_argument("--executions", type=int, default=10, help="running executions the triggers share")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold-start figure")
    args = parser.parse_args()
    banner("triggerer capacity", triggers=args.triggers, cap=f"{args.cap:g} s", window=f"{args.seconds:g} s")

    with emulator() as emu:
        python_job(JOB, SLEEP_JOB)
        hook = HopsworksHook()
        running = [hook.start_execution(JOB, ["3600"]).id for _ in range(args.executions)]
        ids = [running[i % len(running)] for i in range(args.triggers)]
        assert emu._proc is not None
        pinned = pin(emu._proc.pid, 0) and pin(os.getpid(), 1)
        print(f"   emulator and triggers {'pinned to separate CPUs' if pinned else 'not pinned'}")

        steady = asyncio.run(
            run_triggers(
                emu,
                ids,
                cap=args.cap,
                started_at=time.time() - 3600,
                warmup=args.warmup,
                seconds=args.seconds,
            )
        )
        print(
            f"   steady state: {steady['cpu'] * 100:.1f} % of one core, {steady['polls_per_s']:.0f} polls/s, "
            f"peak RSS added {steady['added_rss'] / 2**20:.1f} MiB"
        )
        cold = None
        if not args.skip_cold:
            cold = asyncio.run(
                run_triggers(emu, ids, cap=args.cap, started_at=None, warmup=0.5, seconds=10.0)
            )
            print(
                f"   cold start (all {args.triggers} defer at once; first 10 s): {cold['cpu'] * 100:.1f} % "
                f"of one core, {cold['polls_per_s']:.0f} polls/s"
            )
        for eid in running:
            hook.stop_execution(JOB, eid)

    ok = result(
        f"{args.triggers} triggers, {args.cap:g} s cap, CPU",
        f"{steady['cpu'] * 100:.1f} % of one core",
        "<= 20 %",
        steady["cpu"] <= 0.20,
    )
    added_mb = steady["added_rss"] / 1e6
    ok &= result(
        f"{args.triggers} triggers, {args.cap:g} s cap, added RSS",
        f"{added_mb:.0f} MB",
        "<= 100 MB",
        added_mb <= 100,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
