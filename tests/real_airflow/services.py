"""Private PostgreSQL and Redis servers for the production profile, in a temporary directory.

``scripts/services.sh`` makes sure the binaries are on the machine (installing the Debian packages
when run as root) and says where they are. PostgreSQL refuses to run as root, so as root the
cluster belongs to the ``postgres`` account the Debian package creates (``nobody`` otherwise) and
every PostgreSQL command runs through ``runuser``. Both servers listen on 127.0.0.1 only, on free
ports, run in their own sessions and are stopped (then SIGKILLed) at the end like the Airflow
components.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .process_tools import AirflowProcessError, free_port, poll, port_is_free, session_members

REPO = Path(__file__).resolve().parents[2]


def locate_binaries() -> dict[str, str]:
    """Run ``scripts/services.sh`` (installs what is missing as root) and return its KEY=VALUE lines."""
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "services.sh")], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise AirflowProcessError(
            "the production profile needs PostgreSQL, Redis and Chromium; scripts/services.sh said:\n"
            + result.stdout
            + result.stderr
        )
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


def _service_account() -> str | None:
    """The account PostgreSQL runs as when we are root (it refuses root); None: run as ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise AirflowProcessError("running as root and neither a 'postgres' nor a 'nobody' account exists")


@dataclass
class PostgresServer:
    """A throw-away PostgreSQL cluster with one ``airflow`` database, trust auth on 127.0.0.1."""

    bin_dir: Path
    port: int = field(default_factory=free_port)
    directory: Path = field(init=False)
    account: str | None = field(init=False, default=None)
    process: subprocess.Popen[bytes] | None = field(init=False, default=None)

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def log_path(self) -> Path:
        return self.directory / "postgres.log"

    def url(self, driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://airflow@127.0.0.1:{self.port}/airflow"

    def _command(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.account, "--", *args] if self.account else list(args)

    def start(self, timeout: float = 60.0) -> None:
        self.account = _service_account()
        # Outside pytest's 0700 temp tree: the service account must reach its data directory.
        self.directory = Path(tempfile.mkdtemp(prefix="hopsjobs-postgres-"))
        if self.account:
            entry = pwd.getpwnam(self.account)
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        initdb = subprocess.run(
            self._command(
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "airflow",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ),
            capture_output=True,
            cwd=self.directory,
            check=False,
        )
        if initdb.returncode != 0:
            raise AirflowProcessError(f"initdb failed:\n{(initdb.stdout + initdb.stderr).decode()[-3000:]}")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self._command(
                    str(self.bin_dir / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.directory),
                    # A test database: durability is not the point, speed on a busy machine is.
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=200",
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.directory,
                start_new_session=True,
            )
        poll("PostgreSQL to accept connections", self._ready, timeout, on_timeout=self.tail_log)
        created = subprocess.run(
            self._command(
                str(self.bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "airflow",
                "airflow",
            ),
            capture_output=True,
            cwd=self.directory,
            check=False,
        )
        if created.returncode != 0:
            raise AirflowProcessError(f"createdb failed:\n{(created.stdout + created.stderr).decode()}")

    def _ready(self) -> bool | None:
        if self.process is not None and self.process.poll() is not None:
            raise AirflowProcessError(f"postgres exited with {self.process.returncode}\n{self.tail_log()}")
        ready = subprocess.run(
            [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
            capture_output=True,
            check=False,
        )
        return True if ready.returncode == 0 else None

    def tail_log(self) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])

    def stop(self) -> list[tuple[int, str]]:
        """Fast shutdown (SIGINT), SIGKILL after 20 s; return leftovers and remove the cluster."""
        leftovers = _stop_session(self.process, signal.SIGINT, grace=20.0)
        shutil.rmtree(self.directory, ignore_errors=True)
        return leftovers


@dataclass
class RedisServer:
    """A redis-server with no persistence, as the Celery broker."""

    executable: str
    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hopsjobs-redis-")))
    process: subprocess.Popen[bytes] | None = field(init=False, default=None)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> None:
        log_path = self.directory / "redis.log"
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    self.executable,
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--dir",
                    str(self.directory),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.directory,
                start_new_session=True,
            )

        def ready() -> bool | None:
            if self.process is not None and self.process.poll() is not None:
                raise AirflowProcessError(f"redis-server exited:\n{log_path.read_text(errors='replace')}")
            return None if port_is_free(self.port) else True

        poll("redis-server to listen", ready, timeout)

    def stop(self) -> list[tuple[int, str]]:
        leftovers = _stop_session(self.process, signal.SIGTERM, grace=10.0)
        shutil.rmtree(self.directory, ignore_errors=True)
        return leftovers


def _stop_session(
    process: subprocess.Popen[bytes] | None, sig: signal.Signals, grace: float
) -> list[tuple[int, str]]:
    if process is None:
        return []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    deadline = time.monotonic() + 5
    while session_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return session_members(process.pid)
