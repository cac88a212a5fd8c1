"""Check a raw table against its schema and report every problem at once, in the user's terms.

Steps: match the header to the schema's columns; read each cell with its column's parser
(etl.normalise), noting every unreadable cell; validate the typed frame lazily with the pandera
model (etl.schemas); translate pandera's failure cases into (line, column, value, reason).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pyarrow import default_memory_pool as pa_memory_pool

from etl import contract as c
from etl import normalise as n
from etl.read import RawTable, blank_in_every
from etl.schemas import CONTEXT, REFERENCE_MODELS, RETURN_MODELS, Context, columns_of

PARSE_THREADS = 2  # this product's machines have 2 cores; more threads only contend
PARALLEL_ROWS = 20_000  # a smaller file's columns are parsed one by one (a thread costs more)
ANNOTATION_COLUMN = "problems"  # the column the app adds to a rejected file (dashboard.submission.annotate)


def is_annotation_header(cell: str) -> bool:
    """Whether a header cell is the problems column of an annotated file ('problems' or 'problems (...)')."""
    key = n.header_key(cell)
    return key == ANNOTATION_COLUMN or key.startswith(ANNOTATION_COLUMN + "(")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, as the person who sent it sees it."""

    line: int | None
    column: str | None
    value: str | None
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class Reference:
    """The reference data a return is checked against."""

    ward_codes: tuple[str, ...] = ()
    ward_names: tuple[str, ...] = ()
    directorates: tuple[str, ...] = ()
    short_names: tuple[str | None, ...] = ()


@dataclass
class Validated:
    """The typed rows (index = file line) and the problems; valid when there are none."""

    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------------------------------------
# Header


def match_header(
    header: Sequence[str], expected: Sequence[str], optional: frozenset[str], line: int
) -> tuple[dict[str, int], list[Problem], bool]:
    """Map expected columns to header positions; report unknown, repeated and missing columns.

    Returns (column -> position, problems, whether the rows can be checked: not when no column
    at all matched, as in a file whose first line is data).
    """
    by_key = {n.header_key(col): col for col in expected}
    for col in expected:  # the labels the app shows are accepted too ('Aged 16-24' for age_16_24)
        if col in c.GROUP_LABELS:
            by_key.setdefault(n.header_key(c.GROUP_LABELS[col]), col)
    positions: dict[str, int] = {}
    problems: list[Problem] = []
    for pos, cell in enumerate(header):
        if not cell.strip() or is_annotation_header(cell):
            continue  # blank, or the problems column of the app's annotated file: sent back as it is
        col = by_key.get(n.header_key(cell))
        if col is None:
            hint = difflib.get_close_matches(n.header_key(cell), list(by_key), n=1, cutoff=0.6)
            reason = "is not a column of this return"
            if hint:
                reason += f": did you mean '{by_key[hint[0]]}'?"
            else:  # the contract asks for the closest column even when none is close
                nearest = difflib.get_close_matches(n.header_key(cell), list(by_key), n=1, cutoff=0.0)
                reason += f" (the closest is '{by_key[nearest[0]]}'; remove the column if it is extra)"
            problems.append(Problem(line, cell, None, reason))
        elif col in positions:
            problems.append(Problem(line, cell, None, f"appears twice in the header (as column {col})"))
        else:
            positions[col] = pos
    if not positions:
        return {}, [
            Problem(
                line,
                None,
                None,
                "The first line is not a header row with this return's column names "
                f"(expected: {', '.join(expected)}).",
            )
        ], False
    missing = [col for col in expected if col not in positions and col not in optional]
    for col in missing:
        problems.append(Problem(line, col, None, "is a required column but is missing from the header"))
    return positions, problems, True


# ---------------------------------------------------------------------------------------------
# Cells


Parser = Callable[[pd.Series], tuple[pd.Series, pd.Series]]


def _parsers(ref: Reference) -> dict[str, Parser]:
    return {
        "text": n.parse_text,
        "quarter": n.parse_quarter_series,
        "directorate": lambda s: n.parse_directorate(s, ref.directorates, ref.short_names),
        "ward": lambda s: n.parse_ward(s, ref.ward_codes, ref.ward_names),
        "money": n.parse_money,
        "int": n.parse_int,
        "count": lambda s: _blank_is_zero(n.parse_int(s)),
        "decimal": n.parse_decimal,
        "date": n.parse_date,
        "bool": n.parse_bool,
        "mechanism": lambda s: n.parse_enum(s, c.MECHANISMS, none_is_blank=True),
        "method": lambda s: n.parse_enum(s, c.METHODS),
        "stage": lambda s: n.parse_enum(s, c.STAGES),
        "partner_type": lambda s: n.parse_enum(s, c.PARTNER_TYPES),
        "arrangement": lambda s: n.parse_enum(s, c.ARRANGEMENTS),
        "direction": lambda s: n.parse_enum(s, c.DIRECTIONS),
        "kpi": lambda s: n.parse_enum(s, c.KPI_NAMES),
        "financial_year": lambda s: (s.str.strip().replace("", pd.NA).str.replace("/", "-", regex=False), pd.Series(pd.NA, index=s.index, dtype="string")),
    }


def _parse_column(parse: Parser, text: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """A column's values and reasons, and its text kept compact for the messages.

    Every parser reads each cell on its own, so a column of few distinct spellings (a million
    counts or wards hold a few hundred) is parsed once per spelling (`parse_by_distinct`) and its
    text kept as those spellings and one small code per cell (a categorical), not a million
    strings. A column that is mostly distinct is parsed and kept as it is.
    """
    spread = n.parse_by_distinct(parse, text)
    if spread is None:
        return *parse(text), text
    values, reasons, codes, uniques = spread
    kept = pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=text.dtype))
    return values, reasons, pd.Series(kept, index=text.index, name=text.name, copy=False)


def _blank_is_zero(parsed: tuple[pd.Series, pd.Series]) -> tuple[pd.Series, pd.Series]:
    values, reasons = parsed
    return values.where(values.notna() | reasons.notna(), 0).astype("Int64"), reasons


def _cell_problems(column: str, raw: pd.Series, reasons: pd.Series) -> list[Problem]:
    at = np.flatnonzero(reasons.notna().to_numpy(dtype=bool))
    if not len(at):  # the usual column: no mask of a million cells taken three times
        return []
    return [
        Problem(int(line), column, str(value), str(reason))
        for line, value, reason in zip(raw.index[at], raw.iloc[at], reasons.iloc[at], strict=True)
    ]


def _other_separator_lines(raw: RawTable) -> list[Problem]:
    """Rows written with the other separator (';' under a ',' header, or the reverse): one cell holds the row."""
    if raw.delimiter not in (",", ";") or raw.rows.empty or len(raw.header) < 3:
        return []
    other = ";" if raw.delimiter == "," else ","
    first = raw.rows[0].fillna("")
    some = first.str.contains(other, regex=False).to_numpy(dtype=bool)  # 8 ms a million cells
    if not some.any():
        return []
    at = np.flatnonzero(some)  # counted only where the other separator is at all (50 ms a million)
    some[at] = (first.iloc[at].str.count(other) >= 2).to_numpy(dtype=bool)
    candidates = raw.rows[some]
    if candidates.empty:
        return []
    rest = candidates.drop(columns=0).fillna("")
    alone = pd.Series(True, index=candidates.index)
    for col in rest.columns:
        alone &= (rest[col].str.strip() == "").to_numpy(dtype=bool)
    lonely = first[alone.reindex(first.index, fill_value=False).to_numpy(dtype=bool)]
    return [
        Problem(int(line), None, str(value)[:200],
                f"is separated by '{other}' but the header by '{raw.delimiter}': use one separator throughout the file")
        for line, value in lonely.items()
    ]


def _unnamed_cells(raw: RawTable) -> list[Problem]:
    """Values in a column whose header cell is blank, or beyond the header: never dropped silently."""
    unnamed = [pos for pos in range(raw.rows.shape[1]) if pos >= len(raw.header) or not raw.header[pos].strip()]
    problems = []
    for pos in unnamed:
        cells = raw.rows[pos]
        for line, value in cells[cells.str.strip() != ""].items():
            where = f"column {pos + 1}"
            reason = (f"is in {where}, which has no name in the header" if pos < len(raw.header)
                      else f"is in {where}, beyond the last column named in the header")
            problems.append(Problem(int(line), None, str(value), reason))
    return problems


# ---------------------------------------------------------------------------------------------
# Schema


def _schema_problems(
    model: type[pa.DataFrameModel], frame: pd.DataFrame, raw_text: pd.DataFrame, already: set[tuple[int, str]]
) -> list[Problem]:
    try:
        # a shallow copy: pandera coerces into it (copy-on-write) and `frame` stays as it is
        model.validate(frame.copy(deep=False), lazy=True, inplace=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    cases = cases[cases["index"].notna()]
    problems: list[Problem] = []
    seen: set[tuple[int, str, str]] = set()
    for check, case_col, line, case in zip(
        cases["check"], cases["column"], cases["index"], cases["failure_case"], strict=True
    ):
        column, reason = _translate(str(check), str(case_col))
        line = int(line)
        key = (line, column, reason)
        if key in seen or (line, column) in already:
            continue  # a frame-wide check is reported once per column by pandera; a cell once
        seen.add(key)
        value = raw_text.at[line, column] if column in raw_text.columns else None
        if reason == "\x00duplicate":
            value = None if pd.isna(case) else str(case)  # compare keys as stored (ward names -> codes)
        problems.append(Problem(line, column, None if value is None or pd.isna(value) else str(value), reason))
    problems.extend(_duplicate_detail(problems))
    return [p for p in problems if not p.reason.startswith("\x00")]


def _translate(check: str, column: str) -> tuple[str, str]:
    if "|" in check:
        col, reason = check.split("|", 1)
        return col, reason
    if check == "not_nullable":
        return column, "is required but is blank"
    if check in ("field_uniqueness", "multiple_fields_uniqueness"):
        return column, "\x00duplicate"
    if check.startswith("greater_than_or_equal_to"):
        return column, "must be 0 or more"
    if check.startswith("isin"):
        return column, "is not one of the allowed values"
    if check.startswith("str_length"):
        return column, "is too long or empty (1-200 characters)"
    if check.startswith("str_matches"):
        return column, "is not a ward code (E05 and six digits)"
    if check.startswith("in_range"):
        return column, "is out of range (1-10)"
    if check.startswith("coerce_dtype") or check.startswith("dtype"):
        return column, "has the wrong type of value"
    return column, check


def _duplicate_detail(problems: list[Problem]) -> list[Problem]:
    """One problem per repeated row (pandera reports each column of the key), naming the others."""
    by_line: dict[int, list[Problem]] = {}
    for p in problems:
        if p.reason == "\x00duplicate":
            by_line.setdefault(p.line or 0, []).append(p)
    keys = {
        line: tuple(sorted((p.column or "", p.value or "") for p in ps)) for line, ps in by_line.items()
    }
    out = []
    for line, key in keys.items():
        others = ", ".join(str(x) for x in sorted(keys) if x != line and keys[x] == key)
        columns = " + ".join(col for col, _ in key)
        value = " / ".join(val for _, val in key)
        out.append(Problem(line, columns, value, f"is repeated: each must appear once in the file (also on line {others})"))
    return out


# ---------------------------------------------------------------------------------------------
# Entry points


def _without_filler_rows(raw: RawTable, positions: dict[str, int], filler: tuple[str, ...],
                         parsers: dict[str, Parser], context: Context) -> RawTable:
    """The rows without those that hold only the declared directorate and quarter (template rows)."""
    declared = {"directorate": context.directorate, "quarter": context.quarter}
    at = {f: positions[f] for f in filler if f in positions}
    others = [pos for pos in raw.rows.columns if pos not in at.values()]
    if not at or not others or raw.rows.empty:
        return raw
    candidate = pd.Series(blank_in_every(raw.rows, others), index=raw.rows.index)
    if not candidate.any():
        return raw
    for name, pos in at.items():
        values, reasons = parsers[name](raw.rows[pos])
        candidate &= reasons.isna() & (values == declared.get(name)).fillna(False)
    return RawTable(raw.header, raw.header_line, raw.rows[~candidate], raw.source, raw.encoding, raw.delimiter)


def validate_table(
    raw: RawTable,
    model: type[pa.DataFrameModel],
    *,
    optional: frozenset[str],
    ref: Reference,
    context: Context,
    filler: tuple[str, ...] = (),
) -> Validated:
    """Validate a raw table against a model; every problem in the file, at once.

    A row with nothing but `filler` columns filled in (the directorate and quarter a template
    writes on its empty rows) says nothing and is skipped like a blank row. Each column of
    `raw.rows` is replaced, once read, by the same text kept compact (`_parse_column`): a big
    file's text and its typed rows are never in memory whole at the same time.
    """
    columns = columns_of(model)
    expected = [name for name, _, _ in columns]
    positions, problems, rows_checkable = match_header(raw.header, expected, optional, raw.header_line)
    if not rows_checkable:
        return Validated(pd.DataFrame(columns=expected), problems)
    parsers = _parsers(ref)
    if filler:
        raw = _without_filler_rows(raw, positions, filler, parsers, context)
    problems.extend(_unnamed_cells(raw))
    separators = _other_separator_lines(raw)
    raw_text = pd.DataFrame(index=raw.rows.index)
    typed: dict[str, pd.Series] = {}
    cell_errors: set[tuple[int, str]] = set()
    texts = [
        (name, meta["kind"], raw.rows[positions[name]] if name in positions
         else pd.Series(pd.NA, index=raw.rows.index, dtype="string"))
        for name, meta, _ in columns
    ]

    def parse(item: tuple[str, str, pd.Series]) -> tuple[str, pd.Series, pd.Series, pd.Series]:
        name, kind, text = item
        return name, *_parse_column(parsers[kind], text)

    # A big file's columns are parsed two at a time: the passes over a column's cells (Arrow's
    # hashing and takes, numpy's) release the GIL, so it uses both cores. Each worker reads only
    # the column it was given; `raw.rows` is changed here, in this thread alone.
    with ThreadPoolExecutor(max_workers=PARSE_THREADS) as pool:
        parsed = pool.map(parse, texts) if len(raw.rows) >= PARALLEL_ROWS else map(parse, texts)
        del texts  # each column's text is let go as it is parsed
        for name, values, reasons, kept in parsed:
            if name in positions:  # the file's text of this column, from here on only as kept
                raw.rows[positions[name]] = kept
            raw_text[name] = kept
            bad = _cell_problems(name, kept, reasons)
            problems.extend(bad)
            cell_errors.update((p.line, name) for p in bad if p.line is not None)
            typed[name] = values
    frame = pd.DataFrame(typed, index=raw.rows.index, copy=False)
    pa_memory_pool().release_unused()  # the text of the columns parsed, before pandera's copies
    token = CONTEXT.set(context)
    try:
        absent = {name for name, _, _ in columns if name not in positions}
        problems.extend(p for p in _schema_problems(model, frame, raw_text, cell_errors) if p.column not in absent)
    finally:
        CONTEXT.reset(token)
    if separators:  # one clear reason for such a row instead of a complaint about each of its cells
        lines = {p.line for p in separators}
        problems = [p for p in problems if p.line not in lines] + separators
    problems.sort(key=lambda p: (p.line or 0, expected.index(p.column) if p.column in expected else -1))
    return Validated(frame, problems)


_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="validation-warm-up")
_warm_up: Future[None] | None = None


def warm_up() -> None:
    """Have pandera's checks for pandas frames ready before the first validation: their first
    registration imports them (0.13 s), done here on a background thread while a file is read
    (Arrow's reader lets go of the GIL)."""
    global _warm_up
    if _warm_up is None:
        _warm_up = _BACKGROUND.submit(pa.DataFrameSchema.register_default_backends, pd.DataFrame)


def validate_return(
    raw: RawTable, return_type: str, *, directorate: str, quarter: str, ref: Reference
) -> Validated:
    """Validate one quarterly return sent for (directorate, quarter)."""
    context = Context(
        directorate=directorate,
        quarter=quarter,
        ward_codes=frozenset(ref.ward_codes),
        directorates=frozenset(ref.directorates),
    )
    checked = validate_table(
        raw, RETURN_MODELS[return_type], optional=c.OPTIONAL_COLUMNS[return_type], ref=ref, context=context,
        filler=("directorate", "quarter"),
    )
    declared = {"directorate": directorate, "quarter": quarter}
    checked.problems = [
        Problem(p.line, p.column, p.value, f"{p.reason} ({declared[p.column]})")
        if p.reason.endswith("this file is sent for") and p.column in declared
        else p
        for p in checked.problems
    ]
    return checked


def validate_reference(raw: RawTable, kind: str, ref: Reference) -> Validated:
    """Validate a reference file (wards, directorates or targets)."""
    return validate_table(
        raw,
        REFERENCE_MODELS[kind],
        optional=c.REFERENCE_OPTIONAL[kind],
        ref=ref,
        context=Context(directorates=frozenset(ref.directorates)),
    )
