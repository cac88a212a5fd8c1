"""Cold spots: k = ceil(n / 5), every ward at most the k-th smallest value, ties all included.

Eight wards; W8 has no residents recorded, so it has no rate and is not ranked: n = 7, k = 2.

ward  population  participants (D1, Q2)  per 1,000
W1    1000         0                     0
W2    3000         1                     0.333...   (1000 * 1 / 3000)
W3    6000         2                     0.333...   (1000 * 2 / 6000: equal, tied at the cut)
W4    1000        10                    10
W5    1000        20                    20
W6    1000        30                    30
W7    1000        40                    40
W8       0         0                     -
Sorted: 0, 1/3, 1/3, 10, ...; the 2nd smallest is 1/3 -> W1, W2 and W3 are cold spots (3 > k).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import kpis
from tests.conftest_kpis import Warehouse

pytestmark = pytest.mark.usefixtures("kpi_backend")  # every test on both backends

Q1, Q2 = "2025-26 Q1", "2025-26 Q2"
WARDS = {f"W{i}": f"E0500000{i}" for i in range(1, 9)}
POPULATION = {"W1": 1000, "W2": 3000, "W3": 6000, "W4": 1000, "W5": 1000, "W6": 1000,
              "W7": 1000, "W8": 0}  # fmt: skip
PARTICIPANTS = {"W2": 1, "W3": 2, "W4": 10, "W5": 20, "W6": 30, "W7": 40}


def build() -> Warehouse:
    wh = Warehouse()
    for name, code in WARDS.items():
        wh.ward(code, name, "North" if name < "W5" else "South", POPULATION[name])
    wh.directorate("D1")
    wh.directorate("D2")
    rows = [{"ward_code": WARDS[w], "participants_total": n} for w, n in PARTICIPANTS.items()]
    rows.append({"participants_total": 5000})  # borough-wide: in no ward
    wh.engagement("D1", Q2, *rows)
    return wh


def cold(frame) -> list[str]:
    code_to_name = {c: n for n, c in WARDS.items()}
    return sorted(code_to_name[c] for c in frame.loc[frame["is_cold_spot"], "ward_code"])


def test_ties_at_the_cut_are_all_included():
    frame = kpis.cold_spots(build().con, [Q2])
    assert list(frame.columns) == [
        "ward_code", "ward_name", "neighbourhood", "participants", "population",
        "participation_per_1000", "rank", "is_cold_spot",
    ]  # fmt: skip
    assert len(frame) == 8  # every ward, the unranked one too
    assert cold(frame) == ["W1", "W2", "W3"]
    by_name = frame.set_index("ward_name")
    assert (
        by_name.loc["W2", "participation_per_1000"] == by_name.loc["W3", "participation_per_1000"]
    )
    assert by_name.loc["W2", "participation_per_1000"] == pytest.approx(1 / 3)
    # rank: ties share the lower rank
    assert by_name["rank"].tolist()[:7] == [1, 2, 2, 4, 5, 6, 7]
    assert pd.isna(by_name.loc["W8", "rank"])
    assert math.isnan(by_name.loc["W8", "participation_per_1000"])
    assert not by_name.loc["W8", "is_cold_spot"]


def test_k_is_rounded_up():
    # Without W6 and W7's activity, W6 and W7 are 0 too: values 0, 0, 0, 1/3, 1/3, 10, 20 ->
    # k = 2, the 2nd smallest is 0 -> W1, W6, W7.
    wh = Warehouse()
    for name, code in WARDS.items():
        wh.ward(code, name, "North", POPULATION[name])
    wh.directorate("D1")
    wh.engagement("D1", Q2, *[{"ward_code": WARDS[w], "participants_total": n}
                              for w, n in PARTICIPANTS.items() if w not in {"W6", "W7"}])  # fmt: skip
    assert cold(kpis.cold_spots(wh.con, [Q2])) == ["W1", "W6", "W7"]


def test_a_directorate_filter_and_several_quarters():
    wh = build()
    # D2 held a 100-person event in W1 in Q2: over all directorates W1 is 100 per 1,000 and no
    # longer cold; the cut (2nd smallest) is 1/3 -> W2 and W3 only.
    wh.engagement("D2", Q2, {"ward_code": WARDS["W1"], "participants_total": 100})
    assert cold(kpis.cold_spots(wh.con, [Q2])) == ["W2", "W3"]
    # D1 alone: as before.
    assert cold(kpis.cold_spots(wh.con, [Q2], ["D1"])) == ["W1", "W2", "W3"]
    # Over Q1 and Q2 with D1 holding 10 in W2 in Q1: W2 = 11/3000*1000 = 3.67; W3 still 1/3;
    # D2's W1 is 100. Sorted: 1/3, 3.67, 10, ... -> cut 3.67 -> W2, W3.
    wh.engagement("D1", Q1, {"ward_code": WARDS["W2"], "participants_total": 10})
    frame = kpis.cold_spots(wh.con, [Q1, Q2])
    assert cold(frame) == ["W2", "W3"]
    assert frame.set_index("ward_name").loc["W2", "participants"] == 11


def test_a_quarter_without_activity_makes_every_ward_cold():
    # Every ranked ward is 0: all tie at the cut.
    frame = kpis.cold_spots(build().con, ["2024-25 Q1"])
    assert cold(frame) == ["W1", "W2", "W3", "W4", "W5", "W6", "W7"]


def test_no_wards():
    assert kpis.cold_spots(Warehouse().con, [Q2]).empty
