"""Pure shaping of KPI frames into the tables the pages show (no streamlit, no SQL).

The figures come from `kpis`; these functions only pick, join, format and label them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboard import theme
from etl.contract import RETURN_TITLES, RETURN_TYPES
from kpis.methodology import KPI_BY_NAME, KPIS, STATUSES

RECEIVED = "✔ Received"
MISSING = "✖ Missing"


def status_text(icon: str, label: str) -> str:
    """A RAG status as icon and words (never colour alone)."""
    return f"{icon} {label}"


def headline_rows(rag: pd.DataFrame, trend: pd.DataFrame, quarter: str) -> list[dict]:
    """One tile per KPI: title, value, change on last quarter, status text, target text."""
    changes = trend[trend["quarter"] == quarter].set_index("kpi")["change"]
    rows = []
    for r in rag.itertuples(index=False):
        k = KPI_BY_NAME[r.kpi]
        change = changes.get(r.kpi)
        delta = theme.fmt_change(change, k.unit)
        rows.append(
            {
                "kpi": r.kpi,
                "title": k.title,
                "value": theme.fmt_kpi(r.value, k.unit),
                "delta": f"{delta} on last quarter" if delta else None,
                "flat": bool(delta) and delta[0] not in "+-",  # rounds to no change: no arrow
                "inverse": r.direction == "lower_is_better",
                "status": status_text(r.icon, r.label),
                "target": (f"Target {theme.fmt_kpi(r.target, k.unit)}"
                           if not theme.is_missing(r.target) else ""),
                "help": k.definition,
            }
        )
    return rows


def scorecard_table(scorecard: pd.DataFrame) -> pd.DataFrame:
    """Pillar, KPI, value, target and status (icon and label) as text."""
    return pd.DataFrame(
        {
            "Pillar": scorecard["pillar_title"],
            "KPI": scorecard["title"],
            "Value": [theme.fmt_kpi(v, u) for v, u in zip(scorecard["value"], scorecard["unit"], strict=True)],
            "Target": [theme.fmt_kpi(t, u) if not theme.is_missing(t) else "None set"
                       for t, u in zip(scorecard["target"], scorecard["unit"], strict=True)],
            "Status": [status_text(i, lab) for i, lab in zip(scorecard["icon"], scorecard["label"], strict=True)],
        }
    )


def pillar_summary(scorecard: pd.DataFrame) -> pd.DataFrame:
    """Per pillar: how many KPIs are on target, within 10%, off target, without a target."""
    rows = []
    for (_, title), part in scorecard.groupby(["pillar", "pillar_title"], sort=False):
        counts = part["status"].value_counts()
        rows.append({"pillar": title, "kpis": len(part),
                     **{s: int(counts.get(s, 0)) for s in ("green", "amber", "red", "grey")}})
    return pd.DataFrame(rows)


def sparkline(values: Sequence[float | None], unit: str) -> str:
    """A short text trend: '10.0 → 12.5 → 11.2 (falling)'."""
    shown = [theme.fmt_kpi(v, unit) for v in values]
    known = [v for v in values if not theme.is_missing(v)]
    word = ""
    if len(known) >= 2:
        word = " (rising)" if known[-1] > known[0] else " (falling)" if known[-1] < known[0] else " (level)"
    return " → ".join(shown) + word


LEAGUE_KPIS: tuple[str, ...] = (
    "devolved_budget_share",
    "participation_per_1000",
    "engagement_equality_index",
    "early_engagement_share",
    "feedback_rate",
    "active_partnerships",
)


def league_table(league: pd.DataFrame, history: pd.DataFrame, trend_kpi: str) -> pd.DataFrame:
    """The directorate league as display text, with a small trend of `trend_kpi`.

    `history` is kpi_table(by=directorate) for several quarters concatenated (oldest first).
    Order: most KPIs on target first, then fewest off target, then the trend KPI.
    """
    unit = KPI_BY_NAME[trend_kpi].unit
    trends = {
        d: sparkline(part.sort_values("quarter")[trend_kpi].tolist(), unit)
        for d, part in history.groupby("directorate")
    }
    ranked = league.assign(_lag=lagging_flags(league)).sort_values(
        ["green", "red", trend_kpi], ascending=[False, True, False], kind="stable"
    )
    out = pd.DataFrame({"Directorate": ranked["directorate"]})
    for k in LEAGUE_KPIS:
        out[KPI_BY_NAME[k].title] = [theme.fmt_kpi(v, KPI_BY_NAME[k].unit) for v in ranked[k]]
    for status in ("green", "amber", "red"):
        out[f"{STATUSES[status].icon} {STATUSES[status].label}"] = ranked[status].astype(int).to_numpy()
    out[f"Trend: {KPI_BY_NAME[trend_kpi].title}"] = [trends.get(d, "") for d in ranked["directorate"]]
    out["Lagging"] = ["Yes" if flag else "" for flag in ranked["_lag"]]
    return out.reset_index(drop=True)


def lagging_flags(league: pd.DataFrame) -> pd.Series:
    """Lagging: the bottom third of directorates by KPIs on target minus KPIs off target (ties
    at the cut included); where no targets are set, the bottom third by mean rank across KPIs."""
    import math

    score = (league["green"] - league["red"]).astype(float)
    if (league["green"] + league["amber"] + league["red"]).sum() == 0:
        score = league[list(LEAGUE_KPIS)].rank(ascending=True, na_option="bottom").mean(axis=1)
    k = max(1, math.ceil(len(league) / 3))
    cut = score.nsmallest(k).max()
    return score <= cut


def returns_table(tracker: pd.DataFrame) -> pd.DataFrame:
    """Directorate x return type: '✔ Received 25 Apr 2026' or '✖ Missing'."""
    def cell(ts: object) -> str:
        return MISSING if pd.isna(ts) else f"{RECEIVED} {pd.Timestamp(ts):%-d %b %Y %H:%M}"

    wide = tracker.assign(cell=tracker["received_at"].map(cell)).pivot(
        index="directorate", columns="return_type", values="cell"
    )
    wide = wide[[t for t in RETURN_TYPES if t in wide.columns]]
    wide.columns = [RETURN_TITLES[c] for c in wide.columns]
    return wide.reset_index().rename(columns={"directorate": "Directorate"})


def missing_returns(tracker: pd.DataFrame) -> list[str]:
    """'Children and Families: Partnership register' for every return not yet received."""
    gone = tracker[tracker["received_at"].isna()]
    return [f"{d}: {RETURN_TITLES[t]}" for d, t in zip(gone["directorate"], gone["return_type"], strict=True)]


def kpi_long_table(values: dict, title: str = "Value") -> pd.DataFrame:
    """KPI titles and formatted values."""
    return pd.DataFrame({
        "KPI": [k.title for k in KPIS],
        title: [theme.fmt_kpi(values.get(k.name), k.unit) for k in KPIS],
    })


def comparison_table(area: dict, council: dict, area_title: str) -> pd.DataFrame:
    """Each KPI for an area against the council, with the difference in words."""
    rows = []
    for k in KPIS:
        a, c = area.get(k.name), council.get(k.name)
        if theme.is_missing(a) or theme.is_missing(c):
            diff = "Not comparable"
        elif k.unit == "count":
            diff = f"{theme.fmt_int(a)} of the council's {theme.fmt_int(c)}"
        else:
            change = theme.fmt_change(a - c, k.unit)
            if change.lstrip("+-").startswith(("0.0 ", "0.00")) or change in ("+0.0", "-0.0"):
                diff = "About the same as council"
            else:
                diff = f"{change.lstrip('+')} {'above' if a > c else 'below'} council".replace("-", "", 1)
        rows.append({"KPI": k.title, area_title: theme.fmt_kpi(a, k.unit),
                     "Council": theme.fmt_kpi(c, k.unit), "Difference": diff})
    return pd.DataFrame(rows)


def trend_wide(trend: pd.DataFrame) -> pd.DataFrame:
    """Every KPI by quarter (rows = quarters), formatted: the text version of the trend charts."""
    out = pd.DataFrame({"Quarter": sorted(trend["quarter"].unique())})
    for k in KPIS:
        part = trend[trend["kpi"] == k.name].set_index("quarter")["value"]
        out[k.title] = [theme.fmt_kpi(part.get(q), k.unit) for q in out["Quarter"]]
    return out


def ward_kpi_frame(ward_table: pd.DataFrame, wards: pd.DataFrame) -> pd.DataFrame:
    """kpi_table(by=ward) joined to the ward reference (name, neighbourhood, IMD decile)."""
    return wards.merge(ward_table, on="ward_code", how="left")


def ward_value_table(frame: pd.DataFrame, kpi: str) -> pd.DataFrame:
    """Ward, neighbourhood and one KPI as text, highest first (the map's text equivalent)."""
    unit = KPI_BY_NAME[kpi].unit
    data = frame.sort_values(kpi, ascending=False, na_position="last")
    return pd.DataFrame({
        "Ward": data["ward_name"], "Neighbourhood": data["neighbourhood"],
        KPI_BY_NAME[kpi].title: [theme.fmt_kpi(v, unit) for v in data[kpi]],
    }).reset_index(drop=True)


def similar_deprivation(frame: pd.DataFrame, ward_code: str, kpi: str) -> pd.DataFrame:
    """Wards within one IMD decile of the chosen ward, with the chosen KPI; empty without IMD."""
    me = frame[frame["ward_code"] == ward_code]
    if me.empty or me["imd_decile"].isna().all():
        return pd.DataFrame()
    decile = int(me["imd_decile"].iloc[0])
    near = frame[(frame["imd_decile"] - decile).abs() <= 1].sort_values(["imd_decile", "ward_name"])
    unit = KPI_BY_NAME[kpi].unit
    return pd.DataFrame({
        "Ward": [f"{n} (this ward)" if c == ward_code else n
                 for n, c in zip(near["ward_name"], near["ward_code"], strict=True)],
        "IMD decile": near["imd_decile"].astype(int),
        KPI_BY_NAME[kpi].title: [theme.fmt_kpi(v, unit) for v in near[kpi]],
    }).reset_index(drop=True)


def representation_table(equality: pd.DataFrame, suppress: bool) -> pd.DataFrame:
    """Participants, shares and ratio by group; counts 1-4 as '<5' when `suppress`."""
    from kpis import suppress_small

    data = suppress_small(equality, ["participants"]) if suppress else equality
    return pd.DataFrame({
        "Dimension": data["dimension"].map(theme.label),
        "Group": data["group_label"],
        "Participants": [v if isinstance(v, str) else theme.fmt_int(v) for v in data["participants"]],
        "Share of participants": data["p_share"].map(theme.fmt_pct),
        "Share of population": data["q_share"].map(theme.fmt_pct),
        "Ratio": [f"{r:.2f}" if not theme.is_missing(r) else "No data" for r in data["ratio"]],
        "Under-represented": ["Yes" if u else "" for u in data["under_represented"]],
    }).reset_index(drop=True)


def data_dictionary(columns: list[tuple[str, dict, str]]) -> pd.DataFrame:
    """A schema's columns as a table: column, type, required, example, meaning."""
    return pd.DataFrame({
        "Column": [c for c, _, _ in columns],
        "Type": [str(meta.get("kind", "")) for _, meta, _ in columns],
        "Required": ["Optional" if meta.get("optional") else "Required" for _, meta, _ in columns],
        "Example": [str(meta.get("example", "")) for _, meta, _ in columns],
        "Meaning": [d for _, _, d in columns],
    })


def definitions_table() -> pd.DataFrame:
    """Every KPI at a glance: title, name, pillar, unit and formula (definitions are above it)."""
    return pd.DataFrame({
        "KPI": [k.title for k in KPIS],
        "Name": [k.name for k in KPIS],
        "Pillar": [theme.label(k.pillar) for k in KPIS],
        "Unit": [k.unit for k in KPIS],
        "Formula": [k.formula for k in KPIS],
    })
