"""Data and methods: KPI definitions (from kpis.methodology), the data dictionary (from the
pandera schemas), sources and the time of the latest submission."""

from __future__ import annotations

import streamlit as st

from dashboard import data, tables
from etl import schemas
from etl.contract import RETURN_TITLES
from kpis import methodology as m

st.title("Data and methods")
updated = data.last_updated()
st.markdown(
    "Directorates send three returns every quarter (devolved budget, engagement activities and "
    "their partnership register); administrators load the reference data (wards with their "
    "populations, directorates, targets and ward boundaries). Every file is validated before it "
    "is stored, and only the newest accepted return of each kind counts."
)
st.markdown(
    f"**Latest accepted submission:** {updated:%-d %B %Y at %H:%M}." if updated is not None
    else "**Latest accepted submission:** none yet."
)

st.header("The KPIs")
st.markdown(
    "Each KPI sits under one of the four pillars of localism (Locality, *Power Partnerships*, "
    "2019). Shares are shown as percentages; participation per 1,000 residents."
)
for pillar in m.PILLARS:
    st.subheader(pillar.title, anchor=False)
    st.markdown(pillar.description)
    for k in (k for k in m.KPIS if k.pillar == pillar.name):
        st.markdown(f"**{k.title}** (`{k.name}`): {k.definition}  \nFormula: `{k.formula}`  \n"
                    f"Why: {k.why}")
st.subheader("All KPIs at a glance", anchor=False)
st.table(tables.definitions_table(), hide_index=True)

st.header("How the figures are worked out")
for heading, notes in (
    ("Scope", m.SCOPE_RULES),
    ("Engagement equality and representation", m.EQUALITY_NOTES),
    ("Cold spots", m.COLD_SPOT_NOTES),
    ("Over time", m.TREND_NOTES),
    ("Targets and RAG status", m.TARGET_NOTES),
    ("Small numbers", m.SMALL_NUMBER_NOTES),
):
    st.subheader(heading, anchor=False)
    st.markdown("\n".join(f"- {n}" for n in notes))
st.table(
    [{"Status": f"{s.icon} {s.label}", "Meaning": s.meaning}
     for s in (*m.STATUSES.values(), m.NO_DATA)],
    hide_index=True,
)

st.header("Data dictionary")
st.markdown("Generated from the validation schemas, so it always matches what the loader checks.")
for name, model in schemas.RETURN_MODELS.items():
    st.subheader(RETURN_TITLES[name] + f" (`{name}`)", anchor=False)
    st.table(tables.data_dictionary(schemas.columns_of(model)), hide_index=True)
for name, model in schemas.REFERENCE_MODELS.items():
    st.subheader(f"Reference: {name}", anchor=False)
    st.table(tables.data_dictionary(schemas.columns_of(model)), hide_index=True)
st.subheader("Reference: boundaries", anchor=False)
st.markdown(
    "A GeoJSON FeatureCollection in longitude/latitude, one feature per ward, with the ward code "
    "in a property named `ward_code` (or ONS's `WDnnCD` / `area_code`)."
)

st.header("Sources")
st.markdown(
    "- Quarterly returns from each directorate's lead (budget, engagement, partnerships).\n"
    "- Ward populations by age, sex, ethnicity and disability, and IMD deciles where loaded, "
    "from the ward reference (typically the Census 2021 and the English Indices of Deprivation).\n"
    "- Ward boundaries from the ONS Open Geography Portal.\n"
    "- The four pillars and the recommendations the KPIs measure: Locality, *Power "
    "Partnerships: Lessons for localism from the frontline* (2019)."
)
