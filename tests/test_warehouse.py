"""The Warehouse interface on both backends: transactions, preview, archive, version, ids under
concurrent writers, settings on every connection, and `etl migrate` with the whole history."""

from __future__ import annotations

import hashlib
import subprocess
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from etl import warehouse
from etl.commentary import store_commentary
from etl.deadlines import store_deadline
from tests.conftest import BUDGET_HEADER, PYTHON, ROOT, make_council, new_place, submit_return

Q = "2025-26 Q2"


def budget(lines: int, quarter: str = Q, value: int = 100) -> bytes:
    return (BUDGET_HEADER + "".join(f"ADH,{quarter},Line {i},,{value},0,\n" for i in range(lines))).encode()


def every_table(wh: warehouse.Warehouse) -> dict[str, list[tuple]]:
    with wh.read() as con:
        return {t: sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)  # noqa: S608
                for t in warehouse.table_names(con)}


def test_a_write_commits_whole_or_not_at_all(any_council):
    wh = any_council
    before, version = every_table(wh), wh.version
    with pytest.raises(RuntimeError), wh.write() as con:
        con.execute("INSERT INTO audit_log VALUES (now()::TIMESTAMP, 'x', 'test', 'never')")
        raise RuntimeError("stop")
    assert every_table(wh) == before and wh.version == version
    with wh.write() as con:
        con.execute("INSERT INTO audit_log VALUES (now()::TIMESTAMP, 'x', 'test', 'kept')")
    assert wh.version != version
    with wh.read() as con:
        assert con.execute("SELECT count(*) FROM audit_log WHERE detail = 'kept'").fetchone() == (1,)


def test_the_embedded_version_sees_every_commit_of_another_instance_at_once(tmp_path):
    """The embedded version is asked of the catalog only when its files changed: a commit by
    another instance (another process, in service) is seen by the very next call, however soon
    after the last one; unchanged files answer without asking."""
    mine = warehouse.Warehouse(make_council(tmp_path / "w.duckdb"))
    other = warehouse.Warehouse(tmp_path / "w.duckdb")
    asked = []
    original = warehouse.Warehouse._retry_busy
    mine._retry_busy = lambda fn, *a: asked.append(1) or original(fn, *a)  # count the catalog's answers
    try:
        for i in range(12):
            before = mine.version
            time.sleep(0.06 if i % 2 else 0.0)  # settled stamps and fresh ones alike
            assert mine.version == before  # nothing committed: the same snapshot
            with other.write() as con:
                con.execute("INSERT INTO audit_log VALUES (now()::TIMESTAMP, 'x', 'test', ?)", [str(i)])
            assert mine.version != before, f"commit {i} not seen"
            with mine.read_pinned() as cur:  # and a read with no version reads it
                assert cur.execute("SELECT count(*) FROM audit_log WHERE detail = ?", [str(i)]).fetchone() == (1,)
        asked.clear()
        time.sleep(0.06)
        first = mine.version
        assert [mine.version for _ in range(20)] == [first] * 20
        assert len(asked) <= 1  # unchanged, settled files: the catalog is not asked again
    finally:
        other.close()
        mine.close()


def test_preview_is_a_transaction_that_is_rolled_back(any_council):
    wh = any_council
    before, version = every_table(wh), wh.version
    with wh.preview() as con:
        con.execute("DELETE FROM ward_reference")
        assert con.execute("SELECT count(*) FROM wards").fetchone() == (0,)
        with wh.read() as other:  # no one else sees it meanwhile
            assert other.execute("SELECT count(*) FROM wards").fetchone() == (3,)
        digest = warehouse.archive(con, b"previewed bytes")
    assert every_table(wh) == before and wh.version == version
    assert wh.archived(digest) is None  # a preview archives nothing
    # No copy of the warehouse was made anywhere beside it.
    if not wh.shared:
        assert [p.name for p in wh.catalog_path.parent.iterdir() if not p.name.startswith(wh.catalog_path.name)] == []


def test_archived_files_are_content_addressed_beside_the_data(any_council):
    wh = any_council
    content = budget(2)
    out = submit_return(wh, return_type="budget", directorate="Adults and Health", quarter=Q,
                        content=content, file_name="b.csv", user="t")
    assert out.status == "accepted"
    digest = hashlib.sha256(content).hexdigest()
    path = wh.data_path / "archive" / digest[:2] / digest
    assert path.read_bytes() == content and wh.archived(digest) == content
    assert digest in wh.archived_digests()
    with wh.read() as con:
        # The tables hold the digest and size only: no bytes in anything a query scans.
        assert con.execute("SELECT size_bytes FROM files WHERE sha256 = ?", [digest]).fetchone() == (len(content),)
        types = {r[0] for r in con.execute("SELECT data_type FROM information_schema.columns "
                                           "WHERE table_catalog = current_database()").fetchall()}
        assert "BLOB" not in types


def test_every_connection_has_a_memory_limit_a_spill_folder_and_no_progress_bar(any_council, monkeypatch):
    monkeypatch.setenv("LOCALISM_MEMORY_LIMIT", "700MB")
    wh = warehouse.Warehouse(any_council.spec, any_council.data_path)  # a fresh instance reads the setting
    with wh.read() as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        temp = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
        bar = con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]
    assert limit == "667.5 MiB"  # 700 MB
    assert Path(temp).is_relative_to(wh.data_path / "tmp")
    assert bar is False


def test_ids_stay_unique_under_concurrent_writer_processes(place, tmp_path):
    """Two processes submit five returns each at once: ten distinct ids, every return once."""
    wh = make_council(place.open())
    script = textwrap.dedent("""
        import sys
        from etl.warehouse import Warehouse
        from tests.conftest import submit_return
        wh = Warehouse(sys.argv[1], sys.argv[2] or None)
        for i in range(5):
            q = "2025-26 Q" + str(1 + i % 4) if int(sys.argv[3]) == 0 else "2024-25 Q" + str(1 + i % 4)
            body = "directorate,quarter,budget_line,ward_code,total_budget_gbp,devolved_gbp,mechanism\\n"
            body += "".join(f"ADH,{q},W{sys.argv[3]} R{i} L{j},,10,0,\\n" for j in range(3))
            out = submit_return(wh, return_type="budget", directorate="Adults and Health", quarter=q,
                                content=body.encode(), file_name="f.csv", user="w" + sys.argv[3])
            assert out.status == "accepted", out.message
            print(out.submission_id, flush=True)
    """)
    procs = [subprocess.Popen([PYTHON, "-c", script, place.db, place.data_path or "", str(n)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in (0, 1)]
    ids = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        ids += [int(x) for x in out.split()]
    assert len(ids) == 10 and len(set(ids)) == 10
    with wh.read() as con:
        rows = con.execute("SELECT submission_id, count(*) FROM submissions WHERE return_type = 'budget' "
                           "GROUP BY ALL HAVING count(*) > 1").fetchall()
        assert rows == []  # no id used twice
        # Each (directorate, quarter) has exactly one current return: the later of the two writers'.
        current = con.execute("SELECT quarter, count(*) FROM current_submissions GROUP BY quarter").fetchall()
        assert sorted(current) == sorted((f"{fy} Q{q}", 1) for fy in ("2025-26", "2024-25") for q in (1, 2, 3, 4))
        assert con.execute("SELECT count(*) FROM budget_rows").fetchone() == (30,)


def test_a_plain_duckdb_file_is_not_a_warehouse_and_an_old_one_points_to_migrate(tmp_path):
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    with pytest.raises(warehouse.WarehouseError, match="not a localism warehouse"):
        warehouse.Warehouse(other).query_df("SELECT 1")
    old = _old_format_warehouse(tmp_path / "old.duckdb")
    with pytest.raises(warehouse.WarehouseError, match="etl migrate --from"):
        warehouse.Warehouse(old).query_df("SELECT 1")


def test_a_catalog_whose_creation_was_cut_off_reads_as_unfinished_and_init_finishes_it(tmp_path):
    """A killed `init` can leave the catalog file with DuckLake's own tables but none of the
    warehouse's: it is never read as a warehouse (empty or half-filled), and `etl init` finishes it."""
    db = tmp_path / "cut.duckdb"
    cut_off = textwrap.dedent(f"""
        import sqlite3
        from etl import warehouse
        wh = warehouse.open_warehouse({str(db)!r})
        lite = sqlite3.connect({str(db)!r})
        lite.execute("PRAGMA journal_mode=WAL")
        lite.close()
        wh.data_path.mkdir(parents=True)
        wh.connect().close()  # DuckLake's catalog tables made; the process ends before the schema commits
    """)
    assert subprocess.run([PYTHON, "-c", cut_off], cwd=ROOT, capture_output=True, timeout=120).returncode == 0
    table = [PYTHON, "-m", "kpis", "table", "--db", str(db), "--quarter", "2025-26 Q2", "--by", "council"]
    done = subprocess.run(table, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert f"The warehouse at {db} was never finished" in done.stderr and "python -m etl init" in done.stderr
    done = subprocess.run([PYTHON, "-m", "etl", "init", "--db", str(db)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Created an empty warehouse" in done.stdout, done.stdout + done.stderr
    with warehouse.read_only(db) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == warehouse.SCHEMA_VERSION
        assert con.execute("SELECT count(*) FROM submissions").fetchone()[0] == 0
    warehouse.forget(db)


def test_a_shared_warehouse_needs_a_data_folder(monkeypatch):
    monkeypatch.delenv("LOCALISM_DATA_PATH", raising=False)
    with pytest.raises(warehouse.WarehouseError, match="LOCALISM_DATA_PATH"):
        warehouse.Warehouse("ducklake:postgres:host=127.0.0.1 dbname=nowhere")


def test_the_label_never_shows_a_password():
    wh = warehouse.Warehouse("ducklake:postgres:host=h dbname=d password=secret user=u", "/tmp/x")
    assert "secret" not in wh.label and "dbname=d" in wh.label


# ---------------------------------------------------------------------------------------------
# migrate


def _one_ward_set(con: duckdb.DuckDBPyConnection) -> None:
    """Turn this schema's ward sets into schemas 1 and 2's one `wards` and `boundaries` tables."""
    con.execute("DROP VIEW wards; DROP VIEW boundaries; DROP VIEW ward_history; DROP VIEW ward_set_spans")
    con.execute("CREATE TABLE wards AS SELECT * EXCLUDE (vintage) FROM ward_reference")
    con.execute("CREATE TABLE boundaries AS SELECT ward_code, geometry FROM ward_boundaries")
    con.execute("DROP TABLE ward_reference; DROP TABLE ward_boundaries; DROP TABLE ward_sets")


OLD_WARD = ("E05000001", "Ashby", "North", 1000)


def _old_format_warehouse(path: Path) -> Path:
    """A warehouse in the previous single-file format (schema 1: archived bytes in a BLOB table)."""
    con = duckdb.connect(str(path))
    con.execute(warehouse.DDL.replace(
        "CREATE TABLE files (sha256 VARCHAR NOT NULL, size_bytes BIGINT NOT NULL);",
        "CREATE TABLE files (sha256 VARCHAR PRIMARY KEY, size_bytes BIGINT NOT NULL, content BLOB NOT NULL);"))
    _one_ward_set(con)
    con.execute("ALTER TABLE submissions DROP COLUMN warnings")  # schema 1 kept no plausibility warnings
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute("INSERT INTO wards (ward_code, ward_name, neighbourhood, population_total) VALUES (?, ?, ?, ?)",
                list(OLD_WARD))
    content = budget(2)
    digest = hashlib.sha256(content).hexdigest()
    con.execute("INSERT INTO files VALUES (?, ?, ?)", [digest, len(content), content])
    con.execute("INSERT INTO directorates VALUES ('Adults and Health', 'ADH')")
    con.execute("""INSERT INTO submissions VALUES (7, 'budget', 'Adults and Health', '2025-26 Q2', 'jo',
                   TIMESTAMP '2025-10-01 09:00', 'b.csv', ?, 2, 'accepted', 0, 'Accepted', NULL)""", [digest])
    con.execute("""INSERT INTO budget_rows VALUES (7, 2, 'Adults and Health', '2025-26 Q2', 'Line 0', NULL, 100, 0, NULL),
                   (7, 3, 'Adults and Health', '2025-26 Q2', 'Line 1', NULL, 100, 0, NULL)""")
    con.execute("INSERT INTO audit_log VALUES (TIMESTAMP '2025-10-01 09:00', 'jo', 'accepted', 'budget #7')")
    con.close()
    return path


def _history(wh: warehouse.Warehouse) -> None:
    """A little of everything: accepted, superseded, rejected, identical, commentary, deadline."""
    import datetime as dt

    for content in (budget(2), budget(3, value=50), b"not,a,return\n", budget(3, value=50)):
        submit_return(wh, return_type="budget", directorate="Adults and Health", quarter=Q, content=content,
                      file_name="b.csv", user="jo")
    with wh.write() as con:
        store_commentary(con, directorate="Adults and Health", quarter=Q, body="On track.", user="jo")
    with wh.write() as con:
        store_deadline(con, quarter=Q, due=dt.date(2025, 11, 15), user="admin")


def test_migrate_round_trip_keeps_every_table_and_file(tmp_path, place):
    """embedded -> (each backend) -> embedded: every table equal, every archived file readable."""
    source = make_council(warehouse.Warehouse(tmp_path / "source.duckdb"))
    _history(source)
    middle = place.open()
    summary = warehouse.migrate(source, middle)
    assert "7 submissions" in summary  # 3 reference loads + 4 returns
    back = warehouse.Warehouse(tmp_path / "back.duckdb")
    warehouse.migrate(middle, back)
    expected = every_table(source)
    assert every_table(middle) == expected and every_table(back) == expected
    assert back.archived_digests() == source.archived_digests() == middle.archived_digests()
    for digest in source.archived_digests():
        assert back.archived(digest) == source.archived(digest)
    # The moved warehouse carries on: ids continue after the history's.
    out = submit_return(back, return_type="budget", directorate="Adults and Health", quarter="2025-26 Q3",
                        content=budget(1, "2025-26 Q3"), file_name="n.csv", user="jo")
    assert out.submission_id == 8


def test_migrate_from_the_old_single_file_format_through_the_cli(tmp_path):
    old = _old_format_warehouse(tmp_path / "old.duckdb")
    target = tmp_path / "new.duckdb"
    done = subprocess.run([PYTHON, "-m", "etl", "migrate", "--from", str(old), "--to", str(target)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "1 submissions, 2 return rows, 1 archived files, 1 audit entries" in done.stdout
    assert "The 1 wards became ward set 'initial', from 2025-26 Q2." in done.stdout
    wh = warehouse.Warehouse(target)
    with wh.read() as con:
        assert con.execute("SELECT vintage, first_quarter FROM ward_sets").fetchall() == [("initial", Q)]
        assert con.execute("SELECT ward_code, ward_name, neighbourhood, population_total FROM wards").fetchall() == [
            OLD_WARD]
        assert con.execute("SELECT submission_id, sha256 FROM current_submissions").fetchall() == [
            (7, hashlib.sha256(budget(2)).hexdigest())]
        assert con.execute("SELECT sum(total_budget_gbp) FROM budget").fetchone()[0] == 200
    assert wh.archived(hashlib.sha256(budget(2)).hexdigest()) == budget(2)


def _schema_2_warehouse(path: Path) -> list[tuple]:
    """A DuckLake warehouse of schema 2 (one `wards` table) at `path`, with a return for 2024-25 Q4
    and one boundary; returns its wards' rows."""
    old = make_council(warehouse.Warehouse(path))
    out = submit_return(old, return_type="budget", directorate="Adults and Health", quarter="2024-25 Q4",
                        content=budget(2, "2024-25 Q4"), file_name="b.csv", user="jo")
    assert out.ok, out.problems
    with old.write() as con:
        con.execute("INSERT INTO ward_boundaries VALUES ('initial', 'E05000001', '{}')")
        before = sorted(con.execute("SELECT * FROM wards").fetchall(), key=repr)
        _one_ward_set(con)
        con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    old.close()
    return before


def test_a_schema_2_warehouse_points_to_migrate_which_makes_its_wards_one_set(tmp_path):
    """Schema 2 (DuckLake, one ward set): refused with the migrate command; migrated, its wards,
    shapes and returns are all there, as the set 'initial' serving every quarter."""
    before = _schema_2_warehouse(tmp_path / "two.duckdb")
    two = warehouse.Warehouse(tmp_path / "two.duckdb")
    with pytest.raises(warehouse.WarehouseError, match=r"schema 2 \(one ward set.*etl migrate --from"):
        two.query_df("SELECT 1")
    new = warehouse.Warehouse(tmp_path / "three.duckdb")
    summary = warehouse.migrate(two, new)
    assert "The 3 wards became ward set 'initial', from 2024-25 Q4." in summary
    with new.read() as con:
        assert sorted(con.execute("SELECT * FROM wards").fetchall(), key=repr) == before
        assert con.execute("SELECT ward_code FROM boundaries").fetchall() == [("E05000001",)]
        assert con.execute("SELECT sum(total_budget_gbp) FROM budget").fetchone()[0] == 200
        sets = con.execute("SELECT vintage, first_quarter, submission_id FROM ward_sets").fetchall()
    assert sets == [("initial", "2024-25 Q4", 2)]  # the wards load was submission 2


def test_a_rebuild_over_a_schema_2_warehouse_keeps_it_beside_for_migrate(tmp_path):
    _schema_2_warehouse(tmp_path / "demo.duckdb")
    wh = warehouse.Warehouse(tmp_path / "demo.duckdb")
    with wh.rebuild() as con:
        con.execute("INSERT INTO directorates VALUES ('Place', NULL)")
    with wh.read() as con:
        assert con.execute("SELECT directorate FROM directorates").fetchall() == [("Place",)]
    kept = warehouse.Warehouse(tmp_path / "demo.duckdb.schema-2", tmp_path / "demo.duckdb.data")
    summary = warehouse.migrate(kept, warehouse.Warehouse(tmp_path / "moved.duckdb"))
    assert "4 submissions" in summary and "The 3 wards became ward set 'initial'" in summary


def test_migrate_refuses_a_target_that_is_not_empty(tmp_path):
    a = make_council(warehouse.Warehouse(tmp_path / "a.duckdb"))
    b = make_council(warehouse.Warehouse(tmp_path / "b.duckdb"))
    with pytest.raises(warehouse.WarehouseError, match="not empty"):
        warehouse.migrate(a, b)


def test_init_and_every_command_take_a_shared_warehouse(tmp_path):
    place = new_place("postgres", tmp_path)
    run = [PYTHON, "-m", "etl"]
    done = subprocess.run(run + ["init", *place.cli_args()], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Created an empty warehouse" in done.stdout, done.stderr
    assert "dbname=" in done.stdout
    again = subprocess.run(run + ["init"], cwd=ROOT, capture_output=True, text=True, timeout=300, env=place.env())
    assert again.returncode == 0 and "already a warehouse" in again.stdout, again.stderr
    (tmp_path / "d.csv").write_text("directorate,short_name\nAdults and Health,ADH\n")
    ref = subprocess.run(run + ["load-reference", *place.cli_args(), "directorates", str(tmp_path / "d.csv")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stdout + ref.stderr
    kpi = subprocess.run([PYTHON, "-m", "kpis", "table", "--quarter", Q, "--by", "directorate"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, env=place.env())
    assert kpi.returncode == 0, kpi.stderr
    assert kpi.stdout.splitlines()[1].startswith("Adults and Health,2025-26 Q2")
