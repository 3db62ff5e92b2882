"""A running execution's output in the task log, from Hopsworks 5.1's pod-log tail (no I/O here).

Hopsworks 5.1 serves ``GET .../executions/{id}/pod-logs``: the last lines of the running pod
(the official SDK modules ``core/execution_api`` and ``core/execution_pod_log``). It is a tail,
not a stream with offsets, so two reads overlap, or miss what was printed between them when
more came than the tail holds. This module is the one place that turns successive tails into
"the lines not shown yet", used alike by the synchronous wait and by the trigger (which only
differ in how they fetch):

- :class:`PodLog`: one answer, as the hook returns it;
- :class:`TailMerger`: removes the overlap between tails and notices gaps (pure);
- :class:`LiveLog`: what a wait does with each answer: write the new lines, one record per
  line, say once why there is nothing to show (no pod-logs before 5.1, an unsupported
  workload, a pod not started yet), and remember what it showed as :class:`LiveProgress`,
  which travels in the final event so the archived copy does not repeat it.
"""

from __future__ import annotations

import collections
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from airflow_provider_hopsjobs.errors import HopsworksConfigError

#: Default cap of lines written per poll (also the tail's length).
DEFAULT_LIVE_LOG_LINES: Final[int] = 1000
#: The shortest tail a poll reads.
MIN_TAIL_LINES: Final[int] = 50
#: How many of the last shown lines the digest covers.
DIGEST_LINES: Final[int] = 5

AVAILABLE = "AVAILABLE"
WAITING_FOR_POD = "WAITING_FOR_POD"
MULTIPLE_ACTIVE_PODS = "MULTIPLE_ACTIVE_PODS"
UNSUPPORTED_WORKLOAD = "UNSUPPORTED_WORKLOAD"
LOGS_UNAVAILABLE = "LOGS_UNAVAILABLE"
#: Not a Hopsworks status: the server has no pod-logs at all (before 5.1).
NOT_SERVED = "NOT_SERVED"


@dataclass(frozen=True)
class PodLog:
    """One ``pod-logs`` answer: ``{status, available, message, log, podName, containerName}``."""

    status: str
    available: bool = False
    message: str | None = None
    log: str | None = None
    pod_name: str | None = None
    container_name: str | None = None

    @classmethod
    def from_dto(cls, dto: Mapping[str, Any]) -> PodLog:
        log = dto.get("log")
        return cls(
            status=str(dto.get("status") or LOGS_UNAVAILABLE),
            available=bool(dto.get("available")),
            message=None if dto.get("message") is None else str(dto["message"]),
            log=None if log is None else str(log),
            pod_name=None if dto.get("podName") is None else str(dto["podName"]),
            container_name=None if dto.get("containerName") is None else str(dto["containerName"]),
        )


def live_log_lines_checked(value: Any) -> int:
    """The per-poll cap: a positive integer (at most 10,000: a tail is read whole each poll)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise HopsworksConfigError(f"live_log_lines must be an integer from 1 to 10000, got {value!r}")
    return value


def digest(lines: Sequence[str]) -> str:
    """A short fingerprint of the last shown lines: lets the final copy check its alignment."""
    return hashlib.sha256("\n".join(lines[-DIGEST_LINES:]).encode("utf-8", "replace")).hexdigest()[:16]


@dataclass(frozen=True)
class LiveProgress:
    """What the live part showed: its line count, whether it had gaps, the last lines' digest.

    JSON-able (it travels in the trigger's event), and holds no log text: events are stored
    unencrypted.
    """

    lines: int = 0
    gap: bool = False
    digest: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"lines": self.lines, "gap": self.gap, "digest": self.digest}

    @classmethod
    def from_dict(cls, value: Any) -> LiveProgress | None:
        if not isinstance(value, Mapping):
            return None
        lines, gap, fingerprint = value.get("lines"), value.get("gap"), value.get("digest")
        if isinstance(lines, bool) or not isinstance(lines, int) or lines < 0:
            return None
        return cls(lines, bool(gap), str(fingerprint or ""))


@dataclass(frozen=True)
class Merged:
    """The lines of one tail not shown before, and whether some could not be covered."""

    new: list[str]
    gap: bool


class TailMerger:
    """Turns successive tails of one growing output into its lines, each once.

    A tail shorter than requested holds the whole output so far, so the new lines are
    exactly those past the count already shown (once a gap happened, the count is no
    position any more, and the overlap decides). A full tail is matched against the last
    lines shown: the longest overlap wins (so repeated identical lines are never shown
    twice, at worst later, by the archived copy); no overlap means more was printed than
    the tail holds, a gap. An unterminated last line is left for the next read.
    """

    def __init__(self, tail_lines: int = DEFAULT_LIVE_LOG_LINES) -> None:
        if tail_lines < 1:
            raise ValueError("tail_lines must be at least 1")
        self.tail_lines = tail_lines
        self.shown = 0
        self.gap = False
        self._window: collections.deque[str] = collections.deque(maxlen=max(tail_lines, DIGEST_LINES))

    @staticmethod
    def _lines(text: str, requested: int) -> tuple[list[str], bool]:
        """Complete lines of a tail, and whether it was full (so may not reach the output's start)."""
        raw = text.splitlines(keepends=True)
        full = len(raw) >= requested
        if raw and not raw[-1].endswith(("\n", "\r")):
            raw.pop()  # still being written
        return [line.rstrip("\r\n") for line in raw], full

    def _split(self, lines: list[str], full: bool) -> tuple[list[str], bool]:
        if full:
            return self._after_overlap(lines)
        if self.gap and self._window:
            # After a gap the count shown is no position in the output: place it by overlap.
            return self._after_overlap(lines)
        return self._from_whole_output(lines)

    def would_gap(self, text: str, requested: int) -> bool:
        """Whether this tail misses lines (so a longer one should be read); changes nothing."""
        return self._split(*self._lines(text, requested))[1]

    def merge(self, text: str, requested: int | None = None) -> Merged:
        """The lines of a tail read with ``lines=requested`` (default: ``tail_lines``) not shown yet."""
        new, gap = self._split(*self._lines(text, requested or self.tail_lines))
        self.shown += len(new)
        self.gap = self.gap or gap
        self._window.extend(new)
        return Merged(new, gap)

    def _from_whole_output(self, lines: list[str]) -> tuple[list[str], bool]:
        shown = min(self.shown, len(self._window))
        if shown and lines[self.shown - shown : self.shown] != list(self._window)[-shown:]:
            # The output is not what was shown (a restarted pod): start over, say so.
            return lines, True
        return lines[self.shown :], False

    def _after_overlap(self, lines: list[str]) -> tuple[list[str], bool]:
        if not self._window:
            return lines, self.shown > 0 or bool(lines)
        window = list(self._window)
        last = window[-1]
        # The latest place where what was shown last ends (so the fewest lines count as new):
        # the tail may start inside the shown lines or before them (a longer tail than before).
        for end in range(len(lines) - 1, -1, -1):
            if lines[end] == last:
                k = min(end + 1, len(window))
                if lines[end + 1 - k : end + 1] == window[-k:]:
                    return lines[end + 1 :], False
        return lines, True

    def progress(self) -> LiveProgress:
        return LiveProgress(self.shown, self.gap, digest(list(self._window)) if self.shown else "")


#: Statuses after which a wait stops asking: this execution will never have a readable pod.
_FINAL_STATUSES: Final[frozenset[str]] = frozenset({UNSUPPORTED_WORKLOAD, MULTIPLE_ACTIVE_PODS})


class LiveLog:
    """One wait's live log: feed it each pod-log answer (or failure); it writes to ``log``.

    :param max_lines: cap of lines per poll; also the length of the tail asked for.
    """

    def __init__(
        self,
        job_name: str,
        execution_id: int,
        *,
        log: logging.Logger | Any,
        max_lines: int = DEFAULT_LIVE_LOG_LINES,
    ) -> None:
        self.job_name = job_name
        self.execution_id = execution_id
        self.log = log
        self.merger = TailMerger(max_lines)
        #: False once there is nothing more to ask for (no pod-logs, unsupported workload).
        self.active = True
        self._said: set[str] = set()
        # The first read takes the cap: a wait that joins a running job sees as much as it can.
        self._last_new = max_lines

    @property
    def max_lines(self) -> int:
        return self.merger.tail_lines

    @property
    def request_lines(self) -> int:
        """How long a tail to read now: the cap first, then twice the last read's new lines, at
        least :data:`MIN_TAIL_LINES`, at most the cap. Short tails keep a poll cheap; a read that
        turns out too short is repeated once with the cap (:meth:`needs_longer_tail`)."""
        return min(self.max_lines, max(MIN_TAIL_LINES, 2 * self._last_new))

    def needs_longer_tail(self, answer: PodLog, requested: int) -> bool:
        """A tail shorter than the cap that misses lines: read again, with the cap."""
        return (
            requested < self.max_lines
            and answer.status == AVAILABLE
            and answer.log is not None
            and self.merger.shown > 0
            and self.merger.would_gap(answer.log, requested)
        )

    def _once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._said:
            self._said.add(key)
            self.log.info(message, *args)

    def on_pod_log(self, answer: PodLog, requested: int | None = None) -> None:
        """Write the lines of a tail read with ``lines=requested`` not shown yet; explain once
        when there are none to read."""
        if answer.status == AVAILABLE and answer.log is not None:
            merged = self.merger.merge(answer.log, requested)
            self._last_new = len(merged.new)
            if merged.gap:
                self.log.warning(
                    "Live log: lines are missing before the next one (more was printed between two "
                    "reads than one read holds, %d lines); the full stdout follows when the execution ends.",
                    self.max_lines,
                )
            for line in merged.new:
                self.log.info("%s", line)
            return
        why = answer.message or answer.status
        if answer.status == NOT_SERVED:
            self.on_missing()
        elif answer.status in _FINAL_STATUSES:
            self.active = False
            self._once(
                answer.status,
                "Live log not available (%s: %s); the output follows when it ends.",
                answer.status,
                why,
            )
        elif answer.status == WAITING_FOR_POD:
            self._once(answer.status, "Live log: waiting for the execution's pod to start.")
        else:
            self._once(answer.status, "Live log not available yet (%s: %s).", answer.status, why)

    def on_missing(self) -> None:
        """The server has no pod-logs route (before Hopsworks 5.1): stop asking, say so once."""
        self.active = False
        self._once(
            "missing",
            "Live log not available: this Hopsworks has no pod-logs (it arrived in 5.1); "
            "the output follows when the execution ends.",
        )

    def on_error(self, error: BaseException) -> None:
        """A failed read is never a failed wait: it is skipped (said once)."""
        self._once("error", "Live log: could not read the pod's log (%s); will try again.", error)

    def progress(self) -> LiveProgress:
        return self.merger.progress()
