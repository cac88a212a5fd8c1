"""Overview for senior leaders: where returns stand, headline KPIs with their trends, the four
pillars, the directorate league and the quarter's returns."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, exports, state, tables, theme
from etl.contract import RETURN_TYPES
from etl.quarters import last_quarters
from kpis import Scope
from kpis.engine import index_coverage_words
from kpis.methodology import LEAGUE_NOTES

st.title("Localism overview")

# --- Where returns stand (the current reporting quarter, even with nothing in) --------------------
status = data.reporting_status()
with st.container(border=True):
    st.subheader("Where returns stand", anchor=False)
    st.markdown(theme.md_escape(status.words[0]))
    late = tables.overdue_lines(status.overdue, len(data.directorates()) * len(RETURN_TYPES))
    if late:
        st.warning("\n\n".join(theme.md_escape(line) for line in late), icon=":material/schedule:")
    else:
        st.markdown("No return is overdue.")
    st.markdown(theme.md_escape(status.words[-1]))  # how old the newest figures are

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
tile_quarters = tuple(last_quarters(quarter, tables.TILE_QUARTERS))
trend = data.kpi_trend(Scope((quarter,)), tile_quarters)
tiles = tables.headline_rows(rag, trend, quarter)
for start in range(0, len(tiles), 3):
    for column, tile in zip(st.columns(3), tiles[start:start + 3], strict=False):
        with column, st.container(border=True):
            st.metric(
                tile["title"], tile["value"], delta=tile["delta"],
                delta_color="off" if tile["flat"] else "inverse" if tile["inverse"] else "normal",
                delta_arrow="off" if tile["flat"] else "auto", help=tile["help"],
            )
            if any(v is not None for v in tile["chart"]):
                # A Plotly line (st.metric's own chart_data sparkline fails axe: svg-img-alt).
                st.plotly_chart(charts.sparkline_figure(tile["chart"], tile["chart_quarters"], tile["unit"]),
                                key=f"ov_spark_{tile['kpi']}", theme=None, config=charts.SPARK_CONFIG,
                                alt=f"Small trend of {tile['title']}. {tile['chart_text']}")
            st.markdown(f"**{tile['status']}**" + (f" · {tile['target']}" if tile["target"] else ""))
            if tile["note"]:
                st.markdown(f"**{theme.md_escape(tile['note'])}**")
            if tile["kpi"] == "engagement_equality_index":  # which dimensions it covers
                st.markdown(theme.md_escape(index_coverage_words(data.equality_coverage(Scope((quarter,))))))
            st.markdown(theme.md_escape(tile["chart_text"]))

# --- Pillars ------------------------------------------------------------------------------------
st.header("The four pillars")
scorecard = data.pillar_scorecard(quarter)
summary = tables.pillar_summary(scorecard)
records = summary.to_dict("records")
for start in range(0, len(records), 2):  # two a row: a pillar's name never breaks mid-word
    for column, row in zip(st.columns(2), records[start:start + 2], strict=False):
        with column, st.container(border=True):
            st.subheader(row["pillar"], anchor=False)
            st.markdown(tables.pillar_words(row))
st.table(tables.scorecard_table(scorecard), hide_index=True)

# --- Directorate league -------------------------------------------------------------------------
st.header("Directorate league")
have = set(data.quarters())
recent = tuple(q for q in last_quarters(quarter, 4) if q in have)
league = data.directorate_league(quarter)
completeness = data.completeness_table(quarter, "directorate")
trend_kpi = "participation_per_1000"
league_display, league_trend = tables.league_table(league, data.league_history(recent), trend_kpi, completeness)
over = f"over {len(recent)} quarters" if len(recent) != 1 else "for this quarter only"
st.caption(
    "In league order; the table after it shows each directorate's participation per 1,000 "
    "residents over recent quarters. " + " ".join(LEAGUE_NOTES)
)
st.table(league_display, hide_index=True)
st.markdown(f"**Participation trend by directorate** ({over}):")
st.table(league_trend, hide_index=True)
lagging = league_display.loc[league_display["Lagging"] == "Lagging", "Directorate"].tolist()
if lagging:
    st.markdown("**Lagging directorates.** Open one to see why:")
    for name in lagging:
        st.page_link("views/directorates.py", label=f"{name}: directorate page",
                     query_params={"directorate": name, "quarter": quarter})

# --- Returns tracker ----------------------------------------------------------------------------
st.header(f"Returns for {quarter}")
tracker = data.returns_tracker(quarter)
overdue = status.overdue[status.overdue["quarter"] == quarter] if not status.overdue.empty else status.overdue
missing = tables.missing_returns(tracker)
received = len(tracker) - len(missing)
st.markdown(f"{received:,} of {len(tracker):,} returns received.")
if missing:
    st.warning("Missing: " + "; ".join(theme.md_escape(m) for m in missing))
st.table(tables.returns_table(tracker, overdue), hide_index=True)

# --- Downloads ----------------------------------------------------------------------------------
st.header("Download")
league_sheet = tables.league_export(league, completeness)
sheets = {
    "KPIs": rag.drop(columns=["icon"]),
    "Pillars": scorecard.drop(columns=["icon"]),
    "Directorate league": league_sheet,
    "Returns": tracker,
    "Overdue": status.overdue,
}
left, right = st.columns(2)
# Built only when the reader clicks (a callable): an ordinary run builds no file.
left.download_button("Directorate league (CSV)", lambda: exports.to_csv_bytes(league_sheet), key="ov_csv",
                     file_name=f"directorate league {quarter}.csv", mime="text/csv")
right.download_button("All overview tables (Excel)", lambda: exports.to_excel_bytes(sheets), key="ov_xlsx",
                      file_name=f"localism overview {quarter}.xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
