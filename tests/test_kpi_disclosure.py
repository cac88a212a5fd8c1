"""Disclosure control: small demographic counts, and every figure they could be worked out from,
are withheld; an attacker holding everything a disclosed frame shows cannot recover them."""

from __future__ import annotations

import itertools
import random

import pandas as pd
import pytest

import kpis
from kpis import Scope
from kpis.disclosure import (
    SUPPRESSED,
    TOO_FEW,
    UNDER,
    disclose_equality,
    disclose_kpis,
    is_suppressed,
    suppress_small,
    withheld_cells,
)
from tests.conftest_kpis import Warehouse

Q = "2025-26 Q2"
W1, W2 = "E05000001", "E05000002"
POPS = {  # 1,000 residents in each ward, every dimension known
    "age_16_24": 200, "age_25_44": 300, "age_45_64": 300, "age_65_plus": 200,
    "female": 500, "male": 500,
    "ethnicity_white": 700, "ethnicity_asian": 150, "ethnicity_black": 80, "ethnicity_mixed": 40,
    "ethnicity_other": 30, "disabled": 200, "not_disabled": 800,
}  # fmt: skip


def warehouse(*activities: dict) -> Warehouse:
    wh = Warehouse()
    wh.ward(W1, "Abbey", "North", 1000, **POPS)
    wh.ward(W2, "Bridge", "North", 1000, **POPS)
    wh.directorate("D")
    wh.engagement("D", Q, *activities)
    return wh


def disclosed(wh: Warehouse, ward: str = W1) -> pd.DataFrame:
    return disclose_equality(kpis.equality_breakdown(wh.con, Scope((Q,), wards=(ward,))))


# The attacker --------------------------------------------------------------------------------


def _shown(value) -> bool:
    return not is_suppressed(value) and value is not None and not pd.isna(value)


def recoverable(frame: pd.DataFrame, participants_total: int) -> dict[str, set[int]]:
    """Every count consistent with what `frame` shows, for each withheld group.

    Uses: the shown counts; the dimension's base (shown, or 1-4 when withheld, since only a
    small base is withheld); the base implied by any shown share (n / p); the shown EEI_d; and
    the scope's participants (from its participation rate), which bounds the base.
    """
    found: dict[str, set[int]] = {}
    for _, part in frame.groupby("dimension", sort=False):
        rows = list(part.itertuples())
        hidden = [r for r in rows if is_suppressed(r.participants)]
        if not hidden:
            continue
        shown_sum = sum(int(r.participants) for r in rows if not is_suppressed(r.participants))
        base = rows[0].known
        bases = set(range(1, 5)) if is_suppressed(base) else {int(base)}
        for r in rows:
            if not is_suppressed(r.participants) and _shown(r.p_share) and r.p_share > 0:
                bases = {k for k in bases if abs(int(r.participants) / k - r.p_share) < 1e-9}
        bases = {k for k in bases if k <= participants_total}
        eei = rows[0].eei
        for k in bases:
            rest = k - shown_sum
            if rest < 0:
                continue
            for combo in itertools.product(range(rest + 1), repeat=len(hidden)):
                if sum(combo) != rest:
                    continue
                if _shown(eei):
                    counts = {r.group: int(r.participants) for r in rows if not is_suppressed(r.participants)}
                    counts.update({h.group: c for h, c in zip(hidden, combo, strict=True)})
                    gap = sum(abs(counts[r.group] / k - r.q_share) for r in rows)
                    if abs(1 - 0.5 * gap - eei) > 1e-9:
                        continue
                for h, c in zip(hidden, combo, strict=True):
                    found.setdefault(h.group, set()).add(c)
    return found


def assert_safe(frame: pd.DataFrame, truth: pd.DataFrame, participants_total: int) -> None:
    """No count from 1 to 4 is shown or can be pinned down from what is shown."""
    true = dict(zip(truth["group"], truth["participants"], strict=True))
    for r in frame.itertuples():
        if not is_suppressed(r.participants):
            assert not 1 <= int(r.participants) < 5, (r.group, r.participants)
    options = recoverable(frame, participants_total)
    for group, n in true.items():
        if 1 <= n < 5:
            assert len(options[group]) >= 2, (group, n, options[group])


# Worked examples -----------------------------------------------------------------------------


def test_the_issues_example_share_beside_a_small_count_is_withheld():
    """'3.8% beside White 74, 92.5%', from which 3 follows: 80 of known ethnicity in the ward."""
    wh = warehouse({"ward_code": W1, "participants_total": 80, "female": 40, "male": 40,
                    "ethnicity_white": 74, "ethnicity_asian": 3, "ethnicity_other": 3,
                    "age_25_44": 80, "not_disabled": 80})  # fmt: skip
    raw = kpis.equality_breakdown(wh.con, Scope((Q,), wards=(W1,)))
    frame = disclose_equality(raw).set_index("group")
    # Asian 3 and other 3: withheld with their shares and ratios; two are withheld, so
    # 80 - 74 - 0 - 0 = 6 gives only their sum.
    for g in ("ethnicity_asian", "ethnicity_other"):
        assert frame.loc[g, ["participants", "p_share", "ratio", "under_represented"]].tolist() \
            == [SUPPRESSED] * 4
        assert frame.loc[g, "representation"] == SUPPRESSED
    assert frame.loc["ethnicity_white", "participants"] == 74
    assert frame.loc["ethnicity_white", "p_share"] == pytest.approx(74 / 80)
    assert frame.loc["ethnicity_black", "participants"] == 0
    assert frame.loc["ethnicity_asian", "q_share"] == pytest.approx(0.15)  # census: shown
    # EEI for ethnicity (it pins the shares down) and the overall index are withheld.
    assert frame.loc["ethnicity_white", "eei"] == SUPPRESSED
    assert frame.loc["female", "eei"] == pytest.approx(1.0)
    values = kpis.kpi_values(wh.con, Scope((Q,), wards=(W1,)))
    shown = disclose_kpis(values, frame.reset_index())
    assert shown["engagement_equality_index"] == SUPPRESSED
    assert shown["participation_per_1000"] == values["participation_per_1000"] == 80.0
    assert_safe(frame.reset_index(), raw, participants_total=80)


def test_one_small_count_takes_its_complement_with_it():
    # Sex: female 77, male 3. Withholding only male would leave 80 - 77 = 3.
    wh = warehouse({"ward_code": W1, "participants_total": 80, "female": 77, "male": 3})
    raw = kpis.equality_breakdown(wh.con, Scope((Q,), wards=(W1,)))
    frame = disclose_equality(raw).set_index("group")
    assert frame.loc["male", "participants"] == SUPPRESSED
    assert frame.loc["female", "participants"] == SUPPRESSED  # the complement
    assert frame.loc["female", "p_share"] == SUPPRESSED
    assert frame.loc["female", "known"] == 80  # the base is not small: shown
    assert_safe(frame.reset_index(), raw, participants_total=80)


def test_a_ward_with_3_known_participants_shows_nothing_that_reveals_them():
    wh = warehouse({"ward_code": W1, "participants_total": 3, "female": 3, "age_25_44": 2,
                    "age_65_plus": 1, "ethnicity_white": 3, "not_disabled": 3})  # fmt: skip
    raw = kpis.equality_breakdown(wh.con, Scope((Q,), wards=(W1,)))
    frame = disclose_equality(raw).set_index("group")
    # Every dimension's base (3) is withheld; female 3 and its complement male 0 withheld, so
    # '100%' appears nowhere; zero cells of other groups show 0, but no share or ratio of a
    # withheld group does.
    assert set(frame["known"]) == {SUPPRESSED}
    assert frame.loc["female", "participants"] == frame.loc["male", "participants"] == SUPPRESSED
    shown_shares = [p for p in frame["p_share"] if _shown(p)]
    assert all(p == 0 for p in shown_shares)
    # A base of 3 is far below 30: 'too few to judge' for every group, never under-represented.
    assert set(frame["representation"]) == {TOO_FEW}
    assert not raw["under_represented"].any()
    assert_safe(frame.reset_index(), raw, participants_total=3)


def test_a_low_base_is_too_few_to_judge_and_a_good_base_can_be_under_represented():
    # W1: 40 known by sex (female 10, male 30): q = 0.5, r_female = 0.25/0.5 = 0.5 < 0.8.
    wh = warehouse({"ward_code": W1, "participants_total": 40, "female": 10, "male": 30,
                    "disabled": 2, "not_disabled": 20})  # fmt: skip
    frame = disclosed(wh).set_index("group")
    assert frame.loc["female", "representation"] == UNDER
    assert frame.loc["male", "representation"] == ""
    # Disability: 22 known < 30 -> too few to judge (and 2 withheld with its complement 20).
    assert frame.loc["disabled", "representation"] == TOO_FEW
    assert frame.loc["not_disabled", "participants"] == SUPPRESSED


def test_nothing_withheld_leaves_the_figures_as_they_are():
    wh = warehouse({"ward_code": W1, "participants_total": 100, "female": 50, "male": 50})
    raw = kpis.equality_breakdown(wh.con, Scope((Q,), wards=(W1,)))
    frame = disclose_equality(raw)
    assert not frame["withheld"].any()
    assert frame["participants"].tolist() == raw["participants"].tolist()
    values = kpis.kpi_values(wh.con, Scope((Q,), wards=(W1,)))
    assert disclose_kpis(values, frame) == values


@pytest.mark.parametrize("seed", range(40))
def test_random_wards_cannot_be_reverse_engineered(seed):
    """Random small wards: the attacker never pins down a withheld count from 1 to 4."""
    rng = random.Random(seed)
    total = rng.randint(1, 14)
    activity = {"ward_code": W1, "participants_total": total}
    for groups in (("age_16_24", "age_25_44", "age_45_64", "age_65_plus"), ("female", "male"),
                   ("ethnicity_white", "ethnicity_asian", "ethnicity_black", "ethnicity_mixed",
                    "ethnicity_other"), ("disabled", "not_disabled")):  # fmt: skip
        left = rng.randint(0, total)  # participants with a known group in this dimension
        for g in groups[:-1]:
            n = rng.randint(0, left)
            activity[g] = n
            left -= n
        activity[groups[-1]] = left
    wh = warehouse(activity)
    raw = kpis.equality_breakdown(wh.con, Scope((Q,), wards=(W1,)))
    assert_safe(disclose_equality(raw), raw, participants_total=total)


# The rule on plain frames --------------------------------------------------------------------


def test_withheld_cells():
    assert withheld_cells([0, 3, 74, 0]) == [False, True, True, False]  # smallest non-zero
    assert withheld_cells([3, 0]) == [True, True]  # no non-zero left: the zero goes
    assert withheld_cells([3, 2, 90]) == [True, True, False]  # already two
    assert withheld_cells([5, 12, 0]) == [False, False, False]
    assert withheld_cells([0, 0]) == [False, False]


def test_suppress_small_per_dimension_in_a_wide_frame():
    frame = pd.DataFrame({"ward": ["a", "b", "c", "d"], "female": [0, 1, 4, 5], "male": [3, 12, 2, 0]})
    out = suppress_small(frame, ["female", "male"])
    c = SUPPRESSED
    assert out["female"].tolist() == [c, c, c, 5]
    assert out["male"].tolist() == [c, c, c, 0]
    assert frame["female"].tolist() == [0, 1, 4, 5]  # the original is untouched
    assert suppress_small(frame, ["female", "male"], threshold=2)["female"].tolist() == [0, c, 4, 5]


def test_suppress_dimensions_applies_the_rule_per_dimension_per_row():
    from etl.opendata import SUPPRESSED as EXPORT_MARK
    from kpis.disclosure import suppress_dimensions

    assert EXPORT_MARK == SUPPRESSED  # etl export writes the same mark the pages show
    rows = pd.DataFrame({"participants_total": [12], "female": [6], "male": [6],
                         "disabled": [2], "not_disabled": [10]})  # fmt: skip
    out = suppress_dimensions(rows, {"sex": ("female", "male"), "disability": ("disabled", "not_disabled")})
    assert out.iloc[0].tolist() == [12, 6, 6, SUPPRESSED, SUPPRESSED]
    assert suppress_dimensions(rows, {}).equals(rows)  # no dimension named: nothing changes


def test_a_kpi_table_withholds_the_index_of_a_ward_with_a_withheld_count():
    from kpis.disclosure import disclose_kpi_table

    # Abbey: sex 77/3 (withheld); Bridge: 50/50 (nothing withheld).
    wh = warehouse({"ward_code": W1, "participants_total": 80, "female": 77, "male": 3},
                   {"ward_code": W2, "participants_total": 100, "female": 50, "male": 50})
    table = kpis.kpi_table(wh.con, Q, "ward")
    shown = disclose_kpi_table(wh.con, table, Q, "ward").set_index("ward_code")
    assert shown.loc[W1, "engagement_equality_index"] == SUPPRESSED
    assert shown.loc[W2, "engagement_equality_index"] == pytest.approx(1.0)
    assert shown.loc[W1, "participation_per_1000"] == 80.0  # everything else as computed
    assert list(shown.reset_index().columns) == list(table.columns)
    council = disclose_kpi_table(wh.con, kpis.kpi_table(wh.con, Q, "council"), Q, "council")
    # Council-wide: 127 women and 53 men, nothing small: the index is shown.
    assert council["engagement_equality_index"].iloc[0] == pytest.approx(1 - 0.5 * 2 * abs(127 / 180 - 0.5))
