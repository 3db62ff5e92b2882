"""Live logs, deferred: how late a printed line reaches the log, and that none is lost or doubled.

Usage: ``python benchmarks/live_logs.py [--seconds 60] [--every 0.1] [--poll-interval 30]``

A real PYTHON job on a fresh emulator (playing Hopsworks 5.1+) prints a numbered,
timestamped line every ``--every`` seconds for ``--seconds``. The real
``HopsworksExecutionTrigger`` with ``live_logs=True`` and the operator's defaults
(``poll_interval=30``; its adaptive schedule polls every 0.5-3 s over a minute) waits on
it, as in deferrable mode; its log records are captured with their wall-clock time. When
its event arrives, the worker's final copy (``task_logs.write_execution_logs``, fed the
event's live progress) runs as ``execute_complete`` would.

* lag: record time minus the time the job printed the line (same machine clock);
* "one poll": each line must appear at the first pod-log read after it was printed (a
  read that started less than 50 ms after the print may miss it: the emulator reads the
  file the job writes);
* the live lines followed by the final copy must be exactly the lines printed, in order.

Goals: every line shown by the first read after it (or the one after, within 50 ms);
zero lines duplicated or lost.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import logging
import re
import statistics
import time
from typing import Any

from _common import banner, describe, emulator, python_job, result

from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.live_logs import LiveProgress
from airflow_provider_hopsjobs.task_logs import LogSelection, write_execution_logs
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger

JOB = "bench_live"
PRINTER = """
    import sys, time
    seconds, every = float(sys.argv[1]), float(sys.argv[2])
    for i in range(int(seconds / every)):
        print(f"LINE {i:05d} {time.time():.6f}", flush=True)
        time.sleep(every)
"""
LINE = re.compile(r"LINE (\d{5}) (\d+\.\d+)")


class Recorder(logging.Handler):
    """Every record with the wall-clock time it was emitted."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((time.time(), record.getMessage()))


def recorded_logger(name: str) -> tuple[logging.Logger, Recorder]:
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    recorder = Recorder()
    logger.addHandler(recorder)
    return logger, recorder


async def watch_live(execution_id: int, poll_interval: float) -> tuple[dict[str, Any], Recorder, list[float]]:
    trigger = HopsworksExecutionTrigger(
        job_name=JOB, execution_id=execution_id, poll_interval=poll_interval, live_logs=True
    )
    logger, recorder = recorded_logger("bench.trigger")
    trigger._log = logger  # the trigger's own logger, captured
    reads: list[float] = []
    real_read = trigger.hook.async_get_pod_logs

    async def timed_read(*args: Any, **kwargs: Any) -> Any:
        reads.append(time.time())
        return await real_read(*args, **kwargs)

    trigger.hook.async_get_pod_logs = timed_read  # type: ignore[method-assign]
    async for event in trigger.run():
        return dict(event.payload), recorder, reads
    raise RuntimeError("the trigger ended without an event")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=0.1)
    parser.add_argument(
        "--poll-interval", type=float, default=30.0, help="the trigger's cap (operator default)"
    )
    args = parser.parse_args()
    banner("Live logs, deferred", seconds=args.seconds, every=args.every, poll_interval=args.poll_interval)
    with emulator() as _emu:
        python_job(JOB, PRINTER)
        hook = HopsworksHook()
        execution = hook.start_execution(JOB, [str(args.seconds), str(args.every)])
        event, live_records, reads = asyncio.run(watch_live(execution.id, args.poll_interval))
        progress = LiveProgress.from_dict(event.get("live_log"))
        worker_log, final_records = recorded_logger("bench.worker")
        write_execution_logs(
            hook, JOB, execution.id, succeeded=True, selection=LogSelection(), log=worker_log, live=progress
        )

    printed = int(args.seconds / args.every)
    live = [(t, m) for t, m in live_records.records if LINE.fullmatch(m)]
    final_lines = [line for _, m in final_records.records for line in m.split("\n") if LINE.fullmatch(line)]
    lags = [t - float(LINE.fullmatch(m).group(2)) for t, m in live]  # type: ignore[union-attr]
    late = 0
    for t_shown, message in live:
        t_printed = float(LINE.fullmatch(message).group(2))  # type: ignore[union-attr]
        first_read = bisect.bisect_right(reads, t_printed + 0.05)
        if first_read < len(reads) - 1 and reads[first_read + 1] <= t_shown:
            late += 1  # a later read than the first one after the print showed it
    combined = [m for _, m in live] + final_lines
    numbers = [int(LINE.fullmatch(m).group(1)) for m in combined]  # type: ignore[union-attr]
    duplicated = len(numbers) - len(set(numbers))
    lost = printed - len(set(numbers))
    in_order = numbers == sorted(numbers)
    gaps = [b - a for a, b in itertools.pairwise(reads)]
    print(f"   event: {event['status']}, live progress {event.get('live_log')}")
    print(f"   lines printed {printed}, shown live {len(live)}, in the final copy {len(final_lines)}")
    print(f"   pod-log reads {len(reads)}, gap between reads: {describe(gaps)}")
    print(f"   lag print -> task log: {describe(lags)}; p90 {sorted(lags)[int(len(lags) * 0.9)]:.3f} s")
    print(f"   lines shown later than the first read after them: {late}")
    ok_lag = result(
        "Live log lag (deferred)",
        f"median {statistics.median(lags):.3f} s, {late} line(s) later than one read",
        "every line at the first read after it",
        late == 0,
    )
    ok_exact = result(
        "Live + final copy",
        f"{duplicated} duplicated, {lost} lost, {'in order' if in_order else 'OUT OF ORDER'}",
        "0 duplicated, 0 lost",
        duplicated == 0 and lost == 0 and in_order,
    )
    return 0 if ok_lag and ok_exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
