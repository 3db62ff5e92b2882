"""The run's dates and env vars reach the job, on 5.x; a 4.x server degrades clearly.

Against the emulator over real HTTP: the newest release (the session emulator) takes the
JSON start; one playing Hopsworks 4.x refuses it with 415, as the real one does.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from airflow_provider_hopsjobs.emulator.clock import to_ms
from airflow_provider_hopsjobs.emulator.cron import interval_env, parse_cron
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.hooks.start_request import TEXT_ONLY_SERVERS
from airflow_provider_hopsjobs.operators.jobs import HopsworksCreateJobOperator, HopsworksRunJobOperator
from tests.airflow_support import connect, make_context, run_operator

PRINT_ENV = """
    import json, os
    keys = ["HOPS_START_TIME", "HOPS_END_TIME", "HOPS_LOGICAL_DATE", "TEAM"]
    print("ENV " + json.dumps({k: os.environ.get(k) for k in keys}), flush=True)
"""
FIRE = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)
PREVIOUS = datetime(2026, 3, 2, 5, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def fresh_memory() -> Iterator[None]:
    TEXT_ONLY_SERVERS.discard("hopsworks_default")
    yield
    TEXT_ONLY_SERVERS.discard("hopsworks_default")


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dates") / "print_env.py"
    path.write_text(textwrap.dedent(PRINT_ENV))
    return path


def create(name: str, script: Path) -> None:
    HopsworksCreateJobOperator(task_id="c", job_name=name, job_type="PYTHON", app_file=script).execute(
        make_context()
    )


def printed_env(out: str) -> dict[str, str | None]:
    (found,) = re.findall(r"ENV (\{.*?\})", out)
    return json.loads(found)  # type: ignore[no-any-return]


def dated_context() -> dict:
    context = make_context()
    context.update(logical_date=PREVIOUS, data_interval_start=PREVIOUS, data_interval_end=FIRE)
    return context


def test_the_job_sees_what_a_scheduled_run_sees(
    hopsworks_conn: EmulatorHandle, script: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create("dates_env", script)
    op = HopsworksRunJobOperator(
        task_id="run", job_name="dates_env", env_vars={"TEAM": "fraud"}, deferrable=False, poll_interval=1
    )
    run_operator(op, dated_context())
    seen = printed_env(capsys.readouterr().out)
    # What the 5.x scheduler hands a run firing at FIRE on an hourly cron: same names, same format.
    scheduled = interval_env(parse_cron("0 0 * ? * *"), to_ms(FIRE), None)
    assert seen == {
        "HOPS_START_TIME": scheduled["HOPS_START_TIME"],
        "HOPS_END_TIME": scheduled["HOPS_END_TIME"],
        "HOPS_LOGICAL_DATE": scheduled["HOPS_LOGICAL_DATE"],
        "TEAM": "fraud",
    }


def test_a_run_without_dates_sends_none(
    hopsworks_conn: EmulatorHandle, script: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Airflow 3 runs may have no logical date: nothing is made up."""
    create("dates_env", script)
    op = HopsworksRunJobOperator(task_id="run", job_name="dates_env", deferrable=False, poll_interval=1)
    context = make_context()
    context.update(logical_date=None, data_interval_start=None, data_interval_end=None)
    run_operator(op, context)
    assert printed_env(capsys.readouterr().out) == dict.fromkeys(
        ["HOPS_START_TIME", "HOPS_END_TIME", "HOPS_LOGICAL_DATE", "TEAM"]
    )


@pytest.fixture(scope="module")
def hopsworks_4(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    with EmulatorHandle(tmp_path_factory.mktemp("hopsworks-4x"), hopsworks_version="4.x") as handle:
        yield handle


def test_on_4x_dates_fall_back_to_text_and_env_vars_fail_before_starting(
    hopsworks_4: EmulatorHandle,
    script: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    connect(hopsworks_4, monkeypatch)
    create("dates_env", script)
    op = HopsworksRunJobOperator(task_id="run", job_name="dates_env", deferrable=False, poll_interval=1)
    assert run_operator(op, dated_context())["final_status"] == "SUCCEEDED"
    out = capsys.readouterr().out
    assert printed_env(out)["HOPS_START_TIME"] is None
    assert "older than 5.0" in out
    with_env = HopsworksRunJobOperator(
        task_id="run", job_name="dates_env", env_vars={"TEAM": "fraud"}, deferrable=False
    )
    with pytest.raises(HopsworksConfigError, match="cannot reach the job"):
        run_operator(with_env, dated_context())
    assert hopsworks_4.executions_started("dates_env") == 1


def test_env_vars_are_checked_when_the_dag_is_parsed() -> None:
    with pytest.raises(HopsworksConfigError, match="env_vars"):
        HopsworksRunJobOperator(task_id="run", job_name="j", env_vars={"A=B": "x"})
    templated = HopsworksRunJobOperator(task_id="run", job_name="j", env_vars="{{ params.env }}")  # type: ignore[arg-type]
    assert "env_vars" in templated.template_fields
