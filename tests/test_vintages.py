"""etl.vintages: which ward set a wards or boundaries file goes into, and the replaced-ward words
(pure; the warehouse side is in tests/test_rewarding.py)."""

from __future__ import annotations

import pytest

from etl import vintages as v

A = frozenset({"E05000001", "E05000002"})
B = frozenset({"E05000011", "E05000012"})
TODAY = "2026-27 Q3"


def plan(sets, codes, name="wards.csv", **kw):
    kw.setdefault("return_quarters", ("2025-26 Q1", "2025-26 Q2"))
    return v.plan_ward_set(sets, codes, name, today_quarter=TODAY, **kw)


def test_the_first_set_serves_every_quarter_and_takes_its_label_from_the_file_name():
    p = plan([], A, return_quarters=None)
    assert (p.vintage, p.first_quarter, p.replaces) == ("initial", "", None)
    assert p.words == "as ward set initial, for every quarter"
    assert plan([], A, "Wigan_Wards_WD22.csv", return_quarters=None).vintage == "WD22"
    assert v.label_in_file_name("wards-2026.csv") is None and v.label_in_file_name("x_wd25.xlsx") == "WD25"


def test_new_codes_start_a_set_after_the_latest_quarter_with_returns():
    sets = [v.WardSet("initial", "", A)]
    p = plan(sets, B)
    assert (p.vintage, p.first_quarter, p.replaces) == ("set-2", "2025-26 Q3", None)
    assert p.words == "as ward set set-2, from 2025-26 Q3; quarters before it keep set initial"
    assert plan(sets, B, "wards_wd25.csv").vintage == "WD25"
    # ... and after the newest set's own first quarter
    two = [*sets, v.WardSet("WD25", "2025-26 Q2", B)]
    assert plan(two, frozenset({"E05000099"})).first_quarter == "2025-26 Q3"
    assert plan(two, frozenset({"E05000099"}), return_quarters=("2025-26 Q1", "2024-25 Q1")).first_quarter == (
        "2025-26 Q3")


def test_the_same_codes_correct_their_set_and_keep_its_first_quarter():
    sets = [v.WardSet("WD22", "", A), v.WardSet("WD25", "2023-24 Q1", B)]
    p = plan(sets, A)
    assert (p.vintage, p.first_quarter, p.replaces) == ("WD22", "", "WD22")
    assert p.words == "into ward set WD22 (every quarter to 2022-23 Q4), replacing its wards"
    assert plan(sets, frozenset({"E05000099"}), vintage="WD25").replaces == "WD25"
    assert plan(sets, frozenset({"E05000099"}), first_quarter="2023-24 Q1").replaces == "WD25"


def test_before_any_return_new_codes_replace_the_newest_set():
    p = plan([v.WardSet("initial", "", A)], B, "wards_wd25.csv", return_quarters=None)
    assert (p.vintage, p.first_quarter, p.replaces) == ("WD25", "", "initial")


@pytest.mark.parametrize(("kw", "words"), [
    ({"vintage": "WD22", "first_quarter": "2024-25 Q1"}, "its first quarter cannot be moved"),
    ({"vintage": "WD26", "first_quarter": "2022-23 Q1"}, "A new ward set must start after the newest one, WD25"),
    ({"vintage": "WD26", "first_quarter": "2023-24 Q1"}, "must start after the newest one"),
])
def test_a_set_is_never_moved_or_put_before_a_later_one(kw, words):
    sets = [v.WardSet("WD22", "", A), v.WardSet("WD25", "2023-24 Q1", B)]
    with pytest.raises(v.VintageError, match=words):
        plan(sets, frozenset({"E05000099"}), **kw)


def test_a_file_name_that_names_a_set_with_other_codes_asks_for_vintage():
    with pytest.raises(v.VintageError, match="Give --vintage"):
        plan([v.WardSet("WD22", "", A)], B, "wards_wd22.csv")


def test_boundaries_go_to_the_set_they_share_most_codes_with():
    sets = [v.WardSet("WD22", "", A), v.WardSet("WD25", "2023-24 Q1", B)]
    assert v.boundaries_set(sets, {"E05000001", "E05000002"}).vintage == "WD22"
    assert v.boundaries_set(sets, {"E05000011"}).vintage == "WD25"
    assert v.boundaries_set(sets, {"E09999999"}).vintage == "WD25"  # none shared: the newest
    assert v.boundaries_set(sets, A, "WD25").vintage == "WD25"
    with pytest.raises(v.VintageError, match="no ward set WD99"):
        v.boundaries_set(sets, A, "WD99")
    with pytest.raises(v.VintageError, match="Load the wards before"):
        v.boundaries_set([], A)


WIGAN = [
    v.Ward("WD22", "", "E05000840", "Abram"),
    v.Ward("WD22", "", "E05000848", "Golborne and Lowton West"),
    v.Ward("WD22", "", "E05000843", "Astley Mosley Common"),
    v.Ward("WD22", "", "E05000999", "Unchanged"),
    v.Ward("WD25", "2023-24 Q1", "E05014989", "Abram"),
    v.Ward("WD25", "2023-24 Q1", "E05014997", "Golborne & Lowton West"),
    v.Ward("WD25", "2023-24 Q1", "E05014992", "Astley"),
    v.Ward("WD25", "2023-24 Q1", "E05000999", "Unchanged"),
]


def test_a_replaced_ward_names_its_successor_of_the_same_name():
    assert v.replacement_words(WIGAN, "E05000840", "WD22") == [
        "Abram (E05000840) was replaced in 2023-24 Q1 by Abram (E05014989). Figures to 2022-23 Q4 are on the "
        "old ward; figures from 2023-24 Q1 are on the new wards."]
    assert "by Golborne & Lowton West (E05014997)" in v.replacement_words(WIGAN, "E05000848", "WD22")[0]
    assert "when the wards were redrawn (ward set WD25)" in v.replacement_words(WIGAN, "E05000843", "WD22")[0]
    assert v.replacement_words(WIGAN, "E05014989", "WD25") == [
        "Abram (E05014989) replaced Abram (E05000840) in 2023-24 Q1: figures to 2022-23 Q4 are on the old ward."]
    assert v.replacement_words(WIGAN, "E05014992", "WD25") == [
        "Astley (E05014992) is a ward of set WD25, from 2023-24 Q1: figures to 2022-23 Q4 are on the wards of set WD22."]
    # A ward whose code stayed was not replaced; a code not in the set says nothing.
    assert v.replacement_words(WIGAN, "E05000999", "WD22") == []
    assert v.replacement_words(WIGAN, "E05000999", "WD25") == []
    assert v.replacement_words(WIGAN, "E05014989", "WD22") == []
