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
#: What ``GET /variables/versions`` reports by default (the newest release the emulator
#: follows); the official SDK refuses to log in without it.
HOPSWORKS_VERSION = "5.2.1"
#: ``--hopsworks-version`` shorthands and the release each one reports.
VERSION_ALIASES = {"3.x": "3.7.0", "4.x": "4.2.0", "5.x": HOPSWORKS_VERSION, "5.0": "5.0.0", "5.1": "5.1.0"}
_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True)
class ServerVersion:
    """Which Hopsworks release the emulator behaves as; decides the 5.x-only endpoints.

    - before 5.0: the execution start takes ``text/plain`` only (JSON is 415) and there is
      no ``pod-logs`` route (404);
    - 5.0: the JSON start body (``args``, ``envVars``, ``logicalDate``, ``dataIntervalEnd``);
    - 5.1 and later: ``GET .../executions/{id}/pod-logs`` too.
    """

    text: str = HOPSWORKS_VERSION

    @classmethod
    def parse(cls, value: str) -> ServerVersion:
        text = VERSION_ALIASES.get(value.strip().lower(), value.strip())
        if not _VERSION.match(text):
            choices = ", ".join(VERSION_ALIASES)
            raise ValueError(f"unknown Hopsworks version {value!r}; give one of {choices} or X.Y[.Z]")
        return cls(text)

    @property
    def release(self) -> tuple[int, int]:
        match = _VERSION.match(self.text)
        assert match is not None
        return int(match.group(1)), int(match.group(2))

    @property
    def accepts_json_start(self) -> bool:
        return self.release >= (5, 0)

    @property
    def serves_pod_logs(self) -> bool:
        return self.release >= (5, 1)


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
    #: The Hopsworks release to behave as (``3.x``, ``4.x``, ``5.0``, ``5.1``, ... or X.Y.Z).
    hopsworks_version: ServerVersion = field(default_factory=ServerVersion)

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
