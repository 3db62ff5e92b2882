"""OpenLineage: a real listener, a file transport and the emulator, in a fresh Airflow process.

The OpenLineage listener is registered through Airflow's plugins once per process, from the
configuration it finds then; so the DAG runs through ``dag.test()`` in a subprocess that
starts configured (file transport, Spark parent injection on). The events it wrote are then
checked: the execution and job facets of a Spark run, of a failed run (with its error) and
of ``@task.hopsworks``, and the parent run id that reached the Spark job's properties.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hopsjobs import lineage
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

REPO = Path(__file__).resolve().parents[1]

DAG_FILE = """
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_hopsjobs.operators.jobs import HopsworksCreateJobOperator, HopsworksRunJobOperator

with DAG("lineage_dag", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
    create = HopsworksCreateJobOperator(
        task_id="create_spark", job_name="ol_spark", job_type="PYSPARK", app_file="spark_job.py"
    )
    create >> HopsworksRunJobOperator(task_id="run_spark", job_name="ol_spark")
    failing = HopsworksCreateJobOperator(
        task_id="create_failing", job_name="ol_failing", job_type="PYTHON", app_file="failing.py"
    )
    run_failing = HopsworksRunJobOperator(task_id="run_failing", job_name="ol_failing")

    @task.hopsworks(job_name="ol_decorated")
    def decorated(x: int) -> int:
        return x * 7

    @task
    def env_for_a_5x_job() -> None:
        import json
        import os
        from pathlib import Path

        from airflow.sdk import get_current_context

        from airflow_provider_hopsjobs.lineage import parent_env_vars

        env = parent_env_vars(get_current_context())
        (Path(os.environ["AIRFLOW_HOME"]) / "env_vars.json").write_text(json.dumps(env))

    # The failing run last: dag.test() stops scheduling once a task failed.
    [decorated(6), env_for_a_5x_job(), create] >> failing >> run_failing
"""

RUNNER = """
from airflow.utils.db import initdb

initdb()
try:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder="{dags}")
except ImportError:
    from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder="{dags}", include_examples=False)
assert not bag.import_errors, bag.import_errors
run = bag.get_dag("lineage_dag").test()
print("DAG_RUN_STATE", run.state)
"""


def _run_dag(tmp_path: Path, emulator: EmulatorHandle) -> tuple[list[dict[str, Any]], str]:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "lineage_dag.py").write_text(DAG_FILE)
    (dags / "spark_job.py").write_text(
        "import os\nprint('SPARK_JOB_RAN')\n"
        "print('OL_PARENT=' + os.environ.get('OPENLINEAGE_PARENT_ID', '-'))\n"
    )
    (dags / "failing.py").write_text("raise SystemExit('FAILED_ON_PURPOSE')\n")
    events = tmp_path / "events.jsonl"
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "OPENLINEAGE"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]),
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__OPENLINEAGE__NAMESPACE="hopsjobs-test",
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(
            {"type": "file", "log_file_path": str(events), "append": True}
        ),
        AIRFLOW__OPENLINEAGE__SPARK_INJECT_PARENT_JOB_INFO="True",
        AIRFLOW_CONN_HOPSWORKS_DEFAULT=emulator.connection_json(),
    )
    home.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(RUNNER.format(dags=dags))],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    (tmp_path / "output.log").write_text(output)
    assert "DAG_RUN_STATE failed" in output, output[-6000:]  # run_failing fails, on purpose
    lines = events.read_text().splitlines() if events.exists() else []
    return [json.loads(line) for line in lines if line.strip()], output


def _event(events: list[dict[str, Any]], task_id: str, event_type: str) -> dict[str, Any]:
    found = [
        e for e in events if e["eventType"] == event_type and e["job"]["name"] == f"lineage_dag.{task_id}"
    ]
    assert found, (task_id, event_type, sorted({(e["eventType"], e["job"]["name"]) for e in events}))
    return found[-1]


@pytest.mark.airflow_e2e
def test_facets_and_parent_run_reach_openlineage(tmp_path: Path, hopsworks_conn: EmulatorHandle) -> None:
    pytest.importorskip("airflow.providers.openlineage", reason="the openlineage extra is not installed")
    events, output = _run_dag(tmp_path, hopsworks_conn)
    hook = HopsworksHook()

    spark = _event(events, "run_spark", "COMPLETE")
    spark_execution = hook.get_latest_execution("ol_spark")
    assert spark_execution is not None
    facet = spark["run"]["facets"]["hopsworks_execution"]
    assert facet["executionId"] == spark_execution.id
    assert (facet["state"], facet["finalStatus"]) == ("FINISHED", "SUCCEEDED")
    assert facet["durationMs"] == spark_execution.duration_ms
    assert facet["url"] == hook.execution_url("ol_spark", spark_execution.id)
    assert spark["job"]["facets"]["hopsworks_job"]["jobName"] == "ol_spark"
    assert spark["job"]["facets"]["hopsworks_job"]["jobType"] == "PYSPARK"

    # The parent run the Spark job was handed is this task's OpenLineage run.
    properties = lineage.parse_properties(hook.get_job("ol_spark")["config"].get("properties"))
    assert properties["spark.openlineage.parentRunId"] == spark["run"]["runId"]
    assert properties["spark.openlineage.parentJobName"] == "lineage_dag.run_spark"
    assert properties["spark.openlineage.parentJobNamespace"] == "hopsjobs-test"
    assert properties["spark.openlineage.rootParentJobName"] == "lineage_dag"

    failed = _event(events, "run_failing", "FAIL")
    failing_execution = hook.get_latest_execution("ol_failing")
    assert failing_execution is not None, output[-6000:]
    assert failed["run"]["facets"]["hopsworks_execution"]["executionId"] == failing_execution.id
    assert failed["run"]["facets"]["hopsworks_execution"]["state"] == "FAILED"
    # The error: the task's exception, with the job's own stderr tail (the listener's facet
    # takes precedence over the provider's plainer one, which only says how the execution ended).
    error = failed["run"]["facets"]["errorMessage"]["message"]
    assert f"execution {failing_execution.id} failed" in error and "FAILED_ON_PURPOSE" in error

    decorated = _event(events, "decorated", "COMPLETE")
    assert decorated["job"]["facets"]["hopsworks_job"] == {
        **decorated["job"]["facets"]["hopsworks_job"],
        "jobName": "ol_decorated",
        "jobType": "PYTHON",
    }
    assert decorated["run"]["facets"]["hopsworks_execution"]["state"] == "FINISHED"
    # The parent also reached the job's own environment (the 5.x JSON start's envVars).
    assert f"OL_PARENT=hopsjobs-test/lineage_dag.run_spark/{spark['run']['runId']}" in output
    # The parent as environment variables, computed in any task: that task's own run.
    env_task = _event(events, "env_for_a_5x_job", "COMPLETE")
    env = json.loads((tmp_path / "home" / "env_vars.json").read_text())
    assert (
        env["OPENLINEAGE_PARENT_ID"]
        == f"hopsjobs-test/lineage_dag.env_for_a_5x_job/{env_task['run']['runId']}"
    )
    assert env["OPENLINEAGE_ROOT_PARENT_ID"].startswith("hopsjobs-test/lineage_dag/")

    # The API key never reaches an event.
    assert hopsworks_conn.api_key not in json.dumps(events)


def test_the_failure_facets_say_how_the_execution_ended() -> None:
    pytest.importorskip("airflow.providers.openlineage", reason="the openlineage extra is not installed")
    from tests.airflow_support import execution

    failed = execution(9, "FAILED", "FAILED", job_name="train")
    result = lineage.operator_lineage(
        job_name="train", job_type="PYTHON", project="p", execution=failed, url="u", failed=True
    )
    assert result.run_facets["hopsworks_execution"].executionId == 9
    assert (
        result.run_facets["errorMessage"].message == "Hopsworks job 'train' execution 9 ended FAILED/FAILED."
    )
    assert result.job_facets["hopsworks_job"].project == "p"
    assert (
        "errorMessage"
        not in lineage.operator_lineage(
            job_name="train", job_type="PYTHON", project=None, execution=failed, url=None, failed=False
        ).run_facets
    )


def test_without_openlineage_nothing_is_injected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lineage, "openlineage_available", lambda: False)
    assert lineage.parent_env_vars({"ti": object()}) == {}
    assert lineage.inject_parent_into_spark_job(None, "job", "PYSPARK", {}) is False  # type: ignore[arg-type]


def test_properties_round_trip_and_nothing_without_openlineage_config() -> None:
    text = "spark.a=1\nspark.openlineage.parentRunId=old\n\nbad line\nspark.b = x=y"
    parsed = lineage.parse_properties(text)
    assert parsed == {"spark.a": "1", "spark.openlineage.parentRunId": "old", "spark.b": "x=y"}
    assert lineage.parse_properties(lineage.format_properties(parsed)) == parsed
    # Not a Spark job, or injection not configured: nothing is read or written.
    assert lineage.inject_parent_into_spark_job(None, "job", "PYTHON", {}) is False  # type: ignore[arg-type]
    assert lineage.inject_parent_into_spark_job(None, "job", "PYSPARK", {}) is False  # type: ignore[arg-type]
