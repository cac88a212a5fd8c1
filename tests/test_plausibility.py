"""Plausibility warnings: valid but hard-to-believe figures are queried, never rejected."""

from __future__ import annotations

import pandas as pd

from etl import warehouse
from etl.plausibility import history_warnings, participation_warnings
from tests.conftest import ENGAGEMENT_HEADER, submit_return

Q = "2025-26 Q2"
POPULATIONS = {"E05000001": ("Ashby", 1000), "E05000002": ("Castle Quay", 2000)}


def test_more_participants_than_residents_of_a_ward():
    frame = pd.DataFrame({"ward_code": ["E05000001", "E05000001", "E05000002", None],
                          "participants_total": [700, 500, 1999, 10]})
    out = participation_warnings(frame, POPULATIONS, 3000)
    # Ashby: 700 + 500 = 1,200 people of 1,000 residents = 1,200.0 per 1,000; Castle Quay's
    # 1,999 of 2,000 is 999.5 per 1,000, under the limit. All: 3,209 > 3,000 residents.
    assert out[0].startswith("Ashby (E05000001): 1,200 participants this quarter but 1,000 residents "
                             "(1,200.0 per 1,000 residents, above 1,000)")
    assert out[1].startswith("3,209 participants in all, more than the council's 3,000 residents (1,069.7 per 1,000)")
    assert len(out) == 2


def test_totals_far_from_the_directorate_s_history():
    past = {"total_budget_gbp": [1000.0, 3000.0, 2000.0], "devolved_gbp": [100.0, 100.0]}
    # Median total 2,000: 200,000 is 100 times it; devolved 1 is 1/100 of the median 100.
    out = history_warnings("budget", {"total_budget_gbp": 200_000, "devolved_gbp": 1}, past)
    assert out[0].startswith("The total budget is £200,000, 100 times the usual £2,000 (median of the last 3")
    assert out[1].startswith("The devolved budget is £1, 1/100 of the usual £100 (median of the last 2")
    # 99 times is a big quarter, not a slip: no warning; no history, no warning.
    assert history_warnings("budget", {"total_budget_gbp": 198_000}, past) == []
    assert history_warnings("budget", {"total_budget_gbp": 1e9}, {}) == []


def test_an_implausible_return_is_queried_then_stored_with_its_warning(council):
    row = f"Adults and Health,{Q},A1,2025-08-01,Ashby,survey,options,19045" + ",0" * 13 + ",yes\n"
    content = (ENGAGEMENT_HEADER + row).encode()
    kwargs = dict(return_type="engagement", directorate="Adults and Health", quarter=Q, content=content,
                  file_name="e.csv", user="lead")
    out = submit_return(council, **kwargs)
    assert out.status == "queried" and not out.ok and out.submission_id is None
    assert "19,045 participants this quarter but 1,000 residents (19,045.0 per 1,000" in out.warnings[0]
    with warehouse.read_only(council) as con:
        assert con.execute("SELECT count(*) FROM submissions WHERE return_type = 'engagement'").fetchone() == (0,)
    out = submit_return(council, **kwargs, accept_warnings=True)
    assert out.status == "accepted" and out.warnings
    with warehouse.read_only(council) as con:
        stored = con.execute("SELECT warnings FROM submissions WHERE submission_id = ?", [out.submission_id]).fetchone()
    assert stored[0] == "\n".join(out.warnings)
