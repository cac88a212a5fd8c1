"""The contract's KPIs in plain pandas, straight from the current submissions' rows.

Two uses: the baseline the benchmark compares the SQL engine with, and the row-level truth the
facts tests compare `kpis.engine.kpi_frame` against (an independent implementation: no SQL, no
facts). It follows the contract's definitions one by one; nothing here is used by the product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from etl.contract import DIMENSIONS, KPI_NAMES
from kpis import methodology as m
from kpis.engine import Scope

CAT = "community_asset_transfer"


@dataclass
class Rows:
    """The current rows of every return and the reference tables, as DataFrames."""

    budget: pd.DataFrame
    engagement: pd.DataFrame
    partnerships: pd.DataFrame
    wards: pd.DataFrame
    directorates: list[str]


def load(con: duckdb.DuckDBPyConnection) -> Rows:
    """Read the current rows (the contract's 'newest accepted submission') into memory."""
    def frame(sql: str) -> pd.DataFrame:
        return con.execute(sql).df()

    budget = frame("SELECT * FROM budget")
    for c in ("total_budget_gbp", "devolved_gbp"):
        budget[c] = budget[c].astype("float64")
    return Rows(
        budget=budget,
        engagement=frame("SELECT * FROM engagement"),
        partnerships=frame("SELECT * FROM partnerships"),
        wards=frame("SELECT * FROM wards"),
        directorates=[r[0] for r in con.execute("SELECT directorate FROM directorates").fetchall()],
    )


def _quarter_of(dates: pd.Series) -> pd.Series:
    d = pd.to_datetime(dates)
    fy = d.dt.year - (d.dt.month < 4).astype(int)
    q = (d.dt.month + 8) % 12 // 3 + 1
    return fy.astype(str) + "-" + ((fy + 1) % 100).astype(str).str.zfill(2) + " Q" + q.astype(str)


def _ratio(num: float, den: float) -> float:
    return num / den if den else np.nan


def kpi_frame(
    rows: Rows, scope: Scope, by: str = "council", windows: Sequence[Sequence[str]] | None = None
) -> pd.DataFrame:
    """Every KPI per window and group of `by` (columns window_id, grp, then the KPIs)."""
    windows = [scope.quarters] if windows is None else windows
    wards = rows.wards
    if scope.neighbourhoods:
        wards = wards[wards["neighbourhood"].isin(scope.neighbourhoods)]
    if scope.wards:
        wards = wards[wards["ward_code"].isin(scope.wards)]
    geographic = scope.is_geographic or by in ("neighbourhood", "ward")
    hood = dict(zip(wards["ward_code"], wards["neighbourhood"], strict=True))
    keys = {
        "council": ["council"],
        "directorate": [d for d in rows.directorates
                        if not scope.directorates or d in scope.directorates],
        "neighbourhood": list(dict.fromkeys(wards["neighbourhood"])),
        "ward": list(wards["ward_code"]),
    }[by]
    pop = wards.set_index("ward_code")["population_total"]
    population = {
        "ward": {k: pop.get(k) for k in keys},
        "neighbourhood": {k: wards.loc[wards["neighbourhood"] == k, "population_total"].sum()
                          for k in keys},
    }.get(by, dict.fromkeys(keys, pop.sum() if len(pop) else np.nan))
    shares = _shares(rows.wards)

    def tagged(df: pd.DataFrame, quarters: Sequence[str]) -> pd.DataFrame:
        df = df[df["quarter"].isin(quarters)]
        if scope.directorates:
            df = df[df["directorate"].isin(scope.directorates)]
        # a council or directorate figure takes every row, whichever ward it names
        keep = df["ward_code"].isin(wards["ward_code"]) | (not geographic)
        df = df[keep].copy()
        df["grp"] = {"council": pd.Series("council", index=df.index),
                     "directorate": df["directorate"],
                     "neighbourhood": df["ward_code"].map(hood),
                     "ward": df["ward_code"]}[by]
        return df

    out = []
    for window_id, quarters in enumerate(windows):
        bt = tagged(rows.budget, quarters)
        b = bt.groupby("grp")
        e = tagged(rows.engagement, quarters)
        p = tagged(rows.partnerships, quarters)
        eei = _equality(e, shares)
        latest = (p.sort_values(["quarter", "line_no"], ascending=[False, True])
                  .drop_duplicates(["grp", "directorate", "partnership_id"]))
        latest = latest.assign(
            is_new=_quarter_of(latest["start_date"]).isin(quarters) if len(latest) else [],
            is_cat=latest["arrangement"] == CAT,
        )
        latest["is_long"] = latest["is_cat"] & (latest["lease_years"].fillna(0) >= m.LONG_LEASE_YEARS)
        lp = latest.groupby("grp")
        eg = e.groupby("grp")
        budget_total = b["total_budget_gbp"].sum()
        devolved = b["devolved_gbp"].sum()
        pb = bt[bt["mechanism"] == "participatory_budgeting"].groupby("grp")["devolved_gbp"].sum()
        activities = eg.size()
        participants = eg["participants_total"].sum()
        early = e[(e["stage"] == "priority_setting") | (e["method"] == "codesign")].groupby("grp").size()
        feedback = e[e["feedback_published"].astype(bool)].groupby("grp").size()
        for k in keys:
            out.append({
                "window_id": window_id, "grp": k,
                "devolved_budget_share": _ratio(devolved.get(k, 0.0), budget_total.get(k, 0.0)),
                "pb_share": _ratio(pb.get(k, 0.0), budget_total.get(k, 0.0)),
                "participation_per_1000": _ratio(m.PER_POPULATION * participants.get(k, 0),
                                                 population.get(k) or 0),
                "engagement_equality_index": eei.get(k, np.nan),
                "early_engagement_share": _ratio(early.get(k, 0), activities.get(k, 0)),
                "feedback_rate": _ratio(feedback.get(k, 0), activities.get(k, 0)),
                "active_partnerships": int(lp.size().get(k, 0)),
                "new_partnerships": int(lp["is_new"].sum().get(k, 0)),
                "cat_long_lease_share": _ratio(lp["is_long"].sum().get(k, 0),
                                               lp["is_cat"].sum().get(k, 0)),
            })
    return pd.DataFrame(out, columns=["window_id", "grp", *KPI_NAMES])


def _shares(wards: pd.DataFrame) -> dict[str, tuple[pd.Series, float]]:
    """Per group: the share in each ward (NaN where unknown) and over the whole council."""
    out = {}
    for groups in DIMENSIONS.values():
        cols = [f"pop_{g}" for g in groups]
        pops = wards.set_index("ward_code")[cols].astype("float64")
        total = pops.sum(axis=1, skipna=False)
        known = total.notna()
        for g, c in zip(groups, cols, strict=True):
            ward_share = pops[c] / total.replace(0, np.nan)
            council = pops.loc[known, c].sum() / total[known].sum() if total[known].sum() else np.nan
            out[g] = (ward_share, council)
    return out


def _equality(e: pd.DataFrame, shares: dict[str, tuple[pd.Series, float]]) -> pd.Series:
    """engagement_equality_index per group: mean over dimensions of 1 - 0.5 * sum |p_g - q_g|."""
    if e.empty:
        return pd.Series(dtype="float64")
    per_dim = []
    for dimension, groups in DIMENSIONS.items():
        known_a = e[list(groups)].sum(axis=1).astype("float64")
        parts = {}
        for g in groups:
            ward_share, council = shares[g]
            # borough-wide, or a ward no longer in the reference: the council's share
            share = e["ward_code"].map(ward_share).where(e["ward_code"].isin(ward_share.index), council)
            ok = share.notna()
            frame = pd.DataFrame({
                "grp": e["grp"], "n": e[g].where(ok), "known": known_a.where(ok),
                "expected": (known_a * share).where(ok),
            }).groupby("grp").sum(min_count=1)
            parts[g] = frame
        gaps = []
        for g in groups:
            f = parts[g]
            p = f["n"] / f["known"].replace(0, np.nan)
            q = f["expected"] / f["known"].replace(0, np.nan)
            gaps.append((p - q).abs())
        gap = pd.concat(gaps, axis=1)
        known = pd.concat([parts[g]["known"] for g in groups], axis=1).max(axis=1)
        eei = 1 - 0.5 * gap.sum(axis=1, min_count=1)
        per_dim.append(eei.where(known > 0).rename(dimension))
    return pd.concat(per_dim, axis=1).mean(axis=1, skipna=True)
