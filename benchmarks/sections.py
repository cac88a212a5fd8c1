"""BENCHMARKS.md is written by several benchmarks, each owning one section between its markers."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, start: str, end: str, body: str) -> None:
    """Put `body` (which begins with `start` and ends with `end`) in place of the section between
    those markers in `path`, or at its end when the file has no such section yet."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if start in text and end in text:
        text = text[:text.index(start)] + body + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    path.write_text(text, encoding="utf-8")
