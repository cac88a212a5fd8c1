"""Over time: value, previous quarter, change, four-quarter rolling value, same quarter last year.

One ward (1,000 residents), one directorate. Budget (total, devolved) per quarter:

2024-25 Q1 100/10 (0.1)  Q2 100/20 (0.2)  Q3 200/20 (0.1)  Q4 100/50 (0.5)
2025-26 Q1 400/40 (0.1)  Q2 100/30 (0.3)
Engagement: 10 participants in 2025-26 Q1, 20 in 2025-26 Q2.
"""

from __future__ import annotations

import math

import pytest

import kpis
from etl.contract import KPI_NAMES
from etl.quarters import (
    financial_year,
    last_quarters,
    previous_quarter,
    quarter_end,
    quarter_of_date,
    quarter_start,
    quarters_between,
    same_quarter_last_year,
    shift_quarter,
)
from kpis import Scope
from tests.conftest_kpis import Warehouse

pytestmark = pytest.mark.usefixtures("kpi_backend")  # every test on both backends

W1 = "E05000001"
BUDGET = {
    "2024-25 Q1": (100, 10),
    "2024-25 Q2": (100, 20),
    "2024-25 Q3": (200, 20),
    "2024-25 Q4": (100, 50),
    "2025-26 Q1": (400, 40),
    "2025-26 Q2": (100, 30),
}


@pytest.fixture
def con():
    wh = Warehouse()
    wh.ward(W1, "Abbey", "North", 1000)
    wh.directorate("D")
    for quarter, (total, devolved) in BUDGET.items():
        wh.budget("D", quarter, {"budget_line": "L", "ward_code": W1, "total_budget_gbp": total,
                                 "devolved_gbp": devolved, "mechanism": "community_grants"})  # fmt: skip
    wh.engagement("D", "2025-26 Q1", {"ward_code": W1, "participants_total": 10})
    wh.engagement("D", "2025-26 Q2", {"ward_code": W1, "participants_total": 20})
    return wh.con


def trend(con, kpi, quarters):
    frame = kpis.kpi_trend(con, Scope(("2025-26 Q2",)), quarters)
    return frame[frame["kpi"] == kpi].set_index("quarter")


def test_trend_shape(con):
    frame = kpis.kpi_trend(con, Scope(("2025-26 Q2",)), ["2024-25 Q4", "2025-26 Q1"])
    assert list(frame.columns) == [
        "quarter", "kpi", "value", "previous", "change", "rolling_4q", "same_quarter_last_year",
        "complete", "previous_complete", "comparable", "completeness",
    ]  # fmt: skip
    assert len(frame) == 2 * len(KPI_NAMES)


def test_devolved_share_over_time(con):
    t = trend(con, "devolved_budget_share", ["2024-25 Q4", "2025-26 Q1", "2025-26 Q2"])
    assert t["value"].tolist() == pytest.approx([0.5, 0.1, 0.3])
    assert t["previous"].tolist() == pytest.approx([0.1, 0.5, 0.1])
    assert t["change"].tolist() == pytest.approx([0.4, -0.4, 0.2])
    # Rolling: the KPI over the four quarters, sum over sum, not the mean of the ratios.
    # 2024-25 Q4: (10+20+20+50)/(100+100+200+100) = 100/500 = 0.2 (mean of ratios: 0.225).
    # 2025-26 Q1: (20+20+50+40)/(100+200+100+400) = 130/800; Q2: (20+50+40+30)/800 = 140/800.
    assert t["rolling_4q"].tolist() == pytest.approx([0.2, 130 / 800, 140 / 800])
    # Same quarter last year: 2023-24 Q4 has no data; 2024-25 Q1 0.1; 2024-25 Q2 0.2.
    assert math.isnan(t.loc["2024-25 Q4", "same_quarter_last_year"])
    assert t["same_quarter_last_year"].tolist()[1:] == pytest.approx([0.1, 0.2])


def test_first_quarters_have_no_previous_or_rolling(con):
    t = trend(con, "devolved_budget_share", ["2024-25 Q1", "2024-25 Q3"])
    assert t["previous"].isna().tolist() == [True, False]
    assert t["change"].isna().tolist() == [True, False]
    assert t["rolling_4q"].isna().all()  # 2024-25 Q3's window reaches back into 2023-24


def test_participation_rolling_divides_by_population_once(con):
    t = trend(con, "participation_per_1000", ["2024-25 Q4", "2025-26 Q1", "2025-26 Q2"])
    # Quarters with data but no engagement return have 0 participants: 0.0, then 10.0 and 20.0.
    assert t["value"].tolist() == pytest.approx([0.0, 10.0, 20.0])
    # ... but 2024-25 Q4 has no engagement return, so it is incomplete: neither its change nor
    # 2025-26 Q1's (on an incomplete quarter) is a rise or fall. 2025-26 Q2: 20 - 10 = +10.
    assert t["complete"].tolist() == [False, True, True]
    assert t["comparable"].tolist() == [False, False, True]
    assert t["change"].isna().tolist() == [True, True, False]
    assert t.loc["2025-26 Q2", "change"] == pytest.approx(10.0)
    assert t.loc["2024-25 Q4", "completeness"] == (
        "D's engagement activity return not yet received. Not comparable with 2024-25 Q3: "
        "D's engagement activity return not yet received."
    )
    assert t.loc["2025-26 Q1", "completeness"] == (
        "D's engagement activity return received. Not comparable with 2024-25 Q4: "
        "D's engagement activity return not yet received."
    )
    # 2025-26 Q2's window: 0 + 0 + 10 + 20 = 30 over 1000 residents once -> 30.0 (not 7.5).
    assert t.loc["2025-26 Q2", "rolling_4q"] == pytest.approx(30.0)


def test_a_quarter_without_data_has_no_values(con):
    t = trend(con, "active_partnerships", ["2023-24 Q4", "2024-25 Q1"])
    assert math.isnan(t.loc["2023-24 Q4", "value"])  # no data: not a misleading 0
    assert t.loc["2024-25 Q1", "value"] == 0


def test_directorate_scope_is_kept(con):
    frame = kpis.kpi_trend(con, Scope(("2025-26 Q2",), ("Nobody",)), ["2025-26 Q2"])
    assert math.isnan(frame.set_index("kpi").loc["devolved_budget_share", "value"])


# Quarter arithmetic ------------------------------------------------------------------------------


def test_quarter_helpers():
    import datetime as dt

    assert previous_quarter("2025-26 Q1") == "2024-25 Q4"
    assert shift_quarter("2024-25 Q4", 1) == "2025-26 Q1"
    assert same_quarter_last_year("2025-26 Q2") == "2024-25 Q2"
    assert last_quarters("2025-26 Q2") == ("2024-25 Q3", "2024-25 Q4", "2025-26 Q1", "2025-26 Q2")
    assert quarters_between("2024-25 Q3", "2025-26 Q1") == [
        "2024-25 Q3",
        "2024-25 Q4",
        "2025-26 Q1",
    ]
    assert quarters_between("2025-26 Q1", "2024-25 Q3") == []
    assert quarter_start("2025-26 Q4") == dt.date(2026, 1, 1)
    assert quarter_end("2025-26 Q3") == dt.date(2025, 12, 31)
    assert quarter_end("2025-26 Q4") == dt.date(2026, 3, 31)
    assert quarter_of_date(dt.date(2026, 3, 31)) == "2025-26 Q4"
    assert quarter_of_date(dt.date(2025, 4, 1)) == "2025-26 Q1"
    assert financial_year("2099-00 Q1") == "2099-00"
    with pytest.raises(ValueError):
        financial_year("2025-27 Q1")
