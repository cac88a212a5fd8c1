"""How every KPI is defined, written once: the engine, the dashboard and docs/methodology.md read it.

`render_markdown()` produces docs/methodology.md (a test checks the committed file is current);
regenerate it with `python -m kpis methodology > docs/methodology.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from etl.contract import DIMENSIONS, GROUP_LABELS, KPI_NAMES

# ---------------------------------------------------------------------------------------------
# Thresholds (bound into the SQL as parameters; change them here and nowhere else)

AMBER_TOLERANCE = 0.10
"""Amber when the value misses its target by at most this fraction of the target."""
UNDER_REPRESENTED_RATIO = 0.8
"""A group whose representation ratio r_g = p_g / q_g is below this is under-represented."""
LOW_BASE_MIN_KNOWN = 30
"""Fewer participants than this with a known group in a dimension: the shares are a 'low base'."""
COLD_SPOT_DIVISOR = 5
"""k = ceil(n / COLD_SPOT_DIVISOR): the bottom fifth of wards are cold spots."""
MOST_DEPRIVED_MAX_DECILE = 2
"""Wards in IMD deciles 1..this are 'most deprived'."""
LONG_LEASE_YEARS = 25
"""A community asset transfer lease of at least this many years counts as long."""
ROLLING_QUARTERS = 4
"""The rolling value is the KPI recomputed over this many quarters ending at the quarter."""
SMALL_NUMBER_THRESHOLD = 5
"""Demographic counts from 1 to this minus one are withheld wherever shown (kpis/disclosure.py)."""
PER_POPULATION = 1000
"""Participation is expressed per this many residents."""

ALL_WARDS_LABEL = "All wards"
"""The like-for-like comparator of a ward or neighbourhood: every ward's ward-attributed rows."""
BOROUGH_WIDE_LABEL = "Borough-wide (no ward)"
"""The part of a council figure from rows with no ward, which no ward or neighbourhood can have."""
LOW_BASE_NOTE = (
    f"Fewer than {LOW_BASE_MIN_KNOWN} participants with a known group (a low base): too few to "
    "judge; differences may be chance."
)
"""The words for a low base, wherever a page or pack shows one (the threshold is not retyped)."""
LONG_LEASE_LABEL = f"Asset transfers on leases of {LONG_LEASE_YEARS} years or more"
"""The label of the long-lease asset transfer count in breakdowns."""
MOST_DEPRIVED_LABEL = f"Most deprived (IMD decile 1-{MOST_DEPRIVED_MAX_DECILE})"
OTHER_WARDS_LABEL = "Other wards"

UNITS: dict[str, str] = {
    "share": "a fraction between 0 and 1 (shown as a percentage)",
    "rate": "a number per 1,000 residents",
    "count": "a whole number",
    "index": "a score between 0 and 1 (1 = best)",
}

DISPLAY_DECIMALS: dict[str, int] = {"share": 3, "rate": 1, "count": 0, "index": 2}
"""Decimals of the value as shown, per unit: a share 0.1234 shows as 12.3% (3 decimals of the
fraction), a rate as 22.4, a count whole, an index as 0.95."""


def display_round(value: float | int | None, unit: str) -> float | None:
    """The value as it is displayed: rounded half away from zero to DISPLAY_DECIMALS[unit].

    The one rounding rule: RAG statuses are decided on it and the dashboard's number formatting
    formats its result, so 'On target' never sits beside a figure that looks short of the target.
    None (undefined) stays None.
    """
    if value is None or value != value:  # None or NaN
        return None
    step = Decimal(1).scaleb(-DISPLAY_DECIMALS[unit])
    # repr() is the shortest text that reads back as the float: 0.125 rounds to 0.13, not 0.12
    return float(Decimal(repr(float(value))).quantize(step, rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------------------------------
# RAG


@dataclass(frozen=True)
class Status:
    """One RAG status: colour name, the words and the icon that always go with the colour."""

    status: str
    label: str
    icon: str
    meaning: str


STATUSES: dict[str, Status] = {
    s.status: s
    for s in (
        Status("green", "On target", "✔", "the target is met (or beaten)"),
        Status(
            "amber",
            f"Within {AMBER_TOLERANCE:.0%}",
            "▲",
            f"missed by no more than {AMBER_TOLERANCE:.0%} of the target",
        ),
        Status(
            "red", "Off target", "✖", f"missed by more than {AMBER_TOLERANCE:.0%} of the target"
        ),
        Status("grey", "No target", "○", "no target is set for this KPI and year"),
    )
}
NO_DATA = Status(
    "grey", "No data", "–", "the KPI is undefined in this scope (nothing to divide by)"
)
NOT_RECEIVED = Status(
    "grey", "Not received", "…", "the return this KPI is computed from has not been received"
)


# ---------------------------------------------------------------------------------------------
# Pillars and KPIs


@dataclass(frozen=True)
class Pillar:
    """One of the four pillars of localism (Locality, Power Partnerships, 2019)."""

    name: str
    title: str
    description: str


PILLARS: tuple[Pillar, ...] = (
    Pillar(
        "relationships",
        "Relationships",
        "Trust and partnership with communities; the council as facilitator of community "
        "expertise, engaging early and reporting back.",
    ),
    Pillar(
        "institutions",
        "Institutions",
        "Healthy local governance and participatory democracy, so that power 'sticks' to "
        "neighbourhoods and local forums hear new voices.",
    ),
    Pillar(
        "capacity",
        "Capacity",
        "Community infrastructure and opportunities to participate: people taking part, "
        "community ownership of assets.",
    ),
    Pillar(
        "powers",
        "Powers",
        "The levers and resources to take action locally. The report leaves most of this pillar "
        "to national government; the lever a council holds itself is money whose use "
        "communities decide.",
    ),
)
PILLAR_NAMES: tuple[str, ...] = tuple(p.name for p in PILLARS)


@dataclass(frozen=True)
class KpiDefinition:
    """One KPI: what it measures, how, in what unit, under which pillar and why."""

    name: str
    title: str
    definition: str
    formula: str
    unit: str  # share | rate | count | index
    pillar: str
    why: str
    sql_file: str
    direction: str = "higher_is_better"  # the natural polarity when no target says otherwise
    additive: bool = False  # the directorates' values add up to the council's (contract)

    @property
    def falls_back_to_council_target(self) -> bool:
        """Additive KPIs (the directorates' values sum to the council's) never take the council's
        target: each directorate's share of it would be an impossible bar. Shares, rates within a
        scope and the index do (contract, 'RAG against targets')."""
        return not self.additive

    @property
    def return_type(self) -> str:
        """The return this KPI is computed from (its completeness depends on that return only)."""
        return RETURN_OF_SQL_FILE[self.sql_file]


RETURN_OF_SQL_FILE: dict[str, str] = {
    "budget.sql": "budget",
    "engagement.sql": "engagement",
    "equality.sql": "engagement",
    "partnerships.sql": "partnerships",
}
"""KPI family (its SQL file) -> the return type its figures come from."""


KPIS: tuple[KpiDefinition, ...] = (
    KpiDefinition(
        name="devolved_budget_share",
        title="Devolved budget share",
        definition="Of the budget in the returns, the fraction whose use communities decide "
        "(participatory budgeting, community grants, ward councillor funds, parish and town "
        "councils, community asset transfer, VCSE commissioning).",
        formula="sum(devolved_gbp) / sum(total_budget_gbp)",
        unit="share",
        pillar="powers",
        why="The powers pillar asks for 'the levers and resources to take action locally'; a "
        "budget handed to communities is the most direct lever a council controls.",
        sql_file="budget.sql",
    ),
    KpiDefinition(
        name="pb_share",
        title="Participatory budgeting share",
        definition="Of the budget in the returns, the fraction allocated by participatory "
        "budgeting, where residents vote on how it is spent.",
        formula="sum(devolved_gbp where mechanism = participatory_budgeting) / sum(total_budget_gbp)",
        unit="share",
        pillar="institutions",
        why="Participatory budgeting is a standing democratic institution in which residents, "
        "not officers, decide; the report calls for participatory democracy embedded in local "
        "institutions so that power sticks to neighbourhoods.",
        sql_file="budget.sql",
    ),
    KpiDefinition(
        name="participation_per_1000",
        title="Participation per 1,000 residents",
        definition="People taking part in engagement activities, per 1,000 residents of the "
        "wards in scope. It counts attendances: one person at two events counts twice.",
        formula="1000 * sum(participants_total) / sum(population_total of the wards in scope)",
        unit="rate",
        pillar="capacity",
        why="Capacity for localism means 'opportunities to participate'; this measures how many "
        "were taken up, per head so that wards and neighbourhoods of any size compare, and it is "
        "the measure cold spots are found by.",
        sql_file="engagement.sql",
        additive=True,
    ),
    KpiDefinition(
        name="engagement_equality_index",
        title="Engagement equality index",
        definition="How closely the people who took part mirror the population they came from, "
        "by age, sex, ethnicity and disability: 1 when the mix is the same, 0 when nothing alike.",
        formula="mean over dimensions d with known participants of "
        "EEI_d = 1 - 0.5 * sum_g |p_g - q_g|",
        unit="index",
        pillar="institutions",
        why="The report asks local institutions to hear new voices and to address barriers to "
        "participation (income, ethnicity, age, disability) where engagement is weakest; this is "
        "the test of who is in the room.",
        sql_file="equality.sql",
    ),
    KpiDefinition(
        name="early_engagement_share",
        title="Early engagement share",
        definition="The fraction of engagement activities held at priority setting, or run as "
        "co-design, rather than consulting on options already chosen.",
        formula="count(activities with stage = priority_setting or method = codesign) / "
        "count(activities)",
        unit="share",
        pillar="relationships",
        why="Relationships for localism means co-creating the vision with communities instead of "
        "'we heard what you said, and we've got the solutions'; involving people before the "
        "options exist is the clearest sign of it.",
        sql_file="engagement.sql",
    ),
    KpiDefinition(
        name="feedback_rate",
        title="Feedback rate",
        definition="The fraction of engagement activities after which the council published how "
        "people's input was used ('you said, we did').",
        formula="count(activities with feedback_published) / count(activities)",
        unit="share",
        pillar="relationships",
        why="Trust is built when people see what became of what they said; engagement without "
        "feedback is what the report calls tokenistic, reinforcing a sense of powerlessness.",
        sql_file="engagement.sql",
    ),
    KpiDefinition(
        name="active_partnerships",
        title="Active partnerships",
        definition="Partnerships with community organisations (VCSE, parish and town councils, "
        "community businesses, faith groups, residents' associations, Big Local) on the "
        "directorates' registers for the quarter(s).",
        formula="count(distinct (directorate, partnership_id))",
        unit="count",
        pillar="relationships",
        why="The relationships pillar rests on partnership working with the VCSE and faith "
        "sectors, parishes and community businesses, as independent actors rather than agents "
        "of the council.",
        sql_file="partnerships.sql",
        additive=True,
    ),
    KpiDefinition(
        name="new_partnerships",
        title="New partnerships",
        definition="Of the active partnerships, those that started during the quarter(s).",
        formula="count(distinct (directorate, partnership_id) with start_date inside a quarter "
        "of the scope)",
        unit="count",
        pillar="relationships",
        why="Whether the council is still widening its circle of community partners, not only "
        "renewing the ones it has.",
        sql_file="partnerships.sql",
        additive=True,
    ),
    KpiDefinition(
        name="cat_long_lease_share",
        title="Long-lease asset transfers",
        definition="Of the community asset transfers on the registers, the fraction on a lease "
        f"of at least {LONG_LEASE_YEARS} years.",
        formula=f"count(arrangement = community_asset_transfer and lease_years >= "
        f"{LONG_LEASE_YEARS}) / count(arrangement = community_asset_transfer)",
        unit="share",
        pillar="capacity",
        why=f"The capacity pillar recommends asset transfer on leases of at least "
        f"{LONG_LEASE_YEARS} years so that community groups can raise other funding against the "
        "asset; a short lease passes on the responsibility without the security.",
        sql_file="partnerships.sql",
    ),
)
KPI_BY_NAME: dict[str, KpiDefinition] = {k.name: k for k in KPIS}

# ---------------------------------------------------------------------------------------------
# Readings of the contract (written once here, rendered into the methodology)

SCOPE_RULES: tuple[str, ...] = (
    "Only the newest accepted submission of each (return, directorate, quarter) counts; older "
    "ones stay in the history but never in a figure.",
    "A scope is one or more quarters, optionally narrowed to directorates, neighbourhoods and "
    "wards. With both neighbourhoods and wards named, a ward must satisfy both (the filters "
    "narrow each other).",
    "Borough-wide rows (no ward) count at council and directorate level only: as soon as a scope "
    "names a neighbourhood or ward, or a table is broken down by neighbourhood or ward, they "
    "drop out.",
    "A council or directorate figure takes every row in scope, whichever ward it names, so loading "
    "a new ward set after a boundary review does not change it; a row on a ward that is no longer in "
    "the ward reference counts in no ward or neighbourhood figure, and its expected shares for the "
    "equality index are the council's, as for a borough-wide activity.",
    "A KPI whose denominator is 0 is undefined (blank), never 0. A count with nothing to count "
    "is 0. Participation is 0, not blank, where wards have residents but no activity.",
    "Participation divides by the residents of the wards in scope: every ward of the council "
    "when the scope names no ward or neighbourhood (so council- and directorate-level figures "
    "include borough-wide activities in the numerator), otherwise only the named wards and "
    "only activities held in them.",
    "Over several quarters, participants are summed over the quarters and divided by the "
    "population once (not once per quarter): the result is a total over the period, not an "
    "average quarter.",
    "Over several quarters, a partnership on several quarters' registers counts once "
    "(distinct directorate and partnership_id); its details (arrangement, lease, ward) are "
    "taken from the latest quarter's register in scope. It is new when its start_date falls "
    "inside any quarter of the scope.",
    "`kpis table --by directorate`: each row is the scope (that quarter, that directorate), so "
    "a directorate's participation is its participants over the whole council's population.",
    "Groups in `kpis table` are sorted by their key in plain character order.",
)

EQUALITY_NOTES: tuple[str, ...] = (
    "Dimensions and groups: "
    + "; ".join(
        f"{d}: " + ", ".join(GROUP_LABELS[g] for g in groups) for d, groups in DIMENSIONS.items()
    )
    + ". Participants not counted in any group of a dimension are 'unknown' for it and "
    "count in neither p_g nor q_g.",
    "p_g = participants in g / participants with a known group in d, summed over activities in "
    "scope.",
    "q_g (the expected share) weights each activity's own population by its known "
    "participants: q_g = sum_a(known_a * pop_g,a / sum_h pop_h,a) / sum_a(known_a), where the "
    "populations are those of the activity's ward, or of the whole council for a borough-wide "
    "activity.",
    "A blank pop_ count in the wards file means 'not known', never 0. A ward whose population "
    "for a dimension is not known (any of its groups blank, or all of them 0) has no shares for "
    "it: its activities are left out of that dimension (neither p_g nor q_g counts their "
    "participants; they are reported as 'left out'), and a borough-wide activity's shares are "
    "taken over the wards of the council that know the dimension. Every page says which "
    "dimensions the index covers in its scope and why any is left out.",
    "EEI_d = 1 - 0.5 * sum_g |p_g - q_g|; the engagement equality index is the mean of EEI_d "
    "over the dimensions with at least one known participant, undefined when none has.",
    f"Representation ratio r_g = p_g / q_g (undefined when q_g = 0); under-represented when "
    f"r_g < {UNDER_REPRESENTED_RATIO}.",
    f"Low base: fewer than {LOW_BASE_MIN_KNOWN} participants with a known group in the "
    f"dimension. With n known participants the 95% margin of error of a share is up to "
    f"1.96 * sqrt(0.25 / n): about +/-18 percentage points at n = 30, wider below, so a "
    f"representation gap of the size the {UNDER_REPRESENTED_RATIO} ratio flags is often within "
    "chance. 30 is also the usual survey-reporting floor for a subgroup base. Figures are still "
    "shown, with the flag.",
    f"Deprivation: participation per 1,000 in wards of IMD decile 1-{MOST_DEPRIVED_MAX_DECILE} "
    "against the other wards with a decile, counting only activities held in a ward (a "
    "borough-wide activity cannot be placed). Shown only when the ward reference has IMD "
    "deciles; wards without a decile are left out of both bands.",
)

COMPARATOR_NOTES: tuple[str, ...] = (
    "A ward's or neighbourhood's figures count only rows held in a ward; the council's also "
    "count borough-wide rows. So a ward is compared with '" + ALL_WARDS_LABEL + "': the same "
    "quarters and directorates over the ward-attributed rows of every ward of the council "
    "(participation over the whole council's residents). Comparing it with the council figure "
    "would set a ward against rows it can never have.",
    "The borough-wide part ('" + BOROUGH_WIDE_LABEL + "') is shown separately: the council's "
    "numerators and denominators minus all wards', e.g. borough-wide participants per 1,000 of "
    "the council's residents. The equality index does not split this way and has no "
    "borough-wide part. Council = all wards + borough-wide, for every additive part.",
    "Counts (partnerships) are compared as 'x of y', not by difference.",
    "The deprivation comparison is like for like already: both bands count only activities "
    "held in a ward.",
)

COLD_SPOT_NOTES: tuple[str, ...] = (
    "For a quarter (or several, e.g. the last four): every ward's participation per 1,000 from "
    "activities held in it (a ward with no activity has 0; borough-wide activities are not in "
    "any ward).",
    f"With n wards and k = ceil(n / {COLD_SPOT_DIVISOR}), every ward whose value is at most the "
    "k-th smallest value is a cold spot, so wards tied at the cut are all included and there "
    "may be more than k.",
    "A ward with no residents recorded has no rate; it is neither ranked nor counted in n.",
    "Optionally for chosen directorates only: their activities, every ward's residents.",
)

TREND_NOTES: tuple[str, ...] = (
    "Value: the KPI for the scope in that quarter alone; blank for a quarter with no data at all "
    "(a quarter before the first returns is not a quarter of zeros).",
    "Change: value minus the previous quarter's value, where both are defined and the previous "
    "quarter has data (for shares a difference of fractions: 0.05 is 5 percentage points).",
    f"Rolling value: the KPI recomputed over the {ROLLING_QUARTERS} quarters ending at that "
    "quarter, with every sum taken over the whole period (sum of devolved over sum of budgets, "
    "participants over population once, distinct partnerships). It is not an average of the "
    "quarterly ratios: a large quarter weighs more than a small one, as it should. Shown only "
    f"when all {ROLLING_QUARTERS} quarters have data.",
    "Same quarter last year: the value four quarters earlier, where that quarter has data.",
    "'Has data' means the council has at least one current submission for the quarter.",
)

COMPLETENESS_NOTES: tuple[str, ...] = (
    "A quarter expects one return of each type (budget, engagement, partnerships) from every "
    "directorate in the reference data. A nil return (a file with a header and no rows) counts "
    "as received.",
    "A KPI needs only the return it is computed from: the budget KPIs the devolved budget "
    "return, the engagement KPIs (participation, the equality index, early engagement, "
    "feedback) the engagement activity return, the partnership KPIs the partnership register. "
    "A directorate's figure needs that directorate's return; the council's, and any ward's or "
    "neighbourhood's, every directorate's; over several quarters, every quarter's.",
    "A figure missing any of them is 'incomplete' and says in words which returns are "
    "missing. Its change on the previous quarter is blank (neither a rise nor a fall) when "
    "either quarter is incomplete for that KPI. Where none of its returns is in (a "
    "directorate that has not sent it), the KPI has no value and the status 'Not received', "
    "never a 0 judged against a target; with some in, its status is decided on what is in.",
    "A quarter's deadline is the one an administrator set, else the default: six weeks after "
    "the quarter ends (`etl.quarters.DEFAULT_DEADLINE_AFTER`). A return not received when its "
    "deadline has passed is overdue.",
    "The current reporting quarter is the most recent quarter that has ended, or the one "
    "before it while that one's deadline has not passed. The age of the newest figures is the "
    "time since the end of the latest quarter with any return.",
)

TARGET_NOTES: tuple[str, ...] = (
    "Targets are per financial year: a quarter uses the targets of its year (2025-26 Q2 uses "
    "2025-26).",
    "A directorate uses its own target for the KPI if it has one; otherwise it falls back to "
    "the council-wide target for the shares and the index ("
    + ", ".join(f"`{k.name}`" for k in KPIS if not k.additive)
    + "), which do not grow with a directorate's size, but never for the KPIs that add up "
    "across directorates ("
    + ", ".join(f"`{k.name}`" for k in KPIS if k.additive)
    + "): a directorate's participation is its participants over the whole council's "
    "population, so the directorates' values sum to the council's and the council's target "
    "would be an impossible bar for each. Without a target of its own such a KPI is grey "
    "('No target').",
    "The status is decided on the value as displayed, rounded half away from zero to "
    + ", ".join(f"{d} decimal{'s' if d != 1 else ''} for a {u}" for u, d in DISPLAY_DECIMALS.items())
    + " (a share of 0.1234 is shown, and judged, as 12.3%); the target is rounded the same way, "
    "so the words never contradict the figures.",
    f"Polarity from the target's direction. higher_is_better: green when value >= target, "
    f"amber when value >= target - {AMBER_TOLERANCE:.0%} of |target|, else red. "
    f"lower_is_better: green when value <= target, amber when value <= target + "
    f"{AMBER_TOLERANCE:.0%} of |target|, else red.",
    "Grey when no target applies ('No target') or the KPI is undefined in the scope "
    "('No data'). Every colour comes with a text label and an icon.",
)

LAGGING_DIVISOR = 3
"""The bottom third (ceil(n / this)) of assessed directorates by net score are 'Lagging'."""
LAGGING_LABEL = "Lagging"
NOT_ASSESSED_LABEL = "Not assessed"

LEAGUE_NOTES: tuple[str, ...] = (
    "A directorate is assessed on the KPIs that have both a target (its own, or the council's "
    "where that applies) and a value this quarter; a KPI without either counts for nothing, "
    "good or bad.",
    "Its score is (KPIs on target - KPIs off target) / KPIs assessed, from -1 to 1; within 10% "
    "counts as neither.",
    f"'{LAGGING_LABEL}': among the assessed directorates, those whose score is at most the "
    f"k-th lowest, k = ceil(n / {LAGGING_DIVISOR}) (ties at the cut included), unless that "
    "score is also the best (when all are level, none is behind).",
    f"A directorate with no KPI assessed is '{NOT_ASSESSED_LABEL}', never lagging, and sorts "
    "after every assessed one; a missing value never ranks as best.",
)

SMALL_NUMBER_NOTES: tuple[str, ...] = (
    f"Demographic counts of participants (age, sex, ethnicity, disability) from 1 to "
    f"{SMALL_NUMBER_THRESHOLD - 1} are never published, in any scope, on a page, in the ward pack "
    "or in an export: ethnicity and disability are special-category personal data and a few "
    "identifiable residents must not be picked out. 0 is shown as 0. KPIs are always computed "
    "on the exact counts; only what is shown is withheld (`kpis/disclosure.py`).",
    "Nor is any figure from which a withheld count could be worked out: its share of "
    "participants, its representation ratio and flag; a second count of the same dimension "
    "(the smallest other non-zero one, else a zero), so that the dimension's total minus the "
    "shown counts gives only the sum of two withheld ones; the dimension's base when it is "
    f"itself under {SMALL_NUMBER_THRESHOLD}; the dimension's equality score and the scope's "
    "engagement equality index (they pin the withheld shares down). Population shares are "
    "census figures and stay.",
    "Every withheld figure shows the same mark, [c], so a small count cannot be told from its "
    "protecting complement.",
    f"A group whose dimension has fewer than {LOW_BASE_MIN_KNOWN} participants of known group "
    "is 'too few to judge', never 'under-represented'.",
)

ARITHMETIC_NOTES: tuple[str, ...] = (
    "The same warehouse gives the same figures to the last digit on every run, so a table "
    "exported for a committee paper can be compared byte for byte later.",
    "Money is summed as exact decimals (pennies) and counts as exact integers; each ratio is "
    "one division of two exact sums, made once at the end.",
    "The expected counts of the engagement equality index (known participants x population "
    "share) are rounded once per ward (its activities' known participants summed) to 12 decimal "
    "places and summed exactly as decimals; "
    "the few per-group and per-dimension terms are added in a fixed order. A floating-point sum "
    "over many rows would otherwise change in its last digit with the order parallel threads "
    "add it up in.",
    "`python -m kpis table` prints each value in full (the shortest decimal that reads back as "
    "the same number), never in exponent form.",
)

THRESHOLDS: tuple[tuple[str, object, str], ...] = (
    ("AMBER_TOLERANCE", AMBER_TOLERANCE, "RAG amber band, relative to the target"),
    ("UNDER_REPRESENTED_RATIO", UNDER_REPRESENTED_RATIO, "r_g below this: under-represented"),
    ("LOW_BASE_MIN_KNOWN", LOW_BASE_MIN_KNOWN, "fewer known participants: low base"),
    ("COLD_SPOT_DIVISOR", COLD_SPOT_DIVISOR, "k = ceil(n / this) wards are cold spots"),
    ("MOST_DEPRIVED_MAX_DECILE", MOST_DEPRIVED_MAX_DECILE, "IMD deciles 1..this: most deprived"),
    ("LONG_LEASE_YEARS", LONG_LEASE_YEARS, "asset transfer lease at least this long"),
    ("ROLLING_QUARTERS", ROLLING_QUARTERS, "quarters in the rolling value"),
    ("SMALL_NUMBER_THRESHOLD", SMALL_NUMBER_THRESHOLD, "demographic counts 1..this-1 withheld"),
    ("LAGGING_DIVISOR", LAGGING_DIVISOR, "bottom ceil(n / this) assessed directorates lag"),
)


def _check() -> None:
    assert tuple(k.name for k in KPIS) == KPI_NAMES, "KPIS must follow the contract's order"
    assert all(k.pillar in PILLAR_NAMES for k in KPIS)
    assert all(k.unit in UNITS for k in KPIS)


_check()


# ---------------------------------------------------------------------------------------------
# Rendering


def _cell(text: str) -> str:
    """Text for a Markdown table cell (a bare | would end the cell, even inside backticks)."""
    return text.replace("|", "\\|")


def _bullets(lines: tuple[str, ...]) -> list[str]:
    return [f"- {line}" for line in lines]


def render_markdown() -> str:
    """docs/methodology.md, generated from the definitions above."""
    out = [
        "# Methodology",
        "",
        "<!-- Generated from kpis/methodology.py by `python -m kpis methodology`; do not edit. -->",
        "",
        "How each localism KPI is computed, where it sits among the four pillars of localism "
        "(Locality, *Power Partnerships*, 2019) and why. All KPIs are computed in SQL "
        "(`kpis/sql/`) from the warehouse.",
        "",
        "## KPIs",
        "",
        "| KPI | title | unit | pillar | formula |",
        "| --- | --- | --- | --- | --- |",
    ]
    out += [
        f"| `{k.name}` | {k.title} | {k.unit} | {k.pillar} | `{_cell(k.formula)}` |" for k in KPIS
    ]
    out += ["", "Units: " + "; ".join(f"{u}: {text}" for u, text in UNITS.items()) + ".", ""]
    for k in KPIS:
        out += [
            f"### {k.title} (`{k.name}`)",
            "",
            k.definition,
            "",
            f"- Formula: `{k.formula}`",
            f"- Unit: {k.unit}; better when {'higher' if k.direction == 'higher_is_better' else 'lower'}",
            f"- Pillar: {k.pillar}. {k.why}",
            f"- SQL: `kpis/sql/{k.sql_file}`",
            "",
        ]
    out += ["## Scope", "", *_bullets(SCOPE_RULES), ""]
    out += ["## Engagement equality", "", *_bullets(EQUALITY_NOTES), ""]
    out += ["## Comparing a ward with the council", "", *_bullets(COMPARATOR_NOTES), ""]
    out += ["## Cold spots", "", *_bullets(COLD_SPOT_NOTES), ""]
    out += ["## Over time", "", *_bullets(TREND_NOTES), ""]
    out += ["## Completeness", "", *_bullets(COMPLETENESS_NOTES), ""]
    out += ["## Targets and RAG", "", *_bullets(TARGET_NOTES), ""]
    out += ["| status | label | icon | meaning |", "| --- | --- | --- | --- |"]
    out += [f"| {s.status} | {s.label} | {s.icon} | {s.meaning} |" for s in STATUSES.values()]
    out += [f"| {s.status} | {s.label} | {s.icon} | {s.meaning} |" for s in (NO_DATA, NOT_RECEIVED)]
    out += [""]
    out += ["## Directorate league", "", *_bullets(LEAGUE_NOTES), ""]
    out += ["## The four pillars", ""]
    for p in PILLARS:
        members = ", ".join(f"`{k.name}`" for k in KPIS if k.pillar == p.name)
        out += [f"- **{p.title}**: {p.description} KPIs: {members}."]
    out += ["", "## Small numbers", "", *_bullets(SMALL_NUMBER_NOTES), ""]
    out += ["## Exact, repeatable arithmetic", "", *_bullets(ARITHMETIC_NOTES), ""]
    out += ["## Thresholds", "", "| constant | value | use |", "| --- | --- | --- |"]
    out += [f"| `{name}` | {value} | {use} |" for name, value, use in THRESHOLDS]
    return "\n".join(out) + "\n"
