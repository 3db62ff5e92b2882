"""Job stdout into the task log: throughput and the worker's peak memory, 100 MB by default.

Usage: ``python benchmarks/log_throughput.py [--megabytes 100] [--line-bytes 100] [--repeats 3]``

A PYTHON job on a fresh emulator prints ``--megabytes`` of numbered lines. Once it has
finished and its log is aggregated, the copy into the task log runs the way it does on an
Airflow 3 worker: in a *task* process (a child of this script) doing what the operator
does, i.e. ``task_logs.write_execution_log`` fed by ``HopsworksHook.iter_execution_log``
(which streams a log over Hopsworks' 1 MB inline limit from the dataset API), logging
through the operator's own logger, with the Task SDK's logging set up exactly as a task
process has it (``configure_logging(json_output=True, sending_to_supervisor=True)``, JSON
records on a socket to the supervisor). The copy runs twice:

1. *worker log fetch* (the goal): this script only drains the socket into a file, so the
   figure is the task process's own: the provider's fetch and writer plus the Task SDK's
   logging in the task;
2. *end to end*: this script is the supervisor, with Airflow's own reader of that socket
   (``make_buffered_socket_reader`` + ``process_log_messages_from_subprocess``) writing
   the log file through Airflow's log processors, secret masking included. That reader
   costs about twice the task process's CPU (the masking regex over every byte, 4 KB
   socket reads) and sets the pace; it is Airflow's, the same for any operator.

Throughput is the job's stdout bytes divided by the time from the start of the copy to
the last byte or record landing. Peak memory is the task process's peak RSS during the
copy minus its RSS just before (the kernel's high-water mark, reset through
``/proc/self/clear_refs``). Every line is checked, in order, in what landed.

The worker log fetch runs ``--repeats`` times (the machine is shared; the median counts).

Goals (worker log fetch): >= 50 MB/s, <= 64 MB peak RSS added.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    banner,
    cpu_seconds,
    emulator,
    process_cpu_seconds,
    python_job,
    result,
    rss_bytes,
    wait_for,
)

JOB = "bench_print"
PRINTER = """
    import sys
    total, width = int(sys.argv[1]), int(sys.argv[2])
    out = sys.stdout.buffer
    number = written = 0
    while written < total:
        lines = []
        for _ in range(1000):
            line = f"{number:010d} " + "x" * (width - 12)
            lines.append(line)
            number += 1
        block = ("\\n".join(lines) + "\\n").encode()
        out.write(block)
        written += len(block)
    out.flush()
"""


def peak_rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc")


def child(fd: int, execution_id: int) -> None:
    """The task process: copy the log the operator's way; report timings on stdout."""
    from airflow.sdk.log import configure_logging

    configure_logging(json_output=True, output=os.fdopen(fd, "wb", buffering=0), sending_to_supervisor=True)

    from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
    from airflow_provider_hopsjobs.operators.jobs import HopsworksRunJobOperator
    from airflow_provider_hopsjobs.task_logs import write_execution_log

    operator = HopsworksRunJobOperator(task_id="print", job_name=JOB)
    hook = HopsworksHook()
    hook.get_execution(JOB, execution_id)  # connection read, project resolved: not part of the copy
    before = rss_bytes()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS high-water mark
    cpu_before = cpu_seconds()
    began = time.monotonic()
    write_execution_log(hook, JOB, execution_id, "out", log=operator.log)
    ended = time.monotonic()
    report = {
        "began": began,
        "ended": ended,
        "rss_before": before,
        "rss_peak": peak_rss_bytes(),
        "cpu": cpu_seconds() - cpu_before,
    }
    print(json.dumps(report), flush=True)


def start_task(execution_id: int) -> tuple[subprocess.Popen[bytes], socket.socket]:
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", str(theirs.fileno()), str(execution_id)],
        pass_fds=[theirs.fileno()],
        stdout=subprocess.PIPE,
    )
    theirs.close()
    return proc, ours


def finish_task(proc: subprocess.Popen[bytes]) -> dict[str, float]:
    out, _ = proc.communicate(timeout=60)
    if proc.returncode != 0:
        raise SystemExit(f"the task process failed with exit code {proc.returncode}")
    report: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    return report


def drain(execution_id: int, sink: Path) -> tuple[dict[str, float], float]:
    """Run the task process, its log socket simply drained; return its report and the last byte's time."""
    proc, ours = start_task(execution_id)
    with sink.open("wb") as out:
        while chunk := ours.recv(1 << 20):
            out.write(chunk)
    last_byte = time.monotonic()
    ours.close()
    return finish_task(proc), last_byte


def supervise(execution_id: int, log_path: Path, api_key: str) -> tuple[dict[str, float], float, float]:
    """Run the task process and be its supervisor; return its report and when the last record landed."""
    from airflow.sdk.execution_time.supervisor import (
        _configure_logging,
        make_buffered_socket_reader,
        process_log_messages_from_subprocess,
    )
    from airflow.sdk.log import mask_secret

    mask_secret(api_key)  # the supervisor masks the connection's password in every record
    logger, log_file = _configure_logging(str(log_path), None)  # type: ignore[arg-type]
    proc, ours = start_task(execution_id)
    cpu_before = cpu_seconds()
    done = False

    def on_close(sock: socket.socket) -> None:
        nonlocal done
        done = True

    callback, _ = make_buffered_socket_reader(
        process_log_messages_from_subprocess((logger,)), on_close=on_close
    )
    selector = selectors.DefaultSelector()
    selector.register(ours, selectors.EVENT_READ)
    while not done:
        events = selector.select(timeout=1)
        for _key, _ in events:
            if not callback(ours):
                done = True  # end of stream: the task process closed its end
        if not events and proc.poll() is not None:
            break
    last_record = time.monotonic()
    supervisor_cpu = cpu_seconds() - cpu_before
    log_file.close()
    ours.close()
    return finish_task(proc), last_record, supervisor_cpu


def check(path: Path, expected_lines: int, expected_bytes: int) -> None:
    """Every line of the job, in order, between the frame lines of JSON records in ``path``."""
    inside = False
    number = 0
    size = 0
    with path.open("rb") as handle:
        for raw in handle:
            event = json.loads(raw).get("event", "")
            if event.startswith("----- Hopsworks job") and event.endswith("stdout -----"):
                inside = True
                continue
            if inside and event.startswith("----- Hopsworks job") and "end (" in event:
                break
            if inside:
                for line in event.split("\n"):
                    if int(line[:10]) != number:
                        raise SystemExit(f"{path.name}: line {number} missing or out of order ({line[:10]})")
                    number += 1
                    size += len(line) + 1
    if (number, size) != (expected_lines, expected_bytes):
        raise SystemExit(
            f"{path.name}: {number} lines / {size} bytes, the job printed {expected_lines} / {expected_bytes}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=100.0)
    parser.add_argument("--line-bytes", type=int, default=100, help="length of each printed line")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the worker log fetch")
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    total = int(args.megabytes * 1_000_000)
    banner("job stdout into the task log", megabytes=args.megabytes, line_bytes=args.line_bytes)

    from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

    with emulator() as emu, tempfile.TemporaryDirectory() as folder:
        python_job(JOB, PRINTER)
        hook = HopsworksHook()
        execution = hook.start_execution(JOB, [str(total), str(args.line_bytes)])
        eid = execution.id
        finished = wait_for(
            lambda: (e := hook.get_execution(JOB, eid)).stdout_path and e, 300, "the job's log"
        )
        if finished.final_status != "SUCCEEDED":
            raise SystemExit(f"the printing job ended {finished.state}/{finished.final_status}")
        lines_printed = -(-total // (args.line_bytes * 1000)) * 1000
        bytes_printed = lines_printed * args.line_bytes

        # 1. The worker log fetch: the task process, its log socket simply drained.
        sink = Path(folder) / "task-records.jsonl"
        fetches = []
        for _ in range(max(1, args.repeats)):
            fetch, last_byte = drain(eid, sink)
            check(sink, lines_printed, bytes_printed)
            fetches.append((bytes_printed / 1e6 / (last_byte - fetch["began"]), fetch))
        # 2. End to end, through Airflow's supervisor into the task's log file.
        log_path = Path(folder) / "attempt=1.log"
        assert emu._proc is not None
        emulator_cpu = process_cpu_seconds(emu._proc.pid)
        report, last_record, supervisor_cpu = supervise(eid, log_path, emu.api_key)
        emulator_cpu = process_cpu_seconds(emu._proc.pid) - emulator_cpu
        check(log_path, lines_printed, bytes_printed)

    megabytes = bytes_printed / 1e6
    fetch_rate, fetch = sorted(fetches, key=lambda f: f[0])[len(fetches) // 2]  # the median run
    added = max(f["rss_peak"] - f["rss_before"] for _, f in fetches) / 2**20
    end_to_end = megabytes / (last_record - report["began"])
    print(f"   {megabytes:.1f} MB in {lines_printed:,} lines, every line checked in order where it landed")
    print(f"   worker log fetch, each run: {', '.join(f'{rate:.0f}' for rate, _ in fetches)} MB/s")
    print(
        f"   worker log fetch (median run): {fetch_rate:.0f} MB/s, task process CPU {fetch['cpu']:.2f} s, "
        f"RSS {fetch['rss_before'] / 2**20:.0f} MiB before the copy; peak added (worst run) {added:.1f} MiB"
    )
    print(
        f"   end to end into the log file: {end_to_end:.0f} MB/s; CPU: task process {report['cpu']:.2f} s, "
        f"Airflow's supervisor {supervisor_cpu:.2f} s, emulator serving the file {emulator_cpu:.2f} s "
        f"({os.cpu_count()} CPUs, shared)"
    )
    ok = result(
        "worker log fetch throughput",
        f"{fetch_rate:.0f} MB/s (median of {len(fetches)})",
        ">= 50 MB/s",
        fetch_rate >= 50,
    )
    ok &= result("worker log fetch peak RSS added", f"{added:.1f} MiB", "<= 64 MB", added <= 64)
    print(
        f"INFO end to end through Airflow's supervisor into the log file: {end_to_end:.0f} MB/s "
        "(no goal: paced by Airflow's own log reader)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
