"""Store a submission: a quarterly return or a reference file, whole or not at all.

Each call is one warehouse write (etl.warehouse.write): the log entry, the archived bytes, the
rows and the supersede mark commit together, or nothing does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from etl import contract as c
from etl import warehouse
from etl.read import ReadError, read_table
from etl.validate import Problem, Reference, Validated, validate_reference, validate_return

Progress = Callable[[str], None]


@dataclass
class Outcome:
    """What happened to one submission."""

    status: str  # accepted | rejected | identical
    message: str
    submission_id: int | None = None
    row_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    superseded: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("accepted", "identical")

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "message": self.message,
            "submission_id": self.submission_id,
            "row_count": self.row_count,
            "superseded": self.superseded,
            "warnings": self.warnings,
            "problems": [p.as_dict() for p in self.problems],
        }


def sha256(content: bytes) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(content).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _quiet(_: str) -> None:
    pass


# ---------------------------------------------------------------------------------------------
# Reference lookups (inside the writer's transaction, or on a read-only connection)


def reference(con: duckdb.DuckDBPyConnection) -> Reference:
    """The ward and directorate reference currently loaded."""
    wards = con.execute("SELECT ward_code, ward_name FROM wards ORDER BY ward_code").fetchall()
    dirs = con.execute("SELECT directorate, short_name FROM directorates ORDER BY directorate").fetchall()
    return Reference(
        ward_codes=tuple(w[0] for w in wards),
        ward_names=tuple(w[1] for w in wards),
        directorates=tuple(d[0] for d in dirs),
        short_names=tuple(d[1] for d in dirs),
    )


def _log(
    con: duckdb.DuckDBPyConnection,
    *,
    return_type: str,
    directorate: str | None,
    quarter: str | None,
    user: str,
    received_at: dt.datetime,
    file_name: str,
    digest: str,
    row_count: int,
    outcome: str,
    problem_count: int = 0,
    message: str = "",
) -> int:
    row = con.execute(
        """
        INSERT INTO submissions (return_type, directorate, quarter, user_name, received_at,
            file_name, sha256, row_count, outcome, problem_count, message)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        RETURNING submission_id
        """,
        [return_type, directorate, quarter, user, received_at, file_name, digest, row_count,
         outcome, problem_count, message],
    ).fetchone()
    return int(row[0])


def _archive(con: duckdb.DuckDBPyConnection, digest: str, content: bytes) -> None:
    con.execute(
        "INSERT INTO files VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [digest, len(content), content]
    )


def audit(con: duckdb.DuckDBPyConnection, user: str, action: str, detail: str, at: dt.datetime | None = None) -> None:
    """Record one write in the audit log."""
    con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?)", [at or _now(), user, action, detail])


# ---------------------------------------------------------------------------------------------
# Quarterly returns


def check_return(
    con: duckdb.DuckDBPyConnection,
    return_type: str,
    directorate: str,
    quarter: str,
    content: bytes,
    file_name: str = "",
) -> Validated | list[Problem]:
    """Read and validate a return without storing anything (a list of problems if unreadable)."""
    try:
        raw = read_table(content, file_name, sheet=return_type)
    except ReadError as exc:
        return [Problem(exc.line, None, None, str(exc))]
    return validate_return(raw, return_type, directorate=directorate, quarter=quarter, ref=reference(con))


def _current(con: duckdb.DuckDBPyConnection, return_type: str, directorate: str, quarter: str) -> tuple[int, str] | None:
    row = con.execute(
        """
        SELECT submission_id, sha256 FROM current_submissions
        WHERE return_type = ? AND directorate = ? AND quarter = ?
        """,
        [return_type, directorate, quarter],
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def _insert_rows(con: duckdb.DuckDBPyConnection, return_type: str, submission_id: int, frame: pd.DataFrame) -> None:
    table = warehouse.ROW_TABLES[return_type]
    columns = list(c.RETURN_COLUMNS[return_type])
    incoming = frame[columns].reset_index(names="line_no")
    con.register("incoming_rows", incoming)
    try:
        col_list = ", ".join(columns)  # fixed contract names, never user text
        con.execute(
            f"INSERT INTO {table} (submission_id, line_no, {col_list}) "  # noqa: S608
            f"SELECT ?, line_no, {col_list} FROM incoming_rows",
            [submission_id],
        )
    finally:
        con.unregister("incoming_rows")


def submit_return(
    db: str | Path,
    *,
    return_type: str,
    directorate: str,
    quarter: str,
    content: bytes,
    file_name: str,
    user: str,
    received_at: dt.datetime | None = None,
    progress: Progress = _quiet,
    before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> Outcome:
    """Validate and store one return for (return_type, directorate, quarter), all or nothing.

    `directorate` and `quarter` must already be in their reference/canonical spelling.
    `before_commit` runs inside the transaction after the rows are written (for commentary, and
    for tests that inject a failure).
    """
    with warehouse.write(db) as con:
        return store_return(
            con, return_type=return_type, directorate=directorate, quarter=quarter, content=content,
            file_name=file_name, user=user, received_at=received_at, progress=progress,
            before_commit=before_commit,
        )


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
    progress: Progress = _quiet,
    before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> Outcome:
    """`submit_return` inside an already open warehouse write (one transaction for many files)."""
    if return_type not in c.RETURN_TYPES:
        raise ValueError(f"unknown return type {return_type!r}")
    received_at = received_at or _now()
    digest = sha256(content)
    log = dict(return_type=return_type, directorate=directorate, quarter=quarter, user=user,
               received_at=received_at, file_name=file_name, digest=digest)
    current = _current(con, return_type, directorate, quarter)
    if current and current[1] == digest:
        row_count = con.execute(
            "SELECT row_count FROM submissions WHERE submission_id = ?", [current[0]]
        ).fetchone()[0]
        msg = (f"This file is identical to the {return_type} return already accepted for "
               f"{directorate}, {quarter} (submission {current[0]}): nothing has changed.")
        sid = _log(con, **log, row_count=int(row_count), outcome="identical", message=msg)
        audit(con, user, "identical re-send", f"{return_type} {directorate} {quarter} #{sid}", received_at)
        return Outcome("identical", msg, sid, int(row_count))
    progress("reading and checking")
    checked = check_return(con, return_type, directorate, quarter, content, file_name)
    _archive(con, digest, content)
    if isinstance(checked, list) or not checked.ok:
        problems = checked if isinstance(checked, list) else checked.problems
        rows = 0 if isinstance(checked, list) else len(checked.frame)
        msg = (f"The {return_type} return for {directorate}, {quarter} was rejected: "
               f"{len(problems)} problem{'s' if len(problems) != 1 else ''} to fix. Nothing was stored.")
        sid = _log(con, **log, row_count=rows, outcome="rejected", problem_count=len(problems), message=msg)
        audit(con, user, "rejected", f"{return_type} {directorate} {quarter} #{sid}", received_at)
        return Outcome("rejected", msg, sid, rows, problems)
    rows = len(checked.frame)
    progress(f"storing {rows:,} rows")
    msg = (f"Accepted: {rows:,} row{'s' if rows != 1 else ''} of the {return_type} return for "
           f"{directorate}, {quarter}.")
    if rows == 0:
        msg += " (a nil return: nothing to report this quarter)"
    sid = _log(con, **log, row_count=rows, outcome="accepted", message=msg)
    _insert_rows(con, return_type, sid, checked.frame)
    superseded = None
    if current:
        superseded = current[0]
        con.execute("UPDATE submissions SET superseded_by = ? WHERE submission_id = ?", [sid, superseded])
        msg += f" It replaces submission {superseded}, which stays in the history."
        con.execute("UPDATE submissions SET message = ? WHERE submission_id = ?", [msg, sid])
    audit(con, user, "accepted", f"{return_type} {directorate} {quarter} #{sid}", received_at)
    progress("saving the warehouse")
    if before_commit:
        before_commit(con)
    return Outcome("accepted", msg, sid, rows, superseded=superseded)


# ---------------------------------------------------------------------------------------------
# Reference data


def load_reference(
    db: str | Path,
    *,
    kind: str,
    content: bytes,
    file_name: str,
    user: str,
    received_at: dt.datetime | None = None,
) -> Outcome:
    """Replace one reference table with the contents of a file, all or nothing."""
    with warehouse.write(db) as con:
        return store_reference(con, kind=kind, content=content, file_name=file_name, user=user, received_at=received_at)


def store_reference(
    con: duckdb.DuckDBPyConnection,
    *,
    kind: str,
    content: bytes,
    file_name: str,
    user: str,
    received_at: dt.datetime | None = None,
) -> Outcome:
    """`load_reference` inside an already open warehouse write."""
    if kind not in c.REFERENCE_KINDS:
        raise ValueError(f"unknown reference kind {kind!r}")
    received_at = received_at or _now()
    digest = sha256(content)
    _archive(con, digest, content)
    if kind == "boundaries":
        rows, problems, warnings = _boundaries(con, content)
    else:
        rows, problems, warnings = _tabular_reference(con, kind, content, file_name)
    log = dict(return_type=f"reference:{kind}", directorate=None, quarter=None, user=user,
               received_at=received_at, file_name=file_name, digest=digest)
    if problems:
        msg = f"The {kind} file was rejected: {len(problems)} problem{'s' if len(problems) != 1 else ''} to fix. Nothing was changed."
        _log(con, **log, row_count=len(rows), outcome="rejected", problem_count=len(problems), message=msg)
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
    sid = _log(con, **log, row_count=len(rows), outcome="accepted", message=msg)
    audit(con, user, "reference loaded", f"{kind} #{sid}", received_at)
    return Outcome("accepted", msg, sid, len(rows), warnings=warnings)


def _tabular_reference(
    con: duckdb.DuckDBPyConnection, kind: str, content: bytes, file_name: str
) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    try:
        raw = read_table(content, file_name, sheet=kind)
    except ReadError as exc:
        return pd.DataFrame(), [Problem(exc.line, None, None, str(exc))], []
    checked = validate_reference(raw, kind, reference(con))
    frame = checked.frame.reset_index(drop=True)
    if kind == "wards":
        # Ward names are matched case- and space-insensitively, so they must differ that way too.
        keys = frame["ward_name"].map(lambda v: " ".join(str(v).split()).lower())
        for line in checked.frame.index[keys.duplicated(keep=False).to_numpy()]:
            checked.problems.append(Problem(int(line), "ward_name", str(checked.frame.at[line, "ward_name"]),
                                            "is the same ward name as another row (ignoring case and spaces)"))
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
            f"({', '.join(code for code, _ in dropped[:10])}): those rows no longer count in any KPI "
            "until the wards are loaded again or the returns are resent with the new wards."
        )
    shapes = {r[0] for r in con.execute("SELECT ward_code FROM boundaries").fetchall()}
    missing = sorted(kept - shapes) if shapes else []
    if missing:
        warnings.append(f"No boundary shape yet for {len(missing)} ward(s): {', '.join(missing)}")
    return warnings


_ONS_CODE = re.compile(r"^WD\d{2}CD$", re.IGNORECASE)


def _feature_code(props: dict[str, object]) -> str | None:
    for key, value in props.items():
        if key.lower() in ("ward_code", "area_code") or _ONS_CODE.match(key):
            if isinstance(value, str) and value.strip():
                return value.strip().upper()
    return None


def _lonlat_ok(coords: object) -> bool:
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        lon, lat = coords[0], coords[1]
        return all(math.isfinite(v) for v in (lon, lat)) and -180 <= lon <= 180 and -90 <= lat <= 90
    return isinstance(coords, (list, tuple)) and all(_lonlat_ok(x) for x in coords)


def _boundaries(
    con: duckdb.DuckDBPyConnection, content: bytes
) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    empty = pd.DataFrame(columns=["ward_code", "geometry"])
    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return empty, [Problem(None, None, None, f"The file is not GeoJSON: {exc}.")], []
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        return empty, [Problem(None, None, None, "The file is not a GeoJSON FeatureCollection.")], []
    crs = json.dumps(doc.get("crs", {})).upper()
    if crs not in ("{}", "NULL") and "CRS84" not in crs and "4326" not in crs:
        return empty, [Problem(None, None, None, "Shapes must be in longitude/latitude (CRS84); this file names another coordinate system.")], []
    known = {r[0] for r in con.execute("SELECT ward_code FROM wards").fetchall()}
    problems: list[Problem] = []
    rows: dict[str, str] = {}
    unknown: list[str] = []
    features = doc.get("features")
    if not isinstance(features, list):
        return empty, [Problem(None, None, None, "The FeatureCollection has no list of features.")], []
    for i, feature in enumerate(features, start=1):
        feature = feature if isinstance(feature, dict) else {}
        props = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
        geometry = feature.get("geometry") if isinstance(feature.get("geometry"), dict) else None
        code = _feature_code(props)
        if not code:
            problems.append(Problem(None, f"feature {i}", None, "has no ward code (property ward_code, WDnnCD or area_code)"))
        elif not geometry or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            problems.append(Problem(None, f"feature {i}", code, "has no Polygon or MultiPolygon geometry"))
        elif not _lonlat_ok(geometry.get("coordinates")):
            problems.append(Problem(None, f"feature {i}", code, "has coordinates that are not longitude/latitude"))
        elif code not in known:
            unknown.append(code)
        else:
            rows[code] = json.dumps(geometry, separators=(",", ":"))
    if not rows and not problems:
        problems.append(Problem(None, None, None, "No shape in the file names a ward of this council."))
    warnings = []
    if unknown:
        warnings.append(f"{len(unknown)} shape(s) name no known ward and were skipped: {', '.join(sorted(unknown)[:10])}")
    missing = sorted(known - set(rows))
    if missing:
        warnings.append(f"{len(missing)} ward(s) have no shape: {', '.join(missing)}")
    return pd.DataFrame({"ward_code": list(rows), "geometry": list(rows.values())}), problems, warnings


# ---------------------------------------------------------------------------------------------
# Commentary and deadlines


def add_commentary(db: str | Path, *, directorate: str, quarter: str, body: str, user: str) -> None:
    """Record a lead's commentary for a directorate and quarter (the newest counts)."""
    with warehouse.write(db) as con:
        write_commentary(con, directorate=directorate, quarter=quarter, body=body, user=user)


def write_commentary(
    con: duckdb.DuckDBPyConnection, *, directorate: str, quarter: str, body: str, user: str,
    at: dt.datetime | None = None,
) -> None:
    """Commentary inside an open write (so it can commit with a submission)."""
    at = at or _now()
    con.execute("INSERT INTO commentary VALUES (?, ?, ?, ?, ?)", [directorate, quarter, user, at, body.strip()])
    audit(con, user, "commentary", f"{directorate} {quarter}", at)


def set_deadline(db: str | Path, *, quarter: str, due: dt.date, user: str) -> None:
    """Set (or move) the submission deadline of a quarter."""
    with warehouse.write(db) as con:
        store_deadline(con, quarter=quarter, due=due, user=user)


def store_deadline(con: duckdb.DuckDBPyConnection, *, quarter: str, due: dt.date, user: str) -> None:
    """`set_deadline` inside an already open warehouse write."""
    con.execute("INSERT OR REPLACE INTO deadlines VALUES (?, ?)", [quarter, due])
    audit(con, user, "deadline", f"{quarter} due {due.isoformat()}")
