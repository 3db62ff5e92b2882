"""A local stand-in for Hopsworks' jobs REST API that really runs Python jobs.

Start it with ``hopsjobs emulator`` (or ``python -m airflow_provider_hopsjobs.emulator``),
or in tests through the pytest fixtures of :mod:`.pytest_plugin`. It speaks the API under
``/hopsworks-api/api`` the way Hopsworks' REST resources, its integration tests and the
official SDK show it, keeps its state in a data directory, and offers an admin API under
``/_emulator`` for faults and counters.

Nothing here imports Airflow, and importing this package is cheap: the server modules
load only when the server starts.
"""

from __future__ import annotations

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle

__all__ = ["EmulatorHandle"]
