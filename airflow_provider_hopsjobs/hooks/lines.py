"""Split a stream of bytes into text lines without holding the stream in memory.

Execution logs over Hopsworks' 1 MB inline limit are streamed from the dataset API; a
job that prints a 200 MB log, or one enormous line, must not cost 200 MB on the worker.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator

#: Longest line yielded in one piece; longer ones arrive as several consecutive lines.
MAX_LINE_CHARS = 64 * 1024


def iter_text_lines(
    chunks: Iterable[bytes], *, encoding: str = "utf-8", max_line_chars: int = MAX_LINE_CHARS
) -> Iterator[str]:
    """Yield lines without their ``\\n``/``\\r\\n``; undecodable bytes become U+FFFD."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    pending = ""
    for chunk in chunks:
        if not chunk:
            continue
        text = decoder.decode(chunk)
        plain = "\r" not in text and "\r" not in pending
        pending += text
        *complete, pending = pending.split("\n")
        if plain and max(map(len, complete), default=0) <= max_line_chars:
            # The common case (no CR, no overlong line) stays in C: 100 MB is a million lines.
            yield from complete
        else:
            for line in complete:
                yield from _pieces(line.removesuffix("\r"), max_line_chars)
        while len(pending) > max_line_chars:
            yield pending[:max_line_chars]
            pending = pending[max_line_chars:]
    pending += decoder.decode(b"", final=True)
    if pending:
        yield from _pieces(pending.removesuffix("\r"), max_line_chars)


def _pieces(line: str, size: int) -> Iterator[str]:
    if len(line) <= size:
        yield line
        return
    for start in range(0, len(line), size):
        yield line[start : start + size]


def split_text_lines(text: str) -> Iterator[str]:
    """The same splitting for a log that arrived inline, so both paths give the same lines."""
    return iter_text_lines([text.encode("utf-8")])
