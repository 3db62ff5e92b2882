"""Chaos: pipeline runs against an emulator that faults every API route; nothing lost or duplicated.

Faults on every route: 20 % 503, 5 % 429 with ``Retry-After``, 5 % dropped connections
(some after the server acted), 2 % stalls. ``HOPSJOBS_CHAOS_RUNS`` pipeline runs (3 by
default; ``benchmarks/chaos.py`` runs 200) go task by task through the operators, and
one more runs the example pipeline DAG through ``dag.test()``. To keep the suite quick,
the retry back-off is scaled down tenfold and stalls last 1 s instead of 5 s (see the
``quick_time`` fixture; ``HOPSJOBS_RELIABILITY_REAL_TIME=1`` turns that off).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from tests.reliability import chaos_pipeline
from tests.reliability.secrets_audit import dag_test_output, findings

pytestmark = pytest.mark.airflow_e2e

RUNS = int(os.environ.get("HOPSJOBS_CHAOS_RUNS", "3"))
PIPELINE = "example_hopsworks_pipeline"
#: The example pipeline's run tasks and the job each one starts.
PIPELINE_RUNS = {
    "compute_features": "example_features",
    "train_model": "example_training",
    "evaluate_model": "example_evaluation",
}


def test_chaos_runs_end_as_their_jobs_deserve(
    emulator: EmulatorHandle, quick_time: float, tmp_path: Path
) -> None:
    script = chaos_pipeline.write_script(tmp_path)
    emulator.set_faults(chaos_pipeline.fault_rules(quick_time), seed=7)
    records = chaos_pipeline.run_many(RUNS, script, concurrency=min(RUNS, 8))
    injected = emulator.faults()["injected"]
    emulator.clear_faults()

    problems = chaos_pipeline.check_all(records, emulator)
    assert problems == [], "\n".join(problems)
    assert injected >= 10 * RUNS  # the faults really happened (about a third of all requests)
    if RUNS >= 4:
        assert any(r.fail_evaluation for r in records)


def test_the_example_pipeline_through_dag_test_under_chaos(
    example_dag_bag: Any, emulator: EmulatorHandle, quick_time: float, capfd: pytest.CaptureFixture[str]
) -> None:
    emulator.set_faults(chaos_pipeline.fault_rules(quick_time), seed=11)
    capfd.readouterr()
    dag_run = example_dag_bag.get_dag(PIPELINE).test()
    captured = capfd.readouterr()
    out = captured.out + captured.err
    injected = emulator.faults()["injected"]
    emulator.clear_faults()

    from airflow.utils.session import create_session

    with create_session() as session:
        tis = {ti.task_id: ti for ti in dag_run.get_task_instances(session=session)}
    states = {task_id: str(ti.state) for task_id, ti in tis.items()}
    assert states == dict.fromkeys(tis, "success"), out[-5000:]
    assert injected >= 5
    assert (
        findings("dag.test output", dag_test_output(out), [emulator.api_key]) == []
    )  # retries log URLs, never the key

    hook = HopsworksHook()
    for task_id, job in PIPELINE_RUNS.items():
        # One execution per try (a retry may reattach instead: then fewer, never more).
        assert emulator.executions_started(job) <= tis[task_id].try_number, job
        assert emulator.executions_started(job) >= 1, job
        # Every line the job printed is in the task log.
        execution = hook.get_latest_execution(job)
        assert execution is not None
        lines = [line for line in hook.iter_execution_log(job, execution.id) if line.strip()]
        assert lines, job
        missing = [line for line in lines if not re.search(re.escape(line.strip()), out)]
        assert missing == [], f"{job}: lines missing from the task log: {missing[:3]}"
