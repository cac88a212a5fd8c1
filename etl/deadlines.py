"""Submission deadlines: the day each quarter's returns are due."""

from __future__ import annotations

import datetime as dt

import duckdb

from etl.records import audit


def store_deadline(con: duckdb.DuckDBPyConnection, *, quarter: str, due: dt.date, user: str) -> None:
    """Set (or move) the submission deadline of a quarter, in an open write."""
    con.execute("DELETE FROM deadlines WHERE quarter = ?", [quarter])  # one row per quarter
    con.execute("INSERT INTO deadlines VALUES (?, ?)", [quarter, due])
    audit(con, user, "deadline", f"{quarter} due {due.isoformat()}")
