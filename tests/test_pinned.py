"""Pinned snapshots (`Warehouse.read_pinned`, the app's cached reads), on both backends: the same
figures as a plain read, one snapshot for a whole cursor whatever commits land, a newer snapshot
after any process's write, and old snapshots let go once no cursor reads them."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

import kpis
from etl import warehouse
from tests import conftest_kpis
from tests.conftest import BUDGET_HEADER, make_council, submit_return
from tests.conftest_kpis import ASC, CHILDREN, PLACE, Q1, W1, Q

# Every page read of a quarter, with its arguments (the cursor comes first).
READS = (
    ("kpi_table council", lambda c: kpis.kpi_table(c, Q, "council")),
    ("kpi_table directorate", lambda c: kpis.kpi_table(c, Q, "directorate")),
    ("kpi_table neighbourhood", lambda c: kpis.kpi_table(c, Q, "neighbourhood")),
    ("kpi_table ward", lambda c: kpis.kpi_table(c, Q, "ward")),
    ("kpi_values ward", lambda c: pd.Series(kpis.kpi_values(c, kpis.Scope((Q,), wards=(W1,))))),
    ("kpi_trend", lambda c: kpis.kpi_trend(c, kpis.Scope((Q,)), (Q1, Q))),
    ("rag_status", lambda c: kpis.rag_status(c, Q)),
    ("rag_status directorate", lambda c: kpis.rag_status(c, Q, PLACE)),
    ("pillar_scorecard", lambda c: kpis.pillar_scorecard(c, Q)),
    ("directorate_league", lambda c: kpis.directorate_league(c, Q)),
    ("equality_breakdown", lambda c: kpis.equality_breakdown(c, kpis.Scope((Q,)))),
    ("cold_spots", lambda c: kpis.cold_spots(c, Q)),
    ("completeness_table", lambda c: kpis.completeness_table(c, Q, "directorate")),
)


def _figures(read) -> dict[str, pd.DataFrame | pd.Series]:
    with read() as cur:
        return {name: fn(cur) for name, fn in READS}


@pytest.mark.parametrize("rows", [warehouse.MIRROR_ROWS, 0], ids=["copied", "lake-views"])
def test_a_pinned_read_gives_every_figure_a_plain_read_gives(kpi_backend, rows):
    # The worked example of tests/test_kpis.py (supersede, blanks, three directorates), read both ways:
    # with its tables copied into memory, and with every filled table read from the lake at the snapshot.
    example = conftest_kpis.build_example()
    wh = example._wh
    wh.mirror_rows = rows  # before the first read pins the snapshot
    assert example.con is not None  # reading it commits the example's rows
    plain = _figures(wh.read)
    pinned = _figures(wh.read_pinned)
    with wh.read_pinned() as cur:  # what was pinned: copies, or views of the lake
        kinds = dict(cur.execute(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_catalog = current_database()"
        ).fetchall())
    assert kinds["budget_facts"] == ("BASE TABLE" if rows else "VIEW")
    assert kinds["budget_rows"] == "VIEW"  # never copied
    for name, frame in plain.items():
        if isinstance(frame, pd.Series):
            pd.testing.assert_series_equal(pinned[name], frame, obj=name)
        else:
            pd.testing.assert_frame_equal(pinned[name], frame, obj=name)
    assert len(plain["directorate_league"]) == 3  # Place, ASC and Children: a real league, not an empty one
    assert {PLACE, ASC, CHILDREN} <= set(plain["directorate_league"]["directorate"])


def _budget(quarter: str, total: int, devolved: int) -> bytes:
    return (
        BUDGET_HEADER
        + f"Place,{quarter},Parks,E05000001,{total},{devolved},participatory_budgeting\n"
    ).encode()


def _submit(wh: warehouse.Warehouse, quarter: str, total: int, devolved: int) -> None:
    out = submit_return(
        wh,
        return_type="budget",
        directorate="Place",
        quarter=quarter,
        content=_budget(quarter, total, devolved),
        file_name="b.csv",
        user="test",
    )
    assert out.ok, out.problems


def _share(cur, quarter: str = "2025-26 Q2") -> float | None:
    return kpis.kpi_values(cur, kpis.Scope((quarter,)))["devolved_budget_share"]


@pytest.mark.parametrize("rows", [warehouse.MIRROR_ROWS, 0], ids=["copied", "lake-views"])
def test_a_pinned_cursor_keeps_its_snapshot_while_commits_land(any_council, rows):
    wh = any_council
    wh.mirror_rows = rows
    _submit(wh, "2025-26 Q2", 100_000, 10_000)
    with wh.read_pinned() as cur:
        assert _share(cur) == pytest.approx(0.1)
        before = cur.execute("SELECT count(*) FROM submissions").fetchone()[0]
        _submit(wh, "2025-26 Q2", 100_000, 40_000)  # supersedes the first, committed now
        assert _share(cur) == pytest.approx(
            0.1
        )  # the cursor's snapshot: facts, roll-ups and log alike
        assert cur.execute("SELECT count(*) FROM submissions").fetchone()[0] == before
        assert cur.execute("SELECT sum(devolved_gbp) FROM budget").fetchone()[0] == 10_000
    with wh.read_pinned() as cur:  # the next read is of the new snapshot
        assert _share(cur) == pytest.approx(0.4)
        assert cur.execute("SELECT sum(devolved_gbp) FROM budget").fetchone()[0] == 40_000


def test_a_pinned_read_sees_another_processes_write_and_never_an_older_snapshot(place):
    ours = make_council(place.open())
    _submit(ours, "2025-26 Q2", 100_000, 10_000)
    old_version = ours.version
    with ours.read_pinned(old_version) as cur:
        assert _share(cur) == pytest.approx(0.1)
    # Another process's Warehouse (its own root connection and catalog handle) writes.
    theirs = warehouse.Warehouse(place.db, place.data_path)
    try:
        _submit(theirs, "2025-26 Q2", 100_000, 30_000)
    finally:
        theirs.close()
    new_version = ours.version
    assert new_version != old_version
    with ours.read_pinned(new_version) as cur:
        assert _share(cur) == pytest.approx(0.3)
    # A read keyed by the older version (a cache key taken before the write) gets the newer
    # snapshot already pinned, never the older one: a cached figure is never staler than its key.
    with ours.read_pinned(old_version) as cur:
        assert _share(cur) == pytest.approx(0.3)


def _pinned_catalogs(wh: warehouse.Warehouse) -> list[str]:
    with wh.read() as cur:
        names = cur.execute("SELECT database_name FROM duckdb_databases() ORDER BY 1").fetchall()
    return [n for (n,) in names if n.startswith("pinned_")]


def test_old_snapshots_are_let_go_once_no_cursor_reads_them(council):
    wh = warehouse.open_warehouse(council)
    _submit(wh, "2025-26 Q2", 100_000, 10_000)
    with wh.read_pinned() as held:  # a slow reader keeps its snapshot through four writes
        for devolved in (20_000, 30_000, 40_000, 50_000):
            _submit(wh, "2025-26 Q2", 100_000, devolved)
            with wh.read_pinned() as cur:
                assert _share(cur) == pytest.approx(devolved / 100_000)
        assert _share(held) == pytest.approx(0.1)
        assert len(_pinned_catalogs(wh)) == 2  # the held one and the newest
    with wh.read_pinned() as cur:
        assert _share(cur) == pytest.approx(0.5)
    assert len(_pinned_catalogs(wh)) == 1


def test_readers_on_threads_see_whole_commits_while_a_writer_writes(council):
    # Each return raises the share; a reader's figures must be one return's, never a mix (the
    # budget family's facts and roll-up, and the submissions log, of two commits).
    wh = warehouse.open_warehouse(council)
    wh.mirror_rows = 0  # the facts read from the lake at the snapshot, as at national scale
    _submit(wh, "2025-26 Q2", 100_000, 1_000)
    shares = {round(d / 100_000, 6) for d in range(1_000, 9_000, 1_000)}
    seen: list[float] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                with wh.read_pinned() as cur:
                    council_share = _share(cur)
                    by_ward = kpis.kpi_table(cur, "2025-26 Q2", "ward")
                ward = by_ward.loc[
                    by_ward["ward_code"] == "E05000001", "devolved_budget_share"
                ].iloc[0]
                assert ward == pytest.approx(council_share)  # facts and roll-up of one commit
                seen.append(round(council_share, 6))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for devolved in range(2_000, 9_000, 1_000):
            _submit(wh, "2025-26 Q2", 100_000, devolved)
    finally:
        done.set()
        for t in threads:
            t.join(60)
    assert not errors, errors[0]
    assert seen and set(seen) <= shares
    with wh.read_pinned() as cur:
        assert _share(cur) == pytest.approx(0.08)
