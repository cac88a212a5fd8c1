"""Cached reads for the pages: thin wrappers around `kpis` (and a few reference look-ups).

Every cached function takes the warehouse path and `reader.version` as its first arguments, so a
load from another process (which swaps in a new file) changes the cache key and the next
interaction shows the new figures, without a restart. Pages call the public wrappers below,
which fill in those two arguments; pages never see a connection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

import kpis
from etl import warehouse
from kpis.methodology import KPI_BY_NAME, KPIS

TTL = "1h"  # a safety net only: the version key already refreshes after every load
ROWS = 256  # bound on cached result frames per function


@st.cache_resource(max_entries=2)
def _reader(db: str) -> warehouse.Reader:
    """One Reader (one root connection, a cursor per query) per warehouse path per process."""
    return warehouse.Reader(db)


def db_path() -> str:
    """The warehouse the app reads: LOCALISM_DB, else the CLI's default."""
    return str(warehouse.default_db_path())


def reader() -> warehouse.Reader:
    return _reader(db_path())


def _key() -> tuple[str, str]:
    db = db_path()
    return db, _reader(db).version


# ---------------------------------------------------------------------------------------------
# KPIs (cached calls into kpis)


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _quarters(db: str, version: str) -> list[str]:
    with _reader(db).cursor() as cur:
        return kpis.quarters_with_data(cur)


def quarters() -> list[str]:
    """Quarters with at least one current submission, oldest first."""
    return _quarters(*_key())


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _kpi_values(db: str, version: str, scope: kpis.Scope) -> dict[str, Any]:
    with _reader(db).cursor() as cur:
        return kpis.kpi_values(cur, scope)


def kpi_values(scope: kpis.Scope) -> dict[str, Any]:
    """Every KPI for one scope (None where undefined)."""
    return _kpi_values(*_key(), scope)


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _kpi_table(db: str, version: str, quarter: str, by: str) -> pd.DataFrame:
    with _reader(db).cursor() as cur:
        return kpis.kpi_table(cur, quarter, by)


def kpi_table(quarter: str, by: str) -> pd.DataFrame:
    """One row per directorate / neighbourhood / ward (or the council) for a quarter."""
    return _kpi_table(*_key(), quarter, by)


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _kpi_trend(db: str, version: str, scope: kpis.Scope, quarters: tuple[str, ...]) -> pd.DataFrame:
    with _reader(db).cursor() as cur:
        return kpis.kpi_trend(cur, scope, quarters)


def kpi_trend(scope: kpis.Scope, quarters: tuple[str, ...]) -> pd.DataFrame:
    """Long frame of each KPI by quarter with change and rolling values."""
    return _kpi_trend(*_key(), scope, tuple(quarters))


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _rag_status(db: str, version: str, quarter: str, directorate: str | None) -> pd.DataFrame:
    with _reader(db).cursor() as cur:
        return kpis.rag_status(cur, quarter, directorate)


def rag_status(quarter: str, directorate: str | None = None) -> pd.DataFrame:
    """Each KPI against its target with status, label and icon."""
    return _rag_status(*_key(), quarter, directorate)


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _pillar_scorecard(db: str, version: str, quarter: str) -> pd.DataFrame:
    with _reader(db).cursor() as cur:
        return kpis.pillar_scorecard(cur, quarter)


def pillar_scorecard(quarter: str) -> pd.DataFrame:
    """KPIs grouped under the four pillars, with status."""
    return _pillar_scorecard(*_key(), quarter)


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _league(db: str, version: str, quarter: str) -> pd.DataFrame:
    with _reader(db).cursor() as cur:
        return kpis.directorate_league(cur, quarter)


def directorate_league(quarter: str) -> pd.DataFrame:
    """One row per directorate with every KPI and RAG counts."""
    return _league(*_key(), quarter)


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _cold_spots(db: str, version: str, quarters: tuple[str, ...]) -> pd.DataFrame:
    with _reader(db).cursor() as cur:
        return kpis.cold_spots(cur, quarters)


def cold_spots(quarter: str) -> pd.DataFrame:
    """Every ward's participation per 1,000, rank and cold-spot flag for a quarter."""
    return _cold_spots(*_key(), (quarter,))


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _equality(db: str, version: str, scope: kpis.Scope) -> pd.DataFrame:
    with _reader(db).cursor() as cur:
        return kpis.equality_breakdown(cur, scope)


def equality_breakdown(scope: kpis.Scope) -> pd.DataFrame:
    """Participants, shares and representation ratio by demographic group."""
    return _equality(*_key(), scope)


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _deprivation(db: str, version: str, scope: kpis.Scope) -> pd.DataFrame:
    with _reader(db).cursor() as cur:
        return kpis.deprivation_split(cur, scope)


def deprivation_split(scope: kpis.Scope) -> pd.DataFrame:
    """Participation in the most deprived wards against the rest (empty without IMD)."""
    return _deprivation(*_key(), scope)


_BREAKDOWNS = {
    "budget_by_mechanism": kpis.budget_by_mechanism,
    "engagement_by_method_stage": kpis.engagement_by_method_stage,
    "partnerships_by_type": kpis.partnerships_by_type,
    "partnerships_by_arrangement": kpis.partnerships_by_arrangement,
}


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _breakdown(db: str, version: str, name: str, scope: kpis.Scope) -> pd.DataFrame:
    with _reader(db).cursor() as cur:
        return _BREAKDOWNS[name](cur, scope)


def breakdown(name: str, scope: kpis.Scope) -> pd.DataFrame:
    """One of the directorate page breakdowns (budget, engagement, partnerships)."""
    return _breakdown(*_key(), name, scope)


# ---------------------------------------------------------------------------------------------
# Reference look-ups and the submission log.
#
# kpis and etl expose no read functions for these yet, so they are the one place the dashboard
# runs its own (fixed, parameterised, read-only) queries. Pages never see SQL; when kpis/etl
# grow equivalents, replace the bodies below and nothing else changes.

_QUERIES: dict[str, str] = {
    "wards": (
        "SELECT ward_code, ward_name, neighbourhood, population_total, imd_decile "
        "FROM wards ORDER BY neighbourhood, ward_name"
    ),
    "directorates": "SELECT directorate, short_name FROM directorates ORDER BY directorate",
    "boundaries": "SELECT ward_code, geometry FROM boundaries ORDER BY ward_code",
    "returns": (
        "SELECT d.directorate, t.return_type, s.received_at, s.user_name, s.file_name, "
        "s.row_count "
        "FROM directorates AS d "
        "CROSS JOIN (SELECT unnest($return_types) AS return_type) AS t "
        "LEFT JOIN current_submissions AS s "
        "  ON s.directorate = d.directorate AND s.return_type = t.return_type "
        " AND s.quarter = $quarter "
        "ORDER BY d.directorate, t.return_type"
    ),
    "last_accepted": (
        "SELECT max(received_at) AS received_at FROM submissions WHERE outcome = 'accepted'"
    ),
    "commentary": (
        "SELECT directorate, quarter, user_name, written_at, body FROM commentary "
        "WHERE quarter = $quarter AND directorate = $directorate "
        "ORDER BY written_at DESC LIMIT 1"
    ),
}


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _lookup(db: str, version: str, name: str, params: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    """Run one of the fixed queries above with bound parameters."""
    return _reader(db).query_df(_QUERIES[name], {k: list(v) if isinstance(v, tuple) else v
                                                 for k, v in params})


def _lookup_now(name: str, **params: Any) -> pd.DataFrame:
    return _lookup(*_key(), name, tuple(sorted(params.items())))


def wards() -> pd.DataFrame:
    """ward_code, ward_name, neighbourhood, population_total, imd_decile."""
    return _lookup_now("wards")


def directorates() -> list[str]:
    """Directorate names in display spelling."""
    return _lookup_now("directorates")["directorate"].tolist()


@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def _geojson(db: str, version: str) -> dict[str, Any]:
    from dashboard.charts import normalise_geojson

    return normalise_geojson(_lookup(db, version, "boundaries", ()))


def geojson() -> dict[str, Any]:
    """The ward boundaries as one FeatureCollection keyed by properties.ward_code."""
    return _geojson(*_key())


def returns_tracker(quarter: str) -> pd.DataFrame:
    """Every directorate x return type for a quarter: when it was received (NaT = missing)."""
    from etl.contract import RETURN_TYPES

    return _lookup_now("returns", quarter=quarter, return_types=tuple(RETURN_TYPES))


def last_updated() -> pd.Timestamp | None:
    """Time of the latest accepted submission (returns or reference), or None."""
    value = _lookup_now("last_accepted")["received_at"].iloc[0]
    return None if pd.isna(value) else pd.Timestamp(value)


def commentary(quarter: str, directorate: str) -> dict[str, Any] | None:
    """The newest commentary for a directorate and quarter, or None."""
    frame = _lookup_now("commentary", quarter=quarter, directorate=directorate)
    return None if frame.empty else frame.iloc[0].to_dict()


# ---------------------------------------------------------------------------------------------
# Methodology (no warehouse)


@dataclass(frozen=True)
class KpiMeta:
    name: str
    title: str
    unit: str


def kpi_meta() -> list[KpiMeta]:
    """Each KPI's name, title and unit in the contract's order."""
    return [KpiMeta(k.name, k.title, k.unit) for k in KPIS]


def kpi_title(name: str) -> str:
    return KPI_BY_NAME[name].title


def kpi_unit(name: str) -> str:
    return KPI_BY_NAME[name].unit


def geojson_text() -> str:
    """The boundaries as JSON text (for downloads)."""
    return json.dumps(geojson())


def league_history(quarters: tuple[str, ...]) -> pd.DataFrame:
    """kpi_table(by=directorate) for several quarters, stacked (for the league's small trends)."""
    frames = [kpi_table(q, "directorate") for q in quarters]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
