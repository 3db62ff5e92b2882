"""Everything the emulator remembers, in one SQLite file under the data directory.

Projects, users, API keys (only a hash of each secret), jobs, executions, v2 schedules
and saved default job configurations live here, so a restarted emulator picks up where
it stopped. Files (uploaded scripts, aggregated logs) live in the data directory's
``fs/`` tree instead, as HopsFS would hold them.

All access happens on the server's event-loop thread; a lock still guards the
connection so a helper thread can never interleave a half-written transaction.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from airflow_provider_hopsjobs.emulator.states import TERMINAL_STATES

Row = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL, firstname TEXT, lastname TEXT, email TEXT
);
CREATE TABLE IF NOT EXISTS api_keys (
    prefix TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL, scopes TEXT NOT NULL, user_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, owner_id INTEGER NOT NULL, created_ms INTEGER NOT NULL,
    description TEXT
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, name TEXT NOT NULL, job_type TEXT,
    config TEXT NOT NULL, creator_id INTEGER NOT NULL, created_ms INTEGER NOT NULL,
    UNIQUE (project_id, name)
);
CREATE TABLE IF NOT EXISTS executions (
    id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, project_id INTEGER NOT NULL,
    submitted_ms INTEGER NOT NULL, state TEXT NOT NULL, final_status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0, started_ms INTEGER, finished_ms INTEGER, app_id TEXT,
    args TEXT NOT NULL DEFAULT '', user_id INTEGER NOT NULL, stdout_path TEXT, stderr_path TEXT,
    pid INTEGER, run_dir TEXT, env TEXT, exit_code INTEGER, stop_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS executions_job ON executions (job_id);
CREATE TABLE IF NOT EXISTS schedules (
    id INTEGER PRIMARY KEY, job_id INTEGER UNIQUE NOT NULL, cron TEXT NOT NULL, enabled INTEGER NOT NULL,
    start_ms INTEGER, end_ms INTEGER, next_ms INTEGER, extra TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS default_configs (
    project_id INTEGER NOT NULL, job_type TEXT NOT NULL, config TEXT NOT NULL,
    PRIMARY KEY (project_id, job_type)
);
"""

#: First ids handed out, so a project id is never mistaken for a job or execution id.
_FIRST_IDS = {"projects": 119, "users": 10000, "jobs": 1, "executions": 1, "schedules": 1}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Store:
    """A thin typed layer over one SQLite connection."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._users: dict[int, Row] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        with self._lock:
            row = self._db.execute(sql, tuple(params)).fetchone()
        return dict(row) if row is not None else None

    def _all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, tuple(params)).fetchall()]

    def _next_id(self, db: sqlite3.Connection, table: str) -> int:
        key = f"next_id:{table}"
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        value = int(row[0]) if row is not None else _FIRST_IDS[table]
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(value + 1)))
        return value

    # -- meta ---------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- users and keys -----------------------------------------------------------------
    def ensure_user(self, username: str, firstname: str, lastname: str, email: str) -> Row:
        existing = self._one("SELECT * FROM users WHERE username = ?", (username,))
        if existing is not None:
            return existing
        with self.transaction() as db:
            uid = self._next_id(db, "users")
            db.execute(
                "INSERT INTO users (id, username, firstname, lastname, email) VALUES (?, ?, ?, ?, ?)",
                (uid, username, firstname, lastname, email),
            )
        user = self.get_user(uid)
        assert user is not None
        return user

    def get_user(self, user_id: int) -> Row | None:
        # Users never change once created, so they are cached (status polls read them twice).
        cached = self._users.get(user_id)
        if cached is None:
            cached = self._one("SELECT * FROM users WHERE id = ?", (user_id,))
            if cached is not None:
                self._users[user_id] = cached
        return dict(cached) if cached is not None else None

    def put_api_key(self, prefix: str, secret: str, scopes: Iterable[str], user_id: int) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO api_keys (prefix, secret_sha256, scopes, user_id) "
                "VALUES (?, ?, ?, ?)",
                (prefix, sha256(secret), json.dumps(sorted(set(scopes))), user_id),
            )

    def get_api_key(self, prefix: str) -> Row | None:
        row = self._one("SELECT * FROM api_keys WHERE prefix = ?", (prefix,))
        if row is not None:
            row["scopes"] = frozenset(json.loads(row["scopes"]))
        return row

    # -- projects -----------------------------------------------------------------------
    def ensure_project(self, name: str, owner_id: int, now_ms: int) -> Row:
        existing = self.get_project_by_name(name)
        if existing is not None:
            return existing
        with self.transaction() as db:
            pid = self._next_id(db, "projects")
            db.execute(
                "INSERT INTO projects (id, name, owner_id, created_ms, description) VALUES (?, ?, ?, ?, ?)",
                (pid, name, owner_id, now_ms, f"Project {name} served by the Hopsworks emulator"),
            )
        project = self.get_project(pid)
        assert project is not None
        return project

    def get_project(self, project_id: int) -> Row | None:
        return self._one("SELECT * FROM projects WHERE id = ?", (project_id,))

    def get_project_by_name(self, name: str) -> Row | None:
        return self._one("SELECT * FROM projects WHERE name = ?", (name,))

    def list_projects(self) -> list[Row]:
        return self._all("SELECT * FROM projects ORDER BY id")

    # -- jobs -----------------------------------------------------------------------------
    @staticmethod
    def _job(row: Row | None) -> Row | None:
        if row is not None:
            row["config"] = json.loads(row["config"])
        return row

    def get_job(self, project_id: int, name: str) -> Row | None:
        return self._job(
            self._one("SELECT * FROM jobs WHERE project_id = ? AND name = ?", (project_id, name))
        )

    def get_job_by_id(self, job_id: int) -> Row | None:
        return self._job(self._one("SELECT * FROM jobs WHERE id = ?", (job_id,)))

    def list_jobs(self, project_id: int) -> list[Row]:
        rows = self._all("SELECT * FROM jobs WHERE project_id = ? ORDER BY id", (project_id,))
        return [r for r in (self._job(row) for row in rows) if r is not None]

    def create_job(
        self,
        project_id: int,
        name: str,
        *,
        job_type: str | None,
        config: Mapping[str, Any],
        creator_id: int,
        now_ms: int,
    ) -> Row:
        with self.transaction() as db:
            jid = self._next_id(db, "jobs")
            db.execute(
                "INSERT INTO jobs (id, project_id, name, job_type, config, creator_id, created_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (jid, project_id, name, job_type, json.dumps(config), creator_id, now_ms),
            )
        job = self.get_job_by_id(jid)
        assert job is not None
        return job

    def update_job(self, job_id: int, job_type: str | None, config: Mapping[str, Any]) -> Row:
        with self.transaction() as db:
            db.execute(
                "UPDATE jobs SET job_type = ?, config = ? WHERE id = ?",
                (job_type, json.dumps(config), job_id),
            )
        job = self.get_job_by_id(job_id)
        assert job is not None
        return job

    def delete_job(self, job_id: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM executions WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM schedules WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    # -- executions -----------------------------------------------------------------------
    @staticmethod
    def _execution(row: Row | None) -> Row | None:
        if row is not None:
            row["env"] = json.loads(row["env"]) if row["env"] else {}
        return row

    def create_execution(
        self, job_id: int, project_id: int, *, args: str, user_id: int, now_ms: int, env: Mapping[str, str]
    ) -> Row:
        with self.transaction() as db:
            eid = self._next_id(db, "executions")
            db.execute(
                "INSERT INTO executions (id, job_id, project_id, submitted_ms, state, final_status, "
                "progress, args, user_id, env) VALUES (?, ?, ?, ?, 'INITIALIZING', 'UNDEFINED', 0, ?, ?, ?)",
                (eid, job_id, project_id, now_ms, args, user_id, json.dumps(dict(env))),
            )
        execution = self.get_execution(eid)
        assert execution is not None
        return execution

    def get_execution(self, execution_id: int) -> Row | None:
        return self._execution(self._one("SELECT * FROM executions WHERE id = ?", (execution_id,)))

    def list_executions(self, job_id: int) -> list[Row]:
        rows = self._all("SELECT * FROM executions WHERE job_id = ? ORDER BY id", (job_id,))
        return [r for r in (self._execution(row) for row in rows) if r is not None]

    def latest_executions(self, job_ids: Iterable[int]) -> dict[int, Row]:
        """The newest execution of each job (by submission time, then id)."""
        ids = list(job_ids)
        if not ids:
            return {}
        marks = ",".join("?" for _ in ids)
        rows = self._all(
            f"SELECT * FROM executions WHERE job_id IN ({marks}) ORDER BY submitted_ms, id",  # noqa: S608
            ids,
        )
        latest: dict[int, Row] = {}
        for row in rows:
            latest[row["job_id"]] = row
        return {k: v for k, v in ((k, self._execution(v)) for k, v in latest.items()) if v is not None}

    def unfinished_executions(self) -> list[Row]:
        marks = ",".join("?" for _ in TERMINAL_STATES)
        rows = self._all(
            f"SELECT * FROM executions WHERE state NOT IN ({marks}) ORDER BY id",  # noqa: S608
            sorted(TERMINAL_STATES),
        )
        return [r for r in (self._execution(row) for row in rows) if r is not None]

    def update_execution(self, execution_id: int, **fields: Any) -> Row | None:
        if fields:
            cols = ", ".join(f"{k} = ?" for k in fields)
            values = [json.dumps(v) if k == "env" else v for k, v in fields.items()]
            with self.transaction() as db:
                db.execute(f"UPDATE executions SET {cols} WHERE id = ?", [*values, execution_id])  # noqa: S608
        return self.get_execution(execution_id)

    def delete_execution(self, execution_id: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM executions WHERE id = ?", (execution_id,))

    # -- schedules ------------------------------------------------------------------------
    @staticmethod
    def _schedule(row: Row | None) -> Row | None:
        if row is not None:
            row["extra"] = json.loads(row["extra"])
            row["enabled"] = bool(row["enabled"])
        return row

    def get_schedule_for_job(self, job_id: int) -> Row | None:
        return self._schedule(self._one("SELECT * FROM schedules WHERE job_id = ?", (job_id,)))

    def get_schedule(self, schedule_id: int) -> Row | None:
        return self._schedule(self._one("SELECT * FROM schedules WHERE id = ?", (schedule_id,)))

    def list_schedules(self) -> list[Row]:
        rows = self._all("SELECT * FROM schedules ORDER BY id")
        return [r for r in (self._schedule(row) for row in rows) if r is not None]

    def schedules_for_jobs(self, job_ids: Iterable[int]) -> dict[int, Row]:
        ids = list(job_ids)
        if not ids:
            return {}
        marks = ",".join("?" for _ in ids)
        rows = self._all(f"SELECT * FROM schedules WHERE job_id IN ({marks})", ids)  # noqa: S608
        return {r["job_id"]: r for r in (self._schedule(row) for row in rows) if r is not None}

    def save_schedule(
        self,
        job_id: int,
        *,
        cron: str,
        enabled: bool,
        start_ms: int | None,
        end_ms: int | None,
        next_ms: int | None,
        extra: Mapping[str, Any],
        schedule_id: int | None = None,
    ) -> Row:
        with self.transaction() as db:
            if schedule_id is None:
                schedule_id = self._next_id(db, "schedules")
                db.execute(
                    "INSERT INTO schedules (id, job_id, cron, enabled, start_ms, end_ms, next_ms, extra) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        schedule_id,
                        job_id,
                        cron,
                        int(enabled),
                        start_ms,
                        end_ms,
                        next_ms,
                        json.dumps(dict(extra)),
                    ),
                )
            else:
                db.execute(
                    "UPDATE schedules SET cron = ?, enabled = ?, start_ms = ?, end_ms = ?, next_ms = ?, "
                    "extra = ? WHERE id = ?",
                    (cron, int(enabled), start_ms, end_ms, next_ms, json.dumps(dict(extra)), schedule_id),
                )
        schedule = self.get_schedule(schedule_id)
        assert schedule is not None
        return schedule

    def update_schedule_next(
        self, schedule_id: int, next_ms: int | None, enabled: bool | None = None
    ) -> None:
        with self.transaction() as db:
            if enabled is None:
                db.execute("UPDATE schedules SET next_ms = ? WHERE id = ?", (next_ms, schedule_id))
            else:
                db.execute(
                    "UPDATE schedules SET next_ms = ?, enabled = ? WHERE id = ?",
                    (next_ms, int(enabled), schedule_id),
                )

    def delete_schedule(self, job_id: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM schedules WHERE job_id = ?", (job_id,))

    # -- saved default job configurations -------------------------------------------------
    def get_default_config(self, project_id: int, job_type: str) -> dict[str, Any] | None:
        row = self._one(
            "SELECT config FROM default_configs WHERE project_id = ? AND job_type = ?", (project_id, job_type)
        )
        return None if row is None else dict(json.loads(row["config"]))

    def list_default_configs(self, project_id: int) -> list[tuple[str, dict[str, Any]]]:
        rows = self._all(
            "SELECT job_type, config FROM default_configs WHERE project_id = ? ORDER BY job_type",
            (project_id,),
        )
        return [(r["job_type"], dict(json.loads(r["config"]))) for r in rows]

    def put_default_config(self, project_id: int, job_type: str, config: Mapping[str, Any]) -> bool:
        """Save a project default; True when it was created, False when replaced."""
        with self.transaction() as db:
            existed = db.execute(
                "SELECT 1 FROM default_configs WHERE project_id = ? AND job_type = ?", (project_id, job_type)
            ).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO default_configs (project_id, job_type, config) VALUES (?, ?, ?)",
                (project_id, job_type, json.dumps(dict(config))),
            )
        return existed is None

    def delete_default_config(self, project_id: int, job_type: str) -> bool:
        with self.transaction() as db:
            cur = db.execute(
                "DELETE FROM default_configs WHERE project_id = ? AND job_type = ?", (project_id, job_type)
            )
        return cur.rowcount > 0
