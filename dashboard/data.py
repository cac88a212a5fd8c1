"""Cached reads for the pages: one cached call into `kpis` and `etl.queries`.

Every read goes through `_call(function, *args)`, cached by (warehouse path, `reader.version`,
function name, arguments), so a load from any process (a new snapshot of the warehouse) changes
the key and the next interaction shows the new figures, without a restart. The public functions
below only name the read and its arguments; pages never see a connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

import kpis
from etl import access, queries, vintages, warehouse
from etl.reference import read_reference, ward_set_of
from kpis.methodology import KPIS

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
# One cached call for every read: keyed by (warehouse, version, function, arguments)


def _visible(cur: Any, actor: access.Actor | None) -> list[str]:
    return access.visible_directorates(actor, read_reference(cur))


def _geojson(cur: Any, quarter: str | None) -> dict[str, Any]:
    from dashboard.charts import normalise_geojson

    return normalise_geojson(queries.boundaries(cur, quarter))


def _ward_notices(cur: Any, quarter: str, ward_code: str) -> list[str]:
    history = queries.ward_history(cur)
    wards = [vintages.Ward(r.vintage, r.first_quarter, r.ward_code, r.ward_name)
             for r in history.itertuples(index=False)]
    vintage = ward_set_of(cur, quarter)
    if not any(w.vintage == vintage and w.code == ward_code for w in wards):  # of another quarter's set
        vintage = next((w.vintage for w in reversed(wards) if w.code == ward_code), None)
    return vintages.replacement_words(wards, ward_code, vintage) if vintage else []


def _directorates(cur: Any) -> list[str]:
    return queries.directorates(cur)["directorate"].tolist()


# The functions a page may read through `_call`: each takes a cursor first, then hashable args.
_READS: tuple[Callable[..., Any], ...] = (
    kpis.quarters_with_data, kpis.kpi_values, kpis.kpi_table, kpis.kpi_tables, kpis.kpi_trend, kpis.rag_status,
    kpis.pillar_scorecard, kpis.directorate_league, kpis.cold_spots, kpis.equality_breakdown,
    kpis.deprivation_split, kpis.budget_by_mechanism, kpis.engagement_by_method_stage,
    kpis.partnerships_by_type, kpis.partnerships_by_arrangement, kpis.kpi_completeness,
    kpis.completeness_table, kpis.reporting_status, kpis.like_for_like, kpis.equality_coverage,
    queries.wards, queries.ward_sets, queries.returns_tracker, queries.last_accepted_at, queries.latest_commentary,
    queries.submission_history, queries.reference_history, queries.audit_log,
    queries.deadlines, queries.deadline_of,
    _visible, _geojson, _ward_notices, _directorates,
)
READS: dict[str, Callable[..., Any]] = {f.__name__: f for f in _READS}
assert len(READS) == len(_READS), "two reads share a name"


@st.cache_data(ttl=TTL, max_entries=ROWS, show_spinner=False)
def _cached(db: str, version: str, name: str, args: tuple[Any, ...]) -> Any:
    with _reader(db).cursor(version) as cur:  # that snapshot (or a newer one), never an older one
        return READS[name](cur, *args)


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    """READS[fn](cursor, *args) on the shared reader, cached until the warehouse changes."""
    return _cached(*_key(), fn.__name__, args)


# ---------------------------------------------------------------------------------------------
# KPIs


def quarters() -> list[str]:
    """Quarters with at least one current submission, oldest first."""
    return _call(kpis.quarters_with_data)


def kpi_values(scope: kpis.Scope) -> dict[str, Any]:
    """Every KPI for one scope (None where undefined)."""
    return _call(kpis.kpi_values, scope)


def kpi_table(quarter: str, by: str) -> pd.DataFrame:
    """One row per directorate / neighbourhood / ward (or the council) for a quarter."""
    return _call(kpis.kpi_table, quarter, by)


def kpi_trend(scope: kpis.Scope, quarters: Sequence[str]) -> pd.DataFrame:
    """Long frame of each KPI by quarter with change, rolling values and completeness."""
    return _call(kpis.kpi_trend, scope, tuple(quarters))


def rag_status(quarter: str, directorate: str | None = None) -> pd.DataFrame:
    """Each KPI against its target with status, label and icon."""
    return _call(kpis.rag_status, quarter, directorate)


def pillar_scorecard(quarter: str) -> pd.DataFrame:
    """KPIs grouped under the four pillars, with status."""
    return _call(kpis.pillar_scorecard, quarter)


def directorate_league(quarter: str) -> pd.DataFrame:
    """One row per directorate with every KPI, RAG counts, assessment and league rank."""
    return _call(kpis.directorate_league, quarter)


def cold_spots(quarter: str) -> pd.DataFrame:
    """Every ward's participation per 1,000, rank and cold-spot flag for a quarter."""
    return _call(kpis.cold_spots, (quarter,))


def equality_breakdown(scope: kpis.Scope) -> pd.DataFrame:
    """Participants, shares and representation ratio by demographic group."""
    return _call(kpis.equality_breakdown, scope)


def deprivation_split(scope: kpis.Scope) -> pd.DataFrame:
    """Participation in the most deprived wards against the rest (empty without IMD)."""
    return _call(kpis.deprivation_split, scope)


BREAKDOWNS: dict[str, Callable[..., pd.DataFrame]] = {
    f.__name__: f for f in (kpis.budget_by_mechanism, kpis.engagement_by_method_stage,
                        kpis.partnerships_by_type, kpis.partnerships_by_arrangement)
}


def breakdown(name: str, scope: kpis.Scope) -> pd.DataFrame:
    """One of the directorate page breakdowns (budget, engagement, partnerships)."""
    return _call(BREAKDOWNS[name], scope)


def like_for_like(scope: kpis.Scope) -> pd.DataFrame:
    """Each KPI for a ward or neighbourhood beside 'all wards' (same scope rule), the
    borough-wide part and the council."""
    return _call(kpis.like_for_like, scope)


def equality_coverage(scope: kpis.Scope) -> pd.DataFrame:
    """Which dimensions the engagement equality index covers in `scope`, and why not the others."""
    return _call(kpis.equality_coverage, scope)


def kpi_completeness(scope: kpis.Scope) -> dict[str, Any]:
    """For each KPI, whether the returns it needs in `scope` are in (kpis.Completeness)."""
    return _call(kpis.kpi_completeness, scope)


def completeness_table(quarter: str, by: str) -> pd.DataFrame:
    """Completeness of each kpi_table / league row: one row per group x KPI."""
    return _call(kpis.completeness_table, quarter, by)


def reporting_status(today: dt.date | None = None) -> Any:
    """The current reporting quarter, overdue returns and the age of the figures (with words)."""
    return _call(kpis.reporting_status, today or dt.date.today())


# ---------------------------------------------------------------------------------------------
# Reference look-ups, the submission log, deadlines and commentary


def wards(quarter: str | None = None) -> pd.DataFrame:
    """ward_code, ward_name, neighbourhood, population_total, imd_decile: the wards of the
    quarter's ward set (docs/ward-vintages.md; None: the newest set)."""
    return _call(queries.wards, quarter)


def ward_sets() -> pd.DataFrame:
    """Every ward set, oldest first (etl.queries.ward_sets)."""
    return _call(queries.ward_sets)


def ward_notices(quarter: str, ward_code: str) -> list[str]:
    """What to say about a ward of the quarter's set when wards have been redrawn: that it was
    replaced (and by which ward), or whom it replaced; empty when nothing changed."""
    return _call(_ward_notices, quarter, ward_code)


def directorates() -> list[str]:
    """Directorate names in display spelling."""
    return _call(_directorates)


def visible_directorates(actor: access.Actor | None) -> list[str]:
    """Directorates whose submissions the actor may see (a lead's own; all for viewer and admin)."""
    return _call(_visible, actor)


def geojson(quarter: str | None = None) -> dict[str, Any]:
    """The boundaries of the quarter's ward set (None: the newest) as one FeatureCollection keyed
    by properties.ward_code."""
    return _call(_geojson, quarter)


def returns_tracker(quarter: str, directorates: Sequence[str] | None = None,
                today: dt.date | None = None) -> pd.DataFrame:
    """Every directorate (or those given) x return type for a quarter: received when and from whom
    (NaT = not yet), status received / missing / overdue against the quarter's deadline."""
    chosen = None if directorates is None else tuple(directorates)
    return _call(queries.returns_tracker, quarter, today or dt.date.today(), chosen)


def last_updated() -> pd.Timestamp | None:
    """Time of the latest accepted submission (returns or reference), or None."""
    return _call(queries.last_accepted_at)


def commentary(quarter: str, directorate: str) -> dict[str, Any] | None:
    """The newest commentary for a directorate and quarter (body, who, when), or None."""
    return _call(queries.latest_commentary, directorate, quarter)


def submission_history(directorates: Sequence[str] | None = None) -> pd.DataFrame:
    """Every return submission for some directorates (None = all), newest first, with its state."""
    return _call(queries.submission_history, None if directorates is None else tuple(directorates))


def reference_history() -> pd.DataFrame:
    """Every reference-data load, newest first."""
    return _call(queries.reference_history)


def archived_file(submission_id: int) -> tuple[str, bytes] | None:
    """(file name, original bytes) of a submission; not cached (files can be large)."""
    with reader().cursor() as cur:
        return queries.archived_file(cur, submission_id)


def audit_log() -> pd.DataFrame:
    """The audit log of every write, newest first."""
    return _call(queries.audit_log)


def deadlines() -> pd.DataFrame:
    """Deadline per quarter: quarter, due_date."""
    return _call(queries.deadlines)


def deadline_of(quarter: str) -> dt.date | None:
    """The deadline set for a quarter, if any."""
    return _call(queries.deadline_of, quarter)


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


def council_name() -> str:
    """The council's name for headings and the ward pack: env LOCALISM_COUNCIL_NAME, else a
    neutral 'The council' (the demo's is fictional)."""
    import os

    from accounts import settings

    name = os.environ.get("LOCALISM_COUNCIL_NAME", "").strip()
    if name:
        return name
    return "Demo Borough Council (fictional)" if settings.demo_mode() else "The council"


def kpi_meta() -> list[KpiMeta]:
    """Each KPI's name, title and unit in the contract's order."""
    return [KpiMeta(k.name, k.title, k.unit) for k in KPIS]


def league_history(quarters: tuple[str, ...]) -> pd.DataFrame:
    """kpi_table(by=directorate) for several quarters, stacked (for the league's small trends)."""
    return _call(kpis.kpi_tables, tuple(quarters), "directorate") if quarters else pd.DataFrame()
