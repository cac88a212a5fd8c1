"""Reference data: read what is loaded, and replace one reference table, whole or not at all.

The rules of each file (columns, codes, unique names) are in its pandera model (etl.schemas);
this module holds what depends on the warehouse as it stands: a file that would empty the wards
or directorates is refused, and a new ward list warns about rows of current returns it leaves
without a ward. Wards and boundaries are kept per ward set (docs/ward-vintages.md): which set a
file goes into is decided by etl.vintages, and a quarter's returns are checked against the set
of that quarter. `store_reference` runs inside an open warehouse write (etl.warehouse.write).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from etl import contract as c
from etl import vintages as v
from etl.geojson import parse_boundaries
from etl.quarters import quarter_of_date
from etl.read import ReadError, read_table
from etl.records import Outcome, archive, audit, log_submission, now, sha256
from etl.validate import Problem, Reference, validate_reference
from kpis import facts

# A quarter's wards: the rows of ward_history (etl/warehouse.py) whose span holds it.
IN_SPAN = "? >= span_from AND (span_until IS NULL OR ? < span_until)"


def ward_set_of(con: duckdb.DuckDBPyConnection, quarter: str | None) -> str | None:
    """The vintage of the ward set a quarter uses (None: the newest), or None with no set."""
    if quarter is None:
        row = con.execute("SELECT vintage FROM ward_set_spans WHERE newest").fetchone()
    else:
        row = con.execute(f"SELECT vintage FROM ward_set_spans WHERE {IN_SPAN}", [quarter, quarter]).fetchone()  # noqa: S608
    return str(row[0]) if row else None


def ward_sets(con: duckdb.DuckDBPyConnection) -> list[v.WardSet]:
    """Every ward set with its codes, oldest first."""
    rows = con.execute(
        """
        SELECT s.vintage, s.first_quarter, list(r.ward_code ORDER BY r.ward_code) FILTER (WHERE r.ward_code IS NOT NULL)
        FROM ward_sets AS s LEFT JOIN ward_reference AS r USING (vintage)
        GROUP BY s.vintage, s.first_quarter ORDER BY s.first_quarter
        """
    ).fetchall()
    return [v.WardSet(r[0], r[1], frozenset(r[2] or ())) for r in rows]


def read_reference(con: duckdb.DuckDBPyConnection, quarter: str | None = None) -> Reference:
    """The directorates and the wards a return for `quarter` is checked against: the wards of
    that quarter's set (docs/ward-vintages.md, rule 2), or of the newest set when None."""
    wards = con.execute(
        "SELECT ward_code, ward_name FROM ward_reference WHERE vintage = ? ORDER BY ward_code",
        [ward_set_of(con, quarter)],
    ).fetchall()
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
    vintage: str | None = None,
    first_quarter: str | None = None,
) -> Outcome:
    """Replace one reference table with the contents of a file, in an open write.

    Wards go into a ward set (`vintage`, `first_quarter`: canonical; None lets etl.vintages
    decide from the file's ward codes and name); boundaries into the set named by `vintage`, else
    the set whose ward codes they share most. The other kinds take neither.
    """
    if kind not in c.REFERENCE_KINDS:
        raise ValueError(f"unknown reference kind {kind!r}")
    if ((vintage or first_quarter) and kind not in ("wards", "boundaries")) or (first_quarter and kind != "wards"):
        raise ValueError(f"a {kind} file takes no ward set options")
    received_at = received_at or now()
    digest = sha256(content)
    archive(con, digest, content)
    plan: v.Plan | None = None
    target: v.WardSet | None = None
    if kind == "boundaries":
        rows, problems, warnings, target = _boundaries(con, content, vintage)
    else:
        rows, problems, warnings = _tabular_reference(con, kind, content, file_name)
        if kind == "wards" and not problems:
            try:
                plan = _plan(con, rows, file_name, vintage, first_quarter, received_at)
            except v.VintageError as exc:
                problems = [Problem(None, None, None, str(exc))]
    log = dict(return_type=f"reference:{kind}", directorate=None, quarter=None, user=user,
               received_at=received_at, file_name=file_name, digest=digest)
    if problems:
        msg = f"The {kind} file was rejected: {len(problems)} problem{'s' if len(problems) != 1 else ''} to fix. Nothing was changed."
        log_submission(con, **log, row_count=len(rows), outcome="rejected", problem_count=len(problems), message=msg)
        audit(con, user, "reference rejected", kind, received_at)
        return Outcome("rejected", msg, row_count=len(rows), problems=problems)
    msg = f"Loaded {len(rows):,} {kind} row{'s' if len(rows) != 1 else ''}"
    if plan is not None:
        msg += f" {plan.words}."
    elif target is not None:
        msg += f" as the shapes of ward set {target.vintage}."
    else:
        msg += "."
    sid = log_submission(con, **log, row_count=len(rows), outcome="accepted", message=msg)
    if plan is not None:
        _store_ward_set(con, plan, rows, sid, received_at)
        facts.refresh_wards(con)  # the equality roll-up uses the wards' populations: rebuilt here
        warnings.extend(_ward_warnings(con, plan.vintage))
    elif target is not None:
        con.execute("DELETE FROM ward_boundaries WHERE vintage = ?", [target.vintage])
        _insert(con, "ward_boundaries", rows.assign(vintage=target.vintage))
    else:
        con.execute(f"DELETE FROM {kind}")  # noqa: S608 - kind is one of two fixed names
        _insert(con, kind, rows)
    audit(con, user, "reference loaded", f"{kind} #{sid}", received_at)
    return Outcome("accepted", msg, sid, len(rows), warnings=warnings)


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pd.DataFrame) -> None:
    con.register("incoming_ref", rows)
    try:
        cols = ", ".join(rows.columns)  # the contract's column names, checked by the schema
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM incoming_ref")  # noqa: S608
    finally:
        con.unregister("incoming_ref")


def _return_quarters(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    row = con.execute("SELECT min(quarter), max(quarter) FROM current_submissions").fetchone()
    return (str(row[0]), str(row[1])) if row and row[0] else None


def _plan(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, file_name: str, vintage: str | None,
          first_quarter: str | None, received_at: dt.datetime) -> v.Plan:
    return v.plan_ward_set(
        ward_sets(con), rows["ward_code"], file_name, vintage=vintage, first_quarter=first_quarter,
        return_quarters=_return_quarters(con), today_quarter=quarter_of_date(received_at.date()))


def _store_ward_set(con: duckdb.DuckDBPyConnection, plan: v.Plan, rows: pd.DataFrame, sid: int,
                    received_at: dt.datetime) -> None:
    if plan.replaces is None:
        con.execute("INSERT INTO ward_sets VALUES (?, ?, ?, ?)", [plan.vintage, plan.first_quarter, received_at, sid])
    else:
        con.execute("DELETE FROM ward_reference WHERE vintage = ?", [plan.replaces])
        con.execute("UPDATE ward_sets SET vintage = ?, loaded_at = ?, submission_id = ? WHERE vintage = ?",
                    [plan.vintage, received_at, sid, plan.replaces])
        if plan.vintage != plan.replaces:
            con.execute("UPDATE ward_boundaries SET vintage = ? WHERE vintage = ?", [plan.vintage, plan.replaces])
    _insert(con, "ward_reference", rows.assign(vintage=plan.vintage))


def _boundaries(
    con: duckdb.DuckDBPyConnection, content: bytes, vintage: str | None
) -> tuple[pd.DataFrame, list[Problem], list[str], v.WardSet | None]:
    sets = ward_sets(con)
    every = set().union(*(s.codes for s in sets)) if sets else set()
    rows, problems, _ = parse_boundaries(content, every)
    if problems:
        return rows, problems, [], None
    try:
        target = v.boundaries_set(sets, rows["ward_code"], vintage)
    except v.VintageError as exc:
        return rows, [Problem(None, None, None, str(exc))], [], None
    rows, problems, warnings = parse_boundaries(content, target.codes)
    return rows, problems, warnings, target


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
    return frame, checked.problems, warnings


def _ward_warnings(con: duckdb.DuckDBPyConnection, vintage: str) -> list[str]:
    """After a ward set was stored: rows of current returns in its quarters on wards it does not
    have, and its wards without a shape."""
    warnings = []
    used = con.execute(
        f"""
        SELECT r.ward_code, count(*), min(r.quarter), max(r.quarter) FROM (
            SELECT quarter, ward_code FROM budget UNION ALL SELECT quarter, ward_code FROM engagement
            UNION ALL SELECT quarter, ward_code FROM partnerships
        ) AS r
        JOIN ward_set_spans AS s ON {IN_SPAN.replace("?", "r.quarter")}
        WHERE s.vintage = ? AND r.ward_code IS NOT NULL AND r.ward_code NOT IN (
            SELECT ward_code FROM ward_reference WHERE vintage = ?)
        GROUP BY r.ward_code ORDER BY r.ward_code
        """,  # noqa: S608 - a fixed condition
        [vintage, vintage],
    ).fetchall()
    if used:
        rows = sum(n for _, n, _, _ in used)
        first, last = min(u[2] for u in used), max(u[3] for u in used)
        when = first if first == last else f"{first} to {last}"
        warnings.append(
            f"{rows:,} row(s) of current returns for {when} name ward(s) not in ward set {vintage} "
            f"({', '.join(code for code, *_ in used[:10])}): those rows still count in council and directorate "
            "figures (their equality index takes the council's population shares) but in no ward or "
            "neighbourhood figure, until the returns are resent with the set's wards."
        )
    shapes = {r[0] for r in con.execute("SELECT ward_code FROM ward_boundaries WHERE vintage = ?", [vintage]).fetchall()}
    kept = {r[0] for r in con.execute("SELECT ward_code FROM ward_reference WHERE vintage = ?", [vintage]).fetchall()}
    missing = sorted(kept - shapes) if shapes else []
    if missing:
        warnings.append(f"No boundary shape yet for {len(missing)} ward(s) of set {vintage}: {', '.join(missing)}")
    return warnings
