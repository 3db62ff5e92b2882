"""Copying execution logs into the task log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from airflow_provider_hopsjobs.errors import HopsworksApiUnavailableError
from airflow_provider_hopsjobs.task_logs import LogSelection, write_execution_log


@pytest.mark.parametrize(
    ("value", "on_success", "on_failure"),
    [
        (True, ["out"], ["out", "err"]),
        (False, [], []),
        ("both", ["out", "err"], ["out", "err"]),
        ("out", ["out"], ["out"]),
        ("err", ["err"], ["err"]),
        ("on_failure", [], ["out", "err"]),
    ],
)
def test_log_selection(value: Any, on_success: list[str], on_failure: list[str]) -> None:
    selection = LogSelection.parse(value)
    assert selection.streams(succeeded=True) == on_success
    assert selection.streams(succeeded=False) == on_failure


@pytest.mark.parametrize("value", ["sometimes", 3, ["out"], None, "OUT", "stderr", "default", "none"])
def test_log_selection_refuses(value: Any) -> None:
    with pytest.raises(ValueError, match="fetch_logs"):
        LogSelection.parse(value)


class Source:
    def __init__(self, lines: list[str], fail_after: int | None = None) -> None:
        self.lines = lines
        self.fail_after = fail_after

    def iter_execution_log(
        self, job_name: str, execution_id: int, log_type: str = "out", *, wait_timeout: float = 60.0
    ) -> Iterator[str]:
        for number, line in enumerate(self.lines):
            if self.fail_after is not None and number == self.fail_after:
                raise HopsworksApiUnavailableError("connection dropped")
            yield line


def test_lines_are_framed_in_order_and_tail_is_bounded() -> None:
    log = mock.Mock()
    lines = [f"line {i}" for i in range(100)]
    tail = write_execution_log(Source(lines), "train", 7, "out", log=log, tail_lines=3)
    assert tail == ["line 97", "line 98", "line 99"]
    messages = [c.args for c in log.info.call_args_list]
    assert messages[0] == ("%s -----", "----- Hopsworks job 'train' execution 7 stdout")
    assert (
        messages[-1][0] % messages[-1][1:]
        == "----- Hopsworks job 'train' execution 7 stdout end (100 lines) -----"
    )
    body = messages[1:-1]
    assert all(args[0] == "%s" for args in body)  # job text is never used as a format string
    assert "\n".join(args[1] for args in body).split("\n") == lines  # every line, in order
    log.warning.assert_not_called()


@pytest.mark.parametrize(("count", "words"), [(0, "0 lines"), (1, "1 line"), (2, "2 lines")])
def test_the_closing_frame_counts_in_words(count: int, words: str) -> None:
    log = mock.Mock()
    write_execution_log(Source([f"l{i}" for i in range(count)]), "train", 7, "out", log=log)
    last = log.info.call_args_list[-1].args
    assert last[0] % last[1:] == f"----- Hopsworks job 'train' execution 7 stdout end ({words}) -----"


def test_a_percent_sign_in_a_line_is_safe() -> None:
    log = mock.Mock()
    write_execution_log(Source(["100% done %s"]), "train", 7, "err", log=log)
    assert ("%s", "100% done %s") in [c.args for c in log.info.call_args_list]


def test_a_broken_stream_warns_and_keeps_what_arrived() -> None:
    log = mock.Mock()
    tail = write_execution_log(Source(["a", "b", "c"], fail_after=2), "train", 7, "out", log=log)
    assert tail == ["a", "b"]
    assert "is incomplete" in log.warning.call_args.args


def test_a_big_log_goes_in_few_bounded_records() -> None:
    """One record per line made a 100 MB log crawl through Airflow's logging; blocks keep it fast."""
    from airflow_provider_hopsjobs.task_logs import BLOCK_MAX_CHARS, BLOCK_MAX_LINES

    log = mock.Mock()
    lines = [f"{i:06d} " + "x" * (i % 300) for i in range(20_000)]
    tail = write_execution_log(Source(lines), "train", 7, "out", log=log, tail_lines=2)
    assert tail == lines[-2:]
    body = [c.args[1] for c in log.info.call_args_list[1:-1]]
    assert "\n".join(body).split("\n") == lines
    assert len(body) < len(lines) / 100
    # A block stops growing once past a limit: bounded by the limit plus one batch of lines.
    assert all(block.count("\n") < BLOCK_MAX_LINES for block in body)
    assert all(len(block) < BLOCK_MAX_CHARS + 50 * 310 for block in body)


# -- after a live part -----------------------------------------------------------------------------


def copied(log: mock.Mock) -> list[str]:
    """Every line the copy wrote, blocks split back into lines."""
    lines: list[str] = []
    for call in log.info.call_args_list:
        lines += (call.args[0] % call.args[1:]).split("\n")
    return lines


def test_the_copy_continues_where_the_live_part_ended() -> None:
    from airflow_provider_hopsjobs.live_logs import LiveProgress, digest

    log = mock.Mock()
    lines = [f"line {i}" for i in range(20)]
    live = LiveProgress(12, False, digest(lines[:12]))
    write_execution_log(Source(lines), "train", 7, "out", log=log, live=live)
    out = copied(log)
    assert [line for line in out if line.startswith("line ")] == lines[12:]
    assert any("lines 1-12 were shown live above" in line for line in out)
    assert out[-1].endswith("stdout end (8 lines, after 12 shown live) -----")


@pytest.mark.parametrize("progress", ["gap", "mismatch", "longer_than_archive"])
def test_the_copy_is_whole_and_framed_when_the_live_part_cannot_be_placed(progress: str) -> None:
    from airflow_provider_hopsjobs.live_logs import LiveProgress, digest

    log = mock.Mock()
    lines = [f"line {i}" for i in range(20)]
    live = {
        "gap": LiveProgress(12, True, digest(lines[:12])),
        "mismatch": LiveProgress(12, False, digest(["something else"])),
        "longer_than_archive": LiveProgress(25, False, digest(lines)),
    }[progress]
    write_execution_log(Source(lines), "train", 7, "out", log=log, live=live)
    out = copied(log)
    assert [line for line in out if line.startswith("line ")] == lines
    assert any("all of it follows, repeating lines shown live" in line for line in out)


def test_stderr_is_never_shortened_by_the_live_part() -> None:
    from airflow_provider_hopsjobs.live_logs import LiveProgress, digest

    log = mock.Mock()
    lines = [f"line {i}" for i in range(5)]
    write_execution_log(Source(lines), "t", 7, "err", log=log, live=LiveProgress(3, False, digest(lines[:3])))
    assert [line for line in copied(log) if line.startswith("line ")] == lines
