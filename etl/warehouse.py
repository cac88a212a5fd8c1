"""The one module that opens the warehouse: connect, read a snapshot, write a transaction, archive.

Everything else in the project reaches the data through a `Warehouse` (or one of the thin
module-level helpers below that resolve a `--db` value to one). Nothing else opens, copies or
renames warehouse files.

Where the warehouse lives (`--db` / `LOCALISM_DB`)
-------------------------------------------------
* a file path (the default, `data/localism.duckdb`): the embedded warehouse. No server to install.
  The path is the catalog (a SQLite file); the data files, the archived originals and DuckDB's
  spill folder live in the data folder, `<path>.data/` beside it unless `--data-path` /
  `LOCALISM_DATA_PATH` names another.
* `ducklake:postgres:<libpq connection string>`: a shared warehouse, DuckLake with its catalog in
  PostgreSQL and its data folder named by `--data-path` / `LOCALISM_DATA_PATH` (a folder every
  instance mounts). Several app instances and several writers on different machines share it.

Both are DuckLake (DuckDB's `ducklake` extension), so the KPI SQL and every query read the same
table and view names on both; only the catalog differs. The data folder holds
`lake/` (DuckLake's Parquet files), `archive/<sha256[:2]>/<sha256>` (the original bytes of every
file received, content-addressed, outside the tables that queries scan) and `tmp/` (DuckDB's
spill files, one folder per process).

Why DuckLake with a SQLite catalog for the embedded default (measured)
----------------------------------------------------------------------
`python -m benchmarks.warehouse_backends --big-returns 2000 --rows-per-return 500 --write`
(BENCHMARKS.md, section "Warehouse backends"): one 100-row budget return stored through
`store_return` (validation included) into a small warehouse (150 returns) and a big one (2,000
returns, 1,000,000 rows), median of 5; then a reader process queries every 10 ms while 10 more
returns are written. Measured on the shared 2-core machine under a load average of about 12, so
the seconds are inflated; the comparisons within the run are what count:

| design | write p50 small / big | reader during writes |
| --- | --- | --- |
| build-and-swap (previous: copy the file each write) | 4.1 s / 4.1 s | 89 reads, 0 errors |
| (a) one DuckDB file written in place | 2.9 s / 2.5 s | 83 of 92 reads failed (file locked); 1 of 10 writes failed while a reader held the file |
| (b) DuckLake, SQLite catalog (chosen) | 5.4 s / 4.1 s | 53 reads, 0 errors, each commit seen whole |

(a) writes cheapest, but DuckDB lets no other process open a file a writer holds, and a reader
holding it makes the writer fail: the app would fail while `etl load` runs, or need the copy this
design removes. Build-and-swap copies and fsyncs the whole file on every write: at this size the
copy is small beside validation, but at national scale (1.9-3.5 GB) it made a 100-row return
9.2 s against 2.8 s into the demo (issue 9). (b) costs the change only (the big warehouse wrote
no slower than the small one), readers keep serving from their snapshot, and it is the same code
as the shared backend. Its price: each statement reads the catalog first (about 30-80 ms per
query here, SQLite and PostgreSQL alike), so pages cache by `version`.

Concurrency and atomicity
-------------------------
* A write is one DuckLake transaction: the catalog commit (one SQLite or PostgreSQL transaction)
  makes all of it visible at once, or none of it. A writer killed half-way leaves at most
  unreferenced Parquet files (no row of them is visible; `ducklake_delete_orphaned_files` can
  remove them) and never half a return.
* Writers queue on a lock: `writer.lock` in the data folder (fcntl) for the embedded backend, a
  PostgreSQL transaction-level advisory lock for the shared one (released by PostgreSQL if the
  writer dies). Because writes are serialised, the application's uniqueness rules (one current
  return per directorate and quarter, submission ids as max + 1) hold without PRIMARY KEY or
  sequences, which DuckLake does not have. SQLite in WAL mode lets readers read during a commit.
* Readers: `read()` gives a cursor on a per-process root connection (DuckDB connections are not
  thread-safe; cursors are), each query reading the latest committed snapshot. `version` is the
  DuckLake snapshot id, so caches keyed by it refresh after any commit by any process.
  `read_pinned(version)`, the app's cached reads: that snapshot with its small tables copied into
  memory once, so a council figure asks the catalog nothing (BENCHMARKS.md, "pinned snapshots").
* `preview()` is a write transaction that is always rolled back (no copy, no lock).
* Snapshots: after each write, those superseded more than SNAPSHOT_RETENTION (an hour) ago are
  expired and the files only they could see deleted, so a write's cost and the data folder follow
  the warehouse's contents, not its history. The submissions' history is in the tables (every
  submission is kept), never in DuckLake's snapshots. A read that outlives the retention (a backup
  of hours while returns arrive) stops with DuckLake's "No snapshot found".
* Only DuckDB's own SQLite touches an embedded catalog that DuckDB has attached in this process
  (its snapshot id is read with `sqlite_scan`; the file's header once, then known by inode):
  another copy of SQLite, or any open-and-close of the file, would drop DuckDB's POSIX locks on it
  and let another process reset the write-ahead log under it ("disk I/O error", stale reads).
* On a read-only mount the embedded catalog is read through a private copy (`_readable_catalog`):
  reads work, writes stop with the file system's error.
* `backup()` reads one pinned snapshot (no lock) into a folder; `restore()` verifies that folder
  and replaces every table in one write transaction (the folder's format: etl/backup.py).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import datetime as dt
import fcntl
import glob
import hashlib
import itertools
import os
import random
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from etl import backup as backup_folder
from etl.contract import DEMOGRAPHIC_COLUMNS, POPULATION_COLUMNS
from etl.quarters import quarter_of_date
from kpis import facts

SCHEMA_VERSION = "3"  # 1: the single DuckDB file of build-and-swap; 2: one ward set, no vintage
OLDER_LAKE_SCHEMAS = ("2",)  # DuckLake warehouses `etl migrate` moves to this schema
ALIAS = "wh"  # the catalog name the warehouse is attached under on every connection
DUCKLAKE_PREFIX = "ducklake:postgres:"
DEFAULT_DB = Path("data") / "localism.duckdb"
DEFAULT_MEMORY_LIMIT = "2GB"
_EXTENSION_VERSION = "v1.5.5"
_PG_LOCK_KEY = 0x4C4F43414C  # "LOCAL": the advisory lock writers of a shared warehouse queue on
# Compaction (see `compact`). Every write adds a small Parquet file to each table it touches, and
# DuckLake looks up every current file of a table a query names, so a query's cost grows with
# the history. After a write, a table's files smaller than a tier's size are merged once there are
# COMPACT_AT of them: each byte is rewritten about once per tier, and a table keeps a few dozen
# files whatever its history. `python -m etl compact` merges everything.
COMPACTION_TIERS = (1 << 20, 16 << 20)  # bytes
COMPACT_AT = 8
# Snapshot expiry (see `expire_snapshots`). DuckLake keeps every snapshot, and with it every file,
# delete file and column statistic a snapshot can still see, so each write reads more catalog as
# the history grows (705 snapshots made a 100-row return 2.9x slower than into an empty
# warehouse; BENCHMARKS.md). After each write, the snapshots superseded more than
# SNAPSHOT_RETENTION ago are expired and the files that only they could see are deleted. A reader
# needs its snapshot for one query or one pinned page (seconds), a backup for as long as it runs;
# one that outlives the retention stops with DuckLake's "No snapshot found", never reads a
# partial snapshot.
SNAPSHOT_RETENTION = dt.timedelta(hours=1)
# Pinned snapshots for the app's reads (see `Warehouse.read_pinned`): a table of up to MIRROR_ROWS
# rows is copied into memory once per snapshot; bigger tables and these are read from the lake.
MIRROR_ROWS = 500_000
NEVER_MIRRORED = frozenset({"budget_rows", "engagement_rows", "partnerships_rows", "files", "audit_log",
                            "ward_boundaries"})
# Tables whose queries break ties by `rowid` (insertion order): a view of one keeps it as a column.
ROWID_ORDERED = frozenset({"audit_log", "commentary"})

T = TypeVar("T")


class WarehouseError(Exception):
    """The warehouse is missing, unreadable or not a warehouse."""


class WarehouseBusy(WarehouseError):
    """A write could not commit because another one got in first (retry it)."""


# ---------------------------------------------------------------------------------------------
# Schema (DuckLake: NOT NULL is the only constraint; defaults are literals; no sequences)

# pop_ counts may be NULL: a blank in the wards file means not known, never 0 (contract).
_pop_cols = ",\n    ".join(f"{c} BIGINT" for c in POPULATION_COLUMNS)
_demo_cols = ",\n    ".join(f"{c} BIGINT NOT NULL" for c in DEMOGRAPHIC_COLUMNS)

TABLES_DDL = f"""
CREATE TABLE meta (key VARCHAR NOT NULL, value VARCHAR);

-- Ward sets (docs/ward-vintages.md): every set of wards the council has had, never deleted. A
-- quarter uses the set with the latest first quarter on or before it (the earliest set also
-- serves the quarters before it): see the views ward_set_spans, ward_history and wards below.
CREATE TABLE ward_sets (
    vintage VARCHAR NOT NULL,       -- ONS's WDnn label ('WD22', 'WD25'), or the loader's own
    first_quarter VARCHAR NOT NULL, -- canonical, e.g. '2023-24 Q1'; one set per first quarter
    loaded_at TIMESTAMP NOT NULL,
    submission_id BIGINT            -- the reference:wards load that last filled it (bytes archived)
);
CREATE TABLE ward_reference (       -- every ward of every set: the contract's wards file + vintage
    vintage VARCHAR NOT NULL,
    ward_code VARCHAR NOT NULL,
    ward_name VARCHAR NOT NULL,
    neighbourhood VARCHAR NOT NULL,
    population_total BIGINT NOT NULL,
    {_pop_cols},
    imd_decile INTEGER
);
CREATE TABLE ward_boundaries (vintage VARCHAR NOT NULL, ward_code VARCHAR NOT NULL, geometry VARCHAR NOT NULL);
CREATE TABLE directorates (directorate VARCHAR NOT NULL, short_name VARCHAR);
CREATE TABLE targets (
    kpi VARCHAR NOT NULL,
    directorate VARCHAR,            -- NULL = whole council
    financial_year VARCHAR NOT NULL,
    target DOUBLE NOT NULL,
    direction VARCHAR NOT NULL
);

-- Every file received, by SHA-256; the bytes are in the archive folder (Warehouse.archived).
CREATE TABLE files (sha256 VARCHAR NOT NULL, size_bytes BIGINT NOT NULL);

CREATE TABLE submissions (
    submission_id BIGINT NOT NULL,  -- max + 1, allocated under the writers' lock
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
    superseded_by BIGINT,
    warnings VARCHAR                -- plausibility warnings the sender saw and confirmed, one per line
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
-- Submission deadline per quarter, set by an administrator (one row per quarter).
CREATE TABLE deadlines (quarter VARCHAR NOT NULL, due_date DATE NOT NULL);
-- Every write: who, what, when.
CREATE TABLE audit_log (
    logged_at TIMESTAMP NOT NULL,
    user_name VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    detail VARCHAR
);
"""  # noqa: S608 - formatted from the contract's fixed column names, no user text

VIEWS_DDL = """
-- The quarters each ward set serves: from span_from (the earliest set from '', so from every
-- quarter before it) up to, not including, span_until (the next set's first quarter; NULL for
-- the newest). Canonical quarters ('2023-24 Q1') sort in time order as text.
CREATE VIEW ward_set_spans AS
    SELECT vintage, first_quarter, loaded_at, submission_id,
        CASE WHEN first_quarter = min(first_quarter) OVER () THEN '' ELSE first_quarter END AS span_from,
        lead(first_quarter) OVER (ORDER BY first_quarter) AS span_until,
        first_quarter = max(first_quarter) OVER () AS newest
    FROM ward_sets;
-- Every ward of every set with the quarters it serves: a quarter q's wards are the rows with
-- q >= span_from AND (span_until IS NULL OR q < span_until).
CREATE VIEW ward_history AS
    SELECT s.span_from, s.span_until, r.*
    FROM ward_reference AS r JOIN ward_set_spans AS s USING (vintage);
-- The newest set under the names the contract's files use, for everything not tied to a quarter.
CREATE VIEW wards AS
    SELECT * EXCLUDE (vintage) FROM ward_reference
    WHERE vintage IN (SELECT vintage FROM ward_set_spans WHERE newest);
CREATE VIEW boundaries AS
    SELECT ward_code, geometry FROM ward_boundaries
    WHERE vintage IN (SELECT vintage FROM ward_set_spans WHERE newest);
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
"""

DDL = TABLES_DDL + VIEWS_DDL

ROW_TABLES: dict[str, str] = {
    "budget": "budget_rows",
    "engagement": "engagement_rows",
    "partnerships": "partnerships_rows",
}


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The base tables of the warehouse on `con` (its default catalog), sorted."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database()"
        " AND table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def columns_of(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[str]:
    """Column names of `catalog.main.table` in table order."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? "
        "AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [catalog, table]
    ).fetchall()
    return [r[0] for r in rows]


@contextlib.contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN, then COMMIT when the block ends; ROLLBACK (and raise again) if it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def copy_tables(con: duckdb.DuckDBPyConnection, source: str, target: str,
                skip: tuple[str, ...] = ("meta",)) -> dict[str, int]:
    """Append every table of `source` into the same-named table of `target` (columns by name).

    Both are catalogs attached to `con`; run inside the target's write transaction. A column the
    source lacks is left NULL; returns the rows copied per table.
    """
    counts = {}
    source_tables = set(con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
        "AND table_schema = 'main' AND table_type = 'BASE TABLE'", [source]).fetchall())
    for (table,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
        "AND table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name", [target]
    ).fetchall():
        if table in skip or (table,) not in source_tables:
            continue
        have = set(columns_of(con, source, table))
        cols = [c for c in columns_of(con, target, table) if c in have]
        names = ", ".join(f'"{c}"' for c in cols)
        con.execute(f'INSERT INTO {target}.main."{table}" ({names}) '  # noqa: S608 - catalog names
                    f'SELECT {names} FROM {source}.main."{table}"')
        counts[table] = int(con.execute(f'SELECT count(*) FROM {source}.main."{table}"').fetchone()[0])  # noqa: S608
    return counts


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the warehouse tables on `con` (a DuckLake catalog, or an in-memory one in tests)."""
    con.execute(DDL)
    con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    facts.create(con)


def next_id(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    """The next id of `table.column` (max + 1): safe because writes are serialised."""
    row = con.execute(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}").fetchone()  # noqa: S608 - fixed names
    return int(row[0])


def _table_count(con: duckdb.DuckDBPyConnection) -> int:
    """How many tables the warehouse's catalog holds (none: its creation never committed)."""
    return int(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_catalog = ?",
                           [ALIAS]).fetchone()[0])


def _check_schema(con: duckdb.DuckDBPyConnection, label: str = "THIS_WAREHOUSE") -> None:
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.Error as exc:
        if not _table_count(con):
            raise WarehouseError(
                f"The warehouse at {label} was never finished: its creation was cut off. Run "
                f"python -m etl init --db {label} (or build the demo again) to finish it.") from exc
        raise WarehouseError("That is not a localism warehouse (no meta table).") from exc
    if row and row[0] in OLDER_LAKE_SCHEMAS:
        raise WarehouseError(
            f"{label} is a warehouse of schema {row[0]} (one ward set, no vintages); this version reads "
            f"schema {SCHEMA_VERSION}. Move it, with its whole history, with: python -m etl migrate "
            f"--from {label} --to NEW_PATH_OR_URI")
    if not row or row[0] != SCHEMA_VERSION:
        raise WarehouseError(f"Unsupported warehouse schema version {row and row[0]!r}.")


# ---------------------------------------------------------------------------------------------
# Settings


def default_db() -> str:
    """The `--db` value the CLI and the app use when none is given (LOCALISM_DB, else data/)."""
    return os.environ.get("LOCALISM_DB") or str(DEFAULT_DB)


def default_db_path() -> Path:
    """The default warehouse as a path (for files kept beside it, such as users.json)."""
    spec = default_db()
    return DEFAULT_DB if is_shared(spec) else Path(spec)


def default_data_path() -> str | None:
    """LOCALISM_DATA_PATH, if set."""
    return os.environ.get("LOCALISM_DATA_PATH") or None


def is_shared(spec: str | Path) -> bool:
    """Whether a `--db` value names a shared (DuckLake + PostgreSQL) warehouse."""
    return str(spec).startswith(DUCKLAKE_PREFIX)


def memory_limit() -> str:
    """DuckDB's memory limit for every connection (env LOCALISM_MEMORY_LIMIT, default 2GB)."""
    return os.environ.get("LOCALISM_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT


def _literal(text: str) -> str:
    """A SQL string literal (ATTACH and SET take no bound parameters)."""
    return "'" + str(text).replace("'", "''") + "'"


def _extension_file(name: str) -> str:
    import importlib.util

    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError(
            f"The DuckDB extension package duckdb-extension-{name} is not installed (run make setup)."
        )
    base = next(iter(spec.submodule_search_locations))
    found = glob.glob(os.path.join(base, "extensions", _EXTENSION_VERSION, "*.duckdb_extension"))
    if not found:
        raise WarehouseError(f"duckdb-extension-{name} has no {_EXTENSION_VERSION} extension file.")
    return found[0]


_installed: set[str] = set()
_install_lock = threading.Lock()
_EXTENSIONS = {"sqlite": "sqlite_scanner", "postgres": "postgres_scanner", "ducklake": "ducklake"}


def _load_extension(con: duckdb.DuckDBPyConnection, package: str) -> None:
    """INSTALL the extension from its registry package (once per process), then LOAD it."""
    with _install_lock:
        if package not in _installed:
            con.execute(f"INSTALL {_literal(_extension_file(package))}")
            _installed.add(package)
    con.execute(f"LOAD {_EXTENSIONS[package]}")


# ---------------------------------------------------------------------------------------------
# The Warehouse


class Warehouse:
    """One warehouse, embedded (a file path) or shared (`ducklake:postgres:...`).

    * `read()` - a cursor on the latest committed snapshot (thread-safe: one cursor per query);
    * `write()` - a connection in one transaction, committed if the block succeeds, else nothing;
    * `preview()` - the same, always rolled back;
    * `archive(bytes)` / `archived(sha256)` - original files, content-addressed in the data folder;
    * `version` - a token that changes on every commit (the DuckLake snapshot id).
    """

    def __init__(self, db: str | Path | None = None, data_path: str | Path | None = None):
        spec = str(db) if db is not None else default_db()
        data = data_path if data_path is not None else default_data_path()
        self.spec = spec
        self.shared = is_shared(spec)
        if self.shared:
            self.conninfo = spec[len(DUCKLAKE_PREFIX):]
            if not data:
                raise WarehouseError(
                    "A shared warehouse needs its data folder: set LOCALISM_DATA_PATH or pass --data-path."
                )
            self.catalog_path: Path | None = None
            self.data_path = Path(data).absolute()
        else:
            self.conninfo = ""
            self.catalog_path = Path(spec).absolute()
            self.data_path = Path(data).absolute() if data else self.catalog_path.with_name(
                self.catalog_path.name + ".data")
        self._lock = threading.Lock()  # guards the root reader connection
        self._write_lock = threading.Lock()  # writers in this process queue here first
        self._root: duckdb.DuckDBPyConnection | None = None
        self._lock_con: duckdb.DuckDBPyConnection | None = None
        self._version_cache: tuple[float, str] = (0.0, "")
        # the embedded catalog's files as last seen, when, and the snapshot id read then
        self._catalog_seen: tuple[tuple[int, ...], float, str] | None = None
        self._tmp_seq = itertools.count()
        self._frozen_lock = threading.Lock()
        self._frozen_catalog: Path | None = None  # a read-only folder's catalog, copied (see _readable_catalog)
        self.mirror_rows = MIRROR_ROWS  # tables up to this size are copied into a pinned snapshot
        self._pinned_lock = threading.Lock()  # guards _pinned (built under it: one build at a time)
        self._pinned: list[_Pinned] = []  # the newest last; older ones are detached once unused

    def __repr__(self) -> str:
        return f"Warehouse({self.label!r})"

    @property
    def label(self) -> str:
        """How messages name this warehouse (no password from a connection string)."""
        if not self.shared:
            return str(self.spec)
        safe = " ".join(p for p in self.conninfo.split() if not p.lower().startswith("password="))
        return DUCKLAKE_PREFIX + safe

    # -- folders -------------------------------------------------------------------------------

    @property
    def lake_path(self) -> Path:
        return self.data_path / "lake"

    @property
    def archive_path(self) -> Path:
        return self.data_path / "archive"

    def _temp_directory(self) -> Path:
        """This connection's spill folder: DuckDB creates it on the first spill and removes it on
        close, but creates one level only, so its parent is made here (where the folder allows)."""
        configured = os.environ.get("LOCALISM_TEMP_DIR")
        base = Path(configured) if configured else self.data_path / "tmp"
        if not configured and self.data_path.exists() and not os.access(self.data_path, os.W_OK):
            base = Path(tempfile.gettempdir()) / "localism-spill"  # a read-only data folder
        with contextlib.suppress(OSError):  # a read-only (or not yet made) data folder: nothing spills there
            base.mkdir(parents=bool(configured), exist_ok=True)
        return base / f"{socket.gethostname()}-{os.getpid()}-{next(self._tmp_seq)}"

    # -- connections ---------------------------------------------------------------------------

    def _catalog_uri(self) -> str:
        if self.shared:
            return "ducklake:postgres:" + self.conninfo
        return "ducklake:sqlite:" + str(self._readable_catalog())

    def _read_only_folder(self) -> bool:
        """Whether the embedded catalog is on a read-only file system (a read-only mount)."""
        assert self.catalog_path is not None
        try:
            return bool(os.statvfs(self.catalog_path.parent).f_flag & os.ST_RDONLY) and self.catalog_path.exists()
        except OSError:
            return False

    def _readable_catalog(self) -> Path:
        """The catalog file to attach: the warehouse's own or, on a read-only mount, a private copy.

        SQLite opens a WAL-mode file only where it can make the shared-memory file beside it;
        DuckDB's SQLite reader takes no `immutable` URI, Python's does. Nothing commits through a
        read-only mount, so the copy, made once, stays current. (A folder this process may only
        read but another user writes is not a read-only mount: there SQLite needs the folder
        writable, or the shared backend is the answer, since a copy would go stale.)"""
        assert self.catalog_path is not None
        if not self._read_only_folder():
            return self.catalog_path
        with self._frozen_lock:
            if self._frozen_catalog is None:
                self._frozen_catalog = _copy_catalog(self.catalog_path)
            return self._frozen_catalog

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A new DuckDB instance with the warehouse attached as `wh` and in use (the process's
        root connection; tools that need their own, such as migrate, call it too).

        Every connection gets the memory limit, a spill folder under the data folder and no
        progress bar (it would print into machine-readable output).
        """
        con = duckdb.connect(":memory:", config={
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
            "memory_limit": memory_limit(),
            "temp_directory": str(self._temp_directory()),
        })
        try:
            con.execute("SET enable_progress_bar = false")
            _load_extension(con, "ducklake")
            _load_extension(con, "postgres" if self.shared else "sqlite")
            options = f"DATA_PATH {_literal(str(self.lake_path) + os.sep)}"
            if read_only:
                options += ", READ_ONLY"
            con.execute(f"ATTACH {_literal(self._catalog_uri())} AS {ALIAS} ({options})")
            con.execute(f"USE {ALIAS}")
        except duckdb.Error as exc:
            con.close()
            raise WarehouseError(f"Cannot open the warehouse at {self.label}: {_first_line(exc)}") from exc
        except BaseException:
            con.close()
            raise
        return con

    def _embedded_state(self) -> str:
        """'missing', 'warehouse' (a SQLite catalog), 'old' (a schema-1 DuckDB file) or 'other'.

        A file once seen to be a catalog is known by its inode and never opened here again: closing
        any descriptor of a file drops every POSIX lock this process holds on it, the SQLite
        locks of DuckDB's own attachment included, and another process could then reset the
        write-ahead log under it (https://www.sqlite.org/howtocorrupt.html, section 2.2)."""
        assert self.catalog_path is not None
        try:
            seen = os.stat(self.catalog_path)
        except FileNotFoundError:
            return "missing"
        if (seen.st_dev, seen.st_ino) in _SQLITE_CATALOGS:
            return "warehouse"
        try:
            with open(self.catalog_path, "rb") as fh:
                head = fh.read(16)
        except FileNotFoundError:
            return "missing"
        except IsADirectoryError:
            return "other"
        if head.startswith(b"SQLite format 3\x00"):
            _SQLITE_CATALOGS.add((seen.st_dev, seen.st_ino))
            return "warehouse"
        if head[8:12] == b"DUCK":
            return "old"
        return "other" if head else "missing"

    def _require(self) -> None:
        """Raise a clear WarehouseError unless there is a warehouse here."""
        if self.shared:
            return  # checked by _check_schema once attached
        state = self._embedded_state()
        if state == "missing":
            raise WarehouseError(
                f"There is no warehouse at {self.spec}. Create one with: python -m etl init --db {self.spec} "
                f"(or build the demo council's: python -m etl demo --db {self.spec})"
            )
        if state == "old" and self._old_schema() == "1":
            raise WarehouseError(
                f"{self.spec} is a warehouse in the older single-file format. Move it (with its whole "
                f"history) with: python -m etl migrate --from {self.spec} --to NEW_PATH_OR_URI"
            )
        if state in ("old", "other"):
            raise WarehouseError(f"{self.spec} is not a localism warehouse.")

    def _old_schema(self) -> str | None:
        """The schema version in a single-file (DuckDB) warehouse, or None if it has none."""
        con = duckdb.connect(":memory:", config={"autoload_known_extensions": False,
                                                 "autoinstall_known_extensions": False})
        try:
            con.execute(f"ATTACH {_literal(str(self.catalog_path))} AS old (READ_ONLY)")
            row = con.execute("SELECT value FROM old.main.meta WHERE key = 'schema_version'").fetchone()
            return str(row[0]) if row else None
        except duckdb.Error:
            return None
        finally:
            con.close()

    def _older_lake_schema(self) -> str | None:
        """The schema version of an embedded DuckLake warehouse of an older schema here, else None."""
        if self.shared or self._embedded_state() != "warehouse":
            return None
        con = self.connect(read_only=True)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except duckdb.Error:
            return None
        finally:
            con.close()
        return str(row[0]) if row and str(row[0]) in OLDER_LAKE_SCHEMAS else None

    def exists(self) -> bool:
        """Whether a warehouse (of this schema) is already here."""
        if not self.shared:
            return self._embedded_state() != "missing"
        try:
            with self._cursor() as cur:
                _check_schema(cur)
            return True
        except WarehouseError:
            return False

    def init(self) -> bool:
        """Create an empty warehouse; return False if one is already here (left as it is).

        An embedded catalog whose creation was cut off (a killed `init` or demo build: the
        catalog file made, its tables never committed) is finished here; until then it reads as
        unfinished, never as a warehouse."""
        with self._writers_queue():
            if not self.shared:
                state = self._embedded_state()
                if state == "missing":
                    self.catalog_path.parent.mkdir(parents=True, exist_ok=True)
                    # WAL: readers in other processes keep reading while a writer commits.
                    # (Python's SQLite, on a file nothing in this process has open yet; never after.)
                    lite = sqlite3.connect(self.catalog_path)
                    try:
                        lite.execute("PRAGMA journal_mode=WAL")
                    finally:
                        lite.close()
                    self._embedded_state()  # known from now on, so never opened again in this process
                else:
                    self._require()
            self.data_path.mkdir(parents=True, exist_ok=True)
            with self._cursor(check=False) as cur:
                if _table_count(cur):
                    _check_schema(cur, self.label)
                    return False
                _stop_inlining(cur)  # from the start, as compaction does for a warehouse made before
                cur.execute("BEGIN TRANSACTION")
                create_schema(cur)
                cur.execute("COMMIT")
        self._version_cache = (0.0, "")
        return True

    # -- the process's one DuckDB instance for this warehouse: a cursor per read, write, preview

    def _root_connection(self, check: bool = True) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._root is None:
                self._require()
                con = self.connect()
                if check:
                    try:
                        _check_schema(con, self.label)
                    except BaseException:
                        con.close()
                        raise
                self._root = con
            return self._root

    @contextlib.contextmanager
    def _cursor(self, check: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A new connection (cursor) on the shared instance, with the warehouse in use."""
        cur = self._root_connection(check).cursor()
        try:
            cur.execute(f"USE {ALIAS}")  # USE is per connection; a cursor does not inherit it
            yield cur
        finally:
            cur.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on one snapshot, the newest commit of any process when the block starts, with
        the warehouse as default catalog.

        The block is one read-only transaction: every query in it sees the same commit (a page's
        four KPI families cannot straddle a write), and the catalog is opened once for the block
        instead of once per statement (about 4 ms a statement on the embedded catalog). Keep a
        block short: it sees no commit made after it began.
        """
        with self._cursor() as cur, self._owned(cur, preview=True):
            cur.execute("BEGIN TRANSACTION READ ONLY")
            try:
                yield cur
            finally:
                with contextlib.suppress(duckdb.Error):  # nothing to keep; a failed query aborted it
                    cur.execute("ROLLBACK")

    cursor = read  # the app's name for it

    @contextlib.contextmanager
    def read_pinned(self, version: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """Like `read()`, for the app's cached reads: a read-only cursor on snapshot `version` (a
        `version` token; default the newest), or on a newer one already pinned.

        The first read of a snapshot pins it: every table of up to `mirror_rows` rows (the
        roll-ups, the reference, the submissions log, targets; at demo scale the facts too) is
        copied into an in-memory catalog as of that snapshot, and every other table is a view of
        the lake `AT (VERSION => snapshot)`, with the warehouse's own views on top. A query then
        reads its small tables without asking the catalog for their files and footers (a council
        or directorate figure reads nothing else), and every query on the cursor sees that one
        snapshot, whichever commits land meanwhile. A page's cache key and the figures cached
        under it can no longer come from two snapshots either: the figures are of the key's
        snapshot or a newer one, never an older one.

        A snapshot that cannot be pinned (an older warehouse, a catalog mid-upgrade) is read as
        `read()` reads it.
        """
        token = version if version is not None else self._newest_version()
        snapshot = int(token) if token.isdigit() else None
        pinned = self._pin(snapshot) if snapshot is not None else None
        if pinned is None:
            with self.read() as cur:
                yield cur
            return
        try:
            with self._cursor() as cur, self._owned(cur, preview=True):
                cur.execute(f"USE {pinned.name}")
                cur.execute("BEGIN TRANSACTION READ ONLY")
                try:
                    yield cur
                finally:
                    with contextlib.suppress(duckdb.Error):
                        cur.execute("ROLLBACK")
        finally:
            self._unpin(pinned)

    def _pin(self, snapshot: int) -> _Pinned | None:
        """The newest pinned snapshot if it is `snapshot` or newer, else a new one; counted as in use."""
        with self._pinned_lock:
            newest = self._pinned[-1] if self._pinned else None
            if newest is None or newest.snapshot < snapshot:
                built = self._build_pinned(snapshot)
                if built is None:
                    return None
                self._pinned.append(built)
                newest = built
            newest.users += 1
            return newest

    def _unpin(self, pinned: _Pinned) -> None:
        with self._pinned_lock:
            pinned.users -= 1
            self._detach_unused()

    def _detach_unused(self) -> None:
        """Under _pinned_lock: detach every pinned snapshot but the newest that no cursor uses."""
        for old in [p for p in self._pinned[:-1] if p.users == 0]:
            try:
                with self._cursor() as cur:
                    cur.execute(f"DETACH {old.name}")
            except duckdb.Error:
                continue  # still referenced by a closing query: the next release tries again
            self._pinned.remove(old)

    def _build_pinned(self, snapshot: int) -> _Pinned | None:
        """An in-memory catalog holding the warehouse as of `snapshot` (see `read_pinned`)."""
        name = f"pinned_{snapshot}_{next(self._tmp_seq)}"
        at = f"AT (VERSION => {int(snapshot)})"
        try:
            with self._cursor() as cur:
                cur.execute(f"ATTACH ':memory:' AS {name}")
                try:
                    cur.execute("BEGIN TRANSACTION")
                    for table in table_names(cur):
                        source = f"{ALIAS}.main.{table} {at}"  # names from the catalog, a number
                        small = table not in NEVER_MIRRORED and cur.execute(
                            f"SELECT count(*) <= ? FROM {source}", [self.mirror_rows]).fetchone()[0]  # noqa: S608
                        if small:  # a copy in insertion order, so its own rowid orders rows as the lake's does
                            body = f"SELECT * FROM {source} ORDER BY rowid"  # noqa: S608
                        else:
                            body = f"SELECT *{', rowid AS rowid' if table in ROWID_ORDERED else ''} FROM {source}"  # noqa: S608
                        cur.execute(f"CREATE {'TABLE' if small else 'VIEW'} {name}.main.{table} AS {body}")  # noqa: S608
                    cur.execute(f"USE {name}")
                    cur.execute(VIEWS_DDL)
                    cur.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(duckdb.Error):
                        cur.execute("ROLLBACK")
                    cur.execute("USE " + ALIAS)
                    cur.execute(f"DETACH {name}")
                    raise
        except duckdb.Error:
            return None
        return _Pinned(name, snapshot)

    def query_df(self, sql: str, params: dict[str, Any] | list[Any] | None = None) -> pd.DataFrame:
        """Run one parameterised read query and return a DataFrame (retried if the catalog is busy)."""
        return self._retry_busy(lambda: self._query_once(sql, params))

    def _query_once(self, sql: str, params: dict[str, Any] | list[Any] | None) -> pd.DataFrame:
        with self.read() as cur:
            return cur.execute(sql, params or []).df()

    @property
    def version(self) -> str:
        """The DuckLake snapshot id: changes on every commit, by any process or machine."""
        if not self.shared:
            return self._embedded_version()
        at, value = self._version_cache
        now = time.monotonic()
        if value and now - at < 0.5:  # a page asks many times per rerun; one catalog query will do
            return value
        value = self._newest_version()
        self._version_cache = (now, value)
        return value

    def _newest_version(self) -> str:
        """`version` as of now, asked of the catalog (the shared backend's `version` may be 0.5 s old)."""
        if not self.shared:
            return self._embedded_version()

        def ask() -> str:
            with self.read() as cur:
                return str(cur.execute("SELECT id FROM ducklake_current_snapshot(?)", [ALIAS]).fetchone()[0])

        return self._retry_busy(ask)

    def _embedded_version(self) -> str:
        """The newest snapshot id, read through DuckDB's own SQLite (`sqlite_scan`) on the root
        connection. Python's sqlite3 module is a second copy of SQLite: opening the catalog with it
        while DuckDB has it attached would drop DuckDB's locks when it closed (see _embedded_state)."""
        assert self.catalog_path is not None
        if self._embedded_state() == "missing":
            return "missing"
        stamp = self._catalog_stamp()
        seen = self._catalog_seen
        if stamp is not None and seen is not None and seen[0] == stamp and time.monotonic() - seen[1] < 1.0:
            return seen[2]

        def ask() -> str:
            with self._cursor() as cur:
                row = cur.execute("SELECT max(snapshot_id) FROM sqlite_scan(?, 'ducklake_snapshot')",
                                  [str(self._readable_catalog())]).fetchone()
            return str(row[0])

        try:
            value = self._retry_busy(ask)
        except (duckdb.Error, WarehouseError):
            return "unreadable"
        self._catalog_seen = (stamp, time.monotonic(), value) if stamp is not None else None
        return value

    def _catalog_stamp(self) -> tuple[int, ...] | None:
        """The size and change time of the embedded catalog and its write-ahead log, if both have
        stood unchanged for `_SETTLED_NS`; else None (ask the catalog).

        Every commit writes to the log (or, at a checkpoint, the file), so while the stamp is the
        one taken before the catalog was last asked, no commit has landed since: the snapshot id
        read then is still the newest (kept at most a second). A file's change time ticks
        coarsely (a few ms), so a stamp only counts once it is `_SETTLED_NS` old: a commit after
        it then has a later time. Asking the catalog costs 6 ms; a page asks on every rerun.
        """
        catalog = self._readable_catalog()
        try:
            stats = [os.stat(path) for path in (catalog, catalog.with_name(catalog.name + "-wal"))]
        except OSError:
            return None
        if time.time_ns() - max(st.st_mtime_ns for st in stats) < _SETTLED_NS:
            return None
        return tuple(v for st in stats for v in (st.st_ino, st.st_size, st.st_mtime_ns))

    @staticmethod
    def _retry_busy(fn: Callable[[], T], attempts: int = 8) -> T:
        for attempt in range(attempts):
            try:
                return fn()
            except duckdb.Error as exc:
                if "database is locked" not in str(exc) or attempt == attempts - 1:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    # -- writing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _writers_queue(self) -> Iterator[None]:
        """Writers queue here: a thread lock, then the file lock or PostgreSQL's advisory lock."""
        with self._write_lock:
            if self.shared:
                with self._pg_advisory_lock():
                    yield
                return
            self.data_path.mkdir(parents=True, exist_ok=True)
            with open(self.data_path / "writer.lock", "a+") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)  # released by the kernel if the writer dies
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _pg_advisory_lock(self) -> Iterator[None]:
        with self._lock:
            if self._lock_con is None:
                con = duckdb.connect(":memory:", config={"autoload_known_extensions": False,
                                                         "autoinstall_known_extensions": False})
                try:
                    _load_extension(con, "postgres")
                    con.execute(f"ATTACH {_literal(self.conninfo)} AS writer_lock (TYPE postgres)")
                except duckdb.Error as exc:
                    con.close()
                    raise WarehouseError(f"Cannot reach the shared warehouse's catalog: {_first_line(exc)}") from exc
                self._lock_con = con
            con = self._lock_con
        try:
            con.execute("BEGIN TRANSACTION")
            # A transaction-level lock on the transaction's one PostgreSQL session: released at
            # COMMIT below, or by PostgreSQL when a killed writer's session ends.
            con.execute("SELECT * FROM postgres_query('writer_lock', ?)",
                        [f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})::text AS locked"]).fetchall()
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise WarehouseError(f"Cannot take the writers' lock on the shared catalog: {_first_line(exc)}") from exc
        try:
            yield
        finally:
            try:
                con.execute("COMMIT")
            except duckdb.Error:
                with self._lock:  # a broken session: PostgreSQL released the lock with it
                    self._lock_con = None
                with contextlib.suppress(duckdb.Error):
                    con.close()

    @contextlib.contextmanager
    def _owned(self, con: duckdb.DuckDBPyConnection, preview: bool) -> Iterator[None]:
        _OWNERS[id(con)] = (self, preview)
        try:
            yield
            _archives_written(con)  # every file the write names is on disk before it commits
        finally:
            _OWNERS.pop(id(con), None)
            with contextlib.suppress(Exception):  # a failed write: none is still being written after it
                _archives_written(con)

    @contextlib.contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection in one transaction: committed if the block succeeds, rolled back if not.

        Writers queue (one at a time per warehouse, across processes and machines); parse and
        validate before entering, so the queue holds only the write itself.
        """
        with self._writers_queue(), self._cursor() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                facts.ensure(con)  # a warehouse built before the facts gets them here
                with self._owned(con, preview=False):
                    yield con
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise
            try:
                con.execute("COMMIT")
            except duckdb.TransactionException as exc:  # a conflict, or a catalog busy with a commit
                raise WarehouseBusy(f"The warehouse was busy; nothing was stored: {_first_line(exc)}") from exc
            finally:
                self._version_cache = (0.0, "")
            # still first in the writers' queue: merge the small files this write tipped over a
            # tier, and let go of the snapshots no reader needs any more
            self._tidy_quietly(con)

    def _tidy_quietly(self, con: duckdb.DuckDBPyConnection) -> None:
        """Tiered compaction and snapshot expiry after a committed write; a failure leaves the files
        and snapshots as they are (the write is stored either way, and the next write or
        `etl compact` tidies them)."""
        for tidy in (compact, lambda c: expire_snapshots(c, held=self._held_snapshots())):
            try:
                tidy(con)
            except duckdb.Error:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
        self._version_cache = (0.0, "")

    def expire(self, keep: dt.timedelta | None = None) -> int:
        """Expire old snapshots now, as each write does after it (see `expire_snapshots`)."""
        with self._writers_queue(), self._cursor() as con:
            done = expire_snapshots(con, keep, held=self._held_snapshots())
        self._version_cache = (0.0, "")
        return done

    def _held_snapshots(self) -> list[int]:
        """The snapshots this process's pinned cursors are reading now."""
        with self._pinned_lock:
            return [p.snapshot for p in self._pinned if p.users]

    def transact(self, fn: Callable[[duckdb.DuckDBPyConnection], T], attempts: int = 5) -> T:
        """Run `fn(con)` in a write transaction, again from the start if the commit was refused."""
        for attempt in range(attempts):
            try:
                with self.write() as con:
                    return fn(con)
            except WarehouseBusy:
                if attempt == attempts - 1:
                    raise
                time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def preview(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write transaction that is always rolled back: see what a change would do, store nothing."""
        with self._cursor() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                with self._owned(con, preview=True):
                    yield con
            finally:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")

    def reset(self, con: duckdb.DuckDBPyConnection) -> None:
        """Inside a write: empty every table except meta."""
        for table in table_names(con):
            if table != "meta":
                con.execute(f"DELETE FROM {table}")  # noqa: S608 - names from the catalog

    @contextlib.contextmanager
    def rebuild(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Fill an empty in-memory warehouse; on success it replaces this one's contents in one write.

        For bulk builds (the demo): hundreds of submissions are stored at in-memory speed, then
        copied in with one statement per table. Readers see the old contents until the commit.
        Files archived meanwhile go straight to the archive folder (content-addressed, so an
        abandoned build leaves nothing a query sees). A warehouse in the older single-file format
        at the path is kept beside it as `<name>.single-file`, and an embedded one of an older
        schema as `<name>.schema-<n>` (the demo replaces what it finds).
        """
        if not self.shared and self._embedded_state() == "old":
            os.replace(self.catalog_path, self.catalog_path.with_name(self.catalog_path.name + ".single-file"))
        older = self._older_lake_schema()
        if older:  # kept beside it as `<name>.schema-<n>`, still readable by `etl migrate`
            self.close()
            for suffix in ("", "-wal", "-shm"):
                part = self.catalog_path.with_name(self.catalog_path.name + suffix)
                if part.exists():
                    os.replace(part, self.catalog_path.with_name(f"{self.catalog_path.name}.schema-{older}{suffix}"))
        self.init()
        stage = f"stage_{os.getpid()}_{next(self._tmp_seq)}"
        with self._cursor() as con:
            con.execute(f"ATTACH ':memory:' AS {stage}")
            try:
                con.execute(f"USE {stage}")
                create_schema(con)
                with self._owned(con, preview=False):
                    yield con
                con.execute(f"USE {ALIAS}")
                with self._writers_queue():
                    with _transaction(con):
                        self.reset(con)
                        copy_tables(con, stage, ALIAS)
                    self._tidy_quietly(con)
            finally:
                with contextlib.suppress(duckdb.Error):
                    con.execute(f"USE {ALIAS}")
                    con.execute(f"DETACH {stage}")
        self._version_cache = (0.0, "")

    # -- archived originals ----------------------------------------------------------------------

    def _archive_file(self, digest: str) -> Path:
        if len(digest) != 64 or not all(ch in "0123456789abcdef" for ch in digest):
            raise ValueError(f"not a SHA-256 digest: {digest!r}")
        return self.archive_path / digest[:2] / digest

    def archive(self, content: bytes, digest: str | None = None) -> str:
        """Keep a file's original bytes (once per content); return its SHA-256 (`digest`, when the
        caller has just computed it from these bytes)."""
        digest = digest or hashlib.sha256(content).hexdigest()
        target = self._archive_file(digest)
        if target.exists() and target.stat().st_size == len(content):
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
            _fsync_dir(target.parent)  # the rename survives a power cut only once its folder is synced
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return digest

    def archived(self, digest: str) -> bytes | None:
        """The original bytes of an archived file, or None if it is not in the archive."""
        try:
            return self._archive_file(digest).read_bytes()
        except (FileNotFoundError, ValueError):
            return None

    def archived_digests(self) -> list[str]:
        """Every digest in the archive folder, sorted."""
        if not self.archive_path.exists():
            return []
        return sorted(p.name for p in self.archive_path.glob("??/*") if len(p.name) == 64)

    # -- housekeeping ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close this process's connections (a running query keeps its cursor until it ends)."""
        with self._lock, self._pinned_lock:
            self._root = None  # dropped, not closed: a query on another thread may still use it
            self._lock_con = None
            self._pinned = []  # attached to the dropped root: gone with it


@dataclasses.dataclass
class _Pinned:
    """One pinned snapshot: the in-memory catalog `name`, as of DuckLake snapshot `snapshot`."""

    name: str
    snapshot: int
    users: int = 0  # cursors reading it now


_OWNERS: dict[int, tuple[Warehouse, bool]] = {}
# (device, inode) of every file this process has seen to be a SQLite catalog (see _embedded_state).
_SQLITE_CATALOGS: set[tuple[int, int]] = set()
_SETTLED_NS = 50_000_000  # a catalog file's change time this old is after any commit's (see _catalog_stamp)


# Every table's current data files, from DuckLake's catalog tables (the alias is a constant).
_CURRENT_FILES = f"""
FROM __ducklake_metadata_{ALIAS}.ducklake_data_file AS f
JOIN __ducklake_metadata_{ALIAS}.ducklake_table AS t USING (table_id)
WHERE f.end_snapshot IS NULL AND t.end_snapshot IS NULL"""
_SMALL_FILES = (f"SELECT t.table_name, count(*) AS files {_CURRENT_FILES}"  # noqa: S608
                " AND f.file_size_bytes < ? GROUP BY t.table_name ORDER BY t.table_name")
_LARGEST_WITH_DELETES = (  # the largest current file of a table that has deleted rows
    f"SELECT max(f.file_size_bytes) {_CURRENT_FILES} AND t.table_name = ?"  # noqa: S608
    f" AND EXISTS (SELECT 1 FROM __ducklake_metadata_{ALIAS}.ducklake_delete_file AS d"
    "  WHERE d.data_file_id = f.data_file_id AND d.end_snapshot IS NULL)"
)
ANY_SIZE = 1 << 62  # a size limit no file reaches


def data_files(con: duckdb.DuckDBPyConnection, smaller_than: int = ANY_SIZE) -> dict[str, int]:
    """How many current data files each table has (those under `smaller_than` bytes)."""
    return dict(con.execute(_SMALL_FILES, [smaller_than]).fetchall())


def compact(
    con: duckdb.DuckDBPyConnection,
    tiers: Sequence[int] = COMPACTION_TIERS,
    at: int = COMPACT_AT,
) -> list[tuple[str, int, int]]:
    """Merge small data files, tier by tier: in each table with at least `at` current files under
    a tier's size, those files become one (or a few). Each merge is its own committed
    transaction; readers keep their snapshot meanwhile (the old files stay for them until
    snapshots are expired). Returns (table, files merged, files written) per merge.

    With `tiers=(ANY_SIZE,)` and `at=2`, every table ends with as few files as DuckLake writes.
    Files with deleted rows (updated submissions, superseded returns' facts) are rewritten
    without them first, when they are all under the tier's size.
    """
    _stop_inlining(con)
    done: list[tuple[str, int, int]] = []
    for limit in tiers:
        for table, files in data_files(con, limit).items():
            if files < at:
                continue
            with _transaction(con):
                # files with deleted rows (updated submissions, superseded facts) are not merged:
                # rewrite them without those rows first, where they are all under this tier
                largest = con.execute(_LARGEST_WITH_DELETES, [table]).fetchone()[0]
                if largest is not None and largest < limit:
                    con.execute(f"CALL ducklake_rewrite_data_files({_literal(ALIAS)}, ?, delete_threshold => 0.0)",
                                [table])
                rows = con.execute(
                    f"CALL ducklake_merge_adjacent_files({_literal(ALIAS)}, ?, max_file_size => ?)",
                    [table, limit],
                ).fetchall()
            done.extend((str(r[1]), int(r[2]), int(r[3])) for r in rows)
    return done


def snapshot_ids(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The warehouse's DuckLake snapshots, oldest first (each commit adds one; expiry removes them)."""
    rows = con.execute("SELECT snapshot_id FROM ducklake_snapshots(?) ORDER BY snapshot_id", [ALIAS]).fetchall()
    return [r[0] for r in rows]


_EXPIRABLE = """
SELECT snapshot_id FROM (
    SELECT snapshot_id, lead(snapshot_time) OVER (ORDER BY snapshot_id) AS superseded_at
    FROM ducklake_snapshots(?))
WHERE superseded_at < now() - to_seconds(?::DOUBLE) AND NOT list_contains(?::BIGINT[], snapshot_id)
ORDER BY snapshot_id"""


def expire_snapshots(con: duckdb.DuckDBPyConnection, keep: dt.timedelta | None = None,
                     held: Iterable[int] = ()) -> int:
    """Expire every snapshot that stopped being the newest more than `keep` ago (default
    SNAPSHOT_RETENTION), except those in `held`, then delete the data files no remaining snapshot
    can see. Outside a transaction, in the writers' queue. Returns how many were expired.

    A snapshot's age counts from the next commit, not its own: a reader can take a snapshot only
    while it is the newest, so one made yesterday and read until a minute ago is kept an hour more.

    The ids are chosen here, not with DuckLake's `older_than`: on a SQLite catalog, where snapshot
    times are text, `older_than => now() - INTERVAL 1 HOUR` expired snapshots made seconds before.
    """
    keep = SNAPSHOT_RETENTION if keep is None else keep
    ids = [r[0] for r in con.execute(_EXPIRABLE, [ALIAS, keep.total_seconds(), sorted(held)]).fetchall()]
    if ids:
        con.execute(f"CALL ducklake_expire_snapshots({_literal(ALIAS)}, versions => ?)", [ids])
        con.execute(f"CALL ducklake_cleanup_old_files({_literal(ALIAS)}, cleanup_all => true)")
    return len(ids)


def _stop_inlining(con: duckdb.DuckDBPyConnection) -> None:
    """Rows of small inserts go into data files, not the catalog: DuckLake inlines inserts of a
    few rows into catalog tables by default, and a query then reads every inlined row through the
    catalog (at 3,600 returns the council's figures took 0.36 s instead of 0.11 s). Set once per
    warehouse (the option is kept in its catalog), moving rows inlined before into files."""
    limit = con.execute(
        f"SELECT value FROM __ducklake_metadata_{ALIAS}.ducklake_metadata "  # noqa: S608 - constant alias
        "WHERE key = 'data_inlining_row_limit' AND scope IS NULL"
    ).fetchall()
    if limit == [("0",)]:
        return
    con.execute(f"CALL ducklake_set_option({_literal(ALIAS)}, 'data_inlining_row_limit', 0)")
    con.execute(f"CALL ducklake_flush_inlined_data({_literal(ALIAS)})")


def compact_all(db: WarehouseLike, progress: Callable[[str], None] = lambda _: None) -> str:
    """`etl compact`: merge every table's data files (as `compact` with one unbounded tier), in
    the writers' queue; returns a summary line."""
    wh = open_warehouse(db)
    with wh._writers_queue(), wh._cursor() as con:
        before = data_files(con)
        progress(f"{sum(before.values()):,} data files in {len(before)} tables; merging")
        con.execute(f"CALL ducklake_rewrite_data_files({_literal(ALIAS)}, delete_threshold => 0.0)")
        compact(con, tiers=(ANY_SIZE,), at=2)
        expired = expire_snapshots(con, held=wh._held_snapshots())
        after = data_files(con)
    wh._version_cache = (0.0, "")
    return (f"Compacted {wh.label}: {sum(before.values()):,} data files in {len(before)} tables "
            f"became {sum(after.values()):,}; {expired:,} snapshots superseded more than "
            f"{_duration(SNAPSHOT_RETENTION)} ago expired, with the files only they could see.")


def _duration(span: dt.timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes and minutes % 60 == 0:
        return f"{minutes // 60} hour{'s' if minutes != 60 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _copy_catalog(catalog: Path) -> Path:
    """A private copy of a SQLite catalog that cannot be written (removed when the process ends)."""
    folder = Path(tempfile.mkdtemp(prefix="localism-catalog-"))
    atexit.register(shutil.rmtree, folder, True)
    target = folder / catalog.name
    try:
        source = sqlite3.connect(f"file:{urllib.parse.quote(str(catalog))}?immutable=1", uri=True)
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        raise WarehouseError(f"Cannot read the warehouse's catalog {catalog}: {exc}") from exc
    return target


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Archived originals being written beside an open write, by connection: written while the write
# stores its rows (a 100 MB file's write and fsync take a quarter of a second), awaited before
# it commits (`Warehouse._owned`).
_ARCHIVING: dict[int, list[Future[str]]] = {}
_ARCHIVER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="archive")


def _archives_written(con: duckdb.DuckDBPyConnection) -> None:
    """Wait for the archive files of `con`'s write; raise the first failure."""
    for pending in _ARCHIVING.pop(id(con), []):
        pending.result()


def archive(con: duckdb.DuckDBPyConnection, content: bytes, digest: str | None = None) -> str:
    """Inside `write()`: archive a file's bytes and list it in `files`; return its SHA-256
    (`digest`, when the caller has just computed it from these bytes).

    The file is written beside the rest of the write and is on disk before the write commits (a
    failure to write it fails the write). Inside `preview()` nothing is kept (the digest is still
    returned).
    """
    owner = _OWNERS.get(id(con))
    if owner is None:
        raise WarehouseError("archive() needs a connection from Warehouse.write() or preview().")
    wh, preview = owner
    digest = digest or hashlib.sha256(content).hexdigest()
    if not preview:
        _ARCHIVING.setdefault(id(con), []).append(_ARCHIVER.submit(wh.archive, content, digest))
    con.execute(
        "INSERT INTO files SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM files WHERE sha256 = ?)",
        [digest, len(content), digest],
    )
    return digest


def archived(con: duckdb.DuckDBPyConnection, digest: str) -> bytes | None:
    """The archived bytes of `digest`, given a connection from read(), write() or preview()."""
    owner = _OWNERS.get(id(con))
    if owner is None:
        raise WarehouseError("archived() needs a connection from a Warehouse.")
    return owner[0].archived(digest)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# ---------------------------------------------------------------------------------------------
# Resolving `--db` values (one Warehouse per value per process, so readers share a root)

_OPEN: OrderedDict[tuple[str, str], Warehouse] = OrderedDict()
_OPEN_LOCK = threading.Lock()
_OPEN_MAX = 8

# What every function that reads or writes the warehouse takes: a Warehouse, or a `--db` value (a
# file path or ducklake:postgres:<libpq>) that open_warehouse turns into the process's Warehouse.
WarehouseLike = Warehouse | str | Path


def open_warehouse(db: WarehouseLike | None = None, data_path: str | Path | None = None) -> Warehouse:
    """The Warehouse for a `--db` value (or LOCALISM_DB), shared within the process."""
    if isinstance(db, Warehouse):
        return db
    spec = str(db) if db is not None else default_db()
    data = str(data_path) if data_path is not None else (default_data_path() or "")
    key = (spec if is_shared(spec) else str(Path(spec).absolute()), data)
    with _OPEN_LOCK:
        wh = _OPEN.get(key)
        if wh is None:
            wh = Warehouse(spec, data or None)
            _OPEN[key] = wh
            while len(_OPEN) > _OPEN_MAX:
                _OPEN.popitem(last=False)[1].close()
        else:
            _OPEN.move_to_end(key)
        return wh


def forget(db: WarehouseLike) -> None:
    """Drop the process's cached Warehouse for `db` (after its files were removed, in tests)."""
    wh = open_warehouse(db)
    with _OPEN_LOCK:
        for key, value in list(_OPEN.items()):
            if value is wh:
                del _OPEN[key]
    wh.close()


# ---------------------------------------------------------------------------------------------
# Moving a warehouse (with its whole history) to another place or backend


def _attach_source(con: duckdb.DuckDBPyConnection, source: Warehouse) -> str:
    """Attach `source` read-only on `con` as `src`; return its format ('old' or 'lake')."""
    if not source.shared and source._embedded_state() == "old":
        con.execute(f"ATTACH {_literal(str(source.catalog_path))} AS src (READ_ONLY)")
        row = con.execute("SELECT value FROM src.main.meta WHERE key = 'schema_version'").fetchone()
        if not row or row[0] != "1":
            raise WarehouseError(f"{source.label}: unknown single-file schema version {row and row[0]!r}.")
        return "old"
    source._require()
    _load_extension(con, "sqlite")
    _load_extension(con, "postgres")
    con.execute(f"ATTACH {_literal(source._catalog_uri())} AS src "
                f"(DATA_PATH {_literal(str(source.lake_path) + os.sep)}, READ_ONLY)")
    row = con.execute("SELECT value FROM src.main.meta WHERE key = 'schema_version'").fetchone()
    if not row or row[0] not in (SCHEMA_VERSION, *OLDER_LAKE_SCHEMAS):
        raise WarehouseError(f"{source.label} is not a localism warehouse of schema "
                             f"{' or '.join((*OLDER_LAKE_SCHEMAS, SCHEMA_VERSION))}.")
    return "lake"


def _adopt_ward_set(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """Inside migrate's write: an older warehouse's one `wards` table (and `boundaries`) become
    the ward set 'initial', serving every quarter (from its earliest with a return). Returns words
    for the summary ('' when the source already keeps ward sets)."""
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
        "AND table_schema = 'main' AND table_type = 'BASE TABLE'", [source]).fetchall()}
    if "wards" not in tables:
        return ""
    wards = int(con.execute(f"SELECT count(*) FROM {source}.main.wards").fetchone()[0])  # noqa: S608 - catalog name
    if not wards:
        return ""
    first = con.execute(
        f"SELECT min(quarter) FROM {source}.main.submissions WHERE quarter IS NOT NULL"  # noqa: S608
    ).fetchone()[0] or quarter_of_date(dt.date.today())
    loaded_at, submission_id = con.execute(
        f"SELECT max(received_at), arg_max(submission_id, received_at) FROM {source}.main.submissions "  # noqa: S608
        "WHERE return_type = 'reference:wards' AND outcome = 'accepted'").fetchone()
    con.execute(f"INSERT INTO {ALIAS}.main.ward_sets VALUES ('initial', ?, coalesce(?, now()::TIMESTAMP), ?)",  # noqa: S608
                [first, loaded_at, submission_id])
    have = set(columns_of(con, source, "wards"))
    cols = ", ".join(f'"{c}"' for c in columns_of(con, ALIAS, "ward_reference") if c in have and c != "vintage")
    con.execute(f"INSERT INTO {ALIAS}.main.ward_reference (vintage, {cols}) "  # noqa: S608 - catalog names
                f"SELECT 'initial', {cols} FROM {source}.main.wards")
    if "boundaries" in tables:
        con.execute(f"INSERT INTO {ALIAS}.main.ward_boundaries SELECT 'initial', ward_code, geometry "  # noqa: S608
                    f"FROM {source}.main.boundaries")
    got = int(con.execute(f"SELECT count(*) FROM {ALIAS}.main.ward_reference").fetchone()[0])  # noqa: S608
    if got != wards:
        raise WarehouseError(f"wards: copied {got} rows of {wards}")
    return f" The {wards} wards became ward set 'initial', from {first}."


def _arrived(dst: Warehouse, digests: Iterable[str]) -> None:
    """After a copy into `dst`: every archived file is readable there (else WarehouseError)."""
    missing = [d for d in digests if dst.archived(d) is None]
    if missing:
        raise WarehouseError(f"{len(missing)} archived file(s) did not arrive: {missing[:3]}")
    dst._version_cache = (0.0, "")


def migrate(source: str | Path | Warehouse, target: str | Path | Warehouse, *,
            source_data_path: str | Path | None = None, target_data_path: str | Path | None = None,
            progress: Callable[[str], None] = lambda _: None) -> str:
    """Copy a whole warehouse into a new, empty one; the source is only read. Returns a summary.

    The source may be the older single-file format (archived files as BLOBs, which move to the
    archive folder), a DuckLake warehouse of schema 2 (one ward table: its wards and boundaries
    become the ward set 'initial') or a warehouse of this schema, on either backend. Every table is copied row for
    row (submission ids included) in one write transaction, then checked by row counts and by
    every archived file being readable from the target.
    """
    src = source if isinstance(source, Warehouse) else Warehouse(source, source_data_path)
    dst = target if isinstance(target, Warehouse) else Warehouse(target, target_data_path)
    if (src.shared, src.spec, src.data_path) == (dst.shared, dst.spec, dst.data_path):
        raise WarehouseError("--from and --to name the same warehouse.")
    dst.init()
    con = dst.connect()
    try:
        kind = _attach_source(con, src)
        with dst._writers_queue():
            _check_schema(con)
            used = [t for t in table_names(con) if t != "meta"
                    and con.execute(f'SELECT count(*) FROM {ALIAS}.main."{t}"').fetchone()[0]]  # noqa: S608
            if used:
                raise WarehouseError(f"{dst.label} is not empty (it has {', '.join(used)}); "
                                     "migrate into a new warehouse.")
            progress("copying the archived files")
            if kind == "old":
                digests = [r[0] for r in con.execute("SELECT sha256 FROM src.main.files ORDER BY sha256").fetchall()]
                for digest in digests:
                    blob = con.execute("SELECT content FROM src.main.files WHERE sha256 = ?", [digest]).fetchone()[0]
                    if dst.archive(bytes(blob)) != digest:
                        raise WarehouseError(f"archived file {digest} does not match its SHA-256")
            else:
                digests = [r[0] for r in con.execute("SELECT sha256 FROM src.main.files ORDER BY sha256").fetchall()]
                for digest in digests:
                    content = src.archived(digest)
                    if content is None:
                        raise WarehouseError(f"{src.label}: archived file {digest} is missing from its archive folder")
                    dst.archive(content)
            progress("copying the tables")
            with _transaction(con):
                counts = copy_tables(con, "src", ALIAS)
                for table, n in counts.items():
                    got = con.execute(f'SELECT count(*) FROM {ALIAS}.main."{table}"').fetchone()[0]  # noqa: S608
                    if got != n:
                        raise WarehouseError(f"{table}: copied {got} rows of {n}")
                adopted = _adopt_ward_set(con, "src")
                facts.rebuild(con)  # derived from the rows: rebuilt, so an older source gets them too
    finally:
        con.close()
    _arrived(dst, digests)
    return (f"Moved {src.label} to {dst.label}: {counts.get('submissions', 0)} submissions, "
            f"{sum(counts.get(t, 0) for t in ROW_TABLES.values())} return rows, "
            f"{len(digests)} archived files, {counts.get('audit_log', 0)} audit entries.{adopted}")


# ---------------------------------------------------------------------------------------------
# Backup and restore (the folder's layout and manifest: etl/backup.py)


class BackupRefused(WarehouseError):
    """A backup or restore refused before it changed anything (the message says why)."""


def _snapshot_connection(wh: Warehouse) -> tuple[duckdb.DuckDBPyConnection, int]:
    """A new read-only connection with `wh` attached as `snap` at its latest snapshot (pinned)."""
    wh._require()
    con = wh.connect(read_only=True)
    try:
        _check_schema(con)
        snapshot = int(con.execute("SELECT id FROM ducklake_current_snapshot(?)", [ALIAS]).fetchone()[0])
        con.execute(f"ATTACH {_literal(wh._catalog_uri())} AS snap (DATA_PATH "
                    f"{_literal(str(wh.lake_path) + os.sep)}, READ_ONLY, SNAPSHOT_VERSION {snapshot})")
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(f"Cannot read a snapshot of {wh.label}: {_first_line(exc)}") from exc
    except BaseException:
        con.close()
        raise
    return con, snapshot


def _copy_archived(wh: Warehouse, digest: str, target: Path) -> None:
    """Copy one archived original to `target`, checking its bytes against its SHA-256."""
    source = wh._archive_file(digest)
    if not source.is_file():
        raise WarehouseError(f"{wh.label}: archived file {digest} is missing from its archive folder; "
                             "no backup was written.")
    target.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(1 << 20):
            h.update(chunk)
            dst.write(chunk)
    if h.hexdigest() != digest:
        raise WarehouseError(f"{wh.label}: archived file {digest} is damaged (its bytes do not match its "
                             "SHA-256); no backup was written.")


def _export_snapshot(con: duckdb.DuckDBPyConnection, wh: Warehouse, folder: Path,
                     progress: Callable[[str], None]) -> tuple[dict[str, int], list[str]]:
    """Write every table of `snap` as Parquet and every archived original it lists into `folder`."""
    (folder / "tables").mkdir()
    tables = {}
    progress("writing the tables")
    for (table,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'snap' "
        "AND table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name"
    ).fetchall():
        target = folder / backup_folder.Manifest.table_file(table)
        rows = int(con.execute(f'SELECT count(*) FROM snap.main."{table}"').fetchone()[0])  # noqa: S608 - catalog names
        con.execute(f'COPY (SELECT * FROM snap.main."{table}") TO {_literal(str(target))} (FORMAT parquet)')  # noqa: S608
        written = int(con.execute(f"SELECT count(*) FROM read_parquet({_literal(str(target))})").fetchone()[0])  # noqa: S608
        if written != rows:
            raise WarehouseError(f"{table}: wrote {written} rows of {rows}; no backup was written.")
        tables[table] = rows
    digests = [r[0] for r in con.execute("SELECT DISTINCT sha256 FROM snap.main.files ORDER BY sha256").fetchall()]
    progress(f"copying {len(digests)} archived files")
    for digest in digests:
        _copy_archived(wh, digest, folder / backup_folder.Manifest.archive_file(digest))
    return tables, digests


def backup(source: str | Path | Warehouse, to: str | Path, *, data_path: str | Path | None = None,
           progress: Callable[[str], None] = lambda _: None) -> str:
    """Write a self-contained backup of `source` into the new folder `to`; returns a summary.

    The tables are read at one DuckLake snapshot (pinned when the backup starts), so the backup is
    one consistent point in time while readers and writers carry on: it takes no lock. The
    backup is built in a hidden folder beside `to` and renamed to `to` once whole (manifest
    written and everything fsynced), so a folder named `to` is always a finished backup.
    """
    wh = source if isinstance(source, Warehouse) else Warehouse(source, data_path)
    to = Path(to).absolute()
    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise BackupRefused(f"{to} already exists and is not an empty folder: back up into a new folder.")
    to.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{to.name}.partial-", dir=to.parent))
    try:
        con, snapshot = _snapshot_connection(wh)
        try:
            progress(f"reading snapshot {snapshot} of {wh.label}")
            tables, digests = _export_snapshot(con, wh, partial, progress)
            version = con.execute("SELECT value FROM snap.main.meta WHERE key = 'schema_version'").fetchone()[0]
        finally:
            con.close()
        manifest = backup_folder.Manifest(
            schema_version=str(version), snapshot_id=snapshot, source=wh.label, tables=tables, archived=digests,
            taken_at=dt.datetime.now().astimezone().isoformat(timespec="seconds"))
        progress("writing the manifest")
        backup_folder.write_manifest(partial, manifest)
        backup_folder.fsync_tree(partial)
        os.replace(partial, to)
        _fsync_dir(to.parent)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return (f"Backed up {wh.label} at snapshot {snapshot} to {to}: {tables.get('submissions', 0)} submissions, "
            f"{sum(tables.get(t, 0) for t in ROW_TABLES.values())} return rows, {len(digests)} archived files, "
            f"{len(tables)} tables.")


def verify_backup(folder: str | Path) -> backup_folder.Manifest:
    """Check a backup folder: every file against the manifest, and every table's rows against its
    count (raises backup.BackupError naming what is wrong). Reads the backup only."""
    folder = Path(folder).absolute()
    manifest = backup_folder.verify(folder)
    con = duckdb.connect(":memory:", config={"autoload_known_extensions": False,
                                             "autoinstall_known_extensions": False})
    try:
        if manifest.schema_version != SCHEMA_VERSION:
            raise BackupRefused(f"The backup is of warehouse schema {manifest.schema_version}; this version "
                                f"restores schema {SCHEMA_VERSION}. Nothing was restored.")
        con.execute("ATTACH ':memory:' AS expected")
        con.execute("USE expected")
        create_schema(con)  # the tables this version's warehouse has
        schema = set(table_names(con))
        wrong = [f"table {t}: not in the backup" for t in sorted(schema - set(manifest.tables))]
        wrong += [f"table {t}: not a table of this warehouse's schema" for t in sorted(set(manifest.tables) - schema)]
        for table, rows in sorted(manifest.tables.items()):
            if table not in schema:
                continue
            path = _literal(str(folder / backup_folder.Manifest.table_file(table)))
            try:
                got = int(con.execute(f"SELECT count(*) FROM read_parquet({path})").fetchone()[0])  # noqa: S608
            except duckdb.Error as exc:
                wrong.append(f"{backup_folder.Manifest.table_file(table)}: unreadable ({_first_line(exc)})")
                continue
            if got != rows:
                wrong.append(f"table {table}: {got} rows in its file, {rows} in the manifest")
    finally:
        con.close()
    if wrong:
        raise backup_folder.BackupError(f"The backup in {folder} is damaged or incomplete:\n  " + "\n  ".join(wrong))
    return manifest


def _restore_tables(con: duckdb.DuckDBPyConnection, folder: Path, manifest: backup_folder.Manifest) -> None:
    """Inside the target's write transaction: replace every table's rows with the backup's."""
    for table in table_names(con):
        con.execute(f'DELETE FROM {ALIAS}.main."{table}"')  # noqa: S608 - names from the catalog
        path = _literal(str(folder / backup_folder.Manifest.table_file(table)))
        have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({path})").fetchall()}  # noqa: S608
        cols = ", ".join(f'"{c}"' for c in columns_of(con, ALIAS, table) if c in have)
        con.execute(f'INSERT INTO {ALIAS}.main."{table}" ({cols}) SELECT {cols} FROM read_parquet({path})')  # noqa: S608
        got = int(con.execute(f'SELECT count(*) FROM {ALIAS}.main."{table}"').fetchone()[0])  # noqa: S608
        if got != manifest.tables[table]:
            raise backup_folder.BackupError(f"{table}: restored {got} rows, the manifest says {manifest.tables[table]}.")


def _check_restorable(con: duckdb.DuckDBPyConnection, target: Warehouse, manifest: backup_folder.Manifest,
                      replace: bool) -> None:
    tables = table_names(con)
    if set(tables) != set(manifest.tables):
        missing = sorted(set(tables) - set(manifest.tables))
        extra = sorted(set(manifest.tables) - set(tables))
        raise BackupRefused("The backup's tables do not match this warehouse's schema"
                             + (f"; missing: {', '.join(missing)}" if missing else "")
                             + (f"; unknown: {', '.join(extra)}" if extra else "") + ". Nothing was restored.")
    used = [t for t in tables if t != "meta"
            and con.execute(f'SELECT count(*) FROM {ALIAS}.main."{t}"').fetchone()[0]]  # noqa: S608
    if used and not replace:
        raise BackupRefused(
            f"{target.label} is not empty (it has {', '.join(used)}). Restore into a new warehouse, or "
            "pass --replace to replace everything in it with the backup (back it up first). Nothing was restored.")


def restore(source: str | Path, target: str | Path | Warehouse, *, data_path: str | Path | None = None,
            replace: bool = False, user: str = "unknown",
            progress: Callable[[str], None] = lambda _: None) -> str:
    """Restore the backup folder `source` into `target`; returns a summary.

    The backup is verified first (every file against the manifest's SHA-256). The target is
    created if missing and must be empty unless `replace`. The archived originals go into its
    archive folder, then every table is replaced by the backup's in one write transaction, checked
    against the manifest's row counts, with one audit entry saying what was restored: readers see
    the old contents until the commit, then the backup's.
    """
    folder = Path(source).absolute()
    progress(f"checking the backup in {folder}")
    manifest = verify_backup(folder)
    dst = target if isinstance(target, Warehouse) else Warehouse(target, data_path)
    dst.init()
    con = dst.connect()
    try:
        with dst._writers_queue():
            _check_schema(con)
            _check_restorable(con, dst, manifest, replace)
            progress(f"copying {len(manifest.archived)} archived files")
            for digest in manifest.archived:
                content = (folder / backup_folder.Manifest.archive_file(digest)).read_bytes()
                if dst.archive(content) != digest:
                    raise backup_folder.BackupError(f"archived file {digest} changed while it was read.")
            progress("restoring the tables")
            with _transaction(con):
                _restore_tables(con, folder, manifest)
                con.execute("INSERT INTO audit_log VALUES (?, ?, 'restore', ?)", [
                    dt.datetime.now().replace(microsecond=0), user,
                    f"restored the backup of {manifest.source} taken {manifest.taken_at} "
                    f"(snapshot {manifest.snapshot_id})" + (", replacing the contents" if replace else "")])
    finally:
        con.close()
    _arrived(dst, manifest.archived)
    t = manifest.tables
    return (f"Restored the backup of {manifest.source} (snapshot {manifest.snapshot_id}, taken {manifest.taken_at}) "
            f"into {dst.label}: {t.get('submissions', 0)} submissions, "
            f"{sum(t.get(x, 0) for x in ROW_TABLES.values())} return rows, {len(manifest.archived)} archived files.")


def init(db: WarehouseLike) -> bool:
    """Create an empty warehouse at `db`; return False if one is already there."""
    return open_warehouse(db).init()


@contextlib.contextmanager
def write(db: WarehouseLike) -> Iterator[duckdb.DuckDBPyConnection]:
    """`Warehouse.write()` for a `--db` value."""
    with open_warehouse(db).write() as con:
        yield con


@contextlib.contextmanager
def read_only(db: WarehouseLike) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on the latest snapshot of `db` (for the CLI and tests)."""
    with open_warehouse(db).read() as cur:
        yield cur


def file_version(db: WarehouseLike) -> str:
    """The version token of `db` (changes on every commit)."""
    return open_warehouse(db).version


class Reader:
    """The app's view of a warehouse: `cursor()` per query, `query_df`, `version`."""

    def __init__(self, db: WarehouseLike):
        self.warehouse = open_warehouse(db)
        self.db = self.warehouse.spec

    @property
    def version(self) -> str:
        return self.warehouse.version

    def cursor(self, version: str | None = None) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A cursor on snapshot `version` (the newest by default), pinned: see `Warehouse.read_pinned`."""
        return self.warehouse.read_pinned(version)

    def query_df(self, sql: str, params: dict[str, Any] | list[Any] | None = None) -> pd.DataFrame:
        return self.warehouse.query_df(sql, params)


def query_df(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | list[Any] | None = None
) -> pd.DataFrame:
    """Run one parameterised query on a connection and return a DataFrame."""
    return con.execute(sql, params or []).df()
