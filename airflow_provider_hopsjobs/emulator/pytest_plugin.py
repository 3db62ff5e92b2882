"""pytest fixtures that put a Hopsworks emulator, and a throw-away Airflow, behind your DAG tests.

Registered automatically (entry point ``pytest11``) when the provider is installed:

* ``hopsworks_emulator`` (session): an :class:`~.handle.EmulatorHandle` for one emulator
  process on a free port with a temporary data directory, stopped (with its job processes)
  when the session ends. It offers ``base_url``, ``host``, ``port``, ``api_key``,
  ``project``, ``project_id``, ``data_dir``, ``connection_json()``,
  ``set_faults(rules, seed=...)``, ``clear_faults()``, ``request_counts()``,
  ``executions_started(job_name=None)``, ``reset_counters()``, ``advance_clock(seconds)``,
  ``tick_scheduler()`` and ``stop()``/``start()`` (a restart keeps port and state).
* ``hopsworks_conn`` (function): sets ``AIRFLOW_CONN_HOPSWORKS_DEFAULT`` to the emulator's
  connection for the test, clears fault rules before and after it and puts back the
  lifecycle delays a test changed (``set_timing``), restarts the emulator if an earlier
  test left it stopped, and yields the same handle. When the plugin manages Airflow (below)
  it also migrates the throw-away metadata database first.
* ``hopsworks_airflow_db`` (session): that migration on its own (nothing when the plugin does
  not manage Airflow).

A throw-away Airflow. ``dag.test()`` needs a migrated metadata database and re-parses the DAG
folder Airflow is configured with, and Airflow reads its settings once, when it is first
imported. So at ``pytest_configure`` (before any test module imports Airflow) the plugin points
``AIRFLOW_HOME`` at a new temporary directory with a SQLite database, sets
``AIRFLOW__CORE__DAGS_FOLDER`` to your DAG folder (ini option ``hopsworks_dags_folder``,
relative to pytest's rootdir; default ``dags``) and turns Airflow's example DAGs off. A test
run therefore never writes into the Airflow database you work with. The ini option
``hopsworks_airflow_home`` decides when it does so:

* ``auto`` (default): unless the test project set ``AIRFLOW_HOME`` itself in a
  ``conftest.py`` (this provider's own suite does); an ``AIRFLOW_HOME`` exported in your
  shell is replaced for the test run. If Airflow was imported before pytest configured (a
  conftest.py importing it at the top), its settings are already read: pytest warns;
* ``throwaway``: always; ``off``: never (your environment decides, as without the plugin).

Testing your own DAG (``dags/my_pipeline.py`` beside your tests; the same lines run on
Airflow 3.0 to 3.3)::

    def test_my_pipeline(hopsworks_conn):
        from airflow.models import DagBag

        run = DagBag("dags/").get_dag("my_pipeline").test()
        assert run.state == "success"
        assert hopsworks_conn.executions_started("feature_job") == 1
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle

CONN_ENV = "AIRFLOW_CONN_HOPSWORKS_DEFAULT"
HOME_OPTION = "hopsworks_airflow_home"
DAGS_OPTION = "hopsworks_dags_folder"
VERSION_OPTION = "hopsworks_version"
HOME_MODES = ("auto", "throwaway", "off")

#: ``AIRFLOW_HOME`` as the process had it when pytest loaded this plugin (entry-point plugins
#: load before any conftest.py), to tell a conftest's own Airflow home from the shell's.
_HOME_AT_LOAD = os.environ.get("AIRFLOW_HOME")

#: The settings the throw-away Airflow replaces (and ``pytest_unconfigure`` puts back).
_MANAGED_ENV = (
    "AIRFLOW_HOME",
    "AIRFLOW__CORE__DAGS_FOLDER",
    "AIRFLOW__CORE__LOAD_EXAMPLES",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST",
)


class _ThrowawayAirflow:
    """The temporary Airflow home this plugin made, and the environment it replaced."""

    def __init__(self, dags_folder: Path) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="hopsjobs-pytest-airflow-"))
        self.dags_folder = dags_folder
        self.saved = {name: os.environ.get(name) for name in _MANAGED_ENV}
        os.environ["AIRFLOW_HOME"] = str(self.home)
        os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
        os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
        os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{self.home / 'airflow.db'}"
        # The default bundle list is the one "dags-folder" bundle on DAGS_FOLDER, which is
        # what dag.test() re-parses; a list from the shell would point it elsewhere.
        os.environ.pop("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", None)

    def restore(self) -> None:
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(self.home, ignore_errors=True)


_airflow_key = pytest.StashKey[_ThrowawayAirflow]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        HOME_OPTION,
        "hopsjobs: give the test run a throw-away AIRFLOW_HOME with a migrated SQLite database: "
        "auto (default: unless a conftest.py set AIRFLOW_HOME), "
        "throwaway (always) or off",
        default="auto",
    )
    parser.addini(
        DAGS_OPTION,
        "hopsjobs: the DAG folder of the throw-away Airflow, relative to the rootdir (default: dags)",
        default="dags",
    )
    parser.addini(
        VERSION_OPTION,
        "hopsjobs: the Hopsworks version the session emulator plays (3.x, 4.x, 5.0, 5.1, ...; "
        "default: the newest)",
        default="",
    )


def _wants_throwaway(config: pytest.Config) -> bool:
    mode = str(config.getini(HOME_OPTION)).strip().lower() or "auto"
    if mode not in HOME_MODES:
        raise pytest.UsageError(f"{HOME_OPTION} = {mode!r}: use one of {', '.join(HOME_MODES)}")
    if mode != "auto":
        return mode == "throwaway"
    # A conftest.py that configured its own Airflow knows what it wants.
    return os.environ.get("AIRFLOW_HOME") == _HOME_AT_LOAD


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Runs after every conftest.py was loaded and before any test module is imported."""
    if not _wants_throwaway(config):
        return
    if "airflow.configuration" in sys.modules:
        config.issue_config_time_warning(
            pytest.PytestConfigWarning(
                "hopsjobs: Airflow was imported before pytest configured (by a conftest.py or a "
                "plugin), so its settings are read and the throw-away AIRFLOW_HOME cannot apply; "
                f"import Airflow inside tests or fixtures, or set {HOME_OPTION} = off"
            ),
            stacklevel=2,
        )
        return
    dags_folder = (config.rootpath / str(config.getini(DAGS_OPTION))).resolve()
    config.stash[_airflow_key] = _ThrowawayAirflow(dags_folder)


def pytest_unconfigure(config: pytest.Config) -> None:
    airflow = config.stash.get(_airflow_key, None)
    if airflow is not None:
        airflow.restore()
        del config.stash[_airflow_key]


def pytest_report_header(config: pytest.Config) -> str | None:
    airflow = config.stash.get(_airflow_key, None)
    if airflow is None:
        return None
    return f"hopsjobs: throw-away AIRFLOW_HOME {airflow.home}, DAG folder {airflow.dags_folder}"


@pytest.fixture(scope="session")
def hopsworks_airflow_db(pytestconfig: pytest.Config) -> None:
    """Migrate the throw-away Airflow's metadata database, once per session (about 2 s)."""
    if pytestconfig.stash.get(_airflow_key, None) is None:
        return  # not ours: whoever configured Airflow prepares its database
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture(scope="session")
def hopsworks_emulator(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[EmulatorHandle]:
    """One emulator process for the whole test session, its state in a temporary directory.

    It plays the newest Hopsworks unless the ini option ``hopsworks_version`` names another.
    """
    version = str(pytestconfig.getini(VERSION_OPTION)).strip() or None
    handle = EmulatorHandle(tmp_path_factory.mktemp("hopsworks-emulator"), hopsworks_version=version)
    handle.start()
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def hopsworks_conn(
    hopsworks_airflow_db: None, hopsworks_emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> Iterator[EmulatorHandle]:
    """The session emulator, with ``AIRFLOW_CONN_HOPSWORKS_DEFAULT`` pointing at it."""
    if not hopsworks_emulator.running:
        hopsworks_emulator.start()
    hopsworks_emulator.clear_faults()
    timing = hopsworks_emulator.timing()
    monkeypatch.setenv(CONN_ENV, hopsworks_emulator.connection_json())
    yield hopsworks_emulator
    if hopsworks_emulator.running:
        hopsworks_emulator.clear_faults()
        if hopsworks_emulator.timing() != timing:
            hopsworks_emulator.set_timing(**timing)
