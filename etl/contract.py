"""The fixed parts of the data contract (../shared/spec/DATA-CONTRACT.md) as Python constants.

Everything else (schemas, templates, the data dictionary, SQL parameters) is derived from these
names, so a column or enum value is spelt once.
"""

from __future__ import annotations

RETURN_TYPES: tuple[str, ...] = ("budget", "engagement", "partnerships")
REFERENCE_KINDS: tuple[str, ...] = ("wards", "directorates", "targets", "boundaries")

RETURN_TITLES: dict[str, str] = {
    "budget": "Devolved budget return",
    "engagement": "Engagement activity return",
    "partnerships": "Partnership register",
}

MECHANISMS: tuple[str, ...] = (
    "participatory_budgeting",
    "community_grants",
    "ward_councillor_fund",
    "parish_town_council",
    "community_asset_transfer",
    "vcse_commissioning",
)
METHODS: tuple[str, ...] = (
    "survey",
    "public_meeting",
    "workshop",
    "codesign",
    "participatory_budgeting_vote",
    "citizens_assembly",
    "online_platform",
    "other",
)
STAGES: tuple[str, ...] = ("priority_setting", "options", "decision", "implementation", "review")
PARTNER_TYPES: tuple[str, ...] = (
    "vcse",
    "parish_town_council",
    "community_business",
    "faith_group",
    "residents_association",
    "big_local",
    "other",
)
ARRANGEMENTS: tuple[str, ...] = (
    "community_asset_transfer",
    "service_delivery",
    "coproduction",
    "grant_funding",
    "neighbourhood_governance",
    "other",
)
DIRECTIONS: tuple[str, ...] = ("higher_is_better", "lower_is_better")

# How an enum value is shown to people; the loader accepts these spellings as input too.
_LABEL_WORDS: dict[str, str] = {"vcse": "VCSE", "codesign": "co-design"}


def label(code: str) -> str:
    """An enum code as words: 'participatory_budgeting' -> 'Participatory budgeting', 'codesign' -> 'Co-design'."""
    words = " ".join(_LABEL_WORDS.get(w, w) for w in str(code).split("_"))
    return words[:1].upper() + words[1:]

# Demographic dimensions of the engagement return; each group has a population column `pop_<group>`.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "age": ("age_16_24", "age_25_44", "age_45_64", "age_65_plus"),
    "sex": ("female", "male"),
    "ethnicity": (
        "ethnicity_white",
        "ethnicity_asian",
        "ethnicity_black",
        "ethnicity_mixed",
        "ethnicity_other",
    ),
    "disability": ("disabled", "not_disabled"),
}
DEMOGRAPHIC_COLUMNS: tuple[str, ...] = tuple(g for groups in DIMENSIONS.values() for g in groups)
POPULATION_COLUMNS: tuple[str, ...] = tuple(f"pop_{g}" for g in DEMOGRAPHIC_COLUMNS)

GROUP_LABELS: dict[str, str] = {
    "age_16_24": "Aged 16-24",
    "age_25_44": "Aged 25-44",
    "age_45_64": "Aged 45-64",
    "age_65_plus": "Aged 65+",
    "female": "Female",
    "male": "Male",
    "ethnicity_white": "White",
    "ethnicity_asian": "Asian",
    "ethnicity_black": "Black",
    "ethnicity_mixed": "Mixed",
    "ethnicity_other": "Other ethnic group",
    "disabled": "Disabled",
    "not_disabled": "Not disabled",
}

# Column order of each return as the contract lists it (the template order too).
RETURN_COLUMNS: dict[str, tuple[str, ...]] = {
    "budget": (
        "directorate",
        "quarter",
        "budget_line",
        "ward_code",
        "total_budget_gbp",
        "devolved_gbp",
        "mechanism",
    ),
    "engagement": (
        "directorate",
        "quarter",
        "activity_id",
        "activity_date",
        "ward_code",
        "method",
        "stage",
        "participants_total",
        *DEMOGRAPHIC_COLUMNS,
        "feedback_published",
    ),
    "partnerships": (
        "directorate",
        "quarter",
        "partnership_id",
        "partner_name",
        "partner_type",
        "arrangement",
        "ward_code",
        "start_date",
        "end_date",
        "annual_value_gbp",
        "lease_years",
    ),
}
# Columns that may be left out of a file's header (their rule starts with 'optional' in the
# contract); every other column must be in the header, even where its cells may be blank.
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {
    "budget": frozenset({"ward_code"}),
    "engagement": frozenset({"ward_code"}),
    "partnerships": frozenset({"ward_code", "end_date", "annual_value_gbp"}),
}

WARD_COLUMNS: tuple[str, ...] = (
    "ward_code",
    "ward_name",
    "neighbourhood",
    "population_total",
    *POPULATION_COLUMNS,
    "imd_decile",
)
DIRECTORATE_COLUMNS: tuple[str, ...] = ("directorate", "short_name")
TARGET_COLUMNS: tuple[str, ...] = ("kpi", "directorate", "financial_year", "target", "direction")
REFERENCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "wards": WARD_COLUMNS,
    "directorates": DIRECTORATE_COLUMNS,
    "targets": TARGET_COLUMNS,
}
REFERENCE_OPTIONAL: dict[str, frozenset[str]] = {
    "wards": frozenset({"imd_decile"}),
    "directorates": frozenset({"short_name"}),
    "targets": frozenset({"directorate"}),
}

# KPIs in the contract's order (the column order of `kpis table`).
KPI_NAMES: tuple[str, ...] = (
    "devolved_budget_share",
    "pb_share",
    "participation_per_1000",
    "engagement_equality_index",
    "early_engagement_share",
    "feedback_rate",
    "active_partnerships",
    "new_partnerships",
    "cat_long_lease_share",
)
