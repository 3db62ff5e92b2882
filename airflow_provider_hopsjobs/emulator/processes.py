"""Job processes: started in their own process group, waited for off the event loop, killed whole.

Stopping kills the whole process group (SIGTERM, then SIGKILL after ``kill_grace``
seconds, read when the kill starts so ``PATCH /_emulator/timing`` applies at once).
Processes do not outlive the emulator: :meth:`JobProcesses.kill_all` sends SIGKILL, and
:func:`kill_leftover` ends one an earlier emulator process left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

from airflow_provider_hopsjobs.emulator.settings import Settings


class JobProcesses:
    """The job processes this emulator started and that have not been waited for, by execution id."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._running: dict[int, subprocess.Popen[bytes]] = {}

    def launch(self, execution_id: int, command: list[str], *, run_dir: Path, env: dict[str, str]) -> int:
        """Start ``command`` in ``run_dir/cwd``, output to ``run_dir/std{out,err}.log``; returns the pid."""
        with open(run_dir / "stdout.log", "wb") as out, open(run_dir / "stderr.log", "wb") as err:
            proc = subprocess.Popen(
                command,
                cwd=run_dir / "cwd",
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        self._running[execution_id] = proc
        return proc.pid

    async def wait(self, execution_id: int) -> int:
        """The exit code of the execution's process, once it has ended."""
        code = await _wait_process(self._running[execution_id])
        self._running.pop(execution_id, None)
        return code

    def kill(self, execution_id: int) -> None:
        proc = self._running.get(execution_id)
        if proc is not None:
            self._kill(proc, self._settings.kill_grace)

    def kill_all(self) -> None:
        """SIGKILL at once: the emulator is going away and its jobs must go with it."""
        for proc in list(self._running.values()):
            self._kill(proc, 0)

    def forget(self, execution_id: int) -> None:
        self._running.pop(execution_id, None)

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes], grace: float) -> None:
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL if grace <= 0 else signal.SIGTERM)
        if grace > 0:

            def escalate() -> None:
                try:
                    proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(proc.pid, signal.SIGKILL)

            threading.Thread(target=escalate, daemon=True).start()


async def _wait_process(proc: subprocess.Popen[bytes]) -> int:
    """``proc.wait()`` in a thread (no child watcher needed), delivered on the event loop."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()

    def waiter() -> None:
        code = proc.wait()

        def deliver() -> None:
            if not done.done():
                done.set_result(code)

        with contextlib.suppress(RuntimeError):  # loop already closed at shutdown
            loop.call_soon_threadsafe(deliver)

    threading.Thread(target=waiter, name=f"wait-{proc.pid}", daemon=True).start()
    return await done


def kill_leftover(execution: dict[str, Any]) -> None:
    """Kill a process an earlier emulator started, if it is provably still that process."""
    pid, run_dir = execution.get("pid"), execution.get("run_dir")
    if not pid or not run_dir:
        return
    try:
        cwd = os.readlink(f"/proc/{int(pid)}/cwd")
    except OSError:
        return
    if Path(cwd) == Path(run_dir) / "cwd":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(pid), signal.SIGKILL)
