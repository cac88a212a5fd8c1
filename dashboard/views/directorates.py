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
st.table(tables.scorecard_table(rag.assign(pillar_title=rag["pillar"].map(theme.label)))
         .drop(columns="Pillar"), hide_index=True)

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
st.plotly_chart(
    charts.bar_figure(budget, "mechanism", "devolved_gbp", title, "gbp", value_title="Devolved (£)"),
    key="dir_budget", theme=None, alt=charts.describe_bars(budget, "mechanism", "devolved_gbp", title, "gbp"),
)
budget_text = budget.assign(
    mechanism=budget["mechanism"].map(theme.label),
    devolved_gbp=budget["devolved_gbp"].map(theme.fmt_gbp),
    share_of_budget=budget["share_of_budget"].map(theme.fmt_pct),
    share_of_devolved=budget["share_of_devolved"].map(theme.fmt_pct),
).rename(columns={"mechanism": "Mechanism", "budget_lines": "Budget lines",
                  "devolved_gbp": "Devolved", "share_of_budget": "Share of all budget",
                  "share_of_devolved": "Share of devolved budget"})
st.table(budget_text, hide_index=True)

# --- Engagement -----------------------------------------------------------------------------------
st.header("Engagement by method and stage")
engagement = data.breakdown("engagement_by_method_stage", scope)
title = f"Engagement activities by method and stage, {directorate}, {quarter}"
used = engagement[engagement["activities"] > 0]
summary = charts.describe_heatmap(engagement, title)
st.plotly_chart(charts.heatmap_figure(engagement, "method", "stage", "activities", title),
                key="dir_engagement", theme=None, alt=summary)
st.caption(summary)
st.table(
    used.assign(method=used["method"].map(theme.label), stage=used["stage"].map(theme.label))
    .rename(columns={"method": "Method", "stage": "Stage", "activities": "Activities",
                     "participants": "Participants", "feedback_activities": "With feedback published"}),
    hide_index=True,
)

# --- Partnerships ---------------------------------------------------------------------------------
for column, heading, breakdown in (
    ("partner_type", "Partner type", "partnerships_by_type"),
    ("arrangement", "Arrangement", "partnerships_by_arrangement"),
):
    st.header(f"Partnerships by {heading.lower()}")
    partners = data.breakdown(breakdown, scope)
    title = f"Active partnerships by {heading.lower()}, {directorate}, {quarter}"
    st.plotly_chart(
        charts.bar_figure(partners, column, "partnerships", title, "count",
                          value_title="Partnerships"),
        key=f"dir_partners_{column}", theme=None,
        alt=charts.describe_bars(partners, column, "partnerships", title, "count"),
    )
    st.table(
        partners.assign(**{column: partners[column].map(theme.label),
                           "annual_value_gbp": partners["annual_value_gbp"].map(theme.fmt_gbp)})
        .rename(columns={column: heading, "partnerships": "Active",
                         "new_partnerships": "New this quarter", "cat_partnerships": "Asset transfers",
                         "cat_long_lease": "Asset transfers on 25+ year leases",
                         "annual_value_gbp": "Annual value"}),
        hide_index=True,
    )

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
sheets = {"KPIs by quarter": tables.trend_wide(trend), "Budget": budget_text,
          "Partnerships": partners, "Engagement": engagement}
left, right = st.columns(2)
left.download_button("KPIs by quarter (CSV)", exports.to_csv_bytes(tables.trend_wide(trend)),
                     file_name=f"{directorate} KPIs.csv", mime="text/csv", key="dir_csv")
right.download_button("All tables (Excel)", exports.to_excel_bytes(sheets),
                      file_name=f"{directorate} {quarter}.xlsx", key="dir_xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
