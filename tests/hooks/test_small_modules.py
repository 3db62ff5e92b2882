"""Line splitting and timestamp parsing."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_hopsjobs.hooks.lines import iter_text_lines, split_text_lines
from airflow_provider_hopsjobs.hooks.timestamps import parse_timestamp, to_epoch_ms


def test_lines_across_chunk_boundaries_and_crlf():
    chunks = [b"one\r", b"\ntw", b"o\nthr", b"ee"]
    assert list(iter_text_lines(chunks)) == ["one", "two", "three"]


def test_utf8_split_inside_a_character():
    text = "héllo wörld\n".encode()
    chunks = [text[i : i + 1] for i in range(len(text))]
    assert list(iter_text_lines(chunks)) == ["héllo wörld"]


def test_invalid_bytes_are_replaced_not_fatal():
    assert list(iter_text_lines([b"ok\xff\n"])) == ["ok\ufffd"]


def test_overlong_lines_are_cut_into_pieces():
    assert list(iter_text_lines([b"x" * 25, b"\n"], max_line_chars=10)) == ["x" * 10, "x" * 10, "x" * 5]
    assert list(iter_text_lines([b"y" * 25 + b"\nz"], max_line_chars=10)) == [
        "y" * 10,
        "y" * 10,
        "y" * 5,
        "z",
    ]


def test_inline_text_splits_the_same_way():
    assert list(split_text_lines("a\r\nb\n\nc\n")) == ["a", "b", "", "c"]
    assert list(split_text_lines("")) == []


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01T10:00:00.123Z",
        "2024-05-01T10:00:00.123+00:00",
        1714557600123,
        "1714557600123",
        1714557600123.0,
    ],
)
def test_iso_and_epoch_ms_agree(value):
    assert parse_timestamp(value) == datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=timezone.utc)


def test_empty_and_bad_timestamps():
    assert parse_timestamp(None) is None
    assert parse_timestamp("") is None
    with pytest.raises(ValueError):
        parse_timestamp("yesterday-ish")
    with pytest.raises(ValueError):
        parse_timestamp(True)


def test_epoch_ms_round_trip_and_naive_is_utc():
    assert to_epoch_ms(datetime(2023, 8, 18, 14, 20, tzinfo=timezone.utc)) == 1692368400000
    assert to_epoch_ms(datetime(2023, 8, 18, 14, 20)) == 1692368400000
