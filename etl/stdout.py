"""Machine-readable output (`--format csv|json`) owns standard output, and nothing else writes there.

Libraries may print to file descriptor 1 behind Python's back (DuckDB's progress bar is written
by its C++ core once a query runs for about two seconds). While a command that prints CSV or JSON
runs, descriptor 1 points at standard error, so any such line lands there; `sys.stdout` is a
stream on the original standard output that only the command's own result is written to.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator


def _is_process_stdout() -> bool:
    """True when sys.stdout is the process's own descriptor 1 (not a test's capture buffer)."""
    if sys.stdout is not sys.__stdout__ or sys.stdout is None:
        return False
    try:
        return sys.stdout.fileno() == 1
    except (AttributeError, OSError, io.UnsupportedOperation):
        return False


@contextlib.contextmanager
def result_only_stdout() -> Iterator[None]:
    """Inside the block, `sys.stdout` reaches standard output; descriptor 1 goes to standard error."""
    if not _is_process_stdout():
        yield
        return
    sys.stdout.flush()
    original = os.dup(1)
    os.dup2(2, 1)
    result = open(original, "w", encoding="utf-8", newline="", closefd=False)
    previous, sys.stdout = sys.stdout, result
    try:
        yield
    finally:
        result.flush()
        sys.stdout = previous
        os.dup2(original, 1)
        os.close(original)
        result.close()
