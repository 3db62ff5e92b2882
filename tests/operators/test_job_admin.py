"""Create, stop and delete operators (hook methods patched)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from airflow.sdk import DAG

from airflow_provider_hopsjobs.errors import (
    HopsworksConfigError,
    HopsworksNotFoundError,
    HopsworksWaitTimeoutError,
)
from airflow_provider_hopsjobs.execution import Execution
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook, JobUpsertResult
from airflow_provider_hopsjobs.operators.jobs import (
    HopsworksCreateJobOperator,
    HopsworksDeleteJobOperator,
    HopsworksStopExecutionOperator,
)
from tests.airflow_support import FakeClock, execution, make_context

JOB_URL = "https://hopsworks.example.com/p/119/jobs/named/train"
JOB = {"id": 3, "name": "train", "jobType": "PYTHON", "config": {"appPath": "hdfs:///Projects/demo/x.py"}}


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "train.py"
    path.write_text("print('training')\n")
    return path


def make_create(**overrides: Any) -> HopsworksCreateJobOperator:
    kwargs: dict[str, Any] = {"task_id": "create", "job_name": "train", "job_type": "PYTHON"}
    kwargs.update(overrides)
    return HopsworksCreateJobOperator(**kwargs)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"job_type": "JAVA"}, "Unknown job_type"),
        ({"job_name": "my job"}, "Invalid job name"),
        ({"app_path": "Resources/a.py", "app_file": "a.py"}, "not both"),
        ({"config": ["not", "a", "mapping"]}, "config"),
    ],
)
def test_create_rejects_bad_input_at_parse(override: dict[str, Any], message: str) -> None:
    with pytest.raises(HopsworksConfigError, match=message):
        make_create(**override)


def test_create_uploads_the_local_file_then_creates(script: Path) -> None:
    calls: list[str] = []
    with (
        mock.patch.object(
            HopsworksHook, "build_job_config", side_effect=lambda *a, **k: calls.append("validate")
        ),
        mock.patch.object(HopsworksHook, "stat", return_value=None),
        mock.patch.object(
            HopsworksHook,
            "upload_file",
            side_effect=lambda *a, **k: calls.append("upload") or "Resources/jobs/train/train.py",
        ) as upload,
        mock.patch.object(
            HopsworksHook,
            "create_or_update_job",
            side_effect=lambda *a, **k: (
                calls.append("create") or JobUpsertResult("created", JOB, {"appPath": (None, "x")})
            ),
        ) as create,
        mock.patch.object(HopsworksHook, "job_url", return_value=JOB_URL),
    ):
        result = make_create(
            app_file=str(script), job_default_args="--fast", config={"resourceConfig": {"cores": 1}}
        ).execute(make_context())
    assert calls == ["validate", "upload", "create"]  # validated before the first write
    upload.assert_called_once_with(script, "Resources/jobs/train", overwrite=True)
    create.assert_called_once_with(
        "train",
        "PYTHON",
        app_path="Resources/jobs/train/train.py",
        main_class=None,
        default_args="--fast",
        environment_name=None,
        config={"resourceConfig": {"cores": 1}},
    )
    assert result == {
        "job_name": "train",
        "job_id": 3,
        "job_type": "PYTHON",
        "action": "created",
        "changed": ["appPath"],
        "app_path": "hdfs:///Projects/demo/x.py",
        "uploaded": True,
        "url": JOB_URL,
    }


def test_create_skips_an_identical_upload(script: Path) -> None:
    size = script.stat().st_size
    with (
        mock.patch.object(HopsworksHook, "build_job_config"),
        mock.patch.object(HopsworksHook, "stat", return_value={"attributes": {"size": size}}),
        mock.patch.object(HopsworksHook, "download", return_value=iter([script.read_bytes()])),
        mock.patch.object(HopsworksHook, "upload_file") as upload,
        mock.patch.object(
            HopsworksHook, "create_or_update_job", return_value=JobUpsertResult("unchanged", JOB)
        ),
        mock.patch.object(HopsworksHook, "job_url", return_value=JOB_URL),
    ):
        result = make_create(app_file=script).execute(make_context())
    upload.assert_not_called()
    assert result["action"] == "unchanged"
    assert result["uploaded"] is False


def test_create_replaces_a_different_file_of_the_same_size(script: Path) -> None:
    size = script.stat().st_size
    with (
        mock.patch.object(HopsworksHook, "build_job_config"),
        mock.patch.object(HopsworksHook, "stat", return_value={"attributes": {"size": size}}),
        mock.patch.object(HopsworksHook, "download", return_value=iter([b"x" * size])),
        mock.patch.object(
            HopsworksHook, "upload_file", return_value="Resources/jobs/train/train.py"
        ) as upload,
        mock.patch.object(
            HopsworksHook, "create_or_update_job", return_value=JobUpsertResult("updated", JOB)
        ),
        mock.patch.object(HopsworksHook, "job_url", return_value=JOB_URL),
    ):
        make_create(app_file=script).execute(make_context())
    upload.assert_called_once()


def test_create_finds_a_relative_file_next_to_the_dag(tmp_path: Path, script: Path) -> None:
    (tmp_path / "jobs").mkdir()
    moved = script.rename(tmp_path / "jobs" / "train.py")
    with DAG("d", schedule=None) as dag:
        op = make_create(app_file="jobs/train.py")
    dag.fileloc = str(tmp_path / "my_dag.py")
    with (
        mock.patch.object(HopsworksHook, "build_job_config"),
        mock.patch.object(HopsworksHook, "stat", return_value=None),
        mock.patch.object(
            HopsworksHook, "upload_file", return_value="Resources/jobs/train/train.py"
        ) as upload,
        mock.patch.object(
            HopsworksHook, "create_or_update_job", return_value=JobUpsertResult("created", JOB)
        ),
        mock.patch.object(HopsworksHook, "job_url", return_value=JOB_URL),
    ):
        op.execute(make_context())
    assert upload.call_args.args[0] == moved


def test_create_missing_local_file_fails_before_any_request() -> None:
    with (
        mock.patch.object(HopsworksHook, "build_job_config") as validate,
        pytest.raises(HopsworksConfigError, match="not a readable file"),
    ):
        make_create(app_file="/nonexistent/train.py").execute(make_context())
    validate.assert_not_called()


def test_create_invalid_config_uploads_nothing(script: Path) -> None:
    with (
        mock.patch.object(
            HopsworksHook, "build_job_config", side_effect=HopsworksConfigError("SPARK needs main_class")
        ),
        mock.patch.object(HopsworksHook, "upload_file") as upload,
        mock.patch.object(HopsworksHook, "create_or_update_job") as create,
        pytest.raises(HopsworksConfigError, match="main_class"),
    ):
        make_create(job_type="SPARK", app_file=script).execute(make_context())
    upload.assert_not_called()
    create.assert_not_called()


def test_create_logs_what_changed(capsys: pytest.CaptureFixture[str]) -> None:
    changes = {"defaultArgs": ("--old", "--new")}
    with (
        mock.patch.object(HopsworksHook, "build_job_config"),
        mock.patch.object(
            HopsworksHook, "create_or_update_job", return_value=JobUpsertResult("updated", JOB, changes)
        ),
        mock.patch.object(HopsworksHook, "job_url", return_value=JOB_URL),
    ):
        make_create(app_path="Resources/x.py").execute(make_context())
    out = capsys.readouterr().out
    assert "defaultArgs: '--old' -> '--new'" in out


# -- stop -----------------------------------------------------------------------------------------


def test_stop_one_execution_and_wait_until_killed(fake_clock: FakeClock) -> None:
    with (
        mock.patch.object(
            HopsworksHook,
            "get_execution",
            side_effect=[execution(state="RUNNING"), execution(state="RUNNING"), execution(state="KILLED")],
        ),
        mock.patch.object(HopsworksHook, "stop_execution", return_value=execution(state="RUNNING")) as stop,
    ):
        result = HopsworksStopExecutionOperator(task_id="s", job_name="train", execution_id="7").execute(
            make_context()
        )
    stop.assert_called_once_with("train", 7)
    assert result == {"job_name": "train", "stopped": [7], "states": {"7": "KILLED"}}


def test_stop_skips_a_finished_execution() -> None:
    with (
        mock.patch.object(HopsworksHook, "get_execution", return_value=execution(state="FINISHED")),
        mock.patch.object(HopsworksHook, "stop_execution") as stop,
    ):
        result = HopsworksStopExecutionOperator(task_id="s", job_name="train", execution_id=7).execute(
            make_context()
        )
    stop.assert_not_called()
    assert result["stopped"] == []


def filtering_listing(executions: list[Execution]) -> Any:
    """``list_executions`` as Hopsworks answers it: ``state:A,B`` keeps only those states."""

    def list_executions(job_name: str, *, filter_by: Any = (), **_: Any) -> list[Execution]:
        kept = executions
        for rule in filter_by:
            field, _, values = rule.partition(":")
            assert field == "state", f"unexpected filter {rule!r}"
            wanted = {v.strip().upper() for v in values.split(",")}
            kept = [e for e in kept if (e.state or "") in wanted]
        return kept

    return list_executions


def test_stop_all_running_executions_of_a_job() -> None:
    """Every execution in any of Hopsworks' running states is stopped; none of the others."""
    # Hopsworks' JobState enum, written out here so that the test does not share the operator's list.
    running = [
        "INITIALIZING",
        "NEW",
        "NEW_SAVING",
        "SUBMITTED",
        "ACCEPTED",
        "RUNNING",
        "AGGREGATING_LOGS",
        "STARTING_APP_MASTER",
        "GENERATING_SECURITY_MATERIAL",
        "CONVERTING_NOTEBOOK",
    ]
    over = [
        "FINISHED",
        "FAILED",
        "KILLED",
        "FRAMEWORK_FAILURE",
        "APP_MASTER_START_FAILED",
        "INITIALIZATION_FAILED",
    ]
    states = [*running, *over]
    listed = [execution(100 + n, state=state) for n, state in enumerate(states)]
    with (
        mock.patch.object(HopsworksHook, "list_executions", side_effect=filtering_listing(listed)),
        mock.patch.object(HopsworksHook, "stop_execution", return_value=execution(state="RUNNING")) as stop,
    ):
        result = HopsworksStopExecutionOperator(
            task_id="s", job_name="train", wait_for_termination=False
        ).execute(make_context())
    expected = [100 + n for n, state in enumerate(states) if state in running]
    assert len(expected) == 10
    assert [c.args for c in stop.call_args_list] == [("train", i) for i in expected]
    assert result["stopped"] == expected


def test_stop_times_out_when_the_execution_will_not_die(fake_clock: FakeClock) -> None:
    with (
        mock.patch.object(HopsworksHook, "get_execution", return_value=execution(state="RUNNING")),
        mock.patch.object(HopsworksHook, "stop_execution", return_value=execution(state="RUNNING")),
        pytest.raises(HopsworksWaitTimeoutError, match="still RUNNING"),
    ):
        HopsworksStopExecutionOperator(task_id="s", job_name="train", execution_id=7, timeout=20).execute(
            make_context()
        )


@pytest.mark.parametrize(("execution_id", "message"), [("abc", "integer"), (-3, "not be negative")])
def test_stop_rejects_a_bad_id_when_the_dag_is_parsed(execution_id: Any, message: str) -> None:
    with pytest.raises(HopsworksConfigError, match=message):
        HopsworksStopExecutionOperator(task_id="s", job_name="train", execution_id=execution_id)


def test_stop_checks_a_templated_id_once_rendered() -> None:
    op = HopsworksStopExecutionOperator(task_id="s", job_name="train", execution_id="{{ params.id }}")
    op.execution_id = "x7"  # as rendered
    with mock.patch.object(HopsworksHook, "get_execution") as get, pytest.raises(HopsworksConfigError):
        op.execute(make_context())
    get.assert_not_called()


# -- delete --------------------------------------------------------------------------------------


def test_delete_job() -> None:
    with mock.patch.object(HopsworksHook, "delete_job") as delete:
        result = HopsworksDeleteJobOperator(task_id="d", job_name="train").execute(make_context())
    delete.assert_called_once_with("train")
    assert result == {"job_name": "train", "deleted": True}


def test_delete_missing_job_is_fine_by_default() -> None:
    missing = HopsworksNotFoundError("Job not found", status_code=404, error_code=130009)
    with mock.patch.object(HopsworksHook, "delete_job", side_effect=missing):
        assert (
            HopsworksDeleteJobOperator(task_id="d", job_name="train").execute(make_context())["deleted"]
            is False
        )
        with pytest.raises(HopsworksNotFoundError):
            HopsworksDeleteJobOperator(task_id="d2", job_name="train", ignore_missing=False).execute(
                make_context()
            )
