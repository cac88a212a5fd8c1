"""Engagement equality in depth and the deprivation split, pinned by hand-computed examples.

Two wards (directorate D, quarter 2025-26 Q2):

                 W1 (IMD 1)            W2 (IMD 5)            council (W1 + W2)
age              100/300/400/200       200/200/300/300       300/500/700/500 -> .15/.25/.35/.25
sex (f/m)        500/500               600/400               1100/900 -> .55/.45
ethnicity        800/100/50/30/20      600/200/100/50/50     1400/300/150/80/70
                 (white/asian/black/mixed/other)              -> .7/.15/.075/.04/.035
disability       200/800               100/900               300/1700
population       1000                  1000

Activities:
A1 W1, 50 people: age 0/10/20/10 (10 unknown), f30 m20, white 40 asian 10, disability unknown
A2 W2, 20 people: age 10/10/0/0, f10 m10, ethnicity unknown, disabled 5 not 15
A3 borough-wide, 30 people: age unknown, f15 m15, white 10 black 10 mixed 10, disability unknown
"""

from __future__ import annotations

import pytest

import kpis
from etl.contract import DIMENSIONS
from kpis import Scope
from kpis.engine import load_sql
from tests.conftest_kpis import Warehouse

pytestmark = pytest.mark.usefixtures("kpi_backend")  # every test on both backends

Q = "2025-26 Q2"
W1, W2 = "E05000001", "E05000002"


def build() -> Warehouse:
    wh = Warehouse()
    wh.ward(W1, "Abbey", "North", 1000, imd_decile=1,
            age_16_24=100, age_25_44=300, age_45_64=400, age_65_plus=200, female=500, male=500,
            ethnicity_white=800, ethnicity_asian=100, ethnicity_black=50, ethnicity_mixed=30,
            ethnicity_other=20, disabled=200, not_disabled=800)  # fmt: skip
    wh.ward(W2, "Bridge", "South", 1000, imd_decile=5,
            age_16_24=200, age_25_44=200, age_45_64=300, age_65_plus=300, female=600, male=400,
            ethnicity_white=600, ethnicity_asian=200, ethnicity_black=100, ethnicity_mixed=50,
            ethnicity_other=50, disabled=100, not_disabled=900)  # fmt: skip
    wh.directorate("D")
    wh.engagement(
        "D", Q,
        {"ward_code": W1, "participants_total": 50, "age_25_44": 10, "age_45_64": 20,
         "age_65_plus": 10, "female": 30, "male": 20, "ethnicity_white": 40,
         "ethnicity_asian": 10},
        {"ward_code": W2, "participants_total": 20, "age_16_24": 10, "age_25_44": 10,
         "female": 10, "male": 10, "disabled": 5, "not_disabled": 15},
        {"participants_total": 30, "female": 15, "male": 15, "ethnicity_white": 10,
         "ethnicity_black": 10, "ethnicity_mixed": 10},
    )  # fmt: skip
    return wh


@pytest.fixture
def con():
    return build().con


# Age: counts 10/20/20/10, known 60 -> p = 1/6, 1/3, 1/3, 1/6.
#   q = (40 * W1 share + 20 * W2 share) / 60 (A3 has no known age):
#   16-24 (4+4)/60 = 8/60; 25-44 (12+4)/60 = 16/60; 45-64 (16+6)/60 = 22/60; 65+ (8+6)/60 = 14/60.
#   |p - q| = 2/60 + 4/60 + 2/60 + 4/60 = 12/60 = 0.2 -> EEI_age = 0.9.
# Sex: f 55, m 45, known 100; q_f = (50*0.5 + 20*0.6 + 30*0.55)/100 = 0.535 -> EEI = 1 - 0.015.
# Ethnicity: white 50, asian 10, black 10, mixed 10, other 0; known 80 (A1 50, A3 30).
#   q_white = (50*.8 + 30*.7)/80 = 61/80; asian (5 + 4.5)/80; black (2.5 + 2.25)/80;
#   mixed (1.5 + 1.2)/80; other (1 + 1.05)/80.
#   sum |p - q| = (11 + 0.5 + 5.25 + 7.3 + 2.05)/80 = 26.1/80 = 0.32625 -> EEI = 0.836875.
# Disability: disabled 5, not 15, known 20; q_disabled = W2's 0.1 -> |.25 - .1| * 2 -> EEI 0.85.
# Index = (0.9 + 0.985 + 0.836875 + 0.85) / 4 = 0.89296875.
EXPECTED = {
    # group: (participants, known, p, q)
    "age_16_24": (10, 60, 10 / 60, 8 / 60),
    "age_25_44": (20, 60, 20 / 60, 16 / 60),
    "age_45_64": (20, 60, 20 / 60, 22 / 60),
    "age_65_plus": (10, 60, 10 / 60, 14 / 60),
    "female": (55, 100, 0.55, 0.535),
    "male": (45, 100, 0.45, 0.465),
    "ethnicity_white": (50, 80, 50 / 80, 61 / 80),
    "ethnicity_asian": (10, 80, 10 / 80, 9.5 / 80),
    "ethnicity_black": (10, 80, 10 / 80, 4.75 / 80),
    "ethnicity_mixed": (10, 80, 10 / 80, 2.7 / 80),
    "ethnicity_other": (0, 80, 0.0, 2.05 / 80),
    "disabled": (5, 20, 0.25, 0.1),
    "not_disabled": (15, 20, 0.75, 0.9),
}
EEI = {"age": 0.9, "sex": 0.985, "ethnicity": 0.836875, "disability": 0.85}


def test_breakdown_matches_hand_computation(con):
    frame = kpis.equality_breakdown(con, Scope((Q,)))
    assert list(frame.columns) == [
        "dimension", "group", "group_label", "participants", "known", "p_share", "q_share",
        "ratio", "under_represented", "low_base", "eei", "left_out",
    ]  # fmt: skip
    assert frame["group"].tolist() == [g for groups in DIMENSIONS.values() for g in groups]
    for row in frame.itertuples():
        participants, known, p, q = EXPECTED[row.group]
        assert (row.participants, row.known) == (participants, known), row.group
        assert row.p_share == pytest.approx(p), row.group
        assert row.q_share == pytest.approx(q), row.group
        assert row.ratio == pytest.approx(p / q), row.group
        assert row.eei == pytest.approx(EEI[row.dimension]), row.group
    assert frame.set_index("group").loc["female", "group_label"] == "Female"


def test_flags(con):
    frame = kpis.equality_breakdown(con, Scope((Q,))).set_index("group")
    # r < 0.8: 65+ (10/14 = 0.714) and other ethnic group (0). White is 0.625/0.7625 = 0.8197:
    # not flagged; not disabled 0.75/0.9 = 0.833: not flagged.
    assert sorted(frame.index[frame["under_represented"]]) == ["age_65_plus", "ethnicity_other"]
    # Low base: fewer than 30 known participants -> only disability (20).
    assert sorted(frame.index[frame["low_base"]]) == ["disabled", "not_disabled"]


def test_index_is_the_mean_of_the_dimensions(con):
    assert kpis.kpi_values(con, Scope((Q,)))["engagement_equality_index"] == pytest.approx(
        0.89296875
    )


def test_ward_scope_uses_only_its_activities(con):
    # W2 alone: A2. Age p = .5/.5/0/0, q = W2's .2/.2/.3/.3 -> sum |p-q| = .3+.3+.3+.3 = 1.2 ->
    # 0.4. Sex p .5 vs q .6 -> 0.9. Ethnicity: none known -> undefined. Disability p .25 vs .1 ->
    # 0.85. Index = (0.4 + 0.9 + 0.85) / 3.
    frame = kpis.equality_breakdown(con, Scope((Q,), wards=(W2,)))
    eei = frame.drop_duplicates("dimension").set_index("dimension")["eei"]
    assert eei["age"] == pytest.approx(0.4)
    assert eei.isna()["ethnicity"]
    assert kpis.kpi_values(con, Scope((Q,), wards=(W2,)))[
        "engagement_equality_index"
    ] == pytest.approx((0.4 + 0.9 + 0.85) / 3)


def test_no_known_group_anywhere_is_undefined():
    wh = build()
    # A quarter whose only activity records nobody's group: every dimension undefined.
    wh.engagement("D", "2025-26 Q3", {"ward_code": W1, "participants_total": 12})
    scope = Scope(("2025-26 Q3",))
    assert kpis.kpi_values(wh.con, scope)["engagement_equality_index"] is None
    frame = kpis.equality_breakdown(wh.con, scope)
    assert frame["eei"].isna().all() and frame["p_share"].isna().all()
    assert frame["low_base"].all() and not frame["under_represented"].any()
    assert (frame["known"] == 0).all()


def test_empty_scope_still_lists_every_group(con):
    frame = kpis.equality_breakdown(con, Scope(("2030-31 Q1",)))
    assert len(frame) == 13 and (frame["participants"] == 0).all()


def test_ward_without_population_for_a_dimension_is_left_out_of_it():
    wh = Warehouse()
    wh.ward(W1, "Abbey", "North", 100, female=50, male=50)  # no age, ethnicity, disability data
    wh.ward(W2, "Bridge", "North", 100, female=40, male=60, age_16_24=100)
    wh.directorate("D")
    # A1 in W1 records ages, but W1 has no age population: left out of the age dimension.
    wh.engagement("D", Q,
                  {"ward_code": W1, "participants_total": 10, "age_16_24": 10, "female": 10},
                  {"ward_code": W2, "participants_total": 10, "age_16_24": 10, "male": 10})  # fmt: skip
    frame = kpis.equality_breakdown(wh.con, Scope((Q,))).set_index("group")
    # Age: only A2 counts -> p = q = 1 for 16-24 -> EEI 1. Sex: f 10 m 10, q_f = (10*.5 + 10*.4)/20
    # = 0.45 -> EEI = 1 - 0.05 = 0.95. Index (1 + 0.95)/2.
    assert frame.loc["age_16_24", "known"] == 10
    assert frame.loc["age_16_24", "eei"] == pytest.approx(1.0)
    assert frame.loc["female", "q_share"] == pytest.approx(0.45)
    assert kpis.kpi_values(wh.con, Scope((Q,)))["engagement_equality_index"] == pytest.approx(0.975)


def unknown_age_warehouse() -> Warehouse:
    """Abbey's age populations are blank (not known); Bridge knows everything."""
    wh = Warehouse()
    wh.ward(W1, "Abbey", "North", 1000, female=500, male=500, ethnicity_white=1000,
            disabled=200, not_disabled=800,
            age_16_24=None, age_25_44=None, age_45_64=None, age_65_plus=None)  # fmt: skip
    wh.ward(W2, "Bridge", "North", 1000, age_16_24=200, age_25_44=300, age_45_64=300,
            age_65_plus=200, female=500, male=500, ethnicity_white=1000, disabled=200,
            not_disabled=800)  # fmt: skip
    wh.directorate("D")
    wh.engagement(
        "D", Q,
        {"ward_code": W1, "participants_total": 20, "age_25_44": 20, "female": 10, "male": 10},
        {"ward_code": W2, "participants_total": 10, "age_16_24": 10, "female": 10},
        {"participants_total": 30, "age_65_plus": 30},  # borough-wide
    )  # fmt: skip
    return wh


def test_a_blank_population_is_unknown_and_its_dimension_left_out():
    con = unknown_age_warehouse().con
    assert con.execute("SELECT pop_age_16_24 FROM wards WHERE ward_code = ?", [W1]).fetchone() == (None,)
    frame = kpis.equality_breakdown(con, Scope((Q,))).set_index("group")
    # Age: Abbey's activity (20 of known age) is left out. Bridge's 10 use Bridge's shares; the
    # borough-wide 30 use the council's shares over the wards that know age: Bridge only,
    # .2/.3/.3/.2. known 40: p = .25/0/0/.75; |p - q| = .05 + .3 + .3 + .55 = 1.2 -> EEI 0.4.
    assert frame.loc["age_16_24", ["participants", "known", "left_out"]].tolist() == [10, 40, 0]
    assert frame.loc["age_25_44", ["participants", "left_out"]].tolist() == [0, 20]
    assert frame.loc["age_65_plus", "q_share"] == pytest.approx(0.2)
    assert frame.loc["age_16_24", "eei"] == pytest.approx(0.4)
    # Sex: 20 female, 10 male of 30, q 0.5 everywhere -> 1 - 0.5 * (1/6 + 1/6) = 5/6.
    assert frame.loc["female", "eei"] == pytest.approx(5 / 6)
    # Ethnicity and disability: nobody's group recorded. Index = (0.4 + 5/6) / 2.
    assert kpis.kpi_values(con, Scope((Q,)))["engagement_equality_index"] == pytest.approx(
        (0.4 + 5 / 6) / 2
    )
    coverage = kpis.equality_coverage(con, Scope((Q,))).set_index("dimension")
    assert coverage["covered"].to_dict() == {
        "age": True, "sex": True, "ethnicity": False, "disability": False,
    }  # fmt: skip
    assert coverage.loc["age", "unknown_ward_names"] == ("Abbey",)
    assert coverage.loc["age", "words"] == (
        "Age: in the index (40 participants of known age); 20 more at activities in wards with "
        "no age figures for Abbey are left out."
    )
    assert coverage.loc["ethnicity", "words"] == (
        "Ethnicity: not in the index: no participant's ethnicity is recorded."
    )


def test_a_ward_without_age_figures_names_the_dimensions_its_index_covers():
    con = unknown_age_warehouse().con
    scope = Scope((Q,), wards=(W1,))
    coverage = kpis.equality_coverage(con, scope)
    assert coverage.set_index("dimension")["covered"].to_dict() == {
        "age": False, "sex": True, "ethnicity": False, "disability": False,
    }  # fmt: skip
    assert kpis.index_coverage_words(coverage) == (
        "The engagement equality index covers sex; left out: age (no age figures for Abbey); "
        "ethnicity (no participant's ethnicity is recorded); disability (no participant's "
        "disability is recorded)."
    )
    # Age is not shown as 0 participants of each group: nobody is counted and 20 are left out.
    frame = kpis.equality_breakdown(con, scope)
    age = frame[frame["dimension"] == "age"]
    assert age["known"].eq(0).all() and age["left_out"].sum() == 20
    assert kpis.kpi_values(con, scope)["engagement_equality_index"] == pytest.approx(1.0)


def test_sql_dimensions_match_the_contract():
    text, _ = load_sql("equality.sql")
    for dimension, groups in DIMENSIONS.items():
        for group in groups:
            assert f"('{dimension}', '{group}'," in text


# Deprivation -------------------------------------------------------------------------------------


def test_deprivation_split(con):
    # Most deprived: W1 (decile 1): A1's 50 over 1000 -> 50.0. Other: W2: 20/1000 -> 20.0.
    # A3 is borough-wide: in neither band.
    frame = kpis.deprivation_split(con, Scope((Q,)))
    assert frame["band"].tolist() == ["Most deprived (IMD decile 1-2)", "Other wards"]
    assert frame["participants"].tolist() == [50, 20]
    assert frame["population"].tolist() == [1000, 1000]
    assert frame["participation_per_1000"].tolist() == pytest.approx([50.0, 20.0])


def test_deprivation_split_in_a_scope_without_deprived_wards(con):
    frame = kpis.deprivation_split(con, Scope((Q,), wards=(W2,)))
    assert frame["population"].tolist() == [0, 1000]
    assert frame["participation_per_1000"].isna().tolist() == [True, False]


def test_deprivation_split_is_empty_without_imd():
    wh = Warehouse()
    wh.ward(W1, "Abbey", "North", 1000)
    frame = kpis.deprivation_split(wh.con, Scope((Q,)))
    assert frame.empty
    assert "participation_per_1000" in frame.columns


def test_the_wards_file_reads_a_blank_pop_count_as_not_known():
    from etl.contract import POPULATION_COLUMNS
    from etl.reference import store_reference

    header = "ward_code,ward_name,neighbourhood,population_total," + ",".join(POPULATION_COLUMNS)
    known = ",".join(["10"] * len(POPULATION_COLUMNS))
    blank_age = ",".join([""] * 4 + ["10"] * (len(POPULATION_COLUMNS) - 4))
    text = f"{header}\n{W1},Abbey,North,100,{blank_age}\n{W2},Bridge,North,100,{known}\n"
    wh = Warehouse()
    out = store_reference(wh.writer, kind="wards", content=text.encode(), file_name="w.csv", user="admin")
    assert out.ok, (out.message, out.problems)
    rows = wh.con.execute("SELECT ward_code, pop_age_16_24, pop_female FROM wards ORDER BY 1").fetchall()
    assert rows == [(W1, None, 10), (W2, 10, 10)]
