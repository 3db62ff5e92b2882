"""Executions: start, list, get, stop, delete, and the state machine per job type.

Sources: the Hopsworks REST resource ``ExecutionsResource`` and ``AbstractExecutionController``,
Hopsworks' ``JobState`` enum, the official SDK module ``core/execution_api``, and
the ``hops job`` CLI's field notes (hopsworks-cli ``docs/feature/jobs.md``).
"""

from __future__ import annotations

import os
import re
import time
import uuid
from typing import Any

import pytest

from tests.emulator.conftest import Api

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SLEEPER = """
import os, sys, time
with open(os.path.join(os.environ["HOPSWORKS_PROJECT_DIR"], "Resources", sys.argv[1]), "w") as out:
    out.write(str(os.getpid()))
print("started", flush=True)
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 30)
print("finished")
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_start_is_text_plain_201_with_location_and_initial_state(api: Api, job_name: str) -> None:
    """201 + Location; INITIALIZING/UNDEFINED/0; no appId or log paths yet.

    Source: the Hopsworks REST resource ``ExecutionsResource`` (``startExecution``).
    """
    api.python_job(job_name, "print('hi')\n")
    response = api.post(f"jobs/{job_name}/executions", data="a b", headers={"Content-Type": "text/plain"})
    assert response.status_code == 201
    body = response.json()
    assert response.headers["Location"] == f"{api.project}/jobs/{job_name}/executions/{body['id']}"
    assert (body["state"], body["finalStatus"], body["progress"]) == ("INITIALIZING", "UNDEFINED", 0.0)
    assert not {"appId", "stdoutPath", "stderrPath", "count", "job"} & set(body)
    assert ISO.match(body["submissionTime"])
    assert body["args"] == "a b"
    api.wait(job_name, body["id"])


def test_start_with_another_content_type_is_415_and_starts_nothing(api: Api, job_name: str) -> None:
    """Only text/plain (or 5.x JSON); form data or no Content-Type -> 415/120004, nothing started.

    Source: the Hopsworks REST resource ``ExecutionsResource`` (``startExecution``).
    """
    api.python_job(job_name, "print('hi')\n")
    for headers in ({"Content-Type": "application/x-www-form-urlencoded"}, {}):
        response = api.post(f"jobs/{job_name}/executions", data=b"", headers=headers)
        assert response.status_code == 415
        assert response.json()["errorCode"] == 120004
    assert api.get(f"jobs/{job_name}/executions").json()["count"] == 0
    assert api.emulator.executions_started(job_name) == 0
    unknown = api.post("jobs/no_such_job_here/executions", data="", headers={"Content-Type": "text/plain"})
    assert unknown.status_code == 404
    assert unknown.json()["errorCode"] == 130009


def test_empty_body_falls_back_to_default_args(api: Api, job_name: str) -> None:
    """Empty args -> defaultArgs are used; given args replace them.

    Source: the Hopsworks REST resource ``ExecutionsResource`` (``startExecution``).
    """
    api.python_job(job_name, "import sys\nprint(sys.argv[1:])\n", default_args="--from defaults")
    defaulted = api.start(job_name, "")
    assert defaulted["args"] == "--from defaults"
    given = api.start(job_name, "--given")
    assert given["args"] == "--given"
    api.wait(job_name, defaulted["id"])
    api.wait(job_name, given["id"])
    log = api.get(f"jobs/{job_name}/executions/{defaulted['id']}/log/out").json()["log"]
    assert log.strip() == "['--from', 'defaults']"


def test_json_start_of_5x_passes_args_and_env_vars(api: Api, job_name: str) -> None:
    """application/json {"args","envVars"} is accepted too.

    Source: the official SDK module ``core/execution_api`` (``_start``, 5.x only).
    """
    api.python_job(job_name, "import os, sys\nprint(sys.argv[1:], os.environ['HOPS_START_TIME'])\n")
    response = api.post(
        f"jobs/{job_name}/executions",
        json={"args": "x", "envVars": {"HOPS_START_TIME": "2026-01-01T00:00:00+00:00"}},
    )
    assert response.status_code == 201
    done = api.wait(job_name, response.json()["id"])
    log = api.get(f"jobs/{job_name}/executions/{done['id']}/log/out").json()["log"]
    assert log.strip() == "['x'] 2026-01-01T00:00:00+00:00"


def test_python_states_and_exit_codes(api: Api, job_name: str) -> None:
    """Python INITIALIZING -> RUNNING -> FINISHED/SUCCEEDED; exit != 0 -> FAILED/FAILED.

    Source: Hopsworks' ``JobState`` enum.
    """
    api.python_job(job_name, "import sys, time\ntime.sleep(0.3)\nsys.exit(int(sys.argv[1]))\n")
    ok = api.start(job_name, "0")
    bad = api.start(job_name, "3")
    ok_done, bad_done = api.wait(job_name, ok["id"]), api.wait(job_name, bad["id"])
    assert (ok_done["state"], ok_done["finalStatus"], ok_done["progress"]) == ("FINISHED", "SUCCEEDED", 1.0)
    assert (bad_done["state"], bad_done["finalStatus"]) == ("FAILED", "FAILED")
    assert ok_done["duration"] >= 300
    history = [s for s, _ in api.emulator.execution_history(ok["id"])]
    assert history == ["INITIALIZING", "RUNNING", "FINISHED"]
    assert ok_done["appId"]
    assert ok_done["stdoutPath"].startswith("/Projects/demo/Logs/")


def test_missing_app_file_is_initialization_failed_without_logs(api: Api, job_name: str) -> None:
    """No app file -> INITIALIZATION_FAILED + UNDEFINED, duration 0, no logs.

    Source: Hopsworks' ``JobState`` enum and the ``hops job`` CLI's field notes.
    """
    api.put(
        f"jobs/{job_name}", json={"type": "pythonJobConfiguration", "appPath": "Resources/jobs/missing.py"}
    )
    done = api.wait(job_name, api.start(job_name)["id"])
    assert (done["state"], done["finalStatus"], done["duration"]) == ("INITIALIZATION_FAILED", "UNDEFINED", 0)
    assert "stdoutPath" not in done
    assert "appId" not in done


def test_pyspark_runs_through_the_yarn_states(api: Api, job_name: str) -> None:
    """PySpark .py runs for real through SUBMITTED .. AGGREGATING_LOGS, FINISHED.

    Source: Hopsworks' ``JobState`` enum (the YARN flow).
    """
    assert (
        api.upload(
            f"Resources/jobs/{job_name}",
            "app.py",
            b"import sys\nprint('spark says hi')\nsys.exit(len(sys.argv) - 1)\n",
        ).status_code
        == 200
    )
    config = {
        "type": "sparkJobConfiguration",
        "appPath": f"hdfs:///Projects/demo/Resources/jobs/{job_name}/app.py",
        "mainClass": "org.apache.spark.deploy.PythonRunner",
    }
    assert api.put(f"jobs/{job_name}", json=config).json()["jobType"] == "PYSPARK"
    ok = api.wait(job_name, api.start(job_name)["id"])
    assert (ok["state"], ok["finalStatus"]) == ("FINISHED", "SUCCEEDED")
    assert ok["appId"].startswith("application_")
    assert ok["stdoutPath"] == f"/Projects/demo/Logs/PySpark/{ok['appId']}/stdout.log"
    states = [s for s, _ in api.emulator.execution_history(ok["id"])]
    assert states == ["INITIALIZING", "SUBMITTED", "ACCEPTED", "RUNNING", "AGGREGATING_LOGS", "FINISHED"]
    failed = api.wait(job_name, api.start(job_name, "boom")["id"])
    assert (failed["state"], failed["finalStatus"]) == ("FINISHED", "FAILED")


def test_relative_app_path_fails_spark_types_in_initializing(api: Api, job_name: str) -> None:
    """A relative appPath works for PYTHON but not for PYSPARK (INITIALIZATION_FAILED).

    Source: the ``hops job`` CLI's field notes on ``appPath``.
    """
    assert api.upload(f"Resources/jobs/{job_name}", "app.py", b"print(1)\n").status_code == 200
    config = {
        "type": "sparkJobConfiguration",
        "appPath": f"Resources/jobs/{job_name}/app.py",
        "mainClass": "org.apache.spark.deploy.PythonRunner",
    }
    api.put(f"jobs/{job_name}", json=config)
    done = api.wait(job_name, api.start(job_name)["id"])
    assert (done["state"], done["finalStatus"]) == ("INITIALIZATION_FAILED", "UNDEFINED")


@pytest.mark.parametrize(
    ("args", "state", "final_status"),
    [
        ("--emulator-outcome=SUCCEEDED", "FINISHED", "SUCCEEDED"),
        ("--emulator-outcome=FAILED", "FINISHED", "FAILED"),
        ("--emulator-outcome=KILLED", "KILLED", "KILLED"),
        ("--emulator-outcome=FRAMEWORK_FAILURE", "FRAMEWORK_FAILURE", "UNDEFINED"),
        ("--emulator-outcome=APP_MASTER_START_FAILED", "APP_MASTER_START_FAILED", "UNDEFINED"),
        ("--emulator-state=FAILED --emulator-final-status=FAILED", "FAILED", "FAILED"),
    ],
)
def test_simulated_spark_jar_outcomes(
    api: Api, job_name: str, args: str, state: str, final_status: str
) -> None:
    """A SPARK jar cannot run here; its outcome is chosen through the arguments.

    Source: Hopsworks' ``JobState`` and ``JobFinalStatus`` enums.
    """
    assert (
        api.upload(f"Resources/jobs/{job_name}", "app.jar", b"PK\x03\x04 not really a jar").status_code == 200
    )
    config = {
        "type": "sparkJobConfiguration",
        "appPath": f"hdfs:///Projects/demo/Resources/jobs/{job_name}/app.jar",
        "mainClass": "org.example.Main",
    }
    api.put(f"jobs/{job_name}", json=config)
    done = api.wait(
        job_name,
        api.start(
            job_name, f"{args} --emulator-duration=0.1 '--emulator-stdout=Pi is roughly 3.14' real-arg"
        )["id"],
    )
    assert (done["state"], done["finalStatus"]) == (state, final_status)
    if "stdoutPath" in done:
        log = api.get(f"jobs/{job_name}/executions/{done['id']}/log/out").json()["log"]
        assert "Pi is roughly 3.14" in log
        assert "real-arg" in log


def test_simulated_ray_and_docker_jobs_finish(api: Api) -> None:
    """RAY and DOCKER go INITIALIZING -> RUNNING -> FINISHED (kube states), FAILED when asked.

    Source: Hopsworks' ``JobState.getKubeStates``.
    """
    tag = uuid.uuid4().hex[:8]
    assert api.upload("Resources/jobs", f"ray_{tag}.py", b"print('ray')\n").status_code == 200
    api.put(
        f"jobs/ray_{tag}", json={"type": "rayJobConfiguration", "appPath": f"Resources/jobs/ray_{tag}.py"}
    )
    api.put(
        f"jobs/docker_{tag}",
        json={"type": "dockerJobConfiguration", "imagePath": "busybox", "command": ["true"]},
    )
    ray = api.wait(f"ray_{tag}", api.start(f"ray_{tag}", "--emulator-duration=0.1")["id"])
    docker = api.wait(
        f"docker_{tag}", api.start(f"docker_{tag}", "--emulator-outcome=FAILED --emulator-duration=0.1")["id"]
    )
    assert (ray["state"], ray["finalStatus"]) == ("FINISHED", "SUCCEEDED")
    assert (docker["state"], docker["finalStatus"]) == ("FAILED", "FAILED")
    assert [s for s, _ in api.emulator.execution_history(ray["id"])] == [
        "INITIALIZING",
        "RUNNING",
        "FINISHED",
    ]


def test_stop_is_202_with_any_body_and_really_kills(api: Api, job_name: str) -> None:
    """PUT .../status, any body or none -> 202; the process dies; KILLED/KILLED.

    Source: Hopsworks' ``AbstractExecutionController.stopExecution``.
    """
    api.python_job(job_name, SLEEPER)
    bodies: list[dict[str, Any]] = [
        {"json": {"state": "stopped"}},
        {
            "data": "state=stopped",
            "headers": {"Content-Type": "application/json"},
        },  # what the SDK really sends
        {},
    ]
    for kwargs in bodies:
        marker = f"pid_{uuid.uuid4().hex[:8]}"
        execution = api.start(job_name, f"{marker} 30")
        api.wait_state(job_name, execution["id"], {"RUNNING"})
        pid_file = api.emulator.data_dir / "fs" / "Projects" / "demo" / "Resources" / marker
        deadline = time.monotonic() + 10
        while not (pid_file.exists() and pid_file.read_text()):
            assert time.monotonic() < deadline, "the job never wrote its pid"
            time.sleep(0.02)
        pid = int(pid_file.read_text())
        response = api.put(f"jobs/{job_name}/executions/{execution['id']}/status", **kwargs)
        assert response.status_code == 202
        assert response.json()["id"] == execution["id"]
        done = api.wait(job_name, execution["id"])
        assert (done["state"], done["finalStatus"]) == ("KILLED", "KILLED")
        deadline = time.monotonic() + 10
        while _alive(pid):
            assert time.monotonic() < deadline, "the job process survived the stop"
            time.sleep(0.05)
        log = api.get(f"jobs/{job_name}/executions/{execution['id']}/log/out").json()["log"]
        assert "started" in log
        assert "finished" not in log
        pid_file.unlink()


def test_stop_of_a_finished_execution_is_202_and_changes_nothing(api: Api, job_name: str) -> None:
    """Stopping a terminal execution answers 202 with the unchanged execution.

    Source: Hopsworks' ``AbstractExecutionController.stopExecution``.
    """
    api.python_job(job_name, "print(1)\n")
    done = api.wait(job_name, api.start(job_name)["id"])
    response = api.put(f"jobs/{job_name}/executions/{done['id']}/status")
    assert response.status_code == 202
    assert (response.json()["state"], response.json()["finalStatus"]) == ("FINISHED", "SUCCEEDED")


def test_unknown_execution_and_execution_of_another_job(api: Api, job_name: str) -> None:
    """Unknown id -> 404/130007; an id of another job -> 403/130026.

    Source: Hopsworks' ``AbstractExecutionController.authorize``.
    """
    api.python_job(job_name, "print(1)\n")
    api.python_job(f"{job_name}_other", "print(2)\n")
    other = api.start(f"{job_name}_other")
    missing = api.get(f"jobs/{job_name}/executions/987654321")
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == 130007
    foreign = api.get(f"jobs/{job_name}/executions/{other['id']}")
    assert foreign.status_code == 403
    assert foreign.json()["errorCode"] == 130026
    api.wait(f"{job_name}_other", other["id"])


def test_list_sort_filter_paging_and_empty_list_without_items(api: Api, job_name: str) -> None:
    """submissiontime:desc + limit=1 is the latest; filters; no ``items`` if empty.

    Source: Hopsworks' ``ExecutionFacade.Sorts`` and ``ExecutionFacade.Filters``.
    """
    api.python_job(job_name, "import sys\nsys.exit(int(sys.argv[1]))\n")
    empty = api.get(f"jobs/{job_name}/executions").json()
    assert empty == {"href": f"{api.project}/jobs/{job_name}/executions", "count": 0}
    ids = []
    for code in ("0", "1", "0"):
        ids.append(api.start(job_name, code)["id"])
        api.wait(job_name, ids[-1], logs=False)
    latest = api.get(
        f"jobs/{job_name}/executions", params={"sort_by": "submissiontime:desc", "limit": 1}
    ).json()
    assert latest["count"] == 3
    assert [e["id"] for e in latest["items"]] == [ids[-1]]
    default_desc = api.get(f"jobs/{job_name}/executions", params={"sort_by": "submissiontime"}).json()
    assert [e["id"] for e in default_desc["items"]] == ids[::-1]
    ascending = api.get(f"jobs/{job_name}/executions", params={"sort_by": "id:asc", "offset": 1}).json()
    assert [e["id"] for e in ascending["items"]] == ids[1:]
    failed = api.get(f"jobs/{job_name}/executions", params={"filter_by": "state:failed"}).json()
    assert [e["id"] for e in failed["items"]] == [ids[1]]
    not_failed = api.get(f"jobs/{job_name}/executions", params={"filter_by": "finalstatus_neq:FAILED"}).json()
    assert sorted(e["id"] for e in not_failed["items"]) == [ids[0], ids[2]]
    none_running = api.get(
        f"jobs/{job_name}/executions", params={"filter_by": "state:RUNNING,ACCEPTED"}
    ).json()
    assert "items" not in none_running
    assert none_running["count"] == 0
    first = api.execution(job_name, ids[0])
    later = api.get(
        f"jobs/{job_name}/executions", params={"filter_by": f"submissiontime_gt:{first['submissionTime']}"}
    ).json()
    assert sorted(e["id"] for e in later["items"]) == ids[1:]


def test_bad_sort_is_120004_and_bad_date_is_310000(api: Api, job_name: str) -> None:
    """Invalid sort field -> 404/120004; unparseable date filter -> 404/310000.

    Source: Hopsworks' ``ExecutionFacade.Sorts`` and ``ExecutionFacade.Filters``.
    """
    api.python_job(job_name, "print(1)\n")
    bad_sort = api.get(f"jobs/{job_name}/executions", params={"sort_by": "colour:desc"})
    assert (bad_sort.status_code, bad_sort.json()["errorCode"]) == (404, 120004)
    bad_key = api.get(f"jobs/{job_name}/executions", params={"filter_by": "colour:red"})
    assert (bad_key.status_code, bad_key.json()["errorCode"]) == (404, 120004)
    bad_date = api.get(f"jobs/{job_name}/executions", params={"filter_by": "submissiontime_gt:yesterday"})
    assert (bad_date.status_code, bad_date.json()["errorCode"]) == (404, 310000)


def test_delete_execution_is_204_and_kills_a_running_one(api: Api, job_name: str) -> None:
    """DELETE -> 204; the execution is gone; a running one is killed first.

    Source: the Hopsworks REST resource ``ExecutionsResource`` (delete).
    """
    api.python_job(job_name, SLEEPER)
    execution = api.start(job_name, f"pid_{uuid.uuid4().hex[:8]} 30")
    api.wait_state(job_name, execution["id"], {"RUNNING"})
    assert api.delete(f"jobs/{job_name}/executions/{execution['id']}").status_code == 204
    assert api.get(f"jobs/{job_name}/executions/{execution['id']}").json()["errorCode"] == 130007


def test_parallel_executions_of_one_job(api: Api, job_name: str) -> None:
    """Several executions of the same job may run at once.

    Source: the Hopsworks REST resource ``ExecutionsResource`` and its integration tests.
    """
    api.python_job(job_name, "import time\ntime.sleep(0.5)\nprint('done')\n")
    started = [api.start(job_name) for _ in range(3)]
    for execution in started:
        api.wait_state(job_name, execution["id"], {"RUNNING", "FINISHED"})
    running_at_once = api.get(f"jobs/{job_name}/executions", params={"filter_by": "state:RUNNING"}).json()[
        "count"
    ]
    assert running_at_once >= 2
    for execution in started:
        assert api.wait(job_name, execution["id"])["finalStatus"] == "SUCCEEDED"


def test_sdk_style_app_path_with_a_double_slash_runs(api: Api, job_name: str) -> None:
    """The SDK turns ``/Resources/x.py`` into ``hdfs:///Projects/p//Resources/x.py``, which works.

    Source: the official SDK's ``util._convert_to_abs``.
    """
    api.python_job(job_name, "print('double slash ok')\n")
    config = {
        "type": "pythonJobConfiguration",
        "appPath": f"hdfs:///Projects/demo//Resources/jobs/{job_name}/{job_name}.py",
    }
    assert api.put(f"jobs/{job_name}", json=config).status_code == 200
    done = api.wait(job_name, api.start(job_name)["id"])
    assert (done["state"], done["finalStatus"]) == ("FINISHED", "SUCCEEDED")


def test_jobs_see_their_context_but_never_the_api_key(api: Api, job_name: str) -> None:
    """Jobs get HOPSWORKS_* context variables; no variable of theirs holds the emulator's API key."""
    script = (
        "import os\n"
        "print(os.environ['HOPSWORKS_JOB_NAME'], os.environ['HOPSWORKS_EXECUTION_ID'])\n"
        "print('\\n'.join(f'{k}={v}' for k, v in os.environ.items()))\n"
    )
    api.python_job(job_name, script)
    done = api.wait(job_name, api.start(job_name)["id"])
    log = api.get(f"jobs/{job_name}/executions/{done['id']}/log/out").json()["log"]
    assert log.splitlines()[0] == f"{job_name} {done['id']}"
    secret = api.emulator.api_key.split(".", 1)[1]
    assert secret not in log
