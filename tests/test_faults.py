"""Faults: a killed process, a full disk, a read-only folder, two leads at the same moment.

Every check goes through the real command line (`python -m etl ...`) and then reads the warehouse
back: it opens, every accepted submission has all of its rows, and the next write works.
"""

from __future__ import annotations

import gc
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from etl import access, warehouse
from etl.access import Actor
from tests.conftest import ENGAGEMENT_HEADER, PYTHON, ROOT, WARDS_CSV, make_council
from tests.test_submit_fixtures import ADULTS, PLACE, QUARTER, budget_csv, make_warehouse

Q = "2025-26 Q2"
RUNS = 10  # per operation; each run is killed after a random delay


# Synthetic loads put 2,000 x 40 participants in one ward: implausible on purpose, so loads pass --accept-warnings.
def engagement_file(path: Path, rows: int, quarter: str = Q) -> Path:
    line = f"ADH,{quarter},A{{i}},15/08/2025,E05000001,survey,options,40,5,10,10,5,20,20,20,5,5,3,2,4,30,yes\n"
    path.write_text(ENGAGEMENT_HEADER + "".join(line.format(i=i) for i in range(rows)))
    return path


def etl(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "etl", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def consistent(db: Path) -> dict[str, int]:
    """Open the warehouse and check every accepted submission holds exactly its rows; return counts."""
    with warehouse.read_only(db) as con:
        bad = con.execute(
            """
            SELECT s.submission_id, s.row_count, count(r.submission_id) AS stored
            FROM submissions AS s
            LEFT JOIN (SELECT submission_id FROM budget_rows UNION ALL SELECT submission_id FROM engagement_rows
                       UNION ALL SELECT submission_id FROM partnerships_rows) AS r USING (submission_id)
            WHERE s.outcome = 'accepted' AND s.return_type IN ('budget', 'engagement', 'partnerships')
            GROUP BY s.submission_id, s.row_count HAVING count(r.submission_id) <> s.row_count
            """
        ).fetchall()
        assert bad == [], bad
        current = con.execute(
            "SELECT return_type, directorate, quarter, count(*) FROM current_submissions GROUP BY ALL HAVING count(*) > 1"
        ).fetchall()
        assert current == []  # never two current submissions for one (return, directorate, quarter)
        return {
            "accepted": con.execute("SELECT count(*) FROM submissions WHERE outcome = 'accepted'").fetchone()[0],
            "wards": con.execute("SELECT count(*) FROM wards").fetchone()[0],
        }


def kill_after(args: list[str], delay: float) -> int:
    proc = subprocess.Popen([PYTHON, "-m", "etl", *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    return proc.returncode


@pytest.mark.slow
def test_sigkill_during_loads_and_reference_loads_never_damages_the_warehouse(tmp_path: Path):
    db = make_council(tmp_path / "w.duckdb")
    big = engagement_file(tmp_path / "big.csv", 20_000)
    started = time.monotonic()
    done = etl("load", "--accept-warnings", "--db", str(db), "--return", "engagement", "--directorate", "ADH", "--quarter", Q, str(big))
    assert done.returncode == 0, done.stderr
    duration = time.monotonic() - started
    wards = tmp_path / "wards.csv"
    wards.write_text(WARDS_CSV)
    rng = random.Random(20261201)
    outcomes = []
    for run in range(RUNS):
        quarter = ("2024-25 Q1", "2024-25 Q2", "2024-25 Q3", "2024-25 Q4", "2025-26 Q1")[run % 5]
        f = engagement_file(tmp_path / f"e{run}.csv", 20_000 + run, quarter)
        before = consistent(db)["accepted"]
        code = kill_after(["load", "--accept-warnings", "--db", str(db), "--return", "engagement", "--directorate", "ADH",
                           "--quarter", quarter, str(f)], rng.uniform(0.2, duration * 1.2))
        after = consistent(db)["accepted"]
        assert after in (before, before + 1)  # the old state or the new one, nothing in between
        outcomes.append(code)
        code = kill_after(["load-reference", "--db", str(db), "wards", str(wards)], rng.uniform(0.1, 3.0))
        assert consistent(db)["wards"] == 3
    assert -signal.SIGKILL in outcomes  # the delays did interrupt loads
    final = etl("load", "--accept-warnings", "--db", str(db), "--return", "engagement", "--directorate", "ADH", "--quarter", Q,
                str(engagement_file(tmp_path / "final.csv", 10)))
    assert final.returncode == 0, final.stderr  # the next write works
    consistent(db)


@pytest.mark.slow
def test_sigkill_during_a_demo_build_never_leaves_a_half_built_warehouse_in_use(tmp_path: Path):
    rng = random.Random(7)
    db = tmp_path / "demo.duckdb"
    for _ in range(3):
        kill_after(["demo", "--db", str(db)], rng.uniform(1.0, 8.0))
        # Nothing yet; or a catalog whose creation was cut off, which reads as unfinished (never
        # as an empty or half-filled warehouse); or a warehouse that opens and is consistent.
        try:
            if db.exists():
                consistent(db)
        except warehouse.WarehouseError as exc:
            assert "was never finished" in str(exc) and "python -m etl init" in str(exc), exc
        finally:
            warehouse.forget(db)
    done = etl("demo", "--db", str(db), timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    consistent(db)


# ---------------------------------------------------------------------------------------------
# Full disk and read-only folder (a small tmpfs; skipped where mounting is not allowed)


@pytest.fixture
def small_disk(tmp_path: Path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_full_disk_gives_a_clear_error_and_no_damage(small_disk: Path, tmp_path: Path):
    db = make_council(small_disk / "w.duckdb")
    warehouse.forget(db)
    gc.collect()  # this process's connections closed: the catalog's bytes are all in its one file
    assert not [p.name for p in small_disk.iterdir() if p.name.endswith(("-wal", "-shm"))]
    filler = small_disk / "filler"
    size = sum(p.stat().st_size for p in small_disk.rglob("*") if p.is_file())
    free = shutil.disk_usage(small_disk).free
    filler.write_bytes(b"\0" * max(0, free - 64 * 1024))  # not room for a second copy
    assert size  # the warehouse is on the small disk
    before = digest(db)
    f = engagement_file(tmp_path / "e.csv", 2_000)
    done = etl("load", "--accept-warnings", "--db", str(db), "--return", "engagement", "--directorate", "ADH", "--quarter", Q, str(f))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "No space left on device" in done.stderr and "Nothing was stored" in done.stderr
    assert "Traceback" not in done.stderr
    assert digest(db) == before
    assert not [p for p in small_disk.rglob("*") if p.name.startswith((".incoming-", "w.duckdb.tmp"))]
    filler.unlink()  # room again: the next write works
    done = etl("load", "--accept-warnings", "--db", str(db), "--return", "engagement", "--directorate", "ADH", "--quarter", Q, str(f))
    assert done.returncode == 0, done.stderr
    assert consistent(db)["accepted"] >= 1


def test_a_read_only_folder_gives_a_clear_error_and_no_damage(small_disk: Path, tmp_path: Path):
    db = make_council(small_disk / "w.duckdb")
    f = engagement_file(tmp_path / "e.csv", 10)
    done = etl("load", "--accept-warnings", "--db", str(db), "--return", "engagement", "--directorate", "ADH", "--quarter", Q, str(f))
    assert done.returncode == 0, done.stderr
    table = ["-m", "kpis", "table", "--db", str(db), "--quarter", Q, "--by", "ward", "--format", "csv"]
    expected = subprocess.run([PYTHON, *table], cwd=ROOT, capture_output=True, timeout=300)
    assert expected.returncode == 0 and expected.stdout.count(b"\n") == 4, expected.stderr
    warehouse.forget(db)
    gc.collect()  # this process's connections closed: SQLite removes the WAL files beside the catalog
    assert not [p.name for p in small_disk.iterdir() if p.name.endswith(("-wal", "-shm"))]
    before = digest(db)
    remount = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True)
    if remount.returncode != 0:
        pytest.skip("cannot remount read-only here")
    # Reading works (the SQLite catalog is read through a private copy: its WAL cannot be opened
    # in place), with the same bytes as before; so does a backup to a folder that can be written.
    done = subprocess.run([PYTHON, *table], cwd=ROOT, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected.stdout
    with warehouse.read_only(db) as con:
        assert con.execute("SELECT count(*) FROM engagement").fetchone()[0] == 10
    done = etl("backup", "--db", str(db), "--to", str(tmp_path / "backup"))
    assert done.returncode == 0, done.stderr
    # A write stops with a message naming the read-only folder, and changes nothing.
    done = etl("load", "--accept-warnings", "--db", str(db), "--return", "engagement", "--directorate", "ADH",
               "--quarter", "2025-26 Q3", str(engagement_file(tmp_path / "e3.csv", 10, "2025-26 Q3")))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Read-only file system" in done.stderr and "Nothing was stored" in done.stderr
    assert "Traceback" not in done.stderr
    assert digest(db) == before
    warehouse.forget(db)


# ---------------------------------------------------------------------------------------------
# Durability and concurrency


def test_an_archived_file_is_made_durable(council: Path, monkeypatch: pytest.MonkeyPatch):
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        synced.append("dir:" + os.path.basename(path) if os.path.isdir(path) else os.path.basename(path))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    digest_ = warehouse.open_warehouse(council).archive(b"a return's original bytes")
    assert any(name.startswith(".incoming-") for name in synced)  # the file's bytes, before the rename
    assert synced[-1] == "dir:" + digest_[:2]  # then its folder, so the rename itself is on disk


def test_two_leads_confirming_at_the_same_moment_both_land(tmp_path: Path):
    db = make_warehouse(tmp_path / "w.duckdb")
    leads = {ADULTS: Actor("lead.adults", "lead", (ADULTS,)), PLACE: Actor("lead.place", "lead", (PLACE,))}
    start = threading.Barrier(len(leads))
    results: dict[str, object] = {}

    def confirm(directorate: str) -> None:
        start.wait()
        try:
            results[directorate] = access.submit_as(leads[directorate], db, return_type="budget",
                                                    directorate=directorate, quarter=QUARTER,
                                                    content=budget_csv(directorate), file_name="b.csv")
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            results[directorate] = exc

    threads = [threading.Thread(target=confirm, args=(d,)) for d in leads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(getattr(r, "status", None) == "accepted" for r in results.values()), results
    with warehouse.read_only(db) as con:
        rows = con.execute("SELECT directorate, count(*) FROM budget GROUP BY directorate ORDER BY 1").fetchall()
    assert rows == [(ADULTS, 2), (PLACE, 2)]
    consistent(db)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
