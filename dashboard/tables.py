"""Pure shaping of KPI frames into the tables the pages show (no streamlit, no SQL).

The figures come from `kpis`; these functions only pick, join, format and label them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboard import theme
from etl.contract import RETURN_TITLES, RETURN_TYPES
from kpis.methodology import (
    COLD_SPOT_DIVISOR,
    KPI_BY_NAME,
    KPIS,
    LONG_LEASE_YEARS,
    LOW_BASE_MIN_KNOWN,
    STATUSES,
)

RECEIVED = "✔ Received"
MISSING = "✖ Missing"
OVERDUE = "✖ Overdue"
NOT_RECEIVED = "Return not received"


def status_text(icon: str, label: str) -> str:
    """A RAG status as icon and words (never colour alone)."""
    return f"{icon} {label}"


TILE_QUARTERS = 8
"""A tile's small trend covers this many quarters, ending at the quarter shown."""


def headline_rows(rag: pd.DataFrame, trend: pd.DataFrame, quarter: str) -> list[dict]:
    """One tile per KPI: title, value, change on last quarter, status and target text, the
    small trend (values oldest first, with its words), and what is missing in words.

    `trend` is kpi_trend for the council over the tile's quarters (ending at `quarter`), with the
    engine's completeness columns: `complete`, `comparable` (False: the change is blank, a
    missing return is not a fall) and `completeness` (words).
    """
    now = trend[trend["quarter"] == quarter].set_index("kpi")
    rows = []
    for r in rag.itertuples(index=False):
        k = KPI_BY_NAME[r.kpi]
        here = now.loc[r.kpi] if r.kpi in now.index else None
        series = trend[trend["kpi"] == r.kpi].sort_values("quarter")
        known = series["value"].notna().to_numpy()
        if known.any():  # quarters before the first return are not a run of gaps
            series = series.iloc[int(known.argmax()):]
        delta = theme.fmt_change(here["change"], k.unit) if here is not None else None
        complete = bool(here["complete"]) if here is not None and "complete" in here else True
        comparable = bool(here["comparable"]) if here is not None and "comparable" in here else True
        note = None
        if not complete:
            note = f"Incomplete: {here['completeness']}"
        elif not comparable and not theme.is_missing(r.value):
            note = f"No change shown: {here['completeness']}"
        rows.append(
            {
                "kpi": r.kpi,
                "title": k.title,
                "unit": k.unit,
                "value": theme.fmt_kpi(r.value, k.unit),
                "delta": f"{delta} on last quarter" if delta else None,
                "flat": bool(delta) and delta[0] not in "+-",  # rounds to no change: no arrow
                "inverse": r.direction == "lower_is_better",
                "status": status_text(r.icon, r.label),
                "target": (f"Target {theme.fmt_kpi(r.target, k.unit)}"
                           if not theme.is_missing(r.target) else ""),
                "help": k.definition,
                "chart": [None if theme.is_missing(v) else float(v) for v in series["value"]],
                "chart_quarters": series["quarter"].tolist(),
                "chart_text": (f"Last {len(series)} quarters ({series['quarter'].iloc[0]} to "
                               f"{series['quarter'].iloc[-1]}): "
                               + sparkline(series["value"].tolist(), k.unit)) if len(series) else "",
                "note": note,
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
            "Target": [theme.fmt_kpi(t, u) if not theme.is_missing(t) else STATUSES["grey"].label
                       for t, u in zip(scorecard["target"], scorecard["unit"], strict=True)],
            "Status": [status_text(i, lab) for i, lab in zip(scorecard["icon"], scorecard["label"], strict=True)],
        }
    )


def pillar_summary(scorecard: pd.DataFrame) -> pd.DataFrame:
    """Per pillar: how many KPIs are on target, amber, off target, without a target or data."""
    rows = []
    for (_, title), part in scorecard.groupby(["pillar", "pillar_title"], sort=False):
        counts = part["status"].value_counts()
        rows.append({"pillar": title, "kpis": len(part),
                     **{s: int(counts.get(s, 0)) for s in ("green", "amber", "red", "grey")}})
    return pd.DataFrame(rows)


def pillar_words(row: dict) -> str:
    """'3 KPIs: ✔ 1 on target, ▲ 0 within 10%, ✖ 1 off target, ○ 1 with no target or no data'
    (the labels are the methodology's, never retyped)."""
    n = row["kpis"]
    parts = [f"{STATUSES[s].icon} {row[s]} {STATUSES[s].label.lower()}" for s in ("green", "amber", "red")]
    parts.append(f"{STATUSES['grey'].icon} {row['grey']} with no target or no data")
    return f"{n} KPI{'s' if n != 1 else ''}: " + ", ".join(parts)


def sparkline(values: Sequence[float | None], unit: str) -> str:
    """A short text trend: '10.0 → 12.5 → 11.2 (falling)'."""
    from kpis.methodology import display_round

    shown = [theme.fmt_kpi(v, unit) for v in values]
    known = [display_round(v, unit) for v in values if not theme.is_missing(v)]  # as shown
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


def returns_in(completeness: pd.DataFrame) -> dict[str, str]:
    """Per directorate, in words, which of its returns the league row is missing ('All received'
    when none); from kpis.completeness_table(quarter, 'directorate')."""
    from etl.contract import RETURN_TITLES

    out = {}
    for d, part in completeness.groupby("directorate", sort=False):
        gone = part.loc[~part["complete"].astype(bool), "return_type"].drop_duplicates()
        out[d] = ("All received" if gone.empty else
                  "Incomplete: " + ", ".join(RETURN_TITLES[t].lower() for t in gone) + " not received")
    return out


def league_table(league: pd.DataFrame, history: pd.DataFrame, trend_kpi: str,
                 completeness: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The directorate league as display text, in league order (the engine's `league_rank`),
    with its Lagging column and which returns each row is built on; and beside it, a second
    narrow table (same order) with a small trend of `trend_kpi` per directorate.

    `history` is kpi_table(by=directorate) for several quarters concatenated (oldest first).
    """
    unit = KPI_BY_NAME[trend_kpi].unit
    trends = {
        d: sparkline(part.sort_values("quarter")[trend_kpi].tolist(), unit)
        for d, part in history.groupby("directorate")
    } if not history.empty else {}
    ranked = league.sort_values("league_rank", kind="stable")
    words = returns_in(completeness) if completeness is not None else {}
    gone: set[tuple[str, str]] = set()
    if completeness is not None and "kpi" in completeness:
        short = completeness[~completeness["complete"].astype(bool)]
        gone = set(zip(short["directorate"], short["kpi"], strict=True))
    out = pd.DataFrame({"Rank": ranked["league_rank"].astype(int).to_numpy(),
                        "Directorate": ranked["directorate"].to_numpy(),
                        "Lagging": ranked["assessment"].to_numpy()})
    for k in LEAGUE_KPIS:
        unit = KPI_BY_NAME[k].unit
        # A figure built without the return it needs is not a figure: say so in its cell.
        out[KPI_BY_NAME[k].title] = [NOT_RECEIVED if (d, k) in gone else theme.fmt_kpi(v, unit)
                                     for d, v in zip(ranked["directorate"], ranked[k], strict=True)]
    out["Status counts"] = [
        " ".join(f"{STATUSES[s].icon} {int(n)}" for s, n in zip(("green", "amber", "red"), counts, strict=True))
        for counts in ranked[["green", "amber", "red"]].to_numpy()
    ]
    if words:
        out["Returns"] = [words.get(d, "") for d in ranked["directorate"]]
    out = out.reset_index(drop=True)
    # The trend is a second, narrow table: one wide table would scroll sideways at 1280 px.
    trend = pd.DataFrame({"Rank": out["Rank"], "Directorate": out["Directorate"],
                          f"{KPI_BY_NAME[trend_kpi].title}, oldest first":
                          [trends.get(d, "") for d in ranked["directorate"]]})
    return out, trend


def league_export(league: pd.DataFrame, completeness: pd.DataFrame | None = None) -> pd.DataFrame:
    """The league for a spreadsheet: league order, numbers as numbers, the Lagging column and the
    returns each row is built on."""
    ranked = league.sort_values("league_rank", kind="stable")
    out = pd.DataFrame({"rank": ranked["league_rank"].astype(int).to_numpy(),
                        "directorate": ranked["directorate"].to_numpy()})
    for k in KPIS:
        out[k.name] = pd.to_numeric(ranked[k.name], errors="coerce").to_numpy()
    for s in ("green", "amber", "red", "grey", "assessed"):
        out[s] = ranked[s].astype(int).to_numpy()
    out["score"] = ranked["score"].to_numpy()
    out["lagging"] = ranked["assessment"].to_numpy()
    if completeness is not None:
        words = returns_in(completeness)
        out["returns"] = [words.get(d, "") for d in ranked["directorate"]]
    return out


def overdue_lines(overdue: pd.DataFrame, expected_per_quarter: int) -> list[str]:
    """One sentence per quarter with overdue returns, oldest first: every return named, or 'all
    N returns' when none of the quarter's has come."""
    lines = []
    if overdue.empty:
        return lines
    for q, part in overdue.groupby("quarter", sort=True):
        due, days = part["due"].iloc[0], int(part["days_overdue"].iloc[0])
        when = f"due {due:%-d %B %Y}, {days:,} day{'s' if days != 1 else ''} ago"
        if len(part) >= expected_per_quarter:
            lines.append(f"Overdue for {q} ({when}): all {len(part):,} returns; none has been received.")
        else:
            names = "; ".join(f"{d}: {t}" for d, t in zip(part["directorate"], part["return_title"], strict=True))
            n = len(part)
            lines.append(f"Overdue for {q} ({when}): {n:,} return{'s' if n != 1 else ''}: {names}.")
    return lines


def returns_table(tracker: pd.DataFrame, overdue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Directorate x return type: '✔ Received 25 Apr 2026 15:56', '✖ Overdue (due 12 May 2026)'
    for a return in `overdue` (kpis.reporting_status().overdue), else '✖ Missing'."""
    late = {} if overdue is None or overdue.empty else {
        (d, t): due for d, t, due in zip(overdue["directorate"], overdue["return_type"],
                                         overdue["due"], strict=True)}

    def cell(d: str, t: str, ts: object) -> str:
        if not pd.isna(ts):
            return f"{RECEIVED} {pd.Timestamp(ts):%-d %b %Y %H:%M}"
        due = late.get((d, t))
        return f"{OVERDUE} (due {due:%-d %b %Y})" if due is not None else MISSING

    cells = [cell(d, t, ts) for d, t, ts in zip(tracker["directorate"], tracker["return_type"],
                                                tracker["received_at"], strict=True)]
    wide = tracker.assign(cell=cells).pivot(index="directorate", columns="return_type", values="cell")
    wide = wide[[t for t in RETURN_TYPES if t in wide.columns]]
    wide.columns = [RETURN_TITLES[c] for c in wide.columns]
    return wide.reset_index().rename(columns={"directorate": "Directorate"})


def missing_returns(tracker: pd.DataFrame) -> list[str]:
    """'Children and Families: Partnership register' for every return not yet received."""
    gone = tracker[tracker["received_at"].isna()]
    return [f"{d}: {RETURN_TITLES[t]}" for d, t in zip(gone["directorate"], gone["return_type"], strict=True)]


def comparison_table(area: dict, council: dict, area_title: str,
                     comparator: str = "council") -> pd.DataFrame:
    """Each KPI for an area against a comparator (its values in `council`), with the difference
    in words ('4.6 pp below all wards'). A value may be the disclosure mark (kpis.disclosure)."""
    from kpis.disclosure import is_suppressed

    rows = []
    for k in KPIS:
        a, c = area.get(k.name), council.get(k.name)
        if is_suppressed(a):
            diff = a
        elif theme.is_missing(a) or theme.is_missing(c):
            diff = "Not comparable"
        elif k.unit == "count":
            diff = f"{theme.fmt_int(a)} of {comparator}' {theme.fmt_int(c)}" if comparator.endswith("s") \
                else f"{theme.fmt_int(a)} of the {comparator}'s {theme.fmt_int(c)}"
        else:
            change = theme.fmt_change(a - c, k.unit)
            if change.lstrip("+-").startswith(("0.0 ", "0.00")) or change in ("+0.0", "-0.0", "0.0 pp", "0.00", "0.0"):
                diff = f"About the same as {comparator}"
            else:
                diff = f"{change.lstrip('+')} {'above' if a > c else 'below'} {comparator}".replace("-", "", 1)
        rows.append({"KPI": k.title, area_title: a if is_suppressed(a) else theme.fmt_kpi(a, k.unit),
                     comparator[:1].upper() + comparator[1:]: theme.fmt_kpi(c, k.unit), "Difference": diff})
    return pd.DataFrame(rows)


def like_for_like_table(lfl: pd.DataFrame, area_title: str, area_values: dict | None = None) -> pd.DataFrame:
    """kpis.like_for_like as text: the area, 'All wards' (its comparator on the same scope rule)
    and the difference in words, then the borough-wide part and the whole council for context.
    `area_values` (e.g. from kpis.disclose_kpis) overrides the area's values where given."""
    from kpis.methodology import ALL_WARDS_LABEL, BOROUGH_WIDE_LABEL

    area = {r.kpi: r.area for r in lfl.itertuples(index=False)}
    if area_values:
        area.update({k: v for k, v in area_values.items() if k in area})
    wards = {r.kpi: r.all_wards for r in lfl.itertuples(index=False)}
    out = comparison_table(area, wards, area_title, comparator=ALL_WARDS_LABEL.lower())
    by = lfl.set_index("kpi")
    out[BOROUGH_WIDE_LABEL] = [theme.fmt_kpi(by.loc[k.name, "borough_wide"], k.unit)
                               if not theme.is_missing(by.loc[k.name, "borough_wide"]) else "–"
                               for k in KPIS]
    out["Whole council"] = [theme.fmt_kpi(by.loc[k.name, "council"], k.unit) for k in KPIS]
    return out


def trend_wide(trend: pd.DataFrame) -> pd.DataFrame:
    """Every KPI by quarter (rows = quarters), formatted: the text version of the trend charts."""
    out = pd.DataFrame({"Quarter": sorted(trend["quarter"].unique())})
    for k in KPIS:
        rows = trend[trend["kpi"] == k.name].set_index("quarter")
        part = rows["value"]
        whole = rows["complete"] if "complete" in rows else pd.Series(True, index=rows.index)
        out[k.title] = [theme.fmt_kpi(part.get(q), k.unit)
                        + ("" if theme.is_missing(part.get(q)) or bool(whole.get(q, True)) else " (incomplete)")
                        for q in out["Quarter"]]
    return out


def ward_trend_table(trend: pd.DataFrame) -> pd.DataFrame:
    """A single ward's KPIs by quarter, for the ward pack: trend_wide without the engagement
    equality index, which disclosure control may withhold in any quarter (its value would give
    back the small counts it protects)."""
    return trend_wide(trend).drop(columns=[KPI_BY_NAME["engagement_equality_index"].title])


def ward_kpi_frame(ward_table: pd.DataFrame, wards: pd.DataFrame) -> pd.DataFrame:
    """kpi_table(by=ward) joined to the ward reference (name, neighbourhood, IMD decile)."""
    return wards.merge(ward_table, on="ward_code", how="left")


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


# ---------------------------------------------------------------------------------------------
# The directorate page's breakdowns as text tables (and their numeric export twins)


def kpi_status_table(rag: pd.DataFrame, completeness: dict | None = None) -> pd.DataFrame:
    """A scope's KPIs against target (no pillar column), with the returns each is built on in
    words where they are incomplete."""
    out = scorecard_table(rag.assign(pillar_title=rag["pillar"].map(theme.label))).drop(columns="Pillar")
    if completeness:
        out["Returns"] = ["" if completeness[k].complete else f"Incomplete: {completeness[k].words}"
                          for k in rag["kpi"]]
    return out


def budget_table(budget: pd.DataFrame) -> pd.DataFrame:
    """Devolved budget by mechanism as text."""
    return pd.DataFrame({
        "Mechanism": budget["mechanism"].map(theme.label),
        "Budget lines": budget["budget_lines"].map(theme.fmt_int),
        "Devolved": budget["devolved_gbp"].map(theme.fmt_gbp),
        "Share of all budget": budget["share_of_budget"].map(theme.fmt_pct),
        "Share of devolved budget": budget["share_of_devolved"].map(theme.fmt_pct),
    })


def engagement_table(engagement: pd.DataFrame) -> pd.DataFrame:
    """The method x stage cells that have activities, as text."""
    used = engagement[engagement["activities"] > 0]
    return pd.DataFrame({
        "Method": used["method"].map(theme.label),
        "Stage": used["stage"].map(theme.label),
        "Activities": used["activities"].map(theme.fmt_int),
        "Participants": used["participants"].map(theme.fmt_int),
        "With feedback published": used["feedback_activities"].map(theme.fmt_int),
    }).reset_index(drop=True)


PARTNERSHIP_COLUMNS: dict[str, str] = {
    "partnerships": "Active",
    "new_partnerships": "New this quarter",
    "cat_partnerships": "Asset transfers",
    "cat_long_lease": f"Asset transfers on leases of {LONG_LEASE_YEARS} years or more",
}


def partnership_table(partners: pd.DataFrame, column: str, heading: str) -> pd.DataFrame:
    """Active partnerships by partner type or arrangement, as text."""
    out = pd.DataFrame({heading: partners[column].map(theme.label)})
    for key, title in PARTNERSHIP_COLUMNS.items():
        out[title] = partners[key].map(theme.fmt_int)
    out["Annual value"] = partners["annual_value_gbp"].map(theme.fmt_gbp)
    return out


def trend_export(trend: pd.DataFrame) -> pd.DataFrame:
    """kpi_trend for a spreadsheet: one row per quarter x KPI, numbers as numbers, with whether
    the figure is complete and what is missing in words."""
    cols = ["quarter", "kpi", "value", "change", "rolling_4q", "same_quarter_last_year"]
    out = trend[[c for c in cols if c in trend.columns]].copy()
    out.insert(2, "title", out["kpi"].map(lambda k: KPI_BY_NAME[k].title))
    for c in ("complete", "completeness"):
        if c in trend.columns:
            out[c] = trend[c].to_numpy()
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Wards: bounded lists, the ward export, representation


SHOW_WARDS = 10
"""A list of wards on a page shows the lowest and the highest this many; a search finds the rest."""


def lowest_and_highest(table: pd.DataFrame, n: int = SHOW_WARDS) -> tuple[pd.DataFrame, int]:
    """`table` (sorted highest first) cut to its first and last n rows, and how many were left
    out in between (0 when it is short enough to show whole)."""
    if len(table) <= 2 * n:
        return table, 0
    return pd.concat([table.head(n), table.tail(n)]).reset_index(drop=True), len(table) - 2 * n


def ward_value_table(frame: pd.DataFrame, kpi: str) -> pd.DataFrame:
    """Rank, ward, neighbourhood and one KPI as text, highest first (the map's text equivalent)."""
    unit = KPI_BY_NAME[kpi].unit
    data = frame.sort_values([kpi, "ward_name"], ascending=[False, True], na_position="last")
    ranked = data[kpi].rank(ascending=False, method="min")
    return pd.DataFrame({
        "Rank (1 = highest)": [theme.fmt_int(r) if not theme.is_missing(r) else "–" for r in ranked],
        "Ward": data["ward_name"], "Neighbourhood": data["neighbourhood"],
        KPI_BY_NAME[kpi].title: [theme.fmt_kpi(v, unit) for v in data[kpi]],
    }).reset_index(drop=True)


def cold_spot_table(spots: pd.DataFrame) -> pd.DataFrame:
    """Cold spots as text, lowest first."""
    spots = spots.sort_values(["rank", "ward_name"])
    return pd.DataFrame({
        "Rank (1 = lowest)": spots["rank"].map(theme.fmt_int),
        "Ward": spots["ward_name"], "Neighbourhood": spots["neighbourhood"],
        "Participants": spots["participants"].map(theme.fmt_int),
        "Residents": spots["population"].map(theme.fmt_int),
        "Per 1,000": spots["participation_per_1000"].map(lambda v: theme.fmt_kpi(v, "rate")),
    }).reset_index(drop=True)


def deprivation_table(split: pd.DataFrame) -> pd.DataFrame:
    """Most deprived wards against the rest, as text."""
    return pd.DataFrame({
        "Wards": split["band"], "Number of wards": split["wards"].map(theme.fmt_int),
        "Participants": split["participants"].map(theme.fmt_int),
        "Residents": split["population"].map(theme.fmt_int),
        "Per 1,000": split["participation_per_1000"].map(lambda v: theme.fmt_kpi(v, "rate")),
    })


def ward_export(frame: pd.DataFrame, comparators: dict[str, dict], cold: pd.DataFrame) -> pd.DataFrame:
    """Every ward with every KPI as numbers, each comparator's value beside each KPI (e.g.
    {'all_wards': ..., 'council': ...}), and the cold-spot rank and flag: one analysis-ready
    row per ward."""
    out = frame[["ward_code", "ward_name", "neighbourhood", "imd_decile", "quarter"]].copy()
    out["imd_decile"] = pd.to_numeric(out["imd_decile"], errors="coerce").astype("Int64")
    for k in KPIS:
        out[k.name] = pd.to_numeric(frame[k.name], errors="coerce").to_numpy()
        for label, values in comparators.items():
            c = values.get(k.name)
            out[f"{k.name}_{label}"] = float("nan") if theme.is_missing(c) else float(c)
    spots = cold.set_index("ward_code")
    out["cold_spot_rank"] = out["ward_code"].map(spots["rank"]).astype("Int64")
    out["is_cold_spot"] = out["ward_code"].map(spots["is_cold_spot"]).fillna(False).astype(bool)
    return out.reset_index(drop=True)


COLD_SPOT_WORDS = f"among the 1 in {COLD_SPOT_DIVISOR} wards with the lowest participation"
"""What a cold spot is, in the words pages and the ward pack use (from the methodology)."""


def _shown(value: object, fmt) -> str:  # noqa: ANN001
    from kpis.disclosure import is_suppressed

    return value if is_suppressed(value) else fmt(value)


def representation_table(disclosed: pd.DataFrame) -> pd.DataFrame:
    """kpis.disclose_equality of a scope as text: participants, shares, ratio and the
    representation words ('Under-represented', 'Too few to judge' or the withheld mark)."""
    return pd.DataFrame({
        "Dimension": disclosed["dimension"].map(theme.label),
        "Group": disclosed["group_label"],
        "Participants": [_shown(v, theme.fmt_int) for v in disclosed["participants"]],
        "Share of participants": [_shown(v, theme.fmt_pct) for v in disclosed["p_share"]],
        "Share of population": [theme.fmt_pct(v) for v in disclosed["q_share"]],
        "Ratio": [_shown(v, lambda r: f"{float(r):.2f}" if not theme.is_missing(r) else "No data")
                  for v in disclosed["ratio"]],
        "Representation": disclosed["representation"].fillna(""),
    }).reset_index(drop=True)


def under_represented(disclosed: pd.DataFrame) -> pd.DataFrame:
    """The groups to name as under-represented (never a withheld or low-base one)."""
    from kpis.disclosure import UNDER

    return disclosed[disclosed["representation"] == UNDER]


def chartable(disclosed: pd.DataFrame) -> pd.DataFrame:
    """The groups a representation chart may draw: not withheld, not on a low base; numeric."""
    keep = disclosed[~disclosed["withheld"].astype(bool) & ~disclosed["low_base"].astype(bool)].copy()
    keep["ratio"] = pd.to_numeric(keep["ratio"], errors="coerce")
    keep["under_represented"] = keep["representation"] == "Under-represented"
    return keep


LOW_BASE_WORDS = (f"fewer than {LOW_BASE_MIN_KNOWN} participants with a known group (a low base): "
                  "too few to judge")
