"""Loading quarterly returns and reference data into the warehouse."""

import os

import pyarrow


def _arrow_memory_pool() -> None:
    """Arrow allocates from jemalloc, unless ARROW_DEFAULT_MEMORY_POOL says otherwise.

    A big return's text passes through Arrow (the CSV reader, pandas' text columns, the rows
    handed to DuckDB). Measured on a 1M-row return (`etl load`, 5 runs each): 3.95 s median with
    jemalloc against 4.44 s with the wheel's default mimalloc, whose freed pages cost twice the
    kernel time here, at the same peak memory.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pyarrow.set_memory_pool(pyarrow.jemalloc_memory_pool())
    except (NotImplementedError, AttributeError):  # a pyarrow built without jemalloc: its default
        pass


_arrow_memory_pool()
