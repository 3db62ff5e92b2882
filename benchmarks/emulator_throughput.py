"""Emulator start-up time and execution-status GET throughput (not a test; prints figures).

Usage: ``python benchmarks/emulator_throughput.py [--seconds 5] [--concurrency 16] [--starts 3]``

* start-up: wall time from launching ``python -m airflow_provider_hopsjobs.emulator`` to the
  first successful ``GET /project/getProjectInfo/demo``, over a few fresh data directories;
* throughput: ``GET /project/{id}/jobs/{name}/executions/{id}`` (what every poller sends)
  from an aiohttp client with keep-alive connections. On Linux the emulator is pinned to one
  CPU and the client to another, so the figure is "per emulator core".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
import requests

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle


def measure_start(starts: int) -> list[float]:
    timings = []
    for _ in range(starts):
        with tempfile.TemporaryDirectory() as data_dir:
            began = time.perf_counter()
            handle = EmulatorHandle(data_dir).start()
            try:
                response = requests.get(
                    f"{handle.api_url}/project/getProjectInfo/demo",
                    headers={"Authorization": f"ApiKey {handle.api_key}"},
                    timeout=10,
                )
                response.raise_for_status()
                timings.append(time.perf_counter() - began)
            finally:
                handle.stop()
    return timings


def prepare(handle: EmulatorHandle) -> str:
    """Create a job with one finished execution; return the execution's URL."""
    session = requests.Session()
    session.headers["Authorization"] = f"ApiKey {handle.api_key}"
    project = f"{handle.api_url}/project/{handle.project_id}"
    script = b"print('benchmark')\n"
    session.post(
        f"{project}/dataset/upload/Resources%2Fbench",
        files={"file": ("bench.py", script)},
        data={
            "flowChunkNumber": "1",
            "flowTotalChunks": "1",
            "flowIdentifier": "bench",
            "flowFilename": "bench.py",
            "flowTotalSize": str(len(script)),
        },
        timeout=10,
    ).raise_for_status()
    session.put(
        f"{project}/jobs/bench",
        json={"type": "pythonJobConfiguration", "appPath": "Resources/bench/bench.py"},
        timeout=10,
    ).raise_for_status()
    execution = session.post(
        f"{project}/jobs/bench/executions", data="", headers={"Content-Type": "text/plain"}, timeout=10
    ).json()
    url = f"{project}/jobs/bench/executions/{execution['id']}"
    while session.get(url, timeout=10).json()["state"] != "FINISHED":
        time.sleep(0.05)
    return url


async def hammer(url: str, api_key: str, seconds: float, concurrency: int) -> tuple[int, list[float]]:
    headers = {"Authorization": f"ApiKey {api_key}"}
    latencies: list[float] = []
    count = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal count
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"unexpected status {response.status}")
                latencies.append(time.perf_counter() - began)
                count += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count, latencies


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux ``/proc``), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pin(pid: int, cpu: int) -> bool:
    if not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2:
        return False
    os.sched_setaffinity(pid, {cpu})
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()

    starts = measure_start(args.starts)
    print(
        f"start-up to first answer: median {statistics.median(starts):.3f} s, "
        f"min {min(starts):.3f} s, max {max(starts):.3f} s over {len(starts)} starts"
    )

    with tempfile.TemporaryDirectory() as data_dir, EmulatorHandle(Path(data_dir)) as handle:
        url = prepare(handle)
        assert handle._proc is not None
        pinned = pin(handle._proc.pid, 0) and pin(0, 1)
        asyncio.run(hammer(url, handle.api_key, 1.0, args.concurrency))  # warm-up
        cpu_before = cpu_seconds(handle._proc.pid)
        count, latencies = asyncio.run(hammer(url, handle.api_key, args.seconds, args.concurrency))
        cpu_after = cpu_seconds(handle._proc.pid)
        latencies.sort()
        p50 = latencies[len(latencies) // 2] * 1000
        p99 = latencies[int(len(latencies) * 0.99)] * 1000
        print(
            f"execution status GET: {count / args.seconds:.0f} requests/s "
            f"({'emulator pinned to one CPU' if pinned else 'not pinned'}, concurrency {args.concurrency}), "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )
        if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
            per_request = (cpu_after - cpu_before) / count
            print(
                f"emulator CPU per status GET: {per_request * 1e6:.0f} us "
                f"(= {1 / per_request:.0f} requests/s for one otherwise idle core)"
            )


if __name__ == "__main__":
    main()
