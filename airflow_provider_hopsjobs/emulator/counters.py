"""What the server received, for tests that assert "exactly one execution was started"."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Counters:
    """Kept in memory only: a restarted emulator counts from zero."""

    #: API requests per ``"<METHOD> <route template>"``, counted before any fault is applied.
    requests: Counter[str] = field(default_factory=Counter)
    #: Executions created per job name, through the API or by a schedule.
    executions_started: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        self.requests.clear()
        self.executions_started.clear()
