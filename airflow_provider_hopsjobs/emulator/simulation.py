"""Job types that cannot run here, and the ``--emulator-*`` tokens that script their run.

SPARK jars, RAY, DOCKER, FLINK, PYTHON_APP and notebooks go through their documented
lifecycle without running anything; the tokens (see :mod:`.engine`) decide how long the
simulated application runs, what it prints and how it ends.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_FILLER_LINE = b"emulator filler output: 0123456789abcdefghijklmnopqrstuvwxyz\n"
#: Outcomes (``--emulator-outcome``) that end the run FINISHED or FAILED as a real app would;
#: the others force a state of their own.
FORCED_OUTCOMES = frozenset({"FRAMEWORK_FAILURE", "KILLED"})


@dataclass
class Simulation:
    outcome: str = "SUCCEEDED"
    state: str | None = None
    final_status: str | None = None
    duration: float | None = None
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    stdout_bytes: int = 0
    rest: list[str] = field(default_factory=list)

    @property
    def forces_state(self) -> bool:
        """True when the tokens dictate the terminal state instead of the app's success."""
        return bool(self.state) or self.outcome in FORCED_OUTCOMES

    @property
    def succeeded(self) -> bool:
        """Whether the simulated application "exited 0"."""
        return self.outcome in ("SUCCEEDED", "SUCCESS", "FINISHED") and (
            self.final_status in (None, "SUCCEEDED", "UNDEFINED")
        )

    def run_seconds(self, job_type: str, default: float) -> float | None:
        """How long the app runs; ``None`` (PYTHON_APP without a duration) runs until stopped."""
        if self.duration is not None:
            return self.duration
        return None if job_type == "PYTHON_APP" else default

    def write_logs(self, run_dir: Path, job: dict[str, Any], execution_id: int) -> None:
        """What the simulated app prints: a banner with the remaining args, then the scripted lines."""
        job_type = str(job.get("job_type") or "")
        with open(run_dir / "stdout.log", "wb") as out:
            out.write(
                f"Simulated {job_type} job {job['name']} (execution {execution_id}); "
                f"args: {shlex.join(self.rest)}\n".encode()
            )
            for line in self.stdout:
                out.write(line.encode() + b"\n")
            written = 0
            while written < self.stdout_bytes:
                chunk = _FILLER_LINE[: self.stdout_bytes - written]
                out.write(chunk)
                written += len(chunk)
        with open(run_dir / "stderr.log", "wb") as err:
            for line in self.stderr:
                err.write(line.encode() + b"\n")


def parse_simulation(tokens: list[str]) -> Simulation:
    """Consume ``--emulator-*`` tokens; everything else is kept in ``rest``."""
    sim = Simulation()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--emulator-"):
            sim.rest.append(token)
            i += 1
            continue
        name, eq, value = token[len("--emulator-") :].partition("=")
        if not eq:
            value = tokens[i + 1] if i + 1 < len(tokens) else ""
            i += 1
        i += 1
        if name == "outcome":
            sim.outcome = value.upper()
        elif name == "state":
            sim.state = value.upper()
        elif name == "final-status":
            sim.final_status = value.upper()
        elif name == "duration":
            sim.duration = float(value)
        elif name == "stdout":
            sim.stdout.append(value)
        elif name == "stderr":
            sim.stderr.append(value)
        elif name == "stdout-bytes":
            sim.stdout_bytes = int(value)
        else:
            raise ValueError(f"unknown emulator option --emulator-{name}")
    return sim
