"""Read the bytes of a return (CSV or .xlsx) into a table of text cells with file line numbers.

Forgiving about how spreadsheets write files (encodings, separators, line ends, blank rows);
strict about what it cannot read, which it reports as a `ReadError` in plain English.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, and password-protected .xlsx
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")  # UTF-32 LE starts like UTF-16 LE

# Limits on what one file may be. The upload limit is the same number as Streamlit's
# server.maxUploadSize in .streamlit/config.toml (a test keeps the two equal); the command line
# checks it before reading a file into memory.
MAX_FILE_MB = 200
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024
MAX_COLUMNS = 1_000  # a return has 22 columns; a wider line is not a return (and costs minutes)
MAX_CELL_CHARS = 100_000  # longer than any legitimate cell; an unclosed quote also runs this long
# A workbook is a zip: what it would unpack to is checked before anything is unpacked.
MAX_XLSX_UNPACKED = 2 * 1024 * 1024 * 1024
MAX_XLSX_RATIO = 200  # real sheets compress 5-50x; a zip bomb, thousands of times
_UTF8_BOM = b"\xef\xbb\xbf"


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


# What a return may be sent as, by file name, and how to name the kinds people send by mistake.
ACCEPTED_EXTENSIONS = (".csv", ".xlsx")
_KNOWN_KINDS = {
    ".pdf": "a PDF file",
    ".xls": "an old Excel .xls workbook",
    ".xlsm": "an Excel workbook with macros (.xlsm)",
    ".xlsb": "an Excel binary workbook (.xlsb)",
    ".ods": "an OpenDocument spreadsheet (.ods)",
    ".numbers": "an Apple Numbers file",
    ".doc": "a Word document",
    ".docx": "a Word document",
    ".odt": "an OpenDocument text file (.odt)",
    ".txt": "a text file (.txt)",
    ".tsv": "a tab-separated file (.tsv)",
    ".json": "a JSON file",
    ".zip": "a zip archive",
    ".png": "a picture",
    ".jpg": "a picture",
    ".jpeg": "a picture",
}


def refused_file_type(file_name: str) -> str | None:
    """Why a file of this name is not accepted as a return (None for .csv and .xlsx), in plain English."""
    suffix = Path(file_name or "").suffix.lower()
    if suffix in ACCEPTED_EXTENSIONS:
        return None
    kind = _KNOWN_KINDS.get(suffix) or (f"a {suffix} file" if suffix else "a file without an extension")
    return (f"{file_name} is {kind}; send the return as CSV or Excel .xlsx. In your spreadsheet, "
            "save the return as 'CSV UTF-8' or 'Excel Workbook (.xlsx)' and attach that file. "
            "Nothing was checked or stored.")


def read_table(content: bytes, file_name: str = "", sheet: str | None = None) -> RawTable:
    """Read CSV or .xlsx bytes; `sheet` names the preferred worksheet of a workbook."""
    if len(content) > MAX_FILE_BYTES:
        raise ReadError(too_big_message(len(content)))
    if not content or not content.strip():
        raise ReadError("The file is empty: it needs a header row naming the columns.")
    if content.startswith(_OLE_MAGIC):
        raise ReadError(
            "This is an old Excel .xls file or a password-protected workbook. Save it as Excel "
            "Workbook (.xlsx) without a password, or as CSV, and send it again."
        )
    if content.startswith(_XLSX_MAGIC):
        return _read_xlsx(content, sheet)
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        raise ReadError("The file is named .xlsx but is not an Excel workbook.")
    return _read_csv(content)


def too_big_message(size: int) -> str:
    """The message for a file over the upload limit."""
    return (f"The file is {size / 1024 / 1024:,.0f} MB; the most one file may be is {MAX_FILE_MB} MB. "
            "Split the return or remove what does not belong in it.")


# ---------------------------------------------------------------------------------------------
# CSV


def _decode(content: bytes) -> tuple[str, str]:
    if content.startswith(_UTF16_32_BOMS):
        raise ReadError(
            "The file is saved as UTF-16 or UTF-32 ('Unicode Text'). Save it as 'CSV UTF-8' and send it again."
        )
    nul = content.find(b"\x00")
    if nul >= 0:
        line = content.count(b"\n", 0, nul) + 1
        raise ReadError(
            f"The file is not a text (CSV) file: line {line} contains a NUL (zero) byte. Send a CSV "
            "file (UTF-8 or Windows-1252) or an .xlsx workbook.",
            line=line,
        )
    try:
        return content.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        if content.startswith(_UTF8_BOM):
            # The marker says UTF-8 but a byte is not: read as Windows-1252 it would turn the
            # marker into 'ï»¿' in the first column's name. Say what is wrong instead.
            line = content[: exc.start].count(b"\n") + 1
            byte = content[exc.start]
            raise ReadError(
                f"The file's encoding is mixed: it starts with the UTF-8 marker, but line {line} has a "
                f"byte that is not UTF-8 (0x{byte:02X}, '{bytes([byte]).decode('cp1252', 'replace')}' in "
                "Windows-1252). Open it in Excel and save it as 'CSV UTF-8 (Comma delimited)', then send it again.",
                line=line,
            ) from exc
        if _has_utf8_sequence(content):
            line = content.count(b"\n", 0, exc.start) + 1
            raise ReadError(
                f"The file mixes two character encodings: most of it is UTF-8, but line {line} is not "
                "(it was probably pasted from another file). Save it as 'CSV UTF-8' and send it again.",
                line=line,
            ) from exc
    try:
        return content.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"The file's characters cannot be read (byte {exc.start + 1} is not UTF-8 or Windows-1252). "
            "Save it as 'CSV UTF-8' and send it again."
        ) from exc


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _has_utf8_sequence(content: bytes) -> bool:
    """True when the bytes hold a well-formed multi-byte UTF-8 character (rare in Windows-1252 text)."""
    return _UTF8_MULTIBYTE.search(content) is not None


def csv_records(content: bytes) -> tuple[list[tuple[int, list[str]]], str]:
    """Every record of a CSV file with the line it starts on, blank ones included, and the delimiter.

    For writing a file back with its lines where they were (the annotated file); raises ReadError
    like `read_table`.
    """
    text, _ = _decode(content)
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    out: list[tuple[int, list[str]]] = []
    last_line = 0
    try:
        for record in reader:
            out.append((last_line + 1, record))
            last_line = reader.line_num
    except csv.Error as exc:
        raise ReadError(f"Line {last_line + 1} cannot be read as CSV ({exc}).", line=last_line + 1) from exc
    return out, delimiter


_LINE = re.compile("[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")  # what str.splitlines splits at


def _sniff_delimiter(text: str) -> str:
    """Comma or semicolon, whichever splits the first non-blank line more (outside quotes)."""
    for found in _LINE.finditer(text):  # line by line, without splitting the whole file
        line = found.group()
        if line.strip():
            unquoted = "".join(part for i, part in enumerate(line.split('"')) if i % 2 == 0)
            if unquoted.count("\t") > max(unquoted.count(";"), unquoted.count(",")):
                raise ReadError(
                    "The file is separated by tabs. Save it as CSV (comma separated) and send it again.",
                    line=1,
                )
            return ";" if unquoted.count(";") > unquoted.count(",") else ","
    return ","


_SEP_LINE = re.compile(r"^sep=(.)[ \t]*\r?\n")


def _excel_sep_line(text: str) -> tuple[str, str | None]:
    """Excel's optional first line `sep=;` names the separator; it is not the header.

    The line is replaced by an empty one, so the header stays on line 2, as in the file.
    """
    m = _SEP_LINE.match(text)
    if not m or m.group(1) not in ",;":
        return text, None
    return "\n" + text[m.end():], m.group(1)


def _read_csv(content: bytes) -> RawTable:
    text, encoding = _decode(content)
    text, declared = _excel_sep_line(text)
    delimiter = declared or _sniff_delimiter(text)
    # the text as UTF-8 for the columnar parser: the file's own bytes when they are just that
    same = encoding == "utf-8" and not declared and not content.startswith(_UTF8_BOM)
    fast = _read_csv_fast(text, delimiter, encoding, content if same else None)
    if fast is not None:
        return fast
    csv.field_size_limit(MAX_CELL_CHARS)
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
            _check_width(record, start)
            if header is None:
                header, header_line = record, start
                continue
            lines.append(start)
            records.append(record)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise ReadError(_long_cell_message(last_line + 1), line=last_line + 1) from exc
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


def _check_width(cells: list[str], line: int) -> None:
    if len(cells) > MAX_COLUMNS:
        raise ReadError(
            f"Line {line} has {len(cells):,} values; a table here has at most {MAX_COLUMNS:,} columns. "
            "Check that this is the right file and that it uses one separator throughout.",
            line=line,
        )


def _long_cell_message(line: int) -> str:
    return (f"Line {line} has a value longer than {MAX_CELL_CHARS:,} characters, which no cell of a "
            'return needs. Check its quote marks: a value that opens with " and never closes runs '
            "on to the end of the file.")


def _read_csv_fast(text: str, delimiter: str, encoding: str, utf8: bytes | None = None) -> RawTable | None:
    """A columnar parser for big files; None (use the exact path) when line numbers could drift.

    Row i of the parse is file line header_line + 1 + i, unless a quoted field spans lines (then
    a cell holds a line break) or line ends are bare CRs. Stray quote marks, which the columnar
    parsers forgive and the exact reader reports, also go the exact way. pyarrow's reader is
    tried first (multi-threaded, Arrow strings without a copy); a file it refuses (an empty line,
    a short row) is tried with pandas' C parser, which keeps both as rows.
    """
    if "\r" in text and text.count("\r") != text.count("\r\n"):  # a bare CR (the text not copied)
        return None
    n_lines = text.count("\n") + 1
    first_cell = re.search(f"[^{re.escape(delimiter)} \t\r\n]", text)
    if first_cell is None or n_lines < 1000:
        return None  # small files: the exact path is fast enough
    first = text.count("\n", 0, first_cell.start())  # the first line that is not blank
    start = text.rfind("\n", 0, first_cell.start()) + 1
    end = text.find("\n", start)
    if '"' in text:
        csv.field_size_limit(MAX_CELL_CHARS)
        try:
            for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
                pass
        except csv.Error:
            return None
    data = utf8 if utf8 is not None else text.encode("utf-8")
    table = _arrow_table(data, delimiter, first, text[start:end if end >= 0 else len(text)])
    if table is not None:
        if _longest_cell_bytes(table) > MAX_CELL_CHARS:
            return None  # the exact path names the line (a cell's characters are at most its bytes)
        frame = table.to_pandas(types_mapper=_as_pandas_text)
        frame.columns = range(frame.shape[1])
        del table
        # the reader's working buffers go back to the system, not kept by Arrow's allocator for
        # reuse: 80-140 MB of a 1M-row file, and the peak of what follows
        pa.default_memory_pool().release_unused()
    else:
        frame = _pandas_frame(text, delimiter, first)
        if frame is None or (_longest_line(data) > MAX_CELL_CHARS and any(
                (frame[col].str.len() > MAX_CELL_CHARS).any() for col in frame.columns)):
            return None
    if frame.shape[1] > MAX_COLUMNS:
        return None  # the exact path names the line
    # One row per line from the header on (the text's final line break ends the last line): a
    # quoted field that spans lines makes fewer rows.
    if len(frame) != n_lines - first - text.endswith("\n"):
        return None
    header = [h.strip() for h in frame.iloc[0].tolist()]
    rows = frame.iloc[1:]
    rows.index = pd.Index(range(first + 2, first + 2 + len(rows)), name="line")
    blank = blank_in_every(rows, rows.columns)
    if blank.any():  # a copy of every cell: only where there is a blank line to leave out
        rows = rows[~blank]
    rows.columns = range(rows.shape[1])
    return RawTable(header=header, header_line=first + 1, rows=rows, source="csv", encoding=encoding, delimiter=delimiter)


def _longest_line(data: bytes) -> int:
    """The length of the longest line in UTF-8 bytes: no cell has more characters than that."""
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    return int(np.diff(ends, prepend=-1, append=len(data)).max()) - 1


def _arrow_table(data: bytes, delimiter: str, first: int, header_line: str) -> pa.Table | None:
    """Every cell as text with pyarrow's CSV reader from line `first` (the header) on; None if it
    refuses the file."""
    width = len(next(csv.reader([header_line], delimiter=delimiter)))
    names = [f"c{i}" for i in range(width)]
    try:
        return pa_csv.read_csv(
            pa.BufferReader(data),
            read_options=pa_csv.ReadOptions(skip_rows=first, column_names=names, block_size=16 << 20),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=False,
                                              ignore_empty_lines=False),
            # every column as text, as many as the header line has
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _longest_cell_bytes(table: pa.Table) -> int:
    return max((pc.max(pc.binary_length(column)).as_py() or 0 for column in table.columns), default=0)


def _as_pandas_text(arrow_type: pa.DataType) -> pd.StringDtype | None:
    return pd.StringDtype() if arrow_type in (pa.string(), pa.large_string()) else None


def _pandas_frame(text: str, delimiter: str, first: int) -> pd.DataFrame | None:
    """Every cell as text with pandas' C parser (blank lines kept as empty rows); None if ragged."""
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype="string", keep_default_na=False, na_filter=False,
            skip_blank_lines=False, header=None, skiprows=first, engine="c",
        )
    except (pd.errors.ParserError, ValueError):
        return None  # ragged rows or odd quoting
    return frame.fillna("")


def blank_in_every(rows: pd.DataFrame, columns: Sequence[object]) -> np.ndarray:
    """Rows blank (nothing but spaces) in every one of `columns`, checked column by column over
    the rows still blank so far: in a filled-in return the first column settles it."""
    blank = np.ones(len(rows), dtype=bool)
    for col in columns:
        at = np.flatnonzero(blank)
        if not len(at):
            break
        blank[at] = (rows[col].iloc[at].fillna("").str.strip() == "").to_numpy(dtype=bool)
    return blank


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

    _check_workbook_zip(content)
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # any failure to parse the zip/XML means the same to the user
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
            _check_width(cells[: _last_filled(cells)], row_no)
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


def _check_workbook_zip(content: bytes) -> None:
    """Refuse, before unpacking anything, a workbook that is a zip bomb, has macros or external links."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ReadError("The file looks like an Excel workbook but cannot be opened (it may be cut short).") from exc
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if unpacked > MAX_XLSX_UNPACKED or (unpacked > 50 * 1024 * 1024 and unpacked > MAX_XLSX_RATIO * max(packed, 1)):
        raise ReadError(
            f"The workbook would unpack to {unpacked / 1024 / 1024:,.0f} MB from {len(content) / 1024 / 1024:,.1f} MB, "
            "far more than a return's data: it is not read. Save the sheet as CSV and send that."
        )
    names = [m.filename.lower() for m in members]
    if any(n.endswith("vbaproject.bin") for n in names):
        raise ReadError(
            "The workbook contains macros, which are not accepted. Save it as 'Excel Workbook (.xlsx)', "
            "not macro-enabled, and send it again."
        )
    if any(n.startswith("xl/externallinks/") for n in names):
        raise ReadError(
            "The workbook links to other workbooks (external links), so its figures may be out of date. "
            "Copy the cells and paste them as values (Paste Special > Values), save, and send it again."
        )


def _last_filled(cells: list[str]) -> int:
    for i in range(len(cells), 0, -1):
        if cells[i - 1].strip():
            return i
    return 0
