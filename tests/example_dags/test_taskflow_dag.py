"""``example_hopsworks_taskflow`` through ``dag.test()`` on the emulator: ``@task.hopsworks`` end to end.

The decorated functions really run as Hopsworks PYTHON jobs (real processes on the
emulator); their return values reach a downstream Airflow task through XCom, the deferrable
one through the triggerer path, the mapped one as one execution per mapped instance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_hopsjobs.decorators.script import decode_arguments
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from tests.airflow_support import connect, private_emulator
from tests.example_dags.test_example_dags import run, task_states, xcoms

pytestmark = pytest.mark.airflow_e2e

TASKFLOW = "example_hopsworks_taskflow"
UPLOADS = "POST /hopsworks-api/api/project/{id}/dataset/upload/{path}"


@pytest.fixture(scope="module")
def own_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    with private_emulator(tmp_path_factory.mktemp("taskflow-emulator")) as handle:
        yield handle


@pytest.fixture
def emulator(own_emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorHandle]:
    yield connect(own_emulator, monkeypatch)


def test_taskflow_dag_is_registered_through_airflow_sdk_task(example_dag_bag: Any) -> None:
    assert example_dag_bag.import_errors == {}
    dag = example_dag_bag.get_dag(TASKFLOW)
    train = dag.get_task("train")
    assert type(train).__name__ == "_HopsworksDecoratedOperator"
    assert train.custom_operator_name == "@task.hopsworks"
    assert train.job_name == "example_taskflow_train" and train.deferrable is True


def test_decorated_functions_run_on_hopsworks_and_feed_a_downstream_task(
    example_dag_bag: Any, emulator: EmulatorHandle, capfd: pytest.CaptureFixture[str]
) -> None:
    emulator.reset_counters()
    dag_run, out = run(example_dag_bag, TASKFLOW, capfd)
    assert str(dag_run.state) == "success", (task_states(dag_run), out[-3000:])
    assert set(task_states(dag_run).values()) == {"success"}

    hook = HopsworksHook()
    training = hook.get_latest_execution("example_taskflow_train")
    assert training is not None and training.state == "FINISHED"
    # The function's arguments, templated, travelled with the execution.
    payload = decode_arguments(str(training.args))
    assert payload["kwargs"]["epochs"] == 5
    assert re.fullmatch(r"\d{8}_features", payload["kwargs"]["features_table"])

    # Its stdout in the task log, and its return value as the XCom, from the Hopsworks process.
    assert "epoch 5/5 loss=" in out
    assert "Deferring until execution" in out
    metrics = xcoms(dag_run, "train")["return_value"]
    assert metrics == {
        "features_table": payload["kwargs"]["features_table"],
        "epochs": 5,
        "auc": 0.91,
        "execution": str(training.id),
    }
    assert xcoms(dag_run, "train")["execution_id"] == training.id

    # Mapped: one execution per instance, one shared script.
    assert emulator.executions_started("example_taskflow_score") == 3
    report = xcoms(dag_run, "report")["return_value"]
    assert report == f"REPORT auc=0.91 table={payload['kwargs']['features_table']} scores=[1, 4, 9]"

    # A second run uploads nothing and updates no job: the code is unchanged.
    emulator.reset_counters()
    dag_run, out = run(example_dag_bag, TASKFLOW, capfd)
    assert str(dag_run.state) == "success", out[-20000:]
    writes = [r for r in emulator.request_counts() if r.startswith(("PUT ", "DELETE ")) or "upload" in r]
    assert writes == []
    assert emulator.executions_started("example_taskflow_train") == 1
