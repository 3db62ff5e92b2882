"""The clock's offset, kept in the store so that time never goes back across a restart."""

from __future__ import annotations

from airflow_provider_hopsjobs.emulator.clock import Clock
from airflow_provider_hopsjobs.emulator.store import Store

_OFFSET_KEY = "clock_offset_ms"


class ClockPersistence:
    """Saves how far tests moved the clock forward, and puts it back on the next start."""

    def __init__(self, clock: Clock, store: Store) -> None:
        self._clock = clock
        self._store = store

    def restore(self) -> None:
        saved_offset = self._store.get_meta(_OFFSET_KEY)
        if saved_offset is not None:
            self._clock.set_offset(int(saved_offset))

    def save(self) -> None:
        self._store.set_meta(_OFFSET_KEY, str(self._clock.offset_ms))
