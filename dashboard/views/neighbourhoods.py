"""Neighbourhoods and wards, for scrutiny panels: map, ward profile, cold spots, representation.

Every filter (quarter, neighbourhood, ward, KPI on the map) is in the URL, so a shared link
reopens the same view. What the page draws is bounded at any scale: the map up to
charts.MAP_MAX_WARDS wards, lists the lowest and highest tables.SHOW_WARDS with the ward search
for the rest; the full lists are in the downloads.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

import kpis
from dashboard import charts, data, exports, state, tables, theme
from etl.quarters import last_quarters
from kpis import Scope
from kpis.disclosure import SUPPRESSED_NOTE
from kpis.engine import index_coverage_words
from kpis.methodology import (
    ALL_WARDS_LABEL,
    COMPARATOR_NOTES,
    MOST_DEPRIVED_MAX_DECILE,
    UNDER_REPRESENTED_RATIO,
)

ALL = "All neighbourhoods"
NO_WARD = ""

st.title("Neighbourhoods and wards")
quarter = state.chosen_quarter()
wards = data.wards(quarter)  # the wards of the quarter's ward set (docs/ward-vintages.md)
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
asked = st.query_params.get("ward")  # read first: the picker drops a ward not of this quarter's set
ward = state.url_select(
    "Ward", ward_options, key="nb_ward", param="ward", clear_value=NO_WARD, where=f2,
    help="Type part of a ward's name or code to find it among every ward.",
    format_func=lambda c: "No ward chosen" if c == NO_WARD else f"{names[c]} ({c})",
)
if asked and asked not in names:  # a link to a ward of another quarter's ward set
    st.info(theme.md_escape(" ".join([f"{asked} is not a ward in {quarter}.", *data.ward_notices(quarter, asked)])))
notices = data.ward_notices(quarter, ward) if ward else []
for words in notices:  # the ward was replaced, or replaced another (docs/ward-vintages.md)
    st.info(theme.md_escape(words))
kpi = state.url_select("KPI on the map", list(metas), key="nb_kpi", param="kpi",
                       default="participation_per_1000", where=f3,
                       format_func=lambda k: metas[k].title)
meta = metas[kpi]

ward_frame = tables.ward_kpi_frame(data.kpi_table(quarter, "ward"), wards)
shown = ward_frame if neighbourhood == ALL else ward_frame[ward_frame["neighbourhood"] == neighbourhood]
area = "the whole council" if neighbourhood == ALL else f"{neighbourhood} neighbourhood"
completeness = data.kpi_completeness(Scope((quarter,)))  # a ward needs every directorate's returns
gaps = sorted({c.words for c in completeness.values() if not c.complete})
for words in gaps:
    st.warning(f"Incomplete for every ward this quarter: {theme.md_escape(words)}")

# --- Map ------------------------------------------------------------------------------------------
st.header(f"{meta.title} by ward")
map_title = f"{meta.title}, {area}, {quarter}"
summary = charts.describe_map(shown, kpi, map_title, meta.unit)
if len(shown) > charts.MAP_MAX_WARDS:
    st.info(f"{len(shown):,} wards are too many to draw at once: choose a neighbourhood to see its "
            "map. The lowest and highest wards are listed below, and the ward search finds any ward.")
else:
    st.plotly_chart(
        charts.ward_map_figure(shown, data.geojson(quarter), kpi, map_title, meta.unit, highlight=ward or None),
        key="nb_map", theme=None, config=charts.MAP_CONFIG, alt=summary,
    )
st.caption(summary)
listed, left_out = tables.lowest_and_highest(tables.ward_value_table(shown, kpi))
with st.expander("The wards on the map (table)" if not left_out else
                 f"The {tables.SHOW_WARDS} highest and {tables.SHOW_WARDS} lowest wards (table)"):
    st.table(listed, hide_index=True)
    if left_out:
        st.markdown(f"{left_out:,} wards in between are not listed: search for a ward above, or "
                    "download every ward below.")

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
is_cold = bool(ward) and bool(cold.loc[cold["ward_code"] == ward, "is_cold_spot"].any())
# The one disclosure rule (kpis.disclosure) for everything shown about this scope's participants.
disclosed = kpis.disclose_equality(data.equality_breakdown(scope))
like = data.like_for_like(scope)
all_wards = dict(zip(like["kpi"], like["all_wards"], strict=True))
if place:
    st.header(f"Profile: {place}")
    values = kpis.disclose_kpis(data.kpi_values(scope), disclosed)
    c1, c2 = st.columns(2)
    c1.metric(f"Participation per 1,000 residents, {place}",
              theme.fmt_kpi(values["participation_per_1000"], "rate"))
    c2.metric(f"Participation per 1,000 residents, compared with {ALL_WARDS_LABEL.lower()}",
              theme.fmt_kpi(all_wards["participation_per_1000"], "rate"))
    if is_cold:
        st.warning(f"{theme.md_escape(place)} is a cold spot this quarter: {tables.COLD_SPOT_WORDS}.")
    st.markdown(f"Compared with {ALL_WARDS_LABEL.lower()}: the same rule as a ward's own figures "
                "(only rows held in a ward). The borough-wide part and the whole council are shown "
                "beside them.")
    profile = tables.like_for_like_table(like, place, values)
    st.table(profile, hide_index=True)
else:
    st.header("Profile")
    st.markdown("Choose a neighbourhood or a ward above to compare it with all wards.")
    values, profile = council, tables.comparison_table(council, council, "Council (selected)")

# --- Cold spots -----------------------------------------------------------------------------------
st.header("Cold spots")
st.markdown(
    f"Wards {tables.COLD_SPOT_WORDS} per 1,000 residents this quarter"
    + ("" if neighbourhood == ALL else f" (showing those in {theme.md_escape(neighbourhood)})") + "."
)
spots = cold[cold["is_cold_spot"]]
if neighbourhood != ALL:
    spots = spots[spots["neighbourhood"] == neighbourhood]
if spots.empty:
    st.markdown("None in this area.")
else:
    spot_table = tables.cold_spot_table(spots)
    st.table(spot_table.head(2 * tables.SHOW_WARDS), hide_index=True)
    if len(spot_table) > 2 * tables.SHOW_WARDS:
        st.markdown(f"The {2 * tables.SHOW_WARDS} lowest of {len(spot_table):,} cold spots are listed; "
                    "the ward download has every ward's cold-spot rank.")

# --- Representation -------------------------------------------------------------------------------
who = place or "whole council"
st.header(f"Who took part: {who}")
coverage = data.equality_coverage(scope)
st.markdown(theme.md_escape(index_coverage_words(coverage)))
for words in coverage.loc[~coverage["covered"], "words"]:
    st.markdown(theme.md_escape(words))
under = tables.under_represented(disclosed)
if not under.empty:
    st.warning(
        f"Under-represented (fewer than {UNDER_REPRESENTED_RATIO:.0%} of their population share): "
        + ", ".join(f"{r.group_label} ({float(r.ratio):.2f})" for r in under.itertuples())
    )
if disclosed["low_base"].any():
    low = sorted({theme.label(d).lower() for d in disclosed.loc[disclosed["low_base"], "dimension"]})
    st.info(f"{', '.join(low).capitalize()}: {tables.LOW_BASE_WORDS}, so no group there is called "
            "under-represented.")
title = f"Representation by group, {who}, {quarter}"
representation = tables.representation_table(disclosed)
drawn = tables.chartable(disclosed)
if drawn.empty and not disclosed.empty:
    st.markdown("No group is charted here: every dimension has a low base or a withheld figure. "
                "The table shows what can be published.")
else:
    if len(drawn) < len(disclosed):
        st.markdown("The chart leaves out groups with a low base or a withheld figure.")
    st.plotly_chart(charts.representation_figure(drawn, UNDER_REPRESENTED_RATIO), key="nb_repr",
                    theme=None, alt=charts.describe_representation(drawn, UNDER_REPRESENTED_RATIO))
st.table(representation, hide_index=True)
if disclosed["withheld"].any():
    st.caption(SUPPRESSED_NOTE)

# --- Deprivation ----------------------------------------------------------------------------------
st.header("Deprivation")
split = data.deprivation_split(Scope((quarter,)))
similar = tables.similar_deprivation(ward_frame, ward, kpi) if ward else None
if split.empty:
    st.markdown("No IMD deciles are loaded in the ward reference, so there is no deprivation comparison.")
else:
    st.markdown(
        f"Participation per 1,000 residents in the most deprived wards (IMD deciles 1-"
        f"{MOST_DEPRIVED_MAX_DECILE}) against the other wards, whole council:"
    )
    st.table(tables.deprivation_table(split), hide_index=True)
    if similar is not None and not similar.empty:
        st.subheader(f"Wards of similar deprivation to {names[ward]}", anchor=False)
        st.caption(f"Wards within one IMD decile of {names[ward]}, by {meta.title.lower()}.")
        near, left_out = tables.lowest_and_highest(similar)
        st.table(near, hide_index=True)
        if left_out:
            st.markdown(f"{left_out:,} more wards of similar deprivation are in the download.")

# --- Downloads ------------------------------------------------------------------------------------
st.header("Download")
export = tables.ward_export(shown, {"all_wards": all_wards, "council": council}, cold)
sheets = {"Ward KPIs": export, "Cold spots": cold, "Profile": profile, "Representation": representation}
d1, d2, d3 = st.columns(3)
# Each file is built only when the reader clicks (a callable): an ordinary run builds none.
d1.download_button("Ward KPIs (CSV)", lambda: exports.to_csv_bytes(export), key="nb_csv",
                   file_name=f"ward KPIs {quarter}.csv", mime="text/csv")
d2.download_button("Tables (Excel)", lambda: exports.to_excel_bytes(sheets), key="nb_xlsx",
                   file_name=f"wards {quarter}.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
if ward:
    pack_quarters = tuple(q for q in last_quarters(quarter, 4) if q in set(data.quarters()))
    ward_trend = data.kpi_trend(scope, pack_quarters)
    geojson = data.geojson(quarter)
    spots_all = tables.cold_spot_table(cold[cold["is_cold_spot"]])
    neighbourhood_of = str(wards.loc[wards["ward_code"] == ward, "neighbourhood"].iloc[0])
    council_name = data.council_name()  # read here: the callable below runs outside the script

    def pack() -> bytes:
        return exports.ward_pack_html(
            council=council_name, ward_name=names[ward], ward_code=ward,
            neighbourhood=neighbourhood_of, quarter=quarter, kpi_rows=profile,
            representation=representation, cold_spot=is_cold,
            trend=tables.ward_trend_table(ward_trend), cold_spots=spots_all.head(2 * tables.SHOW_WARDS),
            similar=similar if similar is not None else None,
            incomplete=gaps, replaced=notices,
            figure_html=exports.map_svg(geojson, ward, f"Map: {names[ward]} (filled) among "
                                        "the council's wards", names),
            generated=f"{dt.datetime.now():%-d %B %Y %H:%M}",
            notes=(SUPPRESSED_NOTE, *COMPARATOR_NOTES[:1]),
        ).encode("utf-8")

    d3.download_button("Printable ward pack (HTML)", pack, key="nb_pack",
                       file_name=f"ward pack {names[ward]} {quarter}.html", mime="text/html")
else:
    d3.markdown("Choose a ward for its printable ward pack.")
