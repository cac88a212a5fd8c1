"""Cached reads for the pages: thin wrappers around `kpis` and `etl.queries`.

Every cached function takes the warehouse path and `reader.version` as its first arguments, so a
load from another process (which swaps in a new file) changes the cache key and the next
interaction shows the new figures, without a restart. Pages call the public wrappers below,
which fill in those two arguments; pages never see a connection.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

import kpis
from etl import access, queries, warehouse
from etl.reference import read_reference
from kpis.methodology import KPI_BY_NAME, KPIS

TTL = "1h"  # a safety net only: the version key already refreshes after every load
ROWS = 256  # bound on cached result frames per function


@st.cache_resource(max_entries=2)
def _reader(db: str) -> warehouse.Reader:
    """One Reader (one root connection, a cursor per query) per warehouse path per process."""
    return warehouse.Reader(db)


def db_path() -> str:
    """The warehouse the app reads: LOCALISM_DB, else the CLI's default."""
    return warehouse.default_db()


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
# Reference look-ups, the submission log, deadlines and commentary (cached calls into etl.queries)


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _query(db: str, version: str, name: str, args: tuple[Any, ...]) -> Any:
    """Run etl.queries.<name>(cursor, *args) on the shared reader."""
    with _reader(db).cursor() as cur:
        return getattr(queries, name)(cur, *args)


def _query_now(name: str, *args: Any) -> Any:
    return _query(*_key(), name, args)


def wards() -> pd.DataFrame:
    """ward_code, ward_name, neighbourhood, population_total, imd_decile."""
    return _query_now("wards")


def directorates() -> list[str]:
    """Directorate names in display spelling."""
    return _query_now("directorates")["directorate"].tolist()


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _visible(db: str, version: str, actor: access.Actor | None) -> list[str]:
    with _reader(db).cursor() as cur:
        return access.visible_directorates(actor, read_reference(cur))


def visible_directorates(actor: access.Actor | None) -> list[str]:
    """Directorates whose submissions the actor may see (a lead's own; all for viewer and admin)."""
    return _visible(*_key(), actor)


@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def _geojson(db: str, version: str) -> dict[str, Any]:
    from dashboard.charts import normalise_geojson

    return normalise_geojson(_query(db, version, "boundaries", ()))


def geojson() -> dict[str, Any]:
    """The ward boundaries as one FeatureCollection keyed by properties.ward_code."""
    return _geojson(*_key())


def returns_tracker(quarter: str, directorates: Sequence[str] | None = None,
                    today: dt.date | None = None) -> pd.DataFrame:
    """Every directorate (or those given) x return type for a quarter: received when and from whom
    (NaT = not yet), status received / missing / overdue against the quarter's deadline."""
    chosen = None if directorates is None else tuple(directorates)
    return _query_now("returns_tracker", quarter, today or dt.date.today(), chosen)


def last_updated() -> pd.Timestamp | None:
    """Time of the latest accepted submission (returns or reference), or None."""
    return _query_now("last_accepted_at")


def commentary(quarter: str, directorate: str) -> dict[str, Any] | None:
    """The newest commentary for a directorate and quarter (body, who, when), or None."""
    return _query_now("latest_commentary", directorate, quarter)


def submission_history(directorates: Sequence[str] | None = None) -> pd.DataFrame:
    """Every return submission for some directorates (None = all), newest first, with its state."""
    return _query_now("submission_history", None if directorates is None else tuple(directorates))


def reference_history() -> pd.DataFrame:
    """Every reference-data load, newest first."""
    return _query_now("reference_history")


def archived_file(submission_id: int) -> tuple[str, bytes] | None:
    """(file name, original bytes) of a submission; not cached (files can be large)."""
    with reader().cursor() as cur:
        return queries.archived_file(cur, submission_id)


def audit_log() -> pd.DataFrame:
    """The audit log of every write, newest first."""
    return _query_now("audit_log")


def deadlines() -> pd.DataFrame:
    """Deadline per quarter: quarter, due_date."""
    return _query_now("deadlines")


def deadline_of(quarter: str) -> dt.date | None:
    """The deadline set for a quarter, if any."""
    return _query_now("deadline_of", quarter)


def default_quarter(today: dt.date | None = None) -> str:
    """The quarter a lead most likely sends now (the last one ended, or the one before while its
    deadline has not passed)."""
    return queries.default_quarter(today, deadline_for=deadline_of)


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
