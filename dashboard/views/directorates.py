"""Directorate page: KPI trends, devolved budget, engagement, partnerships and the lead's commentary."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, exports, state, tables, theme
from kpis import Scope

st.title("Directorates")
quarter = state.chosen_quarter()
names = data.directorates()
if quarter is None or not names:
    st.info("No returns have been loaded yet.")
    st.stop()

directorate = state.url_select("Directorate", names, key="dir_directorate", param="directorate")
scope = Scope((quarter,), (directorate,))
st.caption(f"{directorate}, {quarter}.")

# --- This quarter against target ------------------------------------------------------------------
st.header("KPIs this quarter")
rag = data.rag_status(quarter, directorate)
completeness = data.kpi_completeness(scope)
gaps = {c.words for c in completeness.values() if not c.complete}
for words in sorted(gaps):
    st.warning(f"Incomplete: {theme.md_escape(words)} The figures built on it are not the whole picture.")
st.table(tables.kpi_status_table(rag, completeness), hide_index=True)

# --- Trends ---------------------------------------------------------------------------------------
st.header("Trends over all quarters")
all_quarters = tuple(data.quarters())
trend = data.kpi_trend(scope, all_quarters)
metas = {m.name: m for m in data.kpi_meta()}
kpi = state.url_select("KPI to chart", list(metas), key="dir_kpi", param="kpi",
                       format_func=lambda k: metas[k].title)
meta = metas[kpi]
series = trend[trend["kpi"] == kpi]
title = f"{meta.title}, {directorate}"
st.plotly_chart(charts.trend_figure(series, title, meta.unit), key="dir_trend", theme=None,
                alt=charts.describe_trend(series, title, meta.unit))
st.caption(charts.describe_trend(series, title, meta.unit))
with st.expander("Every KPI by quarter (table)"):
    st.table(tables.trend_wide(trend), hide_index=True)

# --- Budget ---------------------------------------------------------------------------------------
st.header("Devolved budget by mechanism")
budget = data.breakdown("budget_by_mechanism", scope)
title = f"Devolved budget by mechanism, {directorate}, {quarter}"
if not completeness["devolved_budget_share"].complete:  # no return is not 'no budget'
    st.warning(f"{theme.md_escape(completeness['devolved_budget_share'].words)} Its budget is not "
               "shown until it arrives.")
else:
    st.plotly_chart(
        charts.bar_figure(budget, "mechanism", "devolved_gbp", title, "gbp", value_title="Devolved (£)"),
        key="dir_budget", theme=None,
        alt=charts.describe_bars(budget, "mechanism", "devolved_gbp", title, "gbp"),
    )
    st.table(tables.budget_table(budget), hide_index=True)

# --- Engagement -----------------------------------------------------------------------------------
st.header("Engagement by method and stage")
engagement = data.breakdown("engagement_by_method_stage", scope)
title = f"Engagement activities by method and stage, {directorate}, {quarter}"
if not completeness["feedback_rate"].complete:
    st.warning(f"{theme.md_escape(completeness['feedback_rate'].words)} Its activities are not "
               "shown until it arrives.")
else:
    summary = charts.describe_heatmap(engagement, title)
    st.plotly_chart(charts.heatmap_figure(engagement, "method", "stage", "activities", title),
                    key="dir_engagement", theme=None, alt=summary)
    st.caption(summary)
    st.table(tables.engagement_table(engagement), hide_index=True)

# --- Partnerships ---------------------------------------------------------------------------------
partner_sheets = {}
for column, heading, breakdown in (
    ("partner_type", "Partner type", "partnerships_by_type"),
    ("arrangement", "Arrangement", "partnerships_by_arrangement"),
):
    st.header(f"Partnerships by {heading.lower()}")
    partners = data.breakdown(breakdown, scope)
    partner_sheets[heading] = partners
    register = completeness["active_partnerships"]
    if not register.complete:  # no register is not 'no partnerships'
        st.warning(f"{theme.md_escape(register.words)} Its partnerships are not shown until it arrives.")
        continue
    title = f"Active partnerships by {heading.lower()}, {directorate}, {quarter}"
    st.plotly_chart(
        charts.bar_figure(partners, column, "partnerships", title, "count",
                          value_title="Partnerships"),
        key=f"dir_partners_{column}", theme=None,
        alt=charts.describe_bars(partners, column, "partnerships", title, "count"),
    )
    st.table(tables.partnership_table(partners, column, heading), hide_index=True)

# --- Commentary -----------------------------------------------------------------------------------
st.header("Lead's commentary")
note = data.commentary(quarter, directorate)
if note is None:
    st.markdown(f"No commentary was given for {theme.md_escape(quarter)}.")
else:
    with st.container(border=True):
        st.markdown(theme.md_escape(note["body"]))  # user text: escaped, never HTML
        st.caption(theme.md_escape(f"{note['who']}, {note['when']:%-d %B %Y}"))

# --- Downloads ------------------------------------------------------------------------------------
st.header("Download")
trend_sheet = tables.trend_export(trend)
sheets = {"KPIs by quarter": trend_sheet, "Budget": budget, "Engagement": engagement,
          **{f"Partnerships by {h.lower()}": f for h, f in partner_sheets.items()}}
left, right = st.columns(2)
# Built only when the reader clicks (a callable): an ordinary run builds no file.
left.download_button("KPIs by quarter (CSV)", lambda: exports.to_csv_bytes(trend_sheet),
                     file_name=f"{directorate} KPIs.csv", mime="text/csv", key="dir_csv")
right.download_button("All tables (Excel)", lambda: exports.to_excel_bytes(sheets),
                      file_name=f"{directorate} {quarter}.xlsx", key="dir_xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
