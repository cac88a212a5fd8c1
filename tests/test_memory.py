"""The entry points' allocator for Arrow (etl/memory.py): jemalloc with a short decay, unless the
operator chose a pool; importing `etl` as a library changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pa = pytest.importorskip("pyarrow")

PROBE = """
import sys
import pyarrow as pa
import etl.load, etl.contract  # a library import: the process's pool is left as it was
before = pa.default_memory_pool().backend_name
from etl.memory import use_jemalloc
use_jemalloc()
print(before, pa.default_memory_pool().backend_name)
"""


def _probe(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True,
                          text=True, check=True)
    return done.stdout.split()


def test_the_entry_points_allocate_from_jemalloc_and_a_library_import_changes_nothing():
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow has no jemalloc")
    before, after = _probe()
    assert before != "jemalloc"  # the wheel's default (mimalloc), untouched by importing etl
    assert after == "jemalloc"


def test_an_operators_choice_of_pool_is_kept():
    before, after = _probe(ARROW_DEFAULT_MEMORY_POOL="system")
    assert before == after == "system"


def test_the_command_line_runs_on_jemalloc(tmp_path):
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow has no jemalloc")
    code = ("import runpy, sys, pyarrow as pa; sys.argv = ['etl', '--help']\n"
            "try:\n    runpy.run_module('etl', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('POOL', pa.default_memory_pool().backend_name)")
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=True)
    assert "POOL jemalloc" in done.stdout
