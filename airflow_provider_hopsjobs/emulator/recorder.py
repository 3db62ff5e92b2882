"""Every change the engine makes to an execution, and the state transitions this process saw.

The transitions back ``GET /_emulator/executions/{id}/history``: tests assert the exact
state sequence of a run with them, which polling alone could miss. They live in memory, so
a restarted emulator knows only the transitions it made itself.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hopsjobs.emulator.clock import Clock
from airflow_provider_hopsjobs.emulator.store import Store

#: (state, finalStatus, epoch ms)
Transition = tuple[str, str, int]


class ExecutionRecorder:
    """Writes execution fields to the store; a write that sets ``state`` is a transition."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._transitions: dict[int, list[Transition]] = {}

    def created(self, execution: dict[str, Any]) -> None:
        """A new execution starts its history INITIALIZING/UNDEFINED at its submission time."""
        self._transitions[int(execution["id"])] = [
            ("INITIALIZING", "UNDEFINED", int(execution["submitted_ms"]))
        ]

    def update(self, execution_id: int, **fields: Any) -> dict[str, Any] | None:
        """Persist ``fields``; the execution afterwards, or None when it has been deleted."""
        row = self._store.update_execution(execution_id, **fields)
        if row is not None and "state" in fields:
            self._transitions.setdefault(execution_id, []).append(
                (row["state"], row["final_status"], self._clock.now_ms())
            )
        return row

    def transitions(self, execution_id: int) -> list[Transition]:
        return list(self._transitions.get(execution_id, []))
