"""A lead's commentary on a directorate's quarter (the newest counts)."""

from __future__ import annotations

import datetime as dt

import duckdb

from etl.records import audit, now


def store_commentary(
    con: duckdb.DuckDBPyConnection, *, directorate: str, quarter: str, body: str, user: str,
    at: dt.datetime | None = None,
) -> None:
    """Record commentary in an open write (so it can commit with a submission)."""
    at = at or now()
    con.execute("INSERT INTO commentary VALUES (?, ?, ?, ?, ?)", [directorate, quarter, user, at, body.strip()])
    audit(con, user, "commentary", f"{directorate} {quarter}", at)
