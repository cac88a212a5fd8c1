"""Blank return templates (CSV and Excel), generated from the pandera schemas in etl.schemas.

Nothing here retypes a column: names, order, descriptions, examples and allowed values all come
from `etl.schemas.columns_of` and the schema's `isin` checks, so a template never drifts from
what the loader accepts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from etl import contract as c
from etl.quarters import quarter_bounds
from etl.schemas import RETURN_MODELS, columns_of

BOOL_VALUES: tuple[str, ...] = ("yes", "no")
_KIND_GUIDANCE: dict[str, str] = {
    "text": "text",
    "quarter": "quarter, like 2025-26 Q2 (2025/26 Q2 also accepted)",
    "directorate": "directorate name or short name",
    "ward": "ward code (E05 and six digits) or exact ward name",
    "money": "pounds, like 1234.50 or £1,234.50 (no decimal comma)",
    "int": "whole number",
    "count": "whole number (blank = 0)",
    "decimal": "number",
    "date": "date, 2025-07-31 or 31/07/2025 (day first)",
    "bool": "yes or no",
    "mechanism": "one of the allowed values (blank or none when nothing is devolved)",
}


def _model(return_type: str) -> Any:
    if return_type not in RETURN_MODELS:
        raise ValueError(f"unknown return type {return_type!r}; one of {', '.join(c.RETURN_TYPES)}")
    return RETURN_MODELS[return_type]


def allowed_values(return_type: str) -> dict[str, list[str]]:
    """Column -> allowed values, from the schema's `isin` checks (plus yes/no for booleans)."""
    schema = _model(return_type).to_schema()
    out: dict[str, list[str]] = {}
    for name, column in schema.columns.items():
        for check in column.checks:
            values = (check.statistics or {}).get("allowed_values")
            if check.name == "isin" and values:
                out[name] = [str(v) for v in values]
        if (column.metadata or {}).get("kind") == "bool":
            out[name] = list(BOOL_VALUES)
    return out


def examples(return_type: str, quarter: str | None = None, directorate: str | None = None) -> dict[str, str]:
    """Column -> example value, in the chosen quarter and directorate where they are given."""
    out = {name: str(meta.get("example", "")) for name, meta, _ in columns_of(_model(return_type))}
    if directorate:
        out["directorate"] = directorate
    if quarter:
        start, end = quarter_bounds(quarter)
        out["quarter"] = quarter
        if "activity_date" in out:
            out["activity_date"] = (start + dt.timedelta(days=30)).isoformat()  # a day inside the quarter
        if out.get("start_date") and dt.date.fromisoformat(out["start_date"]) > end:
            out["start_date"] = start.isoformat()
    return out


def guidance(return_type: str, quarter: str | None = None, directorate: str | None = None) -> list[dict[str, str]]:
    """One row per column: column, required, type, description, example, allowed values."""
    allowed = allowed_values(return_type)
    example = examples(return_type, quarter, directorate)
    rows = []
    for name, meta, description in columns_of(_model(return_type)):
        kind = meta.get("kind", "text")
        rows.append({
            "column": name,
            "required": "optional (may be left out)" if meta.get("optional") else "required column",
            "type": _KIND_GUIDANCE.get(kind, kind.replace("_", " ")),
            "description": description,
            "example": example[name],
            "allowed values": ", ".join(allowed.get(name, [])),
        })
    return rows


def template_columns(return_type: str) -> list[str]:
    """The header of a return's template, in schema order."""
    return [name for name, _, _ in columns_of(_model(return_type))]


def template_csv(return_type: str) -> bytes:
    """A blank CSV template (header only, UTF-8 with BOM so Excel opens it cleanly)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(template_columns(return_type))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def template_xlsx(
    return_type: str,
    *,
    directorates: Sequence[str] = (),
    ward_codes: Sequence[str] = (),
    wards: Sequence[tuple[str, str, str | None]] = (),
    quarter: str | None = None,
    directorate: str | None = None,
    rows: int = 1000,
    prefilled_rows: int = 200,
) -> bytes:
    """An Excel template: the return's sheet (named after it), a Guidance sheet, an 'Allowed values'
    sheet feeding a drop-down on every column with a fixed list, and a Wards sheet.

    With `directorate` and `quarter` the template is one directorate's return for one quarter:
    both are filled in on the first `prefilled_rows` rows (a row with nothing else filled in is
    skipped by the loader) and offered as the only choice. `wards` is (code, name, neighbourhood)
    per ward: the ward_code drop-down offers the names (the loader reads a name or a code).
    """
    cols = template_columns(return_type)
    lists: dict[str, list[str]] = dict(allowed_values(return_type))
    if directorate:
        lists["directorate"] = [directorate]
    elif directorates:
        lists["directorate"] = list(directorates)
    if quarter:
        lists["quarter"] = [quarter]
    ward_names = [name for _, name, _ in wards]
    if ward_names and "ward_code" in cols:
        lists["ward_code"] = ward_names
    elif ward_codes and "ward_code" in cols:
        lists["ward_code"] = list(ward_codes)
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    text = book.add_format({"num_format": "@"})

    sheet = book.add_worksheet(return_type)
    list_sheet_name = "Allowed values"
    lists_ws = book.add_worksheet(list_sheet_name)
    guide_ws = book.add_worksheet("Guidance")
    if wards:
        _wards_sheet(book.add_worksheet("Wards"), wards, head)

    # Allowed values: one column per list; the drop-downs refer to these ranges.
    refs: dict[str, str] = {}
    for j, (name, values) in enumerate(lists.items()):
        lists_ws.write(0, j, name, head)
        for i, v in enumerate(values, start=1):
            lists_ws.write_string(i, j, v)
        letter = xl_col_to_name(j)
        refs[name] = f"='{list_sheet_name}'!${letter}$2:${letter}${len(values) + 1}"
        lists_ws.set_column(j, j, max(14, max(len(v) for v in [name, *values]) + 2))

    for j, name in enumerate(cols):
        sheet.write(0, j, name, head)
        sheet.set_column(j, j, max(12, len(name) + 2, *(len(v) + 2 for v in lists.get(name, [])[:1])),
                         text if name in ("quarter", "ward_code") else None)
        if name in refs:
            # Directorates may also be given by short name, wards by code: only warn for those.
            strict = name not in ("directorate", "ward_code")
            sheet.data_validation(1, j, rows, j, {
                "validate": "list", "source": refs[name], "ignore_blank": True,
                "error_type": "stop" if strict else "warning",
                "error_title": "Not an allowed value",
                "error_message": f"Choose a value for {name} from the list (sheet '{list_sheet_name}').",
            })
    if directorate and quarter:
        for i in range(1, prefilled_rows + 1):
            sheet.write_string(i, cols.index("directorate"), directorate)
            sheet.write_string(i, cols.index("quarter"), quarter)
    sheet.freeze_panes(1, 0)

    info = guidance(return_type, quarter, directorate)
    fields = list(info[0])
    title = c.RETURN_TITLES.get(return_type, return_type)
    if directorate and quarter:
        title += f": {directorate}, {quarter}"
    guide_ws.write(0, 0, title, book.add_format({"bold": True, "font_size": 14}))
    guide_ws.write(1, 0, "One file is one return: one directorate, one quarter. Fill in the sheet "
                         f"'{return_type}' (one row per record; header in row 1). A file with only the "
                         "header is a nil return."
                         + (" The directorate and quarter are filled in already; a row with nothing "
                            "else filled in is skipped." if directorate and quarter else ""))
    for j, f in enumerate(fields):
        guide_ws.write(3, j, f, head)
    for i, row in enumerate(info, start=4):
        for j, f in enumerate(fields):
            guide_ws.write_string(i, j, row[f], wrap)
    for j, width in enumerate((22, 24, 34, 60, 22, 50)):
        guide_ws.set_column(j, j, width)
    sheet.activate()
    book.close()
    return buf.getvalue()


def _wards_sheet(ws: Any, wards: Sequence[tuple[str, str, str | None]], head: Any) -> None:
    for j, title in enumerate(("ward_name", "ward_code", "neighbourhood")):
        ws.write(0, j, title, head)
    for i, (code, name, neighbourhood) in enumerate(wards, start=1):
        ws.write_string(i, 0, name)
        ws.write_string(i, 1, code)
        ws.write_string(i, 2, neighbourhood or "")
    ws.set_column(0, 0, max(14, *(len(n) + 2 for _, n, _ in wards)))
    ws.set_column(1, 2, 16)
    ws.freeze_panes(1, 0)
