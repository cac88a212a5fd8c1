"""Plausibility warnings: figures that pass every rule of the contract but are hard to believe.

They never reject a return. A return with warnings is stored only once the person sending it has
seen them and confirmed the figures (the app's tick box, the CLI's --accept-warnings); the
warnings are then kept with the submission. Two kinds:

* physically implausible: more people took part in a ward's activities in one quarter than live
  there (participation above 1,000 per 1,000 residents), or more than live in the whole council;
* far outside the directorate's own history: a total at least `HISTORY_FACTOR` times (or at most
  1/`HISTORY_FACTOR` of) the median of the directorate's last `HISTORY_QUARTERS` accepted returns.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

import duckdb
import pandas as pd

from etl import warehouse
from etl.quarters import shift_quarter

HISTORY_FACTOR = 100  # "a budget 100 times last quarter's": far outside, not merely a good quarter
HISTORY_QUARTERS = 4
PER_1000_LIMIT = 1000  # participants per 1,000 residents: above it, more took part than live there

# Totals compared with the directorate's history, per return: column -> words for a person.
HISTORY_TOTALS: dict[str, dict[str, str]] = {
    "budget": {"total_budget_gbp": "total budget", "devolved_gbp": "devolved budget"},
    "engagement": {"participants_total": "number of participants"},
    "partnerships": {"annual_value_gbp": "annual value of partnerships"},
}
_MONEY = {"total_budget_gbp", "devolved_gbp", "annual_value_gbp"}


def _amount(column: str, value: float) -> str:
    return f"£{value:,.0f}" if column in _MONEY else f"{value:,.0f}"


def participation_warnings(
    frame: pd.DataFrame, populations: Mapping[str, tuple[str, int]], council_population: int
) -> list[str]:
    """More participants than residents, per ward and for the whole return (pure)."""
    out: list[str] = []
    taking_part = frame["participants_total"]  # the two columns only: a big return is not copied whole
    # grouped as they are (a blank ward is no group, a blank count adds nothing): masking a
    # million rows first cost 0.4 s
    by_ward = taking_part.groupby(frame["ward_code"], dropna=True).sum()
    for code, people in by_ward.items():
        name, residents = populations.get(str(code), (str(code), 0))
        if residents and people * 1000 / residents > PER_1000_LIMIT:
            out.append(
                f"{name} ({code}): {int(people):,} participants this quarter but {residents:,} residents "
                f"({people * 1000 / residents:,.1f} per 1,000 residents, above {PER_1000_LIMIT:,}). "
                "Check participants_total: is a figure repeated or a total entered on every row?"
            )
    total = int(taking_part.sum())
    if council_population and total > council_population:
        out.append(
            f"{total:,} participants in all, more than the council's {council_population:,} residents "
            f"({total * 1000 / council_population:,.1f} per 1,000). Check participants_total."
        )
    return out


def history_warnings(return_type: str, totals: Mapping[str, float], past: Mapping[str, Sequence[float]]) -> list[str]:
    """Totals far above or below the median of the directorate's recent accepted returns (pure)."""
    out: list[str] = []
    for column, words in HISTORY_TOTALS.get(return_type, {}).items():
        history = [v for v in past.get(column, ()) if v is not None and v > 0]
        value = totals.get(column)
        if not history or value is None or pd.isna(value):
            continue
        typical = statistics.median(history)
        if value >= typical * HISTORY_FACTOR or (value > 0 and value * HISTORY_FACTOR <= typical):
            ratio = value / typical
            how = f"{ratio:,.0f} times" if ratio >= 1 else f"1/{1 / ratio:,.0f} of"
            out.append(
                f"The {words} is {_amount(column, value)}, {how} the usual {_amount(column, typical)} "
                f"(median of the last {len(history)} accepted return{'s' if len(history) != 1 else ''}). "
                "Check for a slip in the units (pounds, not thousands or pence) or an extra digit."
            )
    return out


def _past_totals(con: duckdb.DuckDBPyConnection, return_type: str, directorate: str, quarter: str) -> dict[str, list[float]]:
    columns = list(HISTORY_TOTALS.get(return_type, {}))
    if not columns:
        return {}
    earlier = [shift_quarter(quarter, -k) for k in range(1, HISTORY_QUARTERS + 1)]
    table = warehouse.ROW_TABLES[return_type]
    sums = ", ".join(f"sum(r.{col})" for col in columns)  # fixed column names, never user text
    rows = con.execute(
        f"SELECT s.quarter, {sums} FROM {table} r JOIN current_submissions s USING (submission_id) "  # noqa: S608
        f"WHERE s.directorate = ? AND s.quarter IN ({', '.join('?' for _ in earlier)}) GROUP BY s.quarter",
        [directorate, *earlier],
    ).fetchall()
    return {col: [float(r[i + 1]) for r in rows if r[i + 1] is not None] for i, col in enumerate(columns)}


def warnings_for(
    con: duckdb.DuckDBPyConnection, return_type: str, directorate: str, quarter: str, frame: pd.DataFrame
) -> list[str]:
    """Every plausibility warning for a validated return about to be stored."""
    out: list[str] = []
    if return_type == "engagement" and not frame.empty:
        wards = con.execute(  # the wards of the quarter's ward set (docs/ward-vintages.md)
            "SELECT ward_code, ward_name, population_total FROM ward_history "
            "WHERE ? >= span_from AND (span_until IS NULL OR ? < span_until)", [quarter, quarter]).fetchall()
        populations = {code: (name, int(pop or 0)) for code, name, pop in wards}
        out += participation_warnings(frame, populations, sum(p for _, p in populations.values()))
    totals = {col: float(frame[col].sum()) for col in HISTORY_TOTALS.get(return_type, {}) if col in frame}
    out += history_warnings(return_type, totals, _past_totals(con, return_type, directorate, quarter))
    return out
