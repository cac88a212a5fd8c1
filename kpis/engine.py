"""The KPI engine: every function takes a DuckDB connection (or cursor) and returns plain values or
pandas DataFrames. The arithmetic lives in `kpis/sql/*.sql` (one query per file, parameters bound);
this module picks the file, binds the scope and shapes the result. No streamlit here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from etl.contract import (
    ARRANGEMENTS,
    DIMENSIONS,
    GROUP_LABELS,
    KPI_NAMES,
    MECHANISMS,
    METHODS,
    PARTNER_TYPES,
    RETURN_TITLES,
    RETURN_TYPES,
    STAGES,
)
from etl.quarters import (
    financial_year,
    last_quarters,
    parse_quarter,
    previous_quarter,
    quarters_between,
    same_quarter_last_year,
)
from kpis import methodology as m

SQL_DIR = Path(__file__).with_name("sql")

BY_CHOICES: tuple[str, ...] = ("council", "directorate", "neighbourhood", "ward")
KEY_COLUMNS: dict[str, str | None] = {
    "council": None,
    "directorate": "directorate",
    "neighbourhood": "neighbourhood",
    "ward": "ward_code",
}
COUNT_KPIS: frozenset[str] = frozenset(k.name for k in m.KPIS if k.unit == "count")

# Constants every query may bind (only those a query names are passed to it).
_CONSTANTS: dict[str, Any] = {
    "per_population": m.PER_POPULATION,
    "long_lease_years": m.LONG_LEASE_YEARS,
    "under_represented_ratio": m.UNDER_REPRESENTED_RATIO,
    "low_base_min_known": m.LOW_BASE_MIN_KNOWN,
    "cold_spot_divisor": m.COLD_SPOT_DIVISOR,
    "most_deprived_max_decile": m.MOST_DEPRIVED_MAX_DECILE,
    "most_deprived_label": m.MOST_DEPRIVED_LABEL,
    "other_label": m.OTHER_WARDS_LABEL,
    "mechanisms": list(MECHANISMS),
    "methods": list(METHODS),
    "stages": list(STAGES),
    "fallback_kpis": [k.name for k in m.KPIS if k.falls_back_to_council_target],
    "return_types": list(RETURN_TYPES),
    # every demographic group with its dimension, zipped (etl.contract.DIMENSIONS)
    "dimension_names": [d for d, groups in DIMENSIONS.items() for _ in groups],
    "dimension_groups": [g for groups in DIMENSIONS.values() for g in groups],
}

# KPI family -> the SQL file that computes it (a family's query returns one row per group).
FAMILY_FILES: tuple[str, ...] = ("budget.sql", "engagement.sql", "equality.sql", "partnerships.sql")
# The same families for the council or by directorate with no ward or neighbourhood in scope,
# summed from the directorate-level roll-up (kpis/facts.py); same columns, same figures.
ROLLUP_FILES: dict[str, str] = {
    "budget.sql": "budget_rollup.sql",
    "engagement.sql": "engagement_rollup.sql",
    "equality.sql": "equality_rollup.sql",
    "equality_index.sql": "equality_index_rollup.sql",  # the index alone (kpi_frame)
    "partnerships.sql": "partnerships_rollup.sql",
}


# ---------------------------------------------------------------------------------------------
# Scope


@dataclass(frozen=True)
class Scope:
    """What a figure covers: quarters, and optionally directorates, neighbourhoods and wards."""

    quarters: tuple[str, ...]  # canonical quarters, at least one
    directorates: tuple[str, ...] = ()  # empty = every directorate
    neighbourhoods: tuple[str, ...] = ()  # empty = no geographic filter
    wards: tuple[str, ...] = ()  # empty = no ward filter

    def __post_init__(self) -> None:
        quarters = (self.quarters,) if isinstance(self.quarters, str) else self.quarters
        quarters = tuple(dict.fromkeys(parse_quarter(q) for q in quarters))
        if not quarters:
            raise ValueError("A scope needs at least one quarter.")
        object.__setattr__(self, "quarters", quarters)
        for name in ("directorates", "neighbourhoods", "wards"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))

    @property
    def is_geographic(self) -> bool:
        """True when the scope names wards or neighbourhoods (borough-wide rows drop out)."""
        return bool(self.neighbourhoods or self.wards)

    def params(self, by: str = "council") -> dict[str, Any]:
        """The scope as bound SQL parameters (its quarters as one window)."""
        return {
            "quarters": list(self.quarters),
            **_windows([self.quarters]),
            "directorates": list(self.directorates),
            "neighbourhoods": list(self.neighbourhoods),
            "wards": list(self.wards),
            "by": by,
        }


def _windows(windows: Sequence[Sequence[str]]) -> dict[str, list[Any]]:
    """Quarter sets as the zipped ($window_ids, $window_quarters) parameters of the KPI queries."""
    ids = [i for i, window in enumerate(windows) for _ in window]
    quarters = [q for window in windows for q in window]
    return {"window_ids": ids, "window_quarters": quarters}


# ---------------------------------------------------------------------------------------------
# Running SQL files

_PARAM = re.compile(r"\$([A-Za-z_]\w*)")
_COMMENT = re.compile(r"--[^\n]*")


_INCLUDE = re.compile(r"^-- @include (\S+\.sql).*$", re.MULTILINE)


# The facts a ward-level family query sums, and the ward roll-up that can stand in for them
# (kpis/facts.py): same columns, summed over directorates.
WARD_SOURCES: dict[str, str] = {
    "_budget_source.sql": "_budget_ward_source.sql",
    "_engagement_source.sql": "_engagement_ward_source.sql",
    "_partnerships_source.sql": "_partnerships_ward_source.sql",
    "_equality_from_facts.sql": "_equality_from_ward_rollup.sql",
}


def _with_includes(name: str, swaps: dict[str, str] | None = None) -> str:
    """kpis/sql/<name> with each `-- @include` line replaced by its fragment (fragments may
    include); `swaps` includes another fragment in place of one."""
    swaps = swaps or {}
    text = (SQL_DIR / name).read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda m: _with_includes(swaps.get(m.group(1), m.group(1)), swaps), text)


@cache
def load_sql(name: str, ward_rollup: bool = False) -> tuple[str, frozenset[str]]:
    """The text of kpis/sql/<name>, with its `-- @include` fragments, and the parameters it binds;
    with `ward_rollup`, the facts it sums are read from their ward roll-up (`WARD_SOURCES`)."""
    text = _with_includes(name, WARD_SOURCES if ward_rollup else None)
    return text, frozenset(_PARAM.findall(_COMMENT.sub("", text)))


def sql_files() -> list[str]:
    """Every query file in kpis/sql, by name (fragments, named with a leading _, are included)."""
    return sorted(p.name for p in SQL_DIR.glob("*.sql") if not p.name.startswith("_"))


def run_sql(con: duckdb.DuckDBPyConnection, name: str, ward_rollup: bool = False,
            **params: Any) -> pd.DataFrame:
    """Execute kpis/sql/<name> with named parameters (constants filled in) and return a frame
    (`ward_rollup`: see `load_sql`)."""
    text, names = load_sql(name, ward_rollup)
    values = {**_CONSTANTS, **params}
    missing = names - values.keys()
    if missing:
        raise TypeError(f"{name} needs parameters {sorted(missing)}")
    return con.execute(text, {k: values[k] for k in names}).df()


def _consecutive(quarters: Sequence[str]) -> bool:
    ordered = sorted(quarters)
    return ordered == quarters_between(ordered[0], ordered[-1])


def run_family(
    con: duckdb.DuckDBPyConnection,
    name: str,
    scope: Scope,
    by: str,
    windows: Sequence[Sequence[str]],
    params: dict[str, Any],
) -> pd.DataFrame:
    """One KPI family's query (`FAMILY_FILES`): from the directorate-level roll-up when the figure
    is the council's or by directorate with no ward or neighbourhood in scope (and, for
    partnerships, every window a run of consecutive quarters); else from the ward-level facts,
    or, for figures with wards in scope but no directorate filter nor directorate groups (the
    ward and neighbourhood pages; for partnerships, every window one quarter), from the facts
    summed per ward.

    A warehouse whose roll-up is not built yet (built by an older version, not written since)
    is read from the facts.
    """
    geographic = scope.is_geographic or by in ("neighbourhood", "ward")
    rollup = not geographic and by in ("council", "directorate")
    if name == "partnerships.sql":
        rollup = rollup and all(_consecutive(w) for w in windows)
    ward_rollup = geographic and by != "directorate" and not scope.directorates
    if name == "partnerships.sql":  # its ward roll-up has no partnership ids: one quarter only
        ward_rollup = ward_rollup and all(len(w) == 1 for w in windows)
    try:
        if rollup:
            return run_sql(con, ROLLUP_FILES[name], **params)
        if ward_rollup:
            return run_sql(con, name, ward_rollup=True, **params)
    except duckdb.CatalogException:
        pass  # no roll-up table in this warehouse yet: its next write builds it
    return run_sql(con, name, **params)


def _clean(value: Any) -> float | int | None:
    """A plain Python number, None for undefined."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


# ---------------------------------------------------------------------------------------------
# Core KPIs


def _check_by(by: str) -> None:
    if by not in BY_CHOICES:
        raise ValueError(f"'{by}' is not a breakdown: use one of {', '.join(BY_CHOICES)}")


def kpi_frame(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    by: str = "council",
    windows: Sequence[Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Every KPI with its numerators and denominators, one row per group of `by` (column `grp`).

    With `windows` (quarter sets, e.g. for a trend), the scope's quarters are replaced by each
    window in turn and a `window_id` column (the window's index) says which row is which.
    """
    _check_by(by)
    params = {**scope.params(by), **(_windows(windows) if windows is not None else {})}
    keys = ["window_id", "grp"]
    every = windows if windows is not None else [scope.quarters]
    budget = run_family(con, "budget.sql", scope, by, every, params)
    engagement = run_family(con, "engagement.sql", scope, by, every, params)
    equality = run_family(con, "equality_index.sql", scope, by, every, params)  # no per-group rows
    partnerships = run_family(con, "partnerships.sql", scope, by, every, params)
    out = budget
    for frame in (engagement, equality, partnerships):
        out = _side_by_side(out, frame, keys)
    return out if windows is not None else out.drop(columns="window_id")


def _side_by_side(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Two family frames as one, by their keys. Every family query returns the same groups in
    the same order (`groups`, ORDER BY window_id, grp), so the columns are put side by side once
    that is checked (a merge costs 26 ms a call on a 7,000-ward table); a merge otherwise."""
    same = (
        len(left) == len(right)
        and not (set(left.columns) & set(right.columns)) - set(keys)
        and all((left[k].to_numpy() == right[k].to_numpy()).all() for k in keys)
    )
    if same:
        return pd.concat([left, right.drop(columns=keys).set_axis(left.index)], axis=1)
    return left.merge(right, on=keys, how="left", validate="one_to_one")


def kpi_values(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, float | int | None]:
    """Every KPI in the contract's order for one scope (None where undefined)."""
    row = kpi_frame(con, scope).iloc[0]
    return {k: _clean(row[k]) for k in KPI_NAMES}


def kpi_table(con: duckdb.DuckDBPyConnection, quarter: str, by: str) -> pd.DataFrame:
    """The `kpis table` output: key column (none for council), quarter, KPIs; one row per group."""
    _check_by(by)
    quarter = parse_quarter(quarter)
    return _table(kpi_frame(con, Scope((quarter,)), by), by, quarter)


def kpi_tables(con: duckdb.DuckDBPyConnection, quarters: Sequence[str], by: str) -> pd.DataFrame:
    """`kpi_table` for each of several quarters, stacked in the order given, computed together
    (one query per KPI family for all of them, each quarter its own window)."""
    _check_by(by)
    quarters = list(dict.fromkeys(parse_quarter(q) for q in quarters))
    if not quarters:
        raise ValueError("kpi_tables needs at least one quarter.")
    frame = kpi_frame(con, Scope(tuple(quarters)), by, [(q,) for q in quarters])
    tables = [_table(frame[frame["window_id"] == i].drop(columns="window_id"), by, q)
              for i, q in enumerate(quarters)]
    return pd.concat(tables, ignore_index=True)


def _table(frame: pd.DataFrame, by: str, quarter: str) -> pd.DataFrame:
    key = KEY_COLUMNS[by]
    frame = frame.sort_values("grp", key=lambda s: s.map(str), kind="stable")
    table = pd.DataFrame({key: frame["grp"].to_numpy()}) if key else pd.DataFrame(index=range(1))
    table["quarter"] = quarter
    for k in KPI_NAMES:
        table[k] = frame[k].to_numpy()
    for k in COUNT_KPIS:
        table[k] = table[k].astype("int64")
    return table.reset_index(drop=True)


def quarters_with_data(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Sorted canonical quarters that have at least one current submission."""
    return run_sql(con, "quarters_with_data.sql")["quarter"].astype(str).tolist()


# ---------------------------------------------------------------------------------------------
# Over time


def kpi_trend(
    con: duckdb.DuckDBPyConnection, scope: Scope, quarters: Sequence[str]
) -> pd.DataFrame:
    """Long frame: quarter, kpi, value, previous, change, rolling_4q, same_quarter_last_year,
    then complete, previous_complete, comparable and completeness (words).

    `change` is blank where the quarter or the one before lacks a return the KPI needs
    (`comparable` False): a missing return is not a fall. Show `completeness` beside such a point
    (see kpis.completeness.trend_completeness).
    """
    from kpis.completeness import trend_completeness  # it imports this module
    have = set(quarters_with_data(con))
    quarters = [parse_quarter(q) for q in quarters]
    # 'Where the data allows': a window is computed only when every quarter in it has data.
    wanted = {
        q: {
            "value": (q,),
            "previous": (previous_quarter(q),),
            "rolling_4q": last_quarters(q, m.ROLLING_QUARTERS),
            "same_quarter_last_year": (same_quarter_last_year(q),),
        }
        for q in quarters
    }
    windows = list(
        dict.fromkeys(w for ws in wanted.values() for w in ws.values() if set(w) <= have)
    )
    values: dict[tuple[str, ...], dict[str, Any]] = {}
    if windows:
        frame = kpi_frame(con, scope, "council", windows)
        for row in frame.to_dict("records"):
            values[windows[row["window_id"]]] = {k: _clean(row[k]) for k in KPI_NAMES}
    rows = []
    for q in quarters:
        found = {name: values.get(window) for name, window in wanted[q].items()}
        for k in KPI_NAMES:
            row = {"quarter": q, "kpi": k}
            row.update({name: (v[k] if v else None) for name, v in found.items()})
            both = row["value"] is not None and row["previous"] is not None
            row["change"] = row["value"] - row["previous"] if both else None
            rows.append(row)
    columns = [
        "quarter", "kpi", "value", "previous", "change", "rolling_4q", "same_quarter_last_year",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    for c in columns[2:]:
        frame[c] = frame[c].astype("float64")
    frame = frame.merge(trend_completeness(con, scope, quarters), on=["quarter", "kpi"],
                        how="left", validate="one_to_one")  # fmt: skip
    frame.loc[~frame["comparable"], "change"] = float("nan")  # incomplete: no rise or fall
    return frame


# ---------------------------------------------------------------------------------------------
# Equality in depth


def equality_breakdown(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Per dimension and group: participants, known, p_share, q_share, ratio, flags, EEI_d."""
    frame = run_family(con, "equality.sql", scope, "council", [scope.quarters], scope.params())
    frame = frame.drop(columns=["window_id", "grp"]).rename(columns={"group_name": "group"})
    frame.insert(2, "group_label", frame["group"].map(GROUP_LABELS))
    frame["low_base"] = frame["low_base"].astype(bool)
    # A low base is 'too few to judge', never 'under-represented' (kpis.disclosure words it).
    frame["under_represented"] = frame["under_represented"].astype(bool) & ~frame["low_base"]
    columns = [
        "dimension", "group", "group_label", "participants", "known", "p_share", "q_share",
        "ratio", "under_represented", "low_base", "eei", "left_out",
    ]  # fmt: skip
    return frame[columns].reset_index(drop=True)


DIMENSION_WORDS: dict[str, str] = {
    "age": "age", "sex": "sex", "ethnicity": "ethnicity", "disability": "disability",
}  # fmt: skip


def equality_coverage(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Which dimensions the engagement equality index covers in `scope`, and why not the others.

    One row per dimension: covered (its EEI_d is in the index), known (participants of known
    group counted), left_out (participants of known group at activities in wards with no
    population figures for the dimension: not counted), wards (in the geographic scope),
    wards_unknown and unknown_ward_names (those of them with a blank pop_ for it), words.
    A page shows `index_coverage_words(frame)` beside the index and `words` per dimension.
    """
    equality = equality_breakdown(con, scope)
    per_dim = equality.groupby("dimension", sort=False).agg(
        known=("known", "first"), left_out=("left_out", "sum"), eei=("eei", "first")
    )
    wards = run_sql(con, "population_coverage.sql", quarters=list(scope.quarters),
                    neighbourhoods=list(scope.neighbourhoods),
                    wards=list(scope.wards)).set_index("dimension")  # fmt: skip
    rows = []
    for d in DIMENSIONS:
        known, left_out = int(per_dim.loc[d, "known"]), int(per_dim.loc[d, "left_out"])
        covered = not pd.isna(per_dim.loc[d, "eei"])
        names = list(wards.loc[d, "unknown_ward_names"])
        rows.append({
            "dimension": d, "covered": covered, "known": known, "left_out": left_out,
            "wards": int(wards.loc[d, "wards"]), "wards_unknown": int(wards.loc[d, "wards_unknown"]),
            "unknown_ward_names": tuple(names),
            "words": _coverage_words(d, covered, known, left_out, names),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _names(names: Sequence[str], limit: int = 5) -> str:
    shown = list(names[:limit]) + ([f"{len(names) - limit} more"] if len(names) > limit else [])
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _coverage_words(d: str, covered: bool, known: int, left_out: int, unknown: list[str]) -> str:
    what = DIMENSION_WORDS[d]
    title = what[:1].upper() + what[1:]
    gap = (f"no {what} figures for {_names(unknown)}" if unknown else "")
    if covered:
        text = f"{title}: in the index ({known:,} participant{'s' if known != 1 else ''} of known {what})"
        if left_out:
            text += f"; {left_out:,} more at activities in wards with {gap} are left out"
        return text + "."
    if left_out or (unknown and not known):
        return f"{title}: not in the index: {gap or 'no population figures'}."
    return f"{title}: not in the index: no participant's {what} is recorded."


def index_coverage_words(coverage: pd.DataFrame) -> str:
    """One sentence for the index of a scope: which dimensions it covers and which it leaves out."""
    inside = [DIMENSION_WORDS[d] for d in coverage.loc[coverage["covered"], "dimension"]]
    outside = coverage[~coverage["covered"]]
    if not inside:
        return "The engagement equality index is undefined here: no dimension has a participant " \
               "of known group in a ward with population figures."
    text = f"The engagement equality index covers {_names(inside)}"
    if outside.empty:
        return text + "."
    why = "; ".join(w.split(": ", 1)[0].lower() + " (" + w.split(": not in the index: ", 1)[1]
                    .rstrip(".") + ")" for w in outside["words"])  # fmt: skip
    return f"{text}; left out: {why}."


def deprivation_split(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Participation per 1,000 in the most deprived wards against the rest; empty without IMD."""
    return run_sql(con, "deprivation.sql", **scope.params())


# ---------------------------------------------------------------------------------------------
# Like-for-like comparators


def all_wards_scope(con: duckdb.DuckDBPyConnection, scope: Scope) -> Scope:
    """The comparator for a ward or neighbourhood figure: the same quarters and directorates, on
    the same scope rule (rows attributed to a ward), over every ward of the council (of the ward
    sets of its quarters)."""
    codes = run_sql(con, "ward_codes.sql", quarters=list(scope.quarters))["ward_code"].tolist()
    # no wards in the reference: a ward filter that matches nothing (an empty one is no filter)
    return Scope(scope.quarters, scope.directorates, (), tuple(codes) or ("",))


# Additive parts of each KPI (numerator, denominator): the borough-wide part of a council figure is
# the council's parts minus all wards' parts. None: a KPI that does not split (the index).
_PARTS: dict[str, tuple[str, str | None] | None] = {
    "devolved_budget_share": ("devolved_gbp", "total_budget_gbp"),
    "pb_share": ("pb_gbp", "total_budget_gbp"),
    "participation_per_1000": ("participants", None),  # over the council's population
    "engagement_equality_index": None,
    "early_engagement_share": ("early_activities", "activities"),
    "feedback_rate": ("feedback_activities", "activities"),
    "active_partnerships": ("active_partnerships", None),
    "new_partnerships": ("new_partnerships", None),
    "cat_long_lease_share": ("cat_long_lease", "cat_partnerships"),
}


def like_for_like(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Each KPI for a ward or neighbourhood scope beside its like-for-like comparator.

    One row per KPI (contract order): kpi, title, unit, area (the scope's value), all_wards (the
    same quarters and directorates over the ward-attributed rows of every ward: compare `area`
    with this, labelled `methodology.ALL_WARDS_LABEL`), difference (area - all_wards; NaN for
    counts, which do not compare by difference, and where either is undefined), borough_wide
    (the rows with no ward, the part of the council figure no ward can have; NaN for the index,
    which does not split), council (the whole council: all wards plus borough-wide).
    For a scope that names no ward or neighbourhood, area is the council's own value.
    """
    council_scope = Scope(scope.quarters, scope.directorates)
    area = kpi_frame(con, scope).iloc[0]
    wards = kpi_frame(con, all_wards_scope(con, scope)).iloc[0]
    council = kpi_frame(con, council_scope).iloc[0]
    population = _clean(council["population"])
    rows = []
    for k in m.KPIS:
        a, w, c = _clean(area[k.name]), _clean(wards[k.name]), _clean(council[k.name])
        rows.append({
            "kpi": k.name, "title": k.title, "unit": k.unit, "area": a, "all_wards": w,
            "difference": a - w if a is not None and w is not None and k.unit != "count" else None,
            "borough_wide": _borough_wide(k.name, council, wards, population), "council": c,
        })  # fmt: skip
    frame = pd.DataFrame(rows)
    for c in ("area", "all_wards", "difference", "borough_wide", "council"):
        frame[c] = frame[c].astype("float64")
    return frame


def _borough_wide(kpi: str, council: pd.Series, wards: pd.Series, population: Any) -> float | None:
    parts = _PARTS[kpi]
    if parts is None:
        return None
    top, bottom = parts

    def rest(column: str) -> float:  # exact for counts; money to the penny
        return round(float(council[column]) - float(wards[column]), 2)

    if kpi == "participation_per_1000":
        return m.PER_POPULATION * rest(top) / population if population else None
    if bottom is None:
        return rest(top)
    below = rest(bottom)
    return rest(top) / below if below else None


# ---------------------------------------------------------------------------------------------
# Cold spots


def cold_spots(
    con: duckdb.DuckDBPyConnection, quarters: Sequence[str], directorates: Sequence[str] = ()
) -> pd.DataFrame:
    """Every ward: participants, population, participation_per_1000, rank, is_cold_spot."""
    if isinstance(quarters, str):
        quarters = (quarters,)
    frame = run_sql(
        con,
        "cold_spots.sql",
        quarters=[parse_quarter(q) for q in quarters],
        directorates=[directorates] if isinstance(directorates, str) else list(directorates),
    )
    frame["rank"] = frame["rank"].astype("Int64")
    frame["is_cold_spot"] = frame["is_cold_spot"].astype(bool)
    return frame


# ---------------------------------------------------------------------------------------------
# Targets and RAG


def rag(
    value: float | None, target: float | None, direction: str | None, unit: str | None = None
) -> m.Status:
    """The RAG status of one value against one target, with its label and icon.

    With `unit`, value and target are first rounded as displayed (`methodology.display_round`),
    so the status agrees with the figures a reader sees; without it they are compared exactly.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return m.NO_DATA
    if target is None or (isinstance(target, float) and math.isnan(target)):
        return m.STATUSES["grey"]
    if unit is not None:
        value, target = m.display_round(value, unit), m.display_round(target, unit)
    sign = -1.0 if direction == "lower_is_better" else 1.0
    shortfall = sign * (target - value)  # > 0: the target is missed by this much
    slack = 1e-9 * max(1.0, abs(target))  # float noise, e.g. 0.3 * 0.9 != 0.27
    if shortfall <= slack:
        return m.STATUSES["green"]
    if shortfall <= m.AMBER_TOLERANCE * abs(target) + slack:
        return m.STATUSES["amber"]
    return m.STATUSES["red"]


def targets_for(
    con: duckdb.DuckDBPyConnection, quarter: str, directorate: str | None = None
) -> pd.DataFrame:
    """The target applying to each KPI for a quarter's financial year (own, else council-wide)."""
    return run_sql(
        con,
        "targets.sql",
        financial_year=financial_year(parse_quarter(quarter)),
        directorate=directorate,
    )


def _rag_frame(
    values: dict[str, Any], targets: pd.DataFrame, completeness: dict[str, Any] | None = None
) -> pd.DataFrame:
    """One row per KPI with its status. With `completeness` (kpis.completeness.Completeness per
    KPI), adds `complete` and `completeness` (words), and a KPI none of whose expected returns
    is in has no value and the status 'Not received' (a missing return is not a zero)."""
    frame = pd.DataFrame(_rag_rows(values, targets, completeness))
    for col in ("value", "target"):
        frame[col] = frame[col].astype("float64")
    return frame


def _rag_rows(
    values: dict[str, Any], targets: pd.DataFrame, completeness: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """`_rag_frame`'s rows as plain dicts (the league decides 30 directorates' statuses)."""
    by_kpi = {r.kpi: r for r in targets.itertuples(index=False)}
    rows = []
    for k in m.KPIS:
        t = by_kpi.get(k.name)
        target = float(t.target) if t is not None else None
        direction = t.direction if t is not None else k.direction
        value = values[k.name]
        c = completeness.get(k.name) if completeness else None
        nothing_in = c is not None and c.expected > 0 and c.received == 0
        value = None if nothing_in else value
        status = m.NOT_RECEIVED if nothing_in else rag(value, target, direction, k.unit)
        row = {
            "kpi": k.name,
            "title": k.title,
            "value": value,
            "target": target,
            "direction": direction,
            "status": status.status,
            "label": status.label,
            "icon": status.icon,
            "target_source": t.target_source if t is not None else None,
            "unit": k.unit,
            "pillar": k.pillar,
        }
        if completeness is not None:
            row["complete"] = c.complete if c is not None else True
            row["completeness"] = c.words if c is not None else ""
        rows.append(row)
    return rows


def rag_status(
    con: duckdb.DuckDBPyConnection, quarter: str, directorate: str | None = None
) -> pd.DataFrame:
    """Each KPI council-wide (or for one directorate) against its target: status, label, icon,
    and `complete` / `completeness` (words to show on the tile: which returns are missing).

    A KPI whose scope has none of its expected returns (a directorate that has not sent that
    return) has no value and the status 'Not received'; one with some missing keeps its status,
    decided on what is in, and says it is incomplete.
    """
    from kpis.completeness import kpi_completeness  # it imports this module

    scope = Scope((quarter,), (directorate,) if directorate else ())
    return _rag_frame(kpi_values(con, scope), targets_for(con, quarter, directorate),
                      kpi_completeness(con, scope))  # fmt: skip


def pillar_scorecard(
    con: duckdb.DuckDBPyConnection, quarter: str, directorate: str | None = None
) -> pd.DataFrame:
    """The KPIs grouped under the four pillars, with their RAG status."""
    frame = rag_status(con, quarter, directorate)
    order = {p.name: i for i, p in enumerate(m.PILLARS)}
    titles = {p.name: p.title for p in m.PILLARS}
    frame["pillar_order"] = frame["pillar"].map(order)
    frame = frame.sort_values(["pillar_order"], kind="stable").drop(columns="pillar_order")
    frame.insert(1, "pillar_title", frame["pillar"].map(titles))
    columns = [
        "pillar", "pillar_title", "kpi", "title", "value", "unit", "target", "status", "label",
        "icon",
    ]  # fmt: skip
    return frame[columns].reset_index(drop=True)


def directorate_league(con: duckdb.DuckDBPyConnection, quarter: str) -> pd.DataFrame:
    """One row per directorate: every KPI, how many are green, amber, red and grey, and whether
    it is lagging.

    Columns after the KPIs: green, amber, red, grey; `assessed` (KPIs with a target and a value),
    `score` ((green - red) / assessed, NaN when not assessed), `lagging` (bool), `assessment`
    ('Lagging', '' or 'Not assessed': show it as the league's Lagging column) and `league_rank`
    (1 = best; every assessed directorate before every unassessed one; show the league sorted by
    it). Rows stay in key order, like `kpi_table`. The rules are `methodology.LEAGUE_NOTES`.
    Then returns_received, returns_expected and returns_missing ('; '-joined return titles) for
    the league's completeness column. A KPI whose return the directorate has not sent is blank
    (counts are nullable Int64) and 'Not received': it is neither good nor bad.
    """
    from kpis.completeness import completeness_by_directorate, completeness_of, expected_returns

    quarter = parse_quarter(quarter)
    table = kpi_table(con, quarter, "directorate")
    expected = expected_returns(con, (quarter,))
    targets = run_sql(con, "targets_by_directorate.sql", quarters=[quarter],
                      directorates=[str(d) for d in table["directorate"]])  # fmt: skip
    no_targets = targets.iloc[0:0].drop(columns="directorate")
    no_returns = completeness_of(expected.iloc[0:0], (quarter,))
    found_of = completeness_by_directorate(expected, (quarter,))
    targets_of = {d: rows.drop(columns="directorate") for d, rows in targets.groupby("directorate", sort=False)}
    columns: dict[str, list[Any]] = {k: table[k].tolist() for k in KPI_NAMES}
    counts, returns = [], []
    for i, row in enumerate(table.to_dict("records")):
        d = row["directorate"]
        found = found_of.get(d, no_returns)
        rag_rows = _rag_rows({k: _clean(row[k]) for k in KPI_NAMES}, targets_of.get(d, no_targets), found)
        for r in rag_rows:
            if r["value"] is None:  # not received, or undefined: blank, never 0
                columns[r["kpi"]][i] = None
        statuses = [r["status"] for r in rag_rows]
        counts.append({s: statuses.count(s) for s in ("green", "amber", "red", "grey")})
        by_type = {c.return_type: c for c in found.values()}
        returns.append({"returns_received": sum(c.received for c in by_type.values()),
                        "returns_expected": sum(c.expected for c in by_type.values()),
                        "returns_missing": "; ".join(RETURN_TITLES[t] for t in RETURN_TYPES
                                                     if t in by_type and not by_type[t].complete)})  # fmt: skip
    for k in KPI_NAMES:  # a count of a return not received is blank (nullable Int64), not 0
        table[k] = pd.array(columns[k], dtype="Int64") if k in COUNT_KPIS else pd.Series(
            columns[k], dtype="float64").to_numpy()
    league = pd.concat(
        [table, pd.DataFrame(counts, columns=["green", "amber", "red", "grey"])], axis=1
    )
    returns_frame = pd.DataFrame(returns, columns=["returns_received", "returns_expected",
                                                   "returns_missing"])  # fmt: skip
    return pd.concat([league, league_assessment(league), returns_frame], axis=1)


def league_assessment(league: pd.DataFrame) -> pd.DataFrame:
    """From green/amber/red counts per row (and `directorate`): assessed, score, lagging,
    assessment, league_rank, as described in `directorate_league`."""
    assessed = (league["green"] + league["amber"] + league["red"]).astype("int64")
    score = ((league["green"] - league["red"]) / assessed.where(assessed > 0)).astype("float64")
    lagging = pd.Series(False, index=league.index)
    known = score.dropna()
    if not known.empty:
        k = math.ceil(len(known) / m.LAGGING_DIVISOR)
        cut = known.nsmallest(k).max()
        lagging = (score <= cut) & (score < known.max())  # level with the best is not behind
    assessment = [
        m.NOT_ASSESSED_LABEL if n == 0 else m.LAGGING_LABEL if lag else ""
        for n, lag in zip(assessed, lagging, strict=True)
    ]
    # Best first: score, then more on target, fewer off target, then name; unassessed last.
    order = pd.DataFrame({"missing": score.isna(), "score": -score.fillna(0),
                          "green": -league["green"], "red": league["red"],
                          "name": league["directorate"].astype(str)})  # fmt: skip
    ranked = order.sort_values(["missing", "score", "green", "red", "name"], kind="stable").index
    rank = pd.Series(range(1, len(ranked) + 1), index=ranked).reindex(league.index)
    return pd.DataFrame({
        "assessed": assessed,
        "score": score,
        "lagging": lagging.astype(bool),
        "assessment": assessment,
        "league_rank": rank.astype("int64"),
    }, index=league.index)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Breakdowns for a directorate page


def budget_by_mechanism(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Devolved budget by mechanism: budget_lines, devolved_gbp, share_of_budget, share_of_devolved."""
    return run_sql(con, "budget_by_mechanism.sql", **_filters(scope))


def engagement_by_method_stage(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Activities, participants and feedback by method x stage (the full grid)."""
    return run_sql(con, "engagement_by_method_stage.sql", **_filters(scope))


def partnerships_by_type(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Distinct partnerships by partner type: how many, new, asset transfers, annual value."""
    frame = run_sql(con, "partnerships_by_type.sql", group_by="partner_type",
                    categories=list(PARTNER_TYPES), **_filters(scope))
    return frame.rename(columns={"category": "partner_type"})


def partnerships_by_arrangement(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Distinct partnerships by arrangement: how many, new, asset transfers, annual value."""
    frame = run_sql(con, "partnerships_by_type.sql", group_by="arrangement",
                    categories=list(ARRANGEMENTS), **_filters(scope))
    return frame.rename(columns={"category": "arrangement"})


def _filters(scope: Scope) -> dict[str, Any]:
    return {
        k: v for k, v in scope.params().items() if k not in {"by", "window_ids", "window_quarters"}
    }
