"""State survives a restart; executions cut short by the emulator's death end FAILED (issue 3).

These tests stop and start an emulator of their own.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.emulator.recovery import RESTART_NOTE
from tests.emulator.conftest import Api

SLEEPER = """
import os, sys, time
with open(os.path.join(os.environ["HOPSWORKS_PROJECT_DIR"], "Resources", sys.argv[1]), "w") as out:
    out.write(str(os.getpid()))
print("started", flush=True)
time.sleep(60)
"""


@pytest.fixture(scope="module")
def own_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    with EmulatorHandle(tmp_path_factory.mktemp("persistence")) as handle:
        yield handle


@pytest.fixture
def papi(own_emulator: EmulatorHandle) -> Iterator[Api]:
    if not own_emulator.running:
        own_emulator.start()
    client = Api(own_emulator)
    yield client
    client.session.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _running_sleeper(api: Api, name: str) -> tuple[int, int]:
    """Start the sleeper; return (execution id, job process pid) once it runs."""
    marker = f"pid_{uuid.uuid4().hex[:8]}"
    execution = api.start(name, marker)
    api.wait_state(name, execution["id"], {"RUNNING"})
    pid_file = Path(api.emulator.data_dir, "fs", "Projects", "demo", "Resources", marker)
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text()):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return int(execution["id"]), int(pid_file.read_text())


def test_everything_survives_a_restart(papi: Api, job_name: str) -> None:
    """Projects, jobs, executions, logs, schedules, files and the key are still there after a restart."""
    emulator = papi.emulator
    job = papi.python_job(job_name, "print('persisted output')\n", default_args="--x")
    done = papi.wait(job_name, papi.start(job_name)["id"])
    schedule = papi.post(
        f"jobs/{job_name}/schedule/v2",
        json={"cronExpression": "0 0 * ? * *", "startDateTime": emulator.now_ms()},
    ).json()
    clock_before = emulator.advance_clock(3600)
    port, project_id = emulator.port, emulator.project_id
    emulator.stop()
    emulator.start()
    assert (emulator.port, emulator.project_id) == (port, project_id)
    assert papi.get(f"jobs/{job_name}").json()["config"] == job["config"]
    assert papi.execution(job_name, done["id"]) == done
    log = papi.get(f"jobs/{job_name}/executions/{done['id']}/log/out").json()["log"]
    assert log == "persisted output\n"
    assert papi.get(f"jobs/{job_name}/schedule/v2").json() == schedule
    assert papi.get(f"dataset/Resources/jobs/{job_name}/{job_name}.py").status_code == 200
    assert emulator.now_ms() >= clock_before
    newer = papi.start(job_name)
    assert newer["id"] > done["id"]
    papi.wait(job_name, newer["id"])


@pytest.mark.parametrize("crash", [True, False], ids=["killed", "stopped"])
def test_an_execution_cut_short_by_the_emulator_ends_failed(papi: Api, job_name: str, crash: bool) -> None:
    """The job process does not outlive the emulator; after the restart the execution is FAILED/FAILED
    with the output it had written and a note on stderr."""
    papi.python_job(job_name, SLEEPER)
    execution_id, pid = _running_sleeper(papi, job_name)
    papi.emulator.stop(kill=crash)
    papi.emulator.start()
    deadline = time.monotonic() + 10
    while _alive(pid):
        assert time.monotonic() < deadline, "the job process outlived the emulator"
        time.sleep(0.05)
    done = papi.execution(job_name, execution_id)
    assert (done["state"], done["finalStatus"]) == ("FAILED", "FAILED")
    out = papi.get(f"jobs/{job_name}/executions/{execution_id}/log/out").json()["log"]
    err = papi.get(f"jobs/{job_name}/executions/{execution_id}/log/err").json()["log"]
    assert out == "started\n"
    assert err.endswith(RESTART_NOTE)
