"""Chaos: many pipeline runs against an emulator that faults every API route, checked afterwards.

Usage: ``python benchmarks/chaos.py [--runs 200] [--concurrency 40] [--stall 5] [--seed 1]``

The runs are those of ``tests/reliability/chaos_pipeline.py`` (the example pipeline's
shape: create three jobs from a local script, a job in the worker, a deferred one, a
deferrable sensor, a last job that fails on purpose in every fourth run; Airflow's
retries). Faults on every route: 20 % 503, 5 % 429 with ``Retry-After: 1``, 5 % dropped
connections (2 of them after the server acted), 2 % stalls of ``--stall`` seconds. Unlike
the quick test, nothing is scaled: the provider's default retry policy, 5 s stalls.

After the runs (with the faults cleared) every run is checked: each task ended as its
job deserves, the emulator started exactly the executions the task tries say they
started (one per try that did not reattach), and every stdout line of every execution
(and stderr of the failed ones) is in its task's log. The result line is PASS only when
no run has a problem. With the real back-off a run spends most of its time waiting, so
runs go 40 at a time; 200 take about ten minutes.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

# _common isolates Airflow's configuration, so it comes before anything that may import Airflow.
from _common import REPO_ROOT, banner, emulator, result

sys.path.insert(0, str(REPO_ROOT))

# isort: split
from tests.reliability import chaos_pipeline


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=40, help="runs at a time (mostly waiting)")
    parser.add_argument("--stall", type=float, default=5.0, help="length of the injected stalls, seconds")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    banner("chaos", runs=args.runs, concurrency=args.concurrency, stall=f"{args.stall:g} s", seed=args.seed)

    with emulator() as emu, tempfile.TemporaryDirectory() as folder:
        script = chaos_pipeline.write_script(Path(folder))
        emu.set_faults(chaos_pipeline.fault_rules(args.stall), seed=args.seed)
        began = time.monotonic()

        def progress(done: int) -> None:
            if done % 10 == 0 or done == args.runs:
                print(f"   {done}/{args.runs} runs done after {time.monotonic() - began:.0f} s", flush=True)

        records = chaos_pipeline.run_many(args.runs, script, concurrency=args.concurrency, progress=progress)
        wall = time.monotonic() - began
        faults = emu.faults()
        requests = sum(emu.request_counts().values())
        emu.clear_faults()
        problems = chaos_pipeline.check_all(records, emu)

    tries = collections.Counter(len(t.tries) for r in records for t in r.tasks.values())
    outcomes = collections.Counter(a.outcome for r in records for t in r.tasks.values() for a in t.tries)
    deliberate = sum(r.fail_evaluation for r in records)
    injected = faults["injected"]
    print(f"   {args.runs} runs in {wall:.0f} s; {requests:,} API requests, {injected:,} faults injected")
    print(f"   task tries per task: {dict(sorted(tries.items()))}; try outcomes: {dict(outcomes)}")
    print(f"   runs whose evaluation job fails on purpose: {deliberate}")
    for problem in problems[:20]:
        print(f"   PROBLEM {problem}")
    if len(problems) > 20:
        print(f"   ... and {len(problems) - 20} more problems")
    ok = result(
        f"chaos, {args.runs} pipeline runs",
        f"{len(problems)} problems ({faults['injected']:,} faults in {requests:,} requests)",
        "0 problems",
        not problems,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
