"""The README's DAG-testing example runs as written, in a fresh project folder.

The test file is the README's own code block (extracted, not copied), so the README and this
test cannot drift apart. It runs in a separate ``pytest`` process in a temporary folder with
nothing but that file and a ``dags/`` folder, and an environment without any ``AIRFLOW_*``
setting: what the pytest plugin provides must be enough.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
#: The sentence that introduces the example, then its code block.
INTRO = "For your own DAG tests the package registers a pytest plugin"

MY_PIPELINE = textwrap.dedent(
    '''
    """The user's DAG the README example tests: create a job from a script, then run it."""

    from datetime import datetime
    from pathlib import Path

    from airflow.sdk import DAG

    from airflow_provider_hopsjobs.operators.jobs import HopsworksCreateJobOperator, HopsworksRunJobOperator

    with DAG("my_pipeline", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
        create = HopsworksCreateJobOperator(
            task_id="create_feature_job",
            job_name="feature_job",
            job_type="PYTHON",
            app_file=str(Path(__file__).parent / "jobs" / "features.py"),
        )
        run = HopsworksRunJobOperator(task_id="features", job_name="feature_job", poll_interval=1)
        create >> run
    '''
)


def readme_test_block() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(INTRO)
    match = re.compile(r"```python\n(.*?)```", re.DOTALL).search(text, start)
    assert match is not None, "no python block after the pytest plugin sentence in README.md"
    return match.group(1)


def test_the_block_is_the_one_under_the_plugin_sentence() -> None:
    block = readme_test_block()
    assert block.startswith("def test_my_pipeline(hopsworks_conn)")
    assert "executions_started(" in block


@pytest.mark.airflow_e2e
def test_readme_pytest_example_runs_verbatim_in_a_fresh_folder(tmp_path: Path) -> None:
    (tmp_path / "test_readme.py").write_text(readme_test_block(), encoding="utf-8")
    (tmp_path / "dags" / "jobs").mkdir(parents=True)
    (tmp_path / "dags" / "my_pipeline.py").write_text(MY_PIPELINE, encoding="utf-8")
    (tmp_path / "dags" / "jobs" / "features.py").write_text("print('features ready')\n", encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
    # This tree first: the installed entry point then loads this checkout's plugin.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "1 passed" in output
    assert "hopsjobs: throw-away AIRFLOW_HOME" in output


def test_the_plugin_docstring_shows_the_same_example() -> None:
    """The plugin's own docstring once showed ``DagBag(..., include_examples=False)``, a TypeError on 3.3."""
    from airflow_provider_hopsjobs.emulator import pytest_plugin

    doc = str(pytest_plugin.__doc__)
    example = readme_test_block().replace("  # one emulator per session; conn env var set per test", "")
    assert textwrap.indent(example, "    ") in doc
    assert "include_examples" not in doc


def _block_after(sentence: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.compile(r"```python\n(.*?)```", re.DOTALL).search(text, text.index(sentence))
    assert match is not None, f"no python block after {sentence!r} in README.md"
    return match.group(1)


def test_readme_fault_rule_examples_are_accepted(hopsworks_conn: Any) -> None:
    block = _block_after("A fault rule (`set_faults`")
    for line in (line for line in block.splitlines() if "set_faults(" in line):
        exec(line, {"hopsworks_conn": hopsworks_conn})  # the README's own example
        assert hopsworks_conn.faults()["rules"], line


def test_the_handle_and_the_fixture_keep_state_in_a_temporary_directory(hopsworks_conn: Any) -> None:
    """What the README promises: only the ``hopsjobs emulator`` command defaults to a lasting directory."""
    import tempfile

    from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle

    default_dir = Path(EmulatorHandle().data_dir)
    default_dir.rmdir()
    assert default_dir.is_relative_to(tempfile.gettempdir())
    assert Path(hopsworks_conn.data_dir).is_relative_to(tempfile.gettempdir())


PROBE = """
import os


def test_probe():
    print()
    print("HOME=" + os.environ.get("AIRFLOW_HOME", "-"))
    print("DAGS=" + os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", "-"))
"""


def _probe(
    folder: Path,
    env_extra: dict[str, str],
    *,
    conftest: str = "",
    ini: str = "",
    probe: str = PROBE,
    keys: tuple[str, ...] = ("HOME=", "DAGS="),
) -> dict[str, str]:
    """Run a one-test pytest in ``folder``; the ``KEY=value`` lines its test printed."""
    (folder / "test_probe.py").write_text(probe, encoding="utf-8")
    if conftest:
        (folder / "conftest.py").write_text(conftest, encoding="utf-8")
    (folder / "pytest.ini").write_text(f"[pytest]\n{ini}\n", encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(env_extra)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-s",
            "-p",
            "no:cacheprovider",
            "-W",
            "error::pytest.PytestConfigWarning",
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if line.startswith(keys))


def test_the_plugin_replaces_a_shell_airflow_home_with_a_throwaway_one(tmp_path: Path) -> None:
    seen = _probe(tmp_path, {"AIRFLOW_HOME": str(tmp_path / "my-real-airflow")})
    assert seen["HOME"] != str(tmp_path / "my-real-airflow")
    assert "hopsjobs-pytest-airflow-" in seen["HOME"]
    assert seen["DAGS"] == str((tmp_path / "dags").resolve())


def test_the_plugin_leaves_a_conftest_airflow_home_alone(tmp_path: Path) -> None:
    conftest = f"import os\nos.environ['AIRFLOW_HOME'] = {str(tmp_path / 'own')!r}\n"
    seen = _probe(tmp_path, {}, conftest=conftest)
    assert seen == {"HOME": str(tmp_path / "own"), "DAGS": "-"}


def test_the_plugin_can_be_turned_off_and_pointed_at_another_folder(tmp_path: Path) -> None:
    off = _probe(tmp_path, {"AIRFLOW_HOME": "/x"}, ini="hopsworks_airflow_home = off")
    assert off == {"HOME": "/x", "DAGS": "-"}
    elsewhere = _probe(tmp_path, {}, ini="hopsworks_dags_folder = pipelines/dags")
    assert elsewhere["DAGS"] == str((tmp_path / "pipelines" / "dags").resolve())


VERSION_PROBE = """
import requests


def test_probe(hopsworks_emulator):
    answer = requests.get(
        hopsworks_emulator.base_url + "/hopsworks-api/api/variables/versions",
        headers={"Authorization": "ApiKey " + hopsworks_emulator.api_key},
        timeout=10,
    )
    served = {item["software"]: item["version"] for item in answer.json()}
    print()
    print("VERSION=" + served["hopsworks"])
"""


def test_the_session_emulator_plays_the_hopsworks_version_the_ini_names(tmp_path: Path) -> None:
    seen = _probe(tmp_path, {}, ini="hopsworks_version = 4.x", probe=VERSION_PROBE, keys=("VERSION=",))
    assert seen == {"VERSION": "4.2.0"}  # what the server itself reports as its version
