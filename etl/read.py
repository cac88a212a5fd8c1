"""Read the bytes of a return (CSV or .xlsx) into a table of text cells with file line numbers.

Forgiving about how spreadsheets write files (encodings, separators, line ends, blank rows);
strict about what it cannot read, which it reports as a `ReadError` in plain English.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass

import pandas as pd

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls


class ReadError(Exception):
    """The file cannot be read as a table; the message says why in plain English."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class RawTable:
    """Header cells (as written), and one row of text cells per record, indexed by file line."""

    header: list[str]
    header_line: int
    rows: pd.DataFrame  # columns are positions 0..len(header)-1; index = line number
    source: str  # 'csv' or 'xlsx'
    encoding: str | None = None
    delimiter: str | None = None


def read_table(content: bytes, file_name: str = "", sheet: str | None = None) -> RawTable:
    """Read CSV or .xlsx bytes; `sheet` names the preferred worksheet of a workbook."""
    if not content or not content.strip():
        raise ReadError("The file is empty: it needs a header row naming the columns.")
    if content.startswith(_OLE_MAGIC):
        raise ReadError(
            "This is an old Excel .xls file. Save it as Excel Workbook (.xlsx) or CSV and send it again."
        )
    if content.startswith(_XLSX_MAGIC):
        return _read_xlsx(content, sheet)
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        raise ReadError("The file is named .xlsx but is not an Excel workbook.")
    return _read_csv(content)


# ---------------------------------------------------------------------------------------------
# CSV


def _decode(content: bytes) -> tuple[str, str]:
    if b"\x00" in content[:4096]:
        raise ReadError(
            "The file is not a text (CSV) file. Send a CSV file (UTF-8 or Windows-1252) or an .xlsx workbook."
        )
    try:
        return content.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"The file's characters cannot be read (byte {exc.start + 1} is not UTF-8 or Windows-1252). "
            "Save it as 'CSV UTF-8' and send it again."
        ) from exc


def _sniff_delimiter(text: str) -> str:
    """Comma or semicolon, whichever splits the first non-blank line more (outside quotes)."""
    for line in text.splitlines():
        if line.strip():
            unquoted = "".join(part for i, part in enumerate(line.split('"')) if i % 2 == 0)
            return ";" if unquoted.count(";") > unquoted.count(",") else ","
    return ","


def _read_csv(content: bytes) -> RawTable:
    text, encoding = _decode(content)
    delimiter = _sniff_delimiter(text)
    fast = _read_csv_fast(text, delimiter, encoding)
    if fast is not None:
        return fast
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    header_line = 0
    lines: list[int] = []
    records: list[list[str]] = []
    last_line = 0
    try:
        for record in reader:
            start = last_line + 1  # a quoted field may span lines: report where the record starts
            last_line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank rows are ignored wherever they are
            if header is None:
                header, header_line = record, start
                continue
            lines.append(start)
            records.append(record)
    except csv.Error as exc:
        raise ReadError(
            f"Line {last_line + 1} cannot be read as CSV ({exc}). Check its quote marks: a quoted "
            'value must start and end with " and a " inside it is written twice ("").',
            line=last_line + 1,
        ) from exc
    if header is None:
        raise ReadError("The file has no header row naming the columns.")
    return RawTable(
        header=[h.strip() for h in header],
        header_line=header_line,
        rows=_frame(records, lines, len(header)),
        source="csv",
        encoding=encoding,
        delimiter=delimiter,
    )


def _read_csv_fast(text: str, delimiter: str, encoding: str) -> RawTable | None:
    """pandas' C parser for big files; None (use the exact path) when line numbers could drift.

    With blank lines kept as empty rows, row i of the parse is file line header_line + 1 + i,
    unless a quoted field spans lines (then a cell holds a line break) or line ends are bare CRs.
    Stray quote marks, which pandas forgives and the exact reader reports, also go the exact way.
    """
    if "\r" in text.replace("\r\n", ""):
        return None
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip(delimiter + " \t\r")), None)
    if first is None or len(lines) < 1000:
        return None  # small files: the exact path is fast enough
    if '"' in text:
        try:
            for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
                pass
        except csv.Error:
            return None
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype="string", keep_default_na=False, na_filter=False,
            skip_blank_lines=False, header=None, skiprows=first, engine="c",
        )
    except (pd.errors.ParserError, ValueError):
        return None  # ragged rows or odd quoting
    frame = frame.fillna("")
    if any(frame[col].str.contains(r"[\r\n]", regex=True).any() for col in frame.columns):
        return None  # a quoted field spans lines
    header = [h.strip() for h in frame.iloc[0].tolist()]
    rows = frame.iloc[1:]
    rows.index = pd.Index(range(first + 2, first + 2 + len(rows)), name="line")
    rows = rows[rows.apply(lambda s: s.str.strip() != "").any(axis=1)]
    rows.columns = range(rows.shape[1])
    return RawTable(header=header, header_line=first + 1, rows=rows, source="csv", encoding=encoding, delimiter=delimiter)


def _frame(records: list[list[str]], lines: list[int], width: int) -> pd.DataFrame:
    """Rows as a text frame; short rows are padded, and cells beyond the header kept for checks."""
    wide = max([width, *map(len, records)]) if records else width
    padded = [r + [""] * (wide - len(r)) if len(r) < wide else r for r in records]
    frame = pd.DataFrame(padded, index=pd.Index(lines, name="line"), columns=range(wide), dtype="string")
    return frame


# ---------------------------------------------------------------------------------------------
# Excel


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(round(value, 10))
    return str(value)


def _read_xlsx(content: bytes, sheet: str | None) -> RawTable:
    from openpyxl import load_workbook  # imported here: only Excel uploads pay for it

    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ReadError("The file looks like an Excel workbook but cannot be opened.") from exc
    try:
        names = {n.strip().lower(): n for n in wb.sheetnames}
        chosen = names.get((sheet or "").lower()) or wb.sheetnames[0]
        ws = wb[chosen]
        ws.reset_dimensions()  # some generators store a wrong sheet size; read what is there
        header: list[str] | None = None
        header_line = 0
        lines: list[int] = []
        records: list[list[str]] = []
        for row_no, row in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in row]
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header, header_line = cells, row_no
                continue
            lines.append(row_no)
            records.append(cells)
    finally:
        wb.close()
    if header is None:
        raise ReadError(f"The worksheet '{chosen}' is empty: it needs a header row naming the columns.")
    while header and not header[-1].strip():
        header.pop()  # openpyxl reports formatted but empty trailing columns
    records = [r[: max(len(header), _last_filled(r))] for r in records]
    return RawTable(
        header=[h.strip() for h in header],
        header_line=header_line,
        rows=_frame(records, lines, len(header)),
        source="xlsx",
    )


def _last_filled(cells: list[str]) -> int:
    for i in range(len(cells), 0, -1):
        if cells[i - 1].strip():
            return i
    return 0
