"""Read-only queries of the warehouse that are not KPIs (those live in `kpis/`).

Reference look-ups, the submission and reference history, archived files, stored rows, the
audit log, deadlines, commentary and the returns tracker. Each function takes a DuckDB
connection or cursor first and binds its parameters; none opens a connection and none imports
streamlit. The dashboard runs them on `warehouse.Reader.cursor()` (dashboard/data.py); the
CLI and tests on `warehouse.read_only(db)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import duckdb
import pandas as pd

from etl import contract as c
from etl import warehouse
from etl.quarters import default_deadline, quarter_of_date, shift_quarter

Con = duckdb.DuckDBPyConnection


def _scope(directorates: Sequence[str] | None) -> dict[str, Any]:
    """The ($all_directorates, $directorates) parameters: None means every directorate."""
    return {"all_directorates": directorates is None, "directorates": list(directorates or [])}


# ---------------------------------------------------------------------------------------------
# Reference data


def directorates(con: Con) -> pd.DataFrame:
    """Directorates of the council: directorate, short_name."""
    return warehouse.query_df(con, """
        SELECT directorate, short_name
        FROM directorates
        ORDER BY directorate
    """)


# The ward set a quarter uses (docs/ward-vintages.md): the spans of etl/warehouse.py's views;
# $quarter NULL means the newest set.
_SET_OF_QUARTER = """
    vintage IN (SELECT vintage FROM ward_set_spans WHERE CASE WHEN $quarter IS NULL THEN newest
                ELSE $quarter >= span_from AND (span_until IS NULL OR $quarter < span_until) END)
"""


def wards(con: Con, quarter: str | None = None) -> pd.DataFrame:
    """ward_code, ward_name, neighbourhood, population_total, imd_decile by neighbourhood and name:
    the wards of `quarter`'s ward set (None: the newest set)."""
    return warehouse.query_df(con, f"""
        SELECT ward_code, ward_name, neighbourhood, population_total, imd_decile
        FROM ward_reference
        WHERE {_SET_OF_QUARTER}
        ORDER BY neighbourhood, ward_name
    """, {"quarter": quarter})  # noqa: S608 - a fixed condition


def boundaries(con: Con, quarter: str | None = None) -> pd.DataFrame:
    """ward_code, geometry (GeoJSON text) of every boundary of `quarter`'s ward set (None: newest)."""
    return warehouse.query_df(con, f"""
        SELECT ward_code, geometry
        FROM ward_boundaries
        WHERE {_SET_OF_QUARTER}
        ORDER BY ward_code
    """, {"quarter": quarter})  # noqa: S608 - a fixed condition


def ward_sets(con: Con) -> pd.DataFrame:
    """Every ward set, oldest first: vintage, first_quarter ('' = every quarter until the next),
    next_first_quarter (the next set's; None for the newest), wards, shapes, loaded_at,
    submission_id."""
    return warehouse.query_df(con, """
        SELECT s.vintage, s.first_quarter,
            s.span_until AS next_first_quarter,
            (SELECT count(*) FROM ward_reference AS r WHERE r.vintage = s.vintage) AS wards,
            (SELECT count(*) FROM ward_boundaries AS b WHERE b.vintage = s.vintage) AS shapes,
            s.loaded_at, s.submission_id
        FROM ward_set_spans AS s
        ORDER BY s.first_quarter
    """)


def ward_history(con: Con) -> pd.DataFrame:
    """Every ward of every set: vintage, first_quarter (of its set), ward_code, ward_name."""
    return warehouse.query_df(con, """
        SELECT r.vintage, s.first_quarter, r.ward_code, r.ward_name
        FROM ward_reference AS r JOIN ward_sets AS s USING (vintage)
        ORDER BY s.first_quarter, r.ward_code
    """)


# ---------------------------------------------------------------------------------------------
# Submissions


def last_accepted_at(con: Con) -> pd.Timestamp | None:
    """Time of the latest accepted submission (returns or reference), or None."""
    row = con.execute("""
        SELECT max(received_at)
        FROM submissions
        WHERE outcome = 'accepted'
    """).fetchone()
    return None if row is None or row[0] is None else pd.Timestamp(row[0])


_SUBMISSION_LOG = """
    SELECT
        submission_id AS id,
        return_type AS "return",
        replace(return_type, 'reference:', '') AS kind,
        directorate,
        quarter,
        outcome AS status,
        user_name AS "who",
        received_at AS "when",
        file_name AS file,
        row_count AS rows,
        problem_count AS problems,
        CASE
            WHEN outcome <> 'accepted' THEN ''
            WHEN superseded_by IS NULL THEN 'current'
            ELSE 'superseded by #' || superseded_by
        END AS state,
        sha256,
        message
    FROM submissions
    WHERE (return_type LIKE 'reference:%') = $reference
      AND ($all_directorates OR list_contains($directorates::VARCHAR[], directorate))
    ORDER BY received_at DESC, submission_id DESC
"""


def _submission_log(con: Con, reference: bool, directorates: Sequence[str] | None,
                    columns: list[str]) -> pd.DataFrame:
    frame = warehouse.query_df(con, _SUBMISSION_LOG, {"reference": reference, **_scope(directorates)})
    return frame[columns]


def submission_history(con: Con, directorates: Sequence[str] | None = None) -> pd.DataFrame:
    """Every return submission (newest first) for some directorates (None = all), with its state.

    state is 'current' or 'superseded by #<id>' for an accepted return, blank otherwise.
    """
    return _submission_log(con, False, directorates, [
        "id", "return", "directorate", "quarter", "status", "who", "when", "file", "rows", "problems",
        "state", "sha256", "message",
    ])


def reference_history(con: Con) -> pd.DataFrame:
    """Every reference-data load, newest first."""
    return _submission_log(con, True, None, [
        "id", "kind", "status", "who", "when", "file", "rows", "problems", "sha256", "message",
    ])


def archived_file(con: Con, submission_id: int) -> tuple[str, bytes] | None:
    """(file name, original bytes) of a submission, from the archive folder."""
    row = con.execute("""
        SELECT file_name, sha256
        FROM submissions
        WHERE submission_id = $id
    """, {"id": int(submission_id)}).fetchone()
    if not row:
        return None
    content = warehouse.archived(con, str(row[1]))
    return None if content is None else (str(row[0]), content)


def submission_rows(con: Con, return_type: str, submission_id: int) -> pd.DataFrame:
    """The rows one submission stored (line = its line in the file)."""
    table = warehouse.ROW_TABLES[return_type]  # one of three fixed table names, never user text
    frame = warehouse.query_df(con, f"""
        SELECT * EXCLUDE (submission_id)
        FROM {table}
        WHERE submission_id = $id
        ORDER BY line_no
    """, {"id": int(submission_id)})  # noqa: S608
    return frame.rename(columns={"line_no": "line"})


def audit_log(con: Con, limit: int = 5000) -> pd.DataFrame:
    """The audit log of every write, newest first: when, who, action, detail."""
    return warehouse.query_df(con, """
        SELECT logged_at AS "when", user_name AS "who", action, detail
        FROM audit_log
        ORDER BY logged_at DESC, rowid DESC  -- entries of the same instant: the later one first
        LIMIT $limit
    """, {"limit": int(limit)})


# ---------------------------------------------------------------------------------------------
# Deadlines, commentary and the returns tracker


def deadlines(con: Con) -> pd.DataFrame:
    """Deadline per quarter, newest quarter first: quarter, due_date."""
    return warehouse.query_df(con, """
        SELECT quarter, due_date
        FROM deadlines
        ORDER BY quarter DESC
    """)


def deadline_of(con: Con, quarter: str) -> dt.date | None:
    """The deadline set for a quarter, if any."""
    row = con.execute("SELECT due_date FROM deadlines WHERE quarter = $quarter",
                      {"quarter": quarter}).fetchone()
    return row[0] if row else None


def default_quarter(today: dt.date | None = None,
                    deadline_for: Callable[[str], dt.date | None] | None = None) -> str:
    """The quarter a lead most likely sends now.

    Normally the most recent quarter that has ended (the one before today's). In the first weeks
    of a quarter the one before that may still be open: if it has a deadline that has not passed
    yet, it comes first, so late returns are not sent for the wrong quarter by default.
    """
    today = today or dt.date.today()
    last_ended = shift_quarter(quarter_of_date(today), -1)
    earlier = shift_quarter(last_ended, -1)
    if deadline_for is not None:
        due = deadline_for(earlier)
        if due is not None and today <= due:
            return earlier
    return last_ended


def latest_commentary(con: Con, directorate: str, quarter: str) -> dict[str, Any] | None:
    """The newest commentary for a directorate and quarter: body, who, when; or None."""
    row = con.execute("""
        SELECT body, user_name, written_at
        FROM commentary
        WHERE directorate = $directorate AND quarter = $quarter
        ORDER BY written_at DESC, rowid DESC  -- the later insert wins a tie within one second (DuckLake keeps row ids)
        LIMIT 1
    """, {"directorate": directorate, "quarter": quarter}).fetchone()
    return {"body": row[0], "who": row[1], "when": row[2]} if row else None


_RETURNS_TRACKER = """
    WITH return_types AS (
        SELECT unnest($return_types::VARCHAR[]) AS return_type
    ),
    deadline AS (  -- the deadline set for the quarter, else the default one (etl.quarters.default_deadline)
        SELECT coalesce(max(due_date), $default_due) AS due, max(due_date) IS NOT NULL AS due_set
        FROM deadlines WHERE quarter = $quarter
    ),
    expected AS (
        SELECT d.directorate, r.return_type
        FROM directorates AS d
        CROSS JOIN return_types AS r
        WHERE $all_directorates OR list_contains($directorates::VARCHAR[], d.directorate)
    )
    SELECT
        $quarter AS quarter,
        e.directorate,
        e.return_type,
        s.received_at,
        s.user_name,
        s.file_name,
        s.row_count,
        CASE
            WHEN s.submission_id IS NOT NULL THEN 'received'
            WHEN $today > deadline.due THEN 'overdue'
            ELSE 'missing'
        END AS status,
        deadline.due,
        deadline.due_set
    FROM expected AS e
    CROSS JOIN deadline
    LEFT JOIN current_submissions AS s
      ON s.directorate = e.directorate
     AND s.return_type = e.return_type
     AND s.quarter = $quarter
    ORDER BY e.directorate, e.return_type
"""


def returns_tracker(con: Con, quarter: str, today: dt.date | None = None,
                    directorates: Sequence[str] | None = None) -> pd.DataFrame:
    """For one quarter: each directorate x return, whether a current accepted return is in, when and
    from whom.

    status is 'received', 'missing' or 'overdue' (missing after the quarter's deadline); due is
    that deadline: the one an administrator set (due_set true), else the default rule's
    (`etl.quarters.default_deadline`), as on the overview. directorates=None means all of them.
    """
    frame = warehouse.query_df(con, _RETURNS_TRACKER, {
        "quarter": quarter,
        "today": today or dt.date.today(),
        "default_due": default_deadline(quarter),
        "return_types": list(c.RETURN_TYPES),
        **_scope(directorates),
    })
    frame["due"] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in frame["due"]]
    return frame
