"""Each normaliser: the spellings the contract accepts, and the ones it rejects."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from etl import normalise as n
from etl import quarters as q


def s(*values):
    return pd.Series(list(values), dtype="string")


@pytest.mark.parametrize(
    "text",
    ["2025-26 Q2", "2025/26 Q2", "FY2025-26 Q2", "Q2 2025/26", "2025-26-Q2", " fy2025/26 q2 ", "2025/2026 Q2"],
)
def test_quarter_spellings_all_read_as_canonical(text):
    assert q.parse_quarter(text) == "2025-26 Q2"


def test_an_early_year_keeps_four_digits():
    # found by tests/test_properties.py: 'Q1 0001/02' was read as '1-02 Q1', not canonical
    assert q.parse_quarter("Q1 0001/02") == "0001-02 Q1"
    assert q.shift_quarter("0001-02 Q1", 4) == "0002-03 Q1"


@pytest.mark.parametrize("text", ["2025-27 Q1", "Q5 2025/26", "2025 Q2", "July 2025", ""])
def test_unreadable_quarters_are_rejected(text):
    with pytest.raises(ValueError, match="is not a quarter"):
        q.parse_quarter(text)


def test_quarter_bounds_follow_the_financial_year():
    assert q.quarter_bounds("2025-26 Q1") == (dt.date(2025, 4, 1), dt.date(2025, 6, 30))
    assert q.quarter_bounds("2025-26 Q3") == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    assert q.quarter_bounds("2025-26 Q4") == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert q.shift_quarter("2025-26 Q1", -1) == "2024-25 Q4"
    assert q.shift_quarter("2025-26 Q4", 1) == "2026-27 Q1"
    assert q.quarter_of_date(dt.date(2026, 3, 31)) == "2025-26 Q4"
    assert q.quarters_between("2024-25 Q4", "2025-26 Q2") == ["2024-25 Q4", "2025-26 Q1", "2025-26 Q2"]


def test_money_accepts_the_contract_spellings():
    values, reasons = n.parse_money(s("1234.5", "1,234.50", "£1,234.50", " 1234 ", "1,000,000", "", None))
    assert values.tolist()[:5] == [1234.5, 1234.5, 1234.5, 1234.0, 1_000_000.0]
    assert values[5:].isna().all()
    assert reasons.isna().all()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1234,50", "decimal comma"),
        ("12,34", "decimal comma"),
        ("-5", "must not be negative"),
        ("£-5", "must not be negative"),
        ("abc", "is not an amount in pounds"),
        ("NaN", "is not an amount in pounds"),
        ("1,23,456", "is not an amount in pounds"),
    ],
)
def test_money_rejects_ambiguous_negative_and_text(text, reason):
    values, reasons = n.parse_money(s(text))
    assert values.isna().all()
    assert reason in reasons[0]


def test_integers_accept_excel_floats_and_thousands():
    values, reasons = n.parse_int(s("12", "1,234", "12.0", "-3", "1.5", "x"))
    assert values.tolist()[:4] == [12, 1234, 12, -3]
    assert reasons.tolist()[4:] == ["is not a whole number"] * 2


def test_dates_iso_uk_and_excel_datetime_never_month_first():
    values, reasons = n.parse_date(s("2025-07-31", "31/07/2025", "2025-07-31T00:00:00", "1/8/2025", "07/31/2025", "2025-02-30", "31.07.2025"))
    assert [v.date() for v in values[:4]] == [dt.date(2025, 7, 31)] * 3 + [dt.date(2025, 8, 1)]
    assert values[4:].isna().all()
    assert "not a real calendar date" in reasons[4]  # month 31: read day-first, so invalid
    assert "not a real calendar date" in reasons[5]
    assert "is not a date" in reasons[6]


def test_booleans():
    values, reasons = n.parse_bool(s("true", "FALSE", "Yes", "no", "Y", "n", "1", "0", "maybe"))
    assert values.tolist()[:8] == [True, False, True, False, True, False, True, False]
    assert "must be yes or no" in reasons[8]


def test_enums_read_spaces_and_hyphens_as_underscores_and_suggest():
    values, reasons = n.parse_enum(s("Public meeting", "public-meeting", "CITIZENS ASSEMBLY", "surveys"), ["survey", "public_meeting", "citizens_assembly"])
    assert values.tolist()[:3] == ["public_meeting", "public_meeting", "citizens_assembly"]
    assert "did you mean 'survey'" in reasons[3]


def test_mechanism_none_reads_as_blank():
    values, reasons = n.parse_enum(s("none", "None", ""), ["community_grants"], none_is_blank=True)
    assert values.isna().all() and reasons.isna().all()


def test_ward_by_code_or_name_case_and_space_insensitive_with_suggestions():
    codes, names = ["E05000001", "E05000002"], ["Ashby", "Castle Quay"]
    values, reasons = n.parse_ward(s("e05000001", "  castle   QUAY ", "Castel Quay", "E05999999", ""), codes, names)
    assert values.tolist()[:2] == ["E05000001", "E05000002"]
    assert reasons[2] == "is not a known ward (closest: Castle Quay)"
    assert reasons[3] == "is not a ward code of this council (closest: E05000002 Castle Quay, E05000001 Ashby)"
    assert pd.isna(values[4]) and pd.isna(reasons[4])
    _, far = n.parse_ward(s("Zzzzqqq"), codes, names)
    assert far[0].startswith("is not a known ward (closest: ")  # always names the nearest wards


def test_directorate_by_name_or_short_name():
    names, shorts = ["Adults and Health", "Place"], ["ADH", None]
    values, reasons = n.parse_directorate(s("adh", " adults  and health", "Plaice"), names, shorts)
    assert values.tolist()[:2] == ["Adults and Health", "Adults and Health"]
    assert "closest: Place" in reasons[2]


def test_header_key_ignores_case_spaces_underscores_and_bom():
    assert n.header_key("\ufeffTotal Budget_GBP ") == n.header_key("total_budget_gbp")


@pytest.mark.parametrize("parse, cells", [
    (n.parse_int, ["12", " 12", "1,234", "12.0", "-3", "x", "", None, "99999999999", "12"]),
    (n.parse_money, ["1234.5", "£1,234.50", "1,5", "-2", "", None, "abc", "1234.5"]),
    (n.parse_date, ["31/07/2025", "2025-07-31", "07/31/2025", "31/02/2026", "", None, "x"]),
])
def test_repeated_cells_parse_as_each_cell_alone(parse, cells):
    # many repeats: parsed once per distinct cell, then spread; the answers are the cell-by-cell ones
    column = pd.Series(cells * 7, index=range(100, 100 + 7 * len(cells)), dtype="string")
    values, reasons = parse(column)
    direct_values, direct_reasons = parse.__wrapped__(column)
    pd.testing.assert_series_equal(values, direct_values, check_names=False)
    pd.testing.assert_series_equal(reasons, direct_reasons, check_names=False)
    assert values.index.equals(column.index)


def test_a_column_distinct_from_its_start_is_parsed_as_it_is_and_a_repetitive_one_by_spelling():
    # distinct over its first 4,096 cells, repetitive after: the head decides, so it is parsed as
    # it is (hashing the whole column would have found 4,097 spellings in 20,000 and spread them)
    cells = [f"{i:,}" for i in range(4096)] + ["7"] * 15_904
    distinct = pd.Series(cells, dtype="string")
    assert n.parse_by_distinct(n.parse_int.__wrapped__, distinct) is None
    values, reasons = n.parse_int(distinct)
    assert values.iloc[1234] == 1234 and values.iloc[19_999] == 7 and reasons.isna().all()
    repetitive = pd.Series([str(i % 50) for i in range(20_000)] + ["x"], dtype="string")
    spread = n.parse_by_distinct(n.parse_int.__wrapped__, repetitive)
    assert spread is not None and len(spread[3]) == 51  # 0-49 and "x"
    assert spread[0].iloc[123] == 23 and spread[1].iloc[-1] == "is not a whole number"


def test_a_too_large_negative_whole_number_is_refused_without_a_value():
    values, reasons = n.parse_int(pd.Series(["-2200000000", "-12"], dtype="string"))
    assert values.isna().tolist() == [True, False] and values.iloc[1] == -12
    assert reasons.tolist()[0] == "is too large" and pd.isna(reasons.iloc[1])
