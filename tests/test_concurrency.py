"""A reader process (as the app) and writer processes (as `python -m etl load`) at the same time."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.conftest import BUDGET_HEADER, ROOT

READER = textwrap.dedent(
    """
    import json, os, sys, time
    from etl.warehouse import Reader
    reader = Reader(sys.argv[1])
    seen, errors, deadline = [], [], time.monotonic() + 120
    stopping = False
    while time.monotonic() < deadline and not stopping:
        stopping = os.path.exists(sys.argv[2])  # one last read after the writers finished
        try:
            # The same query twice on one cursor: a reader never sees a half-written load.
            with reader.cursor() as cur:
                n, total = cur.execute("SELECT count(*), coalesce(sum(total_budget_gbp), 0) FROM budget_rows").fetchone()
            seen.append([int(n), float(total)])
        except Exception as exc:
            errors.append(repr(exc))
        time.sleep(0.005)
    print(json.dumps({"seen": seen, "errors": errors}))
    """
)


def _budget(quarter: str, lines: int) -> bytes:
    body = "".join(f"ADH,{quarter},Line {i},,100,0,\n" for i in range(lines))
    return (BUDGET_HEADER + body).encode()


def test_app_keeps_reading_while_loads_run_from_a_shell(council: Path, tmp_path: Path):
    quarters = ["2024-25 Q1", "2024-25 Q2", "2024-25 Q3", "2024-25 Q4", "2025-26 Q1", "2025-26 Q2"]
    files = []
    for i, q in enumerate(quarters):
        f = tmp_path / f"b{i}.csv"
        f.write_bytes(_budget(q, 10))
        files.append((q, f))
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(council), str(stop)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # the reader holds the warehouse open before the first load starts
    # Two shells loading at once, three files each: writers queue on the lock, none fails.
    writers = []
    for chunk in (files[0::2], files[1::2]):
        script = " && ".join(
            f"{sys.executable} -m etl load --db {council} --return budget --directorate ADH --quarter '{q}' {f}"
            for q, f in chunk
        )
        writers.append(subprocess.Popen(["bash", "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for w in writers:
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, out + err
    stop.touch()
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    result = json.loads(out)
    assert result["errors"] == []
    counts = [n for n, _ in result["seen"]]
    assert counts == sorted(counts)  # never goes back
    assert set(counts) <= {0, 10, 20, 30, 40, 50, 60}  # never a half-stored file
    assert all(total == n * 100 for n, total in result["seen"])
    assert counts[-1] == 60 and len(set(counts)) >= 3  # it saw the loads land while running
