"""Splitting streamed bytes into log lines."""

from __future__ import annotations

from airflow_provider_hopsjobs.hooks.lines import iter_text_lines, split_text_lines


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


def test_a_line_without_end_is_cut_as_it_arrives():
    """Memory stays bounded: pieces of an endless line come out before more is read."""

    def chunks():
        yield b"a\n" + b"y" * 25
        raise AssertionError("read more than needed")

    lines = iter_text_lines(chunks(), max_line_chars=10)
    assert [next(lines) for _ in range(3)] == ["a", "y" * 10, "y" * 10]
