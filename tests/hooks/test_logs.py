"""Execution logs: inline, waited for, and streamed when over Hopsworks' 1 MB inline limit."""

from __future__ import annotations

import io
import tracemalloc

import pytest

from airflow_provider_hopsjobs.errors import HopsworksConfigError, HopsworksError, HopsworksNotFoundError
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksLogUnavailableError
from tests.hooks.conftest import P

LOG = f"{P}/jobs/etl/executions/7/log"
DOWNLOAD = f"{P}/dataset/download/with_auth/Logs%2FPython%2Fetl%2F7%2Fstdout.log"
STILL_RUNNING = {
    "errorCode": 130010,
    "errorMsg": "Execution state is invalid.",
    "usrMsg": "Job still running.",
}
NO_LOG_YET = (
    "No log available. If job failed instantaneously, please check again later or try running the job again. "
    "Log aggregation can take a few minutes to complete."
)


def log_dto(text: str | None, kind: str = "OUT") -> dict:
    dto = {"path": "/Projects/demo/Logs/Python/etl/7/stdout.log", "type": kind}
    if text is not None:
        dto["log"] = text
    return dto


def test_inline_log_lines(hook, project, requests_mock):
    requests_mock.get(f"{LOG}/out", json=log_dto("hello\r\nworld\n\nlast"))
    assert list(hook.iter_execution_log("etl", 7)) == ["hello", "world", "", "last"]


def test_stderr(hook, project, requests_mock):
    requests_mock.get(f"{LOG}/err", json=log_dto("Traceback\n  boom\n", kind="ERR"))
    assert list(hook.iter_execution_log("etl", 7, "err")) == ["Traceback", "  boom"]


def test_empty_log_file_yields_nothing(hook, project, requests_mock):
    requests_mock.get(f"{LOG}/out", json=log_dto("No information."))
    assert list(hook.iter_execution_log("etl", 7)) == []


def test_waits_while_running_and_while_aggregating(hook, project, requests_mock, sleeps):
    requests_mock.get(
        f"{LOG}/out",
        [
            {"status_code": 400, "json": STILL_RUNNING},
            {"json": log_dto(None)},  # not aggregated yet: no "log" key
            {"json": log_dto(NO_LOG_YET)},  # Python jobs say so in words
            {"json": log_dto("done")},
        ],
    )
    assert list(hook.iter_execution_log("etl", 7, wait_timeout=60)) == ["done"]
    assert len(sleeps) == 3
    assert sleeps == sorted(sleeps)  # backing off
    assert all(s <= hook.log_poll_max_wait for s in sleeps)


def test_wait_is_bounded(hook, project, requests_mock, sleeps):
    requests_mock.get(f"{LOG}/out", json=log_dto(None))
    with pytest.raises(HopsworksLogUnavailableError, match="not available after waiting 20 s") as err:
        list(hook.iter_execution_log("etl", 7, wait_timeout=20))
    assert isinstance(err.value, HopsworksError)
    assert sum(sleeps) <= 20
    assert len(sleeps) >= 3  # it did wait, with backoff, before giving up


def test_zero_wait_asks_once(hook, project, requests_mock, sleeps):
    get = requests_mock.get(f"{LOG}/out", status_code=400, json=STILL_RUNNING)
    with pytest.raises(HopsworksLogUnavailableError, match="still running"):
        list(hook.iter_execution_log("etl", 7, wait_timeout=0))
    assert get.call_count == 1
    assert sleeps == []


def test_other_errors_are_not_waited_for(hook, project, requests_mock, sleeps):
    requests_mock.get(
        f"{LOG}/out", status_code=404, json={"errorCode": 130007, "errorMsg": "Execution not found."}
    )
    with pytest.raises(HopsworksNotFoundError):
        list(hook.iter_execution_log("etl", 7))
    assert sleeps == []


def test_bad_log_type_fails_before_any_request(hook, requests_mock):
    with pytest.raises(HopsworksConfigError):
        hook.iter_execution_log("etl", 7, "stdout")  # type: ignore[arg-type]
    assert requests_mock.call_count == 0


def test_too_big_log_is_streamed_from_the_dataset_api(hook, project, requests_mock):
    requests_mock.get(
        f"{LOG}/out",
        json=log_dto(
            "Log is too big to display in browser. Click on the download button to get the log file."
        ),
    )
    content = b"".join(b"line %d\n" % i for i in range(1000))
    download = requests_mock.get(DOWNLOAD, content=content)
    lines = list(hook.iter_execution_log("etl", 7))
    assert lines[0] == "line 0"
    assert lines[-1] == "line 999"
    assert len(lines) == 1000
    assert download.last_request.qs["type"] == ["dataset"]
    assert download.last_request.headers["Authorization"].startswith("ApiKey ")


def test_too_big_log_without_path_uses_the_execution_paths(hook, project, requests_mock):
    requests_mock.get(f"{LOG}/out", json={"log": "Log is too big to display in browser.", "type": "OUT"})
    requests_mock.get(
        f"{P}/jobs/etl/executions/7",
        json={"id": 7, "stdoutPath": "/Projects/demo/Logs/Python/etl/7/stdout.log"},
    )
    requests_mock.get(DOWNLOAD, content=b"a\nb")
    assert list(hook.iter_execution_log("etl", 7)) == ["a", "b"]


class _Body(io.RawIOBase):
    """A body of ``total`` bytes of 100-byte lines, made on the fly so the test holds none of it."""

    LINE = b"x" * 99 + b"\n"

    def __init__(self, total: int) -> None:
        self.remaining = total

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(self.remaining, len(buffer), 65536)
        n -= n % 100 if n >= 100 else 0
        buffer[:n] = (self.LINE * (n // 100 + 1))[:n]
        self.remaining -= n
        return n


def test_streaming_uses_bounded_memory(hook, project, requests_mock):
    requests_mock.get(f"{LOG}/out", json=log_dto("Log is too big to display in browser."))
    total = 20 * 1024 * 1024
    requests_mock.get(DOWNLOAD, body=_Body(total))
    tracemalloc.start()
    try:
        count = 0
        for line in hook.iter_execution_log("etl", 7):
            count += 1
            assert len(line) <= 99
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == -(-total // 100)  # the last, partial line included
    assert peak < 8 * 1024 * 1024  # about one 1 MiB chunk and its lines, never the 20 MB file
