"""Core KPIs pinned by a hand-computed worked example (the arithmetic is in the comments).

The council (tests/conftest_kpis.py `build_example`): 4 wards in 2 neighbourhoods, 3 directorates (one with no returns), quarter 2025-26 Q2.

ward        name    neighbourhood  population  pop_female  pop_male
E05000001   Abbey   North          1000         500         500     (female share 0.5)
E05000002   Bridge  North          2000        1200         800     (0.6)
E05000003   Castle  South           500         200         300     (0.4)
E05000004   Dock    South          1500         750         750     (0.5)
council                            5000        2650        2350     (0.53)
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

import kpis
from etl.contract import KPI_NAMES
from kpis import Scope
from kpis.engine import run_sql, sql_files
from tests.conftest_kpis import (
    ASC,
    CHILDREN,
    PLACE,
    Q1,
    W1,
    W2,
    W3,
    W4,
    Q,
    Warehouse,
    build_example,
)  # fmt: skip

pytestmark = pytest.mark.usefixtures("kpi_backend")  # every test on both backends


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return build_example().con


# Hand-computed expectations --------------------------------------------------------------------
# Council budget: total 100k + 50k + 250k + 100k = 500k; devolved 20k + 10k + 50k = 80k; PB 70k.
# Council engagement: participants 30 + 20 + 50 + 10 = 110 over 5000 residents -> 22.0 per 1000;
#   early: A1 (priority_setting) and A2 (codesign) = 2 of 4; feedback: A1 and A3 = 2 of 4.
# EEI (sex only: other dimensions have no known participants): female 20+5+25 = 50, male 30,
#   known 80 -> p_f 0.625. q_f = (30*0.5 + 10*0.6 + 40*0.53 + 0*0.4) / 80 = 42.2/80 = 0.5275.
#   EEI = 1 - 0.5 * (0.0975 + 0.0975) = 0.9025.
# Partnerships: Place P1, P2, P3 and ASC P1 = 4; new: P2, P3 = 2; CAT: P2 (30y), P3 (10y),
#   ASC P1 (25y) -> long 2 of 3.
COUNCIL = {
    "devolved_budget_share": 80_000 / 500_000,
    "pb_share": 70_000 / 500_000,
    "participation_per_1000": 22.0,
    "engagement_equality_index": 0.9025,
    "early_engagement_share": 0.5,
    "feedback_rate": 0.5,
    "active_partnerships": 4,
    "new_partnerships": 2,
    "cat_long_lease_share": 2 / 3,
}


def assert_kpis(actual: dict, expected: dict) -> None:
    assert list(actual) == list(KPI_NAMES)
    for k, v in expected.items():
        if v is None:
            assert actual[k] is None, k
        else:
            assert actual[k] == pytest.approx(v, abs=1e-12), k


def test_council_values(con):
    values = kpis.kpi_values(con, Scope((Q,)))
    assert_kpis(values, COUNCIL)
    assert isinstance(values["active_partnerships"], int)


def test_directorate_scope_includes_borough_wide_rows(con):
    # Place: budget 400k, devolved 30k, PB 20k. Participants 100 over all 5000 residents = 20.0.
    # early 2/3 (A1, A2), feedback 2/3 (A1, A3). EEI as the council's (ASC adds no known sex).
    # Partnerships P1, P2, P3; new P2, P3; CAT P2 (long), P3 (short) -> 1/2.
    assert_kpis(
        kpis.kpi_values(con, Scope((Q,), (PLACE,))),
        {"devolved_budget_share": 0.075, "pb_share": 0.05, "participation_per_1000": 20.0,
         "engagement_equality_index": 0.9025, "early_engagement_share": 2 / 3,
         "feedback_rate": 2 / 3, "active_partnerships": 3, "new_partnerships": 2,
         "cat_long_lease_share": 0.5},
    )  # fmt: skip


def test_directorate_without_returns_has_undefined_ratios_not_zero(con):
    # Children's Services sent nothing: nothing to divide by for the ratios; participation is
    # 0 participants over 5000 residents = 0.0 (defined); counts are 0.
    assert_kpis(
        kpis.kpi_values(con, Scope((Q,), (CHILDREN,))),
        {"devolved_budget_share": None, "pb_share": None, "participation_per_1000": 0.0,
         "engagement_equality_index": None, "early_engagement_share": None,
         "feedback_rate": None, "active_partnerships": 0, "new_partnerships": 0,
         "cat_long_lease_share": None},
    )  # fmt: skip


def test_neighbourhood_scope_drops_borough_wide_rows(con):
    # North = W1 + W2, 3000 residents. Budget 150k, devolved 30k, PB 20k (Highways is
    # borough-wide: out). Participants 30 + 20 = 50 -> 50/3000*1000 = 16.667; early 2/2;
    # feedback 1/2. EEI: f 25, m 15, known 40 -> p_f 0.625; q_f = (30*0.5 + 10*0.6)/40 = 0.525;
    # EEI = 1 - 0.1 = 0.9. Partnerships P1 (W1), P2 (W2, new, CAT 30y) -> 2, 1, 1/1.
    assert_kpis(
        kpis.kpi_values(con, Scope((Q,), neighbourhoods=("North",))),
        {"devolved_budget_share": 0.2, "pb_share": 20_000 / 150_000,
         "participation_per_1000": 50 / 3, "engagement_equality_index": 0.9,
         "early_engagement_share": 1.0, "feedback_rate": 0.5, "active_partnerships": 2,
         "new_partnerships": 1, "cat_long_lease_share": 1.0},
    )  # fmt: skip


def test_ward_scope_and_a_ward_with_nothing(con):
    # W1: budget 100k/20k PB; 30 participants / 1000 = 30.0; early 1/1; feedback 1/1;
    # EEI: p_f = 20/30, q_f = 0.5 -> 1 - 0.5*(1/6 + 1/6) = 5/6. P1 only; not CAT.
    assert_kpis(
        kpis.kpi_values(con, Scope((Q,), wards=(W1,))),
        {"devolved_budget_share": 0.2, "pb_share": 0.2, "participation_per_1000": 30.0,
         "engagement_equality_index": 5 / 6, "early_engagement_share": 1.0,
         "feedback_rate": 1.0, "active_partnerships": 1, "new_partnerships": 0,
         "cat_long_lease_share": None},
    )  # fmt: skip
    # W4 has residents and nothing else: participation 0.0 (1500 residents), the rest undefined/0.
    assert_kpis(
        kpis.kpi_values(con, Scope((Q,), wards=(W4,))),
        {"devolved_budget_share": None, "pb_share": None, "participation_per_1000": 0.0,
         "engagement_equality_index": None, "early_engagement_share": None,
         "feedback_rate": None, "active_partnerships": 0, "new_partnerships": 0,
         "cat_long_lease_share": None},
    )  # fmt: skip


def test_empty_scope_is_undefined(con):
    # Neighbourhood North and ward W3 (South) narrow each other to no ward at all: no residents,
    # so even participation is undefined.
    values = kpis.kpi_values(con, Scope((Q,), neighbourhoods=("North",), wards=(W3,)))
    assert values["participation_per_1000"] is None
    assert values["active_partnerships"] == 0
    assert all(
        values[k] is None for k in KPI_NAMES if k not in {"active_partnerships", "new_partnerships"}
    )
    # A quarter with no returns at all.
    values = kpis.kpi_values(con, Scope(("2024-25 Q1",)))
    assert values["devolved_budget_share"] is None and values["participation_per_1000"] == 0.0


def test_directorate_and_ward_together(con):
    # ASC in W3: budget 100k/50k PB; 10 participants / 500 = 20.0; stage review -> early 0/1;
    # no feedback 0/1; EEI undefined (no known sex); ASC P1: 1, not new, CAT 25y -> 1/1.
    assert_kpis(
        kpis.kpi_values(con, Scope((Q,), (ASC,), wards=(W3,))),
        {"devolved_budget_share": 0.5, "pb_share": 0.5, "participation_per_1000": 20.0,
         "engagement_equality_index": None, "early_engagement_share": 0.0,
         "feedback_rate": 0.0, "active_partnerships": 1, "new_partnerships": 0,
         "cat_long_lease_share": 1.0},
    )  # fmt: skip
    # Place has nothing in W3.
    values = kpis.kpi_values(con, Scope((Q,), (PLACE,), wards=(W3,)))
    assert values["devolved_budget_share"] is None and values["participation_per_1000"] == 0.0


def test_multi_quarter_scope():
    wh = build_example()
    # Q1: Place's register has P1 (started 2019) and P4 (started 2025-05-01, new in Q1).
    wh.partnerships(PLACE, Q1, {"partnership_id": "P1", "ward_code": W1, "start_date": dt.date(2019, 5, 1)},
                    {"partnership_id": "P4", "start_date": dt.date(2025, 5, 1)})  # fmt: skip
    wh.engagement(
        PLACE, Q1, {"ward_code": W2, "participants_total": 40, "stage": "priority_setting"}
    )
    values = kpis.kpi_values(wh.con, Scope((Q1, Q)))
    # Budget: Q1 200k/100k PB + Q2 500k/80k (70k PB) -> 180k/700k and 170k/700k.
    assert values["devolved_budget_share"] == pytest.approx(180 / 700)
    assert values["pb_share"] == pytest.approx(170 / 700)
    # Participants 40 + 110 = 150 divided by the population once: 150/5000*1000 = 30.0.
    assert values["participation_per_1000"] == pytest.approx(30.0)
    # Activities 1 + 4 = 5; early: Q1's one + 2 = 3 -> 0.6.
    assert values["early_engagement_share"] == pytest.approx(0.6)
    # Distinct (directorate, id): Place P1 (in both quarters, once), P2, P3, P4, ASC P1 = 5;
    # new in Q1 or Q2: P2, P3, P4 and ASC P1 (started 30 June: Q1) = 4.
    assert values["active_partnerships"] == 5
    assert values["new_partnerships"] == 4


def test_superseded_then_reinstated_figures():
    wh = build_example()
    # A later Place budget return for Q2 (a re-send of the very first one) supersedes the
    # current one: Place now has the single £1m line fully devolved by PB.
    wh.budget(PLACE, Q, {"budget_line": "Old", "total_budget_gbp": 1_000_000,
                         "devolved_gbp": 1_000_000, "mechanism": "participatory_budgeting"})  # fmt: skip
    values = kpis.kpi_values(wh.con, Scope((Q,), (PLACE,)))
    assert values["devolved_budget_share"] == 1.0
    # Council: 1m + ASC 100k = 1.1m; devolved 1.05m.
    assert kpis.kpi_values(wh.con, Scope((Q,)))["devolved_budget_share"] == pytest.approx(
        1.05 / 1.1
    )


def test_population_zero_ward_is_undefined():
    wh = Warehouse()
    wh.ward(W1, "Abbey", "North", 0)
    wh.directorate(PLACE)
    wh.engagement(PLACE, Q, {"ward_code": W1, "participants_total": 5})
    assert kpis.kpi_values(wh.con, Scope((Q,)))["participation_per_1000"] is None


def test_scope_accepts_any_quarter_spelling_and_needs_one():
    assert Scope(("2025/26 Q2",)).quarters == (Q,)
    assert Scope(Q, PLACE).directorates == (PLACE,)
    with pytest.raises(ValueError):
        Scope(())


# The CLI's table ---------------------------------------------------------------------------------


def test_table_by_council(con):
    table = kpis.kpi_table(con, "Q2 2025/26", "council")
    assert list(table.columns) == ["quarter", *KPI_NAMES]
    assert len(table) == 1 and table.loc[0, "quarter"] == Q
    assert table.loc[0, "devolved_budget_share"] == pytest.approx(0.16)


def test_table_by_directorate_lists_every_directorate_sorted(con):
    table = kpis.kpi_table(con, Q, "directorate")
    assert list(table.columns) == ["directorate", "quarter", *KPI_NAMES]
    assert table["directorate"].tolist() == [ASC, CHILDREN, PLACE]
    row = table.set_index("directorate").loc[ASC]
    # ASC: 100k/50k; 10/5000*1000 = 2.0; early 0/1; feedback 0/1; EEI undefined; P1 CAT 25y.
    assert row["devolved_budget_share"] == 0.5
    assert row["participation_per_1000"] == pytest.approx(2.0)
    assert pd.isna(row["engagement_equality_index"])
    assert row["active_partnerships"] == 1 and row["cat_long_lease_share"] == 1.0
    assert table.set_index("directorate").loc[CHILDREN, "participation_per_1000"] == 0.0


def test_table_by_neighbourhood_and_ward(con):
    hoods = kpis.kpi_table(con, Q, "neighbourhood").set_index("neighbourhood")
    assert hoods.index.tolist() == ["North", "South"]
    # South = W3 + W4, 2000 residents: ASC's line 100k/50k; 10 participants -> 5.0.
    assert hoods.loc["South", "devolved_budget_share"] == 0.5
    assert hoods.loc["South", "participation_per_1000"] == pytest.approx(5.0)
    assert hoods.loc["North", "engagement_equality_index"] == pytest.approx(0.9)
    wards = kpis.kpi_table(con, Q, "ward").set_index("ward_code")
    assert wards.index.tolist() == [W1, W2, W3, W4]
    # W1 30/1000 = 30; W2 20/2000 = 10; W3 10/500 = 20; W4 0.
    assert wards["participation_per_1000"].tolist() == pytest.approx([30.0, 10.0, 20.0, 0.0])
    assert wards["active_partnerships"].tolist() == [1, 1, 1, 0]
    assert wards["new_partnerships"].tolist() == [0, 1, 0, 0]
    # W2: p_f 0.5 vs q_f 0.6 -> 0.9
    assert wards.loc[W2, "engagement_equality_index"] == pytest.approx(0.9)


def test_table_rejects_unknown_breakdown(con):
    with pytest.raises(ValueError, match="council, directorate"):
        kpis.kpi_table(con, Q, "parish")


@pytest.mark.parametrize("by", ["council", "directorate", "ward"])
def test_kpi_tables_of_several_quarters_are_each_quarters_kpi_table(con, by):
    together = kpis.kpi_tables(con, [Q1, Q], by)
    apart = pd.concat([kpis.kpi_table(con, Q1, by), kpis.kpi_table(con, Q, by)], ignore_index=True)
    pd.testing.assert_frame_equal(together, apart)


def test_quarters_with_data(con):
    assert kpis.quarters_with_data(con) == [Q1, Q]


# Breakdowns --------------------------------------------------------------------------------------


def test_budget_by_mechanism(con):
    frame = kpis.budget_by_mechanism(con, Scope((Q,))).set_index("mechanism")
    # PB: 20k + 50k = 70k of 500k (0.14) and of 80k devolved (0.875); grants 10k.
    assert frame.loc["participatory_budgeting", "devolved_gbp"] == 70_000
    assert frame.loc["participatory_budgeting", "share_of_budget"] == pytest.approx(0.14)
    assert frame.loc["participatory_budgeting", "share_of_devolved"] == pytest.approx(0.875)
    assert frame.loc["community_grants", "budget_lines"] == 1
    assert frame.loc["vcse_commissioning", "devolved_gbp"] == 0
    assert len(frame) == 6


def test_engagement_by_method_stage(con):
    frame = kpis.engagement_by_method_stage(con, Scope((Q,), neighbourhoods=("North",)))
    assert len(frame) == 8 * 5
    hit = frame[frame["activities"] > 0]
    # North: A1 workshop/priority_setting (30), A2 codesign/options (20); A3 is borough-wide.
    assert sorted(zip(hit["method"], hit["stage"], hit["participants"], strict=True)) == [
        ("codesign", "options", 20), ("workshop", "priority_setting", 30)]  # fmt: skip


def test_partnerships_by_type(con):
    frame = kpis.partnerships_by_type(con, Scope((Q,))).set_index("partner_type")
    assert frame["partnerships"].sum() == 4
    assert frame.loc["vcse", "partnerships"] == 1
    assert frame.loc["parish_town_council", "new_partnerships"] == 1
    assert frame.loc["faith_group", "cat_long_lease"] == 1
    assert frame.loc["community_business", "cat_long_lease"] == 0


def test_partnerships_by_arrangement(con):
    frame = kpis.partnerships_by_arrangement(con, Scope((Q,))).set_index("arrangement")
    # Place P1 coproduction; Place P2 (30y), Place P3 (10y) and ASC P1 (25y) asset transfers.
    assert frame.index.tolist() == ["community_asset_transfer", "service_delivery", "coproduction",
                                    "grant_funding", "neighbourhood_governance", "other"]
    assert frame.loc["community_asset_transfer", ["partnerships", "new_partnerships", "cat_long_lease"]].tolist() == [3, 2, 2]
    assert frame.loc["coproduction", "partnerships"] == 1
    assert frame.loc["grant_funding", "partnerships"] == 0


# Every SQL file is executed ----------------------------------------------------------------------

_PARAMS = Scope((Q,)).params()
_EXTRA = {
    "targets.sql": {"financial_year": "2025-26", "directorate": None},
    "partnerships_by_type.sql": {"group_by": "arrangement", "categories": ["coproduction"]},
}


@pytest.mark.parametrize("name", sql_files())
def test_every_sql_file_runs(con, name):
    from kpis.engine import load_sql

    _, names = load_sql(name)
    params = {k: v for k, v in {**_PARAMS, **_EXTRA.get(name, {})}.items() if k in names}
    frame = run_sql(con, name, **params)
    assert isinstance(frame, pd.DataFrame)
    assert len(frame.columns) > 0
