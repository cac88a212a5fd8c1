"""Every access to the warehouse file goes through this module: connect, read, write.

Concurrency design (build-and-swap)
-----------------------------------
DuckDB lets one process hold a database file for writing, and while any process holds the file
(even read-only) no other process can open it for writing. The dashboard must keep serving while
`python -m etl load` runs from a shell, so writers never open the live file:

* A writer takes an exclusive advisory lock on `<db>.lock` (writers queue; readers never take it),
  copies the live file to `<db>.tmp-<pid>`, opens the copy, runs its whole change in one
  transaction, checkpoints, closes, and atomically renames the copy over the live file
  (`os.replace`). A failure at any point removes the copy: the live file is untouched, so a
  submission is stored whole or not at all, even if the process dies half-way.
* A reader opens the live file read-only through `ATTACH ... (READ_ONLY)` on a fresh in-memory
  connection, which (unlike `duckdb.connect(path)`, cached per process) sees the swapped file.
  An open reader keeps the old inode alive until it reconnects, so a query never sees half a write.
  `Reader` re-attaches whenever the file's identity (inode, mtime, size) changes, so the next
  query after a load sees the new figures.

Moving to a shared warehouse (DuckLake on a PostgreSQL catalog) replaces `write()` and
`Reader` here; nothing else in the project opens a database.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from etl.contract import DEMOGRAPHIC_COLUMNS, POPULATION_COLUMNS
from kpis import facts

SCHEMA_VERSION = "1"
ALIAS = "wh"  # the name a reader attaches the warehouse under

DEFAULT_DB = Path("data") / "localism.duckdb"


def default_db_path() -> Path:
    """The warehouse path the CLI and the app use when none is given (LOCALISM_DB, else data/)."""
    env = os.environ.get("LOCALISM_DB")
    return Path(env) if env else DEFAULT_DB


# pop_ counts may be NULL: a blank in the wards file means not known, never 0 (contract).
_pop_cols = ",\n    ".join(f"{c} BIGINT" for c in POPULATION_COLUMNS)
_demo_cols = ",\n    ".join(f"{c} BIGINT NOT NULL" for c in DEMOGRAPHIC_COLUMNS)

DDL = f"""
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);

CREATE TABLE wards (
    ward_code VARCHAR PRIMARY KEY,
    ward_name VARCHAR NOT NULL,
    neighbourhood VARCHAR NOT NULL,
    population_total BIGINT NOT NULL,
    {_pop_cols},
    imd_decile INTEGER
);
CREATE TABLE directorates (directorate VARCHAR PRIMARY KEY, short_name VARCHAR);
CREATE TABLE targets (
    kpi VARCHAR NOT NULL,
    directorate VARCHAR,            -- NULL = whole council
    financial_year VARCHAR NOT NULL,
    target DOUBLE NOT NULL,
    direction VARCHAR NOT NULL
);
CREATE TABLE boundaries (ward_code VARCHAR PRIMARY KEY, geometry VARCHAR NOT NULL);

-- Original bytes of every file received, by SHA-256.
CREATE TABLE files (sha256 VARCHAR PRIMARY KEY, size_bytes BIGINT NOT NULL, content BLOB NOT NULL);

CREATE SEQUENCE submission_id_seq START 1;
CREATE TABLE submissions (
    submission_id BIGINT PRIMARY KEY DEFAULT nextval('submission_id_seq'),
    return_type VARCHAR NOT NULL,   -- budget | engagement | partnerships | reference:<kind>
    directorate VARCHAR,            -- NULL for reference loads
    quarter VARCHAR,                -- NULL for reference loads
    user_name VARCHAR NOT NULL,
    received_at TIMESTAMP NOT NULL,
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    row_count BIGINT NOT NULL,
    outcome VARCHAR NOT NULL,       -- accepted | rejected | identical
    problem_count BIGINT NOT NULL DEFAULT 0,
    message VARCHAR,
    superseded_by BIGINT
);

CREATE TABLE budget_rows (
    submission_id BIGINT NOT NULL,
    line_no BIGINT NOT NULL,
    directorate VARCHAR NOT NULL,
    quarter VARCHAR NOT NULL,
    budget_line VARCHAR NOT NULL,
    ward_code VARCHAR,
    total_budget_gbp DECIMAL(18, 2) NOT NULL,
    devolved_gbp DECIMAL(18, 2) NOT NULL,
    mechanism VARCHAR
);
CREATE TABLE engagement_rows (
    submission_id BIGINT NOT NULL,
    line_no BIGINT NOT NULL,
    directorate VARCHAR NOT NULL,
    quarter VARCHAR NOT NULL,
    activity_id VARCHAR NOT NULL,
    activity_date DATE NOT NULL,
    ward_code VARCHAR,
    method VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    participants_total BIGINT NOT NULL,
    {_demo_cols},
    feedback_published BOOLEAN NOT NULL
);
CREATE TABLE partnerships_rows (
    submission_id BIGINT NOT NULL,
    line_no BIGINT NOT NULL,
    directorate VARCHAR NOT NULL,
    quarter VARCHAR NOT NULL,
    partnership_id VARCHAR NOT NULL,
    partner_name VARCHAR NOT NULL,
    partner_type VARCHAR NOT NULL,
    arrangement VARCHAR NOT NULL,
    ward_code VARCHAR,
    start_date DATE NOT NULL,
    end_date DATE,
    annual_value_gbp DECIMAL(18, 2),
    lease_years INTEGER
);

-- A lead's commentary for a directorate and quarter; the newest counts.
CREATE TABLE commentary (
    directorate VARCHAR NOT NULL,
    quarter VARCHAR NOT NULL,
    user_name VARCHAR NOT NULL,
    written_at TIMESTAMP NOT NULL,
    body VARCHAR NOT NULL
);
-- Submission deadline per quarter, set by an administrator.
CREATE TABLE deadlines (quarter VARCHAR PRIMARY KEY, due_date DATE NOT NULL);
-- Every write: who, what, when.
CREATE TABLE audit_log (
    logged_at TIMESTAMP NOT NULL,
    user_name VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    detail VARCHAR
);

-- Only the newest accepted submission of each (return, directorate, quarter) counts.
CREATE VIEW current_submissions AS
    SELECT * FROM submissions WHERE outcome = 'accepted' AND superseded_by IS NULL
    AND return_type IN ('budget', 'engagement', 'partnerships');
CREATE VIEW budget AS
    SELECT r.* FROM budget_rows r JOIN current_submissions s USING (submission_id);
CREATE VIEW engagement AS
    SELECT r.* FROM engagement_rows r JOIN current_submissions s USING (submission_id);
CREATE VIEW partnerships AS
    SELECT r.* FROM partnerships_rows r JOIN current_submissions s USING (submission_id);
"""  # noqa: S608 - formatted from the contract's fixed column names, no user text

ROW_TABLES: dict[str, str] = {
    "budget": "budget_rows",
    "engagement": "engagement_rows",
    "partnerships": "partnerships_rows",
}


class WarehouseError(Exception):
    """The warehouse file is missing, unreadable or not a warehouse."""


# ---------------------------------------------------------------------------------------------
# Writing


@contextlib.contextmanager
def _writer_lock(db: Path) -> Iterator[None]:
    lock_path = db.with_name(db.name + ".lock")
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # blocks until any other writer has swapped its file in
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def write(db: str | Path, *, create: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open a private copy of the warehouse in one transaction; swap it in if the block succeeds."""
    db = Path(db)
    if db.parent and not db.parent.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
    with _writer_lock(db):
        if not create and not db.exists():
            raise WarehouseError(
                f"There is no warehouse at {db}. Create one with: python -m etl init --db {db}"
            )
        tmp = db.with_name(f"{db.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        _remove(tmp)
        try:
            if db.exists():
                shutil.copyfile(db, tmp)
            con = duckdb.connect(str(tmp))
            try:
                if create and not db.exists():
                    create_schema(con)
                _check_schema(con)
                con.execute("BEGIN TRANSACTION")
                try:
                    facts.ensure(con)  # a warehouse built before the facts gets them here
                    yield con
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("CHECKPOINT")
            finally:
                con.close()
            _fsync(tmp)
            os.replace(tmp, db)
        finally:
            _remove(tmp)
            _remove(tmp.with_name(tmp.name + ".wal"))


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the warehouse tables on an empty connection (an in-memory one in tests)."""
    con.execute(DDL)
    con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    facts.create(con)


def init(db: str | Path) -> bool:
    """Create an empty warehouse at `db`; return False if one is already there."""
    db = Path(db)
    if db.exists():
        with read_only(db) as con:
            _check_schema(con)
        return False
    with write(db, create=True):
        pass
    return True


def _check_schema(con: duckdb.DuckDBPyConnection) -> None:
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.Error as exc:
        raise WarehouseError("That file is not a localism warehouse (no meta table).") from exc
    if not row or row[0] != SCHEMA_VERSION:
        raise WarehouseError(f"Unsupported warehouse schema version {row and row[0]!r}.")


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


# ---------------------------------------------------------------------------------------------
# Reading


def _attach(db: Path) -> duckdb.DuckDBPyConnection:
    if not db.exists():
        raise WarehouseError(
            f"There is no warehouse at {db}. Build the demo with: python -m etl demo --db {db}"
        )
    con = duckdb.connect(":memory:")
    try:
        # ATTACH takes no bound parameters; the path comes from the operator, quoted as a literal.
        literal = "'" + str(db).replace("'", "''") + "'"
        con.execute(f"ATTACH {literal} AS {ALIAS} (READ_ONLY)")
        con.execute(f"USE {ALIAS}")
        _check_schema(con)
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(f"Cannot open the warehouse at {db}: {exc}") from exc
    except WarehouseError:
        con.close()
        raise
    return con


@contextlib.contextmanager
def read_only(db: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection to the live warehouse (for the CLI and tests)."""
    con = _attach(Path(db))
    try:
        yield con
    finally:
        con.close()


def file_version(db: str | Path) -> str:
    """A token that changes whenever a writer swaps in a new warehouse file."""
    try:
        st = os.stat(db)
    except FileNotFoundError:
        return "missing"
    return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"


class Reader:
    """One root connection per process for a long-running app; one cursor per query.

    DuckDB connections are not thread-safe, so each query runs on its own `.cursor()`.
    The root connection is replaced when the file's identity changes (a writer swapped it).
    """

    def __init__(self, db: str | Path):
        self.db = Path(db)
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._version = ""

    @property
    def version(self) -> str:
        """The version of the file the next query will read."""
        return file_version(self.db)

    def _root(self) -> duckdb.DuckDBPyConnection:
        current = file_version(self.db)
        with self._lock:
            if self._con is None or current != self._version:
                # The old root is dropped, not closed: a query on another thread may still be
                # using one of its cursors; it is freed when the last cursor goes.
                self._con = _attach(self.db)
                self._version = current
            return self._con

    @contextlib.contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the current warehouse, with the warehouse as its default catalog."""
        cur = self._root().cursor()
        try:
            cur.execute(f"USE {ALIAS}")  # USE is per connection; a cursor does not inherit it
            yield cur
        finally:
            cur.close()

    def query_df(self, sql: str, params: dict[str, Any] | list[Any] | None = None) -> pd.DataFrame:
        """Run one parameterised query and return a DataFrame."""
        with self.cursor() as cur:
            return cur.execute(sql, params or []).df()


def query_df(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | list[Any] | None = None
) -> pd.DataFrame:
    """Run one parameterised query on a connection and return a DataFrame."""
    return con.execute(sql, params or []).df()
