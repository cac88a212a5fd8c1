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
from tests.conftest import BUDGET_HEADER, ENGAGEMENT_HEADER, PARTNERSHIPS_HEADER, submit_return
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


# The directorate-level roll-up: kept right by supersede, rejection and a wards load -------------------

Q1 = "2025-26 Q1"


def test_rollup_holds_the_current_return_only(council):
    first = submit_return(council, return_type="budget", directorate="Adults and Health", quarter=Q,
                          content=_budget(400), file_name="b.csv", user="Jo")
    # Ashby's devolving line by mechanism; the other two lines (no mechanism) summed: 500 + 2000
    assert _facts(council, "budget_rollup") == [
        (first.submission_id, Q, "Adults and Health", "community_grants", 1, 1, 1000, 400),
        (first.submission_id, Q, "Adults and Health", None, 2, 0, 2500, 0),
    ]
    second = submit_return(council, return_type="budget", directorate="Adults and Health", quarter=Q,
                           content=_budget(900), file_name="b.csv", user="Jo")
    assert _facts(council, "budget_rollup") == [
        (second.submission_id, Q, "Adults and Health", "community_grants", 1, 1, 1000, 900),
        (second.submission_id, Q, "Adults and Health", None, 2, 0, 2500, 0),
    ]
    bad = submit_return(council, return_type="budget", directorate="Adults and Health", quarter=Q,
                        content=_budget(5000), file_name="b.csv", user="Jo")  # devolved > total
    assert bad.status == "rejected"
    assert {r[0] for r in _facts(council, "budget_rollup")} == {second.submission_id}
    with warehouse.read_only(council) as con:
        values = kpi_frame(con, Scope((Q,))).iloc[0]
        assert values["devolved_budget_share"] == pytest.approx(900 / 3500)
        assert_same_kpis(con, Scope((Q,)), "council")
        assert_same_kpis(con, Scope((Q,)), "directorate")


def _engagement(female_ashby: int) -> bytes:
    # Ashby: 10 participants, sex known for all; borough-wide: 2, one female and one male
    return (ENGAGEMENT_HEADER
            + f"ADH,{Q},A1,01/08/2025,Ashby,survey,options,10,0,0,0,0,{female_ashby},"
              f"{10 - female_ashby},0,0,0,0,0,0,0,yes\n"
            + f"ADH,{Q},A2,01/08/2025,,survey,options,2,0,0,0,0,1,1,0,0,0,0,0,0,0,no\n").encode()


def _female(council) -> tuple:
    """The roll-up's female p, k, e and l (l: None, no one left out)."""
    with warehouse.read_only(council) as con:
        return con.execute(
            "SELECT p_female, k_female, CAST(e_female AS DOUBLE), l_female FROM equality_rollup"
        ).fetchone()


def _female_share(council) -> tuple[float, float]:
    from kpis import equality_breakdown

    with warehouse.read_only(council) as con:
        frame = equality_breakdown(con, Scope((Q,)))
    row = frame[frame["group"] == "female"].iloc[0]
    return row["p_share"], row["q_share"]


def test_equality_rollup_follows_supersede_and_a_wards_load(council):
    from tests.conftest import WARDS_CSV, load_reference

    out = submit_return(council, return_type="engagement", directorate="Adults and Health",
                        quarter=Q, content=_engagement(8), file_name="e.csv", user="Jo")
    assert out.status == "accepted", out.problems
    # Ashby's female share 500/1000; the council's (borough-wide) 3000/6000: expected 10*0.5 + 2*0.5
    assert _female(council) == (9, 12, pytest.approx(6.0), None)
    assert _female_share(council) == (pytest.approx(9 / 12), pytest.approx(6 / 12))

    out = submit_return(council, return_type="engagement", directorate="Adults and Health",
                        quarter=Q, content=_engagement(4), file_name="e.csv", user="Jo")
    assert out.superseded is not None
    assert _female(council) == (5, 12, pytest.approx(6.0), None)

    # New populations: Ashby 300 female of 1,000; the council 2,800 of 6,000.
    wards = WARDS_CSV.replace("E05000001,Ashby,North,1000,100,300,300,100,500,500",
                              "E05000001,Ashby,North,1000,100,300,300,100,300,700")
    assert wards != WARDS_CSV
    loaded = load_reference(council, kind="wards", content=wards.encode(), file_name="w.csv",
                            user="admin")
    assert loaded.ok, loaded.problems
    expected = 10 * 0.3 + 2 * 2800 / 6000
    assert _female(council) == (5, 12, pytest.approx(expected), None)
    assert _female_share(council) == (pytest.approx(5 / 12), pytest.approx(expected / 12))
    with warehouse.read_only(council) as con:
        for by in ("council", "directorate"):
            assert_same_kpis(con, Scope((Q,)), by)

    # A rejected wards file changes nothing.
    rejected = load_reference(council, kind="wards", content=b"ward_code\nnot a ward\n",
                              file_name="w.csv", user="admin")
    assert not rejected.ok
    assert _female(council) == (5, 12, pytest.approx(expected), None)


def _register(quarter: str, *ids: str) -> bytes:
    rows = {"P1": "P1,Friends of Ashby Park,vcse,community_asset_transfer,Ashby,01/04/2020,,1000,30",
            "P2": "P2,Dunmore Trust,vcse,coproduction,Dunmore,01/05/2025,,500,"}
    return (PARTNERSHIPS_HEADER + "".join(f"ADH,{quarter},{rows[i]}\n" for i in ids)).encode()


def _partnership_rollup(council) -> list[tuple]:
    with warehouse.read_only(council) as con:
        return con.execute(
            "SELECT quarter, next_quarter, start_quarter, is_cat, is_long_cat, partnerships"
            " FROM partnership_rollup ORDER BY ALL"  # NULLs last
        ).fetchall()


def test_partnership_rollup_knows_each_partnerships_next_register(council):
    def send(quarter: str, *ids: str, accepted: bool = True):
        out = submit_return(council, return_type="partnerships", directorate="Adults and Health",
                            quarter=quarter, content=_register(quarter, *ids), file_name="p.csv",
                            user="Jo")
        assert (out.status == "accepted") == accepted, out.problems

    send(Q1, "P1", "P2")
    send(Q, "P1")
    # P1 (an asset transfer on a 30-year lease, started 2020-21 Q1) is listed again in Q2
    assert _partnership_rollup(council) == [
        (Q1, Q, "2020-21 Q1", True, True, 1),
        (Q1, None, "2025-26 Q1", False, False, 1),
        (Q, None, "2020-21 Q1", True, True, 1),
    ]
    send(Q, "P2")  # supersedes Q2: now P2 is listed again, P1 is not
    assert _partnership_rollup(council) == [
        (Q1, Q, "2025-26 Q1", False, False, 1),
        (Q1, None, "2020-21 Q1", True, True, 1),
        (Q, None, "2025-26 Q1", False, False, 1),
    ]
    with warehouse.read_only(council) as con:
        both = kpi_frame(con, Scope((Q1, Q))).iloc[0]
        # two distinct partnerships over the two quarters; P2 started in Q1, inside the window
        assert (both["active_partnerships"], both["new_partnerships"]) == (2, 1)
        assert both["cat_long_lease_share"] == pytest.approx(1.0)
        q2 = kpi_frame(con, Scope((Q,))).iloc[0]
        assert (q2["active_partnerships"], q2["new_partnerships"]) == (1, 0)
        for windows in ([(Q1,), (Q,), (Q1, Q)], None):
            assert_same_kpis(con, Scope((Q,)), "council", windows)
            assert_same_kpis(con, Scope((Q,)), "directorate", windows)
    before = _partnership_rollup(council)
    out = submit_return(council, return_type="partnerships", directorate="Adults and Health",
                        quarter=Q, content=_register(Q, "P1").replace(b"vcse", b"nonsense"),
                        file_name="p.csv", user="Jo")
    assert out.status == "rejected"
    assert _partnership_rollup(council) == before
