"""Overview for senior leaders: headline KPIs, the four pillars, the directorate league, returns."""

from __future__ import annotations

import streamlit as st

from dashboard import data, exports, state, tables, theme
from etl.quarters import last_quarters
from kpis import Scope

st.title("Localism overview")
quarter = state.chosen_quarter()
if quarter is None:
    st.info("No returns have been loaded yet: once directorates send their returns, the KPIs appear here.")
    st.stop()

updated = data.last_updated()
st.caption(
    f"Whole council, {quarter}. "
    + (f"Data last updated {updated:%-d %B %Y at %H:%M}." if updated is not None else "")
)

# --- Headline tiles -----------------------------------------------------------------------------
st.header("Headline KPIs")
rag = data.rag_status(quarter)
trend = data.kpi_trend(Scope((quarter,)), (quarter,))
tiles = tables.headline_rows(rag, trend, quarter)
for start in range(0, len(tiles), 3):
    for column, tile in zip(st.columns(3), tiles[start:start + 3], strict=False):
        with column, st.container(border=True):
            st.metric(
                tile["title"], tile["value"], delta=tile["delta"],
                delta_color="off" if tile["flat"] else "inverse" if tile["inverse"] else "normal",
                delta_arrow="off" if tile["flat"] else "auto", help=tile["help"],
            )
            st.markdown(f"**{tile['status']}**" + (f" · {tile['target']}" if tile["target"] else ""))

# --- Pillars ------------------------------------------------------------------------------------
st.header("The four pillars")
scorecard = data.pillar_scorecard(quarter)
summary = tables.pillar_summary(scorecard)
for column, row in zip(st.columns(len(summary)), summary.itertuples(index=False), strict=True):
    with column, st.container(border=True):
        st.subheader(row.pillar, anchor=False)
        st.markdown(
            f"{row.kpis} KPI{'s' if row.kpis != 1 else ''}: ✔ {row.green} on target, ▲ {row.amber} within 10%, "
            f"✖ {row.red} off target, ○ {row.grey} without a target or data"
        )
st.table(tables.scorecard_table(scorecard), hide_index=True)

# --- Directorate league -------------------------------------------------------------------------
st.header("Directorate league")
have = set(data.quarters())
recent = tuple(q for q in last_quarters(quarter, 4) if q in have)
league = data.directorate_league(quarter)
trend_kpi = "participation_per_1000"
league_display = tables.league_table(league, data.league_history(recent), trend_kpi)
st.caption(
    "Ordered by KPIs on target, then fewest off target, then participation. The trend column "
    f"shows participation per 1,000 residents over {len(recent)} quarters, oldest first. "
    "'Lagging' marks the bottom third: fewest KPIs on target net of those off target (or, "
    "where no targets are set, the lowest across the KPIs)."
)
st.table(league_display, hide_index=True)
lagging = league_display.loc[league_display["Lagging"] == "Yes", "Directorate"].tolist()
if lagging:
    st.markdown("**Lagging directorates.** Open one to see why:")
    for name in lagging:
        st.page_link("views/directorates.py", label=f"{name}: directorate page",
                     query_params={"directorate": name, "quarter": quarter})

# --- Returns tracker ----------------------------------------------------------------------------
st.header(f"Returns for {quarter}")
tracker = data.returns_tracker(quarter)
missing = tables.missing_returns(tracker)
received = len(tracker) - len(missing)
st.markdown(f"{received} of {len(tracker)} returns received.")
if missing:
    st.warning("Missing: " + "; ".join(theme.md_escape(m) for m in missing))
st.table(tables.returns_table(tracker), hide_index=True)

# --- Downloads ----------------------------------------------------------------------------------
st.header("Download")
sheets = {
    "KPIs": rag.drop(columns=["icon"]),
    "Pillars": scorecard.drop(columns=["icon"]),
    "Directorate league": league,
    "Returns": tracker,
}
left, right = st.columns(2)
left.download_button("Directorate league (CSV)", exports.to_csv_bytes(league), key="ov_csv",
                     file_name=f"directorate league {quarter}.csv", mime="text/csv")
right.download_button("All overview tables (Excel)", exports.to_excel_bytes(sheets), key="ov_xlsx",
                      file_name=f"localism overview {quarter}.xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
