"""One set of real Airflow components per test session (start-up costs about 20 s).

The components get the session emulator as ``hopsworks_default`` and a dags folder holding the
repository's example DAGs plus this directory's test DAGs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle

from .airflow_processes import AirflowProcesses, copy_dags, port_is_free

HERE = Path(__file__).resolve().parent
EXAMPLE_DAGS = HERE.parent.parent / "example_dags"


@pytest.fixture(scope="session")
def airflow_processes(
    tmp_path_factory: pytest.TempPathFactory, hopsworks_emulator: EmulatorHandle
) -> Iterator[AirflowProcesses]:
    home = tmp_path_factory.mktemp("real-airflow-home")
    dags = copy_dags([EXAMPLE_DAGS, HERE / "dags"], home / "dags")
    airflow = AirflowProcesses(
        home=home,
        dags_folder=dags,
        extra_env={"AIRFLOW_CONN_HOPSWORKS_DEFAULT": hopsworks_emulator.connection_json()},
    )
    airflow.start()
    try:
        yield airflow
    finally:
        stopping = time.monotonic()
        leftovers = airflow.stop()
        timings = {name: round(seconds, 1) for name, seconds in airflow.timings.items()}
        timings["stop"] = round(time.monotonic() - stopping, 1)
        print(f"\nreal Airflow: timings {timings}, shutdown {airflow.stop_report}")
        busy = [port for port in airflow.ports() if not port_is_free(port)]
        assert not leftovers, f"processes left running after stop: {leftovers}"
        assert not busy, f"ports still in use after stop: {busy}"
