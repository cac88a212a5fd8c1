"""Property-based tests (hypothesis) of every normaliser, the reader and the validator.

For any input: no exception escapes; every cell is either read (a value, no reason), refused (a
reason, no value) or blank (neither); and whatever is accepted satisfies the data contract.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import contract as c
from etl import normalise as n
from etl.read import ReadError, read_table
from etl.validate import Reference, validate_return

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CODES = ("E05000001", "E05000002", "E05000003")
NAMES = ("Ashby", "Castle Quay", "Dunmore")
REF = Reference(ward_codes=CODES, ward_names=NAMES, directorates=("Adults and Health", "Place"),
                short_names=("ADH", None))
Q = "2025-26 Q2"

# Cells as people type them: plausible spellings, near misses and arbitrary text.
MONEYISH = st.one_of(
    st.from_regex(r"\A£? ?-?[0-9]{1,3}(,[0-9]{3}){0,3}(\.[0-9]{0,3})?\Z"),
    st.from_regex(r"\A[0-9]{1,25}([.,][0-9]{1,4})?\Z"),
    st.sampled_from(["NaN", "inf", "-0", "1e5", "(100)", "£", "", " ", "1,23", "0.005"]),
)
INTISH = st.one_of(st.from_regex(r"\A-?[0-9]{1,14}(\.0*)?\Z"), st.from_regex(r"\A[0-9]{1,3}(,[0-9]{3}){0,4}\Z"),
                   st.sampled_from(["", "1.5", "1e3", "٣", "+4", "0x10"]))
DATEISH = st.one_of(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)).map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.from_regex(r"\A[0-9]{1,4}[-/][0-9]{1,2}[-/][0-9]{1,4}( [0-9]{1,2}:[0-9]{2})?\Z"),
)
QUARTERISH = st.one_of(
    st.from_regex(r"\A(FY)?[0-9]{4}[-/][0-9]{2}[ -]Q[0-9]\Z"), st.from_regex(r"\AQ[0-9] [0-9]{4}/[0-9]{2}\Z"),
)
ANY_TEXT = st.text(max_size=40)


def cells(*strategies: st.SearchStrategy[str]) -> st.SearchStrategy[pd.Series]:
    values = st.lists(st.one_of(*strategies, ANY_TEXT), min_size=0, max_size=25)
    return values.map(lambda v: pd.Series(v, index=pd.RangeIndex(2, 2 + len(v)), dtype="string"))


def blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.str.strip() == "")


def assert_read_or_refused(s: pd.Series, values: pd.Series, reasons: pd.Series, *, blank_is_value: bool = False) -> None:
    assert values.index.equals(s.index) and reasons.index.equals(s.index)
    read, refused = values.notna(), reasons.notna()
    assert not (read & refused).any()  # never both a value and a complaint
    if not blank_is_value:
        assert not (blank(s) & (read | refused)).any()  # blank stays blank, without a reason
        assert (read | refused | blank(s)).all()  # nothing non-blank is silently dropped
    assert reasons[refused].str.len().gt(0).all()


@SETTINGS
@given(cells(MONEYISH))
def test_parse_money(s):
    values, reasons = n.parse_money(s)
    assert_read_or_refused(s, values, reasons)
    ok = values.dropna()
    assert (ok >= 0).all() and (ok < n.MAX_MONEY).all()
    # pennies: at most two decimals as written (float round(2) itself errs above 2**53 / 100)
    assert all(Decimal(repr(float(v))).as_tuple().exponent >= -2 for v in ok)
    for text in s[values.notna()]:
        assert re.fullmatch(r"£?\s*[0-9][0-9,]*(\.[0-9]*)?", text.strip())  # no decimal comma, no sign


@SETTINGS
@given(cells(INTISH))
def test_parse_int(s):
    values, reasons = n.parse_int(s)
    assert_read_or_refused(s, values, reasons)
    ok = values.dropna()
    assert (ok.abs() < n.MAX_INT).all()
    for text, value in zip(s[values.notna()], ok, strict=True):
        assert int(text.strip().replace(",", "").split(".")[0]) == value


@SETTINGS
@given(cells(st.from_regex(r"\A-?[0-9]{0,8}(\.[0-9]{0,8})?\Z")))
def test_parse_decimal(s):
    values, reasons = n.parse_decimal(s)
    assert_read_or_refused(s, values, reasons)
    for text, value in zip(s[values.notna()], values.dropna(), strict=True):
        assert float(text.strip()) == value


@SETTINGS
@given(cells(DATEISH))
def test_parse_date_is_iso_or_day_first_and_a_real_date(s):
    values, reasons = n.parse_date(s)
    assert_read_or_refused(s, values, reasons)
    for text, value in zip(s[values.notna()], values.dropna(), strict=True):
        text = text.strip()
        if "/" in text:  # UK day-first, never month-first
            day, month, year = (int(x) for x in text.split(" ")[0].split("/"))
        else:
            year, month, day = (int(x) for x in re.split(r"[T ]", text)[0].split("-"))
        assert (value.year, value.month, value.day) == (year, month, day)


@SETTINGS
@given(cells(st.sampled_from(["yes", "No", " Y ", "true", "FALSE", "1", "0", "1.0", "maybe", "n"])))
def test_parse_bool(s):
    values, reasons = n.parse_bool(s)
    assert_read_or_refused(s, values, reasons)
    allowed = {"true", "yes", "y", "1", "false", "no", "n", "0"}
    for text, value in zip(s[values.notna()], values.dropna(), strict=True):
        key = text.strip().lower().removesuffix(".0")
        assert key in allowed and value == (key in {"true", "yes", "y", "1"})


@SETTINGS
@given(cells(st.sampled_from([*c.METHODS, "Public meeting", "public-meeting", "CODESIGN", "survey ", "pb", "none"])),
       st.booleans())
def test_parse_enum(s, none_is_blank):
    values, reasons = n.parse_enum(s, c.METHODS, none_is_blank=none_is_blank)
    assert values.dropna().isin(c.METHODS).all()
    read, refused = values.notna(), reasons.notna()
    assert not (read & refused).any()
    silent = ~read & ~refused & ~blank(s)
    assert (s[silent].map(n.enum_key) == "none").all() and (not silent.any() or none_is_blank)


@SETTINGS
@given(cells(st.sampled_from([*CODES, *NAMES, "e05000001", " castle   quay ", "E05999999", "Ashbee"]), st.text(max_size=300)))
def test_parse_ward_stores_a_known_code_and_names_the_closest(s):
    values, reasons = n.parse_ward(s, CODES, NAMES)
    assert_read_or_refused(s, values, reasons)
    assert values.dropna().isin(CODES).all()
    for text, code in zip(s[values.notna()], values.dropna(), strict=True):
        assert text.strip().upper() == code or n.text_key(text) == n.text_key(NAMES[CODES.index(code)])
    assert reasons.dropna().str.contains("closest").all()  # every unknown ward names the closest


@SETTINGS
@given(cells(QUARTERISH))
def test_parse_quarter_series_is_canonical_and_idempotent(s):
    values, reasons = n.parse_quarter_series(s)
    assert_read_or_refused(s, values, reasons)
    for value in values.dropna():
        assert re.fullmatch(r"[0-9]{4}-[0-9]{2} Q[1-4]", value)
        assert n.parse_quarter_series(pd.Series([value], dtype="string"))[0].iloc[0] == value


@SETTINGS
@given(cells(st.sampled_from(["Adults and Health", "adh", "  PLACE ", "Plaice", "Children"])))
def test_parse_directorate(s):
    values, reasons = n.parse_directorate(s, REF.directorates, REF.short_names)
    assert_read_or_refused(s, values, reasons)
    assert values.dropna().isin(REF.directorates).all()


@SETTINGS
@given(cells(st.text(alphabet=st.characters(codec="utf-8"), max_size=1200)))
def test_parse_text_keeps_plain_text_and_refuses_hidden_characters(s):
    values, reasons = n.parse_text(s)
    assert_read_or_refused(s, values, reasons)
    for value in values.dropna():
        assert value == value.strip() and 0 < len(value) <= n.MAX_TEXT_CHARS
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", value)


@SETTINGS
@given(st.text(max_size=60), st.lists(st.text(max_size=20), max_size=8))
def test_text_helpers_are_idempotent_and_total(value, choices):
    assert n.text_key(n.text_key(value)) == n.text_key(value)
    assert n.header_key(n.header_key(value)) == n.header_key(value)
    assert n.enum_key(n.enum_key(value)) == n.enum_key(value)
    hits = n.closest(value, choices)
    assert set(hits) <= set(choices) and len(hits) <= 3
    assert n.match_directorate(value, REF.directorates, REF.short_names) in (*REF.directorates, None)


# ---------------------------------------------------------------------------------------------
# The reader and the validator


@SETTINGS
@given(st.binary(max_size=3000), st.sampled_from(["r.csv", "r.xlsx", ""]))
def test_read_table_reads_or_says_why(content, name):
    try:
        raw = read_table(content, name)
    except ReadError as exc:
        assert str(exc)
        return
    assert raw.header and all(isinstance(h, str) for h in raw.header)
    assert raw.rows.index.is_unique and (raw.rows.index > raw.header_line).all()


BUDGET_CELLS = {
    "directorate": st.sampled_from(["ADH", "Adults and Health", "Place", ""]),
    "quarter": st.sampled_from([Q, "2025/26 Q2", "Q2 2025/26", "2025-26 Q3", ""]),
    "budget_line": st.sampled_from(["Grants", "Fund", "Youth", "", "x" * 201]),
    "ward_code": st.sampled_from(["", *CODES, "Ashby", "E05999999"]),
    "total_budget_gbp": MONEYISH,
    "devolved_gbp": MONEYISH,
    "mechanism": st.sampled_from(["", "none", *c.MECHANISMS, "Participatory budgeting", "grants"]),
}


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries(BUDGET_CELLS), min_size=0, max_size=12))
def test_validator_accepts_only_what_satisfies_the_contract(rows):
    columns = list(BUDGET_CELLS)
    text = ",".join(columns) + "\n" + "".join(",".join(_csv_cell(r[c_]) for c_ in columns) + "\n" for r in rows)
    raw = read_table(text.encode())
    checked = validate_return(raw, "budget", directorate="Adults and Health", quarter=Q, ref=REF)
    for p in checked.problems:
        assert p.reason and (p.line is None or p.line == 1 or p.line in raw.rows.index)
    if not checked.ok:
        return
    f = checked.frame
    assert len(f) == len(raw.rows)
    assert (f["directorate"] == "Adults and Health").all() and (f["quarter"] == Q).all()
    assert f["budget_line"].str.len().between(1, 200).all()
    assert f["ward_code"].dropna().isin(CODES).all()
    assert (f["total_budget_gbp"] >= 0).all() and (f["devolved_gbp"] >= 0).all()
    assert (f["devolved_gbp"] <= f["total_budget_gbp"]).all()
    devolved = f["devolved_gbp"] > 0
    assert f.loc[devolved, "mechanism"].isin(c.MECHANISMS).all()
    assert f.loc[~devolved, "mechanism"].isna().all()
    assert not f[["budget_line", "ward_code"]].astype("string").fillna("").duplicated().any()
