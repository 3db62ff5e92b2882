"""pytest fixtures that put a Hopsworks emulator behind your DAG tests.

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
  test left it stopped, and yields the same handle.

Testing your own DAG::

    def test_my_pipeline(hopsworks_conn, tmp_path):
        from airflow.models import DagBag

        dag = DagBag("dags/", include_examples=False).get_dag("my_pipeline")
        dag.test()
        assert hopsworks_conn.executions_started("feature_job") == 1
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle

CONN_ENV = "AIRFLOW_CONN_HOPSWORKS_DEFAULT"


@pytest.fixture(scope="session")
def hopsworks_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    """One emulator process for the whole test session."""
    handle = EmulatorHandle(tmp_path_factory.mktemp("hopsworks-emulator"))
    handle.start()
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def hopsworks_conn(
    hopsworks_emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
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
