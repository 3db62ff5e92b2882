"""The tail merger and the live log: overlap removed, gaps said, statuses explained once."""

from __future__ import annotations

from unittest import mock

import pytest

from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.live_logs import (
    LiveLog,
    LiveProgress,
    PodLog,
    TailMerger,
    digest,
    live_log_lines_checked,
)


def text(lines: list[str], partial: str = "") -> str:
    return "".join(f"{line}\n" for line in lines) + partial


def tail(output: list[str], n: int, partial: str = "") -> str:
    """What the server answers for ``lines=n``: the last n lines (a partial one counts)."""
    whole = [f"{line}\n" for line in output] + ([partial] if partial else [])
    return "".join(whole[-n:])


def test_short_output_is_aligned_by_count() -> None:
    merger = TailMerger(10)
    out = ["a", "b", "c"]
    assert merger.merge(tail(out, 10)).new == ["a", "b", "c"]
    out += ["d", "e"]
    merged = merger.merge(tail(out, 10))
    assert (merged.new, merged.gap) == (["d", "e"], False)
    assert merger.merge(tail(out, 10)).new == []


def test_full_tails_overlap_is_removed() -> None:
    merger = TailMerger(4)
    out = [f"line {i}" for i in range(3)]
    assert merger.merge(tail(out, 4)).new == out
    shown = list(out)
    for step in range(10):
        out += [f"line {len(out)}", f"line {len(out) + 1}"]
        merged = merger.merge(tail(out, 4))
        assert not merged.gap, step
        shown += merged.new
    assert shown == out
    assert merger.progress() == LiveProgress(len(out), False, digest(out))


def test_more_output_than_one_tail_holds_is_a_gap() -> None:
    merger = TailMerger(3)
    out = ["a", "b"]
    merger.merge(tail(out, 3))
    out += ["c", "d", "e", "f", "g"]
    merged = merger.merge(tail(out, 3))
    assert (merged.new, merged.gap) == (["e", "f", "g"], True)
    assert merger.progress().gap  # the final copy then repeats everything, framed


def test_an_unterminated_line_waits_for_its_end() -> None:
    merger = TailMerger(10)
    assert merger.merge(tail(["a"], 10, partial="b half")).new == ["a"]
    assert merger.merge(tail(["a", "b half done"], 10)).new == ["b half done"]


def test_repeated_identical_lines_are_never_shown_twice() -> None:
    merger = TailMerger(3)
    out = ["x", "x", "x"]
    assert merger.merge(tail(out, 3)).new == ["x", "x", "x"]
    out += ["x", "x"]
    assert merger.merge(tail(out, 3)).new == []  # ambiguous: later (in the final copy), never twice


def test_live_log_writes_one_record_per_new_line_and_says_statuses_once() -> None:
    log = mock.Mock()
    live = LiveLog("train", 7, log=log, max_lines=10)
    live.on_pod_log(PodLog("WAITING_FOR_POD"))
    live.on_pod_log(PodLog("WAITING_FOR_POD"))
    live.on_pod_log(PodLog("AVAILABLE", True, log="one\ntwo\n"))
    live.on_pod_log(PodLog("AVAILABLE", True, log="one\ntwo\nthree\n"))
    records = [c.args for c in log.info.call_args_list]
    assert records == [
        ("Live log: waiting for the execution's pod to start.",),
        ("%s", "one"),
        ("%s", "two"),
        ("%s", "three"),
    ]
    assert live.active


@pytest.mark.parametrize("status", ["UNSUPPORTED_WORKLOAD", "MULTIPLE_ACTIVE_PODS", "NOT_SERVED"])
def test_what_will_never_have_a_live_log_stops_the_reads_with_one_line(status: str) -> None:
    log = mock.Mock()
    live = LiveLog("train", 7, log=log)
    live.on_pod_log(PodLog(status, message="Spark executions have several pods"))
    assert not live.active
    assert log.info.call_count == 1
    assert "Live log not available" in log.info.call_args.args[0]


def test_a_failed_read_is_said_once_and_never_raised() -> None:
    log = mock.Mock()
    live = LiveLog("train", 7, log=log)
    live.on_error(ConnectionError("refused"))
    live.on_error(ConnectionError("refused"))
    assert log.info.call_count == 1 and live.active


def test_progress_round_trips_and_refuses_garbage() -> None:
    progress = LiveProgress(12, True, "abc")
    assert LiveProgress.from_dict(progress.to_dict()) == progress
    for bad in (None, "x", {"lines": -1}, {"lines": True}, {"lines": "3"}):
        assert LiveProgress.from_dict(bad) is None


def test_pod_log_from_the_sdk_shape() -> None:
    dto = {"status": "AVAILABLE", "available": True, "log": "x\n", "podName": "p", "containerName": "c"}
    assert PodLog.from_dto(dto) == PodLog("AVAILABLE", True, None, "x\n", "p", "c")


@pytest.mark.parametrize("bad", [0, -1, 10_001, True, 2.5, "10"])
def test_line_cap_is_checked(bad: object) -> None:
    with pytest.raises(HopsworksConfigError, match="live_log_lines"):
        live_log_lines_checked(bad)


def test_short_tails_first_and_the_cap_only_when_one_falls_short() -> None:
    live = LiveLog("train", 7, log=mock.Mock(), max_lines=1000)
    assert live.request_lines == 1000  # the first read sees as much as it can
    out = [f"line {i}" for i in range(30)]
    live.on_pod_log(PodLog("AVAILABLE", True, log=tail(out, 1000)), 1000)
    assert live.request_lines == 60  # twice the last read's new lines
    out += [f"line {i}" for i in range(30, 200)]
    short = PodLog("AVAILABLE", True, log=tail(out, 60))
    assert live.needs_longer_tail(short, 60)  # 170 new lines do not fit in 60
    longer = PodLog("AVAILABLE", True, log=tail(out, 1000))
    assert not live.needs_longer_tail(longer, 1000)
    live.on_pod_log(longer, 1000)
    assert live.merger.progress().lines == 200 and not live.merger.gap


def test_after_a_gap_a_whole_output_tail_is_placed_by_overlap_not_by_count() -> None:
    merger = TailMerger(1000)
    out = [f"line {i}" for i in range(260)]
    first = merger.merge(tail(out, 50), 50)  # the job printed before the first read: a gap
    assert first.gap and first.new == out[-50:]
    out += [f"line {i}" for i in range(260, 270)]
    again = merger.merge(tail(out, 1000), 1000)  # the whole output this time
    assert (again.new, again.gap) == (out[-10:], False)
    out += ["line 270"]
    assert merger.merge(tail(out, 1000), 1000).new == ["line 270"]
