"""Re-warding (loading a new ward set over returns on the old wards) leaves council and directorate
figures of earlier quarters as they were; see docs/ward-vintages.md for what is still to come."""

from __future__ import annotations

from pathlib import Path

from etl import warehouse
from kpis.engine import kpi_table
from tests.conftest import (
    BUDGET_HEADER,
    ENGAGEMENT_HEADER,
    PARTNERSHIPS_HEADER,
    WARDS_CSV,
    load_reference,
    submit_return,
)

RETURNS = {
    "budget": BUDGET_HEADER
    + "Place,2025-26 Q1,Parks,E05000001,1000,250,community_grants\n"
    + "Place,2025-26 Q1,Halls,E05000003,2000,500,participatory_budgeting\n"
    + "Place,2025-26 Q1,Roads,,1000,0,\n",
    "engagement": ENGAGEMENT_HEADER
    + "Place,2025-26 Q1,E-1,2025-05-01,E05000001,workshop,priority_setting,30,5,10,10,5,15,15,20,5,5,0,0,6,24,yes\n"
    + "Place,2025-26 Q1,E-2,2025-06-01,E05000002,survey,options,60,10,20,20,10,30,30,50,5,5,0,0,10,50,no\n"
    + "Place,2025-26 Q1,E-3,2025-06-02,,public_meeting,decision,15,0,5,5,5,8,7,15,0,0,0,0,3,12,yes\n",
    "partnerships": PARTNERSHIPS_HEADER
    + "Place,2025-26 Q1,P-1,Hall Trust,vcse,community_asset_transfer,E05000002,2025-04-10,,,30\n"
    + "Place,2025-26 Q1,P-2,Friends,residents_association,coproduction,E05000003,2020-01-01,,,\n",
}
# The same council after a boundary review: three new ward codes, the same 6,000 residents.
NEW_WARDS = WARDS_CSV.replace("E05000001,Ashby", "E05000011,Ashby North").replace(
    "E05000002,Castle Quay", "E05000012,Castle Quay and Mill").replace("E05000003,Dunmore", "E05000013,Dunmore East")

ADDITIVE_AND_SHARES = ("devolved_budget_share", "pb_share", "participation_per_1000", "early_engagement_share",
                       "feedback_rate", "active_partnerships", "new_partnerships", "cat_long_lease_share")


def tables(db: Path) -> dict[str, list[dict]]:
    with warehouse.read_only(db) as con:
        frames = {by: kpi_table(con, "2025-26 Q1", by) for by in ("council", "directorate")}
    # undefined KPIs (NaN) as None, so two undefined values compare equal
    return {by: f.astype(object).where(f.notna(), None).to_dict("records") for by, f in frames.items()}


def test_rewarding_keeps_council_and_directorate_figures(council: Path):
    for rtype, text in RETURNS.items():
        out = submit_return(council, return_type=rtype, directorate="Place", quarter="2025-26 Q1",
                            content=text.encode(), file_name=f"{rtype}.csv", user="lead")
        assert out.ok, out.problems
    before = tables(council)
    # Worked example, council, 2025-26 Q1: devolved 750 of 4,000 = 0.1875; PB 500 / 4,000 = 0.125;
    # participation 1000 * (30 + 60 + 15) / 6,000 = 17.5; early 1 of 3; feedback 2 of 3;
    # 2 partnerships, 1 new (P-1 from 2025-04-10); the one transfer has a 30-year lease.
    c = before["council"][0]
    assert (c["devolved_budget_share"], c["pb_share"], c["participation_per_1000"]) == (0.1875, 0.125, 17.5)
    assert (c["active_partnerships"], c["new_partnerships"], c["cat_long_lease_share"]) == (2, 1, 1.0)
    out = load_reference(council, kind="wards", content=NEW_WARDS.encode(), file_name="wards-2026.csv", user="admin")
    assert out.ok, out.problems
    assert any("name ward(s) not in this file" in w and "still count in council and directorate figures" in w
               for w in out.warnings)
    after = tables(council)
    for by in ("council", "directorate"):
        for old, new in zip(before[by], after[by], strict=True):
            assert {k: old[k] for k in ADDITIVE_AND_SHARES} == {k: new[k] for k in ADDITIVE_AND_SHARES}, by
            # The equality index stays defined; rows on the old wards now take the council's
            # population shares (like a borough-wide activity) until ward history is kept.
            assert (old["engagement_equality_index"] is None) == (new["engagement_equality_index"] is None)
    with warehouse.read_only(council) as con:
        wards = kpi_table(con, "2025-26 Q1", "ward")
    # The new wards have no returns of their own: nothing is moved onto them.
    assert list(wards.ward_code) == ["E05000011", "E05000012", "E05000013"]
    assert (wards.participation_per_1000 == 0).all() and wards.devolved_budget_share.isna().all()
