"""The fixed command line: every command in the contract, with its exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import (
    BUDGET_HEADER,
    DIRECTORATES_CSV,
    ROOT,
    TARGETS_CSV,
    WARDS_CSV,
    etl_in_process,
)


def etl(*args: str) -> subprocess.CompletedProcess:
    """The real command, in a new process, as another tool would run it."""
    return subprocess.run([sys.executable, "-m", "etl", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_fresh_warehouse_reference_and_returns_through_the_cli(tmp_path: Path):
    db = str(tmp_path / "w.duckdb")
    assert etl("init", "--db", db).returncode == 0
    for kind, text in (("directorates", DIRECTORATES_CSV), ("wards", WARDS_CSV), ("targets", TARGETS_CSV)):
        f = tmp_path / f"{kind}.csv"
        f.write_text(text)
        r = etl("load-reference", "--db", db, kind, str(f))
        assert r.returncode == 0, r.stdout + r.stderr
    good = tmp_path / "good.csv"
    good.write_text(BUDGET_HEADER + "ADH,2025-26 Q2,Grants,Ashby,1000,500,community_grants\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(BUDGET_HEADER + "ADH,2025-26 Q2,Grants,Ashby,1000,1500,community_grants\nADH,2025-26 Q2,X,Nowhere,1,0,\n")

    r = etl("load", "--db", db, "--return", "budget", "--directorate", "adh", "--quarter", "FY2025-26 Q2", "--user", "Jo", str(good))
    assert r.returncode == 0 and "Accepted: 1 row" in r.stdout

    r = etl("load", "--db", db, "--return", "budget", "--directorate", "Adults and Health", "--quarter", "2025-26-Q2", str(good))
    assert r.returncode == 0 and "identical" in r.stdout

    r = etl("load", "--db", db, "--return", "budget", "--directorate", "ADH", "--quarter", "Q2 2025/26", str(bad))
    assert r.returncode == 1
    assert "rejected: 2 problems" in r.stdout
    assert "must not be more than total_budget_gbp" in r.stdout and "is not a known ward" in r.stdout
    lines = r.stdout.splitlines()
    assert any(line.strip().startswith("2 ") for line in lines) and any(line.strip().startswith("3 ") for line in lines)

    r = etl("load", "--db", db, "--return", "budget", "--directorate", "ADH", "--quarter", "2025-26 Q2", "--format", "json", str(bad))
    report = json.loads(r.stdout)
    assert r.returncode == 1 and report["status"] == "rejected"
    assert [(p["line"], p["column"]) for p in report["problems"]] == [(2, "devolved_gbp"), (3, "ward_code")]


def test_usage_errors_exit_2_without_a_traceback(council: Path, tmp_path: Path, capsys):
    f = tmp_path / "b.csv"
    f.write_text(BUDGET_HEADER)
    base = ["load", "--db", str(council)]
    cases = [
        [*base, "--return", "budget", "--directorate", "Nowhere", "--quarter", "2025-26 Q2", str(f)],
        [*base, "--return", "budget", "--directorate", "ADH", "--quarter", "Spring", str(f)],
        [*base, "--return", "bananas", "--directorate", "ADH", "--quarter", "2025-26 Q2", str(f)],
        [*base, "--return", "budget", "--directorate", "ADH", "--quarter", "2025-26 Q2", "--colour", "red", str(f)],
        [*base, "--return", "budget", "--directorate", "ADH", "--quarter", "2025-26 Q2", str(tmp_path / "missing.csv")],
        ["load", "--db", str(tmp_path / "nope.duckdb"), "--return", "budget", "--directorate", "ADH", "--quarter", "2025-26 Q2", str(f)],
    ]
    for args in cases:
        r = etl_in_process(capsys, *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr


def test_a_nil_return_is_accepted(council: Path, tmp_path: Path, capsys):
    f = tmp_path / "nil.csv"
    f.write_text(BUDGET_HEADER)
    r = etl_in_process(capsys, "load", "--db", str(council), "--return", "budget", "--directorate", "Place", "--quarter", "2025-26 Q2", str(f))
    assert r.returncode == 0 and "nil return" in r.stdout


def test_bad_files_are_rejected_with_exit_1_and_a_message(council: Path, tmp_path: Path, capsys):
    for name, content in (("empty.csv", b""), ("bin.csv", b"\x00\x01\x02\x03"), ("prose.csv", b"Dear team, please find attached\n")):
        f = tmp_path / name
        f.write_bytes(content)
        r = etl_in_process(capsys, "load", "--db", str(council), "--return", "engagement", "--directorate", "Place", "--quarter", "2025-26 Q2", str(f))
        assert r.returncode == 1, (name, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and "rejected" in r.stdout


def test_help_is_written_for_officers():
    r = etl("--help")
    assert r.returncode == 0
    for word in ("init", "load-reference", "load", "demo", "2025/26 Q2", "Windows-1252"):
        assert word in r.stdout


def test_demo_command_builds_the_whole_history(demo_db: Path):
    from etl import warehouse

    with warehouse.read_only(demo_db) as con:
        outcomes = dict(con.execute("SELECT outcome, count(*) FROM submissions WHERE return_type NOT LIKE 'reference:%' GROUP BY 1").fetchall())
        superseded = con.execute("SELECT count(*) FROM submissions WHERE superseded_by IS NOT NULL").fetchone()[0]
        refs = con.execute("SELECT (SELECT count(*) FROM wards), (SELECT count(*) FROM directorates), (SELECT count(*) FROM boundaries), (SELECT count(*) FROM targets) > 0").fetchone()
        quarters = [q for (q,) in con.execute("SELECT DISTINCT quarter FROM current_submissions ORDER BY 1").fetchall()]
    assert outcomes == {"accepted": 144, "rejected": 1}
    assert superseded == 1  # the resubmitted budget return
    assert refs == (24, 6, 24, True)
    assert len(quarters) == 8 and quarters[0] == "2024-25 Q1" and quarters[-1] == "2025-26 Q4"


def test_progress_bar_draws_on_a_terminal_and_stays_quiet_otherwise():
    import io

    from etl.cli import _Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    bar = _Progress(screen)
    bar("reading and checking")
    bar("storing 1,000 rows")
    bar.done()
    drawn = screen.getvalue()
    assert "[------------------------] reading and checking" in drawn
    assert "[########----------------] storing 1,000 rows" in drawn
    piped = io.StringIO()
    quiet = _Progress(piped)
    quiet("reading and checking")
    quiet.done()
    assert piped.getvalue() == ""
