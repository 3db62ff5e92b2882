"""The short path every other part relies on: upload, create, run, read the real output."""

from __future__ import annotations

from tests.emulator.conftest import Api

SCRIPT = "import sys\nprint('hello from', sys.argv[1:])\n"


def test_python_job_runs_for_real_and_its_stdout_is_served(api: Api, job_name: str) -> None:
    """Upload -> PUT job -> POST execution -> FINISHED -> log.

    Source: the Hopsworks REST resources ``DatasetResource``, ``JobsResource`` and ``ExecutionsResource``.
    """
    api.python_job(job_name, SCRIPT)
    started = api.start(job_name, "one 'two three'")
    assert started["state"] == "INITIALIZING"
    done = api.wait(job_name, started["id"])
    assert (done["state"], done["finalStatus"]) == ("FINISHED", "SUCCEEDED")
    log = api.get(f"jobs/{job_name}/executions/{started['id']}/log/out").json()
    assert log["log"] == "hello from ['one', 'two three']\n"
    assert log["type"] == "OUT"
