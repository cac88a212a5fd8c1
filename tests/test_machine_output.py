"""Machine-readable output: nothing but the result on stdout, and the same bytes on every run."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ENGAGEMENT_HEADER, PYTHON, ROOT

Q = "2025-26 Q2"
# DuckDB scans a table in row groups of 122,880 rows, one thread each: three groups and more
# are aggregated in parallel, which is what made a float sum's last digit vary between runs.
BIG_ROWS = 250_000


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, *args], cwd=ROOT, capture_output=True, timeout=300)


def test_library_output_on_descriptor_1_goes_to_stderr():
    # DuckDB's progress bar is written by C++ straight to descriptor 1, bypassing sys.stdout.
    script = textwrap.dedent(
        """
        import os, sys
        from etl.stdout import result_only_stdout
        with result_only_stdout():
            os.write(1, b"100% |#####| (00:00:02 elapsed)\\n")
            print("a,b")
            print("1,2")
        print("after")
        """
    )
    done = run("-c", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"a,b\n1,2\nafter\n"
    assert b"elapsed" in done.stderr


def _big_warehouse(tmp_path: Path, council: Path) -> Path:
    """The tiny council with one accepted engagement return of BIG_ROWS activities."""
    from etl import warehouse
    from kpis import facts

    row = f"ADH,{Q},A0,15/08/2025,E05000001,survey,options,40,5,10,10,5,20,20,20,5,5,3,2,4,30,yes\n"
    f = tmp_path / "one.csv"
    f.write_text(ENGAGEMENT_HEADER + row)
    done = run("-m", "etl", "load", "--db", str(council), "--return", "engagement",
               "--directorate", "ADH", "--quarter", Q, str(f))
    assert done.returncode == 0, done.stdout + done.stderr
    # Multiply the one stored row into BIG_ROWS activities with varied counts and wards (in SQL:
    # loading a 250,000-line file through the checks would take half a minute).
    with warehouse.write(council) as con:
        con.execute(
            """
            INSERT INTO engagement_rows
            SELECT e.submission_id, e.line_no + i, e.directorate, e.quarter, 'A' || i, e.activity_date,
                ['E05000001', 'E05000002', 'E05000003', NULL][1 + i % 4], e.method, e.stage,
                60, i % 7, i % 11, i % 13, i % 5, i % 29, i % 31, i % 17, i % 3, i % 5, i % 2, i % 7,
                i % 9, i % 37, i % 2 = 0
            FROM engagement_rows AS e, range(1, ?) AS t(i)
            """,
            [BIG_ROWS],
        )
        facts.rebuild(con)  # rows written behind the store path: sum them as a migration would
    return council


@pytest.mark.slow
def test_kpis_table_is_byte_identical_across_runs_and_has_no_noise(tmp_path: Path, council: Path):
    db = _big_warehouse(tmp_path, council)
    outputs = {}
    for by, fmt, times in (("ward", "csv", 3), ("council", "json", 2)):
        runs = [run("-m", "kpis", "table", "--db", str(db), "--quarter", Q, "--by", by, "--format", fmt)
                for _ in range(times)]
        for done in runs:
            assert done.returncode == 0, done.stderr
        assert len({done.stdout for done in runs}) == 1, [d.stdout for d in runs]
        outputs[by] = runs[0].stdout.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(outputs["ward"])))
    assert [r["ward_code"] for r in rows] == ["E05000001", "E05000002", "E05000003"]
    assert all(0 < float(r["engagement_equality_index"]) < 1 for r in rows)
    council_rows = json.loads(outputs["council"])  # the whole of stdout is one JSON document
    assert council_rows[0]["quarter"] == Q
    # Every activity, borough-wide or not, counts in the council's figure: 60 participants each.
    assert council_rows[0]["participation_per_1000"] == pytest.approx(1000 * 60 * BIG_ROWS / 6000, rel=1e-3)


def test_etl_load_json_is_one_json_document(tmp_path: Path, council: Path):
    f = tmp_path / "bad.csv"
    f.write_text(ENGAGEMENT_HEADER + f"ADH,{Q},A1,not a date,E05000001,survey,options,4,,,,,,,,,,,,,,yes\n")
    done = run("-m", "etl", "load", "--db", str(council), "--return", "engagement",
               "--directorate", "ADH", "--quarter", Q, "--format", "json", str(f))
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["status"] == "rejected"
    assert any(p["column"] == "activity_date" for p in report["problems"])


def test_json_output_is_plain_ascii_free_of_terminal_codes(tmp_path: Path, council: Path):
    done = run("-m", "kpis", "table", "--db", str(council), "--quarter", Q, "--by", "ward", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in done.stdout and b"\r" not in done.stdout
    assert len(json.loads(done.stdout)) == 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
