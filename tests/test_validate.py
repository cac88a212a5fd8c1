"""Every validation rule of the contract: a failing example each, with its line, column and reason."""

from __future__ import annotations

import pandas as pd
import pytest

from etl import contract as c
from etl import normalise as n
from etl.read import read_table
from etl.validate import Reference, validate_reference, validate_return
from tests.conftest import BUDGET_HEADER, ENGAGEMENT_HEADER, PARTNERSHIPS_HEADER

REF = Reference(
    ward_codes=("E05000001", "E05000002", "E05000003"),
    ward_names=("Ashby", "Castle Quay", "Dunmore"),
    directorates=("Adults and Health", "Place"),
    short_names=("ADH", None),
)
Q = "2025-26 Q2"
DEMOGRAPHICS_OK = "2,3,4,1,5,5,8,1,1,0,0,2,8"  # age 10, sex 10, ethnicity 10, disability 10


def check(return_type: str, text: str, *, directorate="Adults and Health", quarter=Q):
    return validate_return(read_table(text.encode()), return_type, directorate=directorate, quarter=quarter, ref=REF)


def problems(result):
    return {(p.line, p.column, p.reason) for p in result.problems}


def budget(*rows: str) -> str:
    return BUDGET_HEADER + "".join(r + "\n" for r in rows)


def engagement(*rows: str) -> str:
    return ENGAGEMENT_HEADER + "".join(r + "\n" for r in rows)


def partnerships(*rows: str) -> str:
    return PARTNERSHIPS_HEADER + "".join(r + "\n" for r in rows)


def test_a_good_budget_return_is_normalised():
    r = check("budget", budget(
        'ADH,2025/26 Q2,Grants,Castle quay,"£1,000.00",500,Community grants',
        "adults and health,Q2 2025/26,Central,,2000,0,none",
    ))
    assert r.ok, r.problems
    row = r.frame.loc[2]
    assert (row.directorate, row.quarter, row.ward_code, row.total_budget_gbp, row.mechanism) == (
        "Adults and Health", Q, "E05000002", 1000.0, "community_grants")
    assert r.frame.loc[3].ward_code is None or str(r.frame.loc[3].ward_code) == "<NA>"


def test_header_only_is_a_valid_nil_return():
    r = check("budget", BUDGET_HEADER)
    assert r.ok and len(r.frame) == 0


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("ADH,2025-26 Q2,,,100,0,", "budget_line", "is required but is blank"),
        ("ADH,2025-26 Q2," + "x" * 201 + ",,100,0,", "budget_line", "is too long or empty (1-200 characters)"),
        ("ADH,2025-26 Q2,L,,,0,", "total_budget_gbp", "is required but is blank"),
        ("ADH,2025-26 Q2,L,,100,150,community_grants", "devolved_gbp", "must not be more than total_budget_gbp"),
        ("ADH,2025-26 Q2,L,,100,-1,", "devolved_gbp", "must not be negative"),
        ("ADH,2025-26 Q2,L,,100,50,", "mechanism", "is required when devolved_gbp is more than 0"),
        ("ADH,2025-26 Q2,L,,100,0,community_grants", "mechanism", "must be blank (or none) when devolved_gbp is 0"),
        ("ADH,2025-26 Q2,L,,100,50,crowdfunding", "mechanism", "is not one of the allowed values: participatory_budgeting, community_grants, ward_councillor_fund, parish_town_council, community_asset_transfer, vcse_commissioning"),
        ("ADH,2025-26 Q2,L,Castel Quay,100,0,", "ward_code", "is not a known ward (closest: Castle Quay)"),
        ("Place,2025-26 Q2,L,,100,0,", "directorate", "does not match the directorate this file is sent for (Adults and Health)"),
        ("Nowhere,2025-26 Q2,L,,100,0,", "directorate", "is not a known directorate"),
        ("ADH,2025-26 Q3,L,,100,0,", "quarter", "does not match the quarter this file is sent for (2025-26 Q2)"),
        ("ADH,Summer,L,,100,0,", "quarter", "'Summer' is not a quarter: write it like 2025-26 Q2 (financial year, then Q1-Q4)"),
    ],
)
def test_budget_rules(row, column, reason):
    r = check("budget", budget(row))
    assert (2, column, reason) in problems(r), r.problems


def test_budget_line_and_ward_unique_within_the_file():
    r = check("budget", budget("ADH,2025-26 Q2,L,Ashby,100,0,", "ADH,2025-26 Q2,L,Dunmore,100,0,", "ADH,2025-26 Q2,L,e05000001,5,0,"))
    got = {(p.line, p.column, p.reason) for p in r.problems}
    assert got == {
        (2, "budget_line + ward_code", "is repeated: each must appear once in the file (also on line 4)"),
        (4, "budget_line + ward_code", "is repeated: each must appear once in the file (also on line 2)"),
    }


def eng(activity_id="A1", date="2025-08-01", ward="Ashby", method="workshop", stage="options", total="10", demo=DEMOGRAPHICS_OK, feedback="yes"):
    return f"ADH,{Q},{activity_id},{date},{ward},{method},{stage},{total},{demo},{feedback}"


def test_a_good_engagement_return_with_blank_counts_as_zero():
    r = check("engagement", engagement(eng(), eng("A2", "31/07/2025", "", "Public meeting", "Priority setting", "5", ",,,,,,,,,,,,", "N")))
    assert r.ok, r.problems
    assert r.frame.loc[3, "age_16_24"] == 0 and r.frame.loc[3, "method"] == "public_meeting"
    assert bool(r.frame.loc[3, "feedback_published"]) is False


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (eng(date="2025-06-30"), "activity_date", "is not inside the quarter"),
        (eng(date="2025-10-01"), "activity_date", "is not inside the quarter"),
        (eng(date="08/31/2025"), "activity_date", "is not a real calendar date (day-first: 31/07/2025)"),
        (eng(date="31/02/2026"), "activity_date", "is not a real calendar date"),  # no date either way: no hint
        (eng(method="leafleting"), "method", "is not one of the allowed values: survey, public_meeting, workshop, codesign, participatory_budgeting_vote, citizens_assembly, online_platform, other"),
        (eng(stage="decisions"), "stage", "is not one of the allowed values (did you mean 'decision'?)"),
        (eng(total="-1", demo="0,0,0,0,0,0,0,0,0,0,0,0,0"), "participants_total", "must be 0 or more"),
        (eng(total="2.5"), "participants_total", "is not a whole number"),
        (eng(demo="5,5,5,0,5,5,8,1,1,0,0,2,8"), "age_16_24", "the age groups add up to more than participants_total"),
        (eng(demo="2,3,4,1,6,5,8,1,1,0,0,2,8"), "female", "female + male add up to more than participants_total"),
        (eng(demo="2,3,4,1,5,5,9,1,1,0,0,2,8"), "ethnicity_white", "the ethnicity groups add up to more than participants_total"),
        (eng(demo="2,3,4,1,5,5,8,1,1,0,0,3,8"), "disabled", "disabled + not_disabled add up to more than participants_total"),
        (eng(demo="2,3,4,1,5,5,8,1,1,0,0,-2,8"), "disabled", "must be 0 or more"),
        (eng(feedback="perhaps"), "feedback_published", "must be yes or no (or true/false, y/n, 1/0)"),
        (eng(feedback=""), "feedback_published", "is required but is blank"),
        (eng(ward="E05999999"), "ward_code", "is not a ward code of this council (closest: E05000003 Dunmore, E05000002 Castle Quay, E05000001 Ashby)"),
    ],
)
def test_engagement_rules(row, column, reason):
    r = check("engagement", engagement(row))
    assert (2, column, reason) in problems(r), r.problems


def test_labels_the_app_shows_are_accepted_as_input():
    # 'Co-design' is how the charts label codesign; 'Aged 16-24' is how they label age_16_24.
    for method in ("Co-design", "co design", "CODESIGN"):
        r = check("engagement", engagement(eng(method=method)))
        assert r.ok and r.frame.loc[2, "method"] == "codesign", (method, r.problems)
    for values in (c.METHODS, c.STAGES, c.PARTNER_TYPES, c.ARRANGEMENTS, c.MECHANISMS):
        parsed, reasons = n.parse_enum(pd.Series([c.label(v) for v in values]), values)
        assert parsed.tolist() == list(values) and reasons.isna().all()
    header = ENGAGEMENT_HEADER
    for group, text in c.GROUP_LABELS.items():
        header = header.replace(f",{group},", f",{text},", 1)
    assert "Aged 16-24" in header and "Other ethnic group" in header
    r = check("engagement", header + eng() + "\n")
    assert r.ok, r.problems


def test_the_problems_column_of_an_annotated_file_is_ignored():
    text = engagement(eng())
    lines = text.splitlines()
    annotated = "\n".join([lines[0] + ",problems (directorate: something)", lines[1] + ",ward_code: was wrong"]) + "\n"
    r = check("engagement", annotated)
    assert r.ok, r.problems


def test_activity_ids_unique():
    r = check("engagement", engagement(eng("A1"), eng("A1")))
    assert (3, "activity_id", "is repeated: each must appear once in the file (also on line 2)") in problems(r)


def part(pid="P1", ptype="vcse", arrangement="coproduction", ward="", start="2024-01-01", end="", value="", lease=""):
    return f"ADH,{Q},{pid},Northside Trust,{ptype},{arrangement},{ward},{start},{end},{value},{lease}"


def test_a_good_partnership_register():
    r = check("partnerships", partnerships(part(), part("P2", "Big local", "Community asset transfer", "Dunmore", "01/04/2020", "", '"£12,000"', "30")))
    assert r.ok, r.problems
    assert r.frame.loc[3, "lease_years"] == 30 and r.frame.loc[3, "arrangement"] == "community_asset_transfer"


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (part(start="2025-10-01"), "start_date", "is after the last day of the quarter"),
        (part(start="2024-01-01", end="2023-12-31"), "end_date", "is before start_date"),
        (part(start="2024-01-01", end="2025-06-30"), "end_date", "is before the first day of the quarter, so the partnership was not active in it"),
        (part(arrangement="community_asset_transfer"), "lease_years", "is required (1 or more) for a community_asset_transfer"),
        (part(arrangement="community_asset_transfer", lease="0"), "lease_years", "is required (1 or more) for a community_asset_transfer"),
        (part(lease="25"), "lease_years", "must be blank unless the arrangement is community_asset_transfer"),
        (part(ptype="charity"), "partner_type", "is not one of the allowed values: vcse, parish_town_council, community_business, faith_group, residents_association, big_local, other"),
        (part(value="-100"), "annual_value_gbp", "must not be negative"),
        (part(start=""), "start_date", "is required but is blank"),
    ],
)
def test_partnership_rules(row, column, reason):
    r = check("partnerships", partnerships(row))
    assert (2, column, reason) in problems(r), r.problems


def test_optional_columns_may_be_left_out_of_the_header():
    text = "directorate,quarter,partnership_id,partner_name,partner_type,arrangement,start_date,lease_years\nADH,2025-26 Q2,P1,Trust,vcse,other,2024-01-01,\n"
    assert check("partnerships", text).ok


def test_missing_required_and_unknown_columns_are_named_with_the_closest_match():
    text = "directorate,quarter,budget_line,total_budget,devolved_gbp\nADH,2025-26 Q2,L,100,0\n"
    got = problems(check("budget", text))
    assert (1, "total_budget", "is not a column of this return: did you mean 'total_budget_gbp'?") in got
    assert (1, "total_budget_gbp", "is a required column but is missing from the header") in got
    assert (1, "mechanism", "is a required column but is missing from the header") in got


def test_a_file_without_a_header_row_is_rejected():
    r = check("budget", "ADH,2025-26 Q2,L,,100,0,\n")
    assert len(r.problems) == 1 and "is not a header row" in r.problems[0].reason


def test_headers_match_case_space_and_underscore_insensitively():
    text = "Directorate, QUARTER ,Budget Line,WardCode,Total_Budget_GBP,devolved gbp,Mechanism\nADH,2025-26 Q2,L,,100,0,\n"
    assert check("budget", text).ok


def test_every_problem_is_reported_at_once_in_line_order():
    r = check("budget", budget("ADH,2025-26 Q2,L1,,abc,0,", "ADH,2025-26 Q2,L2,Nowhere,100,200,pb", "ADH,2025-26 Q2,L3,,100,0,"))
    assert [p.line for p in r.problems] == sorted(p.line for p in r.problems)
    assert {p.line for p in r.problems} == {2, 3}
    assert len(r.problems) == 4  # total unreadable; unknown ward; devolved > total; bad mechanism


def test_cells_beyond_the_header_are_reported():
    r = check("budget", budget("ADH,2025-26 Q2,L,,100,0,,surprise"))
    assert (2, None, "is in column 8, beyond the last column named in the header") in problems(r)


def test_values_under_a_blank_header_cell_are_never_dropped_silently():
    text = "directorate,quarter,budget_line,total_budget_gbp,devolved_gbp,mechanism,\nADH,2025-26 Q2,L1,100,0,,E05000001\n"
    r = check("budget", text)
    assert (2, None, "is in column 7, which has no name in the header") in problems(r)


def test_rows_are_still_checked_when_the_header_has_problems():
    text = "directorate,quarter,budget_line,devolved_gbp,mechanism,notes\nADH,2025-26 Q2,L1,xx,,\n"
    got = problems(check("budget", text))
    assert (1, "total_budget_gbp", "is a required column but is missing from the header") in got
    assert (1, "notes", "is not a column of this return (the closest is 'directorate'; remove the column if it is extra)") in got
    assert (2, "devolved_gbp", "is not an amount in pounds: write it like 1234.50 or £1,234.50") in got
    assert not any(p[1] == "total_budget_gbp" and p[0] == 2 for p in got)  # the missing column is reported once


def test_every_problem_is_listed_even_thousands():
    rows = [f"ADH,2025-26 Q2,L{i},100,200,community_grants" for i in range(1500)]
    text = "directorate,quarter,budget_line,total_budget_gbp,devolved_gbp,mechanism\n" + "\n".join(rows) + "\n"
    r = check("budget", text)
    assert len(r.problems) == 1500


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("ADH,2025-26 Q2,L,,10000000000000000,0,", "total_budget_gbp", "is too large to be an amount in pounds"),
        ("ADH,2025-26 Q2,L,,１００,0,", "total_budget_gbp", "is not an amount in pounds: write it like 1234.50 or £1,234.50"),
    ],
)
def test_huge_amounts_and_non_ascii_digits_are_rejected(row, column, reason):
    assert (2, column, reason) in problems(check("budget", budget(row)))


def test_non_ascii_digits_in_counts_are_not_read_as_zero():
    r = check("engagement", engagement(eng(demo="１２,3,4,1,5,5,8,1,1,0,0,2,8")))
    assert (2, "age_16_24", "is not a whole number") in problems(r)


def test_a_big_file_keeps_its_text_compact_and_its_messages_as_written():
    """Columns of few spellings are read once per spelling and kept as a categorical of the text:
    the values, the rows and the messages (which quote the cell as written) are those of the file."""
    rows = [eng(f"A{i}", ward=("Ashby", "E05000002", " dunmore ")[i % 3], total=str(10 + i % 7)) for i in range(3000)]
    rows[1500] = eng("A1500", total="-4", demo="0,0,0,0,0,0,0,0,0,0,0,0,0")  # file line 1502
    rows[2000] = eng("A2000", total='" 1,000.0 "', ward="Nowhere")  # file line 2002
    raw = read_table(engagement(*rows).encode())
    r = validate_return(raw, "engagement", directorate="Adults and Health", quarter=Q, ref=REF)
    assert [(p.line, p.column, p.value, p.reason) for p in r.problems] == [
        (1502, "participants_total", "-4", "must be 0 or more"),
        (2002, "ward_code", "Nowhere", "is not a known ward (closest: Dunmore)"),
    ]
    assert r.frame.loc[2002, "participants_total"] == 1000 and r.frame.loc[4, "ward_code"] == "E05000003"
    assert r.frame["participants_total"].sum() == sum(10 + i % 7 for i in range(3000) if i not in (1500, 2000)) + 1000 - 4
    ward = raw.rows[4]  # the ward column, as its text
    assert isinstance(ward.dtype, pd.CategoricalDtype) and ward[4] == " dunmore " and ward.notna().all()
    assert not isinstance(raw.rows[2].dtype, pd.CategoricalDtype)  # activity ids: all distinct, kept as they are


def test_a_negative_total_is_one_problem_not_a_cascade():
    r = check("engagement", engagement(eng(total="-3", demo=",,,,,,,,,,,,")))
    assert problems(r) == {(2, "participants_total", "must be 0 or more")}


def test_a_blank_required_number_is_one_problem():
    r = check("engagement", engagement(eng(total="", demo=",,,,,,,,,,,,")))
    assert problems(r) == {(2, "participants_total", "is required but is blank")}


# Reference files


def test_wards_reference_rules():
    header = "ward_code,ward_name,neighbourhood,population_total," + ",".join(
        f"pop_{g}" for g in ("age_16_24", "age_25_44", "age_45_64", "age_65_plus", "female", "male", "ethnicity_white", "ethnicity_asian", "ethnicity_black", "ethnicity_mixed", "ethnicity_other", "disabled", "not_disabled")) + ",imd_decile\n"
    good = "E05000001,Ashby,North,100,10,20,30,10,50,50,80,10,5,3,2,20,80,3\n"
    bad = "X05000002,Bury,North,100,10,20,30,10,60,50,80,10,5,3,2,20,80,11\n"
    r = validate_reference(read_table((header + good + bad).encode()), "wards", Reference())
    got = problems(r)
    assert (3, "ward_code", "is not a ward code (E05 and six digits)") in got
    assert (3, "imd_decile", "is out of range (1-10)") in got
    assert (3, "population_total", "a group of population columns adds up to more than population_total") in got


def test_targets_reference_rules():
    text = "kpi,directorate,financial_year,target,direction\ndevolved_budget_share,,2025-26,25,higher_is_better\nnot_a_kpi,Place,2025-27,1,up\n"
    r = validate_reference(read_table(text.encode()), "targets", REF)
    got = problems(r)
    assert (2, "target", "is a share, so it must be a fraction between 0 and 1 (0.25 = 25%)") in got
    assert any(p[:2] == (3, "kpi") for p in got)
    assert (3, "financial_year", "is not a financial year like 2025-26") in got
    assert any(p[:2] == (3, "direction") for p in got)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("directorate,short_name\nAdults and Health,Children and Families\nChildren and Families,CHF\n", 2, "short_name"),
        ("directorate,short_name\nAdults and Health,ADH\nChildren,adh\n", 3, "short_name"),
        ("directorate,short_name\nAdults and Health,\nadults  and health,\n", 3, "directorate"),
    ],
)
def test_each_directorate_spelling_means_one_directorate(text, line, column):
    r = validate_reference(read_table(text.encode()), "directorates", Reference())
    assert any(p.line == line and p.column == column for p in r.problems), r.problems


def test_a_short_name_may_equal_its_own_name():
    text = "directorate,short_name\nPlace,place\nAdults and Health,ADH\n"
    assert validate_reference(read_table(text.encode()), "directorates", Reference()).ok


def test_a_big_files_columns_parsed_side_by_side_give_what_one_by_one_gives(monkeypatch):
    """Over PARALLEL_ROWS rows the columns are parsed on two threads: the same typed rows and the
    same problems, in the same order, as parsing them one by one."""
    import etl.validate as v

    good = f"ADH,{Q},A{{i}},{{day:02d}}/08/2025,{{ward}},survey,options,10,{DEMOGRAPHICS_OK},yes"
    wards = ["E05000001", "Castle Quay", "", "E05000003"]
    rows = [good.format(i=i, day=1 + i % 28, ward=wards[i % 4]) for i in range(25_000)]
    rows[10] = rows[10].replace(",survey,", ",surveys,")  # an enum misspelt
    rows[5_000] = rows[5_000].replace("/08/2025", "/13/2025")  # no such month
    rows[12_345] = rows[12_345].replace(",10,", ",ten,", 1)  # not a number
    rows[20_000] = rows[20_001]  # a repeated activity
    rows[24_999] = rows[24_999].replace("E05000003", "E05999999")  # not a ward here
    text = engagement(*rows)

    side_by_side = check("engagement", text)
    monkeypatch.setattr(v, "PARALLEL_ROWS", 10**9)
    one_by_one = check("engagement", text)

    assert len(side_by_side.frame) == 25_000
    assert side_by_side.problems == one_by_one.problems
    assert {(p.line, p.column) for p in side_by_side.problems} >= {
        (12, "method"), (5_002, "activity_date"), (12_347, "participants_total"), (25_001, "ward_code")}
    pd.testing.assert_frame_equal(side_by_side.frame, one_by_one.frame)
