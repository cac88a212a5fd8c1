"""Like-for-like comparators: a ward against 'all wards' on the same scope rule, the borough-wide
part separately, pinned by hand on the worked example of tests/conftest_kpis.py (2025-26 Q2).

Wards: Abbey W1 1,000 residents, Bridge W2 2,000, Castle W3 500, Dock W4 1,500 (5,000 in all).
Participants: Abbey 30, Bridge 20, Castle 10, borough-wide 50.
Budget: Abbey 100k (20k PB), Bridge 50k (10k grants), Castle 100k (50k PB), borough-wide 250k.
Partnerships: Abbey P1 (Place), Bridge P2 (asset transfer 30y, new), Castle P1 (ASC, asset
transfer 25y), borough-wide P3 (asset transfer 10y, new).
Activities: Abbey early + feedback, Bridge early (co-design), Castle neither, borough-wide feedback.
"""

from __future__ import annotations

import pytest

import kpis
from kpis import Scope
from kpis import methodology as m
from tests.conftest_kpis import PLACE, W1, Q, build_example


@pytest.fixture
def con():
    return build_example().con


def test_abbey_against_all_wards(con):
    frame = kpis.like_for_like(con, Scope((Q,), wards=(W1,))).set_index("kpi")
    assert frame.index.tolist() == [k.name for k in m.KPIS]
    row = frame.loc["participation_per_1000"]
    # Abbey 30 / 1,000 -> 30.0. All wards: 60 ward-attributed participants / 5,000 -> 12.0, not
    # the council's 22.0 (which includes the borough-wide 50). Borough-wide: 50 / 5,000 -> 10.0.
    assert (row["area"], row["all_wards"], row["borough_wide"], row["council"]) == (30.0, 12.0, 10.0, 22.0)
    assert row["difference"] == pytest.approx(18.0)
    pb = frame.loc["pb_share"]
    # PB: Abbey 20k / 100k = 0.2. All wards (20k + 50k) / 250k = 0.28: Abbey is 8 points BELOW
    # like for like, though 6 above the council's 70k / 500k = 0.14. Borough-wide: 0 / 250k.
    assert pb["area"] == pytest.approx(0.2)
    assert pb["all_wards"] == pytest.approx(0.28)
    assert pb["difference"] == pytest.approx(-0.08)
    assert pb["council"] == pytest.approx(0.14)
    assert pb["borough_wide"] == 0.0
    devolved = frame.loc["devolved_budget_share"]  # 80k / 250k; council 80k / 500k
    assert (devolved["all_wards"], devolved["council"]) == pytest.approx((0.32, 0.16))
    early = frame.loc["early_engagement_share"]  # wards: 2 of 3; borough-wide 0 of 1
    assert (early["area"], early["all_wards"], early["borough_wide"], early["council"]) == \
        pytest.approx((1.0, 2 / 3, 0.0, 0.5))
    feedback = frame.loc["feedback_rate"]  # wards: 1 of 3; borough-wide 1 of 1
    assert (feedback["all_wards"], feedback["borough_wide"]) == pytest.approx((1 / 3, 1.0))
    active = frame.loc["active_partnerships"]  # counts: 'x of y', no difference
    assert (active["area"], active["all_wards"], active["borough_wide"], active["council"]) == (1, 3, 1, 4)
    assert active["difference"] != active["difference"]
    cat = frame.loc["cat_long_lease_share"]  # wards: 2 of 2 long; borough-wide 0 of 1
    assert (cat["all_wards"], cat["borough_wide"], cat["council"]) == pytest.approx((1.0, 0.0, 2 / 3))
    # The index has no borough-wide part; all wards' is the index over ward activities only.
    eei = frame.loc["engagement_equality_index"]
    assert eei["borough_wide"] != eei["borough_wide"]
    assert eei["all_wards"] == kpis.kpi_values(con, kpis.all_wards_scope(con, Scope((Q,))))[
        "engagement_equality_index"
    ]


def test_all_wards_keeps_the_directorate_filter(con):
    frame = kpis.like_for_like(con, Scope((Q,), (PLACE,), wards=(W1,))).set_index("kpi")
    # Place's ward-attributed participants: 30 + 20 = 50 / 5,000 -> 10.0; borough-wide 50 -> 10.0.
    assert frame.loc["participation_per_1000", ["all_wards", "borough_wide", "council"]].tolist() == [
        10.0, 10.0, 20.0,
    ]  # fmt: skip


def test_council_is_all_wards_plus_borough_wide(con):
    frame = kpis.like_for_like(con, Scope((Q,), neighbourhoods=("North",)))
    for r in frame[frame["unit"].isin(["count", "rate"])].itertuples():
        assert r.all_wards + r.borough_wide == pytest.approx(r.council), r.kpi


def test_deprivation_bands_are_like_for_like(con):
    # Only ward-attributed activities count in either band (the borough-wide 50 in neither).
    frame = kpis.deprivation_split(con, Scope((Q,)))
    assert frame.empty  # no IMD deciles in this example
    wh = build_example()
    wh.writer.execute("UPDATE ward_reference SET imd_decile = CASE WHEN ward_code = ? THEN 1 ELSE 6 END", [W1])
    split = kpis.deprivation_split(wh.con, Scope((Q,)))
    assert split["participants"].tolist() == [30, 30]  # Abbey 30; Bridge 20 + Castle 10
    assert int(split["participants"].sum()) == 60  # = the all-wards participants
