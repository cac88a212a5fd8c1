"""Pure helpers for the submit, history and admin pages (no streamlit here).

* `problems_frame`: the rejection report as a table.
* `annotate`: the person's own file with a `problems` column added (CSV in, CSV out; xlsx in,
  xlsx out), every problem of a line joined into that line's cell.
* `preview`: what an accepted upload would change, from a dry run on a private copy of the
  warehouse: rows, and the directorate's KPIs for the quarter before and after.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from etl import access, queries, warehouse
from etl.access import Actor
from etl.read import ReadError, csv_records, read_table
from etl.records import Outcome
from etl.schemas import RETURN_MODELS, columns_of
from etl.validate import ANNOTATION_COLUMN, Problem, is_annotation_header
from etl.warehouse import WarehouseLike


def problems_frame(problems: Sequence[Problem]) -> pd.DataFrame:
    """line, column, value, reason: one row per problem ('file' where no line applies)."""
    return pd.DataFrame(
        {
            "line": ["file" if p.line is None else str(p.line) for p in problems],
            "column": [p.column or "" for p in problems],
            "value": ["" if p.value is None else str(p.value) for p in problems],
            "reason": [p.reason for p in problems],
        },
        columns=["line", "column", "value", "reason"],
    )


def _by_line(problems: Sequence[Problem]) -> dict[int | None, str]:
    grouped: dict[int | None, list[str]] = defaultdict(list)
    for p in problems:
        text = f"{p.column}: {p.reason}" if p.column else p.reason
        if p.value not in (None, ""):
            text += f" (value '{p.value}')"
        grouped[p.line].append(text)
    return {line: "; ".join(texts) for line, texts in grouped.items()}


def annotate(content: bytes, file_name: str, problems: Sequence[Problem], sheet: str | None = None
             ) -> tuple[bytes, str, str] | None:
    """(bytes, file name, MIME type) of the file with a `problems` column; None if unreadable.

    Every line stays on its line (blank ones too), so the line numbers of the report still point
    at the right rows; a problems column from an earlier round is replaced, not repeated. The
    loader ignores the column, so the corrected file can be sent back as it is.
    """
    notes = _by_line(problems)
    stem = Path(file_name or "return").stem.removesuffix("-problems")
    if content.startswith(b"PK\x03\x04"):
        out = _annotate_xlsx(content, notes, sheet)
        if out is not None:
            return out, f"{stem}-problems.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    try:
        records, delimiter = csv_records(content)
        header_line = read_table(content, file_name, sheet=sheet).header_line
    except ReadError:
        return None
    header = next(rec for line, rec in records if line == header_line)
    drop = {i for i, cell in enumerate(header) if is_annotation_header(cell)}
    width = len(header) - len(drop)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    header_note = notes.get(header_line) or notes.get(None)
    for line, record in records:
        cells = [v for i, v in enumerate(record) if i not in drop]
        if line == header_line:
            writer.writerow([*cells, f"{ANNOTATION_COLUMN} ({header_note})" if header_note else ANNOTATION_COLUMN])
        elif not any(v.strip() for v in record):
            writer.writerow(cells)  # a blank line stays a blank line
        else:
            writer.writerow([*cells, *[""] * (width - len(cells)), notes.get(line, "")])
    return ("\ufeff" + buf.getvalue()).encode("utf-8"), f"{stem}-problems.csv", "text/csv"


def _annotate_xlsx(content: bytes, notes: dict[int | None, str], sheet: str | None) -> bytes | None:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(content))
    except Exception:
        return None
    by_name = {name.strip().lower(): name for name in book.sheetnames}  # as etl.read chooses it
    chosen = by_name.get((sheet or "").lower())
    ws = book[chosen] if chosen else book.worksheets[0]
    try:
        raw = read_table(content, "x.xlsx", sheet=sheet)
        header_line = raw.header_line
    except ReadError:
        header_line = 1
    earlier = [cell.column for cell in ws[header_line] if isinstance(cell.value, str) and is_annotation_header(cell.value)]
    col = earlier[0] if earlier else ws.max_column + 1
    if earlier:  # a file annotated before: its old notes go, the new ones take their place
        for row in ws.iter_rows(min_row=header_line + 1, min_col=col, max_col=col):
            row[0].value = None
    header_note = notes.get(header_line) or notes.get(None)
    ws.cell(row=header_line, column=col, value=f"{ANNOTATION_COLUMN} ({header_note})" if header_note else ANNOTATION_COLUMN)
    for line, text in notes.items():
        if line is not None and line != header_line:
            ws.cell(row=line, column=col, value=text)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _fmt(value: object, unit: str, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    v = float(value)  # type: ignore[arg-type]
    if unit == "share":
        v, text = v * 100, "{:,.1f}"
    elif unit == "count":
        text = "{:,.0f}"
    else:
        text = "{:,.2f}" if unit == "index" else "{:,.1f}"
    shown = text.format(v)
    if shown.lstrip("-").strip("0.,") == "":  # a change that rounds to nothing: no sign, never "-0.00"
        shown = text.format(0.0)
    elif signed and v > 0:
        shown = "+" + shown
    if unit == "share":
        shown += " pts" if signed else "%"
    return shown


def kpi_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The before/after KPI table as text for people: shares in %, counts whole, blanks as —."""
    try:
        import kpis

        units = {k: kpis.KPI_BY_NAME[k].unit for k in frame["kpi"]}
        titles = {k: getattr(kpis.KPI_BY_NAME[k], "title", k) for k in frame["kpi"]}
    except Exception:
        units, titles = {}, {}
    return pd.DataFrame({
        "KPI": [titles.get(k, k) for k in frame["kpi"]],
        "kpi": list(frame["kpi"]),
        "before": [_fmt(v, units.get(k, "")) for k, v in zip(frame["kpi"], frame["before"], strict=True)],
        "after": [_fmt(v, units.get(k, "")) for k, v in zip(frame["kpi"], frame["after"], strict=True)],
        "change": [_fmt(v, units.get(k, ""), signed=True) for k, v in zip(frame["kpi"], frame["change"], strict=True)],
    })


def money(value: object) -> str:
    """An amount in pounds for people: £12,500.50 (blank when there is none)."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return ""
    return f"£{float(value):,.2f}"  # type: ignore[arg-type]


def long_date(value: object) -> str:
    """A date for people: 12 May 2026 (blank when there is none)."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return ""
    return f"{pd.Timestamp(value):%-d %B %Y}"  # type: ignore[arg-type]


def file_slug(text: str) -> str:
    """Words made safe for a file name: 'Adults and Health' -> 'adults-and-health'."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "return"


def money_columns(return_type: str) -> list[str]:
    """The columns of a return that hold pounds (from the schema's column kinds)."""
    return [name for name, meta, _ in columns_of(RETURN_MODELS[return_type]) if meta.get("kind") == "money"]


def rows_display(rows: pd.DataFrame, return_type: str | None = None) -> pd.DataFrame:
    """Stored rows for people: blank text cells blank (not None), dates without a time, money as £12,500.50."""
    out = rows.copy()
    pounds = set(money_columns(return_type)) if return_type else set()
    for name in out.columns:
        if name in pounds:
            out[name] = out[name].map(money)
        elif pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = out[name].dt.strftime("%Y-%m-%d").fillna("")
        elif not pd.api.types.is_numeric_dtype(out[name]) or pd.api.types.is_bool_dtype(out[name]):
            out[name] = out[name].astype("string").fillna("")
    return out


def deadlines_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The deadlines table for people: quarter, and the date due as 12 May 2026."""
    return pd.DataFrame({"quarter": frame["quarter"].astype("string"),
                         "returns due by": [long_date(v) for v in frame["due_date"]]})


@dataclass
class Preview:
    """What confirming an upload would do."""

    outcome: Outcome
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)  # the new rows as stored
    kpis: pd.DataFrame = field(default_factory=pd.DataFrame)  # kpi, before, after, change
    kpi_error: str | None = None


def _kpis(con: Any, directorate: str, quarter: str) -> dict[str, object]:
    import kpis  # another team's package; imported late so the submit page works without it

    return kpis.kpi_values(con, kpis.Scope((quarter,), directorates=(directorate,)))


def preview(actor: Actor, db: WarehouseLike, *, return_type: str, directorate: str, quarter: str,
            content: bytes, file_name: str) -> Preview:
    """Dry-run the upload in a rolled-back transaction; for an accepted one, the rows and the KPIs
    before/after."""
    with access.dry_run_as(actor, db, return_type=return_type, directorate=directorate, quarter=quarter,
                           content=content, file_name=file_name) as (outcome, con):
        result = Preview(outcome)
        if outcome.status != "accepted" or outcome.submission_id is None:
            return result
        result.rows = queries.submission_rows(con, return_type, outcome.submission_id)
        canonical = access.resolve_directorate(db, directorate)
        try:
            with warehouse.read_only(db) as now:
                before = _kpis(now, canonical, quarter)
            after = _kpis(con, canonical, quarter)
        except Exception as exc:  # the KPI engine is optional here; the submission is not
            result.kpi_error = f"KPIs could not be computed: {exc}"
            return result
        frame = pd.DataFrame({"kpi": list(after), "before": [before.get(k) for k in after],
                              "after": list(after.values())})
        frame["change"] = [
            None if b is None or a is None else a - b for b, a in zip(frame["before"], frame["after"], strict=True)
        ]
        result.kpis = frame
        return result
