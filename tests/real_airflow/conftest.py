"""One set of real Airflow components per profile and test session.

``airflow_processes`` is the quick profile (SQLite, LocalExecutor, one triggerer; start-up about
20 s), used by the test modules here, one start per module. ``production/`` has what users run
(PostgreSQL, CeleryExecutor on Redis with two workers, two triggerers; see ``profiles.py``), one
start shared by that package's modules. Fixtures end with their module or package, so the two
profiles never run at once on a small machine.

The components get the session emulator as ``hopsworks_default`` and a dags folder holding the
repository's example DAGs plus this directory's test DAGs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle

from .airflow_processes import AirflowProcesses
from .profile_runs import run_profile
from .profiles import SQLITE


@pytest.fixture(scope="module")
def airflow_processes(
    tmp_path_factory: pytest.TempPathFactory, hopsworks_emulator: EmulatorHandle
) -> Iterator[AirflowProcesses]:
    yield from run_profile(tmp_path_factory, hopsworks_emulator, SQLITE)
