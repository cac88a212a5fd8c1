"""Templates are generated from the schemas and are accepted by the loader as they come."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from etl import contract as c
from etl import templates, warehouse
from etl.load import check_return
from etl.schemas import RETURN_MODELS, columns_of
from tests.test_submit_fixtures import ADULTS, QUARTER, make_warehouse


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_warehouse(tmp_path_factory.mktemp("tpl") / "w.duckdb")


@pytest.mark.parametrize("return_type", c.RETURN_TYPES)
def test_columns_come_from_the_schema(return_type: str) -> None:
    expected = [name for name, _, _ in columns_of(RETURN_MODELS[return_type])]
    assert templates.template_columns(return_type) == expected
    assert set(expected) == set(c.RETURN_COLUMNS[return_type])
    header = templates.template_csv(return_type).decode("utf-8-sig").strip()
    assert header.split(",") == expected


@pytest.mark.parametrize("return_type", c.RETURN_TYPES)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_blank_template_is_a_valid_nil_return(db: Path, return_type: str, fmt: str) -> None:
    data = templates.template_csv(return_type) if fmt == "csv" else templates.template_xlsx(return_type)
    with warehouse.read_only(db) as con:
        checked = check_return(con, return_type, ADULTS, QUARTER, data, f"t.{fmt}")
    assert not isinstance(checked, list) and checked.ok, getattr(checked, "problems", checked)
    assert len(checked.frame) == 0


def test_excel_template_sheets_guidance_and_dropdowns() -> None:
    data = templates.template_xlsx("engagement", directorates=[ADULTS, "Place and Environment"])
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["engagement", "Allowed values", "Guidance"]
    ws = book["engagement"]
    header = [cell.value for cell in ws[1]]
    assert header == templates.template_columns("engagement")
    validated = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            validated[header[rng.min_col - 1]] = dv.formula1
    assert set(validated) == {"directorate", "method", "stage", "feedback_published"}
    lists = book["Allowed values"]
    columns = {col[0].value: [v.value for v in col[1:] if v.value] for col in lists.iter_cols()}
    assert columns["method"] == list(c.METHODS)
    assert columns["stage"] == list(c.STAGES)
    assert columns["directorate"] == [ADULTS, "Place and Environment"]
    guide = [[cell.value for cell in row] for row in book["Guidance"].iter_rows(min_row=5)]
    assert [r[0] for r in guide] == header
    assert any("workshop" in (r[5] or "") for r in guide)


def test_filled_excel_template_is_accepted(db: Path) -> None:
    book = openpyxl.load_workbook(io.BytesIO(templates.template_xlsx("budget")))
    ws = book["budget"]
    ws.append([ADULTS, QUARTER, "Community grants pot", "E05900001", 100000, 25000, "community_grants"])
    buf = io.BytesIO()
    book.save(buf)
    with warehouse.read_only(db) as con:
        checked = check_return(con, "budget", ADULTS, QUARTER, buf.getvalue(), "budget.xlsx")
    assert not isinstance(checked, list) and checked.ok, checked.problems
    assert len(checked.frame) == 1


def test_template_cli(tmp_path: Path, db: Path) -> None:
    from etl.cli import main

    out = tmp_path / "p.xlsx"
    assert main(["template", "--return", "partnerships", "--db", str(db), "--out", str(out)]) == 0
    assert openpyxl.load_workbook(out).sheetnames[0] == "partnerships"
    assert main(["template", "--return", "budget", "--format", "csv", "--out", str(tmp_path / "b.csv")]) == 0
    assert (tmp_path / "b.csv").read_bytes() == templates.template_csv("budget")


def test_a_directorate_s_template_for_a_quarter(db: Path) -> None:
    wards = [("E05900001", "Castle Quay", "North"), ("E05900002", "Mill Green", "South")]
    data = templates.template_xlsx("engagement", directorate=ADULTS, quarter="2026-27 Q2", wards=wards)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["engagement", "Allowed values", "Guidance", "Wards"]
    ws = book["engagement"]
    header = [cell.value for cell in ws[1]]
    sources = {header[rng.min_col - 1]: dv.formula1 for dv in ws.data_validations.dataValidation
               for rng in dv.sqref.ranges}
    # A drop-down on every column with a fixed list.
    assert set(sources) == {"directorate", "quarter", "ward_code", "method", "stage", "feedback_published"}
    lists = book["Allowed values"]
    columns = {col[0].value: [v.value for v in col[1:] if v.value] for col in lists.iter_cols()}
    assert columns["ward_code"] == ["Castle Quay", "Mill Green"]
    assert columns["quarter"] == ["2026-27 Q2"] and columns["directorate"] == [ADULTS]
    letter = next(col[0].column_letter for col in lists.iter_cols() if col[0].value == "ward_code")
    assert sources["ward_code"] == f"'Allowed values'!${letter}$2:${letter}$3"
    assert [[c.value for c in r] for r in book["Wards"].iter_rows(min_row=2)] == [
        ["Castle Quay", "E05900001", "North"], ["Mill Green", "E05900002", "South"]]
    # Directorate and quarter filled in; the examples are in the chosen quarter.
    assert (ws.cell(2, 1).value, ws.cell(2, 2).value) == (ADULTS, "2026-27 Q2")
    guide = {r[0]: r[4] for r in ([c.value for c in row] for row in book["Guidance"].iter_rows(min_row=5))}
    assert guide["quarter"] == "2026-27 Q2" and guide["activity_date"] == "2026-07-31"
    assert "Adults and Health, 2026-27 Q2" in book["Guidance"].cell(1, 1).value


def test_a_prefilled_template_is_a_nil_return_and_takes_rows(db: Path) -> None:
    data = templates.template_xlsx("budget", directorate=ADULTS, quarter=QUARTER)
    with warehouse.read_only(db) as con:
        nil = check_return(con, "budget", ADULTS, QUARTER, data, "t.xlsx")
        assert nil.ok and len(nil.frame) == 0, nil.problems
        book = openpyxl.load_workbook(io.BytesIO(data))
        ws = book["budget"]
        for j, v in enumerate(["Community grants pot", "E05900001", 100000, 25000, "community_grants"], start=3):
            ws.cell(2, j, v)
        buf = io.BytesIO()
        book.save(buf)
        one = check_return(con, "budget", ADULTS, QUARTER, buf.getvalue(), "t.xlsx")
    assert one.ok and len(one.frame) == 1 and one.frame.index[0] == 2, one.problems
