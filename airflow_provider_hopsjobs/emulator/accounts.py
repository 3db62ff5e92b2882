"""The one user, API key and projects an emulator serves.

Hopsworks has many users and projects; the emulator has one user (whose key has every
scope) and the projects made for it: the one named at start-up, plus any added through
``POST /_emulator/projects``. Each project gets its row and its default datasets on disk.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hopsjobs.emulator.auth import ALL_SCOPES, split_key
from airflow_provider_hopsjobs.emulator.clock import Clock
from airflow_provider_hopsjobs.emulator.fs import ProjectFiles
from airflow_provider_hopsjobs.emulator.store import Store

DEFAULT_USER = {
    "username": "meb10000",
    "firstname": "Emulator",
    "lastname": "User",
    "email": "emulator@hopsworks.local",
}


class Accounts:
    """Makes sure the user, its key and the start-up project exist (they survive restarts)."""

    def __init__(
        self, store: Store, clock: Clock, files: ProjectFiles, *, api_key: str, project: str
    ) -> None:
        self._store = store
        self._clock = clock
        self._files = files
        self.api_key = api_key
        self.user = store.ensure_user(**DEFAULT_USER)
        prefix, secret = split_key(api_key)
        store.put_api_key(prefix, secret, ALL_SCOPES, self.user_id)
        #: The project named at start-up, the one the ready file and ``/_emulator/health`` report.
        self.project = self.add_project(project)

    @property
    def user_id(self) -> int:
        return int(self.user["id"])

    def add_project(self, name: str) -> dict[str, Any]:
        project = self._store.ensure_project(name, self.user_id, self._clock.now_ms())
        self._files.ensure_project(name)
        return project
