"""Real files published by councils and ONS go through the reader and normalisers without a crash.

They are read from ../shared/reference (never copied here); the tests skip where it is absent.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from etl import normalise as n
from etl.read import read_table

OXFORD = ("oxford_city_council_expenditure-over-500-jan-mar-2014.csv", "oxford_city_council_expenditure-over-500-jul-sep-2017.csv")
IMD = (
    "File_1_-_IMD2019_Index_of_Multiple_Deprivation_4councils.csv",
    "File_2_-_IoD2019_Domains_of_Deprivation_4councils.csv",
    "File_6_-_IoD2019_Population_Denominators_4councils.csv",
)


def _records(content: bytes) -> int:
    text = content.decode("utf-8-sig", errors="replace")
    return sum(1 for row in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in row)) - 1


def _column(table, *names: str):
    keys = [n.header_key(h) for h in table.header]
    for name in names:
        if n.header_key(name) in keys:
            return table.rows[keys.index(n.header_key(name))]
    raise AssertionError(f"none of {names} in {table.header}")


@pytest.mark.parametrize("name", OXFORD)
def test_oxford_spend_files_with_drifting_headers(shared_reference: Path, name: str):
    content = (shared_reference / "spending" / name).read_bytes()
    table = read_table(content, name)
    assert len(table.rows) == _records(content) > 3000
    paid = _column(table, "paid_date", "Paid Date")
    dates, date_problems = n.parse_date(paid)
    given = paid.str.strip() != ""  # the 2014 file ends with a stray ',,xxx,,' row
    assert date_problems.isna().all() and dates[given].notna().all()  # every dd/mm/yyyy date read day-first
    assert given.sum() >= len(paid) - 1
    assert dates.min().year >= 2013 and dates.max().year <= 2018
    amounts, reasons = n.parse_money(_column(table, "amount", "Amount"))
    negative = reasons == "must not be negative"
    assert (amounts.notna() | negative).all()  # every amount reads, or is a refund the contract rejects
    assert amounts.sum() > 0


@pytest.mark.parametrize("name", IMD)
@pytest.mark.parametrize("bom", [False, True])
def test_imd_files_with_bom_and_quoted_thousands(shared_reference: Path, name: str, bom: bool):
    content = (shared_reference / "imd2019" / name).read_bytes()
    if bom:
        content = b"\xef\xbb\xbf" + content  # the originals carry a UTF-8 BOM
    table = read_table(content, name)
    assert table.header[0] == "LSOA code (2011)"
    assert len(table.rows) == _records(content) == 744
    numbers = [h for h in table.header if "Rank" in h or "Total population" in h]
    assert numbers
    for header in numbers:
        values, reasons = n.parse_int(table.rows[table.header.index(header)])
        assert reasons.isna().all(), header
        assert values.min() >= 1


def test_imd_ranks_with_thousands_separators_read_as_numbers(shared_reference: Path):
    name = IMD[0]
    table = read_table((shared_reference / "imd2019" / name).read_bytes(), name)
    ranks, _ = n.parse_int(table.rows[4])
    first = table.rows.iloc[0]
    assert first[0] == "E01003911" and first[4] == "8,105" and ranks.iloc[0] == 8105


@pytest.mark.parametrize("name", ["trafford_land_and_building_assets.csv", "trafford_community_hubs.csv"])
def test_other_council_files_read_without_a_crash(shared_reference: Path, name: str):
    content = (shared_reference / "spending" / name).read_bytes()
    table = read_table(content, name)
    assert len(table.rows) == _records(content)


def test_a_real_360giving_workbook_reads(shared_reference: Path):
    path = shared_reference / "grants_360giving" / "360-giving-schema-titles-with-meta-tab-2023.xlsx"
    table = read_table(path.read_bytes(), path.name, sheet="Grants")  # not the first sheet ('Meta')
    assert table.source == "xlsx" and len(table.header) > 10 and "Identifier" in table.header
