"""What ``scripts/check_package.sh`` checks in the built sdist and wheel, and in a clean install.

Three commands, each printing ``PASS``/``FAIL`` lines and exiting non-zero on any failure:

``dist DIR --source ROOT``
    The sdist and wheel in DIR (standard library only, any Python): names and version, metadata
    (license, Python, Airflow, the ``emulator`` extra, entry points), and contents. Required: every
    file of the package, ``py.typed``, the example DAGs with the job scripts they upload (as
    ``airflow_provider_hopsjobs/example_dags``), ``LICENSE``; forbidden anywhere: tests,
    benchmarks, caches, virtual environments, the installer's folder.
``installed --version V --work DIR [--no-extra-python PY]``
    Run with the Python of a clean environment holding only the wheel (with ``[emulator]``) and
    Airflow: the installed package is the wheel's, ``airflow providers list`` shows it with its
    version, the ``hopsworks`` connection type is registered, the ``hopsjobs`` plugin loads with
    its timetable (and a DAG using it survives serialisation), ``hopsjobs emulator`` starts, and
    the example pipeline runs end to end against it with ``dag.test()``. With
    ``--no-extra-python``, ``hopsjobs emulator`` of that environment (the wheel without
    ``[emulator]``) must start too, or say what is missing.
``bare --work DIR``
    Run with the Python of an environment holding the wheel alone (``--no-deps``): ``hopsjobs
    emulator`` must fail with a message that names the ``[emulator]`` extra, not a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

PACKAGE = "airflow_provider_hopsjobs"
DIST_NAME = "airflow-provider-hopsjobs"
EXAMPLE_DAGS = "example_dags"
EXAMPLE_DAG_ID = "example_hopsworks_pipeline"
EXAMPLE_TASKS = (
    "create_example_features",
    "create_example_training",
    "create_example_evaluation",
    "compute_features",
    "train_model",
    "training_succeeded",
    "evaluate_model",
)
#: Lines the example jobs print: seen in dag.test()'s output, they prove the task logs got the jobs' stdout.
EXAMPLE_JOB_OUTPUT = ("FEATURES_READY", "MODEL_TRAINED", "MODEL_EVALUATED")
QUARTZ_DAG_ID = "example_hopsworks_quartz_schedule"
TIMETABLE = f"{PACKAGE}.timetables.quartz.QuartzCronTimetable"
HOOK = f"{PACKAGE}.hooks.hopsworks.HopsworksHook"
ENTRY_POINTS = {
    "apache_airflow_provider": {"provider_info": f"{PACKAGE}:get_provider_info"},
    "airflow.plugins": {"hopsjobs": f"{PACKAGE}.plugins:HopsjobsPlugin"},
    "pytest11": {"hopsjobs_emulator": f"{PACKAGE}.emulator.pytest_plugin"},
    "console_scripts": {"hopsjobs": f"{PACKAGE}.cli.main:main"},
}
#: Path parts that never belong in a distribution: tests, benchmarks, caches, environments, tools.
FORBIDDEN_PARTS = frozenset(
    {
        "tests",
        "test",
        "benchmarks",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        ".git",
        ".tools",
        "site-packages",
        "node_modules",
    }
)
FORBIDDEN_NAMES = re.compile(r"^(conftest\.py|test_.*\.py|.*_test\.py|pyvenv\.cfg|.*\.py[co])$")
LICENSE_MARKERS = ("Apache License", "Version 2.0, January 2004", "END OF TERMS AND CONDITIONS")
#: Files and folders of a source tree that are not shipped (what .gitignore keeps out of git).
_SOURCE_SKIP = re.compile(r"^(__pycache__|.*\.py[co]|\.DS_Store)$")


class Report:
    """Collects PASS/FAIL lines; ``failed`` tells whether any check failed."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        line = f"{'PASS' if ok else 'FAIL'} {what}"
        if detail and not ok:
            line += f": {detail}"
        print(line, flush=True)
        if not ok:
            self.failures.append(what)
        return ok

    def note(self, text: str) -> None:
        print(f"NOTE {text}", flush=True)

    @property
    def failed(self) -> bool:
        return bool(self.failures)


# -- the built files ---------------------------------------------------------------------------
def source_version(root: Path) -> str:
    match = re.search(r'^__version__ = "([^"]+)"', (root / PACKAGE / "__init__.py").read_text(), re.M)
    if not match:
        raise SystemExit(f"no __version__ in {root / PACKAGE / '__init__.py'}")
    return match[1]


def source_files(root: Path, folder: str) -> list[str]:
    """Files under ``root/folder`` that a distribution ships, as POSIX paths relative to root."""
    found = []
    for path in sorted((root / folder).rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not any(_SOURCE_SKIP.match(part) for part in rel.parts):
            found.append(rel.as_posix())
    return found


def expected_wheel_files(root: Path) -> list[str]:
    package = source_files(root, PACKAGE)
    examples = [f"{PACKAGE}/{name}" for name in source_files(root, EXAMPLE_DAGS)]
    return package + examples


def forbidden(paths: Iterable[str]) -> list[str]:
    """Paths that hold a test, a benchmark, a cache, a virtual environment or the installer."""
    bad = []
    for path in paths:
        parts = PurePosixPath(path).parts
        if any(
            part in FORBIDDEN_PARTS or part.startswith(".venv") for part in parts
        ) or FORBIDDEN_NAMES.match(parts[-1]):
            bad.append(path)
    return bad


def _entry_points(text: str) -> dict[str, dict[str, str]]:
    groups: dict[str, dict[str, str]] = {}
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
            groups.setdefault(group, {})
        elif group is not None and "=" in line:
            name, value = line.split("=", 1)
            groups[group][name.strip()] = value.strip()
    return groups


def check_metadata(report: Report, metadata_text: str, version: str, where: str) -> None:
    meta = email.parser.Parser().parsestr(metadata_text)
    report.check(meta["Name"] == DIST_NAME, f"{where}: Name is {DIST_NAME}", str(meta["Name"]))
    report.check(meta["Version"] == version, f"{where}: Version is {version}", str(meta["Version"]))
    report.check(
        meta["License-Expression"] == "Apache-2.0",
        f"{where}: License-Expression is Apache-2.0",
        str(meta["License-Expression"]),
    )
    report.check(
        "LICENSE" in (meta.get_all("License-File") or []),
        f"{where}: License-File names LICENSE",
        str(meta.get_all("License-File")),
    )
    report.check(
        meta["Requires-Python"] == ">=3.10", f"{where}: Requires-Python >=3.10", str(meta["Requires-Python"])
    )
    requires = meta.get_all("Requires-Dist") or []
    report.check(
        any(re.match(r"apache-airflow\s*>=\s*3\.0", r) for r in requires),
        f"{where}: requires apache-airflow>=3.0",
        str(requires),
    )
    report.check(
        "emulator" in (meta.get_all("Provides-Extra") or []),
        f"{where}: provides the emulator extra",
        str(meta.get_all("Provides-Extra")),
    )
    report.check(
        (meta["Description-Content-Type"] or "").startswith("text/markdown")
        and len(meta.get_payload()) > 1000,
        f"{where}: the README is the long description (markdown)",
    )


def check_license_text(report: Report, text: str, source: bytes, where: str) -> None:
    report.check(
        all(marker in text for marker in LICENSE_MARKERS),
        f"{where}: LICENSE holds the full Apache License 2.0 text",
    )
    report.check(text.encode() == source, f"{where}: LICENSE is the repository's LICENSE")


def check_wheel(report: Report, wheel: Path, root: Path, version: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = f"{PACKAGE}-{version}.dist-info"
        files = set(names)
        missing = [name for name in expected_wheel_files(root) if name not in files]
        report.check(not missing, "wheel: every file of the package and of example_dags", str(missing[:10]))
        report.check(f"{PACKAGE}/py.typed" in files, "wheel: py.typed (the package is typed)")
        jobs = [n for n in names if n.startswith(f"{PACKAGE}/{EXAMPLE_DAGS}/jobs/") and n.endswith(".py")]
        report.check(
            bool(jobs) and f"{PACKAGE}/{EXAMPLE_DAGS}/.airflowignore" in files,
            "wheel: the example DAGs' job scripts and .airflowignore",
            str(jobs),
        )
        license_name = f"{info}/licenses/LICENSE"
        if report.check(license_name in files, f"wheel: {license_name}"):
            text = archive.read(license_name).decode("utf-8", "replace")
            check_license_text(report, text, (root / "LICENSE").read_bytes(), "wheel")
        stray = [n for n in names if not n.startswith((f"{PACKAGE}/", f"{info}/"))]
        report.check(not stray, f"wheel: nothing outside {PACKAGE}/ and its dist-info", str(stray[:10]))
        bad = forbidden(names)
        report.check(not bad, "wheel: no tests, benchmarks, caches or virtual environments", str(bad[:10]))
        if report.check(f"{info}/METADATA" in files, "wheel: METADATA"):
            check_metadata(report, archive.read(f"{info}/METADATA").decode(), version, "wheel")
        points = (
            _entry_points(archive.read(f"{info}/entry_points.txt").decode())
            if (f"{info}/entry_points.txt" in files)
            else {}
        )
        for group, entries in ENTRY_POINTS.items():
            for name, value in entries.items():
                got = points.get(group, {}).get(name)
                report.check(got == value, f"wheel: entry point [{group}] {name} = {value}", str(got))


def check_sdist(report: Report, sdist: Path, root: Path, version: str) -> None:
    top = f"{PACKAGE}-{version}"
    with tarfile.open(sdist) as archive:
        members = archive.getmembers()
        names = [m.name for m in members if m.isfile()]
        stray = [n for n in names if not n.startswith(f"{top}/")]
        report.check(not stray, f"sdist: everything under {top}/", str(stray[:10]))
        files = {n.removeprefix(f"{top}/") for n in names}
        wanted = ["PKG-INFO", "pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md"]
        wanted += source_files(root, PACKAGE) + source_files(root, EXAMPLE_DAGS)
        missing = [name for name in wanted if name not in files]
        report.check(
            not missing, "sdist: package, example_dags, README, CHANGELOG, LICENSE", str(missing[:10])
        )
        bad = forbidden(files)
        report.check(not bad, "sdist: no tests, benchmarks, caches or virtual environments", str(bad[:10]))
        extracted = archive.extractfile(f"{top}/LICENSE") if "LICENSE" in files else None
        if extracted is not None:
            check_license_text(
                report, extracted.read().decode("utf-8", "replace"), (root / "LICENSE").read_bytes(), "sdist"
            )
        info = archive.extractfile(f"{top}/PKG-INFO") if "PKG-INFO" in files else None
        if info is not None:
            check_metadata(report, info.read().decode(), version, "sdist")


def check_dist(dist: Path, root: Path) -> Report:
    report = Report()
    version = source_version(root)
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    wheel_name = f"{PACKAGE}-{version}-py3-none-any.whl"
    sdist_name = f"{PACKAGE}-{version}.tar.gz"
    report.check(
        [w.name for w in wheels] == [wheel_name], f"one wheel, {wheel_name}", str([w.name for w in wheels])
    )
    report.check(
        [s.name for s in sdists] == [sdist_name], f"one sdist, {sdist_name}", str([s.name for s in sdists])
    )
    if wheels:
        check_wheel(report, wheels[0], root, version)
    if sdists:
        check_sdist(report, sdists[0], root, version)
    return report


# -- the clean install -------------------------------------------------------------------------
def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _json_from(output: str) -> Any:
    """The JSON document of an ``airflow ... -o json`` command, past any log lines before it."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"^[\[{]", output, re.M):
        with contextlib.suppress(ValueError):
            return decoder.raw_decode(output[match.start() :])[0]
    raise ValueError(f"no JSON in the output: {output[-500:]!r}")


def airflow_env(home: Path, dags_folder: Path | None = None, conn: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "PYTHONWARNINGS": "ignore",
        }
    )
    if dags_folder is not None:
        env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
    if conn is not None:
        env["AIRFLOW_CONN_HOPSWORKS_DEFAULT"] = conn
    return env


def run(
    cmd: Sequence[str], env: dict[str, str], cwd: Path, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def airflow_json(args: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[Any, str]:
    """(parsed JSON or None, what went wrong) for ``airflow ARGS -o json``."""
    done = run([_bin("airflow"), *args, "-o", "json"], env, cwd)
    if done.returncode != 0:
        return None, f"exit {done.returncode}: {done.stderr[-800:]}"
    try:
        return _json_from(done.stdout), ""
    except ValueError as err:
        return None, str(err)


class Emulator:
    """``hopsjobs emulator`` of one environment, as a user starts it; stopped on exit."""

    def __init__(self, hopsjobs: str, work: Path) -> None:
        self.hopsjobs, self.work = hopsjobs, work
        self.ready = work / "ready.json"
        self.log = work / "emulator.out"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Emulator:
        self.work.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [self.hopsjobs, "emulator", "--port", "0", "--project", "demo", "--data-dir",
                 str(self.work / "data"), "--ready-file", str(self.ready)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        return self

    def wait_ready(self, timeout: float = 60) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready.exists() and "AIRFLOW_CONN_HOPSWORKS_DEFAULT" in self.output():
                return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def connection(self) -> str | None:
        """The value of the ready-to-paste ``export AIRFLOW_CONN_HOPSWORKS_DEFAULT='...'`` line."""
        match = re.search(r"^export AIRFLOW_CONN_HOPSWORKS_DEFAULT='(.*)'$", self.output(), re.M)
        return match[1] if match else None

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


#: Run in the clean environment: parse the example DAGs, round-trip the Quartz DAG through
#: serialisation (what the plugin registration is for), then run the pipeline with dag.test().
DAG_TEST = r"""
import json, sys
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 3.0-3.2
    from airflow.models.dagbag import DagBag
from airflow.serialization import serialized_objects

# Airflow 3.3 calls it DagSerialization, 3.0-3.2 SerializedDAG.
serializer = getattr(serialized_objects, "DagSerialization", None) or serialized_objects.SerializedDAG
folder, dag_id, quartz_id = sys.argv[1:4]
bag = DagBag(dag_folder=folder)
quartz = serializer.from_dict(json.loads(json.dumps(serializer.to_dict(bag.get_dag(quartz_id)))))
result = {
    "dags": sorted(bag.dag_ids),
    "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "quartz_timetable": type(quartz.timetable).__module__ + "." + type(quartz.timetable).__qualname__,
}
run = bag.get_dag(dag_id).test()
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
from sqlalchemy import select
with create_session() as session:
    tis = session.scalars(select(TaskInstance).where(TaskInstance.run_id == run.run_id)).all()
    result["tasks"] = {ti.task_id: str(ti.state) for ti in tis}
result["state"] = str(run.state)
print("PACKAGE-CHECK-RESULT " + json.dumps(result), flush=True)
"""


def _states(state: str) -> str:
    return state.rsplit(".", 1)[-1].lower()  # "DagRunState.SUCCESS" and "success" alike


def check_installed(version: str, work: Path, no_extra_python: str | None) -> Report:
    report = Report()
    work.mkdir(parents=True, exist_ok=True)
    import importlib.metadata

    import airflow_provider_hopsjobs as package

    installed_at = Path(package.__file__).resolve().parent
    report.check(
        Path(sys.prefix).resolve() in installed_at.parents,
        "the package is imported from the clean environment, not a source tree",
        str(installed_at),
    )
    report.check(package.__version__ == version, f"__version__ is {version}", package.__version__)
    report.check(
        importlib.metadata.version(DIST_NAME) == version,
        f"installed distribution {DIST_NAME} {version}",
        importlib.metadata.version(DIST_NAME),
    )
    report.check((installed_at / "py.typed").is_file(), "py.typed installed")
    dags_folder = installed_at / EXAMPLE_DAGS
    report.check(
        (dags_folder / "hopsworks_pipeline.py").is_file(), f"example DAGs installed in {dags_folder}"
    )
    import airflow

    report.note(f"Airflow {airflow.__version__}, Python {sys.version.split()[0]}, {sys.prefix}")

    env = airflow_env(work / "airflow-cli")
    providers, why = airflow_json(["providers", "list"], env, work)
    ours = [p for p in providers or [] if p.get("package_name") == DIST_NAME]
    report.check(
        bool(ours) and ours[0].get("version") == version,
        f"`airflow providers list` shows {DIST_NAME} {version}",
        why or str(ours),
    )
    hooks, why = airflow_json(["providers", "hooks"], env, work)
    conn = [h for h in hooks or [] if h.get("connection_type") == "hopsworks"]
    report.check(
        bool(conn) and conn[0].get("class") == HOOK and conn[0].get("package_name") == DIST_NAME,
        "`airflow providers hooks`: connection type hopsworks -> HopsworksHook",
        why or str(conn),
    )
    plugins, why = airflow_json(["plugins"], env, work)
    ours = [p for p in plugins or [] if p.get("name") == "hopsjobs"]
    report.check(
        bool(ours) and TIMETABLE in ours[0].get("timetables", []),
        "`airflow plugins`: the hopsjobs plugin loads with QuartzCronTimetable",
        why or str(ours),
    )

    with Emulator(_bin("hopsjobs"), work / "emulator") as emulator:
        up = report.check(emulator.wait_ready(), "`hopsjobs emulator` starts", emulator.output()[-1500:])
        conn_value = emulator.connection() if up else None
        if up:
            report.check(conn_value is not None, "it prints a ready-to-paste AIRFLOW_CONN_HOPSWORKS_DEFAULT")
        if conn_value is not None:
            check_example_dag(report, work, dags_folder, conn_value)

    if no_extra_python:
        hopsjobs = str(Path(no_extra_python).parent / "hopsjobs")
        with Emulator(hopsjobs, work / "emulator-no-extra") as emulator:
            up = emulator.wait_ready()
            out = emulator.output()
            # Airflow 3 itself installs Starlette, uvicorn and python-multipart: the emulator runs.
            report.check(
                up or "[emulator]" in out,
                "without [emulator] (wheel + Airflow only): `hopsjobs emulator` starts or names the extra",
                out[-1500:],
            )
            if up:
                report.note("without [emulator] the emulator starts: Airflow already installs what it needs")
    return report


def check_example_dag(report: Report, work: Path, dags_folder: Path, conn: str) -> None:
    home = work / "airflow-home"
    home.mkdir(parents=True, exist_ok=True)
    env = airflow_env(home, dags_folder, conn)
    migrated = run([_bin("airflow"), "db", "migrate"], env, work, timeout=300)
    if not report.check(migrated.returncode == 0, "`airflow db migrate` (SQLite)", migrated.stderr[-1500:]):
        return
    started = time.monotonic()
    done = run(
        [sys.executable, "-c", DAG_TEST, str(dags_folder), EXAMPLE_DAG_ID, QUARTZ_DAG_ID], env, work, 600
    )
    output = done.stdout + done.stderr
    (work / "dag-test.log").write_text(output)
    match = re.search(r"^PACKAGE-CHECK-RESULT (.*)$", done.stdout, re.M)
    if not report.check(
        done.returncode == 0 and match is not None,
        f"{EXAMPLE_DAG_ID} ran with dag.test() ({time.monotonic() - started:.0f} s)",
        f"exit {done.returncode}; last output:\n{output[-3000:]}",
    ):
        return
    assert match is not None
    result = json.loads(match[1])
    report.check(
        not result["import_errors"] and {EXAMPLE_DAG_ID, QUARTZ_DAG_ID} <= set(result["dags"]),
        "the installed example DAGs parse without errors",
        json.dumps(result["import_errors"] or result["dags"]),
    )
    report.check(
        result["quartz_timetable"] == TIMETABLE,
        "a DAG on QuartzCronTimetable survives serialisation (the plugin registers the timetable)",
        result["quartz_timetable"],
    )
    tasks = {task: _states(state) for task, state in result["tasks"].items()}
    report.check(
        _states(result["state"]) == "success" and tasks == dict.fromkeys(EXAMPLE_TASKS, "success"),
        f"{EXAMPLE_DAG_ID}: the run and all {len(EXAMPLE_TASKS)} tasks succeeded",
        f"run {result['state']}, tasks {tasks}",
    )
    missing = [line for line in EXAMPLE_JOB_OUTPUT if line not in output]
    report.check(not missing, "the jobs' stdout reached the task logs", f"missing {missing}")


def check_bare(work: Path) -> Report:
    """The wheel alone, without its dependencies: ``hopsjobs emulator`` must say what is missing."""
    report = Report()
    work.mkdir(parents=True, exist_ok=True)
    try:
        done = run(
            [_bin("hopsjobs"), "emulator", "--port", "0", "--data-dir", str(work / "data")],
            dict(os.environ),
            work,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        report.check(False, "without Starlette/uvicorn `hopsjobs emulator` exits", "still running after 60 s")
        return report
    out = done.stdout + done.stderr
    report.check(
        done.returncode != 0, "without Starlette/uvicorn `hopsjobs emulator` exits non-zero", out[-800:]
    )
    report.check(
        "[emulator]" in out and "Traceback" not in out,
        "... with a message naming the [emulator] extra, not a traceback",
        "it ends: "
        + (out.strip().splitlines() or ["(nothing)"])[-1]
        + (" (a traceback)" if "Traceback" in out else ""),
    )
    return report


# -- command line ------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    dist = sub.add_parser("dist", help="check the built sdist and wheel")
    dist.add_argument("dist", type=Path)
    dist.add_argument("--source", type=Path, required=True, help="the source tree they were built from")
    installed = sub.add_parser("installed", help="check the clean environment of this Python")
    installed.add_argument("--version", required=True, help="the version the wheel must report")
    installed.add_argument("--work", type=Path, required=True, help="a scratch folder")
    installed.add_argument("--no-extra-python", help="Python of an environment without [emulator]")
    bare = sub.add_parser("bare", help="check the wheel installed without its dependencies")
    bare.add_argument("--work", type=Path, required=True)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "dist":
        report = check_dist(args.dist, args.source.resolve())
    elif args.command == "installed":
        report = check_installed(args.version, args.work.resolve(), args.no_extra_python)
    else:
        report = check_bare(args.work.resolve())
    if report.failed:
        print(f"{len(report.failures)} check(s) failed: {'; '.join(report.failures)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
