"""Secrets: the API key is in no task log, trigger log, XCom, event, rendered field or error text.

This module runs last in the session (``tests/reliability/conftest.py`` moves it there),
so it audits what the end-to-end tests before it left behind as well as what it provokes:

* the retry example DAG through ``dag.test()`` with the API faulting: a failed try, a
  retry, retried requests, the job's stderr in the error, all of it printed (task and
  trigger logs) and captured;
* errors on purpose: a rejected key, a key without the scope, an unreachable server, an
  unknown execution (exception texts with their tracebacks), and the trigger events of
  the last two;
* then every file under ``AIRFLOW_HOME`` (logs; the metadata DB as raw bytes), the log
  folders of the real-Airflow tests when they ran in this session, and Airflow's tables
  read through its models (XComs, trigger kwargs decrypted, events handed to tasks,
  rendered template fields, run confs, the audit log).

Any exact key of the emulators in play, or anything shaped like a Hopsworks API key, fails it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import traceback
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger
from tests.airflow_support import first_event
from tests.reliability import chaos_pipeline
from tests.reliability.secrets_audit import dag_test_output, findings, scan_airflow_db, scan_files

pytestmark = pytest.mark.airflow_e2e

RETRY_DAG = "example_hopsworks_retry"
CONN_ENV = "AIRFLOW_CONN_HOPSWORKS_DEFAULT"


def test_the_audit_finds_a_key_where_there_is_one(tmp_path: Path) -> None:
    """The scanner itself: a planted key is found, by value and by shape, in text and in files."""
    key = "0123456789abcdef.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
    assert findings("text", f"Authorization: ApiKey {key}", [key])
    assert findings("text", f"password={key}", [])  # by its shape alone
    assert not findings("text", "execution 0123456789abcdef finished", [key])
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "attempt=1.log").write_text(json.dumps({"event": f"key {key}"}))
    assert scan_files(tmp_path, [key])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def error_text(call: Any) -> str:
    """The full text of the exception ``call`` raises, traceback included."""
    try:
        call()
    except Exception as err:
        return "".join(traceback.format_exception(err))
    raise AssertionError("no error was raised")


def test_no_api_key_anywhere(  # noqa: PLR0917 (pytest fixtures)
    example_dag_bag: Any,
    emulator: EmulatorHandle,
    hopsworks_emulator: EmulatorHandle,
    quick_time: float,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    keys = {emulator.api_key, hopsworks_emulator.api_key}
    problems: list[str] = []

    # 1. The retry DAG (fails once, then succeeds) with the API faulting, everything printed captured.
    emulator.set_faults(chaos_pipeline.fault_rules(quick_time), seed=3)
    capfd.readouterr()
    dag_run = example_dag_bag.get_dag(RETRY_DAG).test()
    captured = capfd.readouterr()
    emulator.clear_faults()
    assert str(dag_run.state) == "success", (captured.out + captured.err)[-3000:]
    problems += findings(
        "dag.test output (task and trigger logs)", dag_test_output(captured.out + captured.err), keys
    )

    # 2. Errors on purpose, and the events of triggers that fail.
    conn = json.loads(emulator.connection_json())
    wrong_key = emulator.api_key[:-4] + "abcd"
    limited_key = emulator.create_api_key(["JOB", "PROJECT"])
    keys |= {wrong_key, limited_key}
    texts: dict[str, str] = {}
    monkeypatch.setenv(CONN_ENV, json.dumps({**conn, "password": wrong_key}))
    texts["rejected key"] = error_text(lambda: HopsworksHook().get_job("any_job"))
    monkeypatch.setenv(CONN_ENV, json.dumps({**conn, "password": limited_key}))
    texts["key without the scope"] = error_text(lambda: HopsworksHook().stat("Resources"))
    monkeypatch.setenv(CONN_ENV, json.dumps(conn))
    texts["unknown execution"] = error_text(lambda: HopsworksHook().get_execution("any_job", 424242))
    event_unknown = asyncio.run(
        first_event(HopsworksExecutionTrigger(job_name="any_job", execution_id=424242))
    ).payload
    down = {**conn, "port": closed_port(), "extra": {**conn["extra"], "retry_attempts": 1, "project_id": 119}}
    monkeypatch.setenv(CONN_ENV, json.dumps(down))
    texts["unreachable server"] = error_text(lambda: HopsworksHook().get_job("any_job"))
    event_down = asyncio.run(
        first_event(
            HopsworksExecutionTrigger(job_name="any_job", execution_id=1, transient_error_budget_seconds=0)
        )
    ).payload
    assert event_unknown["status"] == event_down["status"] == "error"
    assert "401" in texts["rejected key"] and "403" in texts["key without the scope"]
    for name, text in texts.items():
        problems += findings(f"exception text ({name})", text, keys)
    problems += findings("trigger event (unknown execution)", json.dumps(event_unknown), keys)
    problems += findings("trigger event (server down)", json.dumps(event_down), keys)

    # 3. What the session left behind: files under AIRFLOW_HOME (the DB included), real-Airflow
    #    log folders, and Airflow's tables through its models.
    problems += scan_files(Path(os.environ["AIRFLOW_HOME"]), keys)
    for home in tmp_path_factory.getbasetemp().glob("real-airflow-home*"):
        problems += scan_files(home, keys)
    problems += scan_airflow_db(keys)

    assert problems == [], "\n".join(problems)
