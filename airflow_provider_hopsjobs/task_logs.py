"""Copy a finished execution's stdout/stderr into the Airflow task log, on the worker.

Job output belongs in the task log people already read, not in a trigger event (stored
unencrypted in the metadata DB, and size-limited) nor only in the triggerer's log (whose
shipping to remote storage is unreliable). The hook yields the log line by line, streaming
logs over Hopsworks' 1 MB inline limit from the dataset API, so memory stays bounded
whatever the size; each stream is framed so it stands out from Airflow's own lines.

Lines go into the task log in blocks, one log record per block of consecutive lines. A
record costs Airflow 3's structured logging tens of microseconds in the task process and
again in the supervisor, whatever its size: one record per line copied a 100 MB log at
under 1 MB/s, blocks of 64 KiB copy it at well over 50 MB/s. The UI shows a record's
lines as lines (its event text is rendered pre-wrapped).

A log that cannot be fetched is a warning, never a failure: a successful job must not fail
because log aggregation was slow.
"""

from __future__ import annotations

import collections
import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

from airflow_provider_hopsjobs.errors import HopsworksError
from airflow_provider_hopsjobs.live_logs import DIGEST_LINES, LiveProgress, digest

LogStream = Literal["out", "err"]
When = Literal["always", "on_failure", "never"]

STREAM_NAMES: Final[dict[str, str]] = {"out": "stdout", "err": "stderr"}
#: How many trailing stderr lines a failure message quotes.
DEFAULT_TAIL_LINES: Final[int] = 20
#: A block of job output (one log record) ends after this many characters or lines.
BLOCK_MAX_CHARS: Final[int] = 64 * 1024
BLOCK_MAX_LINES: Final[int] = 1000
_BATCH_LINES: Final[int] = 50

#: The values ``fetch_logs`` takes besides ``True``/``False``, and what each selects (stdout, stderr).
_CHOICES: Final[dict[str, tuple[When, When]]] = {
    "out": ("always", "never"),
    "err": ("never", "always"),
    "both": ("always", "always"),
    "on_failure": ("on_failure", "on_failure"),
}

FetchLogs = bool | str


class _LogSource(Protocol):
    def iter_execution_log(
        self,
        job_name: str,
        execution_id: int,
        log_type: Literal["out", "err"] = "out",
        *,
        wait_timeout: float = 60.0,
    ) -> Iterator[str]: ...


@dataclass(frozen=True)
class LogSelection:
    """Which streams to copy, and when.

    Built from the operator's ``fetch_logs``:

    - ``True``: stdout always, stderr when the execution did not succeed;
    - ``"both"``: stdout and stderr always; ``"out"`` / ``"err"``: only that stream, always;
    - ``"on_failure"``: both streams, only when the execution did not succeed;
    - ``False``: nothing.
    """

    stdout: When = "always"
    stderr: When = "on_failure"

    @classmethod
    def parse(cls, value: FetchLogs | LogSelection) -> LogSelection:
        if isinstance(value, LogSelection):
            return value
        if value is True:
            return cls()
        if value is False:
            return cls("never", "never")
        if isinstance(value, str) and value in _CHOICES:
            return cls(*_CHOICES[value])
        choices = ", ".join(repr(k) for k in _CHOICES)
        raise ValueError(f"fetch_logs must be True, False or one of {choices}; got {value!r}")

    def streams(self, succeeded: bool) -> list[LogStream]:
        """The streams to copy for an execution that did or did not succeed."""
        chosen: list[LogStream] = []
        for stream, when in (("out", self.stdout), ("err", self.stderr)):
            if when == "always" or (when == "on_failure" and not succeeded):
                chosen.append(stream)  # type: ignore[arg-type]
        return chosen


def _frame(job_name: str, execution_id: int, stream: LogStream) -> str:
    return f"----- Hopsworks job {job_name!r} execution {execution_id} {STREAM_NAMES[stream]}"


def write_execution_log(  # long: one streaming loop; its failure and live-log cases share its state
    source: _LogSource,
    job_name: str,
    execution_id: int,
    stream: LogStream,
    *,
    log: logging.Logger | Any,
    wait_timeout: float = 60.0,
    tail_lines: int = DEFAULT_TAIL_LINES,
    live: LiveProgress | None = None,
) -> list[str]:
    """Write one stream into ``log`` in blocks of lines; return its last ``tail_lines`` lines.

    ``live``: what a live log already showed of stdout; those lines are not written again.

    Failures to fetch (log not aggregated in time, API errors, a connection dropped mid-way)
    are logged as warnings and end the copy, after the lines that did arrive; they never
    propagate.
    """
    tail: collections.deque[str] = collections.deque(maxlen=max(tail_lines, 0))
    header = _frame(job_name, execution_id, stream)
    count = 0
    block: list[str] = []
    block_chars = 0
    live = live if stream == "out" and live is not None and live.lines else None

    def flush() -> None:
        nonlocal block_chars, count
        if block:
            count += len(block)
            tail.extend(block)
            log.info("%s", "\n".join(block))
            block.clear()
            block_chars = 0

    log.info("%s -----", header)

    def open_log() -> Iterator[str]:
        return iter(source.iter_execution_log(job_name, execution_id, stream, wait_timeout=wait_timeout))

    skipped = 0
    try:
        lines = open_log()
        if live is not None:
            lines, skipped = _after_live_part(lines, live, open_log, log)
        while True:
            # Lines are taken a few dozen at a time so that the per-line work stays in C;
            # ``extend`` keeps the lines that arrived even when the stream breaks mid-batch.
            before = len(block)
            block.extend(itertools.islice(lines, _BATCH_LINES))
            if len(block) == before:
                break
            block_chars += sum(map(len, block[before:])) + len(block) - before
            if block_chars >= BLOCK_MAX_CHARS or len(block) >= BLOCK_MAX_LINES:
                flush()
    except (HopsworksError, OSError, ValueError) as err:
        flush()
        # ValueError covers decoding problems; OSError covers sockets closing mid-stream.
        what = "is incomplete" if count else "is not available"
        log.warning(
            "The %s of Hopsworks job %r execution %s %s: %s",
            STREAM_NAMES[stream],
            job_name,
            execution_id,
            what,
            err,
        )
    flush()
    shown = f", after {skipped} shown live" if skipped else ""
    log.info("%s end (%d line%s%s) -----", header, count, "" if count == 1 else "s", shown)
    return list(tail)


def _after_live_part(
    lines: Iterator[str], live: LiveProgress, reopen: Callable[[], Iterator[str]], log: Any
) -> tuple[Iterator[str], int]:
    """The archived lines past those shown live, and how many were skipped.

    Without gaps the live part was the first ``live.lines`` lines of the output; the digest
    of the last of them proves the archive lines up. When it does not (gaps, or a pod log
    that interleaves stderr), everything is copied, framed so the repetition is explained.
    """
    if not live.gap:
        recent: collections.deque[str] = collections.deque(maxlen=DIGEST_LINES)
        consumed = 0
        for line in itertools.islice(lines, live.lines):
            recent.append(line)
            consumed += 1
        if consumed == live.lines and digest(list(recent)) == live.digest:
            log.info(
                "(lines 1-%d were shown live above, while the job ran; the archived copy continues "
                "from line %d)",
                live.lines,
                live.lines + 1,
            )
            return lines, live.lines
        reason = "does not line up with the live part"
    else:
        reason = "had gaps in its live part"
    log.info("(the output %s above: all of it follows, repeating lines shown live)", reason)
    return (reopen() if not live.gap else lines), 0


def write_execution_logs(
    source: _LogSource,
    job_name: str,
    execution_id: int,
    *,
    succeeded: bool,
    selection: LogSelection,
    log: logging.Logger | Any,
    wait_timeout: float = 60.0,
    tail_lines: int = DEFAULT_TAIL_LINES,
    live: LiveProgress | None = None,
) -> dict[LogStream, list[str]]:
    """Copy the selected streams of a finished execution; return each stream's tail."""
    tails: dict[LogStream, list[str]] = {}
    for stream in selection.streams(succeeded):
        tails[stream] = write_execution_log(
            source,
            job_name,
            execution_id,
            stream,
            log=log,
            wait_timeout=wait_timeout,
            tail_lines=tail_lines,
            live=live,
        )
    return tails
