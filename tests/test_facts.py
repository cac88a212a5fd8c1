"""Additive facts (kpis/facts.py): stored with each return, replaced on supersede, rebuilt for an
older warehouse, and every KPI summed from them equals the same KPI computed row by row.

The row-level truth is `benchmarks.pandas_kpis`, an independent pandas implementation of the
contract's definitions that reads the current rows (no SQL, no facts).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import pandas_kpis
from etl import warehouse
from etl.contract import DEMOGRAPHIC_COLUMNS, KPI_NAMES, MECHANISMS, METHODS, STAGES
from kpis import Scope, facts
from kpis.engine import kpi_frame
from tests.conftest import BUDGET_HEADER, ENGAGEMENT_HEADER, submit_return
from tests.conftest_kpis import Warehouse

Q = "2025-26 Q2"
BY = ("council", "directorate", "neighbourhood", "ward")


def assert_same_kpis(con, scope: Scope, by: str, windows=None) -> None:
    """kpi_frame (facts, SQL) equals the pandas row-level computation, cell by cell."""
    ours = kpi_frame(con, scope, by, windows)
    truth = pandas_kpis.kpi_frame(pandas_kpis.load(con), scope, by, windows)
    keys = ["window_id", "grp"] if windows is not None else ["grp"]
    if windows is None:
        truth = truth.drop(columns="window_id")
    ours = ours.sort_values(keys).reset_index(drop=True)
    truth = truth.sort_values(keys).reset_index(drop=True)
    assert ours["grp"].tolist() == truth["grp"].tolist()
    for k in KPI_NAMES:
        a, b = ours[k].astype("float64").to_numpy(), truth[k].astype("float64").to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b)), (k, by, scope, a, b)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=f"{k} {by} {scope}")


# Stored with the return, replaced when superseded ---------------------------------------------------


def _budget(devolved: int) -> bytes:
    return (BUDGET_HEADER + f"ADH,{Q},Grants,Ashby,1000,{devolved},community_grants\n"
            f"ADH,{Q},Parks,Ashby,500,0,\nADH,{Q},Central,,2000,0,\n").encode()


def _facts(db: Path, table: str) -> list[tuple]:
    with warehouse.read_only(db) as con:
        return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()  # noqa: S608


def test_accepted_return_stores_its_facts_and_a_rejection_none(council):
    out = submit_return(council, return_type="budget", directorate="Adults and Health", quarter=Q,
                        content=_budget(400), file_name="b.csv", user="Jo")
    sid = out.submission_id
    # Ashby: two lines (one devolving), borough-wide: one line, no mechanism.
    assert sorted(_facts(council, "budget_facts"), key=str) == sorted([
        (sid, Q, "Adults and Health", "E05000001", "community_grants", 1, 1, 1000, 400),
        (sid, Q, "Adults and Health", "E05000001", None, 1, 0, 500, 0),
        (sid, Q, "Adults and Health", None, None, 1, 0, 2000, 0),
    ], key=str)
    bad = submit_return(council, return_type="budget", directorate="Place", quarter=Q,
                        content=_budget(5000), file_name="b.csv", user="Jo")
    assert bad.status == "rejected"
    assert {r[0] for r in _facts(council, "budget_facts")} == {sid}


def test_superseding_return_replaces_its_facts(council):
    first = submit_return(council, return_type="budget", directorate="Adults and Health", quarter=Q,
                          content=_budget(400), file_name="b.csv", user="Jo")
    second = submit_return(council, return_type="budget", directorate="Adults and Health", quarter=Q,
                           content=_budget(900), file_name="b.csv", user="Jo")
    assert second.superseded == first.submission_id
    stored = _facts(council, "budget_facts")
    assert {r[0] for r in stored} == {second.submission_id}
    assert sum(r[8] for r in stored) == 900
    with warehouse.read_only(council) as con:
        assert_same_kpis(con, Scope((Q,)), "council")
        # the row tables keep both submissions; only the current one is in the facts
        assert con.execute("SELECT count(DISTINCT submission_id) FROM budget_rows").fetchone() == (2,)


def test_engagement_facts_sum_each_ward_method_and_stage(council):
    rows = "".join(
        f"ADH,{Q},A{i},01/08/2025,{ward},survey,options,10,2,3,0,0,6,4,5,0,0,0,0,1,9,{fb}\n"
        for i, (ward, fb) in enumerate([("Ashby", "yes"), ("Ashby", "no"), ("", "yes")])
    )
    out = submit_return(council, return_type="engagement", directorate="Adults and Health",
                        quarter=Q, content=(ENGAGEMENT_HEADER + rows).encode(), file_name="e.csv",
                        user="Jo")
    assert out.status == "accepted", out.problems
    with warehouse.read_only(council) as con:
        got = con.execute(
            "SELECT ward_code, activities, feedback_activities, participants, age_16_24, female,"
            " disabled FROM engagement_facts ORDER BY ward_code NULLS LAST"
        ).fetchall()
    assert got == [("E05000001", 2, 1, 20, 4, 12, 2), (None, 1, 1, 10, 2, 6, 1)]


def test_an_older_warehouse_gets_its_facts_on_the_next_write(council):
    submit_return(council, return_type="budget", directorate="Adults and Health", quarter=Q,
                  content=_budget(400), file_name="b.csv", user="Jo")
    before = _facts(council, "budget_facts")
    with warehouse.write(council) as con:  # make it look like a warehouse from before the facts
        con.execute("DELETE FROM budget_facts")
        con.execute("DELETE FROM meta WHERE key = 'facts_version'")
    assert _facts(council, "budget_facts") == []
    with warehouse.write(council):  # any write (here: an empty one) brings them back
        pass
    assert _facts(council, "budget_facts") == before
    with warehouse.read_only(council) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'facts_version'").fetchone() == (
            facts.FACTS_VERSION,)


# The demo council: every KPI, every breakdown, facts against rows ------------------------------------


def test_demo_kpis_from_facts_equal_the_row_level_computation(demo_db):
    with warehouse.read_only(demo_db) as con:
        quarters = [r[0] for r in con.execute(
            "SELECT DISTINCT quarter FROM current_submissions ORDER BY quarter").fetchall()]
        hood = con.execute("SELECT min(neighbourhood) FROM wards").fetchone()[0]
        directorate = con.execute("SELECT min(directorate) FROM directorates").fetchone()[0]
        latest = quarters[-1]
        for by in BY:
            assert_same_kpis(con, Scope((latest,)), by)
        assert_same_kpis(con, Scope((latest,), neighbourhoods=(hood,)), "ward")
        assert_same_kpis(con, Scope((latest,), directorates=(directorate,)), "council")
        # a trend's windows: every quarter alone and every four-quarter run
        windows = [(q,) for q in quarters] + [tuple(quarters[i:i + 4]) for i in range(len(quarters) - 3)]
        assert_same_kpis(con, Scope((latest,)), "council", windows)
        assert_same_kpis(con, Scope((latest,), directorates=(directorate,)), "council", windows)
        assert_same_kpis(con, Scope((latest,), neighbourhoods=(hood,)), "neighbourhood", windows)


# Random small warehouses --------------------------------------------------------------------------

WARDS = ("E05000001", "E05000002", "E05000003")
QUARTERS = ("2025-26 Q1", "2025-26 Q2", "2025-26 Q3")
DIRECTORATES = ("D1", "D2")
small = st.integers(0, 6)
ward = st.sampled_from((*WARDS, None, "E05000009"))  # E05000009: a ward no longer in the reference


@st.composite
def warehouses(draw) -> Warehouse:
    wh = Warehouse()
    for i, code in enumerate(WARDS):
        pops = {c: draw(st.integers(0, 50)) for c in DEMOGRAPHIC_COLUMNS}
        wh.ward(code, f"Ward {i}", "North" if i < 2 else "South", draw(st.integers(0, 3000)), **pops)
    for d in DIRECTORATES:
        wh.directorate(d)
    for _ in range(draw(st.integers(1, 7))):
        d, q = draw(st.sampled_from(DIRECTORATES)), draw(st.sampled_from(QUARTERS))
        kind = draw(st.sampled_from(("budget", "engagement", "partnerships")))
        n = draw(st.integers(0, 4))
        if kind == "budget":
            rows = []
            for i in range(n):
                total = draw(st.integers(0, 1000))
                devolved = draw(st.integers(0, total))
                rows.append({"budget_line": f"L{i}", "ward_code": draw(ward), "total_budget_gbp": total,
                             "devolved_gbp": devolved,
                             "mechanism": draw(st.sampled_from(MECHANISMS)) if devolved else None})
            wh.budget(d, q, *rows)
        elif kind == "engagement":
            rows = [{"ward_code": draw(ward), "participants_total": draw(st.integers(0, 40)),
                     "method": draw(st.sampled_from(METHODS)), "stage": draw(st.sampled_from(STAGES)),
                     "feedback_published": draw(st.booleans()),
                     **{c: draw(small) for c in DEMOGRAPHIC_COLUMNS}} for _ in range(n)]
            wh.engagement(d, q, *rows)
        else:
            ids = draw(st.lists(st.sampled_from(("P1", "P2", "P3", "P4")), max_size=n, unique=True))
            rows = []
            for pid in ids:
                cat = draw(st.booleans())
                rows.append({"partnership_id": pid, "ward_code": draw(ward),
                             "arrangement": "community_asset_transfer" if cat else "coproduction",
                             "lease_years": draw(st.integers(1, 40)) if cat else None,
                             "start_date": draw(st.dates(dt.date(2024, 1, 1), dt.date(2025, 12, 31)))})
            wh.partnerships(d, q, *rows)
    return wh


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wh=warehouses(), by=st.sampled_from(BY),
       geography=st.sampled_from(((), ("North",))), directorates=st.sampled_from(((), ("D1",))))
def test_random_warehouses_facts_equal_rows(wh, by, geography, directorates):
    scope = Scope((QUARTERS[1],), directorates=directorates, neighbourhoods=geography)
    assert_same_kpis(wh.con, scope, by)
    windows = [(q,) for q in QUARTERS] + [QUARTERS[:2], QUARTERS, (QUARTERS[0], QUARTERS[2])]
    assert_same_kpis(wh.con, scope, by, windows)


def test_pandas_reference_agrees_with_the_hand_computed_example():
    # The reference is checked against tests/test_kpis.py's hand figures too, so the comparisons
    # above cannot pass with both sides wrong in the same way.
    from tests.test_kpis import COUNCIL, build_example

    row = pandas_kpis.kpi_frame(pandas_kpis.load(build_example().con), Scope((Q,))).iloc[0]
    for k, v in COUNCIL.items():
        assert row[k] == pytest.approx(v, abs=1e-12), k
