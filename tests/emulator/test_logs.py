"""Execution logs: running, aggregated, empty, too big, not yet aggregated.

Sources: ``AbstractExecutionController.getLog`` and ``JobLogDTO`` in Hopsworks, and the official SDK's
log wait and download (``engine/execution_engine``).
"""

from __future__ import annotations

from tests.emulator.conftest import Api

NOT_YET = (
    "No log available. If job failed instantaneously, please check again later or try running the job again. "
    "Log aggregation can take a few minutes to complete."
)
TOO_BIG = "Log is too big to display in browser. Click on the download button to get the log file."


def test_logs_are_400_130010_while_running(api: Api, job_name: str) -> None:
    """GET .../log/out before a final state -> 400/130010 "Job still running.".

    Source: Hopsworks' ``AbstractExecutionController.getLog``.
    """
    api.python_job(job_name, "import time\nprint('x', flush=True)\ntime.sleep(30)\n")
    execution = api.start(job_name)
    api.wait_state(job_name, execution["id"], {"RUNNING"})
    response = api.get(f"jobs/{job_name}/executions/{execution['id']}/log/out")
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": 130010,
        "errorMsg": "Execution state is invalid.",
        "usrMsg": "Job still running.",
    }
    api.put(f"jobs/{job_name}/executions/{execution['id']}/status")
    api.wait(job_name, execution["id"])


def test_log_contents_type_upper_case_and_case_insensitive_path(api: Api, job_name: str) -> None:
    """{log, path, type}; ``type`` is upper-case; /log/OUT and /log/err both work; not base64.

    Source: Hopsworks' ``JobLogDTO``.
    """
    api.python_job(job_name, "import sys\nprint('to stdout: é')\nprint('to stderr', file=sys.stderr)\n")
    done = api.wait(job_name, api.start(job_name)["id"])
    out = api.get(f"jobs/{job_name}/executions/{done['id']}/log/OUT").json()
    err = api.get(f"jobs/{job_name}/executions/{done['id']}/log/err").json()
    assert out == {"log": "to stdout: é\n", "path": done["stdoutPath"], "type": "OUT"}
    assert err == {"log": "to stderr\n", "path": done["stderrPath"], "type": "ERR"}
    bad = api.get(f"jobs/{job_name}/executions/{done['id']}/log/both")
    assert (bad.status_code, bad.json()["errorCode"]) == (404, 120004)


def test_empty_logs_say_no_information_with_exact_retriable_spellings(api: Api, job_name: str) -> None:
    """Empty file -> "No information."; retriable RETRIEABLE_OUT (sic) / RETRIABLE_ERR.

    Source: Hopsworks' ``AbstractExecutionController.getLog``.
    """
    api.python_job(job_name, "import sys\nsys.exit(int(sys.argv[1]))\n")
    ok = api.wait(job_name, api.start(job_name, "0")["id"])
    out = api.get(f"jobs/{job_name}/executions/{ok['id']}/log/out").json()
    err = api.get(f"jobs/{job_name}/executions/{ok['id']}/log/err").json()
    assert (out["log"], out["retriable"]) == ("No information.", "RETRIEABLE_OUT")
    assert (err["log"], err["retriable"]) == ("No information.", "RETRIABLE_ERR")
    failed = api.wait(job_name, api.start(job_name, "1")["id"])
    failed_out = api.get(f"jobs/{job_name}/executions/{failed['id']}/log/out").json()
    assert failed_out["log"] == "No information."
    assert "retriable" not in failed_out


def test_log_over_one_million_bytes_is_a_placeholder_and_downloads_whole(api: Api, job_name: str) -> None:
    """> 1,000,000 bytes -> placeholder text; the file itself streams from the dataset API.

    Source: Hopsworks' ``AbstractExecutionController.getLog`` and ``DatasetResource``.
    """
    api.python_job(job_name, "import sys\nsys.stdout.write('y' * 1_000_001)\n")
    done = api.wait(job_name, api.start(job_name)["id"])
    out = api.get(f"jobs/{job_name}/executions/{done['id']}/log/out").json()
    assert out["log"] == TOO_BIG
    assert out["path"] == done["stdoutPath"]
    download = api.get(
        f"dataset/download/with_auth/{done['stdoutPath'].replace('/', '%2F')}",
        params={"type": "DATASET"},
        stream=True,
    )
    assert download.status_code == 200
    size = sum(len(chunk) for chunk in download.iter_content(65536))
    assert size == 1_000_001


def test_before_aggregation_python_says_no_log_available(api: Api, job_name: str) -> None:
    """Final state, logs not aggregated yet: PYTHON gets the "No log available..." text.

    Source: Hopsworks' ``AbstractExecutionController.getLog``.
    """
    api.emulator.set_timing(log_delay=5)
    api.python_job(job_name, "print('late')\n")
    done = api.wait(job_name, api.start(job_name)["id"], logs=False)
    assert done["state"] == "FINISHED"
    assert "stdoutPath" not in done
    out = api.get(f"jobs/{job_name}/executions/{done['id']}/log/out").json()
    assert out == {"log": NOT_YET, "type": "OUT", "retriable": "RETRIEABLE_OUT"}
    # POST .../log/out asks for the copy now, and answers with the log.
    retried = api.post(f"jobs/{job_name}/executions/{done['id']}/log/out").json()
    assert retried["log"] == "late\n"
    assert "stdoutPath" in api.execution(job_name, done["id"])


def test_before_aggregation_spark_types_have_no_log_key(api: Api, job_name: str) -> None:
    """For non-Python types a not-yet-aggregated log has no ``log`` key at all.

    Source: Hopsworks' ``AbstractExecutionController.getLog``.
    """
    api.emulator.set_timing(log_delay=5)
    assert api.upload(f"Resources/jobs/{job_name}", "app.jar", b"jar").status_code == 200
    api.put(
        f"jobs/{job_name}",
        json={
            "type": "sparkJobConfiguration",
            "appPath": f"hdfs:///Projects/demo/Resources/jobs/{job_name}/app.jar",
            "mainClass": "org.example.Main",
        },
    )
    done = api.wait(job_name, api.start(job_name, "--emulator-duration=0")["id"], logs=False)
    assert (done["state"], done["finalStatus"]) == ("FINISHED", "SUCCEEDED")
    out = api.get(f"jobs/{job_name}/executions/{done['id']}/log/out").json()
    assert "log" not in out
    assert out["type"] == "OUT"
