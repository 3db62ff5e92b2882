"""The documentation site builds cleanly, and its code examples run, so the docs cannot drift.

- The site is built with Sphinx, warnings as errors and cross-references checked (``-W -n``),
  into a temporary folder: a docstring with broken markup fails the test suite.
- Every ``.. code-block:: python`` in ``docs/`` compiles. Blocks are marked by their
  ``:class:`` option:

  * ``doc-dag``: a whole DAG file. It is written, with stand-in job scripts for the
    ``app_file`` paths it names, into a folder of the test session's second DAG bundle and
    must import without errors and define a DAG;
  * ``doc-dag-test``: that DAG also runs through ``dag.test()`` against an emulator of this
    module's own, must succeed and must have started every job it runs;
  * ``doc-run``: a snippet executed against that emulator, with ``hopsworks_conn`` (the
    emulator handle) in scope as in a test using the fixture.

  Blocks without a mark are only compiled: the pytest example of the testing guide (run as
  written by ``tests/test_readme_examples.py``, from the README) and the DAGs that name jobs a
  real cluster would have (``doc-dag`` only).
- The troubleshooting guide has an entry per exception class, and the reference a page per
  public class.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hopsjobs import errors
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from tests.airflow_support import connect, private_emulator
from tests.conftest import GENERATED_DAGS

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCS = REPO_ROOT / "docs"
#: Where the docs' DAG files are written: inside the session's ``generated`` DAG bundle, so
#: ``dag.test()``, which re-parses its bundle, finds them.
DOC_DAGS = GENERATED_DAGS / "docs_examples"
#: What every stand-in job script prints; the log example must show it.
JOB_OUTPUT = "docs example job ran"

_BLOCK = re.compile(
    r"^(?P<indent> *)\.\. code-block:: python\n(?P<options>(?:(?P=indent)   :[\w-]+:.*\n)*)\n"
    r"(?P<body>(?:(?P=indent)   .*\n|[ \t]*\n)+)",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    marks: frozenset[str]
    code: str

    @property
    def label(self) -> str:
        return f"{self.page}:{self.line}"


def doc_blocks() -> list[Block]:
    blocks = []
    for page in sorted(DOCS.rglob("*.rst")):
        if "_build" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            marks = re.search(r":class:(.*)", match.group("options"))
            blocks.append(
                Block(
                    page=str(page.relative_to(DOCS)),
                    line=text.count("\n", 0, match.start()) + 1,
                    marks=frozenset(marks.group(1).split()) if marks else frozenset(),
                    code=textwrap.dedent(match.group("body")),
                )
            )
    return blocks


BLOCKS = doc_blocks()
DAG_BLOCKS = [b for b in BLOCKS if "doc-dag" in b.marks]
DAG_TEST_BLOCKS = [b for b in BLOCKS if "doc-dag-test" in b.marks]
RUN_BLOCKS = [b for b in BLOCKS if "doc-run" in b.marks]


def dag_id_of(block: Block) -> str:
    match = re.search(r'DAG\(\s*"([\w.-]+)"', block.code)
    assert match is not None, f"{block.label}: a doc-dag block names its dag_id first, as a string"
    return match.group(1)


def test_the_docs_have_examples_of_every_kind() -> None:
    assert len(DAG_BLOCKS) >= 5
    assert len(DAG_TEST_BLOCKS) >= 4
    assert len(RUN_BLOCKS) >= 4
    assert all("doc-dag" in b.marks for b in DAG_TEST_BLOCKS)


def test_the_site_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    env = dict(os.environ)
    # This tree first, so autodoc reads this checkout's docstrings.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    build = ["-W", "--keep-going", "-n", "-q", "-E", "-b", "html", str(DOCS), str(tmp_path / "html")]
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", *build],
        check=False,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    pages = {p.relative_to(tmp_path / "html").as_posix() for p in (tmp_path / "html").rglob("*.html")}
    assert {"index.html", "guides/troubleshooting.html", "reference/run_job_operator.html"} <= pages
    # autodoc really ran: the class's parameters are on its page.
    run_page = (tmp_path / "html" / "reference" / "run_job_operator.html").read_text(encoding="utf-8")
    assert "reattach_on_retry" in run_page


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.label)
def test_every_python_example_compiles(block: Block) -> None:
    compile(block.code, block.label, "exec")


def test_troubleshooting_has_one_entry_per_exception_class() -> None:
    classes = {
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == errors.__name__
    }
    text = (DOCS / "guides" / "troubleshooting.rst").read_text(encoding="utf-8")
    titles = set(re.findall(r"^(\w+)\n-+\n", text, re.MULTILINE))
    assert classes, "errors.py defines no exception class?"
    assert classes <= titles, f"no troubleshooting entry for {sorted(classes - titles)}"
    assert titles - {"Other problems"} <= classes, "an entry for a class errors.py no longer has"


PUBLIC_CLASSES = (
    "airflow_provider_hopsjobs.hooks.hopsworks.HopsworksHook",
    "airflow_provider_hopsjobs.operators.create.HopsworksCreateJobOperator",
    "airflow_provider_hopsjobs.operators.jobs.HopsworksRunJobOperator",
    "airflow_provider_hopsjobs.operators.jobs.HopsworksStopExecutionOperator",
    "airflow_provider_hopsjobs.operators.jobs.HopsworksDeleteJobOperator",
    "airflow_provider_hopsjobs.operators.schedules.HopsworksScheduleJobOperator",
    "airflow_provider_hopsjobs.sensors.execution.HopsworksExecutionSensor",
    "airflow_provider_hopsjobs.triggers.execution.HopsworksExecutionTrigger",
    "airflow_provider_hopsjobs.timetables.quartz.QuartzCronTimetable",
    "airflow_provider_hopsjobs.execution.Execution",
    "airflow_provider_hopsjobs.emulator.handle.EmulatorHandle",
)


def test_the_reference_has_a_page_per_public_class() -> None:
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (DOCS / "reference").glob("*.rst")}
    for name in PUBLIC_CLASSES:
        homes = [stem for stem, text in pages.items() if f".. autoclass:: {name}\n" in text]
        assert homes, f"no reference page documents {name}"
    assert any(".. automodule:: airflow_provider_hopsjobs.errors\n" in text for text in pages.values())


# -- the DAG examples ----------------------------------------------------------------------------


def _write_doc_dags() -> dict[str, Path]:
    """Every doc-dag block as a DAG file, with stand-in scripts for the app_file paths it names."""
    DOC_DAGS.mkdir(exist_ok=True)
    files = {}
    for number, block in enumerate(DAG_BLOCKS):
        dag_file = DOC_DAGS / f"docs_example_{number}.py"
        dag_file.write_text(f"# {block.label}\n{block.code}", encoding="utf-8")
        files[dag_id_of(block)] = dag_file
        for script in re.findall(r'app_file="([\w/.-]+)"', block.code):
            path = DOC_DAGS / script
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"print({JOB_OUTPUT!r})\n", encoding="utf-8")
    return files


@pytest.fixture(scope="module")
def doc_dag_bag() -> Any:
    from airflow.utils.db import initdb

    initdb()
    _write_doc_dags()
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0-3.2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

        return DagBag(dag_folder=str(DOC_DAGS), include_examples=False)  # type: ignore[call-arg]
    return DagBag(dag_folder=str(DOC_DAGS))


@pytest.fixture(scope="module")
def own_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    # Not the session emulator: the schedule example leaves a (disabled) v2 schedule behind,
    # which the schedule migration's tests would then see.
    with private_emulator(tmp_path_factory.mktemp("docs-emulator")) as handle:
        yield handle


@pytest.fixture
def emulator(own_emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> EmulatorHandle:
    return connect(own_emulator, monkeypatch)


def test_every_dag_example_imports(doc_dag_bag: Any) -> None:
    assert doc_dag_bag.import_errors == {}
    assert {dag_id_of(b) for b in DAG_BLOCKS} <= set(doc_dag_bag.dag_ids)


def _jobs_of(block: Block, operator: str) -> set[str]:
    """The job names given to one operator class in a DAG example, read from its syntax tree."""
    names = set()
    for node in ast.walk(ast.parse(block.code)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == operator:
            for keyword in node.keywords:
                if keyword.arg == "job_name" and isinstance(keyword.value, ast.Constant):
                    names.add(str(keyword.value.value))
    return names


_RUNS: dict[str, str] = {}


def run_doc_dag(bag: Any, dag_id: str, capfd: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """``dag.test()`` one docs DAG (once per module): its final state and what it printed."""
    capfd.readouterr()
    dag_run = bag.get_dag(dag_id).test()
    captured = capfd.readouterr()
    _RUNS[dag_id] = str(dag_run.state)
    return _RUNS[dag_id], captured.out + captured.err


@pytest.mark.airflow_e2e
@pytest.mark.parametrize("block", DAG_TEST_BLOCKS, ids=lambda b: b.label)
def test_dag_example_runs_on_the_emulator(
    block: Block, doc_dag_bag: Any, emulator: EmulatorHandle, capfd: pytest.CaptureFixture[str]
) -> None:
    state, output = run_doc_dag(doc_dag_bag, dag_id_of(block), capfd)
    assert state == "success", output[-5000:]
    run_jobs = _jobs_of(block, "HopsworksRunJobOperator")
    scheduled_jobs = _jobs_of(block, "HopsworksScheduleJobOperator")
    assert run_jobs | scheduled_jobs, f"{block.label}: a doc-dag-test example runs or schedules a job"
    for job in run_jobs:
        assert emulator.executions_started(job) >= 1, job
    if scheduled_jobs:
        from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

        hook = HopsworksHook()
        for job in scheduled_jobs:
            assert hook.get_schedule(job) is not None, job
    if run_jobs and "wait_for_completion=False" not in block.code:
        assert JOB_OUTPUT in output  # a job's stdout reached the task log


@pytest.mark.airflow_e2e
@pytest.mark.parametrize("block", RUN_BLOCKS, ids=lambda b: b.label)
def test_snippet_runs_against_the_emulator(
    block: Block, doc_dag_bag: Any, emulator: EmulatorHandle, capfd: pytest.CaptureFixture[str]
) -> None:
    # Snippets read the jobs the running-jobs example creates and runs.
    first = "docs_features_then_training"
    if first not in _RUNS:
        run_doc_dag(doc_dag_bag, first, capfd)
    assert _RUNS[first] == "success"
    printed = StringIO()
    with redirect_stdout(printed):
        exec(compile(block.code, block.label, "exec"), {"hopsworks_conn": emulator})
    if "iter_execution_log" in block.code:
        assert JOB_OUTPUT in printed.getvalue()
