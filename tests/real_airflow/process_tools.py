"""Process and port helpers of the real-Airflow harness: sessions from /proc, free ports, polling."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

_T = TypeVar("_T")


class AirflowProcessError(RuntimeError):
    """A component did not come up, died, or a wait ran out; the message carries the component logs."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signal_group(group_id: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group_id, sig)


def port_is_free(port: int) -> bool:
    """True when nothing listens on ``port`` (TIME_WAIT leftovers do not count, hence SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def session_members(session_id: int) -> list[tuple[int, str]]:
    """Live (non-zombie) processes of a session as ``(pid, command line)``, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # Fields after the parenthesised command name: state ppid pgrp session ...
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[3]) == session_id:
            members.append((int(entry.name), cmdline.strip()))
    return members


def poll(
    what: str,
    probe: Callable[[], _T | None],
    timeout: float,
    interval: float = 0.5,
    on_timeout: str | Callable[[], str] = "",
) -> _T:
    """Call ``probe`` until it returns something other than None; raise with ``what`` after ``timeout``.

    ``on_timeout`` (or what it returns) is appended to the error: component logs, task states.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            details = on_timeout() if callable(on_timeout) else on_timeout
            raise AirflowProcessError(f"timed out after {timeout:.0f} s waiting for {what}\n{details}")
        time.sleep(interval)


def copy_dags(sources: Iterable[Path], destination: Path) -> Path:
    """Copy DAG folders/files into one dags folder (jobs and scripts beside a DAG come along)."""
    destination.mkdir(parents=True, exist_ok=True)
    for source in sources:
        if source.is_dir():
            shutil.copytree(
                source, destination, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(source, destination / source.name)
    return destination
