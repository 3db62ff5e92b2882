"""The demo driver (``scripts/demo.py``): its whole flow once for real, its parts on given input.

The real run starts the driver the way ``scripts/demo.sh`` does (this environment's Python,
no install step): its own emulator, its own ``AIRFLOW_HOME``, the example pipeline through
``dag.test()``. What it prints is what a new user sees, so the assertions read the console.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "scripts" / "demo.py"
TASKS = (
    "create_example_features",
    "create_example_training",
    "create_example_evaluation",
    "compute_features",
    "train_model",
    "training_succeeded",
    "evaluate_model",
)


@pytest.fixture(scope="module")
def demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hopsjobs_demo", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def task_lines(out: str, task: str) -> list[str]:
    """What the narration showed for one task, without the task column."""
    return [m[1] for m in re.finditer(rf"^  {task} +\| (.*)$", out, re.MULTILINE)]


def summary_rows(out: str) -> dict[str, list[str]]:
    table = out.split("  TASK ", 1)[1].splitlines()[1:]
    rows = [line.split() for line in table if line.startswith("  ") and not line.startswith("    ")]
    return {cells[0]: cells[1:] for cells in rows}


# -- the whole flow -------------------------------------------------------------------------------
@pytest.mark.airflow_e2e
def test_demo_runs_the_pipeline_shows_job_stdout_and_a_summary_then_stops_everything(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, str(DEMO), "--workdir", str(workdir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert done.stderr == ""

    # One progress line per phase, and nothing of Airflow's own output.
    phases = [line for line in out.splitlines() if line.startswith("==>")]
    assert [p.split()[1] for p in phases] == [
        "starting",
        "preparing",
        "running",
        "summary:",
        "stopping",
        "done",
    ]
    assert "==> running example_hopsworks_pipeline" in out
    assert not re.search(r"\[(debug|info|warning)\s*\]|Warning|Traceback", out)
    assert all(line.startswith(("==>", "  ")) for line in out.splitlines() if line)

    # Each job's real stdout, inside the frames the operator writes into the task log.
    rows = summary_rows(out)
    features, training, evaluation = (
        int(rows[task][1]) for task in ("compute_features", "train_model", "evaluate_model")
    )
    shown = task_lines(out, "compute_features")
    start = shown.index(f"----- Hopsworks job 'example_features' execution {features} stdout -----")
    end = shown.index(
        f"----- Hopsworks job 'example_features' execution {features} stdout end (6 lines) -----"
    )
    body = [line.strip() for line in shown[start + 1 : end]]
    assert body[0].startswith("Computing features for ")
    assert body[1:5] == [f"step {i}/4: {2500 * i} rows" for i in range(1, 5)]
    assert re.fullmatch(r"FEATURES_READY date=\d{4}-\d\d-\d\d rows=10000 checksum=[0-9a-f]{12}", body[5])

    # The training task deferred, its trigger ran, and the execution ids went downstream.
    shown = task_lines(out, "train_model")
    assert any(line.startswith("deferred:") for line in shown)
    assert any(line.startswith("the trigger fired") for line in shown)
    assert f"    MODEL_TRAINED features_execution={features}" in shown
    assert f"    MODEL_EVALUATED training_execution={training} accuracy=0.93" in task_lines(
        out, "evaluate_model"
    )

    # The summary: every task, its state, execution, result and link.
    assert set(rows) == set(TASKS)
    assert {cells[0] for cells in rows.values()} == {"success"}
    assert rows["training_succeeded"][1] == str(training)
    assert [rows[t][2] for t in ("compute_features", "train_model", "evaluate_model")] == [
        "FINISHED/SUCCEEDED"
    ] * 3
    assert rows["create_example_features"][1:3] == ["-", "job"]
    assert rows["evaluate_model"][-1].endswith("/jobs/named/example_evaluation/executions")
    assert len({features, training, evaluation}) == 3

    # Everything it started is gone; the full output stays for reading.
    port = int(re.search(r"http://127\.0\.0\.1:(\d+)", out)[1])  # type: ignore[index]
    assert port_is_closed(port)
    assert sorted(p.name for p in workdir.iterdir()) == ["airflow-output.log", "emulator.log"]
    assert f"full Airflow output: {workdir / 'airflow-output.log'}" in out
    assert "Task instance state updated" in (workdir / "airflow-output.log").read_text()


def processes_mentioning(path: Path) -> list[str]:
    """Command lines of live processes that name ``path`` (the emulator and its jobs do)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(path) in text:
            found.append(text)
    return found


@pytest.mark.airflow_e2e
def test_sigterm_while_a_task_runs_stops_the_emulator_and_its_jobs(tmp_path: Path) -> None:
    """Airflow's task runner would swallow the signal; the demo must still stop at once."""
    workdir = tmp_path / "demo"
    proc = subprocess.Popen(
        [sys.executable, str(DEMO), "--workdir", str(workdir)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if re.match(r"  compute_features +\| Started execution", line):
            assert processes_mentioning(workdir)  # the emulator (and the job) run now
            proc.send_signal(signal.SIGTERM)
            break
    rest, _ = proc.communicate(timeout=30)
    out = "".join(seen) + rest
    assert proc.returncode == 130, out
    assert out.endswith(
        "==> interrupted (SIGTERM); stopping everything\n"
        "==> stopping the emulator and its jobs\n"
        f"    full Airflow output: {workdir / 'airflow-output.log'}\n"
        f"==> done in {out.rsplit('==> done in ', 1)[1].split()[0]} s: exit status 130\n"
    )
    port = int(re.search(r"http://127\.0\.0\.1:(\d+)", out)[1])  # type: ignore[index]
    assert port_is_closed(port)
    assert processes_mentioning(workdir) == []
    assert sorted(p.name for p in workdir.iterdir()) == ["airflow-output.log", "emulator.log"]


# -- the parts ------------------------------------------------------------------------------------
STRUCTLOG_RUN = """\
2026-11-22T20:03:40.847555Z [info     ] [DAG TEST] starting task_id=compute_features map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1501
2026-11-22T20:03:40.850762Z [warning  ] Skipping masking for a secret as it's too short (<5 chars) [airflow.sdk._shared.secrets_masker.secrets_masker] loc=secrets_masker.py:611
2026-11-22T20:03:40.893960Z [info     ] Uploaded x.py (1226 bytes) to Resources/jobs/x/x.py [airflow.task.hooks.airflow_provider_hopsjobs.hooks.hopsworks.HopsworksHook] loc=hopsworks.py:841
2026-11-22T20:03:41.109992Z [info     ] Started execution 7 of Hopsworks job 'feat'. [airflow.task.operators.airflow_provider_hopsjobs.operators.jobs.HopsworksRunJobOperator] loc=jobs.py:606
2026-11-22T20:03:41.299345Z [info     ] Hopsworks job 'feat' execution 7 is RUNNING. [airflow.task.operators.airflow_provider_hopsjobs.operators.jobs.HopsworksRunJobOperator] loc=waiting.py:330
2026-11-22T20:03:42.463978Z [info     ] ----- Hopsworks job 'feat' execution 7 stdout ----- [airflow.task.operators.airflow_provider_hopsjobs.operators.jobs.HopsworksRunJobOperator] loc=task_logs.py:120
2026-11-22T20:03:42.474695Z [info     ] first line [with brackets]
  second line
last line [airflow.task.operators.airflow_provider_hopsjobs.operators.jobs.HopsworksRunJobOperator] loc=task_logs.py:128
2026-11-22T20:03:42.475222Z [info     ] ----- Hopsworks job 'feat' execution 7 stdout end (3 lines) ----- [airflow.task.operators.airflow_provider_hopsjobs.operators.jobs.HopsworksRunJobOperator] loc=task_logs.py:140
2026-11-22T20:03:42.870615Z [error    ] Task failed with exception     [task] loc=task_runner.py:1651
Traceback (most recent call last):
  File "/x/jobs.py", line 667, in _complete
    raise HopsworksJobFailedError(message, execution=final)
airflow_provider_hopsjobs.status.HopsworksJobFailedError: Hopsworks job 'feat' execution 7 failed.
Last lines of stderr:
    boom
2026-11-22T20:03:42.872881Z [info     ] ::group::Post Execute          [task] loc=task_runner.py:1652
"""  # noqa: E501 (Airflow's own lines, verbatim)

STDLIB_RUN = """\
[2026-11-22T20:10:22.054+0000] {dag.py:1230} INFO - [DAG TEST] starting task_id=train map_index=-1
[2026-11-22 20:12:05,975] {task_logs.py:140} INFO - ----- Hopsworks job 'train' execution 2 stdout -----
[2026-11-22T20:12:05.975+0000] {task_logs.py:140} INFO - ----- Hopsworks job 'train' execution 2 stdout -----
[2026-11-22 20:12:05,977] {task_logs.py:136} INFO - epoch 1
epoch 2
[2026-11-22T20:12:05.977+0000] {task_logs.py:136} INFO - epoch 1
epoch 2
2026-11-22 20:12:05 [debug    ] Sending request                msg=DeleteVariable(key='k', type='DeleteVariable')
2026-11-22 20:12:05 [error    ] Variable not found             [airflow.sdk.api.client] detail={'detail': 'x'} status_code=404
[2026-11-22T20:12:05.977+0000] {task_logs.py:165} INFO - ----- Hopsworks job 'train' execution 2 stdout end (2 lines) -----
2026-11-22 20:10:35 [info     ] Pausing task as DEFERRED.      [task] dag_id=d run_id=r task_id=train
[2026-11-22T20:10:22.054+0000] {dag.py:1230} INFO - [DAG TEST] starting task_id=train map_index=-1
"""  # noqa: E501


def narrate(demo: ModuleType, text: str) -> list[str]:
    narrator = demo.Narrator(task_width=16)
    shown = [line for raw in text.splitlines() for line in narrator.feed(raw)]
    return [*shown, *narrator.finish()]


def test_narration_keeps_task_starts_our_messages_framed_job_output_and_the_exception(
    demo: ModuleType,
) -> None:
    assert narrate(demo, STRUCTLOG_RUN) == [
        "  compute_features | started",
        "  compute_features | Started execution 7 of Hopsworks job 'feat'.",
        "  compute_features | ----- Hopsworks job 'feat' execution 7 stdout -----",
        "  compute_features |     first line [with brackets]",
        "  compute_features |       second line",
        "  compute_features |     last line",
        "  compute_features | ----- Hopsworks job 'feat' execution 7 stdout end (3 lines) -----",
        "  compute_features | ERROR Task failed with exception",
        "  compute_features | ERROR HopsworksJobFailedError: Hopsworks job 'feat' execution 7 failed.",
        "  compute_features |     Last lines of stderr:",
        "  compute_features |         boom",
    ]


def test_narration_reads_airflow_3_0_output_once(demo: ModuleType) -> None:
    """3.0 writes task records twice and mixes stdlib and structlog formats."""
    assert narrate(demo, STDLIB_RUN) == [
        "  train            | started",
        "  train            | ----- Hopsworks job 'train' execution 2 stdout -----",
        "  train            |     epoch 1",
        "  train            |     epoch 2",
        "  train            | ----- Hopsworks job 'train' execution 2 stdout end (2 lines) -----",
        "  train            | deferred: the task gives up its worker slot while the job runs",
    ]


def test_exit_status_is_zero_only_when_the_run_and_every_task_succeeded(demo: ModuleType) -> None:
    ok = demo.TaskRow("a", "success")
    assert demo.exit_status([ok, demo.TaskRow("b", "skipped")], "success") == 0
    assert demo.exit_status([ok, demo.TaskRow("b", "failed")], "failed") == 1
    assert demo.exit_status([ok, demo.TaskRow("b", "upstream_failed")], "success") == 1
    assert demo.exit_status([ok], "failed") == 1
    assert demo.exit_status([], "success") == 1


def test_rows_read_the_operators_xcoms(demo: ModuleType) -> None:
    run = demo.row_from(
        "train",
        "success",
        3.25,
        {
            "execution_id": 4,
            "execution_url": "https://h/p/1/jobs/named/t/executions",
            "return_value": {"execution_id": 4, "state": "FINISHED", "final_status": "SUCCEEDED"},
        },
    )
    create = demo.row_from(
        "create",
        "success",
        0.1,
        {"return_value": {"action": "unchanged", "url": "https://h/p/1/jobs/named/t"}},
    )
    failed = demo.row_from("run", "failed", None, {"execution_id": 5})
    assert (run.execution_id, run.result, run.url) == (
        4,
        "FINISHED/SUCCEEDED",
        "https://h/p/1/jobs/named/t/executions",
    )
    assert (create.execution_id, create.result, create.url) == (
        None,
        "job unchanged",
        "https://h/p/1/jobs/named/t",
    )
    assert (failed.execution_id, failed.result, failed.url) == (5, None, None)

    table = demo.render_table([run, create, failed]).splitlines()
    assert table[0].split() == ["TASK", "STATE", "EXECUTION", "RESULT", "DURATION", "LINK"]
    assert table[1].split() == ["train", "success", "4", "FINISHED/SUCCEEDED", "3.2s", run.url]
    assert table[3].split() == ["run", "failed", "5", "-", "-", "-"]
    column = table[0].index("STATE")
    assert [line[column:].split()[0] for line in table[1:]] == ["success", "success", "failed"]


def test_airflow_is_pointed_at_a_throw_away_home_and_the_emulator(demo: ModuleType, tmp_path: Path) -> None:
    env = demo.airflow_environment(tmp_path / "home", tmp_path / "dags", '{"conn_type": "hopsworks"}')
    assert env["AIRFLOW_HOME"] == str(tmp_path / "home")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(tmp_path / "dags")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / 'home' / 'airflow.db'}"
    assert env["AIRFLOW_CONN_HOPSWORKS_DEFAULT"] == '{"conn_type": "hopsworks"}'
    assert os.environ.get("AIRFLOW_HOME") != env["AIRFLOW_HOME"]  # built here, applied by the run
