"""Disclosure control: the one suppression rule for every page, the ward pack and every export.

Demographic counts of participants (age, sex, ethnicity, disability) are special-category
personal data: a count from 1 to SMALL_NUMBER_THRESHOLD - 1 could pick out identifiable
residents, so it is never published, and neither is any figure from which it could be worked out:

1. Primary: a count from 1 to threshold - 1 is withheld (0 is shown: nobody is picked out).
2. Secondary: in a dimension with a withheld count, at least two counts are withheld, so the
   dimension's total minus the shown counts gives only the sum of the withheld ones. The second
   is the smallest other non-zero count (else the smallest zero).
3. The dimension's base (participants with a known group) is withheld when it is itself under
   the threshold.
4. Derived figures of a withheld count are withheld too: its share of participants (p_g), its
   representation ratio (r_g = p_g / q_g) and its under-represented flag; the dimension's
   equality index EEI_d (it pins down the withheld shares); and the scope's engagement equality
   index when any dimension's EEI_d is withheld (it is the mean of the EEI_d shown beside it).
   The population share q_g is census data and stays.
5. Every withheld figure shows the same mark, SUPPRESSED, so a reader cannot tell a small count
   from its protecting complement.

A group whose dimension's base is below LOW_BASE_MIN_KNOWN is 'too few to judge', never
'under-represented' (`representation` column).

How a page or export uses it:
- the representation table of a scope: `disclose_equality(kpis.equality_breakdown(con, scope))`;
  lay out its columns as they are (numbers, or SUPPRESSED as text; Excel gets numbers as numbers);
- the KPI values shown beside it: `disclose_kpis(values, disclosed_equality)`;
- any other frame with one row per area (or per activity) and one column per demographic group
  (wide, e.g. an export of returns' rows): `suppress_dimensions(frame)`;
- a `kpi_table` shown or exported (the ward KPIs download, the league): `disclose_kpi_table`;
- the note under the table: `SUPPRESSED_NOTE`.
Figures are always computed on the exact counts; only what is shown is withheld.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from kpis import methodology as m

THRESHOLD = m.SMALL_NUMBER_THRESHOLD
SUPPRESSED = "[c]"
"""The mark for every withheld figure ('c' for confidential, as in the GSS symbols)."""
SUPPRESSED_NOTE = (
    f"{SUPPRESSED}: withheld to protect privacy: fewer than {THRESHOLD} people, or a figure from "
    f"which such a number could be worked out."
)
TOO_FEW = "Too few to judge"
UNDER = "Under-represented"


def is_small(count: Any, threshold: int = THRESHOLD) -> bool:
    """A count that must not be published: from 1 to threshold - 1."""
    try:
        value = float(count)
    except (TypeError, ValueError):
        return False
    return 1 <= value < threshold


def withheld_cells(counts: Sequence[Any], threshold: int = THRESHOLD) -> list[bool]:
    """For the counts of one dimension's groups: which to withhold (primary, then secondary)."""
    flags = [is_small(c, threshold) for c in counts]
    if any(flags) and sum(flags) < 2:
        others = [(float(c) == 0, float(c), i) for i, c in enumerate(counts) if not flags[i]
                  and c is not None and c == c]  # fmt: skip
        if others:  # smallest non-zero first (False < True), then the smallest zero
            flags[min(others)[2]] = True
    return flags


def suppress_small(
    df: pd.DataFrame, columns: Iterable[str], threshold: int = THRESHOLD
) -> pd.DataFrame:
    """A copy with the rule applied across `columns` (the groups of ONE dimension) in each row:
    small counts and their complement replaced by SUPPRESSED. Call once per dimension."""
    columns = list(columns)
    out = df.copy()
    for c in columns:
        out[c] = out[c].astype(object)
    for index, row in df[columns].iterrows():
        for c, hide in zip(columns, withheld_cells(row.tolist(), threshold), strict=True):
            if hide:
                out.at[index, c] = SUPPRESSED
    return out


def suppress_dimensions(
    df: pd.DataFrame,
    dimensions: Mapping[str, Sequence[str]] | None = None,
    threshold: int = THRESHOLD,
) -> pd.DataFrame:
    """`suppress_small` for every demographic dimension whose group columns `df` has (by default
    etl.contract.DIMENSIONS: age, sex, ethnicity, disability), row by row: for exports of
    returns' rows and any other wide frame of demographic counts."""
    from etl.contract import DIMENSIONS

    out = df
    for groups in (DIMENSIONS if dimensions is None else dimensions).values():
        if all(g in df.columns for g in groups):
            out = suppress_small(out, groups, threshold)
    return out


def disclose_equality(equality: pd.DataFrame, threshold: int = THRESHOLD) -> pd.DataFrame:
    """`kpis.equality_breakdown` of one scope, made safe to publish (rules in the module doc).

    Same rows and columns; participants, known, p_share, ratio, under_represented and eei hold
    the value or SUPPRESSED; adds `withheld` (this group's count is withheld) and `representation`
    ('Under-represented', 'Too few to judge', '' or SUPPRESSED).
    """
    out = equality.copy()
    for c in ("participants", "known", "p_share", "ratio", "under_represented", "eei"):
        out[c] = out[c].astype(object)
    out["withheld"] = False
    out["representation"] = ""
    for _, part in equality.groupby("dimension", sort=False):
        index = part.index
        hide = withheld_cells(part["participants"].tolist(), threshold)
        base = part["known"].iloc[0]
        low = bool(part["low_base"].iloc[0])
        for i, h in zip(index, hide, strict=True):
            out.at[i, "withheld"] = h
            if h:
                for c in ("participants", "p_share", "ratio", "under_represented"):
                    out.at[i, c] = SUPPRESSED
            if low and not pd.isna(base) and base > 0:
                out.at[i, "representation"] = TOO_FEW
            elif h:
                out.at[i, "representation"] = SUPPRESSED
            elif bool(equality.at[i, "under_represented"]) and not low:
                out.at[i, "representation"] = UNDER
        if is_small(base, threshold):
            out.loc[index, "known"] = SUPPRESSED
        if any(hide):
            out.loc[index, "eei"] = SUPPRESSED
    if "engagement_equality_index" in out.columns:
        out["engagement_equality_index"] = out["engagement_equality_index"].astype(object)
        if out["withheld"].any():
            out["engagement_equality_index"] = SUPPRESSED
    return out


def disclose_kpis(values: Mapping[str, Any], disclosed_equality: pd.DataFrame) -> dict[str, Any]:
    """KPI values of the same scope as `disclosed_equality`, with the engagement equality index
    replaced by SUPPRESSED where a demographic count of the scope is withheld."""
    out = dict(values)
    if bool(disclosed_equality.get("withheld", pd.Series(dtype=bool)).any()):
        out["engagement_equality_index"] = SUPPRESSED
    return out


def disclose_kpi_table(con: Any, table: pd.DataFrame, quarter: str, by: str) -> pd.DataFrame:
    """`kpis.kpi_table(con, quarter, by)` made safe to publish: the engagement equality index of
    every group with a withheld demographic count is SUPPRESSED (with the group's shown counts it
    would pin the withheld one down). Everything else is as computed. For page tables and
    exports; the `kpis table` command itself prints the exact figures (its output is fixed)."""
    from kpis.engine import KEY_COLUMNS, Scope, run_sql

    frame = run_sql(con, "equality.sql", **Scope((quarter,)).params(by))
    withheld = set()
    for grp, part in frame.groupby("grp", sort=False):
        if any(any(withheld_cells(p["participants"].tolist())) for _, p in part.groupby("dimension")):
            withheld.add(grp)
    out = table.copy()
    out["engagement_equality_index"] = out["engagement_equality_index"].astype(object)
    key = KEY_COLUMNS[by]
    groups = out[key] if key else pd.Series(["council"] * len(out), index=out.index)
    out.loc[groups.isin(withheld).to_numpy(), "engagement_equality_index"] = SUPPRESSED
    return out


def is_suppressed(value: Any) -> bool:
    """True for the SUPPRESSED mark (a page formats every other value as a number)."""
    return isinstance(value, str) and value == SUPPRESSED
