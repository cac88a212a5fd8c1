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

A second, directorate-level roll-up serves the council and directorate figures (no ward or
neighbourhood in scope), so they read a few rows per return instead of its ward-level facts:

* `budget_rollup`, `engagement_rollup`: the facts of each submission summed over wards (per
  mechanism; per method and stage). A council or directorate figure takes every row whichever
  ward it names, so these do not depend on the wards reference.
* `equality_rollup`: one row per engagement submission with, for every demographic group, the
  four sums the equality index adds up over a scope (participants and known participants at
  activities whose ward has a population for the group's dimension, the expected count, and the
  participants left out). These use the wards' population shares, so they depend on the wards
  reference: loading a wards file rebuilds them in the same transaction (`refresh_wards`).
* `budget_ward_rollup`, `engagement_ward_rollup`, `partnership_ward_rollup`: the ward-level
  facts of the current submissions summed per (quarter, ward) over every directorate (and
  mechanism; method and stage; partnerships counted by their flags, with the start quarter kept
  only where it is the row's own quarter, so they serve one-quarter figures only), borough-wide
  rows left out. `equality_ward_rollup` holds equality_rollup's four sums per group per
  (quarter, ward), from engagement_ward_rollup and the wards' shares: a wards load rebuilds it
  (`refresh_wards`), and a return's write recomputes the pairs it touches. They serve the figures with wards or neighbourhoods in
  scope and no directorate filter (the ward and neighbourhood pages, a ward's trend): a quarter's
  rows are one per ward instead of one per directorate, ward, method and stage. They hold no
  submission ids: storing a return recomputes the rows of the (quarter, ward) pairs its facts,
  or the facts it replaces, touch. The wards reference is joined at query time, so a wards load
  leaves them as they are.
* `partnership_rollup`: per directorate and quarter, register rows counted by start quarter,
  asset transfer, long lease and `next_quarter` (the next quarter in which the directorate's
  register lists the same partnership again). A window of consecutive quarters counts each
  partnership once, by the row with no later appearance in the window (`next_quarter` NULL or
  after the window's last quarter). Any partnerships return of a directorate rebuilds that
  directorate's rows (the next appearance of its earlier rows may change).

Plain DuckDB SQL, no keys, sequences or defaults: the same on a DuckLake warehouse.
`FACTS_VERSION` in `meta` says which definition built them; a warehouse built by an older one
(or before facts existed) gets them rebuilt from its row tables on its next write (`ensure`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from etl.contract import DEMOGRAPHIC_COLUMNS, DIMENSIONS
from kpis.methodology import LONG_LEASE_YEARS

# The long-lease threshold is built into partnership_rollup: changing it rebuilds the facts.
FACTS_VERSION = f"7-lease{LONG_LEASE_YEARS}"
# Fact tables whose data files are kept sorted (DuckLake sorts each insert, and the rows of files it
# merges): a ward's register rows then sit in one or two row groups of each file, so a ward's
# figures over rolling windows (read from these facts: the ward roll-up has no partnership ids)
# skip the rest. Engagement and budget facts keep insertion order: a superseded return's facts
# are found by submission id, and their ward figures come from the ward roll-ups.
SORTED_BY: dict[str, str] = {"partnership_facts": "ward_code ASC NULLS LAST"}
SQL_DIR = Path(__file__).with_name("sql")
FACT_TABLES: dict[str, str] = {
    "budget": "budget_facts",
    "engagement": "engagement_facts",
    "partnerships": "partnership_facts",
}

_groups = ",\n    ".join(f"{g} BIGINT NOT NULL" for g in DEMOGRAPHIC_COLUMNS)
# Per group g of equality_rollup: p_g participants of g, k_g participants of known group in g's
# dimension (both where the activity's ward has a share for g), e_g the expected count
# (k times the share, each ward's rounded to 12 decimals), l_g participants of g left out.
_equality_columns = ",\n    ".join(
    f"p_{g} BIGINT, k_{g} BIGINT, e_{g} DECIMAL(38, 12), l_{g} BIGINT" for g in DEMOGRAPHIC_COLUMNS
)

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
CREATE TABLE IF NOT EXISTS budget_rollup (
    submission_id BIGINT NOT NULL,
    quarter VARCHAR NOT NULL,
    directorate VARCHAR NOT NULL,
    mechanism VARCHAR,
    budget_lines BIGINT NOT NULL,
    devolved_lines BIGINT NOT NULL,
    total_budget_gbp DECIMAL(38, 2) NOT NULL,
    devolved_gbp DECIMAL(38, 2) NOT NULL
);
CREATE TABLE IF NOT EXISTS engagement_rollup (
    submission_id BIGINT NOT NULL,
    quarter VARCHAR NOT NULL,
    directorate VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    activities BIGINT NOT NULL,
    feedback_activities BIGINT NOT NULL,
    participants BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS equality_rollup (
    submission_id BIGINT NOT NULL,
    quarter VARCHAR NOT NULL,
    directorate VARCHAR NOT NULL,
    {_equality_columns}
);
CREATE TABLE IF NOT EXISTS budget_ward_rollup (
    quarter VARCHAR NOT NULL,
    ward_code VARCHAR NOT NULL,
    budget_lines BIGINT NOT NULL,
    total_budget_gbp DECIMAL(38, 2) NOT NULL,
    devolved_gbp DECIMAL(38, 2) NOT NULL,
    pb_gbp DECIMAL(38, 2)           -- NULL = no participatory budgeting line
);
CREATE TABLE IF NOT EXISTS engagement_ward_rollup (
    quarter VARCHAR NOT NULL,
    ward_code VARCHAR NOT NULL,
    activities BIGINT NOT NULL,
    participants BIGINT NOT NULL,
    early_activities BIGINT NOT NULL,
    feedback_activities BIGINT NOT NULL,
    {_groups}
);
CREATE TABLE IF NOT EXISTS equality_ward_rollup (
    quarter VARCHAR NOT NULL,
    ward_code VARCHAR NOT NULL,
    {_equality_columns}
);
CREATE TABLE IF NOT EXISTS partnership_ward_rollup (
    quarter VARCHAR NOT NULL,
    ward_code VARCHAR NOT NULL,
    start_quarter VARCHAR,          -- the row's quarter if the partnership started in it, else NULL
    is_cat BOOLEAN NOT NULL,
    is_long_cat BOOLEAN NOT NULL,
    partnerships BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS partnership_rollup (
    directorate VARCHAR NOT NULL,
    quarter VARCHAR NOT NULL,
    next_quarter VARCHAR,           -- NULL = not listed again by a later register
    start_quarter VARCHAR NOT NULL,
    is_cat BOOLEAN NOT NULL,
    is_long_cat BOOLEAN NOT NULL,
    partnerships BIGINT NOT NULL
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


def _equality_build(table: str = "equality_rollup", source: str = "engagement_facts",
                    keys: tuple[str, ...] = ("submission_id", "quarter", "directorate")) -> str:
    """`table` (equality_rollup: per submission; equality_ward_rollup: per quarter and ward, from
    engagement_ward_rollup) from `source` and the wards' shares (kpis/sql/equality.sql's rule:
    each return's quarter uses its quarter's ward set; a ward's share of g is pop_g over its
    dimension's population, NULL when any count is blank or they sum to 0; an activity with no
    ward, or on a ward not in its quarter's set, takes the council's share over the set's wards
    whose dimension is known)."""
    dim_of = {g: d for d, groups in DIMENSIONS.items() for g in groups}
    pop_dims = ",\n            ".join(
        " + ".join(f"pop_{g}" for g in groups) + f" AS pop_{d}" for d, groups in DIMENSIONS.items()
    )
    ward_shares = ",\n            ".join(
        f"CAST(pop_{g} AS DOUBLE) / nullif(pop_{dim_of[g]}, 0) AS {g}" for g in DEMOGRAPHIC_COLUMNS
    )
    council_shares = ",\n            ".join(
        f"CAST(sum(pop_{g}) FILTER (WHERE pop_{dim_of[g]} IS NOT NULL) AS DOUBLE)"
        f" / nullif(sum(pop_{dim_of[g]}), 0) AS {g}" for g in DEMOGRAPHIC_COLUMNS
    )
    per_ward = ",\n            ".join(f"sum({g}) AS {g}" for g in DEMOGRAPHIC_COLUMNS)
    known = ",\n            ".join(
        "CAST(" + " + ".join(f"s.{g}" for g in groups) + f" AS DOUBLE) AS known_{d}"
        for d, groups in DIMENSIONS.items()
    )
    shares = ",\n            ".join(
        f"CAST(s.{g} AS DOUBLE) AS n_{g}, "
        f"CASE WHEN ws.ward_code IS NULL THEN cs.{g} ELSE ws.{g} END AS s_{g}"
        for g in DEMOGRAPHIC_COLUMNS
    )
    sums = ",\n        ".join(
        f"CAST(sum(n_{g}) FILTER (WHERE s_{g} IS NOT NULL) AS BIGINT), "
        f"CAST(sum(known_{dim_of[g]}) FILTER (WHERE s_{g} IS NOT NULL) AS BIGINT), "
        f"sum(CAST(known_{dim_of[g]} * s_{g} AS DECIMAL(38, 12))), "
        f"CAST(sum(n_{g}) FILTER (WHERE s_{g} IS NULL) AS BIGINT)"
        for g in DEMOGRAPHIC_COLUMNS
    )
    # every ward of each quarter's set (kpis/sql/_quarter_wards.sql, docs/ward-vintages.md)
    # (braces doubled: the query is formatted again with its `where`)
    quarter_wards = (SQL_DIR / "_quarter_wards.sql").read_text(encoding="utf-8")
    quarter_wards = quarter_wards.replace("{", "{{").replace("}", "}}")
    ward_keys = ", ".join(dict.fromkeys((*keys, "ward_code")))
    return f"""
        INSERT INTO {table}
        WITH scope_quarters AS (
            SELECT DISTINCT quarter FROM {source} WHERE {{where}}
        ),
        {quarter_wards}
        ward_population AS (
            SELECT *,
            {pop_dims}
            FROM quarter_wards
        ),
        ward_share AS (
            SELECT quarter, ward_code,
            {ward_shares}
            FROM ward_population
        ),
        council_share AS (
            SELECT quarter,
            {council_shares}
            FROM ward_population
            GROUP BY quarter
        ),
        per_ward AS (
            SELECT {ward_keys},
            {per_ward}
            FROM {source}
            WHERE {{where}}
            GROUP BY {ward_keys}
        ),
        with_share AS (
            SELECT {", ".join(f"s.{k}" for k in keys)},
            {known},
            {shares}
            FROM per_ward AS s
            LEFT JOIN council_share AS cs ON cs.quarter = s.quarter
            LEFT JOIN ward_share AS ws ON ws.ward_code = s.ward_code AND ws.quarter = s.quarter
        )
        SELECT {", ".join(keys)},
        {sums}
        FROM with_share
        GROUP BY {", ".join(keys)}
    """  # noqa: S608 - formatted from the contract's fixed column names, no user text


# The roll-up of the submissions `{where}` picks, summed from their facts.
ROLLUP: dict[str, list[str]] = {
    "budget": ["""
        INSERT INTO budget_rollup
        SELECT submission_id, quarter, directorate, mechanism, sum(budget_lines),
            sum(devolved_lines), sum(total_budget_gbp), sum(devolved_gbp)
        FROM budget_facts
        WHERE {where}
        GROUP BY submission_id, quarter, directorate, mechanism
    """],
    "engagement": ["""
        INSERT INTO engagement_rollup
        SELECT submission_id, quarter, directorate, method, stage, sum(activities),
            sum(feedback_activities), sum(participants)
        FROM engagement_facts
        WHERE {where}
        GROUP BY submission_id, quarter, directorate, method, stage
    """, _equality_build()],
}
ROLLUP_TABLES: dict[str, tuple[str, ...]] = {
    "budget": ("budget_rollup",),
    "engagement": ("engagement_rollup", "equality_rollup"),
}
# A directorate's partnership roll-up, rebuilt whole from its facts.
PARTNERSHIP_ROLLUP = """
    INSERT INTO partnership_rollup
    SELECT directorate, quarter, next_quarter, start_quarter, is_cat, is_long_cat, count(*)
    FROM (
        SELECT directorate, quarter, start_quarter,
            arrangement = 'community_asset_transfer' AS is_cat,
            arrangement = 'community_asset_transfer'
                AND coalesce(lease_years >= $long_lease_years, FALSE) AS is_long_cat,
            lead(quarter) OVER (PARTITION BY directorate, partnership_id ORDER BY quarter)
                AS next_quarter
        FROM partnership_facts
        WHERE {where}
    )
    GROUP BY directorate, quarter, next_quarter, start_quarter, is_cat, is_long_cat
"""


def _ward_rollup_build(return_type: str, table: str) -> str:
    """`table`, the ward roll-up of `return_type`, for the (quarter, ward) pairs `{where}` picks,
    summed from the facts through the same CTE the ward-level KPI queries read them by
    (kpis/sql/_<type>_source.sql), so the roll-up and the facts cannot disagree on a rule such as
    early engagement."""
    source = (SQL_DIR / f"_{return_type}_source.sql").read_text(encoding="utf-8")
    source = source.rstrip().removesuffix(",").replace("{", "{{").replace("}", "}}")
    keys = "quarter, ward_code"
    if return_type == "budget":
        sums = "sum(budget_lines), sum(total_budget_gbp), sum(devolved_gbp), sum(pb_gbp)"
    elif return_type == "engagement":
        sums = ", ".join(f"sum({c})" for c in (
            "activities", "participants", "early_activities", "feedback_activities", *DEMOGRAPHIC_COLUMNS))
    else:  # register rows counted; the start quarter kept where it is the row's own quarter
        keys += (", CASE WHEN start_quarter = quarter THEN start_quarter END AS start_quarter,"
                 " is_cat, is_long_cat")
        sums = "count(*)"
    return f"""
        INSERT INTO {table}
        WITH {source}
        SELECT {keys}, {sums}
        FROM {return_type}_source
        WHERE ward_code IS NOT NULL AND {{where}}
        GROUP BY ALL
    """  # noqa: S608 - formatted from fixed names, no user text


# Per return type, its ward roll-ups as (table, build query), in build order. Each query sums
# the pairs `{where}` picks. equality_ward_rollup: equality_rollup's four sums per group, per
# quarter and ward, from engagement_ward_rollup (so its rounding is that of a ward figure over
# every directorate: one expected count per quarter and ward); it uses the wards' shares, so a
# wards load rebuilds it too (`refresh_wards`).
EQUALITY_WARD_ROLLUP = _equality_build(
    "equality_ward_rollup", "engagement_ward_rollup", ("quarter", "ward_code"))
WARD_ROLLUP: dict[str, list[tuple[str, str]]] = {
    "budget": [("budget_ward_rollup", _ward_rollup_build("budget", "budget_ward_rollup"))],
    "engagement": [
        ("engagement_ward_rollup", _ward_rollup_build("engagement", "engagement_ward_rollup")),
        ("equality_ward_rollup", EQUALITY_WARD_ROLLUP),
    ],
    "partnerships": [
        ("partnership_ward_rollup", _ward_rollup_build("partnerships", "partnership_ward_rollup"))],
}


def _ward_rollup_params(return_type: str) -> dict[str, object]:
    return {"long_lease_years": LONG_LEASE_YEARS} if return_type == "partnerships" else {}


# Every table this module derives from the rows (all dropped and rebuilt by `rebuild`).
DERIVED_TABLES: tuple[str, ...] = (
    *FACT_TABLES.values(), *(n for names in ROLLUP_TABLES.values() for n in names),
    *(table for tables in WARD_ROLLUP.values() for table, _ in tables), "partnership_rollup",
)
_ONE = "submission_id = $id"
_CURRENT = (
    "submission_id IN (SELECT submission_id FROM current_submissions WHERE return_type = $kind)"
)


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create the (empty) fact tables and record the facts version (inside the schema's DDL)."""
    con.execute(DDL)
    _set_sort_order(con)
    _set_version(con)


def _set_sort_order(con: duckdb.DuckDBPyConnection) -> None:
    """`SORTED_BY` on a DuckLake catalog (a plain DuckDB table, as in some tests, has no such setting)."""
    kind = con.execute(
        "SELECT type FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    if kind is None or kind[0] != "ducklake":
        return
    for table, key in SORTED_BY.items():
        con.execute(f"ALTER TABLE {table} SET SORTED BY ({key})")  # noqa: S608 - fixed names


def store(
    con: duckdb.DuckDBPyConnection,
    return_type: str,
    submission_id: int,
    superseded: Iterable[int] = (),
) -> None:
    """Add the facts of an accepted submission, removing those of the submissions it supersedes.

    Call inside the write transaction that stores the rows, after they are inserted.
    """
    old = [int(s) for s in superseded]
    tables = (FACT_TABLES[return_type], *ROLLUP_TABLES.get(return_type, ()))
    touched = _wards_of(con, FACT_TABLES[return_type], old)
    if old:
        for table in tables:
            con.execute(
                f"DELETE FROM {table} WHERE list_contains($ids, submission_id)",  # noqa: S608
                {"ids": old},
            )
    con.execute(BUILD[return_type].format(where=_ONE), {"id": int(submission_id)})
    for query in ROLLUP.get(return_type, ()):
        con.execute(query.format(where=_ONE), {"id": int(submission_id)})
    touched += _wards_of(con, FACT_TABLES[return_type], [int(submission_id)])
    _refresh_ward_rollup(con, return_type, touched)
    if return_type == "partnerships":
        row = con.execute(
            "SELECT directorate FROM submissions WHERE submission_id = ?", [int(submission_id)]
        ).fetchone()
        _rebuild_partnership_rollup(con, row[0])


def _wards_of(con: duckdb.DuckDBPyConnection, table: str, submissions: list[int]) -> list[tuple[str, str]]:
    """The (quarter, ward) pairs the facts of these submissions name (one equality per id: the
    data files' statistics then skip the files that cannot hold it)."""
    return [pair for sid in submissions for pair in con.execute(
        f"SELECT DISTINCT quarter, ward_code FROM {table}"  # noqa: S608 - fixed names
        " WHERE submission_id = $id AND ward_code IS NOT NULL", {"id": sid}).fetchall()]


def _refresh_ward_rollup(con: duckdb.DuckDBPyConnection, return_type: str,
                         pairs: Iterable[tuple[str, str]]) -> None:
    """Recompute the ward roll-up rows of these (quarter, ward) pairs from the current facts."""
    by_quarter: dict[str, set[str]] = {}
    for quarter, ward in pairs:
        by_quarter.setdefault(quarter, set()).add(ward)
    where = "quarter = $quarter AND list_contains($wards, ward_code)"
    for quarter, wards in sorted(by_quarter.items()):
        params = {"quarter": quarter, "wards": sorted(wards)}
        for table, build in WARD_ROLLUP[return_type]:
            con.execute(f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608 - fixed names
            con.execute(build.format(where=where), {**params, **_ward_rollup_params(return_type)})


def refresh_wards(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild what depends on the wards reference (the equality roll-up), in the write that
    loads the wards."""
    con.execute("DELETE FROM equality_rollup")
    con.execute(ROLLUP["engagement"][1].format(where=_CURRENT), {"kind": "engagement"})
    con.execute("DELETE FROM equality_ward_rollup")
    con.execute(EQUALITY_WARD_ROLLUP.format(where="TRUE"))


def _rebuild_partnership_rollup(con: duckdb.DuckDBPyConnection, directorate: str | None) -> None:
    """One directorate's partnership roll-up (every directorate's for None), from its facts."""
    params: dict[str, object] = {"long_lease_years": LONG_LEASE_YEARS}
    where = "TRUE"
    if directorate is not None:
        where = "directorate = $directorate"
        params["directorate"] = directorate
        con.execute("DELETE FROM partnership_rollup WHERE directorate = $directorate",
                    {"directorate": directorate})
    else:
        con.execute("DELETE FROM partnership_rollup")
    con.execute(PARTNERSHIP_ROLLUP.format(where=where), params)


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every fact and roll-up from the row tables of the current submissions (a
    migration, or a warehouse built by an older definition). The tables are dropped and made
    again, so an older definition's column types go too."""
    for name in DERIVED_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {name}")  # noqa: S608 - fixed names
    con.execute(DDL)
    _set_sort_order(con)
    for return_type in FACT_TABLES:  # into the tables just made, empty
        con.execute(BUILD[return_type].format(where=_CURRENT), {"kind": return_type})
        for query in ROLLUP.get(return_type, ()):
            con.execute(query.format(where=_CURRENT), {"kind": return_type})
        for _, build in WARD_ROLLUP[return_type]:  # the facts hold current submissions only
            con.execute(build.format(where="TRUE"), _ward_rollup_params(return_type))
    _rebuild_partnership_rollup(con, None)
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
