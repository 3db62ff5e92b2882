"""Status requests per execution-hour with the defaults, counted at the emulator.

Usage: ``python benchmarks/requests_per_hour.py [--hours 1] [--real-seconds 40]``

Nobody waits an hour for a benchmark, so the hour runs on a virtual clock:

1. *virtual hour* (the figure): the real ``HopsworksExecutionTrigger`` with its defaults
   (``poll_interval=30``, as the operator's) watches a real running execution on a fresh
   emulator. Its sleeps advance a virtual clock instead of waiting; every poll is a real
   HTTP request that the emulator counts. When the virtual clock passes the hour the
   execution is stopped, and the trigger's last poll sees it ``KILLED``.
2. *the schedule itself*: ``waiting.poll_intervals`` with the defaults, summed over an hour.
3. *real-time check*: the same trigger with real sleeps for ``--real-seconds``, to show the
   trigger sleeps what the schedule says (its count can only be lower: requests take time).

Goal: <= 400 status requests per execution-hour (Hopsworks' SDK polls every 3 s: 1,200).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

# _common isolates Airflow's configuration, so it comes before anything that may import Airflow.
from _common import SLEEP_JOB, banner, emulator, python_job, result, wait_for

# isort: split
from airflow_provider_hopsjobs.clock import Clock
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.execution import TERMINAL_STATES
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger
from airflow_provider_hopsjobs.waiting import DEFAULT_POLL_INTERVAL, poll_intervals

JOB = "bench_hour"
GET_EXECUTION = "GET /hopsworks-api/api/project/{id}/jobs/{name}/executions/{execution_id}"


def predicted_polls(seconds: float, cap: float = DEFAULT_POLL_INTERVAL) -> int:
    """Polls in [0, seconds] by the schedule: one at once, then one after each sleep."""
    waited, polls = 0.0, 1
    for interval in poll_intervals(cap):
        waited += interval
        if waited > seconds:
            return polls
        polls += 1
    raise AssertionError("unreachable")


def stop_and_wait(emu: EmulatorHandle, hook: HopsworksHook, execution_id: int) -> None:
    hook.stop_execution(JOB, execution_id)
    wait_for(
        lambda: any(
            t["state"] in TERMINAL_STATES
            for t in emu.admin("GET", f"executions/{execution_id}/history")["transitions"]
        ),
        30,
        "the execution to stop",
    )


async def first_event(trigger: HopsworksExecutionTrigger) -> dict[str, object]:
    agen = trigger.run()
    try:
        return dict((await agen.__anext__()).payload)
    finally:
        await agen.aclose()


def virtual_hour(emu: EmulatorHandle, hook: HopsworksHook, seconds: float) -> tuple[int, dict[str, object]]:
    execution_id = hook.start_execution(JOB, ["7200"]).id
    clock = {"now": 0.0, "stopped": False}

    async def virtual_sleep(interval: float) -> None:
        clock["now"] += interval
        if clock["now"] >= seconds and not clock["stopped"]:
            clock["stopped"] = True
            await asyncio.to_thread(stop_and_wait, emu, hook, execution_id)
        await asyncio.sleep(0)

    class VirtualClock(Clock):
        """Real time, but the trigger's sleeps only advance the virtual hour (the clock seam)."""

        async def async_sleep(self, seconds: float) -> None:
            await virtual_sleep(seconds)

    emu.reset_counters()
    trigger = HopsworksExecutionTrigger(job_name=JOB, execution_id=execution_id)
    trigger.clock = VirtualClock()
    event = asyncio.run(first_event(trigger))
    return emu.request_counts().get(GET_EXECUTION, 0), event


def real_time(emu: EmulatorHandle, hook: HopsworksHook, seconds: float) -> int:
    execution_id = hook.start_execution(JOB, ["7200"]).id

    async def run() -> None:
        waiting = asyncio.ensure_future(
            first_event(HopsworksExecutionTrigger(job_name=JOB, execution_id=execution_id))
        )
        await asyncio.sleep(seconds)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting

    emu.reset_counters()
    asyncio.run(run())
    count = emu.request_counts().get(GET_EXECUTION, 0)
    stop_and_wait(emu, hook, execution_id)
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0, help="virtual length of the execution")
    parser.add_argument("--real-seconds", type=float, default=40.0, help="length of the real-time check")
    args = parser.parse_args()
    seconds = args.hours * 3600
    banner("status requests per execution-hour", poll_interval=f"{DEFAULT_POLL_INTERVAL:g} s (default)")

    with emulator() as emu:
        python_job(JOB, SLEEP_JOB)
        hook = HopsworksHook()
        began = time.monotonic()
        counted, event = virtual_hour(emu, hook, seconds)
        print(
            f"   virtual {args.hours:g} h: {counted} status GETs counted by the emulator "
            f"(event {event['status']}/{event['state']}, {time.monotonic() - began:.1f} s of real time)"
        )
        predicted = predicted_polls(seconds)
        print(f"   the schedule (waiting.poll_intervals, cap {DEFAULT_POLL_INTERVAL:g} s): {predicted} polls")
        if args.real_seconds > 0:
            real = real_time(emu, hook, args.real_seconds)
            expected = predicted_polls(args.real_seconds)
            print(
                f"   real time {args.real_seconds:g} s: {real} status GETs; the schedule says {expected} "
                "(fewer is expected: each request takes time)"
            )
    per_hour = counted / args.hours
    ok = result(
        "status requests per execution-hour, defaults",
        f"{per_hour:.0f} (virtual clock, real requests)",
        "<= 400",
        per_hour <= 400 and event["state"] == "KILLED",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
