"""What every write records: the submissions log, the archived file, the audit log, the outcome.

Every function takes the connection of an open warehouse write (etl.warehouse.write), so what it
records commits together with the rows it describes, or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from etl import warehouse
from etl.validate import Problem

Progress = Callable[[str], None]


@dataclass
class Outcome:
    """What happened to one submission."""

    status: str  # accepted | rejected | identical | queried (valid, implausible figures not yet confirmed)
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


def now() -> dt.datetime:
    """The time a write is recorded at (whole seconds)."""
    return dt.datetime.now().replace(microsecond=0)


def quiet(_: str) -> None:
    """A progress callback that reports nothing."""


def log_submission(
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
    """Add one entry to the submissions log; returns its submission_id."""
    # max + 1: writes are serialised by the warehouse, and DuckLake has no sequences.
    sid = warehouse.next_id(con, "submissions", "submission_id")
    con.execute(
        """
        INSERT INTO submissions (submission_id, return_type, directorate, quarter, user_name,
            received_at, file_name, sha256, row_count, outcome, problem_count, message)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [sid, return_type, directorate, quarter, user, received_at, file_name, digest, row_count,
         outcome, problem_count, message],
    )
    return sid


def archive(con: duckdb.DuckDBPyConnection, digest: str, content: bytes) -> None:
    """Keep the file's bytes (once per content) in the warehouse's archive folder; `digest` is
    their SHA-256, computed by the caller (`sha256`) from these very bytes."""
    warehouse.archive(con, content, digest)


def audit(con: duckdb.DuckDBPyConnection, user: str, action: str, detail: str, at: dt.datetime | None = None) -> None:
    """Record one write in the audit log."""
    con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?)", [at or now(), user, action, detail])

