"""Targets and RAG with polarity, the four-pillar scorecard and the directorate league.

Values come from the worked example in tests/conftest_kpis.py (council, 2025-26 Q2):
devolved 0.16, PB 0.14, participation 22.0, EEI 0.9025, early 0.5, feedback 0.5, active 4, new 2,
long-lease 2/3. Place: devolved 0.075, PB 0.05, active 3.
"""

from __future__ import annotations

import pytest

import kpis
from etl.contract import KPI_NAMES
from kpis import methodology as m
from kpis import rag
from tests.conftest_kpis import ASC, CHILDREN, PLACE, Q, build_example


@pytest.mark.parametrize(
    ("value", "target", "direction", "status"),
    [
        # higher_is_better, target 0.3: amber down to 0.27 (0.3 - 10% of 0.3)
        (0.35, 0.3, "higher_is_better", "green"),
        (0.3, 0.3, "higher_is_better", "green"),
        (
            0.27,
            0.3,
            "higher_is_better",
            "amber",
        ),  # exactly at the edge (0.3 * 0.9 != 0.27 in floats)
        (0.2699, 0.3, "higher_is_better", "red"),
        # lower_is_better, target 10: amber up to 11
        (5, 10, "lower_is_better", "green"),
        (10, 10, "lower_is_better", "green"),
        (11, 10, "lower_is_better", "amber"),
        (11.01, 10, "lower_is_better", "red"),
        # a target of 0: only meeting it is green, nothing is within 10% of 0
        (0, 0, "lower_is_better", "green"),
        (0.1, 0, "lower_is_better", "red"),
        # nothing to compare
        (None, 0.3, "higher_is_better", "grey"),
        (0.5, None, None, "grey"),
    ],
)
def test_rag(value, target, direction, status):
    assert rag(value, target, direction).status == status


def test_rag_labels_and_icons_always_go_with_the_colour():
    assert rag(None, 1.0, "higher_is_better").label == "No data"
    assert rag(1.0, None, None).label == "No target"
    seen = {(s.label, s.icon) for s in (*m.STATUSES.values(), m.NO_DATA)}
    assert len(seen) == 5 and all(label and icon for label, icon in seen)
    assert rag(0.95, 1.0, "higher_is_better").label == "Within 10%"


@pytest.fixture
def con():
    wh = build_example()
    # Council-wide, 2025-26:
    wh.target("devolved_budget_share", 0.2)  # 0.16 < 0.18 -> red
    wh.target("pb_share", 0.15)  # 0.14 >= 0.135 -> amber
    wh.target("participation_per_1000", 20)  # 22 -> green
    wh.target("early_engagement_share", 0.6, "lower_is_better")  # 0.5 <= 0.6 -> green
    wh.target("feedback_rate", 0.45, "lower_is_better")  # 0.5 <= 0.495? no -> red
    wh.target("active_partnerships", 4)  # 4 -> green
    wh.target("new_partnerships", 2.2, "lower_is_better")  # 2 -> green
    # Place's own target, and a target for another year that must be ignored.
    wh.target("devolved_budget_share", 0.07, directorate=PLACE)  # 0.075 -> green
    wh.target("cat_long_lease_share", 0.1, financial_year="2024-25")
    return wh.con


def test_council_rag(con):
    frame = kpis.rag_status(con, Q)
    assert frame["kpi"].tolist() == list(KPI_NAMES)
    status = dict(zip(frame["kpi"], frame["status"], strict=True))
    assert status == {
        "devolved_budget_share": "red",
        "pb_share": "amber",
        "participation_per_1000": "green",
        "engagement_equality_index": "grey",  # no target
        "early_engagement_share": "green",
        "feedback_rate": "red",
        "active_partnerships": "green",
        "new_partnerships": "green",
        "cat_long_lease_share": "grey",  # only a 2024-25 target
    }
    row = frame.set_index("kpi").loc["pb_share"]
    assert (row["label"], row["icon"], row["target"]) == ("Within 10%", "▲", 0.15)
    assert frame.set_index("kpi").loc["feedback_rate", "direction"] == "lower_is_better"
    assert frame.set_index("kpi").loc["cat_long_lease_share", "label"] == "No target"


def test_directorate_own_target_then_council_fallback(con):
    frame = kpis.rag_status(con, Q, PLACE).set_index("kpi")
    # Own target: 0.075 >= 0.07 -> green.
    assert frame.loc["devolved_budget_share", "status"] == "green"
    assert frame.loc["devolved_budget_share", "target_source"] == "directorate"
    # Falls back to the council's PB target 0.15: 0.05 -> red.
    assert frame.loc["pb_share", "target"] == 0.15
    assert frame.loc["pb_share", "target_source"] == "council"
    assert frame.loc["pb_share", "status"] == "red"
    # Counts do not fall back: the council's 4 partnerships is not Place's target.
    assert frame.loc["active_partnerships", "status"] == "grey"
    assert frame.loc["active_partnerships", "label"] == "No target"


def test_undefined_value_is_grey_no_data(con):
    frame = kpis.rag_status(con, Q, CHILDREN).set_index("kpi")
    assert frame.loc["pb_share", "label"] == "No data"
    assert frame.loc["pb_share", "status"] == "grey"
    # Children's participation is 0.0 (defined): red against 20.
    assert frame.loc["participation_per_1000", "status"] == "red"


def test_pillar_scorecard(con):
    frame = kpis.pillar_scorecard(con, Q)
    assert frame["pillar"].drop_duplicates().tolist() == [
        "relationships", "institutions", "capacity", "powers",
    ]  # fmt: skip
    assert sorted(frame["kpi"]) == sorted(KPI_NAMES)
    pillar = dict(zip(frame["kpi"], frame["pillar"], strict=True))
    assert pillar["devolved_budget_share"] == "powers"
    assert pillar["engagement_equality_index"] == "institutions"
    assert pillar["participation_per_1000"] == "capacity"
    assert pillar["feedback_rate"] == "relationships"
    assert {"pillar", "kpi", "title", "value", "status", "label"} <= set(frame.columns)


def test_directorate_league(con):
    frame = kpis.directorate_league(con, Q).set_index("directorate")
    assert frame.index.tolist() == [ASC, CHILDREN, PLACE]
    assert list(frame.columns[:1]) == ["quarter"]
    # Place: devolved green (own), PB red (0.05 vs 0.15), participation 20 green, EEI grey,
    # early 2/3 vs 0.6 lower-is-better: 0.667 <= 0.66? no -> red; feedback 2/3 vs 0.45 -> red;
    # counts and long-lease: grey (no own targets; counts do not fall back).
    place = frame.loc[PLACE]
    assert (place["green"], place["amber"], place["red"], place["grey"]) == (2, 0, 3, 4)
    assert (frame[["green", "amber", "red", "grey"]].sum(axis=1) == 9).all()
