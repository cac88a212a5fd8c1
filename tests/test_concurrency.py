"""A reader process (as the app) and writer processes (as `python -m etl load`) at the same time,
on each backend (the embedded warehouse and the shared DuckLake + PostgreSQL one)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.conftest import BUDGET_HEADER, ROOT, Place, make_council, submit_return

READER = textwrap.dedent(
    """
    import json, os, sys, time
    from etl.warehouse import Reader
    reader = Reader(sys.argv[1])
    seen, errors, deadline = [], [], time.monotonic() + 900
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
        time.sleep(0.05)  # about twenty reads a second, as a busy app would make
    print(json.dumps({"seen": seen, "errors": errors}))
    """
)


def _budget(quarter: str, lines: int) -> bytes:
    body = "".join(f"ADH,{quarter},Line {i},,100,0,\n" for i in range(lines))
    return (BUDGET_HEADER + body).encode()


def test_app_keeps_reading_while_loads_run_from_a_shell(place: Place, tmp_path: Path):
    make_council(place.open())
    quarters = ["2024-25 Q1", "2024-25 Q2", "2024-25 Q3", "2024-25 Q4", "2025-26 Q1", "2025-26 Q2"]
    files = []
    for i, q in enumerate(quarters):
        f = tmp_path / f"b{i}.csv"
        f.write_bytes(_budget(q, 10))
        files.append((q, f))
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, place.db, str(stop)], cwd=ROOT, env=place.env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # the reader holds the warehouse open before the first load starts
    # Two shells loading at once, three files each: writers queue on the lock, none fails.
    writers = []
    for chunk in (files[0::2], files[1::2]):
        script = " && ".join(
            f"{sys.executable} -m etl load --return budget --directorate ADH --quarter '{q}' {f}"
            for q, f in chunk
        )
        writers.append(subprocess.Popen(["bash", "-c", script], cwd=ROOT, env=place.env(),
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for w in writers:
        out, err = w.communicate(timeout=600)
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


KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from etl.warehouse import Warehouse
    from tests.conftest import submit_return
    def hang(con):
        # Rows, log entry and supersede mark are written (uncommitted) by now.
        assert con.execute("SELECT count(*) FROM budget_rows").fetchone()[0] > 0
        print("inside", flush=True)
        time.sleep(600)
    submit_return(Warehouse(sys.argv[1], sys.argv[3] or None), return_type="budget", directorate="Adults and Health",
                  quarter="2025-26 Q1", content=open(sys.argv[2], "rb").read(), file_name="b.csv",
                  user="killed", before_commit=hang)
    """
)


def test_a_writer_killed_in_the_middle_of_a_load_leaves_nothing_and_blocks_no_one(place: Place, tmp_path: Path):
    from etl import warehouse

    council = make_council(place.open())
    first = submit_return(council, return_type="budget", directorate="Adults and Health", quarter="2025-26 Q1",
                          content=_budget("2025-26 Q1", 3), file_name="a.csv", user="first")
    assert first.status == "accepted"
    with warehouse.read_only(council) as con:
        before = {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)  # noqa: S608
                  for t in warehouse.table_names(con)}
    version = warehouse.file_version(council)
    f = tmp_path / "b.csv"
    f.write_bytes(_budget("2025-26 Q1", 7))
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, place.db, str(f), place.data_path or ""], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "inside", writer.stderr.read()
    finally:
        writer.kill()  # SIGKILL: no cleanup code runs
        writer.wait(timeout=30)
    with warehouse.read_only(council) as con:
        after = {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)  # noqa: S608
                 for t in warehouse.table_names(con)}
    assert after == before and warehouse.file_version(council) == version
    # The lock died with the writer: the next load goes straight through and supersedes the first.
    started = time.monotonic()
    again = submit_return(council, return_type="budget", directorate="Adults and Health", quarter="2025-26 Q1",
                          content=_budget("2025-26 Q1", 7), file_name="b.csv", user="next")
    assert again.status == "accepted" and again.superseded == first.submission_id
    assert time.monotonic() - started < 60
    with warehouse.read_only(council) as con:
        assert con.execute("SELECT count(*), sum(total_budget_gbp) FROM budget").fetchone() == (7, 700)


WRITER_THAT_READS = textwrap.dedent(
    """
    import json, sys
    from etl import access, warehouse
    from etl.access import Actor
    from tests.test_submit_fixtures import ADULTS, QUARTER, bad_budget_csv, budget_csv
    db, lead = sys.argv[1], Actor("l", "lead", (ADULTS,))
    reader, seen, errors = warehouse.Reader(db), [], []
    for i in range(10):
        try:
            with access.dry_run_as(lead, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                                   content=budget_csv(devolved=str(1000 + i)), file_name="x.csv"):
                pass
            access.submit_as(lead, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                             content=bad_budget_csv(), file_name="b.csv")
            with reader.cursor() as cur:
                seen.append([cur.execute("SELECT count(*) FROM submissions").fetchone()[0], reader.version])
        except Exception as exc:
            errors.append(repr(exc))
    print(json.dumps({"seen": seen, "errors": errors}))
    """
)


def test_an_app_that_writes_and_reads_beside_another_process_on_the_embedded_warehouse(tmp_path: Path):
    """As the app does (a lead's checks and confirms, then reads, in one process) while another
    process reads: every write lands and the writer reads its own writes at once. (A second copy
    of SQLite opening the catalog in the writer's process once dropped its locks: 'disk I/O error'
    on the third write, and stale reads.)"""
    from tests.test_submit_fixtures import make_warehouse

    db = make_warehouse(tmp_path / "w.duckdb")
    before = _count(db)
    writer = subprocess.Popen([sys.executable, "-c", WRITER_THAT_READS, str(db)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    from etl.warehouse import Reader

    reader, errors = Reader(db), []
    while writer.poll() is None:
        try:
            with reader.cursor() as cur:
                cur.execute("SELECT count(*) FROM submissions").fetchone()
            assert reader.version not in ("unreadable", "busy")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        time.sleep(0.05)
    out, err = writer.communicate(timeout=600)
    assert writer.returncode == 0, err
    report = json.loads(out)
    assert report["errors"] == [], report["errors"]
    assert errors == [], errors
    counts = [n for n, _ in report["seen"]]
    assert counts == list(range(before + 1, before + 11)), report  # each write seen by its own process at once
    versions = [v for _, v in report["seen"]]
    assert len(set(versions)) == 10, report  # and the version moved with every write
    assert _count(db) == before + 10


def _count(db: Path) -> int:
    from etl.warehouse import Reader

    with Reader(db).cursor() as cur:
        return cur.execute("SELECT count(*) FROM submissions").fetchone()[0]
