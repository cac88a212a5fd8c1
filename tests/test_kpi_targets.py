"""Targets and RAG with polarity, the four-pillar scorecard and the directorate league.

Values come from the worked example in tests/conftest_kpis.py (council, 2025-26 Q2):
devolved 0.16, PB 0.14, participation 22.0, EEI 0.9025, early 0.5, feedback 0.5, active 4, new 2,
long-lease 2/3. Place: devolved 0.075, PB 0.05, active 3.
"""

from __future__ import annotations

import pandas as pd
import pytest

import kpis
from etl.contract import KPI_NAMES
from kpis import methodology as m
from kpis import rag
from tests.conftest_kpis import ASC, CHILDREN, PLACE, Q, build_example

pytestmark = pytest.mark.usefixtures("kpi_backend")  # every test on both backends


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


def test_a_return_not_received_is_not_a_zero(con):
    # Children's Services sent no return: no value (not 0) and 'Not received', whatever the target.
    frame = kpis.rag_status(con, Q, CHILDREN).set_index("kpi")
    assert frame.loc["pb_share", "label"] == "Not received"
    assert frame.loc["pb_share", "status"] == "grey"
    assert pd.isna(frame.loc["active_partnerships", "value"])
    assert frame.loc["participation_per_1000", "label"] == "Not received"
    assert not frame["complete"].any()
    assert frame.loc["active_partnerships", "completeness"] == (
        "Children's Services' partnership register not yet received."
    )
    # The council's figures are incomplete (2 of 3 returns) but judged on what is in, and say so.
    council = kpis.rag_status(con, Q).set_index("kpi")
    assert council.loc["active_partnerships", ["value", "status"]].tolist() == [4.0, "green"]
    assert council.loc["active_partnerships", "completeness"] == (
        "2 of 3 directorates' partnership registers received; missing: Children's Services."
    )


def test_undefined_value_is_grey_no_data():
    wh = build_example()
    wh.budget(CHILDREN, Q)  # a nil return: received, nothing to divide by
    frame = kpis.rag_status(wh.con, Q, CHILDREN).set_index("kpi")
    assert (frame.loc["pb_share", "status"], frame.loc["pb_share", "label"]) == ("grey", "No data")
    assert frame.loc["pb_share", "complete"]


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
    # Place: devolved green (own), PB red (0.05 vs 0.15), participation grey (additive: the
    # council's 20 does not apply), EEI grey, early 2/3 vs 0.6 lower-is-better: 0.667 <= 0.66? no
    # -> red; feedback 2/3 vs 0.45 -> red; counts and long-lease: grey (additive, no own targets).
    place = frame.loc[PLACE]
    assert (place["green"], place["amber"], place["red"], place["grey"]) == (1, 0, 3, 5)
    assert (frame[["green", "amber", "red", "grey"]].sum(axis=1) == 9).all()
    # Assessed = KPIs with a target and a value. Place: 4, score (1 - 3) / 4 = -0.5.
    # ASC: devolved 0.5 vs 0.2 green, PB 0.5 vs 0.15 green, early 0/1 = 0 <= 0.6 green,
    # feedback 0 <= 0.45 green: 4 assessed, score 1. Children: every share undefined (no rows),
    # every additive KPI without its own target: not assessed.
    assert frame["assessed"].to_dict() == {ASC: 4, CHILDREN: 0, PLACE: 4}
    assert frame.loc[PLACE, "score"] == -0.5 and frame.loc[ASC, "score"] == 1.0
    # Two assessed: k = ceil(2 / 3) = 1, the lowest (Place) lags; Children is not assessed.
    assert frame["assessment"].to_dict() == {ASC: "", CHILDREN: "Not assessed", PLACE: "Lagging"}
    assert frame["lagging"].to_dict() == {ASC: False, CHILDREN: False, PLACE: True}
    assert frame["league_rank"].to_dict() == {ASC: 1, PLACE: 2, CHILDREN: 3}
    # Completeness per row; Children's counts are blank, not 0.
    assert frame.loc[CHILDREN, ["returns_received", "returns_expected"]].tolist() == [0, 3]
    assert frame.loc[CHILDREN, "returns_missing"] == (
        "Devolved budget return; Engagement activity return; Partnership register"
    )
    assert frame.loc[PLACE, "returns_missing"] == ""
    assert pd.isna(frame.loc[CHILDREN, "active_partnerships"])
    assert frame.loc[PLACE, "active_partnerships"] == 3


def test_directorate_without_its_own_participation_target_shows_no_target():
    """The issue's example: directorates' participation adds up to the council's, so a council
    target of 60 would put every directorate 'Off target' for ever."""
    wh = build_example()
    wh.target("participation_per_1000", 60)  # council: 22.0 -> red (22 < 54)
    wh.target("participation_per_1000", 15, directorate=PLACE)  # Place's own: 20.0 -> green
    con = wh.con
    # Additive: Place 100 + ASC 10 + Children 0 participants over the council's 5,000 residents
    # = 20.0 + 2.0 + 0.0 = 22.0, the council's figure.
    by = kpis.kpi_table(con, Q, "directorate").set_index("directorate")["participation_per_1000"]
    assert by.to_dict() == {ASC: 2.0, CHILDREN: 0.0, PLACE: 20.0}
    assert kpis.kpi_values(con, kpis.Scope((Q,)))["participation_per_1000"] == 22.0
    council = kpis.rag_status(con, Q).set_index("kpi").loc["participation_per_1000"]
    assert (council["status"], council["target"]) == ("red", 60)
    asc = kpis.rag_status(con, Q, ASC).set_index("kpi").loc["participation_per_1000"]
    assert (asc["status"], asc["label"], asc["icon"]) == ("grey", "No target", "○")
    assert pd.isna(asc["target"])
    place = kpis.rag_status(con, Q, PLACE).set_index("kpi").loc["participation_per_1000"]
    assert (place["status"], place["target"], place["target_source"]) == ("green", 15, "directorate")
    # The same for the partnership counts; a share still falls back to the council's target.
    assert [k.name for k in m.KPIS if k.additive] == [
        "participation_per_1000", "active_partnerships", "new_partnerships",
    ]  # fmt: skip
    assert not m.KPI_BY_NAME["feedback_rate"].additive


def test_no_targets_means_nobody_is_assessed_or_lagging():
    frame = kpis.directorate_league(build_example().con, Q).set_index("directorate")
    assert (frame["assessed"] == 0).all()
    assert frame["assessment"].tolist() == ["Not assessed"] * 3
    assert not frame["lagging"].any()
    assert frame["score"].isna().all()


def test_a_missing_value_never_ranks_as_best():
    wh = build_example()
    # Only feedback has a target: ASC 0 (red), Place 2/3 (green), Children undefined (no data).
    wh.target("feedback_rate", 0.5)
    frame = kpis.directorate_league(wh.con, Q).set_index("directorate")
    assert frame["assessed"].to_dict() == {ASC: 1, CHILDREN: 0, PLACE: 1}
    assert frame["league_rank"].to_dict() == {PLACE: 1, ASC: 2, CHILDREN: 3}
    assert frame["assessment"].to_dict() == {ASC: "Lagging", CHILDREN: "Not assessed", PLACE: ""}


def test_all_level_means_none_lagging():
    league = pd.DataFrame({"directorate": ["A", "B", "C"], "green": [2, 2, 2],
                           "amber": [0, 0, 0], "red": [0, 0, 0]})  # fmt: skip
    out = kpis.league_assessment(league)
    assert out["lagging"].tolist() == [False] * 3
    assert out["league_rank"].tolist() == [1, 2, 3]  # level: by name


@pytest.mark.parametrize(
    ("value", "target", "unit", "direction", "shown", "status"),
    [
        # the example: an index of 0.9499 is shown as 0.95, so against 0.95 it is met
        (0.9499, 0.95, "index", "higher_is_better", "0.95", "green"),
        (0.9449, 0.95, "index", "higher_is_better", "0.94", "amber"),
        # a share of 0.14996 is shown as 15.0%: on a 15% target
        (0.14996, 0.15, "share", "higher_is_better", "0.15", "green"),
        (0.14949, 0.15, "share", "higher_is_better", "0.149", "amber"),
        # a rate of 19.96 is shown as 20.0; half away from zero: 17.95 -> 18.0 (amber edge)
        (19.96, 20, "rate", "higher_is_better", "20.0", "green"),
        (17.95, 20, "rate", "higher_is_better", "18.0", "amber"),
        (17.94, 20, "rate", "higher_is_better", "17.9", "red"),
        # lower is better, count: 10.4 partnerships shows as 10
        (10.4, 10, "count", "lower_is_better", "10.0", "green"),
    ],
)
def test_rag_is_decided_on_the_displayed_value(value, target, unit, direction, shown, status):
    assert str(m.display_round(value, unit)) == shown
    assert rag(value, target, direction, unit).status == status


def test_display_round_is_what_the_dashboard_shows():
    from dashboard import theme

    assert theme.fmt_kpi(0.9449, "index") == "0.94"
    assert theme.fmt_kpi(0.125, "index") == "0.13"  # half away from zero, as the RAG decides
    assert theme.fmt_kpi(0.12345, "share") == "12.3%"
    assert theme.fmt_kpi(0.0005, "share") == "0.1%"
    assert theme.fmt_kpi(17.95, "rate") == "18.0"
    assert m.display_round(None, "rate") is None
