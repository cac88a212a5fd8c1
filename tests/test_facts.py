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


# The ward roll-up: every directorate summed per quarter and ward, kept right by supersede and
# rejection, and read by the ward and neighbourhood figures ----------------------------------------

ASHBY, DUNMORE = "E05000001", "E05000003"


def _send(council, directorate: str, body: str, kind: str = "budget"):
    header = BUDGET_HEADER if kind == "budget" else ENGAGEMENT_HEADER
    return submit_return(council, return_type=kind, directorate=directorate, quarter=Q,
                         content=(header + body).encode(), file_name="r.csv", user="Jo")


def test_budget_ward_rollup_sums_directorates_and_follows_supersede(council):
    adh = _send(council, "Adults and Health", f"ADH,{Q},Grants,Ashby,1000,400,community_grants\n"
                f"ADH,{Q},Parks,Ashby,500,0,\nADH,{Q},Central,,2000,0,\n")
    place = _send(council, "Place", f"Place,{Q},PB,Ashby,300,300,participatory_budgeting\n"
                  f"Place,{Q},Roads,Dunmore,200,0,\n")
    assert adh.status == place.status == "accepted", (adh.problems, place.problems)
    # Ashby: three lines of two directorates, 1,800 of which 700 devolved, 300 of it by PB;
    # the borough-wide line is in no ward's row
    assert _facts(council, "budget_ward_rollup") == [
        (Q, ASHBY, 3, 1800, 700, 300), (Q, DUNMORE, 1, 200, 0, None)]

    # Adults and Health resends with Dunmore only: Ashby keeps Place's line alone
    again = _send(council, "Adults and Health", f"ADH,{Q},Grants,Dunmore,600,150,community_grants\n")
    assert again.superseded == adh.submission_id
    assert _facts(council, "budget_ward_rollup") == [
        (Q, ASHBY, 1, 300, 300, 300), (Q, DUNMORE, 2, 800, 150, None)]
    bad = _send(council, "Place", f"Place,{Q},PB,Ashby,300,900,participatory_budgeting\n")
    assert bad.status == "rejected"
    assert _facts(council, "budget_ward_rollup") == [
        (Q, ASHBY, 1, 300, 300, 300), (Q, DUNMORE, 2, 800, 150, None)]
    with warehouse.read_only(council) as con:
        table = kpi_frame(con, Scope((Q,)), "ward").set_index("grp")
        assert table.loc[DUNMORE, "devolved_budget_share"] == pytest.approx(150 / 800)
        assert table.loc[ASHBY, "pb_share"] == pytest.approx(1.0)
        for by in ("neighbourhood", "ward"):
            assert_same_kpis(con, Scope((Q,)), by)
        assert_same_kpis(con, Scope((Q,), neighbourhoods=("North",)), "council")


def _activity(directorate: str, code: str, ward: str, method: str, stage: str, feedback: str) -> str:
    # 10 participants: age 2/3 known, 6 female and 4 male, 5 white, 1 disabled of 10 known
    return f"{directorate},{Q},{code},01/08/2025,{ward},{method},{stage},10,2,3,0,0,6,4,5,0,0,0,0,1,9,{feedback}\n"


def test_engagement_ward_rollup_counts_early_activities_as_the_kpi_does(council):
    first = _send(council, "Adults and Health",
                  _activity("ADH", "A1", "Ashby", "survey", "options", "yes")
                  + _activity("ADH", "A2", "Ashby", "codesign", "options", "no")  # early: codesign
                  + _activity("ADH", "A3", "", "survey", "priority_setting", "yes"), "engagement")
    place = _send(council, "Place", _activity("Place", "P1", "Ashby", "survey", "priority_setting", "no"),
                  "engagement")  # early: priority setting
    assert first.status == place.status == "accepted", (first.problems, place.problems)
    with warehouse.read_only(council) as con:
        got = con.execute(
            "SELECT quarter, ward_code, activities, participants, early_activities,"
            " feedback_activities, age_16_24, female, disabled FROM engagement_ward_rollup").fetchall()
    assert got == [(Q, ASHBY, 3, 30, 2, 1, 6, 18, 3)]

    # the resend moves Adults and Health's work to Dunmore, all of it late
    _send(council, "Adults and Health", _activity("ADH", "A1", "Dunmore", "survey", "review", "yes"),
          "engagement")
    with warehouse.read_only(council) as con:
        got = con.execute(
            "SELECT ward_code, activities, participants, early_activities, feedback_activities"
            " FROM engagement_ward_rollup ORDER BY ward_code").fetchall()
        assert got == [(ASHBY, 1, 10, 1, 0), (DUNMORE, 1, 10, 0, 1)]
        table = kpi_frame(con, Scope((Q,)), "ward").set_index("grp")
        assert table.loc[ASHBY, "early_engagement_share"] == 1.0
        assert table.loc[DUNMORE, "early_engagement_share"] == 0.0
        # Ashby's population is 1,000: 10 participants is 10 per 1,000
        assert table.loc[ASHBY, "participation_per_1000"] == pytest.approx(10.0)
        for by in ("neighbourhood", "ward"):
            assert_same_kpis(con, Scope((Q,)), by)


def test_ward_and_neighbourhood_figures_read_the_ward_rollup(council):
    _send(council, "Adults and Health", f"ADH,{Q},Grants,Ashby,1000,400,community_grants\n")
    with warehouse.write(council) as con:  # a roll-up that disagrees with the facts, on purpose
        con.execute("UPDATE budget_ward_rollup SET devolved_gbp = 100")
    with warehouse.read_only(council) as con:
        by_ward = kpi_frame(con, Scope((Q,)), "ward").set_index("grp")
        assert by_ward.loc[ASHBY, "devolved_budget_share"] == pytest.approx(0.1)  # the roll-up
        ward = kpi_frame(con, Scope((Q,), wards=(ASHBY,))).iloc[0]
        assert ward["devolved_budget_share"] == pytest.approx(0.1)
        # a directorate filter, or groups by directorate, read the facts
        one = kpi_frame(con, Scope((Q,), ("Adults and Health",), wards=(ASHBY,))).iloc[0]
        assert one["devolved_budget_share"] == pytest.approx(0.4)
        by_directorate = kpi_frame(con, Scope((Q,), wards=(ASHBY,)), "directorate").set_index("grp")
        assert by_directorate.loc["Adults and Health", "devolved_budget_share"] == pytest.approx(0.4)
        # and the council's figure its directorate-level roll-up
        assert kpi_frame(con, Scope((Q,))).iloc[0]["devolved_budget_share"] == pytest.approx(0.4)


def test_a_rebuild_recreates_the_ward_rollup(council):
    _send(council, "Adults and Health", f"ADH,{Q},Grants,Ashby,1000,400,community_grants\n")
    before = _facts(council, "budget_ward_rollup")
    with warehouse.write(council) as con:
        con.execute("DROP TABLE budget_ward_rollup")
        con.execute("DELETE FROM meta WHERE key = 'facts_version'")
    with warehouse.read_only(council) as con:  # read from the facts until the next write
        assert kpi_frame(con, Scope((Q,)), "ward").set_index("grp").loc[
            ASHBY, "devolved_budget_share"] == pytest.approx(0.4)
    with warehouse.write(council):
        pass
    assert _facts(council, "budget_ward_rollup") == before == [(Q, ASHBY, 1, 1000, 400, None)]


# The index alone (equality_index*.sql, computed on the wide row) is equality.sql's to the last bit

def _index_pairs(con, scope: Scope, by: str, windows):
    from kpis import engine

    params = {**scope.params(by), **engine._windows(windows)}
    pairs = [("equality_index.sql", "equality.sql", False), ("equality_index.sql", "equality.sql", True)]
    if by in ("council", "directorate") and not scope.is_geographic:
        pairs.append(("equality_index_rollup.sql", "equality_rollup.sql", False))
    for wide, long, ward_rollup in pairs:
        a = engine.run_sql(con, wide, ward_rollup=ward_rollup, **params)
        b = (engine.run_sql(con, long, ward_rollup=ward_rollup, **params)
             .drop_duplicates(["window_id", "grp"])[["window_id", "grp", "engagement_equality_index"]])
        yield (wide, ward_rollup), a.reset_index(drop=True), b.reset_index(drop=True)


def test_the_wide_index_equals_the_per_group_query_bit_for_bit(demo_db):
    with warehouse.read_only(demo_db) as con:
        quarters = [r[0] for r in con.execute(
            "SELECT DISTINCT quarter FROM current_submissions ORDER BY quarter").fetchall()]
        hood = con.execute("SELECT min(neighbourhood) FROM wards").fetchone()[0]
        windows = [(q,) for q in quarters] + [tuple(quarters[i:i + 4]) for i in range(len(quarters) - 3)]
        checked = 0
        for by in BY:
            for scope in (Scope((quarters[-1],)), Scope((quarters[-1],), neighbourhoods=(hood,))):
                for label, a, b in _index_pairs(con, scope, by, windows):
                    assert a[["window_id", "grp"]].equals(b[["window_id", "grp"]]), label
                    x = a["engagement_equality_index"].astype("float64").to_numpy()
                    y = b["engagement_equality_index"].astype("float64").to_numpy()
                    assert np.array_equal(x, y, equal_nan=True), (label, by, scope)
                    checked += int((~np.isnan(x)).sum())
        assert checked > 1000  # figures, not only blanks


def test_partnership_ward_rollup_counts_each_register_row_per_ward(council):
    # P1: an asset transfer on a 30-year lease in Ashby (started 2020); P2: a co-production in
    # Dunmore started in 2025-26 Q1
    def send(directorate: str, short: str, *ids: str, quarter: str = Q):
        rows = {"P1": "P1,Friends of Ashby Park,vcse,community_asset_transfer,Ashby,01/04/2020,,1000,30",
                "P2": "P2,Dunmore Trust,vcse,coproduction,Dunmore,01/05/2025,,500,",
                "P3": "P3,Ashby Youth,vcse,coproduction,Ashby,01/08/2025,,500,"}
        body = "".join(f"{short},{quarter},{rows[i]}\n" for i in ids)
        return submit_return(council, return_type="partnerships", directorate=directorate,
                             quarter=quarter, content=(PARTNERSHIPS_HEADER + body).encode(),
                             file_name="p.csv", user="Jo")

    assert send("Adults and Health", "ADH", "P1", "P2").status == "accepted"
    assert send("Place", "Place", "P1", "P3").status == "accepted"  # P3 starts in Q2: new
    # start_quarter is kept only where it is the row's own quarter (what a one-quarter figure needs)
    assert _facts(council, "partnership_ward_rollup") == [
        (Q, ASHBY, Q, False, False, 1), (Q, ASHBY, None, True, True, 2),
        (Q, DUNMORE, None, False, False, 1)]
    again = send("Adults and Health", "ADH", "P2")  # Adults and Health drops P1
    assert again.superseded is not None
    assert _facts(council, "partnership_ward_rollup") == [
        (Q, ASHBY, Q, False, False, 1), (Q, ASHBY, None, True, True, 1),
        (Q, DUNMORE, None, False, False, 1)]
    q1 = send("Place", "Place", "P1", quarter=Q1)
    assert q1.status == "accepted", q1.problems  # another quarter: its own rows
    assert {r[0] for r in _facts(council, "partnership_ward_rollup")} == {Q, Q1}
    with warehouse.read_only(council) as con:
        table = kpi_frame(con, Scope((Q,)), "ward").set_index("grp")
        assert table.loc[ASHBY, ["active_partnerships", "new_partnerships", "cat_partnerships",
                                 "cat_long_lease"]].tolist() == [2, 1, 1, 1]
        for by in ("neighbourhood", "ward"):
            assert_same_kpis(con, Scope((Q,)), by)
            # several quarters in one window: read from the facts, one count per partnership
            assert_same_kpis(con, Scope((Q1, Q)), by)
            assert_same_kpis(con, Scope((Q,)), by, [(Q1,), (Q,), (Q1, Q)])


def test_equality_ward_rollup_follows_supersede_and_a_wards_load(council):
    from kpis import equality_breakdown
    from tests.conftest import WARDS_CSV, load_reference

    def ashby_female() -> tuple:
        with warehouse.read_only(council) as con:
            return con.execute(
                "SELECT p_female, k_female, CAST(e_female AS DOUBLE), l_female"
                " FROM equality_ward_rollup WHERE ward_code = ?", [ASHBY]).fetchone()

    def ward_shares() -> tuple[float, float]:
        with warehouse.read_only(council) as con:
            frame = equality_breakdown(con, Scope((Q,), wards=(ASHBY,)))
        row = frame[frame["group"] == "female"].iloc[0]
        return row["p_share"], row["q_share"]

    submit_return(council, return_type="engagement", directorate="Adults and Health", quarter=Q,
                  content=_engagement(8), file_name="e.csv", user="Jo")
    # Ashby: 10 participants, 8 female; its female share 500/1,000 (the borough-wide activity is
    # in no ward's row)
    assert ashby_female() == (8, 10, pytest.approx(5.0), None)
    assert ward_shares() == (pytest.approx(0.8), pytest.approx(0.5))
    submit_return(council, return_type="engagement", directorate="Adults and Health", quarter=Q,
                  content=_engagement(4), file_name="e.csv", user="Jo")
    assert ashby_female() == (4, 10, pytest.approx(5.0), None)
    wards = WARDS_CSV.replace("E05000001,Ashby,North,1000,100,300,300,100,500,500",
                              "E05000001,Ashby,North,1000,100,300,300,100,300,700")
    assert load_reference(council, kind="wards", content=wards.encode(), file_name="w.csv",
                          user="admin").ok
    assert ashby_female() == (4, 10, pytest.approx(3.0), None)
    assert ward_shares() == (pytest.approx(0.4), pytest.approx(0.3))
    with warehouse.read_only(council) as con:
        for by in ("neighbourhood", "ward"):
            assert_same_kpis(con, Scope((Q,)), by)


def _ward_order_in_files(council) -> list[list[str | None]]:
    """The ward codes of partnership_facts as each current data file holds them, in file order."""
    with warehouse.read_only(council) as con:
        paths = [r[0] for r in con.execute(
            "SELECT data_file FROM ducklake_list_files('wh', 'partnership_facts')").fetchall()]
        return [[r[0] for r in con.execute("SELECT ward_code FROM read_parquet(?)", [p]).fetchall()]
                for p in sorted(paths)]


def test_partnership_facts_are_kept_in_ward_order_when_stored_merged_and_rebuilt(council):
    # a ward's rolling-window figures read these facts: sorted files let a scan skip other wards
    def send(quarter: str, *ids: str):
        out = submit_return(council, return_type="partnerships", directorate="Adults and Health",
                            quarter=quarter, content=_register(quarter, *ids), file_name="p.csv", user="Jo")
        assert out.status == "accepted", out.problems

    assert ASHBY < DUNMORE  # the order the files must hold
    send(Q1, "P2", "P1")  # Dunmore's row first in the file, then Ashby's
    send(Q, "P2", "P1")
    files = _ward_order_in_files(council)
    assert len(files) == 2 and all(f == [ASHBY, DUNMORE] for f in files)
    warehouse.compact_all(council)
    assert _ward_order_in_files(council) == [[ASHBY, ASHBY, DUNMORE, DUNMORE]]
    with warehouse.write(council) as con:  # an older definition's facts: rebuilt on the next write
        con.execute("DELETE FROM meta WHERE key = 'facts_version'")
    with warehouse.write(council):
        pass
    assert _ward_order_in_files(council) == [[ASHBY, ASHBY, DUNMORE, DUNMORE]]
    with warehouse.read_only(council) as con:
        assert_same_kpis(con, Scope((Q1, Q)), "ward")
        assert_same_kpis(con, Scope((Q,)), "ward", [(Q1,), (Q,), (Q1, Q)])
