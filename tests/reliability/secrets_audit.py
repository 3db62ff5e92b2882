"""Find Hopsworks API keys where they must never be: logs, Airflow's database, events, errors.

A key is looked for twice: the exact keys a test knows, and anything shaped like a
Hopsworks API key (``<16 hex>.<43 url-safe characters>``, the form the emulator and
Hopsworks hand out), so that keys of emulators this module never saw are caught too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

KEY_SHAPE = re.compile(rb"(?<![A-Za-z0-9_-])[0-9a-f]{16}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")

#: Airflow 3.0's in-process test supervisor (``dag.test()`` only) logs every message a task
#: sends it at debug level, and that includes the ``MaskSecret`` request carrying the secret
#: to be masked; Airflow itself sends one with the connection password whenever a task reads
#: a connection. Real workers talk to a separate supervisor process and log no such line,
#: and Airflow 3.1+ does not echo it. Only that exact line is set aside, on 3.0 only.
_AIRFLOW_30_TEST_SUPERVISOR_ECHO = re.compile(r"^.*Sending request\s+msg=MaskSecret\(.*$", re.MULTILINE)


def dag_test_output(text: str) -> str:
    """``dag.test()`` output to audit, minus Airflow 3.0's own echo of mask requests."""
    from airflow_provider_hopsjobs.version_compat import AIRFLOW_V_3_1_PLUS

    return text if AIRFLOW_V_3_1_PLUS else _AIRFLOW_30_TEST_SUPERVISOR_ECHO.sub("", text)


def findings(where: str, data: bytes | str, keys: Iterable[str]) -> list[str]:
    """Where a key shows up in ``data`` (an empty list when it does not)."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    found = []
    for key in keys:
        if key and key.encode() in raw:
            found.append(f"{where}: contains a known API key ({key[:6]}...)")
    for match in KEY_SHAPE.finditer(raw):
        found.append(f"{where}: contains something shaped like an API key ({match.group()[:6].decode()}...)")
    return found


def files_under(folder: Path, *, skip: Iterable[str] = ()) -> Iterator[Path]:
    """Every file below ``folder``, except below sub-folders whose names start with ``skip``."""
    skipped = tuple(skip)
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if skipped and any(part.startswith(skipped) for part in path.relative_to(folder).parts):
            continue
        yield path


def scan_files(folder: Path, keys: Iterable[str], *, skip: Iterable[str] = ()) -> list[str]:
    keys = list(keys)
    found: list[str] = []
    for path in files_under(folder, skip=skip):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        found += findings(str(path), data, keys)
    return found


def scan_airflow_db(keys: Iterable[str]) -> list[str]:
    """What Airflow stored: XComs, trigger kwargs (decrypted), trigger events handed back to
    tasks, rendered template fields, run confs, the audit log."""
    from airflow.models.dagrun import DagRun
    from airflow.models.log import Log
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    keys = list(keys)
    found: list[str] = []

    def check(where: str, value: Any) -> None:
        found.extend(findings(where, json.dumps(value, default=str), keys))

    with create_session() as session:
        for row in session.scalars(select(XComModel)):
            check(f"XCom {row.dag_id}.{row.task_id}.{row.key}", row.value)
        for trigger in session.scalars(select(Trigger)):
            check(f"trigger {trigger.id} ({trigger.classpath}) kwargs", trigger.kwargs)
        for ti in session.scalars(select(TaskInstance)):
            check(f"task instance {ti.dag_id}.{ti.task_id} next_kwargs", ti.next_kwargs)
        for rendered in session.scalars(select(RenderedTaskInstanceFields)):
            check(f"rendered fields of {rendered.dag_id}.{rendered.task_id}", rendered.rendered_fields)
        for run in session.scalars(select(DagRun)):
            check(f"conf of {run.dag_id} {run.run_id}", run.conf)
        for entry in session.scalars(select(Log)):
            check(f"audit log {entry.event}", entry.extra)
    return found
