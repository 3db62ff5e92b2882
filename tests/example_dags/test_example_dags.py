"""The example DAGs, run through ``dag.test()`` against the emulator, in one process.

``dag.test()`` runs each task in-process through the Task SDK and the in-process execution
API, and runs a deferred task's trigger in-line, so these tests exercise the real
serialisation, XCom, task state store and deferral paths. Between our code and the
emulator there is only HTTP on loopback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.operators import reattach
from tests.airflow_support import connect, private_emulator

pytestmark = pytest.mark.airflow_e2e

PIPELINE = "example_hopsworks_pipeline"
RETRY = "example_hopsworks_retry"
QUARTZ = "example_hopsworks_quartz_schedule"
PIPELINE_JOBS = ("example_features", "example_training", "example_evaluation")
EXECUTIONS_POST = "POST /hopsworks-api/api/project/{id}/jobs/{name}/executions"


def run(bag: Any, dag_id: str, capfd: pytest.CaptureFixture[str]) -> tuple[Any, str]:
    """Run one DAG with ``dag.test()``; return its run and everything it printed."""
    capfd.readouterr()
    dag_run = bag.get_dag(dag_id).test()
    captured = capfd.readouterr()
    return dag_run, captured.out + captured.err


def task_states(dag_run: Any) -> dict[str, str]:
    from airflow.utils.session import create_session

    with create_session() as session:
        return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances(session=session)}


@pytest.fixture(scope="module")
def own_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    with private_emulator(tmp_path_factory.mktemp("example-dags-emulator")) as handle:
        yield handle


@pytest.fixture
def emulator(own_emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorHandle]:
    yield connect(own_emulator, monkeypatch)
    if own_emulator.running:
        own_emulator.clear_faults()


def xcoms(dag_run: Any, task_id: str) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query: Any = XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag_run.dag_id, task_ids=task_id)
        # Airflow 3.0 hands back an ORM Query, later versions a select().
        rows = query.with_session(session).all() if hasattr(query, "with_session") else session.scalars(query)
        return {row.key: XComModel.deserialize_value(row) for row in rows}


def test_example_dags_import_cleanly(example_dag_bag: Any) -> None:
    assert example_dag_bag.import_errors == {}
    assert {PIPELINE, RETRY, QUARTZ} <= set(example_dag_bag.dag_ids)


def test_pipeline_runs_green_and_defers_then_reruns_under_faults(
    example_dag_bag: Any, emulator: EmulatorHandle, capfd: pytest.CaptureFixture[str]
) -> None:
    emulator.reset_counters()
    dag_run, out = run(example_dag_bag, PIPELINE, capfd)
    assert str(dag_run.state) == "success", out[-5000:]
    assert set(task_states(dag_run).values()) == {"success"}

    # One execution per job, none duplicated.
    assert {job: emulator.executions_started(job) for job in PIPELINE_JOBS} == dict.fromkeys(PIPELINE_JOBS, 1)

    # The training task really deferred: the trigger polled, then the worker resumed.
    assert "Deferring until execution" in out
    assert "Waiting on Hopsworks job 'example_training' execution" in out

    # Real job stdout, framed, in the task logs.
    hook = HopsworksHook()
    features, training, evaluation = (hook.get_latest_execution(job) for job in PIPELINE_JOBS)
    assert features and training and evaluation
    assert f"----- Hopsworks job 'example_training' execution {training.id} stdout -----" in out
    assert re.search(r"FEATURES_READY date=\d{4}-\d{2}-\d{2} rows=10000", out)
    assert f"MODEL_TRAINED features_execution={features.id}" in out
    assert "epoch 3/3 loss=" in out

    # Execution ids passed downstream as job arguments.
    assert training.args == f"--features-execution {features.id}"
    assert evaluation.args == f"--training-execution {training.id}"
    assert f"MODEL_EVALUATED training_execution={training.id}" in out

    # XComs: id and page URL, the summary as return value, the extra link, the sensor's verdict.
    train_xcoms = xcoms(dag_run, "train_model")
    assert train_xcoms["execution_id"] == training.id
    assert train_xcoms["execution_url"] == hook.execution_url("example_training", training.id)
    assert train_xcoms["_link_HopsworksExecutionLink"] == train_xcoms["execution_url"]
    assert train_xcoms["return_value"] == {
        "execution_id": training.id,
        "job_name": "example_training",
        "state": "FINISHED",
        "final_status": "SUCCEEDED",
        "duration_ms": training.duration_ms,
        "url": train_xcoms["execution_url"],
    }
    assert xcoms(dag_run, "training_succeeded")["return_value"]["execution_id"] == training.id

    # Second run, with the API misbehaving: same outcome, nothing changed, nothing duplicated.
    emulator.reset_counters()
    emulator.set_faults(
        [
            # Starts: a 5xx; a start whose response is lost after it worked; a 429 with Retry-After.
            {"path": "/executions$", "method": "POST", "sequence": ["503", "drop@after", "ok", "429:1"]},
            # Polls (sync and in the trigger): random 5xx, dropped connections and 429s.
            {
                "path": r"/executions/\d+$",
                "method": "GET",
                "rate": 0.3,
                "fault": ["502", "503", "504", "drop", "429:1"],
            },
            {"path": r"/jobs/[^/]+$", "method": "GET", "sequence": ["503", "ok", "drop"]},
            {"path": "/log/(out|err)$", "method": "GET", "sequence": ["503", "drop"]},
        ],
        seed=11,
    )
    dag_run, out = run(example_dag_bag, PIPELINE, capfd)
    faults = emulator.faults()
    emulator.clear_faults()
    assert str(dag_run.state) == "success", out[-5000:]
    assert faults["injected"] >= 5
    assert {job: emulator.executions_started(job) for job in PIPELINE_JOBS} == dict.fromkeys(PIPELINE_JOBS, 1)
    assert emulator.request_counts()[EXECUTIONS_POST] == 5  # two retried starts, none resent blindly
    for job in PIPELINE_JOBS:
        assert f"Hopsworks job {job!r}: unchanged." in out
    writes = [r for r in emulator.request_counts() if r.startswith(("PUT ", "DELETE ")) or "upload" in r]
    assert writes == []


def test_retry_dag_fails_first_then_succeeds(
    example_dag_bag: Any, emulator: EmulatorHandle, capfd: pytest.CaptureFixture[str]
) -> None:
    emulator.reset_counters()
    dag_run, out = run(example_dag_bag, RETRY, capfd)
    assert str(dag_run.state) == "success", out[-5000:]
    assert emulator.executions_started("example_flaky") == 2
    # Try 1 failed with the job's own error, then the retry started a fresh execution.
    assert "SIMULATED_FAILURE on attempt 1" in out
    assert "HopsworksJobFailedError" in out
    assert re.search(r"Execution \d+ of an earlier try ended FAILED/FAILED; starting a new one", out)
    assert "SUCCEEDED on attempt 2" in out


def test_retry_dag_with_the_variable_record_of_airflow_before_3_3(
    example_dag_bag: Any,
    emulator: EmulatorHandle,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Airflow 3.0-3.2 keep the execution record in a Variable; prove that path on a real Task SDK."""
    monkeypatch.setattr(reattach, "AIRFLOW_V_3_3_PLUS", False)
    emulator.reset_counters()
    dag_run, out = run(example_dag_bag, RETRY, capfd)
    assert str(dag_run.state) == "success", out[-5000:]
    assert emulator.executions_started("example_flaky") == 2
    assert re.search(r"Execution \d+ of an earlier try ended FAILED/FAILED; starting a new one", out)
    assert "Could not record execution" not in out
    assert "Could not read the execution record" not in out

    from airflow.models.variable import Variable

    key = reattach.variable_key(RETRY, dag_run.run_id, "run_flaky_job", -1)
    assert Variable.get(key, default_var=None) in (None, "{}")  # removed once the task succeeded


def test_quartz_scheduled_dag_plans_quartz_fire_times_and_runs_its_job(
    example_dag_bag: Any, emulator: EmulatorHandle, capfd: pytest.CaptureFixture[str]
) -> None:
    from datetime import datetime, timezone

    from airflow.timetables.base import TimeRestriction

    from airflow_provider_hopsjobs.timetables.quartz import QuartzCronTimetable

    dag = example_dag_bag.get_dag(QUARTZ)
    assert isinstance(dag.timetable, QuartzCronTimetable)
    # Friday 2026-11-20 after 02:30 Amsterdam: the next weekday fire is Monday 02:30 CET (01:30 UTC).
    after = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
    info = dag.timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=after, latest=None, catchup=True),
    )
    assert info is not None
    assert info.run_after == datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)

    dag_run, out = run(example_dag_bag, QUARTZ, capfd)
    assert str(dag_run.state) == "success", out[-5000:]
    assert emulator.executions_started("example_nightly_report") == 1
    assert re.search(r"NIGHTLY_REPORT from=\d{4}-\d{2}-\d{2}T\S+ to=\d{4}-\d{2}-\d{2}T\S+", out)
