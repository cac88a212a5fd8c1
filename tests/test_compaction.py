"""Compaction: every write adds small data files, and DuckLake looks up every current file of a
table a query names, so the warehouse merges them as it goes (tier by tier) and `etl compact`
merges everything. Figures never change; only the number of files does."""

from __future__ import annotations

import pandas as pd

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
    assert f"became {sum(after.values()):,}." in out.stdout
    pd.testing.assert_frame_equal(_figures(council).reset_index(drop=True), before.reset_index(drop=True))
