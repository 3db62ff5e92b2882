"""Real Airflow components for end-to-end tests: api-server, scheduler, dag-processor and triggerer.

``dag.test()`` runs triggers in-line, so only real components prove that a deferred task survives the
triggerer: its own process, its own event loop, restarts, and user actions arriving through the REST API.

The components run as separate commands (not ``airflow standalone``) so the triggerer can be restarted
alone, each in its own session/process group: ``airflow standalone`` and the scheduler leave workers
behind on SIGTERM, so stopping escalates to SIGKILL of the whole group after a grace period and then
checks that nothing of the session is left and that the ports are free again.

Which executor, database and how many triggerers and Celery workers: the ``Profile`` (``profiles.py``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
import sqlalchemy

from .process_tools import (
    AirflowProcessError,
    copy_dags,
    free_port,
    poll,
    port_is_free,
    session_members,
    signal_group,
)
from .profiles import SQLITE, Profile

__all__ = ["AirflowProcessError", "AirflowProcesses", "copy_dags", "free_port", "poll", "port_is_free"]

#: The line a Celery worker logs once it consumes tasks.
_CELERY_READY = b" ready."
TERMINAL_RUN_STATES = frozenset({"success", "failed"})


#: Seconds sqlite3 waits for a lock in the SQLite profile (its default, 5 s, was too short under load).
SQLITE_LOCK_WAIT = 30
#: Seconds the harness waits for an api-server answer: longer than a request can wait on a lock.
API_TIMEOUT = SQLITE_LOCK_WAIT + 30


@dataclass
class Component:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def session_id(self) -> int:
        # start_new_session=True: the leader's pid is the session and process-group id.
        return self.process.pid


@dataclass
class AirflowProcesses:
    """One Airflow installation (AIRFLOW_HOME, database, executor: its ``profile``) and its components.

    ``extra_env`` reaches every component, e.g. ``AIRFLOW_CONN_HOPSWORKS_DEFAULT``.
    """

    home: Path
    dags_folder: Path
    profile: Profile = SQLITE
    extra_env: Mapping[str, str] = field(default_factory=dict)
    parallelism: int = 4
    stop_grace_seconds: float = 10.0
    api_port: int = field(default_factory=free_port)
    components: dict[str, Component] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    #: How each stop went, in order ("triggerer: exited on SIGTERM in 1.2 s").
    stop_report: list[str] = field(default_factory=list)
    _password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    _token: str | None = None
    _http: requests.Session = field(default_factory=requests.Session)
    _settings: dict[str, str] = field(init=False, default_factory=dict)
    _engine: sqlalchemy.engine.Engine | None = None
    #: Triggerer name -> its job id (the ``trigger`` table's ``triggerer_id``); multi-triggerer only.
    triggerer_jobs: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._settings = {
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTOR": self.profile.executor,
            "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_url,
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__WORKERS": "1",
            # Every component signs and checks the same tokens; each would invent its own otherwise.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            # Airflow 3.0 puts an empty list in the `iss` claim when no issuer is configured, which
            # PyJWT 2.15 refuses to encode ("Issuer (iss) must be a string"): no token, no login, no task.
            "AIRFLOW__API_AUTH__JWT_ISSUER": "hopsjobs-real-airflow-tests",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.log_folder),
            # Log servers are skipped (--skip-serve-logs); free ports keep parallel sessions apart anyway.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        }
        self._settings.update(self.profile.settings)

    @property
    def database_url(self) -> str:
        # SQLite waits 5 s for a lock by default; the scheduler, the api-server and the
        # dag-processor writing at once on a loaded machine have held one longer (a manual run's
        # audit-log INSERT then failed with a 500). The wait is sqlite3's, set in the URL.
        return self.profile.database_url or f"sqlite:///{self.home / 'airflow.db'}?timeout={SQLITE_LOCK_WAIT}"

    def sql(self, statement: str, **params: Any) -> list[Any]:
        """Rows of a read-only query on the metadata database (what the UI cannot show: trigger owners)."""
        if self._engine is None:
            self._engine = sqlalchemy.create_engine(self.database_url, poolclass=sqlalchemy.pool.NullPool)
        with self._engine.connect() as connection:
            return list(connection.execute(sqlalchemy.text(statement), params))

    # ------------------------------------------------------------------ lifecycle

    @property
    def admin_password(self) -> str:
        """The ``admin`` user's password (the simple auth manager's), for a browser's sign-in."""
        return self._password

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def log_folder(self) -> Path:
        return self.home / "logs"

    def environment(self) -> dict[str, str]:
        """The components' environment: nothing Airflow-specific leaks in from the test process."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(self._settings)
        env.update(self.extra_env)
        return env

    def _airflow(self, *args: str) -> list[str]:
        return [str(Path(sys.executable).parent / "airflow"), *args]

    def start(self, timeout: float = 120.0) -> None:
        """Migrate the DB, start every component and wait until all four report healthy."""
        started = time.monotonic()
        (self.home / "processes").mkdir(parents=True, exist_ok=True)
        self.log_folder.mkdir(parents=True, exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({"admin": self._password}))
        migrate = subprocess.run(
            self._airflow("db", "migrate"),
            env=self.environment(),
            cwd=self.home,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if migrate.returncode != 0:
            output = (migrate.stdout + migrate.stderr).decode(errors="replace")
            raise AirflowProcessError(f"airflow db migrate failed:\n{output[-4000:]}")
        self.timings["db_migrate"] = time.monotonic() - started
        try:
            for name in self.profile.components:
                self.start_component(name)
            self.wait_healthy(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        self.timings["start"] = time.monotonic() - started

    def start_component(self, name: str) -> Component:
        """Start one component in its own session; a second triggerer waits until the first has its job."""
        args = self._component_args(name)
        previous_triggerer_jobs = self._running_triggerer_jobs() if self._tracks_triggerers(name) else set()
        log_path = self.home / "processes" / f"{name}.log"
        with log_path.open("ab") as log:
            log.write(f"\n===== starting {name} at {time.strftime('%H:%M:%S')} =====\n".encode())
            log.flush()
            process = subprocess.Popen(
                self._airflow(*args),
                env=self.environment(),
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        component = Component(name, process, log_path)
        self.components[name] = component
        if self._tracks_triggerers(name):
            self.triggerer_jobs[name] = self._wait_for_new_triggerer_job(previous_triggerer_jobs)
        return component

    def _component_args(self, name: str) -> tuple[str, ...]:
        if name.startswith("triggerer"):
            return ("triggerer", "--skip-serve-logs")
        if name.startswith("celery-worker"):
            pid_file = str(self.home / "processes" / f"{name}.pid")
            concurrency = str(self.profile.worker_concurrency)
            return (
                "celery",
                "worker",
                "-H",
                f"{name}@%h",
                "-c",
                concurrency,
                "--pid",
                pid_file,
                "--skip-serve-logs",
                "--without-mingle",
                "--without-gossip",
            )
        return {
            "api-server": ("api-server", "-H", "127.0.0.1", "-p", str(self.api_port), "-w", "1"),
            "scheduler": ("scheduler", "--skip-serve-logs"),
            "dag-processor": ("dag-processor",),
        }[name]

    def _tracks_triggerers(self, name: str) -> bool:
        return name.startswith("triggerer") and self.profile.triggerers > 1

    def _running_triggerer_jobs(self) -> set[int]:
        rows = self.sql("SELECT id FROM job WHERE job_type = 'TriggererJob' AND state = 'running'")
        return {int(row[0]) for row in rows}

    def _wait_for_new_triggerer_job(self, before: set[int], timeout: float = 120.0) -> int:
        """The job id of the triggerer just started: the one running triggerer job that was not there."""

        def probe() -> int | None:
            self.check_alive()
            new = self._running_triggerer_jobs() - before
            return min(new) if new else None

        return poll("the new triggerer's job row", probe, timeout, on_timeout=self.tail_logs)

    def component_of(self, pid: int) -> str | None:
        """The component whose session holds process ``pid`` (a task runs in its worker's session)."""
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        session_id = int(stat[stat.rindex(")") + 2 :].split()[3])
        return next((c.name for c in self.components.values() if c.session_id == session_id), None)

    def kill_component(self, name: str) -> None:
        """SIGKILL a component's whole process group at once, as a crashed host would end it."""
        component = self.components.pop(name)
        # The whole session: task processes run in process groups of their own inside it.
        signal_group(component.session_id, signal.SIGKILL)
        for pid, _ in session_members(component.session_id):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        component.process.wait(timeout=10)
        poll(
            f"{name}'s processes to disappear",
            lambda: True if not session_members(component.session_id) else None,
            timeout=10,
            interval=0.1,
        )

    def stop_component(self, name: str) -> None:
        """SIGTERM the component's process group, SIGKILL it after the grace period, then reap it."""
        component = self.components.pop(name)
        self._stop_groups([component])

    def restart_component(self, name: str) -> None:
        self.stop_component(name)
        self.start_component(name)

    def stop(self) -> list[tuple[int, str]]:
        """Stop everything; return processes still alive afterwards (empty when shutdown was clean)."""
        self._http.close()
        if self._engine is not None:
            self._engine.dispose()
        components = list(self.components.values())
        self.components.clear()
        return self._stop_groups(components)

    def _stop_groups(self, components: Iterable[Component]) -> list[tuple[int, str]]:
        components = list(components)
        started = time.monotonic()
        for component in components:
            signal_group(component.session_id, signal.SIGTERM)
        pending = {component.name: component for component in components}
        while pending and time.monotonic() - started < self.stop_grace_seconds:
            for name, component in list(pending.items()):
                if component.process.poll() is not None and not session_members(component.session_id):
                    self.stop_report.append(
                        f"{name}: exited on SIGTERM in {time.monotonic() - started:.1f} s"
                    )
                    del pending[name]
            time.sleep(0.1)
        # Whatever ignored SIGTERM (the scheduler waiting on its workers, forked task runners) goes now.
        for name, component in pending.items():
            survivors = session_members(component.session_id)
            self.stop_report.append(
                f"{name}: SIGKILL after {self.stop_grace_seconds:.0f} s; ignored SIGTERM: "
                + "; ".join(command[-60:] for _, command in survivors)
            )
            signal_group(component.session_id, signal.SIGKILL)
            for pid, _ in survivors:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        for component in components:
            component.process.wait(timeout=10)
        with contextlib.suppress(AirflowProcessError):
            poll(
                "killed processes to disappear",
                lambda: True if not any(session_members(c.session_id) for c in components) else None,
                timeout=5,
                interval=0.1,
            )
        leftovers: list[tuple[int, str]] = []
        for component in components:
            leftovers.extend(session_members(component.session_id))
        return leftovers

    def ports(self) -> list[int]:
        settings = self._settings
        return [
            self.api_port,
            int(settings["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"]),
            int(settings["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"]),
        ]

    def check_alive(self) -> None:
        for component in self.components.values():
            if component.process.poll() is not None:
                raise AirflowProcessError(
                    f"{component.name} exited with {component.process.returncode}\n{self.tail_logs()}"
                )

    def tail_logs(self, lines: int = 40) -> str:
        """The end of every component's output, for failure messages."""
        parts = []
        for name in self.profile.components:
            path = self.home / "processes" / f"{name}.log"
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {name} ({path}) ---\n" + "\n".join(tail))
        return "\n".join(parts)

    def health(self) -> dict[str, Any] | None:
        try:
            response = self._http.get(f"{self.base_url}/api/v2/monitor/health", timeout=10)
        except (requests.ConnectionError, requests.Timeout):
            # A busy machine makes a starting api-server slow to answer: keep polling.
            return None
        return response.json() if response.status_code == 200 else None

    def wait_healthy(self, timeout: float = 120.0) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            self.check_alive()
            health = self.health()
            if health is None:
                return None
            statuses = [
                (health.get(part) or {}).get("status")
                for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")
            ]
            if not all(status == "healthy" for status in statuses):
                return None
            return health if all(self.worker_ready(name) for name in self.profile.worker_names) else None

        return poll("all components healthy", probe, timeout, on_timeout=self.tail_logs)

    def worker_ready(self, name: str) -> bool:
        """A Celery worker is ready once its log says so after its latest start banner."""
        path = self.home / "processes" / f"{name}.log"
        latest_start = path.read_bytes().rsplit(b"===== starting", 1)[-1] if path.exists() else b""
        return _CELERY_READY in latest_start

    # ------------------------------------------------------------------ REST API

    def token(self) -> str:
        if self._token is None:
            response = self._http.post(
                f"{self.base_url}/auth/token",
                json={"username": "admin", "password": self._password},
                timeout=API_TIMEOUT,
            )
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        return self._token

    def api(self, method: str, path: str, *, allow: Collection[int] = (), **kwargs: Any) -> requests.Response:
        """Call ``/api/v2/<path>`` as admin; an error status raises unless listed in ``allow``."""
        headers = {"Authorization": f"Bearer {self.token()}"}
        response = self._http.request(
            method,
            f"{self.base_url}/api/v2/{path.lstrip('/')}",
            headers=headers,
            timeout=API_TIMEOUT,
            **kwargs,
        )
        if response.status_code >= 400 and response.status_code not in allow:
            raise AirflowProcessError(f"{method} {path} -> {response.status_code}: {response.text[:2000]}")
        return response

    @staticmethod
    def run_path(dag_id: str, run_id: str) -> str:
        return f"dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}"

    def wait_for_dag(self, dag_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """Wait until the dag-processor has serialised ``dag_id`` (a timeout lists the import errors)."""

        def probe() -> dict[str, Any] | None:
            self.check_alive()
            response = self.api("GET", f"dags/{quote(dag_id, safe='')}", allow={404})
            return dict(response.json()) if response.status_code == 200 else None

        def details() -> str:
            errors = self.api("GET", "importErrors").json().get("import_errors", [])
            return f"import errors: {errors}\n{self.tail_logs()}"

        return poll(f"DAG {dag_id} to be parsed", probe, timeout, on_timeout=details)

    def trigger_dag(
        self, dag_id: str, conf: Mapping[str, Any] | None = None, logical_date: datetime | None = None
    ) -> str:
        """Create a manual run; give ``logical_date`` (as the UI's trigger form does) for ``{{ ds }}``."""
        body = {"logical_date": logical_date.isoformat() if logical_date else None, "conf": dict(conf or {})}
        response = self.api("POST", f"dags/{quote(dag_id, safe='')}/dagRuns", json=body)
        return str(response.json()["dag_run_id"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.api("GET", self.run_path(dag_id, run_id)).json())

    def wait_for_dag_run(
        self, dag_id: str, run_id: str, timeout: float = 120.0, states: Iterable[str] = TERMINAL_RUN_STATES
    ) -> str:
        wanted = set(states)

        def probe() -> str | None:
            self.check_alive()
            response = self.api("GET", self.run_path(dag_id, run_id), allow={404})
            if response.status_code == 404:  # not committed yet (the POST's answer can come first)
                return None
            state = str(response.json()["state"])
            return state if state in wanted else None

        return poll(
            f"run {run_id} of {dag_id} to reach {sorted(wanted)}",
            probe,
            timeout,
            on_timeout=lambda: (
                f"task instances: {self._states_for_message(dag_id, run_id)}\n{self.tail_logs()}"
            ),
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        response = self.api("GET", f"{self.run_path(dag_id, run_id)}/taskInstances")
        return list(response.json()["task_instances"])

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        path = f"{self.run_path(dag_id, run_id)}/taskInstances/{quote(task_id, safe='')}"
        return dict(self.api("GET", path).json())

    def _states_for_message(self, dag_id: str, run_id: str) -> dict[str, Any]:
        try:
            return {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}
        except (AirflowProcessError, requests.RequestException) as exc:
            return {"error": str(exc)}

    def task_instance_path(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
        """A task instance's REST path; a mapped one's ends in its map index."""
        path = f"{self.run_path(dag_id, run_id)}/taskInstances/{quote(task_id, safe='')}"
        return path if map_index < 0 else f"{path}/{map_index}"

    def wait_for_task_state(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        states: Iterable[str],
        timeout: float = 60.0,
        *,
        map_index: int = -1,
    ) -> str:
        wanted = set(states)

        def probe() -> str | None:
            self.check_alive()
            path = self.task_instance_path(dag_id, run_id, task_id, map_index)
            response = self.api("GET", path, allow={404})
            if response.status_code == 404:  # the scheduler has not created it yet
                return None
            state = response.json()["state"]
            return str(state) if state in wanted else None

        return poll(
            f"{dag_id}.{task_id} in {run_id} to reach {sorted(wanted)}",
            probe,
            timeout,
            on_timeout=lambda: (
                f"task instances: {self._states_for_message(dag_id, run_id)}\n{self.tail_logs()}"
            ),
        )

    def set_task_state(
        self, dag_id: str, run_id: str, task_id: str, new_state: str, *, map_index: int = -1
    ) -> dict[str, Any]:
        """What "Mark failed/success" in the UI does: PATCH the task instance's state."""
        path = self.task_instance_path(dag_id, run_id, task_id, map_index)
        return dict(self.api("PATCH", path, json={"new_state": new_state}).json())

    # ------------------------------------------------------------------ logs

    def task_log_dir(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Path:
        directory = self.log_folder / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        return directory if map_index < 0 else directory / f"map_index={map_index}"

    def task_logs(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, str]:
        """Every log file of the task instance (worker and trigger logs), by file name."""
        directory = self.task_log_dir(dag_id, run_id, task_id, map_index)
        if not directory.is_dir():
            return {}
        paths = sorted(directory.glob("attempt=*.log*"))
        return {path.name: path.read_text(errors="replace") for path in paths}

    def trigger_logs(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, str]:
        """Logs written by the triggerer for this task: ``attempt=N.log.trigger.<triggerer job id>.log``."""
        logs = self.task_logs(dag_id, run_id, task_id, map_index)
        return {name: text for name, text in logs.items() if ".log.trigger." in name}

    def wait_for_trigger_log(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        count: int = 1,
        timeout: float = 30.0,
        *,
        map_index: int = -1,
    ) -> dict[str, str]:
        """Wait until ``count`` triggerers ran this task's trigger (one file each, made on its first line)."""

        def probe() -> dict[str, str] | None:
            self.check_alive()
            logs = self.trigger_logs(dag_id, run_id, task_id, map_index)
            return logs if len(logs) >= count else None

        return poll(
            f"{count} trigger log(s) of {dag_id}.{task_id} in {run_id}",
            probe,
            timeout,
            on_timeout=self.tail_logs,
        )
