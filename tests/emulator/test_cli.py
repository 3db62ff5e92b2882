"""The console command: what it prints, start-up flags, bad input; and the emulator never imports Airflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from airflow_provider_hopsjobs.cli.main import main


def test_emulator_prints_base_url_and_a_connection_to_paste(tmp_path: Path) -> None:
    """``python -m airflow_provider_hopsjobs.emulator`` prints a ready-to-paste AIRFLOW_CONN value;
    ``--fault`` rules apply from the first request."""
    env = dict(os.environ, HOPSJOBS_EMULATOR_API_KEY="clitest.secretvalue")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_hopsjobs.emulator",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
            "--project",
            "cliproject",
            "--fault",
            "503~/variables/versions",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("export AIRFLOW_CONN_HOPSWORKS_DEFAULT="):
                break
        assert any("/hopsworks-api/api" in line for line in lines), lines
        value = lines[-1].split("=", 1)[1].strip().strip("'")
        conn = json.loads(value)
        assert conn["conn_type"] == "hopsworks"
        assert (conn["host"], conn["schema"], conn["password"]) == (
            "127.0.0.1",
            "http",
            "clitest.secretvalue",
        )
        assert conn["extra"] == {"project": "cliproject"}
        base = f"http://{conn['host']}:{conn['port']}/hopsworks-api/api"
        headers = {"Authorization": f"ApiKey {conn['password']}"}
        info = requests.get(f"{base}/project/getProjectInfo/cliproject", headers=headers, timeout=10)
        assert info.json()["projectName"] == "cliproject"
        assert requests.get(f"{base}/variables/versions", headers=headers, timeout=10).status_code == 503
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_bad_flags_are_refused_before_anything_starts(tmp_path: Path, capsys) -> None:
    """``hopsjobs emulator`` validates its input: a key without a dot, a bad fault rule, a bad port."""
    data = tmp_path / "never"
    assert main(["emulator", "--api-key", "nodot", "--data-dir", str(data)]) == 2
    assert main(["emulator", "--fault", "teapot", "--data-dir", str(data)]) == 2
    assert main(["emulator", "--port", "70000", "--data-dir", str(data)]) == 2
    assert main(["emulator", "--project", "../escape", "--data-dir", str(data)]) == 2
    assert "prefix" in capsys.readouterr().err
    assert not data.exists()


def test_the_emulator_never_imports_airflow() -> None:
    """The emulator must start fast and stand alone: importing the server pulls in no Airflow."""
    code = (
        "import sys; import airflow_provider_hopsjobs.emulator.server; "
        "import airflow_provider_hopsjobs.emulator.pytest_plugin; "
        "import airflow_provider_hopsjobs.timetables.quartz_cron; "
        "bad = sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')); print(bad); "
        "sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_the_server_packages_the_command_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The wheel installed alone (no Starlette, no uvicorn) says what to install, not a traceback."""
    import importlib.util

    from airflow_provider_hopsjobs.emulator import cli

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real_find_spec(name, *a)
    )
    assert cli.main(["--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "uvicorn not installed" in err
    assert "pip install 'airflow-provider-hopsjobs[emulator]'" in err
