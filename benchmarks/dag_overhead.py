"""Three chained 2 s jobs through ``dag.test()``: what the provider adds to the jobs' own time.

Usage: ``python benchmarks/dag_overhead.py [--job-seconds 2] [--repeats 2]``

Two DAGs are written to a throw-away DAGs folder and run with ``dag.test()`` in this one
process, against a fresh emulator:

* ``bench_jobs_sync`` / ``bench_jobs_deferred``: three ``HopsworksRunJobOperator`` tasks in
  a chain, each running a PYTHON job that sleeps ``--job-seconds`` (operator defaults
  otherwise; the second DAG sets ``deferrable=True``, whose trigger ``dag.test()`` runs
  in-line);
* ``bench_baseline``: the same chain of three tasks that do nothing (``@task``).

The first ``dag.test()`` of a process pays Airflow's fixed start-up (the in-process
execution API, about 7 s here); it runs the baseline once as a warm-up and reports it.
Then, per repeat:

    overhead = wall(jobs DAG) - sum(jobs' own runtime) - wall(baseline DAG)

where a job's own runtime is its execution's submission-to-terminal time in the
emulator's transition history, i.e. what the same jobs cost without Airflow, and the
baseline is what Airflow itself costs for three chained tasks.

Goal: overhead <= 3 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import textwrap
import time
from pathlib import Path

_DAGS = Path(tempfile.mkdtemp(prefix="hopsjobs-bench-dags-"))
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_DAGS)

# _common isolates Airflow's configuration, so it comes before anything that may import Airflow.
from _common import SLEEP_JOB, banner, emulator, python_job, result  # noqa: E402

# isort: split
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle  # noqa: E402
from airflow_provider_hopsjobs.execution import TERMINAL_STATES  # noqa: E402

JOBS = ("bench_chain_a", "bench_chain_b", "bench_chain_c")

DAG_FILE = """
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_hopsjobs.operators.jobs import HopsworksRunJobOperator

JOBS = {jobs!r}

with DAG(dag_id="bench_baseline", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):

    @task
    def nothing() -> None:
        return None

    one, two, three = (nothing.override(task_id=name)() for name in ("one", "two", "three"))
    one >> two >> three

for deferrable in (False, True):
    with DAG(
        dag_id="bench_jobs_deferred" if deferrable else "bench_jobs_sync",
        schedule=None,
        start_date=datetime(2024, 1, 1),
        catchup=False,
    ):
        previous = None
        for job in JOBS:
            run = HopsworksRunJobOperator(
                task_id=job, job_name=job, args=["{seconds:g}"], deferrable=deferrable
            )
            if previous is not None:
                previous >> run
            previous = run
"""


def job_runtime(emu: EmulatorHandle, execution_id: int) -> float:
    history = emu.admin("GET", f"executions/{execution_id}/history")["transitions"]
    terminal = next(t["atMs"] for t in history if t["state"] in TERMINAL_STATES)
    return (terminal - history[0]["atMs"]) / 1000


def timed_test(bag: object, dag_id: str) -> tuple[float, str]:
    dag = bag.get_dag(dag_id)  # type: ignore[attr-defined]
    began = time.monotonic()
    dag_run = dag.test()
    return time.monotonic() - began, str(dag_run.state)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job-seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    banner("3 chained jobs through dag.test()", job_seconds=args.job_seconds, repeats=args.repeats)
    dag_file = DAG_FILE.format(jobs=JOBS, seconds=args.job_seconds)
    (_DAGS / "bench_dags.py").write_text(textwrap.dedent(dag_file))

    from airflow.utils.db import initdb

    initdb()
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0-3.2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    bag = DagBag(dag_folder=str(_DAGS))
    if bag.import_errors:
        raise SystemExit(f"the benchmark DAGs do not import: {bag.import_errors}")

    from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

    overheads: dict[str, list[float]] = {"bench_jobs_sync": [], "bench_jobs_deferred": []}
    with emulator() as emu:
        for job in JOBS:
            python_job(job, SLEEP_JOB)
        hook = HopsworksHook()
        first, state = timed_test(bag, "bench_baseline")
        print(f"   first dag.test() in this process (Airflow's fixed start-up included): {first:.2f} s")
        for number in range(1, args.repeats + 1):
            baseline, state = timed_test(bag, "bench_baseline")
            if state != "success":
                raise SystemExit(f"the baseline DAG ended {state}")
            print(f"   repeat {number}: baseline (3 empty tasks) {baseline:.2f} s")
            for dag_id, values in overheads.items():
                wall, state = timed_test(bag, dag_id)
                if state != "success":
                    raise SystemExit(f"{dag_id} ended {state}")
                latest = [hook.get_latest_execution(job) for job in JOBS]
                runtimes = [job_runtime(emu, execution.id) for execution in latest if execution is not None]
                overhead = wall - sum(runtimes) - baseline
                values.append(overhead)
                print(
                    f"   repeat {number}: {dag_id:<20} wall {wall:.2f} s, jobs' own runtime "
                    f"{' + '.join(f'{r:.2f}' for r in runtimes)} s -> overhead {overhead:.2f} s"
                )

    ok = True
    for dag_id, values in overheads.items():
        median = statistics.median(values)
        mode = "deferrable" if "deferred" in dag_id else "synchronous"
        ok &= result(
            f"3 chained {args.job_seconds:g} s jobs via dag.test(), {mode}",
            f"overhead {median:.2f} s (median of {len(values)})",
            "<= 3 s",
            median <= 3,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
