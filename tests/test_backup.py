"""`etl backup` and `etl restore` on both backends: a round trip keeps every row of every table and
every archived file; a damaged or incomplete backup, or a warehouse that holds data, is refused
with nothing changed; the backup is one snapshot, taken while writers carry on."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from etl import backup, warehouse
from tests.conftest import (
    ENGAGEMENT_HEADER,
    PYTHON,
    ROOT,
    etl_in_process,
    make_council,
    new_place,
    submit_return,
)
from tests.test_warehouse import Q, _history, budget, every_table

ADH = "Adults and Health"


def etl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "etl", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def engagement(rows: int) -> bytes:
    line = "ADH,2025-26 Q2,A{i},15/08/2025,E05000002,survey,options,4,1,1,1,1,2,2,2,1,1,0,0,1,3,yes\n"
    return (ENGAGEMENT_HEADER + "".join(line.format(i=i) for i in range(rows))).encode()


def full_history(wh: warehouse.Warehouse) -> warehouse.Warehouse:
    """The tiny council with a little of everything: superseded, rejected and identical budget
    returns, an engagement return, commentary and a deadline."""
    make_council(wh)
    _history(wh)
    out = submit_return(wh, return_type="engagement", directorate=ADH, quarter=Q, content=engagement(5),
                        file_name="e.csv", user="jo", accept_warnings=True)
    assert out.ok, out.problems
    return wh


def without_restore_entry(tables: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    return {**tables, "audit_log": [r for r in tables["audit_log"] if r[2] != "restore"]}


def assert_same_warehouse(restored: warehouse.Warehouse, source: warehouse.Warehouse) -> None:
    expected = every_table(source)
    got = every_table(restored)
    assert without_restore_entry(got) == expected  # every row of every table
    restores = [r for r in got["audit_log"] if r[2] == "restore"]
    assert len(restores) == 1 and "snapshot" in restores[0][3]
    digests = [r[0] for r in expected["files"]]
    assert digests and sorted(digests) == restored.archived_digests()
    for digest in digests:
        assert restored.archived(digest) == source.archived(digest)


@pytest.fixture
def source(place):
    return full_history(place.open())


def test_backup_and_restore_round_trip_keeps_every_row_and_file(source, place, tmp_path):
    """Through the real command line, on each backend: back up, restore into a new warehouse."""
    folder = tmp_path / "backup"
    done = etl("backup", *place.cli_args(), "--to", str(folder))
    assert done.returncode == 0, done.stderr
    counts = every_table(source)
    assert f"{len(counts['submissions'])} submissions" in done.stdout
    assert f"{len(counts['files'])} archived files" in done.stdout

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["schema_version"] == warehouse.SCHEMA_VERSION
    assert str(manifest["snapshot_id"]) == source.version
    assert {t: e["rows"] for t, e in manifest["tables"].items()} == {t: len(rows) for t, rows in counts.items()}
    listed = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == listed
    for rel, entry in manifest["files"].items():
        assert backup.sha256_of(folder / rel) == entry["sha256"]

    target = new_place(place.backend, tmp_path, "restored")
    done = etl("restore", "--from", str(folder), *target.cli_args())
    assert done.returncode == 0, done.stderr
    assert f"{len(counts['submissions'])} submissions" in done.stdout
    restored = target.open()
    assert_same_warehouse(restored, source)

    # The restored warehouse takes the next write, with the id after the backup's last.
    next_id = max(r[0] for r in counts["submissions"]) + 1
    out = submit_return(restored, return_type="budget", directorate=ADH, quarter="2025-26 Q3",
                        content=budget(2, "2025-26 Q3"), file_name="next.csv", user="jo")
    assert out.ok and out.submission_id == next_id
    with restored.read() as con:
        assert con.execute("SELECT count(*) FROM current_submissions").fetchone()[0] == 3
        assert con.execute("SELECT sum(total_budget_gbp) FROM budget").fetchone()[0] == 150 + 200


def test_a_backup_restores_onto_the_other_backend(tmp_path):
    """An embedded warehouse's backup restored into a shared one (and back) is the same warehouse."""
    source = full_history(warehouse.Warehouse(tmp_path / "source.duckdb"))
    warehouse.backup(source, tmp_path / "b1")
    shared = new_place("postgres", tmp_path, "shared").open()
    warehouse.restore(tmp_path / "b1", shared)
    assert_same_warehouse(shared, source)


def test_the_backup_is_one_snapshot_and_writers_carry_on_meanwhile(tmp_path):
    """A return stored while the backup runs (from its own progress callback, so the backup must hold
    no writers' lock) lands in the warehouse but not in the backup."""
    source = full_history(warehouse.Warehouse(tmp_path / "w.duckdb"))
    before = every_table(source)
    stored = []

    def write_meanwhile(stage: str) -> None:
        if stage.startswith("writing the tables") and not stored:
            stored.append(submit_return(source, return_type="budget", directorate=ADH, quarter="2025-26 Q4",
                                        content=budget(4, "2025-26 Q4"), file_name="late.csv", user="jo"))

    warehouse.backup(source, tmp_path / "b", progress=write_meanwhile)
    assert stored and stored[0].ok
    assert len(every_table(source)["submissions"]) == len(before["submissions"]) + 1
    restored = warehouse.Warehouse(tmp_path / "restored.duckdb")
    warehouse.restore(tmp_path / "b", restored)
    assert without_restore_entry(every_table(restored)) == before


def _damage(folder: Path, how: str) -> str:
    """Damage a backup in one way; return the words the refusal must contain."""
    manifest = json.loads((folder / "manifest.json").read_text())
    archived = manifest["archived"][0]
    table = folder / "tables" / "submissions.parquet"
    if how == "flipped byte":
        data = bytearray(table.read_bytes())
        data[len(data) // 2] ^= 0xFF
        table.write_bytes(bytes(data))
        return "tables/submissions.parquet: damaged (its SHA-256 differs"
    if how == "truncated table":
        table.write_bytes(table.read_bytes()[:100])
        return "tables/submissions.parquet: damaged (its size differs"
    if how == "missing table":
        table.unlink()
        return "tables/submissions.parquet: missing"
    if how == "missing archived file":
        (folder / "archive" / archived[:2] / archived).unlink()
        return f"archive/{archived[:2]}/{archived}: missing"
    if how == "edited archived file":
        (folder / "archive" / archived[:2] / archived).write_bytes(b"directorate,quarter\nADH,2025-26 Q2\n")
        return f"archive/{archived[:2]}/{archived}: damaged"
    if how == "missing manifest":
        (folder / "manifest.json").unlink()
        return "has no manifest.json"
    if how == "damaged manifest":
        (folder / "manifest.json").write_text(json.dumps(manifest)[:-40])
        return "manifest.json is damaged"
    if how == "table dropped from manifest":
        del manifest["tables"]["audit_log"]
        (folder / "manifest.json").write_text(json.dumps(manifest))
        return "table audit_log: not in the backup"
    if how == "row count edited":
        manifest["tables"]["budget_rows"]["rows"] += 1
        (folder / "manifest.json").write_text(json.dumps(manifest))
        rows = manifest["tables"]["budget_rows"]["rows"]
        return f"table budget_rows: {rows - 1} rows in its file, {rows} in the manifest"
    raise AssertionError(how)


DAMAGES = ("flipped byte", "truncated table", "missing table", "missing archived file", "edited archived file",
           "missing manifest", "damaged manifest", "table dropped from manifest", "row count edited")


@pytest.fixture(scope="module")
def pristine_backup(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pristine")
    warehouse.backup(full_history(warehouse.Warehouse(folder / "w.duckdb")), folder / "backup")
    return folder / "backup"


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_or_incomplete_backup_is_refused_and_nothing_is_restored(pristine_backup, tmp_path, how, capsys):
    import shutil

    folder = tmp_path / "backup"
    shutil.copytree(pristine_backup, folder)
    words = _damage(folder, how)
    target = tmp_path / "target.duckdb"
    done = etl_in_process(capsys, "restore", "--from", str(folder), "--db", str(target))
    assert done.returncode == 1, done.stdout + done.stderr
    assert words in done.stderr and "Nothing was restored" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not target.exists()  # refused before the target is touched
    check = etl_in_process(capsys, "restore", "--check", "--from", str(folder))
    assert check.returncode == 1 and words in check.stderr, check.stderr


def test_check_reports_a_whole_backup(pristine_backup, tmp_path, capsys):
    done = etl_in_process(capsys, "restore", "--check", "--from", str(pristine_backup), "--db", str(tmp_path / "unused.duckdb"))
    assert done.returncode == 0, done.stderr
    assert "is a whole backup" in done.stdout and "every file matches its SHA-256" in done.stdout
    assert not (tmp_path / "unused.duckdb").exists()


def test_restore_refuses_a_warehouse_that_holds_data_unless_replace(pristine_backup, tmp_path, capsys):
    target = make_council(warehouse.Warehouse(tmp_path / "busy.duckdb"))
    submit_return(target, return_type="budget", directorate=ADH, quarter="2024-25 Q1",
                  content=budget(1, "2024-25 Q1"), file_name="mine.csv", user="lee")
    before = every_table(target)
    done = etl_in_process(capsys, "restore", "--from", str(pristine_backup), "--db", str(target.spec))
    assert done.returncode == 1
    assert "is not empty" in done.stderr and "--replace" in done.stderr, done.stderr
    assert every_table(target) == before  # untouched

    done = etl_in_process(capsys, "restore", "--replace", "--from", str(pristine_backup), "--db", str(target.spec))
    assert done.returncode == 0, done.stderr
    original = warehouse.Warehouse(pristine_backup.parent / "w.duckdb")
    assert without_restore_entry(every_table(target)) == every_table(original)
    restore = [r for r in every_table(target)["audit_log"] if r[2] == "restore"]
    assert "replacing the contents" in restore[0][3]


def test_backup_refuses_a_folder_that_holds_files_and_leaves_nothing_when_it_fails(tmp_path, capsys):
    source = full_history(warehouse.Warehouse(tmp_path / "w.duckdb"))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    done = etl_in_process(capsys, "backup", "--db", str(source.spec), "--to", str(busy))
    assert done.returncode == 1 and "not an empty folder" in done.stderr
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]

    digest = source.archived_digests()[0]
    (source.archive_path / digest[:2] / digest).unlink()  # the source itself is damaged
    done = etl_in_process(capsys, "backup", "--db", str(source.spec), "--to", str(tmp_path / "new"))
    assert done.returncode != 0 and f"archived file {digest} is missing" in done.stderr, done.stderr
    assert not (tmp_path / "new").exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]  # no half-written backup left
