"""CPU per status poll: the trigger against a bare aiohttp GET + JSON loop, same server, same process.

Usage: ``python benchmarks/poll_cpu.py [--pollers 1000] [--rounds 3] [--seconds 8] [--warmup 3]``

Both sides run ``--pollers`` concurrent pollers that poll a running execution on a fresh
emulator about once a second, in one event loop:

* *bare*: ``session.get(url)`` + ``await response.json()`` + ``asyncio.sleep(1)`` with one
  shared ``aiohttp.ClientSession`` (the same connection pool size as the provider's);
* *trigger*: ``HopsworksExecutionTrigger(poll_interval=1)`` instances run as the triggerer
  runs them (their ``run()`` generators), with the provider's shared session; their waits
  began an hour ago, so they poll at the 1 s cap from the start (a young wait polls
  faster for its first seconds).

The rounds alternate (bare, trigger, bare, trigger ...) so both see the same machine
state. Each round lets the pollers warm up, then measures this process's CPU time
(``getrusage``) over a window and divides it by the polls the emulator counted in that
window. On Linux the emulator is pinned to one CPU and this process to the other.

Goal: trigger / bare <= 1.5 (per poll, median of the rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time
from collections.abc import Awaitable, Callable

# _common isolates Airflow's configuration, so it comes before anything that may import Airflow.
from _common import SLEEP_JOB, banner, cpu_seconds, emulator, pin, python_job, result

# isort: split
import aiohttp

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks import async_session
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger

JOB = "bench_poll"
GET_EXECUTION = "GET /hopsworks-api/api/project/{id}/jobs/{name}/executions/{execution_id}"


def polls_counted(emu: EmulatorHandle) -> int:
    counts = emu.request_counts()
    return sum(n for route, n in counts.items() if route.startswith("GET ") and route.endswith("}"))


async def bare(emu: EmulatorHandle, urls: list[str], stop: asyncio.Event) -> None:
    headers = {"Authorization": f"ApiKey {emu.api_key}"}
    connector = aiohttp.TCPConnector(limit=async_session.POOL_LIMIT)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def poller(url: str) -> None:
            while not stop.is_set():
                async with session.get(url) as response:
                    body = await response.json()
                    if body.get("state") != "RUNNING":
                        raise RuntimeError(f"unexpected answer {body}")
                await asyncio.sleep(1.0)

        await asyncio.gather(*(poller(u) for u in urls))


async def triggers(emu: EmulatorHandle, execution_ids: list[int], stop: asyncio.Event) -> None:
    async def poller(execution_id: int) -> None:
        # A wait begun an hour ago polls at its cap from the start: every second, like the bare loop.
        trigger = HopsworksExecutionTrigger(
            job_name=JOB, execution_id=execution_id, poll_interval=1.0, wait_started_at=time.time() - 3600
        )
        agen = trigger.run()
        waiting = asyncio.ensure_future(agen.__anext__())
        await stop.wait()
        if waiting.done():
            raise RuntimeError(f"a trigger fired: {waiting.result().payload}")
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        await agen.aclose()

    await asyncio.gather(*(poller(e) for e in execution_ids))
    await async_session.close_sessions()


def measure(
    emu: EmulatorHandle,
    run: Callable[[asyncio.Event], Awaitable[None]],
    warmup: float,
    seconds: float,
) -> tuple[float, int]:
    """CPU seconds per poll over the window, and the polls in it."""

    async def main() -> tuple[float, int]:
        stop = asyncio.Event()
        task = asyncio.ensure_future(run(stop))
        await asyncio.sleep(warmup)
        await asyncio.to_thread(emu.reset_counters)
        cpu0 = cpu_seconds()
        await asyncio.sleep(seconds)
        cpu1 = cpu_seconds()
        polls = await asyncio.to_thread(polls_counted, emu)
        stop.set()
        await task
        return (cpu1 - cpu0) / polls, polls

    return asyncio.run(main())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pollers", type=int, default=1000)
    parser.add_argument("--executions", type=int, default=10, help="running executions the pollers share")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured window per round")
    parser.add_argument("--warmup", type=float, default=3.0)
    args = parser.parse_args()
    banner("CPU per poll", pollers=args.pollers, rounds=args.rounds, window=f"{args.seconds:g} s")

    with emulator() as emu:
        python_job(JOB, SLEEP_JOB)
        hook = HopsworksHook()
        running = [hook.start_execution(JOB, ["3600"]).id for _ in range(args.executions)]
        ids = [running[i % len(running)] for i in range(args.pollers)]
        urls = [f"{emu.api_url}/project/{emu.project_id}/jobs/{JOB}/executions/{e}" for e in ids]
        assert emu._proc is not None
        pinned = pin(emu._proc.pid, 0) and pin(os.getpid(), 1)
        print(f"   emulator and benchmark {'pinned to separate CPUs' if pinned else 'not pinned'}")

        figures: dict[str, list[float]] = {"bare": [], "trigger": []}
        for number in range(1, args.rounds + 1):
            for name, run in (
                ("bare", lambda stop: bare(emu, urls, stop)),
                ("trigger", lambda stop: triggers(emu, ids, stop)),
            ):
                began = time.monotonic()
                per_poll, polls = measure(emu, run, args.warmup, args.seconds)
                figures[name].append(per_poll)
                print(
                    f"   round {number} {name:<7}: {per_poll * 1e3:.3f} ms CPU per poll "
                    f"({polls / args.seconds:.0f} polls/s, {time.monotonic() - began:.0f} s)",
                    flush=True,
                )
        for eid in running:
            hook.stop_execution(JOB, eid)

    ratios = [t / b for b, t in zip(figures["bare"], figures["trigger"], strict=True)]
    bare_ms = statistics.median(figures["bare"]) * 1e3
    trigger_ms = statistics.median(figures["trigger"]) * 1e3
    ratio = trigger_ms / bare_ms
    print(f"   bare    per poll: {', '.join(f'{v * 1e3:.3f}' for v in figures['bare'])} ms")
    print(f"   trigger per poll: {', '.join(f'{v * 1e3:.3f}' for v in figures['trigger'])} ms")
    print(f"   ratio per round : {', '.join(f'{r:.2f}' for r in ratios)}")
    ok = result(
        "CPU per poll, trigger vs bare aiohttp",
        f"{trigger_ms:.3f} ms vs {bare_ms:.3f} ms = {ratio:.2f}x",
        "<= 1.5x",
        ratio <= 1.5,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
