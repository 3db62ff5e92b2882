"""Plumbing the benchmark scripts share: a throw-away Airflow home, a fresh emulator, result lines.

Import this module before anything imports Airflow: Airflow reads its configuration at
import time, and a benchmark must neither read nor write the user's ``~/airflow``.
"""

from __future__ import annotations

import contextlib
import os
import resource
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def _isolate_airflow() -> None:
    if "AIRFLOW_HOME" not in os.environ:
        home = Path(tempfile.mkdtemp(prefix="hopsjobs-bench-airflow-"))
        os.environ["AIRFLOW_HOME"] = str(home)
        os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    # The trigger logs each state change; a thousand of them would bury the figures.
    os.environ.setdefault("AIRFLOW__LOGGING__NAMESPACE_LEVELS", "airflow_provider_hopsjobs.triggers=WARNING")


_isolate_airflow()

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle  # noqa: E402

CONN_ENV = "AIRFLOW_CONN_HOPSWORKS_DEFAULT"


@contextlib.contextmanager
def emulator(*extra_args: str) -> Iterator[EmulatorHandle]:
    """A fresh emulator (its own data directory), the default connection pointing at it."""
    with tempfile.TemporaryDirectory(prefix="hopsjobs-bench-emulator-") as data_dir:
        handle = EmulatorHandle(data_dir, extra_args=extra_args).start()
        os.environ[CONN_ENV] = handle.connection_json()
        try:
            yield handle
        finally:
            handle.stop()


def python_job(name: str, source: str) -> None:
    """Create (or update) a PYTHON job running ``source``, through the provider's own hook."""
    from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

    hook = HopsworksHook()
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / f"{name}.py"
        script.write_text(textwrap.dedent(source))
        remote = hook.upload_file(script, f"Resources/bench/{name}", overwrite=True)
    hook.create_or_update_job(name, "PYTHON", app_path=remote)
    hook.close()


SLEEP_JOB = """
    import sys, time
    time.sleep(float(sys.argv[1]))
    print("slept", sys.argv[1], flush=True)
"""


def cpu_seconds() -> float:
    """User + system CPU of this process (all threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of another process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int | str = "self") -> int:
    """Current resident set size (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc")


def pin(pid: int, cpu: int) -> bool:
    """Pin a process to one CPU so a client and the emulator do not steal each other's core."""
    if not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2:
        return False
    os.sched_setaffinity(pid, {cpu})
    return True


def describe(values: Sequence[float], unit: str = "s", digits: int = 3) -> str:
    ordered = sorted(values)
    return (
        f"median {statistics.median(ordered):.{digits}f} {unit}, min {ordered[0]:.{digits}f}, "
        f"max {ordered[-1]:.{digits}f} (n={len(ordered)})"
    )


def result(measure: str, value: str, goal: str, ok: bool) -> bool:
    """The line a reader (and the README table) takes the figure from."""
    print(f"RESULT {measure}: {value}  (goal {goal})  {'PASS' if ok else 'MISS'}", flush=True)
    return ok


def banner(title: str, **settings: Any) -> None:
    described = ", ".join(f"{k}={v}" for k, v in settings.items())
    print(f"== {title} ({described}) on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}", flush=True)
    print(f"   load average before: {os.getloadavg()[0]:.2f}", flush=True)


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")
