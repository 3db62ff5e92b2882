"""``--hopsworks-version``: the 5.x JSON start and the 5.1 pod-logs, and their absence before.

Sources: the official SDK modules ``core/execution_api`` (``_start``, ``_get_pod_logs``) and
``core/execution_pod_log``; the Hopsworks REST resource ``ExecutionsResource`` (text/plain
only before 5.0, answered 415/120004 otherwise).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.emulator.settings import ServerVersion
from tests.emulator.conftest import Api

TICKER = "import time\nfor i in range(400):\n    print(f'tick {i}', flush=True)\n    time.sleep(0.05)\n"


@pytest.fixture(scope="module")
def old_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    with EmulatorHandle(tmp_path_factory.mktemp("hopsworks-4x"), hopsworks_version="4.x") as handle:
        yield handle


@pytest.fixture(scope="module")
def emulator_5_0(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    with EmulatorHandle(tmp_path_factory.mktemp("hopsworks-50"), hopsworks_version="5.0") as handle:
        yield handle


def test_version_choices() -> None:
    assert ServerVersion().serves_pod_logs and ServerVersion().accepts_json_start
    assert ServerVersion.parse("3.x").release == (3, 7)
    assert not ServerVersion.parse("4.x").accepts_json_start
    assert ServerVersion.parse("5.0").accepts_json_start and not ServerVersion.parse("5.0").serves_pod_logs
    assert ServerVersion.parse("5.1.3").serves_pod_logs
    with pytest.raises(ValueError, match="unknown Hopsworks version"):
        ServerVersion.parse("five")


def test_before_5_json_start_is_415_and_no_pod_logs(old_emulator: EmulatorHandle) -> None:
    api = Api(old_emulator)
    name = f"job_{uuid.uuid4().hex[:8]}"
    api.python_job(name, "print('hi')\n")
    refused = api.post(f"jobs/{name}/executions", json={"args": "x"})
    assert (refused.status_code, refused.json()["errorCode"]) == (415, 120004)
    assert old_emulator.executions_started(name) == 0
    started = api.start(name, "plain")
    assert api.get(f"jobs/{name}/executions/{started['id']}/pod-logs").status_code == 404
    versions = api.get(f"{api.base}/variables/versions").json()
    assert {"software": "hopsworks", "version": "4.2.0"} in versions


def test_5_0_json_start_dates_reach_the_job_as_the_scheduler_hands_them(emulator_5_0: EmulatorHandle) -> None:
    api = Api(emulator_5_0)
    name = f"job_{uuid.uuid4().hex[:8]}"
    keys = ["HOPS_LOGICAL_DATE", "HOPS_START_TIME", "HOPS_END_TIME", "MY_VAR"]
    api.python_job(name, f"import os\nprint([os.environ.get(k) for k in {keys!r}])\n")
    body = {
        "args": "",
        "envVars": {"MY_VAR": "v"},
        "logicalDate": "2026-01-01T00:00:00+00:00",
        "dataIntervalEnd": "2026-01-02T00:00:00+00:00",
    }
    response = api.post(f"jobs/{name}/executions", json=body)
    assert response.status_code == 201
    done = api.wait(name, response.json()["id"])
    log = api.get(f"jobs/{name}/executions/{done['id']}/log/out").json()["log"]
    assert log.strip() == str(
        ["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00", "v"]
    )
    assert api.get(f"jobs/{name}/executions/{done['id']}/pod-logs").status_code == 404


def test_pod_logs_tail_a_running_python_execution(api: Api, job_name: str) -> None:
    api.python_job(job_name, TICKER)
    started = api.start(job_name)
    first = api.get(f"jobs/{job_name}/executions/{started['id']}/pod-logs").json()
    assert first["status"] in ("WAITING_FOR_POD", "AVAILABLE")
    if first["status"] == "WAITING_FOR_POD":
        assert first["available"] is False and "log" not in first
    api.wait_state(job_name, started["id"], {"RUNNING"})
    time.sleep(0.6)
    body = api.get(f"jobs/{job_name}/executions/{started['id']}/pod-logs", params={"lines": 3}).json()
    assert body["status"] == "AVAILABLE" and body["available"] is True
    assert body["podName"] and body["containerName"]
    lines = body["log"].splitlines()
    assert len(lines) == 3 and all(line.startswith("tick ") for line in lines)
    numbers = [int(line.split()[1]) for line in lines]
    assert numbers == list(range(numbers[0], numbers[0] + 3)) and numbers[0] > 0
    capped = api.get(
        f"jobs/{job_name}/executions/{started['id']}/pod-logs", params={"lines": 3, "limitBytes": 4}
    ).json()
    assert capped["log"] == "tick"  # limitBytes cuts from the start of the tail, like kubectl
    api.put(f"jobs/{job_name}/executions/{started['id']}/status", json={"state": "stopped"})
    api.wait(job_name, started["id"], logs=False)
    over = api.get(f"jobs/{job_name}/executions/{started['id']}/pod-logs").json()
    assert (over["status"], over["available"]) == ("LOGS_UNAVAILABLE", False)


def test_pod_logs_of_a_simulated_workload_are_unsupported(api: Api) -> None:
    tag = uuid.uuid4().hex[:8]
    api.put(
        f"jobs/docker_{tag}",
        json={"type": "dockerJobConfiguration", "imagePath": "busybox", "command": ["true"]},
    )
    started = api.start(f"docker_{tag}", "--emulator-duration=0.5")
    body = api.get(f"jobs/docker_{tag}/executions/{started['id']}/pod-logs").json()
    assert (body["status"], body["available"]) == ("UNSUPPORTED_WORKLOAD", False)
    assert body["message"]
    api.wait(f"docker_{tag}", started["id"], logs=False)


def test_unknown_execution_is_404(api: Api, job_name: str, tmp_path: Path) -> None:
    api.python_job(job_name, "print(1)\n")
    missing = api.get(f"jobs/{job_name}/executions/987654/pod-logs")
    assert (missing.status_code, missing.json()["errorCode"]) == (404, 130007)
