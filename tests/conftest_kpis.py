"""Helpers for the KPI tests: an in-memory warehouse with hand-made reference rows and returns.

Imported by tests/test_kpi*.py (`from conftest_kpis import ...`); pytest puts tests/ on sys.path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import duckdb

from etl.contract import DEMOGRAPHIC_COLUMNS, POPULATION_COLUMNS
from etl.warehouse import create_schema, next_id
from kpis import facts

# The rows each table needs beyond what a test says (demographics and populations default to 0).
_BUDGET_DEFAULTS = {"ward_code": None, "mechanism": None}
_ENGAGEMENT_DEFAULTS: dict[str, Any] = {
    "ward_code": None,
    "method": "survey",
    "stage": "options",
    "participants_total": 0,
    "feedback_published": False,
    **{c: 0 for c in DEMOGRAPHIC_COLUMNS},
}
_PARTNERSHIP_DEFAULTS: dict[str, Any] = {
    "partner_name": "A partner",
    "partner_type": "vcse",
    "arrangement": "coproduction",
    "ward_code": None,
    "end_date": None,
    "annual_value_gbp": None,
    "lease_years": None,
}
_ROW_COLUMNS = {
    "budget": (
        "budget_line", "ward_code", "total_budget_gbp", "devolved_gbp", "mechanism",
    ),
    "engagement": (
        "activity_id", "activity_date", "ward_code", "method", "stage", "participants_total",
        *DEMOGRAPHIC_COLUMNS, "feedback_published",
    ),
    "partnerships": (
        "partnership_id", "partner_name", "partner_type", "arrangement", "ward_code",
        "start_date", "end_date", "annual_value_gbp", "lease_years",
    ),
}  # fmt: skip
_DEFAULTS = {
    "budget": _BUDGET_DEFAULTS,
    "engagement": _ENGAGEMENT_DEFAULTS,
    "partnerships": _PARTNERSHIP_DEFAULTS,
}


# Set by the `kpi_backend` fixture (tests/conftest.py): a factory of empty places on the backend
# under test. Unset, a Warehouse() is a plain in-memory DuckDB with the same schema.
NEW_PLACE: Callable[[], Any] | None = None
# Warehouses built on a backend stay referenced until the fixture ends: a test may read
# `build().con` from a temporary, and a collected Warehouse would close its reader mid-test.
KEEP_ALIVE: list[Any] = []
# The KPI functions read as the app does, a pinned snapshot (`read_pinned`): set by `kpi_backend`
# to the tables' size limit for copies in memory (0: every filled table a view of the lake).
PINNED_ROWS: int | None = None


class Warehouse:
    """A warehouse that tests fill with reference rows and submissions.

    `Warehouse()` builds on the backend under test (embedded or DuckLake on PostgreSQL): rows
    are added in one write transaction, committed when a test first reads `con` (a cursor on the
    committed snapshot, as the app reads). `Warehouse(con)` writes through a connection given.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None):
        self._wh: Any = None
        self._write_ctx: Any = None
        self._read_ctx: Any = None
        if con is not None:
            self._con = con
        elif NEW_PLACE is None:
            self._con = duckdb.connect(":memory:")
            create_schema(self._con)
        else:
            self._wh = NEW_PLACE().open()
            KEEP_ALIVE.append(self)
            self._wh.init()
            if PINNED_ROWS is not None:
                self._wh.mirror_rows = PINNED_ROWS
        self._clock = dt.datetime(2025, 4, 1, 9, 0)
        self._vintage: str | None = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection the KPI functions read (pending rows committed first)."""
        if self._wh is None:
            return self._con
        if self._write_ctx is not None:
            ctx, self._write_ctx = self._write_ctx, None
            ctx.__exit__(None, None, None)
            if self._read_ctx is not None:  # a read is one snapshot: read the new commit afresh
                read, self._read_ctx = self._read_ctx, None
                read.__exit__(None, None, None)
        if self._read_ctx is None:
            self._read_ctx = self._wh.read_pinned() if PINNED_ROWS is not None else self._wh.read()
            self._reader = self._read_ctx.__enter__()
        return self._reader

    @property
    def writer(self) -> duckdb.DuckDBPyConnection:
        """The pending write (opened if none is): for a test's own writes; `con` commits it."""
        return self._w()

    def _w(self) -> duckdb.DuckDBPyConnection:
        if self._wh is None:
            return self._con
        if self._write_ctx is None:
            self._write_ctx = self._wh.write()
            self._writer = self._write_ctx.__enter__()
        return self._writer

    # Reference data ---------------------------------------------------------------------------

    def ward_set(self, vintage: str, first_quarter: str) -> None:
        """Start a ward set: the wards added next belong to it (docs/ward-vintages.md)."""
        self._w().execute("INSERT INTO ward_sets VALUES (?, ?, TIMESTAMP '2025-04-01 09:00', NULL)",
                          [vintage, first_quarter])
        self._vintage = vintage
        facts.refresh_wards(self._w())  # a new set changes which wards a quarter uses

    def ward(self, code: str, name: str, neighbourhood: str, population: int,
             imd_decile: int | None = None, **pops: int) -> None:  # fmt: skip
        """Add a ward (to the set started last, else to one set serving every quarter); `pops`
        gives pop_<group> counts (others 0), e.g. female=60, male=40."""
        if self._vintage is None:
            self.ward_set("test", "2000-01 Q1")
        values = [pops.get(c[4:], 0) for c in POPULATION_COLUMNS]
        placeholders = ", ".join("?" * (6 + len(values)))
        cols = ", ".join(
            ["vintage", "ward_code", "ward_name", "neighbourhood", "population_total",
             *POPULATION_COLUMNS, "imd_decile"]
        )  # fmt: skip
        self._w().execute(
            f"INSERT INTO ward_reference ({cols}) VALUES ({placeholders})",  # noqa: S608 (test helper)
            [self._vintage, code, name, neighbourhood, population, *values, imd_decile],
        )
        facts.refresh_wards(self._w())  # as etl.reference does when wards are loaded

    def directorate(self, name: str, short_name: str | None = None) -> None:
        self._w().execute("INSERT INTO directorates VALUES (?, ?)", [name, short_name])

    def target(self, kpi: str, target: float, direction: str = "higher_is_better",
               directorate: str | None = None, financial_year: str = "2025-26") -> None:  # fmt: skip
        self._w().execute(
            "INSERT INTO targets VALUES (?, ?, ?, ?, ?)",
            [kpi, directorate, financial_year, target, direction],
        )

    # Returns --------------------------------------------------------------------------------------

    def submit(self, return_type: str, directorate: str, quarter: str,
               rows: list[dict[str, Any]], outcome: str = "accepted") -> int:  # fmt: skip
        """Store one submission with its rows; an accepted one supersedes the current one."""
        self._clock += dt.timedelta(minutes=1)
        sid = next_id(self._w(), "submissions", "submission_id")
        self._w().execute(
            "INSERT INTO submissions (submission_id, return_type, directorate, quarter, user_name,"
            " received_at, file_name, sha256, row_count, outcome)"
            " VALUES (?, ?, ?, ?, 'tester', ?, 'f.csv', ?, ?, ?)",
            [
                sid,
                return_type,
                directorate,
                quarter,
                self._clock,
                f"sha{self._clock}",
                len(rows),
                outcome,
            ],
        )
        superseded = []
        if outcome == "accepted":
            superseded = [r[0] for r in self._w().execute(
                "SELECT submission_id FROM current_submissions WHERE return_type = ?"
                " AND directorate = ? AND quarter = ? AND submission_id <> ?",
                [return_type, directorate, quarter, sid],
            ).fetchall()]  # fmt: skip
            self._w().execute(
                "UPDATE submissions SET superseded_by = ? WHERE return_type = ? AND directorate = ?"
                " AND quarter = ? AND outcome = 'accepted' AND superseded_by IS NULL"
                " AND submission_id <> ?",
                [sid, return_type, directorate, quarter, sid],
            )
        if outcome != "rejected":
            columns = _ROW_COLUMNS[return_type]
            for line_no, row in enumerate(rows, start=2):
                full = {**_DEFAULTS[return_type], **row}
                names = ["submission_id", "line_no", "directorate", "quarter", *columns]
                values = [sid, line_no, directorate, quarter, *(full[c] for c in columns)]
                self._w().execute(
                    f"INSERT INTO {return_type}_rows ({', '.join(names)})"  # noqa: S608
                    f" VALUES ({', '.join('?' * len(values))})",
                    values,
                )
        if outcome == "accepted":  # the facts are stored with the rows, as etl.load does
            facts.store(self._w(), return_type, sid, superseded)
        return sid

    def budget(self, directorate: str, quarter: str, *rows: dict[str, Any]) -> int:
        return self.submit("budget", directorate, quarter, list(rows))

    def engagement(self, directorate: str, quarter: str, *rows: dict[str, Any]) -> int:
        filled = []
        for i, row in enumerate(rows):
            row = {"activity_id": f"A{i + 1}", **row}
            row.setdefault("activity_date", _first_day(quarter))
            filled.append(row)
        return self.submit("engagement", directorate, quarter, filled)

    def partnerships(self, directorate: str, quarter: str, *rows: dict[str, Any]) -> int:
        filled = []
        for row in rows:
            row = dict(row)
            row.setdefault("start_date", dt.date(2020, 1, 1))
            filled.append(row)
        return self.submit("partnerships", directorate, quarter, filled)


def _first_day(quarter: str) -> dt.date:
    fy, q = int(quarter[:4]), int(quarter[-1])
    month = 3 * q + 1
    return dt.date(fy + (month > 12), (month - 1) % 12 + 1, 1)


# ---------------------------------------------------------------------------------------------
# The worked example of tests/test_kpis.py (its docstring and comments carry the arithmetic)

Q = "2025-26 Q2"
Q1 = "2025-26 Q1"
W1, W2, W3, W4 = "E05000001", "E05000002", "E05000003", "E05000004"
PLACE, ASC, CHILDREN = "Place", "Adult Social Care", "Children's Services"


def build_example(wh: Warehouse | None = None) -> Warehouse:
    """The worked example of tests/test_kpis.py, in `wh` (a fresh in-memory one by default)."""
    wh = wh or Warehouse()
    wh.ward(W1, "Abbey", "North", 1000, female=500, male=500)
    wh.ward(W2, "Bridge", "North", 2000, female=1200, male=800)
    wh.ward(W3, "Castle", "South", 500, female=200, male=300)
    wh.ward(W4, "Dock", "South", 1500, female=750, male=750)
    for d in (PLACE, ASC, CHILDREN):
        wh.directorate(d)

    # Budget. Place's first Q2 return is superseded: its £1m fully devolved line must not count.
    wh.budget(PLACE, Q, {"budget_line": "Old", "total_budget_gbp": 1_000_000,
                         "devolved_gbp": 1_000_000, "mechanism": "participatory_budgeting"})  # fmt: skip
    wh.budget(
        PLACE, Q,
        {"budget_line": "Parks", "ward_code": W1, "total_budget_gbp": 100_000,
         "devolved_gbp": 20_000, "mechanism": "participatory_budgeting"},
        {"budget_line": "Grants", "ward_code": W2, "total_budget_gbp": 50_000,
         "devolved_gbp": 10_000, "mechanism": "community_grants"},
        {"budget_line": "Highways", "total_budget_gbp": 250_000, "devolved_gbp": 0},
    )  # fmt: skip
    wh.budget(ASC, Q, {"budget_line": "Day centres", "ward_code": W3, "total_budget_gbp": 100_000,
                       "devolved_gbp": 50_000, "mechanism": "participatory_budgeting"})  # fmt: skip
    wh.submit("budget", ASC, Q, [], outcome="rejected")  # a rejection changes nothing
    # Another quarter must not leak in.
    wh.budget(PLACE, Q1, {"budget_line": "Parks", "ward_code": W1, "total_budget_gbp": 200_000,
                          "devolved_gbp": 100_000, "mechanism": "participatory_budgeting"})  # fmt: skip

    # Engagement. Place's superseded return had a 1,000-person event.
    wh.engagement(PLACE, Q, {"ward_code": W1, "participants_total": 1000, "female": 1000})
    wh.engagement(
        PLACE, Q,
        {"ward_code": W1, "participants_total": 30, "method": "workshop",
         "stage": "priority_setting", "feedback_published": True, "female": 20, "male": 10},
        {"ward_code": W2, "participants_total": 20, "method": "codesign", "stage": "options",
         "female": 5, "male": 5},  # 10 of unknown sex
        {"participants_total": 50, "method": "survey", "stage": "decision",
         "feedback_published": True, "female": 25, "male": 15},  # borough-wide; 10 unknown
    )  # fmt: skip
    wh.engagement(ASC, Q, {"ward_code": W3, "participants_total": 10, "method": "public_meeting",
                           "stage": "review"})  # sex unknown for all 10  # fmt: skip

    # Partnerships. P1 is on both Place's and ASC's registers: two distinct partnerships.
    wh.partnerships(
        PLACE, Q,
        {"partnership_id": "P1", "ward_code": W1, "start_date": dt.date(2019, 5, 1)},
        {"partnership_id": "P2", "ward_code": W2, "partner_type": "parish_town_council",
         "arrangement": "community_asset_transfer", "lease_years": 30,
         "start_date": dt.date(2025, 8, 15)},  # new in Q2
        {"partnership_id": "P3", "partner_type": "community_business",
         "arrangement": "community_asset_transfer", "lease_years": 10,
         "start_date": dt.date(2025, 7, 1)},  # borough-wide; new (Q2's first day)
    )  # fmt: skip
    wh.partnerships(
        ASC, Q,
        {"partnership_id": "P1", "ward_code": W3, "partner_type": "faith_group",
         "arrangement": "community_asset_transfer", "lease_years": 25,
         "start_date": dt.date(2025, 6, 30)},  # Q1's last day: not new in Q2; 25 years is long
    )  # fmt: skip
    return wh
