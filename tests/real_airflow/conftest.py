"""One set of real Airflow components per profile and test session.

``airflow_processes`` is the quick profile (SQLite, LocalExecutor, one triggerer; start-up about
20 s); ``production_airflow`` what users run (PostgreSQL, CeleryExecutor on Redis with two workers,
two triggerers; see ``profiles.py``). Each is used by one test module and module-scoped, so the
first is stopped before the second starts: one start per profile per session, never both at once
on a small machine.

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
from .profiles import SQLITE, Profile, production
from .services import PostgresServer, RedisServer, locate_binaries

HERE = Path(__file__).resolve().parent
EXAMPLE_DAGS = HERE.parent.parent / "example_dags"


def _run_profile(
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


@pytest.fixture(scope="module")
def airflow_processes(
    tmp_path_factory: pytest.TempPathFactory, hopsworks_emulator: EmulatorHandle
) -> Iterator[AirflowProcesses]:
    yield from _run_profile(tmp_path_factory, hopsworks_emulator, SQLITE)


@pytest.fixture(scope="module")
def production_services() -> Iterator[tuple[PostgresServer, RedisServer]]:
    """PostgreSQL and Redis, private to this session (``scripts/services.sh`` installs them as root)."""
    binaries = locate_binaries()
    postgres = PostgresServer(Path(binaries["PG_BIN"]))
    redis = RedisServer(binaries["REDIS_SERVER"])
    started = time.monotonic()
    try:
        postgres.start()
        redis.start()
        print(f"\nPostgreSQL and Redis up in {time.monotonic() - started:.1f} s")
        yield postgres, redis
    finally:
        leftovers = postgres.stop() + redis.stop()
        busy = [port for port in (postgres.port, redis.port) if not port_is_free(port)]
        assert not leftovers, f"server processes left running after stop: {leftovers}"
        assert not busy, f"server ports still in use after stop: {busy}"


@pytest.fixture(scope="module")
def production_airflow(
    tmp_path_factory: pytest.TempPathFactory,
    hopsworks_emulator: EmulatorHandle,
    production_services: tuple[PostgresServer, RedisServer],
) -> Iterator[AirflowProcesses]:
    postgres, redis = production_services
    profile = production(postgres.url(), redis.url, "db+" + postgres.url())
    yield from _run_profile(tmp_path_factory, hopsworks_emulator, profile)
