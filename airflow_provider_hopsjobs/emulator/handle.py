"""Start, stop and steer an emulator process from Python (what the pytest fixtures use).

Standard library only, so importing it (and the pytest plugin) costs nothing. Example::

    from airflow_provider_hopsjobs.emulator import EmulatorHandle

    with EmulatorHandle(data_dir="/tmp/emu") as emu:
        os.environ["AIRFLOW_CONN_HOPSWORKS_DEFAULT"] = emu.connection_json()
        emu.set_faults([{"path": "/executions$", "method": "POST", "fault": "503", "times": 1}])
        ...
        assert emu.executions_started("my_job") == 1

Clients that speak only https, such as the official Hopsworks SDK, get a TLS emulator with
``EmulatorHandle(ssl_certfile="cert.pem", ssl_keyfile="key.pem")``: ``base_url`` is then
``https://...``, the admin calls trust ``ssl_cafile`` (default: the certificate itself, right
for a self-signed one) and the connection carries it as its ``verify`` extra.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

API_KEY_ENV = "HOPSJOBS_EMULATOR_API_KEY"


class EmulatorError(RuntimeError):
    """The emulator process could not be started, or an admin call failed."""


def _error_text(body: bytes) -> str:
    """An error answer's human message (``usrMsg``, else ``errorMsg``), or the raw body."""
    text = body.decode(errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if isinstance(parsed, dict):
        return str(parsed.get("usrMsg") or parsed.get("errorMsg") or text)
    return text


def _generate_key() -> str:
    import secrets

    return f"{secrets.token_hex(8)}.{secrets.token_urlsafe(32)}"


class EmulatorHandle:
    """One emulator subprocess: its connection details and admin operations.

    ``stop()`` then ``start()`` restarts it on the same port with the same data directory,
    API key and project, so state survives. ``stop(kill=True)`` simulates a crash (SIGKILL).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        api_key: str | None = None,
        project: str = "demo",
        host: str = "127.0.0.1",
        port: int = 0,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 30.0,
        ssl_certfile: str | os.PathLike[str] | None = None,
        ssl_keyfile: str | os.PathLike[str] | None = None,
        ssl_cafile: str | os.PathLike[str] | None = None,
        hopsworks_version: str | None = None,
    ) -> None:
        if (ssl_certfile is None) != (ssl_keyfile is None):
            raise ValueError("ssl_certfile and ssl_keyfile go together")
        self.data_dir = (
            Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="hopsworks-emulator-"))
        )
        self.api_key = api_key or _generate_key()
        self.project = project
        self.host = host
        self.port = port
        self.project_id: int | None = None
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self.ssl_certfile = None if ssl_certfile is None else Path(ssl_certfile).resolve()
        self.ssl_keyfile = None if ssl_keyfile is None else Path(ssl_keyfile).resolve()
        self.ssl_cafile = Path(ssl_cafile).resolve() if ssl_cafile is not None else self.ssl_certfile
        #: The Hopsworks release the emulator behaves as (``--hopsworks-version``); None: the newest.
        self.hopsworks_version = hopsworks_version
        self._proc: subprocess.Popen[bytes] | None = None

    # -- process ---------------------------------------------------------------------------------
    @property
    def scheme(self) -> str:
        return "https" if self.ssl_certfile is not None else "http"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/hopsworks-api/api"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def log_path(self) -> Path:
        return self.data_dir / "emulator.log"

    def start(self) -> EmulatorHandle:
        if self.running:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ready = self.data_dir / "ready.json"
        ready.unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            "airflow_provider_hopsjobs.emulator",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--project",
            self.project,
            "--ready-file",
            str(ready),
            "--quiet",
            *self._ssl_args(),
            *(["--hopsworks-version", self.hopsworks_version] if self.hopsworks_version else []),
            *self.extra_args,
        ]
        env = dict(os.environ, **{API_KEY_ENV: self.api_key})
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        deadline = time.monotonic() + self.startup_timeout
        while not ready.exists():
            if self._proc.poll() is not None:
                raise EmulatorError(
                    f"the emulator exited with code {self._proc.returncode}:\n{self._log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop(kill=True)
                raise EmulatorError(
                    f"the emulator was not ready after {self.startup_timeout} s:\n{self._log_tail()}"
                )
            time.sleep(0.02)
        info = json.loads(ready.read_text())
        self.port = int(info["port"])
        self.project_id = int(info["project_id"])
        return self

    def _ssl_args(self) -> list[str]:
        if self.ssl_certfile is None or self.ssl_keyfile is None:
            return []
        return ["--ssl-certfile", str(self.ssl_certfile), "--ssl-keyfile", str(self.ssl_keyfile)]

    def stop(self, *, kill: bool = False, timeout: float = 15.0) -> None:
        """Stop the process: gracefully (SIGTERM, jobs are killed) or, with ``kill``, abruptly."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def __enter__(self) -> EmulatorHandle:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- connection ------------------------------------------------------------------------------
    def connection(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"project": self.project}
        if self.ssl_cafile is not None:
            extra["verify"] = str(self.ssl_cafile)
        return {
            "conn_type": "hopsworks",
            "host": self.host,
            "port": self.port,
            "schema": self.scheme,
            "password": self.api_key,
            "extra": extra,
        }

    def connection_json(self) -> str:
        """Value for ``AIRFLOW_CONN_<ID>``."""
        return json.dumps(self.connection())

    # -- admin API -------------------------------------------------------------------------------
    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (a URL built from our own host and port)
            f"{self.base_url}/_emulator/{path.lstrip('/')}",
            data=data,
            method=method,
            headers={"Authorization": f"ApiKey {self.api_key}", "Content-Type": "application/json"},
        )
        context = None if self.ssl_cafile is None else ssl.create_default_context(cafile=self.ssl_cafile)
        try:
            with urllib.request.urlopen(request, timeout=30, context=context) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise EmulatorError(f"admin {method} {path}: HTTP {exc.code} {_error_text(exc.read())}") from None
        return json.loads(raw) if raw else None

    def set_faults(self, rules: Sequence[Mapping[str, Any]], seed: int | None = None) -> dict[str, Any]:
        """Replace the fault rules (see :mod:`airflow_provider_hopsjobs.emulator.faults`)."""
        result: dict[str, Any] = self.admin(
            "PUT", "faults", {"rules": [dict(r) for r in rules], "seed": seed}
        )
        return result

    def clear_faults(self) -> None:
        self.admin("DELETE", "faults")

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "faults")
        return result

    def request_counts(self) -> dict[str, int]:
        """Requests received per route template.

        Keys look like ``"GET /hopsworks-api/api/project/{id}/jobs/{name}"``.
        """
        return {k: int(v) for k, v in self.admin("GET", "requests")["counts"].items()}

    def executions_started(self, job_name: str | None = None) -> int:
        """Executions created (through the API or by a schedule), for one job or in total."""
        started: dict[str, int] = self.admin("GET", "requests")["executionsStarted"]
        return int(sum(started.values()) if job_name is None else started.get(job_name, 0))

    def reset_counters(self) -> None:
        self.admin("DELETE", "requests")

    def advance_clock(self, seconds: float) -> int:
        """Move the emulator's clock forward; returns the new "now" in epoch ms."""
        return int(self.admin("POST", "clock", {"advance": seconds})["nowMs"])

    def now_ms(self) -> int:
        return int(self.admin("GET", "clock")["nowMs"])

    def tick_scheduler(self) -> list[dict[str, Any]]:
        """Run one pass of the v2 schedule loop now; returns what fired or was skipped."""
        fired: list[dict[str, Any]] = self.admin("POST", "scheduler/tick")["fired"]
        return fired

    def execution_history(self, execution_id: int) -> list[tuple[str, str]]:
        """(state, finalStatus) transitions of an execution, as this emulator process saw them."""
        transitions = self.admin("GET", f"executions/{int(execution_id)}/history")["transitions"]
        return [(t["state"], t["finalStatus"]) for t in transitions]

    def set_timing(self, **delays: float) -> dict[str, float]:
        """Change lifecycle delays (``log_delay=2`` ...); returns all delays as they now are."""
        result: dict[str, float] = self.admin("PATCH", "timing", delays)
        return result

    def timing(self) -> dict[str, float]:
        result: dict[str, float] = self.admin("GET", "timing")
        return result

    def create_api_key(self, scopes: Sequence[str]) -> str:
        """A new key limited to ``scopes`` (e.g. to provoke 403/320004)."""
        return str(self.admin("POST", "api-keys", {"scopes": list(scopes)})["apiKey"])
