"""Neighbourhoods and wards, for scrutiny panels: map, ward profile, cold spots, representation.

Every filter (quarter, neighbourhood, ward, KPI on the map) is in the URL, so a shared link
reopens the same view.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import charts, data, exports, state, tables, theme
from kpis import Scope
from kpis.methodology import MOST_DEPRIVED_MAX_DECILE, SMALL_NUMBER_NOTES, UNDER_REPRESENTED_RATIO

ALL = "All neighbourhoods"
NO_WARD = ""

st.title("Neighbourhoods and wards")
quarter = state.chosen_quarter()
wards = data.wards()
if quarter is None or wards.empty:
    st.info("No returns or ward reference have been loaded yet.")
    st.stop()

# --- Filters (all mirrored in the URL) ------------------------------------------------------------
metas = {m.name: m for m in data.kpi_meta()}
names = dict(zip(wards["ward_code"], wards["ward_name"], strict=True))
f1, f2, f3 = st.columns(3)
neighbourhood = state.url_select(
    "Neighbourhood", [ALL, *sorted(wards["neighbourhood"].unique())], key="nb_neighbourhood",
    param="neighbourhood", clear_value=ALL, where=f1,
)
in_scope = wards if neighbourhood == ALL else wards[wards["neighbourhood"] == neighbourhood]
ward_options = [NO_WARD, *in_scope.sort_values("ward_name")["ward_code"]]
ward = state.url_select(
    "Ward", ward_options, key="nb_ward", param="ward", clear_value=NO_WARD, where=f2,
    format_func=lambda c: "No ward chosen" if c == NO_WARD else f"{names[c]} ({c})",
)
kpi = state.url_select("KPI on the map", list(metas), key="nb_kpi", param="kpi",
                       default="participation_per_1000", where=f3,
                       format_func=lambda k: metas[k].title)
meta = metas[kpi]

ward_frame = tables.ward_kpi_frame(data.kpi_table(quarter, "ward"), wards)
shown = ward_frame if neighbourhood == ALL else ward_frame[ward_frame["neighbourhood"] == neighbourhood]
area = "the whole council" if neighbourhood == ALL else f"{neighbourhood} neighbourhood"

# --- Map ------------------------------------------------------------------------------------------
st.header(f"{meta.title} by ward")
map_title = f"{meta.title}, {area}, {quarter}"
st.plotly_chart(
    charts.ward_map_figure(shown, data.geojson(), kpi, map_title, meta.unit, highlight=ward or None),
    key="nb_map", theme=None, config=charts.MAP_CONFIG, alt=charts.describe_map(shown, kpi, map_title, meta.unit),
)
st.caption(charts.describe_map(shown, kpi, map_title, meta.unit))
with st.expander("Every ward on the map (table)"):
    st.table(tables.ward_value_table(shown, kpi), hide_index=True)

# --- Profile --------------------------------------------------------------------------------------
council = data.kpi_values(Scope((quarter,)))
if ward:
    scope = Scope((quarter,), wards=(ward,))
    place = names[ward]
elif neighbourhood != ALL:
    scope = Scope((quarter,), neighbourhoods=(neighbourhood,))
    place = f"{neighbourhood} neighbourhood"
else:
    scope, place = Scope((quarter,)), None

cold = data.cold_spots(quarter)
if place:
    st.header(f"Profile: {place}")
    values = data.kpi_values(scope)
    rate = values["participation_per_1000"]
    c1, c2 = st.columns(2)
    c1.metric(f"Participation per 1,000 residents, {place}",
              theme.fmt_kpi(rate, "rate"))
    c2.metric("Participation per 1,000 residents, whole council",
              theme.fmt_kpi(council["participation_per_1000"], "rate"))
    if ward and bool(cold.loc[cold["ward_code"] == ward, "is_cold_spot"].any()):
        st.warning(f"{theme.md_escape(place)} is a cold spot this quarter: among the fifth of wards "
                   "with the lowest participation.")
    profile = tables.comparison_table(values, council, place)
    st.table(profile, hide_index=True)
else:
    st.header("Profile")
    st.markdown("Choose a neighbourhood or a ward above to compare it with the whole council.")
    values, profile = council, tables.comparison_table(council, council, "Council (selected)")

# --- Cold spots -----------------------------------------------------------------------------------
st.header("Cold spots")
st.markdown(
    "Wards in the bottom fifth for participation per 1,000 residents this quarter"
    + ("" if neighbourhood == ALL else f" (showing those in {theme.md_escape(neighbourhood)})") + "."
)
spots = cold[cold["is_cold_spot"]]
if neighbourhood != ALL:
    spots = spots[spots["neighbourhood"] == neighbourhood]
if spots.empty:
    st.markdown("None in this area.")
else:
    st.table(
        spots.assign(participation_per_1000=spots["participation_per_1000"].map(
            lambda v: theme.fmt_kpi(v, "rate")), population=spots["population"].map(theme.fmt_int))
        [["rank", "ward_name", "neighbourhood", "participants", "population", "participation_per_1000"]]
        .rename(columns={"rank": "Rank (1 = lowest)", "ward_name": "Ward", "neighbourhood": "Neighbourhood",
                         "participants": "Participants", "population": "Residents",
                         "participation_per_1000": "Per 1,000"}),
        hide_index=True,
    )

# --- Representation -------------------------------------------------------------------------------
st.header(f"Who took part: {place or 'whole council'}")
equality = data.equality_breakdown(scope)
under = equality[equality["under_represented"]]
if not under.empty:
    st.warning(
        "Under-represented (fewer than "
        f"{UNDER_REPRESENTED_RATIO:.0%} of their population share): "
        + ", ".join(f"{r.group_label} ({r.ratio:.2f})" for r in under.itertuples())
    )
if equality["low_base"].any():
    st.info("Some dimensions have fewer than 30 participants with a known group (a low base): "
            "differences may be chance.")
title = f"Representation by group, {place or 'whole council'}, {quarter}"
st.plotly_chart(charts.representation_figure(equality, UNDER_REPRESENTED_RATIO), key="nb_repr", theme=None,
                alt=charts.describe_representation(equality, UNDER_REPRESENTED_RATIO))
representation = tables.representation_table(equality, suppress=bool(ward))
st.table(representation, hide_index=True)
if ward:
    st.caption(SMALL_NUMBER_NOTES[0].replace("`", ""))

# --- Deprivation ----------------------------------------------------------------------------------
st.header("Deprivation")
split = data.deprivation_split(Scope((quarter,)))
if split.empty:
    st.markdown("No IMD deciles are loaded in the ward reference, so there is no deprivation comparison.")
else:
    st.markdown(
        f"Participation per 1,000 residents in the most deprived wards (IMD deciles 1-"
        f"{MOST_DEPRIVED_MAX_DECILE}) against the other wards, whole council:"
    )
    st.table(split.assign(participation_per_1000=split["participation_per_1000"].map(
        lambda v: theme.fmt_kpi(v, "rate")), population=split["population"].map(theme.fmt_int))
        .rename(columns={"band": "Wards", "wards": "Number of wards", "participants": "Participants",
                         "population": "Residents", "participation_per_1000": "Per 1,000"}),
        hide_index=True)
    if ward:
        similar = tables.similar_deprivation(ward_frame, ward, kpi)
        if not similar.empty:
            st.subheader(f"Wards of similar deprivation to {names[ward]}", anchor=False)
            st.caption(f"Wards within one IMD decile of {names[ward]}, by {meta.title.lower()}.")
            st.table(similar, hide_index=True)

# --- Downloads ------------------------------------------------------------------------------------
st.header("Download")
ward_table = tables.ward_value_table(shown, kpi)
full = shown[["ward_code", "ward_name", "neighbourhood", "imd_decile", "quarter",
              *[m for m in metas]]]
sheets = {"Ward KPIs": full, "Profile": profile, "Representation": representation}
d1, d2, d3 = st.columns(3)
d1.download_button("Ward KPIs (CSV)", exports.to_csv_bytes(full), key="nb_csv",
                   file_name=f"ward KPIs {quarter}.csv", mime="text/csv")
d2.download_button("Tables (Excel)", exports.to_excel_bytes(sheets), key="nb_xlsx",
                   file_name=f"wards {quarter}.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
if ward:
    pack = exports.ward_pack_html(
        ward_name=names[ward], ward_code=ward,
        neighbourhood=str(wards.loc[wards["ward_code"] == ward, "neighbourhood"].iloc[0]),
        quarter=quarter, kpi_rows=profile, representation=representation,
        cold_spot=bool(cold.loc[cold["ward_code"] == ward, "is_cold_spot"].any()),
        figure_html=exports.map_svg(data.geojson(), ward, f"Map: {names[ward]} (filled) among "
                                    "the council's wards", names),
        generated=f"{dt.datetime.now():%-d %B %Y %H:%M}", notes=SMALL_NUMBER_NOTES,
    )
    d3.download_button("Printable ward pack (HTML)", pack.encode("utf-8"), key="nb_pack",
                       file_name=f"ward pack {names[ward]} {quarter}.html", mime="text/html")
else:
    d3.markdown("Choose a ward for its printable ward pack.")
