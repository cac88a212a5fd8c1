"""Compaction: every write adds small data files, and DuckLake looks up every current file of a
table a query names, so the warehouse merges them as it goes (tier by tier) and `etl compact`
merges everything. Figures never change; only the number of files does."""

from __future__ import annotations

import datetime as dt
import time

import duckdb
import pandas as pd
import pytest

import kpis
from etl import warehouse
from tests.conftest import (
    BUDGET_HEADER,
    ENGAGEMENT_HEADER,
    etl_in_process,
    make_council,
    new_place,
    submit_return,
)

QUARTERS = ("2025-26 Q1", "2025-26 Q2")
WARDS = ("E05000001", "E05000002", "E05000003", "")


def _engagement(quarter: str, variant: int) -> bytes:
    month = {"2025-26 Q1": "05", "2025-26 Q2": "08"}[quarter]
    lines = [ENGAGEMENT_HEADER]
    for i in range(12):
        total = 10 + (i + variant) % 7
        lines.append(f"ADH,{quarter},A{i},{1 + i:02d}/{month}/2025,{WARDS[i % 4]},survey,options,"
                     f"{total},1,2,1,1,2,3,2,1,0,0,1,1,2,{'yes' if i % 2 else 'no'}\n")
    return "".join(lines).encode()


def _budget(quarter: str, variant: int) -> bytes:
    lines = [BUDGET_HEADER] + [
        f"ADH,{quarter},B{i},{WARDS[i % 4]},{1000 + 10 * variant + i},{100 * (1 + i % 3)},participatory_budgeting\n"
        for i in range(12)
    ]
    return "".join(lines).encode()


def _send_many(db, writes: int) -> list[dict[str, int]]:
    """`writes` returns, each superseding the last one for its quarter; the small-file counts
    (under the first tier) after each write."""
    seen = []
    for n in range(writes):
        quarter = QUARTERS[n % 2]
        for kind, content in (("engagement", _engagement(quarter, n)), ("budget", _budget(quarter, n))):
            out = submit_return(db, return_type=kind, directorate="Adults and Health", quarter=quarter,
                                content=content, file_name=f"{kind}.csv", user="lead", accept_warnings=True)
            assert out.status == "accepted", out.message
        with warehouse.read_only(db) as con:
            seen.append(warehouse.data_files(con, warehouse.COMPACTION_TIERS[0]))
    return seen


def _figures(db) -> pd.DataFrame:
    with warehouse.read_only(db) as con:
        return pd.concat([kpis.kpi_table(con, q, by) for q in QUARTERS for by in ("council", "ward")])


def test_writes_keep_every_table_to_a_few_files_and_the_figures_unchanged(place, tmp_path, monkeypatch):
    compacted = make_council(place.open())
    seen = _send_many(compacted, 3 * warehouse.COMPACT_AT)
    # after every write, no table holds COMPACT_AT files under the first tier: they were merged
    assert max(max(counts.values()) for counts in seen) < warehouse.COMPACT_AT
    with warehouse.read_only(compacted) as con:
        total = warehouse.data_files(con)
    # 24 engagement and 24 budget returns: far fewer files remain
    # (returns of a few rows are inlined in the catalog; these tables get a file per return)
    assert total["engagement_rows"] < warehouse.COMPACT_AT and total["budget_rows"] < warehouse.COMPACT_AT

    # the same returns without compaction: every write leaves its files, the figures are the same
    monkeypatch.setattr(warehouse, "compact", lambda con: [])
    plain = make_council(new_place(place.backend, tmp_path, "plain").open())
    _send_many(plain, 3 * warehouse.COMPACT_AT)
    with warehouse.read_only(plain) as con:
        files = warehouse.data_files(con)
        assert files["engagement_rows"] == files["budget_rows"] == 3 * warehouse.COMPACT_AT
        history = con.execute("SELECT count(*) FROM engagement_rows").fetchone()[0]
    pd.testing.assert_frame_equal(_figures(compacted).reset_index(drop=True),
                                  _figures(plain).reset_index(drop=True))
    with warehouse.read_only(compacted) as con:  # every submission's rows are still there
        assert con.execute("SELECT count(*) FROM engagement_rows").fetchone()[0] == history == 24 * 12


def test_etl_compact_merges_every_table_and_changes_no_figure(council, capsys, monkeypatch):
    monkeypatch.setattr(warehouse, "compact", lambda con: [])  # writes leave their files
    _send_many(council, 5)
    before = _figures(council)
    with warehouse.read_only(council) as con:
        files = warehouse.data_files(con)
    assert files["engagement_rows"] == 5 and files["budget_rows"] == 5
    monkeypatch.undo()
    out = etl_in_process(capsys, "compact", "--db", str(council))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"Compacted {council}: {sum(files.values()):,} data files in ")
    with warehouse.read_only(council) as con:
        after = warehouse.data_files(con)
        # superseded returns' facts were deleted rows: the rewritten file holds only current ones
        assert con.execute("SELECT count(DISTINCT submission_id) FROM engagement_facts").fetchone()[0] == 2
    assert after["engagement_rows"] == 1 and after["budget_rows"] == 1
    assert f"became {sum(after.values()):,}; " in out.stdout
    pd.testing.assert_frame_equal(_figures(council).reset_index(drop=True), before.reset_index(drop=True))


def _snapshots(db) -> list[int]:
    with warehouse.read_only(db) as con:
        return warehouse.snapshot_ids(con)


def _files_on_disk_and_in_catalog(db) -> tuple[set[str], set[str]]:
    """The Parquet files in the data folder, and those the catalog names (data and delete files)."""
    wh = warehouse.open_warehouse(db)
    on_disk = {p.name for p in wh.lake_path.rglob("*.parquet")}
    meta = f"__ducklake_metadata_{warehouse.ALIAS}"
    with warehouse.read_only(db) as con:
        named = {r[0].rsplit("/", 1)[-1] for r in con.execute(
            f"SELECT path FROM {meta}.ducklake_data_file UNION ALL SELECT path FROM {meta}.ducklake_delete_file"  # noqa: S608
        ).fetchall()}
    return on_disk, named


def test_snapshots_older_than_the_retention_are_expired_with_their_files(place, monkeypatch):
    db = make_council(place.open())
    _send_many(db, 4)
    kept = _snapshots(db)
    # every snapshot is seconds old: within the hour's retention, none was expired (on a SQLite
    # catalog DuckLake's own `older_than` would have expired them: snapshot times are text there)
    assert warehouse.SNAPSHOT_RETENTION == dt.timedelta(hours=1)
    assert len(kept) >= 8 and kept == list(range(kept[0], kept[-1] + 1))
    files_before, _ = _files_on_disk_and_in_catalog(db)

    # a reader holding a snapshot keeps it through a write that expires every other old one
    wh = warehouse.open_warehouse(db)
    held = kept[-1]
    monkeypatch.setattr(warehouse, "SNAPSHOT_RETENTION", dt.timedelta(0))
    with wh.read_pinned(str(held)) as cur:
        _send_many(db, 1)
        after = _snapshots(db)
        assert held in after and kept[0] not in after and len(after) < len(kept)
        assert cur.execute("SELECT count(*) FROM engagement_rows").fetchone()[0] == 4 * 12  # as it was

    # nothing held: the next tidy leaves only the newest snapshot, and no figure changes
    figures, count = _figures(db), len(_snapshots(db))
    assert count >= 2  # the held one and the newest
    assert wh.expire() == count - 1
    assert len(_snapshots(db)) == 1
    pd.testing.assert_frame_equal(_figures(db).reset_index(drop=True), figures.reset_index(drop=True))
    with warehouse.read_only(db) as con:
        # the submissions' history is the warehouse's, not DuckLake's: every return sent is kept
        assert con.execute("SELECT count(*) FROM engagement_rows").fetchone()[0] == 5 * 12
        with pytest.raises(duckdb.InvalidInputException, match="No snapshot found"):
            con.execute(f"SELECT count(*) FROM submissions AT (VERSION => {int(kept[0])})").fetchall()  # noqa: S608 - a number
    on_disk, named = _files_on_disk_and_in_catalog(db)
    assert on_disk == named  # every file that no remaining snapshot can see was deleted
    assert len(on_disk) < len(files_before)


def test_a_snapshot_is_kept_for_the_retention_after_it_stopped_being_the_newest(place):
    """A reader takes a snapshot only while it is the newest: its age counts from the next commit.
    (Ages only grow, so the retentions below hold however slowly the write runs.)"""
    db = make_council(place.open())
    wh = warehouse.open_warehouse(db)
    newest = _snapshots(db)[-1]
    time.sleep(2)  # the newest is now 2 s old, and still the newest; the older ones were superseded 2 s ago
    writing = time.monotonic()
    _send_many(db, 1)  # supersedes it
    since = time.monotonic() - writing  # the newest was superseded at most `since` seconds ago
    wh.expire(dt.timedelta(seconds=since + 1))
    left = _snapshots(db)
    assert newest in left  # made more than `since` + 1 s ago, but superseded within it: kept
    assert [s for s in left if s < newest] == []  # superseded more than `since` + 2 s ago
    time.sleep(1)
    wh.expire(dt.timedelta(seconds=0.5))  # the newest one was superseded at least 1 s ago
    assert newest not in _snapshots(db)


def test_etl_compact_expires_old_snapshots(council, capsys, monkeypatch):
    _send_many(council, 3)
    assert len(_snapshots(council)) > 3
    out = etl_in_process(capsys, "compact", "--db", str(council))
    assert "; 0 snapshots superseded more than 1 hour ago expired" in out.stdout  # all made in this test
    monkeypatch.setattr(warehouse, "SNAPSHOT_RETENTION", dt.timedelta(0))
    before = _figures(council)
    count = len(_snapshots(council))
    out = etl_in_process(capsys, "compact", "--db", str(council))
    assert out.returncode == 0, out.stderr
    assert f"; {count - 1:,} snapshots superseded more than 0 minutes ago expired" in out.stdout
    assert len(_snapshots(council)) == 1
    pd.testing.assert_frame_equal(_figures(council).reset_index(drop=True), before.reset_index(drop=True))
