"""Reference data: read what is loaded, and replace one reference table, whole or not at all.

The rules of each file (columns, codes, unique names) are in its pandera model (etl.schemas);
this module holds what depends on the warehouse as it stands: a file that would empty the wards
or directorates is refused, and a new ward list warns about rows of current returns it drops.
`store_reference` runs inside an open warehouse write (etl.warehouse.write).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from etl import contract as c
from etl.geojson import parse_boundaries
from etl.read import ReadError, read_table
from etl.records import Outcome, archive, audit, log_submission, now, sha256
from etl.validate import Problem, Reference, validate_reference


def read_reference(con: duckdb.DuckDBPyConnection) -> Reference:
    """The ward and directorate reference currently loaded."""
    wards = con.execute("SELECT ward_code, ward_name FROM wards ORDER BY ward_code").fetchall()
    dirs = con.execute("SELECT directorate, short_name FROM directorates ORDER BY directorate").fetchall()
    return Reference(
        ward_codes=tuple(w[0] for w in wards),
        ward_names=tuple(w[1] for w in wards),
        directorates=tuple(d[0] for d in dirs),
        short_names=tuple(d[1] for d in dirs),
    )


def store_reference(
    con: duckdb.DuckDBPyConnection,
    *,
    kind: str,
    content: bytes,
    file_name: str,
    user: str,
    received_at: dt.datetime | None = None,
) -> Outcome:
    """Replace one reference table with the contents of a file, in an open write."""
    if kind not in c.REFERENCE_KINDS:
        raise ValueError(f"unknown reference kind {kind!r}")
    received_at = received_at or now()
    digest = sha256(content)
    archive(con, digest, content)
    if kind == "boundaries":
        known = [r[0] for r in con.execute("SELECT ward_code FROM wards").fetchall()]
        rows, problems, warnings = parse_boundaries(content, known)
    else:
        rows, problems, warnings = _tabular_reference(con, kind, content, file_name)
    log = dict(return_type=f"reference:{kind}", directorate=None, quarter=None, user=user,
               received_at=received_at, file_name=file_name, digest=digest)
    if problems:
        msg = f"The {kind} file was rejected: {len(problems)} problem{'s' if len(problems) != 1 else ''} to fix. Nothing was changed."
        log_submission(con, **log, row_count=len(rows), outcome="rejected", problem_count=len(problems), message=msg)
        audit(con, user, "reference rejected", kind, received_at)
        return Outcome("rejected", msg, row_count=len(rows), problems=problems)
    con.execute(f"DELETE FROM {kind}")  # noqa: S608 - kind is one of four fixed names
    con.register("incoming_ref", rows)
    try:
        cols = ", ".join(rows.columns)
        con.execute(f"INSERT INTO {kind} ({cols}) SELECT {cols} FROM incoming_ref")  # noqa: S608
    finally:
        con.unregister("incoming_ref")
    msg = f"Loaded {len(rows):,} {kind} row{'s' if len(rows) != 1 else ''}."
    sid = log_submission(con, **log, row_count=len(rows), outcome="accepted", message=msg)
    audit(con, user, "reference loaded", f"{kind} #{sid}", received_at)
    return Outcome("accepted", msg, sid, len(rows), warnings=warnings)


def _tabular_reference(
    con: duckdb.DuckDBPyConnection, kind: str, content: bytes, file_name: str
) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    try:
        raw = read_table(content, file_name, sheet=kind)
    except ReadError as exc:
        return pd.DataFrame(), [Problem(exc.line, None, None, str(exc))], []
    checked = validate_reference(raw, kind, read_reference(con))
    frame = checked.frame.reset_index(drop=True)
    warnings: list[str] = []
    if frame.empty and kind in ("wards", "directorates") and not checked.problems:
        # Loading it would remove every ward or directorate the returns are checked against.
        checked.problems.append(Problem(None, None, None, f"The {kind} file has a header but no rows."))
    if frame.empty and kind == "targets":
        warnings.append("The targets file has no rows: every KPI now shows 'No target' (grey).")
    if kind == "wards" and not checked.problems:
        warnings.extend(_ward_warnings(con, frame))
    return frame, checked.problems, warnings


def _ward_warnings(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> list[str]:
    warnings = []
    kept = set(frame["ward_code"])
    used = con.execute(
        """
        SELECT ward_code, count(*) FROM (
            SELECT ward_code FROM budget UNION ALL SELECT ward_code FROM engagement
            UNION ALL SELECT ward_code FROM partnerships
        ) WHERE ward_code IS NOT NULL GROUP BY ward_code ORDER BY ward_code
        """
    ).fetchall()
    dropped = [(code, n) for code, n in used if code not in kept]
    if dropped:
        rows = sum(n for _, n in dropped)
        warnings.append(
            f"{rows:,} row(s) of current returns name ward(s) not in this file "
            f"({', '.join(code for code, _ in dropped[:10])}): those rows still count in council and directorate "
            "figures (their equality index takes the council's population shares) but in no ward or "
            "neighbourhood figure, until the wards are loaded again or the returns are resent with the new wards."
        )
    shapes = {r[0] for r in con.execute("SELECT ward_code FROM boundaries").fetchall()}
    missing = sorted(kept - shapes) if shapes else []
    if missing:
        warnings.append(f"No boundary shape yet for {len(missing)} ward(s): {', '.join(missing)}")
    return warnings
