"""Start-up settings of one emulator process (command-line flags end up here)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PROJECT = "demo"
#: Hopsworks' own rule for project names (RESTCodes INVALID_PROJECT_NAME).
PROJECT_NAME = re.compile(r"^[a-zA-Z0-9](?:(?!__)[_a-zA-Z0-9]){0,62}$")
#: What ``GET /variables/versions`` reports; the official SDK refuses to log in without it.
HOPSWORKS_VERSION = "5.2.1"


def generate_api_key() -> str:
    """A key in Hopsworks' ``<prefix>.<secret>`` format."""
    return f"{secrets.token_hex(8)}.{secrets.token_urlsafe(32)}"


@dataclass
class Settings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    api_key: str | None = None
    project: str = DEFAULT_PROJECT
    #: Seconds an execution spends in INITIALIZING before its app is looked up.
    init_delay: float = 0.05
    #: Seconds in each intermediate YARN state (SUBMITTED, ACCEPTED) for Spark types.
    yarn_state_delay: float = 0.05
    #: Seconds a Spark-type execution stays in AGGREGATING_LOGS after its app ended.
    aggregating_delay: float = 0.2
    #: Seconds after a terminal state before stdout/stderr appear under ``Logs/``.
    log_delay: float = 0.3
    #: Default run time of job types that are simulated (SPARK jars, RAY, DOCKER, ...).
    simulated_duration: float = 0.5
    #: Seconds between two passes of the v2 schedule loop.
    schedule_tick: float = 1.0
    #: Seconds between SIGTERM and SIGKILL when stopping a job's process group.
    kill_grace: float = 2.0
    faults: list[dict[str, Any]] = field(default_factory=list)
    fault_seed: int | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    access_log: bool = False

    def resolved_api_key(self) -> str:
        """The key clients must send: given, or saved from an earlier run, or new."""
        if self.api_key:
            return self.api_key
        saved = self.data_dir / "api_key"
        if saved.exists():
            return saved.read_text().strip()
        key = generate_api_key()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        saved.write_text(key)
        saved.chmod(0o600)
        return key
