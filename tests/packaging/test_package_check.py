"""The distribution checker (``scripts/package_check.py dist``) on small hand-made archives.

``scripts/check_package.sh`` runs it on the real sdist and wheel; here it meets a good pair and
then pairs with one thing wrong each, so a check that stopped failing would be noticed without
building anything.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
VERSION = "1.2.3"
LICENSE = "Apache License\nVersion 2.0, January 2004\n... END OF TERMS AND CONDITIONS\n"
README = "# airflow-provider-hopsjobs\n\n" + "A provider for Hopsworks jobs. " * 50
METADATA = f"""Metadata-Version: 2.4
Name: airflow-provider-hopsjobs
Version: {VERSION}
License-Expression: Apache-2.0
License-File: LICENSE
Requires-Python: >=3.10
Requires-Dist: apache-airflow>=3.0
Provides-Extra: emulator
Description-Content-Type: text/markdown

{README}"""
ENTRY_POINTS = """[apache_airflow_provider]
provider_info = airflow_provider_hopsjobs:get_provider_info

[airflow.plugins]
hopsjobs = airflow_provider_hopsjobs.plugins:HopsjobsPlugin

[console_scripts]
hopsjobs = airflow_provider_hopsjobs.cli.main:main

[pytest11]
hopsjobs_emulator = airflow_provider_hopsjobs.emulator.pytest_plugin
"""
SOURCE = {
    "airflow_provider_hopsjobs/__init__.py": f'__version__ = "{VERSION}"\n',
    "airflow_provider_hopsjobs/py.typed": "",
    "airflow_provider_hopsjobs/hooks/__init__.py": "",
    "example_dags/.airflowignore": "jobs/\n",
    "example_dags/pipeline.py": "",
    "example_dags/jobs/train.py": "print('MODEL_TRAINED')\n",
    "LICENSE": LICENSE,
}


@pytest.fixture(scope="module")
def checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("package_check", REPO / "scripts" / "package_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["package_check"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    for name, text in SOURCE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    # A cache in the source tree is never shipped and never asked for.
    (root / "airflow_provider_hopsjobs/__pycache__").mkdir()
    (root / "airflow_provider_hopsjobs/__pycache__/__init__.cpython-311.pyc").write_bytes(b"\0")
    return root


def wheel_files() -> dict[str, str]:
    info = f"airflow_provider_hopsjobs-{VERSION}.dist-info"
    files = {name: text for name, text in SOURCE.items() if name.startswith("airflow_provider_hopsjobs/")}
    files |= {f"airflow_provider_hopsjobs/{n}": t for n, t in SOURCE.items() if n.startswith("example_dags/")}
    files |= {
        f"{info}/METADATA": METADATA,
        f"{info}/entry_points.txt": ENTRY_POINTS,
        f"{info}/licenses/LICENSE": LICENSE,
        f"{info}/WHEEL": "Wheel-Version: 1.0\n",
        f"{info}/RECORD": "",
    }
    return files


def sdist_files() -> dict[str, str]:
    files = {name: text for name, text in SOURCE.items()}
    files |= {"PKG-INFO": METADATA, "pyproject.toml": "", "README.md": README, "CHANGELOG.md": ""}
    return files


def write_dist(dist: Path, wheel: dict[str, str], sdist: dict[str, str]) -> None:
    dist.mkdir()
    with zipfile.ZipFile(dist / f"airflow_provider_hopsjobs-{VERSION}-py3-none-any.whl", "w") as archive:
        for name, text in wheel.items():
            archive.writestr(name, text)
    with tarfile.open(dist / f"airflow_provider_hopsjobs-{VERSION}.tar.gz", "w:gz") as archive:
        for name, text in sdist.items():
            data = text.encode()
            member = tarfile.TarInfo(f"airflow_provider_hopsjobs-{VERSION}/{name}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))


def failures(checker: ModuleType, tmp_path: Path, source: Path, wheel: dict[str, str], sdist: dict[str, str]):
    write_dist(tmp_path / "dist", wheel, sdist)
    return checker.check_dist(tmp_path / "dist", source).failures


def test_a_good_pair_passes(checker, tmp_path, source):
    assert failures(checker, tmp_path, source, wheel_files(), sdist_files()) == []


def without(files: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in files.items() if not k.endswith(name)}


INFO = f"airflow_provider_hopsjobs-{VERSION}.dist-info"
CASES = {
    "no-license-in-wheel": (
        without(wheel_files(), "licenses/LICENSE"),
        sdist_files(),
        f"wheel: {INFO}/licenses",
    ),
    "no-py-typed": (without(wheel_files(), "py.typed"), sdist_files(), "wheel: py.typed"),
    "no-job-script": (
        without(wheel_files(), "jobs/train.py"),
        sdist_files(),
        "wheel: every file of the package",
    ),
    "tests-in-wheel": (wheel_files() | {"tests/test_hook.py": ""}, sdist_files(), "wheel: no tests"),
    "cache-in-wheel": (
        wheel_files() | {"airflow_provider_hopsjobs/__pycache__/x.cpython-311.pyc": ""},
        sdist_files(),
        "wheel: no tests",
    ),
    "no-changelog-in-sdist": (
        wheel_files(),
        without(sdist_files(), "CHANGELOG.md"),
        "sdist: package, example_dags",
    ),
    "benchmarks-and-venv-in-sdist": (
        wheel_files(),
        sdist_files() | {"benchmarks/chaos.py": "", ".venv/pyvenv.cfg": ""},
        "sdist: no tests",
    ),
    "wrong-license": (
        wheel_files() | {f"{INFO}/METADATA": METADATA.replace("Apache-2.0", "MIT")},
        sdist_files(),
        "wheel: License-Expression is Apache-2.0",
    ),
    "no-entry-points": (
        without(wheel_files(), "entry_points.txt"),
        sdist_files(),
        "wheel: entry point [airflow.plugins]",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_one_thing_wrong_fails_that_check(checker, tmp_path, source, case):
    wheel, sdist, expected = case
    failed = failures(checker, tmp_path, source, wheel, sdist)
    assert any(name.startswith(expected) for name in failed), failed


def test_a_license_that_is_not_the_full_text_fails(checker, tmp_path, source):
    wheel = wheel_files() | {f"{INFO}/licenses/LICENSE": "Apache-2.0\n"}
    failed = failures(checker, tmp_path, source, wheel, sdist_files())
    assert "wheel: LICENSE holds the full Apache License 2.0 text" in failed


def test_cli_exit_status(checker, tmp_path, source, capsys):
    write_dist(tmp_path / "dist", without(wheel_files(), "licenses/LICENSE"), sdist_files())
    assert checker.main(["dist", str(tmp_path / "dist"), "--source", str(source)]) == 1
    assert "FAIL wheel: airflow_provider_hopsjobs-1.2.3.dist-info/licenses/LICENSE" in capsys.readouterr().out
