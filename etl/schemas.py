"""One pandera DataFrameModel per return and per reference file: the single source of truth.

Each field's `metadata` says how the loader reads the cell (`kind`), whether the column may be
left out of the header, and an example; templates, the data dictionary and error messages are
generated from these classes. Frames validated here are already normalised (see etl.normalise):
money as floats in pounds, dates as datetimes, wards as codes, enums in canonical spelling.

Checks that need the submission (the declared directorate and quarter) or the reference data
(ward codes, directorates) read them from `CONTEXT`, set by `etl.validate` for one validation.
Every check's `error` is 'column|plain-English reason', which `etl.validate` turns into a problem.
"""

from __future__ import annotations

import contextvars
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from etl import contract as c
from etl.quarters import quarter_bounds

# ---------------------------------------------------------------------------------------------
# Validation context


@dataclass(frozen=True)
class Context:
    """What a check needs beyond the frame: the submission's declared keys and the reference."""

    directorate: str | None = None
    quarter: str | None = None
    ward_codes: frozenset[str] = field(default_factory=frozenset)
    directorates: frozenset[str] = field(default_factory=frozenset)


CONTEXT: contextvars.ContextVar[Context] = contextvars.ContextVar("context", default=Context())  # noqa: B039 - frozen


def _ctx() -> Context:
    return CONTEXT.get()


def col(
    kind: str,
    description: str,
    *,
    example: str = "",
    optional: bool = False,
    nullable: bool = False,
    **checks: Any,
) -> Any:
    """A pandera Field carrying how the loader reads the column and what it means."""
    return pa.Field(
        nullable=nullable or optional,
        description=description,
        metadata={"kind": kind, "optional": optional, "example": example},
        **checks,
    )


def _quarter_dates(quarters: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each row's quarter's first and last day (NaT where the quarter is blank), worked out once
    per distinct quarter."""
    codes, distinct = pd.factorize(quarters)  # a blank quarter is code -1: the NaT at the end
    bounds = [quarter_bounds(q) for q in distinct]

    def spread(i: int) -> pd.Series:
        days = np.array([b[i] for b in bounds] + [None], dtype="datetime64[s]")
        return pd.Series(days[codes], index=quarters.index)

    return spread(0), spread(1)


def _either_missing(*series: pd.Series) -> pd.Series:
    out = series[0].isna()
    for s in series[1:]:
        out = out | s.isna()
    return out


# ---------------------------------------------------------------------------------------------
# The three returns


class _ReturnBase(pa.DataFrameModel):
    directorate: Series[str] = col(
        "directorate", "The directorate sending the return (name or short name).", example="Adults and Health"
    )
    quarter: Series[str] = col(
        "quarter", "Financial-year quarter of the return, like 2025-26 Q2.", example="2025-26 Q2"
    )

    class Config:
        strict = True
        coerce = True

    @pa.check("directorate", error="directorate|does not match the directorate this file is sent for")
    def _declared_directorate(cls, s: Series[str]) -> Series[bool]:
        want = _ctx().directorate
        return s.isna() | (s == want) if want else s.notna() | s.isna()

    @pa.check("quarter", error="quarter|does not match the quarter this file is sent for")
    def _declared_quarter(cls, s: Series[str]) -> Series[bool]:
        want = _ctx().quarter
        return s.isna() | (s == want) if want else s.notna() | s.isna()


def _ward_known(s: pd.Series) -> pd.Series:
    codes = _ctx().ward_codes
    return s.isna() | s.isin(codes) if codes else s.isna() | s.notna()


class BudgetReturn(_ReturnBase):
    """Devolved budget return: one row per budget line (optionally per ward) per quarter."""

    budget_line: Series[str] = col(
        "text", "Name of the budget line.", example="Community grants pot", str_length={"min_value": 1, "max_value": 200}
    )
    ward_code: Series[str] = col(
        "ward", "Ward code (E05...) or ward name; blank means borough-wide.", example="", optional=True
    )
    total_budget_gbp: Series[float] = col(
        "money", "Total budget of the line in pounds.", example="250000", ge=0
    )
    devolved_gbp: Series[float] = col(
        "money", "Part of the total whose spending communities decide, in pounds.", example="40000", ge=0
    )
    mechanism: Series[str] = col(
        "mechanism",
        "How the devolved money is decided: required when devolved_gbp > 0; blank or none when 0.",
        example="participatory_budgeting",
        nullable=True,
        isin=list(c.MECHANISMS),
    )

    class Config:
        unique = ["budget_line", "ward_code"]

    @pa.check("ward_code", error="ward_code|is not a ward of this council")
    def _ward(cls, s: Series[str]) -> Series[bool]:
        return _ward_known(s)

    @pa.dataframe_check(error="devolved_gbp|must not be more than total_budget_gbp")
    def _devolved_le_total(cls, df: pd.DataFrame) -> Series[bool]:
        return _either_missing(df.devolved_gbp, df.total_budget_gbp) | (df.devolved_gbp <= df.total_budget_gbp)

    @pa.dataframe_check(error="mechanism|is required when devolved_gbp is more than 0")
    def _mechanism_when_devolved(cls, df: pd.DataFrame) -> Series[bool]:
        return df.devolved_gbp.isna() | (df.devolved_gbp <= 0) | df.mechanism.notna()

    @pa.dataframe_check(error="mechanism|must be blank (or none) when devolved_gbp is 0")
    def _no_mechanism_when_nothing_devolved(cls, df: pd.DataFrame) -> Series[bool]:
        return df.devolved_gbp.isna() | (df.devolved_gbp > 0) | df.mechanism.isna()


def _count(description: str) -> Any:
    return col("count", description, example="0", ge=0)


class EngagementReturn(_ReturnBase):
    """Engagement activity return: one row per activity that took place in the quarter."""

    activity_id: Series[str] = col("text", "Your reference for the activity, unique in the file.", example="ENG-001", unique=True)
    activity_date: Series[pd.Timestamp] = col(
        "date", "Date of the activity, inside the quarter (2025-07-31 or 31/07/2025).", example="2025-07-31"
    )
    ward_code: Series[str] = col(
        "ward", "Ward code (E05...) or ward name; blank means borough-wide.", example="", optional=True
    )
    method: Series[str] = col("method", "How people were engaged.", example="workshop", isin=list(c.METHODS))
    stage: Series[str] = col("stage", "Stage of the decision when people were engaged.", example="priority_setting", isin=list(c.STAGES))
    participants_total: Series[pd.Int64Dtype] = col("int", "Number of people who took part.", example="25", ge=0)
    age_16_24: Series[pd.Int64Dtype] = _count("Participants aged 16-24 (blank = 0).")
    age_25_44: Series[pd.Int64Dtype] = _count("Participants aged 25-44 (blank = 0).")
    age_45_64: Series[pd.Int64Dtype] = _count("Participants aged 45-64 (blank = 0).")
    age_65_plus: Series[pd.Int64Dtype] = _count("Participants aged 65 or over (blank = 0).")
    female: Series[pd.Int64Dtype] = _count("Female participants (blank = 0).")
    male: Series[pd.Int64Dtype] = _count("Male participants (blank = 0).")
    ethnicity_white: Series[pd.Int64Dtype] = _count("Participants of White ethnicity (blank = 0).")
    ethnicity_asian: Series[pd.Int64Dtype] = _count("Participants of Asian ethnicity (blank = 0).")
    ethnicity_black: Series[pd.Int64Dtype] = _count("Participants of Black ethnicity (blank = 0).")
    ethnicity_mixed: Series[pd.Int64Dtype] = _count("Participants of Mixed ethnicity (blank = 0).")
    ethnicity_other: Series[pd.Int64Dtype] = _count("Participants of another ethnic group (blank = 0).")
    disabled: Series[pd.Int64Dtype] = _count("Disabled participants (blank = 0).")
    not_disabled: Series[pd.Int64Dtype] = _count("Participants who are not disabled (blank = 0).")
    feedback_published: Series[pd.BooleanDtype] = col(
        "bool", "Did the council publish how the input was used ('you said, we did')? yes/no.", example="yes"
    )

    @pa.check("ward_code", error="ward_code|is not a ward of this council")
    def _ward(cls, s: Series[str]) -> Series[bool]:
        return _ward_known(s)

    @pa.dataframe_check(error="activity_date|is not inside the quarter")
    def _date_in_quarter(cls, df: pd.DataFrame) -> Series[bool]:
        start, end = _quarter_dates(df.quarter)
        return _either_missing(df.activity_date, start) | ((df.activity_date >= start) & (df.activity_date <= end))

    @pa.dataframe_check(error="age_16_24|the age groups add up to more than participants_total")
    def _age_sum(cls, df: pd.DataFrame) -> Series[bool]:
        return _dimension_fits(df, "age")

    @pa.dataframe_check(error="female|female + male add up to more than participants_total")
    def _sex_sum(cls, df: pd.DataFrame) -> Series[bool]:
        return _dimension_fits(df, "sex")

    @pa.dataframe_check(error="ethnicity_white|the ethnicity groups add up to more than participants_total")
    def _ethnicity_sum(cls, df: pd.DataFrame) -> Series[bool]:
        return _dimension_fits(df, "ethnicity")

    @pa.dataframe_check(error="disabled|disabled + not_disabled add up to more than participants_total")
    def _disability_sum(cls, df: pd.DataFrame) -> Series[bool]:
        return _dimension_fits(df, "disability")


def _dimension_fits(df: pd.DataFrame, dimension: str) -> pd.Series:
    # the groups' sum, unknown where no group is given, column by column (a row-wise
    # `sum(axis=1, min_count=1)` over nullable columns: 0.34 s for the four dimensions at 1M rows,
    # against 0.11 s)
    groups = [df[name] for name in c.DIMENSIONS[dimension]]
    total, given = groups[0].fillna(0), groups[0].notna()
    for group in groups[1:]:
        total, given = total + group.fillna(0), given | group.notna()
    total = total.where(given)
    # A negative participants_total is reported on its own; comparing groups with it adds noise.
    unknowable = _either_missing(total, df.participants_total) | (df.participants_total < 0)
    return (unknowable | (total <= df.participants_total)).fillna(True).astype(bool)


class PartnershipsReturn(_ReturnBase):
    """Partnership register: every partnership active at any time in the quarter, sent in full."""

    partnership_id: Series[str] = col("text", "Your stable reference for the partnership, unique in the file.", example="P-014", unique=True)
    partner_name: Series[str] = col("text", "Name of the partner organisation.", example="Northside Community Trust", str_length={"min_value": 1})
    partner_type: Series[str] = col("partner_type", "Kind of partner.", example="vcse", isin=list(c.PARTNER_TYPES))
    arrangement: Series[str] = col("arrangement", "Kind of arrangement.", example="coproduction", isin=list(c.ARRANGEMENTS))
    ward_code: Series[str] = col(
        "ward", "Ward code (E05...) or ward name; blank means borough-wide.", example="", optional=True
    )
    start_date: Series[pd.Timestamp] = col("date", "When the partnership started (on or before the quarter's last day).", example="2023-04-01")
    end_date: Series[pd.Timestamp] = col(
        "date", "When it ended or will end; blank if open-ended.", example="", optional=True
    )
    annual_value_gbp: Series[float] = col(
        "money", "Annual value of the arrangement in pounds.", example="15000", optional=True, ge=0
    )
    lease_years: Series[pd.Int64Dtype] = col(
        "int",
        "Length of the lease in years: required (at least 1) for a community asset transfer, blank otherwise.",
        example="",
        nullable=True,
    )

    @pa.check("ward_code", error="ward_code|is not a ward of this council")
    def _ward(cls, s: Series[str]) -> Series[bool]:
        return _ward_known(s)

    @pa.dataframe_check(error="start_date|is after the last day of the quarter")
    def _started_by_quarter_end(cls, df: pd.DataFrame) -> Series[bool]:
        _, end = _quarter_dates(df.quarter)
        return _either_missing(df.start_date, end) | (df.start_date <= end)

    @pa.dataframe_check(error="end_date|is before start_date")
    def _end_after_start(cls, df: pd.DataFrame) -> Series[bool]:
        return _either_missing(df.end_date, df.start_date) | (df.end_date >= df.start_date)

    @pa.dataframe_check(error="end_date|is before the first day of the quarter, so the partnership was not active in it")
    def _active_in_quarter(cls, df: pd.DataFrame) -> Series[bool]:
        start, _ = _quarter_dates(df.quarter)
        return _either_missing(df.end_date, start) | (df.end_date >= start)

    @pa.dataframe_check(error="lease_years|is required (1 or more) for a community_asset_transfer")
    def _lease_for_transfer(cls, df: pd.DataFrame) -> Series[bool]:
        cat = df.arrangement == "community_asset_transfer"
        return ~cat.fillna(False) | (df.lease_years.notna() & (df.lease_years >= 1)).fillna(False)

    @pa.dataframe_check(error="lease_years|must be blank unless the arrangement is community_asset_transfer")
    def _no_lease_otherwise(cls, df: pd.DataFrame) -> Series[bool]:
        other = df.arrangement.notna() & (df.arrangement != "community_asset_transfer")
        return ~other.fillna(False) | df.lease_years.isna()


RETURN_MODELS: dict[str, type[_ReturnBase]] = {
    "budget": BudgetReturn,
    "engagement": EngagementReturn,
    "partnerships": PartnershipsReturn,
}

# ---------------------------------------------------------------------------------------------
# Reference data


class WardsReference(pa.DataFrameModel):
    """Wards: one row per ward, with census-style population counts.

    A blank pop_ count means 'not known' (no census figure for that dimension), stored as NULL,
    never 0: the equality index leaves that dimension out for the ward (contract, 'wards').
    """

    ward_code: Series[str] = col("text", "ONS ward code, E05 and six digits.", example="E05900001", unique=True, str_matches=r"^E05\d{6}$")
    ward_name: Series[str] = col("text", "Ward name.", example="Castle Quay", unique=True)
    neighbourhood: Series[str] = col("text", "Neighbourhood the ward belongs to.", example="North")
    population_total: Series[pd.Int64Dtype] = col("int", "Usual residents, all ages.", example="11250", ge=0)
    pop_age_16_24: Series[pd.Int64Dtype] = col("int", "Residents aged 16-24 (blank = not known).", example="1300", ge=0, nullable=True)
    pop_age_25_44: Series[pd.Int64Dtype] = col("int", "Residents aged 25-44 (blank = not known).", example="3000", ge=0, nullable=True)
    pop_age_45_64: Series[pd.Int64Dtype] = col("int", "Residents aged 45-64 (blank = not known).", example="2800", ge=0, nullable=True)
    pop_age_65_plus: Series[pd.Int64Dtype] = col("int", "Residents aged 65 or over (blank = not known).", example="2000", ge=0, nullable=True)
    pop_female: Series[pd.Int64Dtype] = col("int", "Female residents (blank = not known).", example="5700", ge=0, nullable=True)
    pop_male: Series[pd.Int64Dtype] = col("int", "Male residents (blank = not known).", example="5550", ge=0, nullable=True)
    pop_ethnicity_white: Series[pd.Int64Dtype] = col("int", "Residents of White ethnicity (blank = not known).", example="9000", ge=0, nullable=True)
    pop_ethnicity_asian: Series[pd.Int64Dtype] = col("int", "Residents of Asian ethnicity (blank = not known).", example="1200", ge=0, nullable=True)
    pop_ethnicity_black: Series[pd.Int64Dtype] = col("int", "Residents of Black ethnicity (blank = not known).", example="500", ge=0, nullable=True)
    pop_ethnicity_mixed: Series[pd.Int64Dtype] = col("int", "Residents of Mixed ethnicity (blank = not known).", example="350", ge=0, nullable=True)
    pop_ethnicity_other: Series[pd.Int64Dtype] = col("int", "Residents of another ethnic group (blank = not known).", example="200", ge=0, nullable=True)
    pop_disabled: Series[pd.Int64Dtype] = col("int", "Disabled residents (blank = not known).", example="2100", ge=0, nullable=True)
    pop_not_disabled: Series[pd.Int64Dtype] = col("int", "Residents who are not disabled (blank = not known).", example="9150", ge=0, nullable=True)
    imd_decile: Series[pd.Int64Dtype] = col(
        "int", "IMD 2019 decile (1 = most deprived 10%).", example="3", optional=True, in_range={"min_value": 1, "max_value": 10}
    )

    class Config:
        strict = True
        coerce = True

    @pa.dataframe_check(error="population_total|a group of population columns adds up to more than population_total")
    def _groups_fit(cls, df: pd.DataFrame) -> Series[bool]:
        ok = pd.Series(True, index=df.index)
        for groups in c.DIMENSIONS.values():
            total = df[[f"pop_{g}" for g in groups]].sum(axis=1)
            ok &= df.population_total.isna() | (total <= df.population_total)
        return ok

    @pa.check("ward_name", error="ward_name|is the same ward name as another row (ignoring case and spaces)")
    def _names_unique(cls, s: Series[str]) -> Series[bool]:
        # Returns name wards case- and space-insensitively, so ward names must differ that way too.
        return ~s.str.split().str.join(" ").str.lower().duplicated(keep=False).fillna(False)


class DirectoratesReference(pa.DataFrameModel):
    """Directorates of the council."""

    directorate: Series[str] = col("text", "Directorate name, as it should be displayed.", example="Adults and Health", unique=True)
    short_name: Series[str] = col("text", "Short name also accepted in returns.", example="ADH", optional=True)

    class Config:
        strict = True
        coerce = True

    @pa.dataframe_check(error="short_name|is already another directorate's name or short name")
    def _names_distinct(cls, df: pd.DataFrame) -> Series[bool]:
        # Returns name a directorate by name or short name; each spelling must mean one directorate,
        # or a lead's file could land in another directorate's figures.
        def key(s: pd.Series) -> pd.Series:
            return s.str.split().str.join(" ").str.lower()

        names, shorts = key(df.directorate), key(df.short_name)
        counts = pd.concat([names, shorts.dropna()]).value_counts()
        own = (shorts == names).fillna(False).astype(int)  # 'ADH' as its own name is no clash
        clash = shorts.map(counts).fillna(0) > 1 + own  # anyone else's name or short name
        return (shorts.isna() | ~clash.fillna(False)).astype(bool)

    @pa.check("directorate", error="directorate|is the same name as another row (ignoring case and spaces)")
    def _names_unique(cls, s: Series[str]) -> Series[bool]:
        return ~s.str.split().str.join(" ").str.lower().duplicated(keep=False).fillna(False)


_SHARE_KPIS = {
    "devolved_budget_share",
    "pb_share",
    "engagement_equality_index",
    "early_engagement_share",
    "feedback_rate",
    "cat_long_lease_share",
}


class TargetsReference(pa.DataFrameModel):
    """Targets per KPI, financial year and directorate (blank = whole council)."""

    kpi: Series[str] = col("kpi", "KPI name as in the data contract.", example="devolved_budget_share", isin=list(c.KPI_NAMES))
    directorate: Series[str] = col("directorate", "Directorate; blank means the whole council.", example="", optional=True)
    financial_year: Series[str] = col("financial_year", "Financial year, like 2025-26.", example="2025-26")
    target: Series[float] = col("decimal", "Target value; shares as fractions (0.25 = 25%).", example="0.1")
    direction: Series[str] = col("direction", "higher_is_better or lower_is_better.", example="higher_is_better", isin=list(c.DIRECTIONS))

    class Config:
        strict = True
        coerce = True
        unique = ["kpi", "directorate", "financial_year"]

    @pa.check("financial_year", error="financial_year|is not a financial year like 2025-26")
    def _fy(cls, s: Series[str]) -> Series[bool]:
        def ok(v: str) -> bool:
            m = re.fullmatch(r"(\d{4})-(\d{2})", v)
            return bool(m) and (int(m.group(1)) + 1) % 100 == int(m.group(2))

        return s.map(lambda v: ok(v) if isinstance(v, str) else True).astype(bool)  # blank: checked elsewhere

    @pa.dataframe_check(error="target|is a share, so it must be a fraction between 0 and 1 (0.25 = 25%)")
    def _share_fraction(cls, df: pd.DataFrame) -> Series[bool]:
        share = df.kpi.isin(_SHARE_KPIS)
        return ~share | df.target.isna() | ((df.target >= 0) & (df.target <= 1))

    @pa.check("target", error="target|must not be negative")
    def _non_negative(cls, s: Series[float]) -> Series[bool]:
        return s.isna() | (s >= 0)


REFERENCE_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "wards": WardsReference,
    "directorates": DirectoratesReference,
    "targets": TargetsReference,
}


def columns_of(model: type[pa.DataFrameModel]) -> list[tuple[str, dict[str, Any], str]]:
    """(column, metadata, description) of a model, in declaration order."""
    schema = model.to_schema()
    return [
        (name, dict(column.metadata or {}), column.description or "")
        for name, column in schema.columns.items()
    ]
