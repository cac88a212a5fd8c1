"""Store one quarterly return, whole or not at all.

`store_return` runs inside an open warehouse write (etl.warehouse.write): the log entry, the
archive entry, the rows and the supersede mark commit together, or nothing does. The caller
opens the write, so several files can share one transaction (the demo build does).

`precheck` reads and validates a return before the write is queued for, against the reference
of the latest snapshot; `store_return` reuses that result when the reference inside the write
is still the same, so writers wait only for each other's writes, never for parsing.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb
import pandas as pd
import pyarrow as pa

from etl import contract as c
from etl import warehouse
from etl.plausibility import warnings_for
from etl.read import ReadError, read_table
from etl.records import Outcome, Progress, archive, audit, log_submission, now, quiet, sha256
from etl.reference import read_reference
from etl.validate import Problem, Reference, Validated, validate_return, warm_up
from etl.warehouse import WarehouseLike
from kpis import facts


def check_return(
    con: duckdb.DuckDBPyConnection,
    return_type: str,
    directorate: str,
    quarter: str,
    content: bytes,
    file_name: str = "",
) -> Validated | list[Problem]:
    """Read and validate a return without storing anything (a list of problems if unreadable)."""
    return check_return_against(read_reference(con, quarter), return_type, directorate, quarter, content, file_name)


def check_return_against(
    ref: Reference,
    return_type: str,
    directorate: str,
    quarter: str,
    content: bytes,
    file_name: str = "",
) -> Validated | list[Problem]:
    """`check_return` against a reference already read (no connection, so outside any lock)."""
    warm_up()  # pandera made ready while the file is read
    try:
        raw = read_table(content, file_name, sheet=return_type)
    except ReadError as exc:
        return [Problem(exc.line, None, None, str(exc))]
    try:
        return validate_return(raw, return_type, directorate=directorate, quarter=quarter, ref=ref)
    finally:
        del raw  # the file's text cells: only the typed rows are kept from here on
        # Arrow's allocator keeps freed blocks for reuse: hand them back, or a big file's text
        # stays in the process's memory while its rows are stored
        pa.default_memory_pool().release_unused()


@dataclass
class Prechecked:
    """A return read and validated before its write: reused if the reference is unchanged."""

    ref: Reference
    digest: str
    checked: Validated | list[Problem] | None  # None: an identical re-send, nothing to check
    content: bytes = field(repr=False)  # the bytes checked (store_return reuses their digest)


def precheck(
    db: WarehouseLike,
    *,
    return_type: str,
    directorate: str,
    quarter: str,
    content: bytes,
    file_name: str = "",
    progress: Progress = quiet,
) -> Prechecked:
    """Read and validate a return on the latest snapshot, before taking the writers' lock."""
    progress("reading and checking")
    hashing = _HASHER.submit(sha256, content)  # hashlib lets go of the GIL: hashed while read
    with warehouse.read_only(db) as cur:
        ref = read_reference(cur, quarter)  # the wards of the quarter's ward set
        current = _current(cur, return_type, directorate, quarter)
        size = _size(cur, current[1]) if current else None
    if size == len(content) and hashing.result() == current[1]:  # an identical re-send needs no check
        return Prechecked(ref, current[1], None, content)
    checked = check_return_against(ref, return_type, directorate, quarter, content, file_name)
    return Prechecked(ref, hashing.result(), checked, content)


_HASHER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sha256")


def _size(con: duckdb.DuckDBPyConnection, digest: str) -> int | None:
    """The size in bytes of the archived file of `digest` (None if it is not listed)."""
    row = con.execute("SELECT max(size_bytes) FROM files WHERE sha256 = ?", [digest]).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _current(con: duckdb.DuckDBPyConnection, return_type: str, directorate: str, quarter: str) -> tuple[int, str] | None:
    row = con.execute(
        """
        SELECT submission_id, sha256 FROM current_submissions
        WHERE return_type = ? AND directorate = ? AND quarter = ?
        """,
        [return_type, directorate, quarter],
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def _arrow_batches(frame: pd.DataFrame, size: int = 131_072) -> pa.RecordBatchReader:
    """The rows, with their line numbers, as Arrow batches made as DuckDB reads them: Arrow
    strings are scanned without a cell-by-cell conversion, and a big return is never in memory
    twice (as pandas and as a whole Arrow table)."""
    def part(start: int, schema: pa.Schema | None = None) -> pa.Table:
        rows = frame.iloc[start:start + size].reset_index(names="line_no")
        return pa.Table.from_pandas(rows, schema=schema, preserve_index=False)

    first = part(0)
    rest = (batch for start in range(size, len(frame), size) for batch in part(start, first.schema).to_batches())
    return pa.RecordBatchReader.from_batches(first.schema, itertools.chain(first.to_batches(), rest))


def _insert_rows(con: duckdb.DuckDBPyConnection, return_type: str, submission_id: int, frame: pd.DataFrame) -> None:
    table = warehouse.ROW_TABLES[return_type]
    columns = list(c.RETURN_COLUMNS[return_type])
    con.register("incoming_rows", _arrow_batches(frame[columns]))
    try:
        col_list = ", ".join(columns)  # fixed contract names, never user text
        con.execute(
            f"INSERT INTO {table} (submission_id, line_no, {col_list}) "  # noqa: S608
            f"SELECT ?, line_no, {col_list} FROM incoming_rows",
            [submission_id],
        )
    finally:
        con.unregister("incoming_rows")


def store_return(
    con: duckdb.DuckDBPyConnection,
    *,
    return_type: str,
    directorate: str,
    quarter: str,
    content: bytes,
    file_name: str,
    user: str,
    received_at: dt.datetime | None = None,
    progress: Progress = quiet,
    before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    prechecked: Prechecked | None = None,
    accept_warnings: bool = False,
) -> Outcome:
    """Validate and store one return for (return_type, directorate, quarter) in an open write.

    `directorate` and `quarter` must already be in their reference/canonical spelling.
    `prechecked` (from `precheck` on the same bytes) saves validating again inside the write.
    A valid return with plausibility warnings (etl.plausibility) is stored only with
    `accept_warnings` (the sender has seen them); otherwise it comes back 'queried', nothing
    stored or logged.
    `before_commit` runs after the rows are written, before the caller's write commits (for
    commentary, and for tests that inject a failure).
    """
    if return_type not in c.RETURN_TYPES:
        raise ValueError(f"unknown return type {return_type!r}")
    received_at = received_at or now()
    # the digest of these very bytes, if the precheck took it (a 100 MB file hashes in 0.1 s)
    digest = prechecked.digest if prechecked is not None and prechecked.content is content else sha256(content)
    log = dict(return_type=return_type, directorate=directorate, quarter=quarter, user=user,
               received_at=received_at, file_name=file_name, digest=digest)
    current = _current(con, return_type, directorate, quarter)
    if current and current[1] == digest:
        row_count = con.execute(
            "SELECT row_count FROM submissions WHERE submission_id = ?", [current[0]]
        ).fetchone()[0]
        msg = (f"This file is identical to the {return_type} return already accepted for "
               f"{directorate}, {quarter} (submission {current[0]}): nothing has changed.")
        sid = log_submission(con, **log, row_count=int(row_count), outcome="identical", message=msg)
        audit(con, user, "identical re-send", f"{return_type} {directorate} {quarter} #{sid}", received_at)
        return Outcome("identical", msg, sid, int(row_count))
    ref = read_reference(con, quarter)
    if prechecked is not None and prechecked.checked is not None and (prechecked.digest, prechecked.ref) == (digest, ref):
        checked = prechecked.checked
    else:
        progress("reading and checking")
        checked = check_return_against(ref, return_type, directorate, quarter, content, file_name)
    archive(con, digest, content)
    if isinstance(checked, list) or not checked.ok:
        problems = checked if isinstance(checked, list) else checked.problems
        rows = 0 if isinstance(checked, list) else len(checked.frame)
        msg = (f"The {return_type} return for {directorate}, {quarter} was rejected: "
               f"{len(problems)} problem{'s' if len(problems) != 1 else ''} to fix. Nothing was stored.")
        sid = log_submission(con, **log, row_count=rows, outcome="rejected", problem_count=len(problems), message=msg)
        audit(con, user, "rejected", f"{return_type} {directorate} {quarter} #{sid}", received_at)
        return Outcome("rejected", msg, sid, rows, problems)
    rows = len(checked.frame)
    warnings = warnings_for(con, return_type, directorate, quarter, checked.frame)
    if warnings and not accept_warnings:
        msg = (f"The {return_type} return for {directorate}, {quarter} has no problems, but "
               f"{len(warnings)} figure{'s look' if len(warnings) != 1 else ' looks'} implausible. "
               "Nothing was stored: check the figures, then confirm them to store the return.")
        return Outcome("queried", msg, None, rows, warnings=warnings)
    progress(f"storing {rows:,} rows")
    msg = (f"Accepted: {rows:,} row{'s' if rows != 1 else ''} of the {return_type} return for "
           f"{directorate}, {quarter}.")
    if rows == 0:
        msg += " (a nil return: nothing to report this quarter)"
    superseded = current[0] if current else None
    if superseded is not None:
        msg += f" It replaces submission {superseded}, which stays in the history."
    sid = log_submission(con, **log, row_count=rows, outcome="accepted", message=msg)
    _insert_rows(con, return_type, sid, checked.frame)
    if warnings:
        con.execute("UPDATE submissions SET warnings = ? WHERE submission_id = ?", ["\n".join(warnings), sid])
    if superseded is not None:
        con.execute("UPDATE submissions SET superseded_by = ? WHERE submission_id = ?", [sid, superseded])
    facts.store(con, return_type, sid, superseded=[superseded] if superseded else [])
    audit(con, user, "accepted", f"{return_type} {directorate} {quarter} #{sid}", received_at)
    progress("saving the warehouse")
    if before_commit:
        before_commit(con)
    return Outcome("accepted", msg, sid, rows, superseded=superseded, warnings=warnings)
