"""The production-shaped profile, started once for this package: PostgreSQL, Celery on Redis, two triggerers.

Package-scoped, so the scenario tests and the browser tests share one start; it is stopped when the
package's last test ends, before the SQLite profile of the other modules starts. ``browser_ui`` is
Debian's Chromium signed in to this profile's api-server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle

from ..airflow_processes import AirflowProcesses, port_is_free
from ..browser import AirflowUI, airflow_ui
from ..profile_runs import run_profile
from ..profiles import production
from ..services import PostgresServer, RedisServer, locate_binaries


@pytest.fixture(scope="package")
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


@pytest.fixture(scope="package")
def production_airflow(
    tmp_path_factory: pytest.TempPathFactory,
    hopsworks_emulator: EmulatorHandle,
    production_services: tuple[PostgresServer, RedisServer],
) -> Iterator[AirflowProcesses]:
    postgres, redis = production_services
    profile = production(postgres.url(), redis.url, "db+" + postgres.url())
    yield from run_profile(tmp_path_factory, hopsworks_emulator, profile)


@pytest.fixture
def browser_ui(production_airflow: AirflowProcesses, request: pytest.FixtureRequest) -> Iterator[AirflowUI]:
    """Debian's Chromium, signed in to this profile's api-server (screenshots kept under build/).

    The page as the test left it is saved too (``end-of-<test>.png``): what a failure looked like.
    """
    from airflow import __version__ as airflow_version

    chromium = locate_binaries()["CHROMIUM"]
    with airflow_ui(
        chromium, production_airflow.base_url, production_airflow.admin_password, airflow_version
    ) as ui:
        try:
            yield ui
        finally:
            ui.screenshot(f"end-of-{request.node.name}")
            print(f"\nscreenshots: {', '.join(str(path) for path in ui.taken)}")
