"""Start a profile's components against the session emulator, and prove they all stopped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle

from .airflow_processes import AirflowProcesses, copy_dags, port_is_free
from .profiles import Profile

HERE = Path(__file__).resolve().parent
EXAMPLE_DAGS = HERE.parent.parent / "example_dags"


def run_profile(
    tmp_path_factory: pytest.TempPathFactory, emulator: EmulatorHandle, profile: Profile
) -> Iterator[AirflowProcesses]:
    home = tmp_path_factory.mktemp(f"real-airflow-{profile.name}")
    dags = copy_dags([EXAMPLE_DAGS, HERE / "dags"], home / "dags")
    airflow = AirflowProcesses(
        home=home,
        dags_folder=dags,
        profile=profile,
        extra_env={"AIRFLOW_CONN_HOPSWORKS_DEFAULT": emulator.connection_json()},
    )
    airflow.start(timeout=240.0 if profile.celery_workers else 120.0)
    try:
        yield airflow
    finally:
        stopping = time.monotonic()
        leftovers = airflow.stop()
        timings = {name: round(seconds, 1) for name, seconds in airflow.timings.items()}
        timings["stop"] = round(time.monotonic() - stopping, 1)
        print(f"\nreal Airflow ({profile.name}): timings {timings}, shutdown {airflow.stop_report}")
        busy = [port for port in airflow.ports() if not port_is_free(port)]
        assert not leftovers, f"processes left running after stop: {leftovers}"
        assert not busy, f"ports still in use after stop: {busy}"
