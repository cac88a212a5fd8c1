"""How this process allocates memory for Arrow: set once by the entry points (`python -m etl`,
the app), before a file is read. Library use of `etl` changes nothing."""

import functools
import os

import pyarrow

JEMALLOC_DECAY_MS = 200


@functools.cache  # once a process: the app's script runs again on every rerun
def use_jemalloc() -> None:
    """Arrow allocates from jemalloc, unless ARROW_DEFAULT_MEMORY_POOL says otherwise, and hands
    freed pages back to the system after 200 ms.

    A big return's text passes through Arrow (the CSV reader, pandas' text columns, the rows
    handed to DuckDB). Measured on a 1M-row return (`etl load`, 3-5 runs each): 3.95 s median
    with jemalloc against 4.44 s with the wheel's default mimalloc, whose freed pages cost twice
    the kernel time here; peak memory 1,017-1,043 MiB with jemalloc's 1 s decay, 850-857 MiB
    with 200 ms (as fast), 757-786 MiB with 0 ms (0.3 s slower).
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pyarrow.set_memory_pool(pyarrow.jemalloc_memory_pool())
        pyarrow.jemalloc_set_decay_ms(JEMALLOC_DECAY_MS)
    except (NotImplementedError, AttributeError):  # a pyarrow built without jemalloc: its default
        pass
