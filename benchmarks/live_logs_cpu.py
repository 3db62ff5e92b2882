"""CPU per status poll with live logs on vs off: the triggerer, and the worker in sync mode.

Usage: ``python benchmarks/live_logs_cpu.py [--pollers 1000] [--workers 50] [--rounds 3]``

The ``benchmarks/poll_cpu.py`` method: on a fresh emulator, ``--executions`` running PYTHON
jobs (started anew, two seconds before each measurement) each print a line every 100 ms;
pollers watch them at their 1 s cap (waits begun an hour ago), and this process's CPU time
over a window is divided by the status polls the emulator counted in it. Rounds alternate
off/on so both see the same machine state.

* triggerer: ``--pollers`` ``HopsworksExecutionTrigger`` instances in one event loop, as the
  triggerer runs them, ``live_logs`` off or on; their log (state changes, and with live
  logs every new line, one record each) goes to a file, as a triggerer's does;
* worker: ``--workers`` threads each running the synchronous wait
  (``waiting.wait_for_execution``) with its own hook, with or without a ``LiveLog``.

With live logs on, each poll also reads the pod-log tail (one more request, up to
``live_log_lines`` lines) and writes the new lines. Reported: CPU per status poll, on/off.
No goal is asserted: the figure decides the default (see the README).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable

from _common import banner, cpu_seconds, emulator, pin, python_job, result

from airflow_provider_hopsjobs.clock import Clock
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks import async_session
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.live_logs import LiveLog
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger
from airflow_provider_hopsjobs.waiting import ExecutionWatch, WaitPolicy, wait_for_execution

JOB = "bench_live_cpu"
PRINTER = """
    import time
    i = 0
    while True:
        print(f"progress line {i:07d}: processed a batch of rows", flush=True)
        i += 1
        time.sleep(0.1)
"""


def polls_counted(emu: EmulatorHandle) -> int:
    """Status polls only (``GET .../executions/{execution_id}``), not the pod-log reads."""
    return sum(
        n for route, n in emu.request_counts().items() if route.startswith("GET ") and route.endswith("}")
    )


def file_logger(name: str, path: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger


async def triggers(ids: list[int], live: bool, logger: logging.Logger, stop: asyncio.Event) -> None:
    async def poller(execution_id: int) -> None:
        trigger = HopsworksExecutionTrigger(
            job_name=JOB,
            execution_id=execution_id,
            poll_interval=1.0,
            wait_started_at=time.time() - 3600,
            live_logs=live,
        )
        trigger._log = logger
        agen = trigger.run()
        waiting = asyncio.ensure_future(agen.__anext__())
        await stop.wait()
        if waiting.done():
            raise RuntimeError(f"a trigger fired: {waiting.result().payload}")
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        await agen.aclose()

    await asyncio.gather(*(poller(e) for e in ids))
    await async_session.close_sessions()


def measure_async(
    emu: EmulatorHandle, run: Callable[[asyncio.Event], Awaitable[None]], warmup: float, seconds: float
) -> tuple[float, int]:
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


class _Stopped(Exception):
    pass


class StoppableClock(Clock):
    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop

    def sleep(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise _Stopped


def measure_sync(
    emu: EmulatorHandle, ids: list[int], live: bool, logger: logging.Logger, *, warmup: float, seconds: float
) -> tuple[float, int]:
    stop = threading.Event()

    def worker(execution_id: int) -> None:
        hook = HopsworksHook()
        watch = ExecutionWatch(
            job_name=JOB,
            execution_id=execution_id,
            policy=WaitPolicy(1.0),
            clock=StoppableClock(stop),
            log=logger,
            waited=3600,
        )
        live_log = LiveLog(JOB, execution_id, log=logger) if live else None
        with contextlib.suppress(_Stopped):
            event = wait_for_execution(hook, watch, live_log)
            raise RuntimeError(f"a wait ended: {event}")
        hook.close()

    threads = [threading.Thread(target=worker, args=(e,)) for e in ids]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    emu.reset_counters()
    cpu0 = cpu_seconds()
    time.sleep(seconds)
    cpu1 = cpu_seconds()
    polls = polls_counted(emu)
    stop.set()
    for thread in threads:
        thread.join()
    return (cpu1 - cpu0) / polls, polls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pollers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--executions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=4.0)
    args = parser.parse_args()
    banner(
        "CPU per poll, live logs on vs off", pollers=args.pollers, workers=args.workers, rounds=args.rounds
    )
    log_dir = tempfile.mkdtemp(prefix="hopsjobs-bench-live-")
    logger = file_logger("bench.live", os.path.join(log_dir, "trigger.log"))
    figures: dict[str, list[float]] = {}
    with emulator() as emu:
        python_job(JOB, PRINTER)
        hook = HopsworksHook()
        assert emu._proc is not None
        pinned = pin(emu._proc.pid, 0) and pin(os.getpid(), 1)
        print(f"   emulator and benchmark {'pinned to separate CPUs' if pinned else 'not pinned'}")
        running: list[int] = []

        def fresh() -> tuple[list[int], list[int]]:
            """New executions for each measurement: every side sees jobs of the same age."""
            for eid in running:
                hook.stop_execution(JOB, eid)
            running[:] = [hook.start_execution(JOB).id for _ in range(args.executions)]
            time.sleep(2)  # some output before the first tail
            ids = [running[i % len(running)] for i in range(args.pollers)]
            return ids, [running[i % len(running)] for i in range(args.workers)]

        for number in range(1, args.rounds + 1):
            for live in (False, True):
                ids, _ = fresh()
                name = f"triggerer {'on' if live else 'off'}"
                per_poll, polls = measure_async(
                    emu,
                    lambda stop, ids=ids, live=live: triggers(ids, live, logger, stop),
                    args.warmup,
                    args.seconds,
                )
                figures.setdefault(name, []).append(per_poll)
                print(
                    f"   round {number} {name:<14}: {per_poll * 1e3:.3f} ms CPU per poll "
                    f"({polls / args.seconds:.0f} polls/s)",
                    flush=True,
                )
            for live in (False, True):
                _, worker_ids = fresh()
                name = f"worker {'on' if live else 'off'}"
                per_poll, polls = measure_sync(
                    emu, worker_ids, live, logger, warmup=args.warmup, seconds=args.seconds
                )
                figures.setdefault(name, []).append(per_poll)
                print(
                    f"   round {number} {name:<14}: {per_poll * 1e3:.3f} ms CPU per poll "
                    f"({polls / args.seconds:.0f} polls/s)",
                    flush=True,
                )
        for eid in running:
            hook.stop_execution(JOB, eid)
    size = os.path.getsize(os.path.join(log_dir, "trigger.log"))
    print(f"   log written: {size / 1e6:.1f} MB")
    ok = True
    for side in ("triggerer", "worker"):
        off = statistics.median(figures[f"{side} off"]) * 1e3
        on = statistics.median(figures[f"{side} on"]) * 1e3
        ok &= result(
            f"CPU per poll with live logs, {side}",
            f"{on:.3f} ms on vs {off:.3f} ms off = {on / off:.2f}x",
            "reported",
            True,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
