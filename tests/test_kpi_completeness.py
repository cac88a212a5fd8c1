"""Completeness: which returns a figure needs, which are in, the words, and the overview's
returns position (current reporting quarter, overdue returns, age of the newest figures).

The worked example (tests/conftest_kpis.py) in 2025-26 Q2: Place and Adult Social Care sent all
three returns, Children's Services none. In 2025-26 Q1 only Place's budget return is in.
"""

from __future__ import annotations

import datetime as dt

import pytest

import kpis
from etl.quarters import DEFAULT_DEADLINE_AFTER, default_deadline
from kpis import Scope
from kpis.completeness import (
    completeness_frame,
    completeness_table,
    expected_returns,
    kpi_completeness,
    reporting_quarter,
    reporting_status,
)
from tests.conftest_kpis import ASC, CHILDREN, PLACE, Q1, W1, W2, Q, Warehouse, build_example

pytestmark = pytest.mark.usefixtures("kpi_backend")  # every test on both backends


@pytest.fixture
def con():
    return build_example().con


def test_expected_returns_are_every_directorate_by_return_type(con):
    frame = expected_returns(con, [Q])
    assert len(frame) == 3 * 3
    missing = frame[~frame["received"]]
    assert sorted(set(missing["directorate"])) == [CHILDREN]
    assert missing["return_type"].tolist() == ["budget", "engagement", "partnerships"]


def test_council_figure_is_incomplete_without_a_directorates_return(con):
    found = kpi_completeness(con, Scope((Q,)))
    assert set(found) == {k.name for k in kpis.KPIS}
    register = found["active_partnerships"]
    assert (register.received, register.expected, register.complete) == (2, 3, False)
    assert register.missing_directorates == (CHILDREN,)
    assert register.words == (
        "2 of 3 directorates' partnership registers received; missing: Children's Services."
    )
    # The family decides the return: budget KPIs need the budget return.
    assert found["pb_share"].return_type == "budget"
    assert found["engagement_equality_index"].return_type == "engagement"
    frame = completeness_frame(con, Scope((Q,))).set_index("kpi")
    assert frame.loc["feedback_rate", ["received", "expected", "complete"]].tolist() == [2, 3, False]
    assert frame.loc["feedback_rate", "missing_directorates"] == CHILDREN


def test_directorate_scope_needs_only_its_own_returns(con):
    place = kpi_completeness(con, Scope((Q,), (PLACE,)))["active_partnerships"]
    assert place.complete and place.words == "Place's partnership register received."
    children = kpi_completeness(con, Scope((Q,), (CHILDREN,)))["devolved_budget_share"]
    assert children.words == "Children's Services' devolved budget return not yet received."
    # Two quarters: every quarter's return is expected.
    both = kpi_completeness(con, Scope((Q1, Q), (PLACE,)))
    assert both["pb_share"].words == "All 2 devolved budget returns received for 2025-26 Q1 to 2025-26 Q2."
    assert both["feedback_rate"].words == (
        "1 of 2 engagement activity returns received for 2025-26 Q1 to 2025-26 Q2; "
        "missing: Place (2025-26 Q1)."
    )


def test_a_ward_figure_needs_every_directorates_return(con):
    ward = kpi_completeness(con, Scope((Q,), wards=(W1,)))["participation_per_1000"]
    assert (ward.received, ward.expected) == (2, 3)


def test_completeness_table_rows(con):
    by_d = completeness_table(con, Q, "directorate")
    assert list(by_d.columns[:2]) == ["directorate", "kpi"]
    assert len(by_d) == 3 * len(kpis.KPIS)
    children = by_d[by_d["directorate"] == CHILDREN]
    assert not children["complete"].any()
    assert by_d[by_d["directorate"] == ASC]["complete"].all()
    by_w = completeness_table(con, Q, "ward")
    assert sorted(by_w["ward_code"].unique())[:2] == [W1, W2]
    assert set(by_w["received"]) == {2}
    council = completeness_table(con, Q, "council")
    assert "ward_code" not in council.columns and len(council) == len(kpis.KPIS)


def test_a_missing_register_suppresses_the_councils_change():
    """The issue's example: a register not yet received must not read as a fall."""
    wh = Warehouse()
    wh.ward(W1, "Abbey", "North", 1000)
    for d in ("A", "B"):
        wh.directorate(d)
    # Q1: A has 3 partnerships, B has 2: 5 in all, both registers in.
    wh.partnerships("A", Q1, *({"partnership_id": f"A{i}"} for i in range(3)))
    wh.partnerships("B", Q1, *({"partnership_id": f"B{i}"} for i in range(2)))
    for d in ("A", "B"):
        wh.budget(d, Q1)
        wh.engagement(d, Q1)
        wh.budget(d, Q)
        wh.engagement(d, Q)
    # Q2: only A's register (3): the council shows 3, which is not a fall of 2.
    wh.partnerships("A", Q, *({"partnership_id": f"A{i}"} for i in range(3)))
    trend = kpis.kpi_trend(wh.con, Scope((Q,)), [Q1, Q]).set_index(["quarter", "kpi"])
    tile = trend.loc[(Q, "active_partnerships")]
    assert (tile["value"], tile["previous"]) == (3, 5)
    assert not tile["complete"] and not tile["comparable"]
    assert tile["change"] != tile["change"]  # NaN: no change presented
    assert tile["completeness"] == (
        "1 of 2 directorates' partnership registers received; missing: B."
    )
    # The budget return is in from both, so its (zero-line) change stands.
    assert trend.loc[(Q, "feedback_rate"), "comparable"]
    assert trend.loc[(Q1, "active_partnerships"), "complete"]


def test_default_deadline_is_one_rule():
    assert DEFAULT_DEADLINE_AFTER == dt.timedelta(weeks=6)
    assert default_deadline("2025-26 Q2") == dt.date(2025, 11, 11)  # 30 Sep + 42 days
    assert default_deadline("2025-26 Q4") == dt.date(2026, 5, 12)  # 31 Mar + 42 days


def test_reporting_quarter_from_today_and_deadlines():
    wh = build_example()
    # 20 Oct 2025: Q2 ended 30 Sep, Q1's default deadline (11 Aug) has passed -> Q2.
    assert reporting_quarter(wh.con, dt.date(2025, 10, 20)) == Q
    # 20 Jul 2025: Q1 ended; 2024-25 Q4's default deadline (12 May) passed -> Q1 ...
    assert reporting_quarter(wh.con, dt.date(2025, 7, 20)) == Q1
    # ... unless an administrator gave 2024-25 Q4 until 31 July.
    wh.writer.execute("INSERT INTO deadlines VALUES ('2024-25 Q4', DATE '2025-07-31')")
    assert reporting_quarter(wh.con, dt.date(2025, 7, 20)) == "2024-25 Q4"


def test_reporting_status_names_overdue_returns_and_the_age_of_the_figures(con):
    # 10 May 2026: 2025-26 Q4 (Jan-Mar) is the reporting quarter, due 12 May (default), nothing in.
    status = reporting_status(con, dt.date(2026, 5, 10))
    assert (status.quarter, status.due, status.due_source) == ("2025-26 Q4", dt.date(2026, 5, 12), "default")
    assert (status.received, status.expected) == (0, 9)
    # Overdue: Q1 (due 11 Aug 2025) 8 missing (all but Place's budget), Q2 (11 Nov) Children's 3,
    # Q3 (11 Feb 2026) all 9; Q4 is not yet due.
    counts = status.overdue.groupby("quarter").size().to_dict()
    assert counts == {Q1: 8, Q: 3, "2025-26 Q3": 9}
    q2 = status.overdue[status.overdue["quarter"] == Q]
    assert q2["directorate"].unique().tolist() == [CHILDREN]
    assert q2["due"].iloc[0] == dt.date(2025, 11, 11)
    assert q2["days_overdue"].iloc[0] == (dt.date(2026, 5, 10) - dt.date(2025, 11, 11)).days == 180
    # The newest figures are for Q2 (ended 30 Sep 2025): 2 quarters behind, 7 whole months old.
    assert (status.latest_with_data, status.quarters_behind, status.months_old) == (Q, 2, 7)
    words = status.words
    assert words[0] == (
        "Current reporting quarter: 2025-26 Q4. Returns are due by 12 May 2026 (the default "
        "deadline); 0 of 9 received."
    )
    assert words[1] == (
        "Overdue for 2025-26 Q1 (due 11 August 2025, 272 days ago): 8 returns: Adult Social "
        "Care: all 3 returns; Children's Services: all 3 returns; Place: Engagement activity "
        "return, Partnership register."
    )
    assert words[2] == (
        "Overdue for 2025-26 Q2 (due 11 November 2025, 180 days ago): 3 returns: "
        "Children's Services: all 3 returns."
    )
    assert words[3] == "Overdue for 2025-26 Q3 (due 11 February 2026, 88 days ago): all 9 returns."
    assert words[-1] == (
        "The newest figures are for 2025-26 Q2, 2 quarters before the current reporting quarter; "
        "that quarter ended 7 months ago (30 September 2025)."
    )


def test_reporting_status_when_nothing_has_arrived():
    wh = Warehouse()
    wh.directorate("A")
    status = reporting_status(wh.con, dt.date(2026, 12, 1))
    # 1 Dec 2026: 2026-27 Q2 ended 30 Sep; Q1's default deadline (11 Aug) passed.
    assert (status.quarter, status.received, status.expected) == ("2026-27 Q2", 0, 3)
    assert status.overdue["quarter"].tolist() == ["2026-27 Q2"] * 3  # due 11 Nov 2026: passed
    assert status.latest_with_data is None
    assert status.words[-1] == "No figures yet: no return has been received for any quarter."
