"""Additive facts: the sums every KPI is a ratio of, stored when a return is stored.

Every KPI in the contract is a ratio of sums over the rows in scope, so a return's rows are
summed once, when it is accepted, per (quarter, directorate, ward) and the few row attributes a
KPI splits on (budget mechanism; engagement method and stage). A KPI call then sums a table a
fraction of the size of the returns, and never re-reads raw rows. The facts hold only current
submissions: storing a return replaces the facts of the one it supersedes, in the same write
transaction, so a reader sees either the old figures or the new ones, never both.

What is stored does not depend on the reference data: ward populations (participation, the
equality index's expected shares) and the ward -> neighbourhood map are joined at query time,
so loading a new wards file needs no rebuild.

* `budget_facts`: lines, lines with money devolved, total and devolved pounds (exact decimals).
* `engagement_facts`: activities, activities with feedback published, participants, and the
  participants of every demographic group (their sum over a dimension's groups is the number
  with a known group, `known_a` summed, so it is not stored twice).
* `partnership_facts`: one slim row per register row. Partnerships are distinct within one
  return, but a scope of several quarters counts each (directorate, partnership_id) once, as its
  latest register in scope says, so they are kept per partnership, without the text columns.

Plain DuckDB SQL, no keys, sequences or defaults: the same on a DuckLake warehouse.
`FACTS_VERSION` in `meta` says which definition built them; a warehouse built by an older one
(or before facts existed) gets them rebuilt from its row tables on its next write (`ensure`).
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from etl.contract import DEMOGRAPHIC_COLUMNS

FACTS_VERSION = "1"
FACT_TABLES: dict[str, str] = {
    "budget": "budget_facts",
    "engagement": "engagement_facts",
    "partnerships": "partnership_facts",
}

_groups = ",\n    ".join(f"{g} BIGINT NOT NULL" for g in DEMOGRAPHIC_COLUMNS)

DDL = f"""
CREATE TABLE IF NOT EXISTS budget_facts (
    submission_id BIGINT NOT NULL,
    quarter VARCHAR NOT NULL,
    directorate VARCHAR NOT NULL,
    ward_code VARCHAR,              -- NULL = borough-wide
    mechanism VARCHAR,
    budget_lines BIGINT NOT NULL,
    devolved_lines BIGINT NOT NULL, -- lines with devolved_gbp > 0
    total_budget_gbp DECIMAL(38, 2) NOT NULL,
    devolved_gbp DECIMAL(38, 2) NOT NULL
);
CREATE TABLE IF NOT EXISTS engagement_facts (
    submission_id BIGINT NOT NULL,
    quarter VARCHAR NOT NULL,
    directorate VARCHAR NOT NULL,
    ward_code VARCHAR,              -- NULL = borough-wide
    method VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    activities BIGINT NOT NULL,
    feedback_activities BIGINT NOT NULL,
    participants BIGINT NOT NULL,
    {_groups}
);
CREATE TABLE IF NOT EXISTS partnership_facts (
    submission_id BIGINT NOT NULL,
    quarter VARCHAR NOT NULL,
    directorate VARCHAR NOT NULL,
    ward_code VARCHAR,              -- NULL = borough-wide
    partnership_id VARCHAR NOT NULL,
    line_no BIGINT NOT NULL,
    partner_type VARCHAR NOT NULL,
    arrangement VARCHAR NOT NULL,
    start_quarter VARCHAR NOT NULL, -- the financial-year quarter of start_date, canonical
    lease_years INTEGER,
    annual_value_gbp DECIMAL(18, 2)
);
"""  # noqa: S608 - formatted from the contract's fixed column names, no user text

_group_sums = ",\n        ".join(f"sum({g})" for g in DEMOGRAPHIC_COLUMNS)

# Each query sums the rows of the submissions that `{where}` picks: one submission when a return
# is stored (an equality the storage can prune on), every current one for a rebuild.
BUILD: dict[str, str] = {
    "budget": """
        INSERT INTO budget_facts
        SELECT submission_id, quarter, directorate, ward_code, mechanism,
            count(*), count(*) FILTER (WHERE devolved_gbp > 0),
            sum(total_budget_gbp), sum(devolved_gbp)
        FROM budget_rows
        WHERE {where}
        GROUP BY submission_id, quarter, directorate, ward_code, mechanism
    """,
    "engagement": f"""
        INSERT INTO engagement_facts
        SELECT submission_id, quarter, directorate, ward_code, method, stage,
            count(*), count(*) FILTER (WHERE feedback_published), sum(participants_total),
            {_group_sums}
        FROM engagement_rows
        WHERE {{where}}
        GROUP BY submission_id, quarter, directorate, ward_code, method, stage
    """,  # noqa: S608 - fixed contract names
    "partnerships": """
        INSERT INTO partnership_facts
        SELECT submission_id, quarter, directorate, ward_code, partnership_id, line_no,
            partner_type, arrangement,
            -- the financial-year quarter of start_date, spelt '2025-26 Q2' (FY starts in April)
            fy || '-' || lpad(CAST((fy + 1) % 100 AS VARCHAR), 2, '0')
                || ' Q' || ((month(start_date) + 8) % 12 // 3 + 1),
            lease_years, annual_value_gbp
        FROM (
            SELECT *, year(start_date) - CASE WHEN month(start_date) < 4 THEN 1 ELSE 0 END AS fy
            FROM partnerships_rows
            WHERE {where}
        )
    """,
}
_ONE = "submission_id = $id"
_CURRENT = (
    "submission_id IN (SELECT submission_id FROM current_submissions WHERE return_type = $kind)"
)


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create the (empty) fact tables and record the facts version (inside the schema's DDL)."""
    con.execute(DDL)
    _set_version(con)


def store(
    con: duckdb.DuckDBPyConnection,
    return_type: str,
    submission_id: int,
    superseded: Iterable[int] = (),
) -> None:
    """Add the facts of an accepted submission, removing those of the submissions it supersedes.

    Call inside the write transaction that stores the rows, after they are inserted.
    """
    table = FACT_TABLES[return_type]
    old = [int(s) for s in superseded]
    if old:
        con.execute(
            f"DELETE FROM {table} WHERE list_contains($ids, submission_id)",  # noqa: S608
            {"ids": old},
        )
    con.execute(BUILD[return_type].format(where=_ONE), {"id": int(submission_id)})


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every fact from the row tables of the current submissions (a migration)."""
    con.execute(DDL)
    for return_type, table in FACT_TABLES.items():
        con.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
        con.execute(BUILD[return_type].format(where=_CURRENT), {"kind": return_type})
    _set_version(con)


def ensure(con: duckdb.DuckDBPyConnection) -> bool:
    """Build the facts of a warehouse that has none, or older ones; True if it did (in a write)."""
    row = con.execute("SELECT value FROM meta WHERE key = 'facts_version'").fetchone()
    if row and row[0] == FACTS_VERSION:
        return False
    rebuild(con)
    return True


def _set_version(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM meta WHERE key = 'facts_version'")
    con.execute("INSERT INTO meta VALUES ('facts_version', ?)", [FACTS_VERSION])
