"""Generate the fictional demo council: reference data, two years of quarterly returns, manifest.

Run from the project root:  python -m sample_data.generate

Everything is drawn from fixed seeds and no timestamp is written, so the output is
byte-identical on every run. `generate(out_dir)` writes the same files under any directory (the
tests regenerate into a temporary one and compare with the committed copy).

The Borough of Aldermoor is invented: its names, ward codes (E05900001-E05900024, a range ONS
does not use) and hexagon map belong to no real place.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import xlsxwriter

from etl.contract import (
    DIMENSIONS,
    DIRECTORATE_COLUMNS,
    KPI_NAMES,
    RETURN_COLUMNS,
    RETURN_TYPES,
    TARGET_COLUMNS,
    WARD_COLUMNS,
)

SEED = 20261123
COUNCIL = "Borough of Aldermoor"
HERE = Path(__file__).resolve().parent
FIXED_CREATED = datetime(2026, 1, 1)  # xlsx document properties: a fixed date keeps bytes stable

MONEY_COLUMNS = ("total_budget_gbp", "devolved_gbp", "annual_value_gbp")
DATE_COLUMNS = ("activity_date", "start_date", "end_date")
ENUM_COLUMNS = ("mechanism", "method", "stage", "partner_type", "arrangement")
DEMOGRAPHIC_GROUPS = tuple(g for groups in DIMENSIONS.values() for g in groups)


def rng_for(*key: object) -> random.Random:
    """An independent, reproducible random stream per component (str seeds hash with SHA-512)."""
    return random.Random("-".join([str(SEED), *map(str, key)]))


def lerp(pair: tuple[float, float], t: float) -> float:
    return pair[0] + (pair[1] - pair[0]) * t


def clamp(x: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, x))


# --------------------------------------------------------------------------------------------
# Quarters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quarter:
    index: int  # 0 = 2024-25 Q1 ... 7 = 2025-26 Q4
    fy_start: int
    q: int

    @property
    def fy(self) -> str:
        return f"{self.fy_start}-{(self.fy_start + 1) % 100:02d}"

    @property
    def label(self) -> str:
        return f"{self.fy} Q{self.q}"

    @property
    def folder(self) -> str:
        return f"{self.fy}_Q{self.q}"

    @property
    def start(self) -> date:
        month = 4 + 3 * (self.q - 1)
        return date(self.fy_start + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> date:
        month = 4 + 3 * self.q
        return date(self.fy_start + (month > 12), (month - 1) % 12 + 1, 1) - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def t(self) -> float:
        """Position in the two-year series, 0.0 (first quarter) to 1.0 (last)."""
        return self.index / 7

    def spelling(self, variant: str) -> str:
        """The quarter as a submitter might type it (every variant the contract accepts)."""
        slash = f"{self.fy_start}/{(self.fy_start + 1) % 100:02d}"
        return {
            "canonical": self.label,
            "slash": f"{slash} Q{self.q}",
            "fy": f"FY{self.fy} Q{self.q}",
            "q_first": f"Q{self.q} {slash}",
            "dashed": f"{self.fy}-Q{self.q}",
        }[variant]

    def random_day(self, rng: random.Random) -> date:
        return self.start + timedelta(days=rng.randrange(self.days))


QUARTERS: tuple[Quarter, ...] = tuple(
    Quarter(index=i, fy_start=2024 + i // 4, q=i % 4 + 1) for i in range(8)
)

# --------------------------------------------------------------------------------------------
# Wards
# --------------------------------------------------------------------------------------------

# name, neighbourhood, hex row (0 = south), hex column (0 = west), IMD decile,
# non-White shares (Asian, Black, Mixed, Other) where they differ from the borough's usual.
WARD_SPECS: tuple[tuple[str, str, int, int, int, tuple[float, ...] | None], ...] = (
    ("Market Cross", "Aldermoor Central", 2, 3, 1, (0.36, 0.06, 0.04, 0.03)),
    ("St Oswin's", "Aldermoor Central", 2, 2, 4, (0.12, 0.04, 0.03, 0.02)),
    ("Foundry Lane", "Aldermoor Central", 1, 2, 2, (0.09, 0.27, 0.05, 0.04)),
    ("Mill Brow", "Aldermoor Central", 1, 3, 1, (0.31, 0.05, 0.03, 0.02)),
    ("Wharfside", "Aldermoor Central", 1, 4, 3, (0.14, 0.08, 0.03, 0.02)),
    ("Rushworth", "Kellbrook Valley", 0, 0, 6, None),
    ("Lower Kell", "Kellbrook Valley", 0, 1, 3, (0.06, 0.02, 0.02, 0.01)),
    ("Kellbrook", "Kellbrook Valley", 0, 2, 4, (0.10, 0.03, 0.02, 0.01)),
    ("Tanpits", "Kellbrook Valley", 0, 3, 3, (0.05, 0.03, 0.02, 0.01)),
    ("Weirside", "Kellbrook Valley", 0, 4, 5, None),
    ("Fell Top", "Northmoor", 3, 1, 8, None),
    ("Northmoor Heights", "Northmoor", 3, 2, 10, None),
    ("Harrowby Edge", "Northmoor", 3, 3, 9, None),
    ("Crowtrees", "Northmoor", 3, 4, 7, None),
    ("Sheepwash", "Northmoor", 2, 4, 6, None),
    ("Ashenhall", "Eastfold", 3, 5, 9, None),
    ("Eastfold", "Eastfold", 2, 5, 6, None),
    ("Linnet Park", "Eastfold", 1, 5, 5, (0.07, 0.02, 0.02, 0.01)),
    ("Sorrel Vale", "Eastfold", 0, 5, 4, None),
    ("Greave Top", "Westhaugh", 3, 0, 7, None),
    ("Hollinbrook", "Westhaugh", 2, 0, 8, None),
    ("Westhaugh", "Westhaugh", 2, 1, 6, None),
    ("Thistledown", "Westhaugh", 1, 0, 9, None),
    ("Pennywell", "Westhaugh", 1, 1, 5, None),
)

# Wards where engagement is persistently weak, and one that recovers from 2025-26 Q3 (a community
# organiser is funded and Housing and Communities runs a participatory budgeting pilot there).
COLD_SPOTS: tuple[str, ...] = ("Foundry Lane", "Lower Kell", "Mill Brow")
RECOVERING_WARD = "Tanpits"
RECOVERY_FROM = 6  # quarter index of 2025-26 Q3

PARISHED_WARDS = ("Fell Top", "Greave Top", "Harrowby Edge", "Hollinbrook", "Northmoor Heights")
BIG_LOCAL_WARDS = ("Foundry Lane", "Lower Kell", "Mill Brow")


@dataclass
class Ward:
    code: str
    name: str
    neighbourhood: str
    row: int
    col: int
    imd: int
    pop: dict[str, int] = field(default_factory=dict)  # population_total and every pop_ column

    @property
    def total(self) -> int:
        return self.pop["population_total"]


def apportion(total: int, shares: list[float]) -> list[int]:
    """Split an integer total in proportion to shares, largest remainder first (sums exactly)."""
    raw = [total * s / sum(shares) for s in shares]
    counts = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def make_wards() -> list[Ward]:
    """24 wards with Census-like populations: 16+ age bands, sex, ethnicity, disability, IMD."""
    rng = rng_for("wards")
    wards = []
    for n, (name, hood, row, col, imd, ethnic) in enumerate(sorted(WARD_SPECS)):
        total = rng.randrange(8200, 15800)
        t = (imd - 1) / 9  # 0 = most deprived; deprived wards are younger and more often disabled
        age = {
            "age_16_24": 0.145 - 0.055 * t + rng.uniform(-0.01, 0.01),
            "age_25_44": 0.0,
            "age_45_64": 0.235 + 0.045 * t + rng.uniform(-0.01, 0.01),
            "age_65_plus": 0.12 + 0.11 * t + rng.uniform(-0.015, 0.015),
        }
        under_16 = 0.225 - 0.05 * t + rng.uniform(-0.008, 0.008)
        age["age_25_44"] = 1 - under_16 - sum(age.values())
        pop = {"population_total": total}
        for group, share in age.items():
            pop[f"pop_{group}"] = round(total * share)
        female = round(total * rng.uniform(0.503, 0.516))
        pop["pop_female"], pop["pop_male"] = female, total - female
        if ethnic is None:
            ethnic = (rng.uniform(0.01, 0.05), rng.uniform(0.003, 0.015))
            ethnic += (rng.uniform(0.01, 0.025), rng.uniform(0.003, 0.01))
        else:
            ethnic = tuple(s * rng.uniform(0.93, 1.07) for s in ethnic)
        shares = [1 - sum(ethnic), *ethnic]
        for group, count in zip(DIMENSIONS["ethnicity"], apportion(total, shares), strict=True):
            pop[f"pop_{group}"] = count
        disabled_share = min(
            0.219, max(0.171, 0.172 + 0.045 * (1 - t) + rng.uniform(-0.005, 0.005))
        )
        disabled = round(total * disabled_share)
        pop["pop_disabled"], pop["pop_not_disabled"] = disabled, total - disabled
        code = f"E05900{n + 1:03d}"
        wards.append(Ward(code, name, hood, row, col, imd, pop))
    return wards


def is_cold(ward: Ward, quarter: Quarter) -> bool:
    if ward.name == RECOVERING_WARD:
        return quarter.index < RECOVERY_FROM
    return ward.name in COLD_SPOTS


def engagement_factor(ward: Ward, quarter: Quarter, size: bool = False) -> float:
    """How readily residents take part: rises with affluence; cold spots far lower.

    With size=False, the relative chance an activity is held in the ward; with size=True, the
    ward's participation per 1,000 relative to the borough's typical ward.
    """
    factor = 0.55 + 0.075 * ward.imd
    if is_cold(ward, quarter):
        factor *= 0.12 if size else 0.25
    elif ward.name == RECOVERING_WARD:
        factor *= 1.35
    return factor


def spread(items: list, weights: list[float], m: int, rng: random.Random) -> list:
    """m weighted picks by systematic sampling: each item gets close to its expected share."""
    order = list(range(len(items)))
    rng.shuffle(order)
    step, offset = sum(weights) / m, rng.random()
    picks, cumulative, k = [], 0.0, 0
    for i in order:
        cumulative += weights[i]
        while k < m and (k + offset) * step < cumulative:
            picks.append(items[i])
            k += 1
    picks += [items[order[-1]]] * (m - len(picks))  # only if rounding left one short
    rng.shuffle(picks)
    return picks


# --------------------------------------------------------------------------------------------
# Directorates and their trajectories (first quarter, last quarter)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Directorate:
    name: str
    short: str
    officer: str
    devolved: tuple[float, float]  # devolved budget share
    devolving_rows: tuple[float, float]  # chance a budget line devolves anything
    pb: tuple[float, float]  # share of the devolved money decided by participatory budgeting
    early: tuple[float, float]  # early engagement share
    feedback: tuple[float, float]  # feedback published rate
    activities: tuple[float, float]  # engagement activities per quarter
    budget_rows: tuple[float, float]
    partnerships: tuple[float, float]  # register size
    cat_rate: float  # chance a partnership is a community asset transfer
    youth_weight: float  # relative propensity of 16-24s to take part
    disabled_weight: float
    mechanisms: tuple[str, ...]  # non-PB mechanisms this directorate uses
    ward_lines: tuple[str, ...]
    borough_lines: tuple[str, ...]


DIRECTORATES: tuple[Directorate, ...] = (
    Directorate(
        "Adults and Health",
        "ADH",
        "Priya Sharma",
        devolved=(0.07, 0.19),
        devolving_rows=(0.55, 0.8),
        pb=(0.05, 0.2),
        early=(0.18, 0.46),
        feedback=(0.5, 0.8),
        activities=(14, 26),
        budget_rows=(8, 12),
        partnerships=(10, 17),
        cat_rate=0.1,
        youth_weight=0.55,
        disabled_weight=0.7,
        mechanisms=("community_grants", "vcse_commissioning", "ward_councillor_fund"),
        ward_lines=(
            "Neighbourhood wellbeing grants",
            "Social prescribing community fund",
            "Healthy ageing activities",
            "Community day opportunities",
            "Carers' support groups",
        ),
        borough_lines=(
            "Public health prevention commissioning",
            "Mental health peer support",
            "Dementia-friendly communities",
            "Adult social care early help",
        ),
    ),
    Directorate(
        "Children and Families",
        "CHF",
        "Tom Whitworth",
        devolved=(0.06, 0.17),
        devolving_rows=(0.5, 0.8),
        pb=(0.05, 0.25),
        early=(0.2, 0.5),
        feedback=(0.45, 0.78),
        activities=(12, 24),
        budget_rows=(7, 11),
        partnerships=(9, 15),
        cat_rate=0.08,
        youth_weight=0.85,
        disabled_weight=0.62,
        mechanisms=("community_grants", "vcse_commissioning"),
        ward_lines=(
            "Family hub community activities",
            "Youth club provision",
            "Holiday activities and food",
            "Early years community play",
        ),
        borough_lines=(
            "Youth voice and participation",
            "Care leavers support",
            "Parenting support commissioning",
        ),
    ),
    Directorate(
        "Environment and Transport",
        "ENV",
        "Gareth Lees",
        devolved=(0.02, 0.045),
        devolving_rows=(0.25, 0.35),
        pb=(0.0, 0.0),
        early=(0.05, 0.11),
        feedback=(0.2, 0.32),
        activities=(8, 11),
        budget_rows=(6, 8),
        partnerships=(5, 7),
        cat_rate=0.05,
        youth_weight=0.42,
        disabled_weight=0.5,
        mechanisms=("ward_councillor_fund", "parish_town_council", "community_grants"),
        ward_lines=(
            "Local highways improvements",
            "Street cleansing enhancements",
            "Parks and green spaces",
            "Community tree planting",
        ),
        borough_lines=(
            "Waste and recycling education",
            "Active travel schemes",
            "Climate action fund",
        ),
    ),
    Directorate(
        "Housing and Communities",
        "HOC",
        "Aisha Begum",
        devolved=(0.13, 0.3),
        devolving_rows=(0.65, 0.9),
        pb=(0.1, 0.4),
        early=(0.22, 0.52),
        feedback=(0.55, 0.85),
        activities=(18, 38),
        budget_rows=(10, 15),
        partnerships=(14, 24),
        cat_rate=0.25,
        youth_weight=0.6,
        disabled_weight=0.68,
        mechanisms=(
            "community_grants",
            "community_asset_transfer",
            "vcse_commissioning",
            "ward_councillor_fund",
        ),
        ward_lines=(
            "Ward community chest",
            "Tenant and resident initiatives",
            "Community centres running costs",
            "Neighbourhood safety projects",
            "Warm spaces",
        ),
        borough_lines=(
            "Homelessness prevention partnerships",
            "Community cohesion fund",
            "Voluntary sector infrastructure",
        ),
    ),
    Directorate(
        "Place and Economy",
        "PLE",
        "Helen Ashworth",
        devolved=(0.11, 0.27),
        devolving_rows=(0.6, 0.85),
        pb=(0.08, 0.35),
        early=(0.16, 0.44),
        feedback=(0.5, 0.8),
        activities=(16, 32),
        budget_rows=(9, 14),
        partnerships=(12, 22),
        cat_rate=0.3,
        youth_weight=0.58,
        disabled_weight=0.66,
        mechanisms=("community_grants", "community_asset_transfer", "parish_town_council"),
        ward_lines=(
            "High street improvement grants",
            "Neighbourhood pride fund",
            "Community business support",
            "Local events and culture",
        ),
        borough_lines=(
            "Skills and employment programmes",
            "Town centre regeneration",
            "Heritage and arts fund",
        ),
    ),
    Directorate(
        "Resources and Corporate",
        "RES",
        "David Okafor",
        devolved=(0.05, 0.13),
        devolving_rows=(0.45, 0.7),
        pb=(0.0, 0.08),
        early=(0.12, 0.34),
        feedback=(0.45, 0.72),
        activities=(8, 15),
        budget_rows=(6, 9),
        partnerships=(14, 9),
        cat_rate=0.3,
        youth_weight=0.6,
        disabled_weight=0.66,
        mechanisms=("ward_councillor_fund", "community_asset_transfer", "vcse_commissioning"),
        ward_lines=("Community buildings maintenance", "Ward councillor budgets"),
        borough_lines=(
            "Corporate grants to VCSE",
            "Digital inclusion",
            "Community asset review",
            "Social value programme",
        ),
    ),
)
LAGGING = "ENV"  # Environment and Transport lags on most KPIs
MISSING = ("partnerships", "CHF", 7)  # not yet sent: Children and Families' 2025-26 Q4 register

# --------------------------------------------------------------------------------------------
# Budget returns
# --------------------------------------------------------------------------------------------


def allocate_devolved(
    totals: list[int], share: float, chance: float, rng: random.Random
) -> list[int]:
    """Devolved pence per line so that the lines together devolve about `share` of the total."""
    devolving = [i for i in range(len(totals)) if rng.random() < chance] or [
        rng.randrange(len(totals))
    ]
    weights = {i: totals[i] * rng.uniform(0.3, 1.0) for i in devolving}
    remaining = share * sum(totals)
    amounts = [0] * len(totals)
    free = list(devolving)
    while free:
        wsum = sum(weights[i] for i in free)
        capped = [i for i in free if remaining * weights[i] / wsum >= totals[i]]
        if not capped:
            for i in free:
                amounts[i] = math.floor(remaining * weights[i] / wsum / 100) * 100
            break
        for i in capped:
            amounts[i] = totals[i]  # the whole line is devolved
            remaining -= totals[i]
            free.remove(i)
    return amounts


def choose_pb_lines(keys: list, devolved: list[int], share: float, rng: random.Random) -> list[int]:
    """Lines decided by participatory budgeting, ward lines first, up to `share` of the devolved money."""
    target = share * sum(devolved)
    local = [i for i, (_line, ward) in enumerate(keys) if ward and devolved[i]]
    borough = [i for i, (_line, ward) in enumerate(keys) if not ward and devolved[i]]
    rng.shuffle(local)
    rng.shuffle(borough)
    chosen, money = [], 0
    for i in local + borough:
        if money + devolved[i] <= target * 1.15:
            chosen.append(i)
            money += devolved[i]
    return chosen


def budget_rows(d: Directorate, quarter: Quarter, wards: list[Ward]) -> list[dict]:
    rng = rng_for("budget", d.short, quarter.index)
    n = clamp(round(lerp(d.budget_rows, quarter.t)) + rng.randint(-1, 1), 6, 15)
    n_borough = min(len(d.borough_lines), max(1, round(n * rng.uniform(0.15, 0.25))))
    keys: list[tuple[str, Ward | None]] = [
        (line, None) for line in rng.sample(d.borough_lines, n_borough)
    ]
    while len(keys) < n:
        key = (rng.choice(d.ward_lines), rng.choice(wards))
        if key not in keys:
            keys.append(key)
    totals = []
    for _line, ward in keys:
        pence = (
            rng.randrange(120, 900) * 50_000 if ward is None else rng.randrange(60, 700) * 10_000
        )
        if rng.random() < 0.2:
            pence += rng.choice((25, 50, 75, 99)) * (1 if ward else 100)
        totals.append(pence)
    share = lerp(d.devolved, quarter.t) * rng.uniform(0.93, 1.07)
    devolved = allocate_devolved(totals, share, lerp(d.devolving_rows, quarter.t), rng)
    pb_lines = choose_pb_lines(keys, devolved, lerp(d.pb, quarter.t), rng)
    rows = []
    for i, ((line, ward), total, dev) in enumerate(zip(keys, totals, devolved, strict=True)):
        if dev > 0:
            mechanism = "participatory_budgeting" if i in pb_lines else rng.choice(d.mechanisms)
        else:
            mechanism = rng.choice((None, None, "none"))
        rows.append(
            {
                "directorate": d.name,
                "quarter": quarter.label,
                "budget_line": line,
                "ward_code": ward.code if ward else None,
                "total_budget_gbp": total,
                "devolved_gbp": dev,
                "mechanism": mechanism,
            }
        )
    ward_names = {w.code: w.name for w in wards}
    rows.sort(key=lambda r: (r["budget_line"], ward_names.get(r["ward_code"], "")))
    return rows


# --------------------------------------------------------------------------------------------
# Engagement returns
# --------------------------------------------------------------------------------------------

SIZES = {
    "survey": (60, 380),
    "public_meeting": (12, 70),
    "workshop": (8, 30),
    "codesign": (6, 22),
    "participatory_budgeting_vote": (150, 650),
    "citizens_assembly": (30, 50),
    "online_platform": (40, 300),
    "other": (10, 60),
}
LATE_METHODS = {
    "survey": 0.28,
    "public_meeting": 0.2,
    "workshop": 0.14,
    "online_platform": 0.2,
    "other": 0.08,
    "participatory_budgeting_vote": 0.1,
}
LATE_STAGES = {"options": 0.4, "decision": 0.25, "implementation": 0.2, "review": 0.15}
EARLY_METHODS = {
    "survey": 0.25,
    "public_meeting": 0.25,
    "workshop": 0.3,
    "online_platform": 0.12,
    "citizens_assembly": 0.08,
}
# Who takes part, relative to their share of the population (before directorate tweaks).
AGE_WEIGHTS = {"age_16_24": 0.6, "age_25_44": 0.95, "age_45_64": 1.1, "age_65_plus": 1.5}
SEX_WEIGHTS = {"female": 1.12, "male": 1.0}
ETHNICITY_WEIGHTS = {
    "ethnicity_white": 1.0,
    "ethnicity_asian": 0.8,
    "ethnicity_black": 0.75,
    "ethnicity_mixed": 0.85,
    "ethnicity_other": 0.8,
}
PARTICIPATION_PER_1000 = (40.0, 58.0)  # a typical ward's quarterly rate, first and last quarter
KNOWN_SHARE = {
    "age": (0.7, 0.95),
    "sex": (0.75, 0.97),
    "ethnicity": (0.55, 0.9),
    "disability": (0.5, 0.85),
}


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def population_shares(wards: list[Ward]) -> dict[str, dict[str, float]]:
    """Each dimension's group shares over the given wards (a ward, or the whole borough)."""
    shares = {}
    for dim, groups in DIMENSIONS.items():
        counts = [sum(w.pop[f"pop_{g}"] for w in wards) for g in groups]
        shares[dim] = {g: c / sum(counts) for g, c in zip(groups, counts, strict=True)}
    return shares


def demographics(d: Directorate, participants: int, shares: dict, rng: random.Random) -> dict:
    weights = {
        "age": {**AGE_WEIGHTS, "age_16_24": d.youth_weight},
        "sex": SEX_WEIGHTS,
        "ethnicity": ETHNICITY_WEIGHTS,
        "disability": {"disabled": d.disabled_weight, "not_disabled": 1.0},
    }
    if rng.random() < 0.08:  # nobody recorded who came
        return dict.fromkeys(DEMOGRAPHIC_GROUPS)
    out = {}
    for dim, groups in DIMENSIONS.items():
        known = math.floor(participants * rng.uniform(*KNOWN_SHARE[dim]))
        probs = [shares[dim][g] * weights[dim][g] for g in groups]
        counts = Counter(rng.choices(groups, weights=probs, k=known))
        out.update({g: counts[g] for g in groups})
    return out


def draft_activities(d: Directorate, quarter: Quarter, wards: list[Ward]) -> list[dict]:
    """One directorate's activities for a quarter, with provisional sizes and no demographics."""
    rng = rng_for("engagement", d.short, quarter.index)
    n = clamp(round(lerp(d.activities, quarter.t)) + rng.randint(-2, 2), 8, 40)
    index = list(range(n))
    borough_wide = set(rng.sample(index, round(n * rng.uniform(0.15, 0.25))))
    early = set(rng.sample(index, round(n * lerp(d.early, quarter.t))))
    feedback = set(rng.sample(index, round(n * lerp(d.feedback, quarter.t))))
    dates = sorted(quarter.random_day(rng) for _ in index)
    local = [i for i in index if i not in borough_wide]
    ward_weights = [w.total * engagement_factor(w, quarter) for w in wards]
    placed = dict(zip(local, spread(wards, ward_weights, len(local), rng), strict=True))
    pilot = d.short == "HOC" and quarter.index >= RECOVERY_FROM  # the Tanpits PB pilot
    rows = []
    for i in index:
        ward = placed.get(i)
        if pilot and i == n // 2:
            ward = next(w for w in wards if w.name == RECOVERING_WARD)
        if i in early:
            if rng.random() < 0.5:
                method, stage = (
                    "codesign",
                    pick(rng, {"priority_setting": 0.3, "options": 0.4, "implementation": 0.3}),
                )
            else:
                method, stage = pick(rng, EARLY_METHODS), "priority_setting"
        else:
            methods = dict(LATE_METHODS)
            if d.pb[1] == 0 or (ward is not None and is_cold(ward, quarter)):
                del methods["participatory_budgeting_vote"]
            method = pick(rng, methods)
            stage = (
                "decision" if method == "participatory_budgeting_vote" else pick(rng, LATE_STAGES)
            )
        if pilot and i == n // 2 and i not in early:
            method, stage = "participatory_budgeting_vote", "decision"
        size = rng.randint(*SIZES[method])
        if ward is None and method != "citizens_assembly":
            size = round(size * 1.6)  # borough-wide surveys and meetings reach further
        rows.append(
            {
                "directorate": d.name,
                "quarter": quarter.label,
                "activity_id": f"{d.short}-{quarter.fy_start % 100:02d}{(quarter.fy_start + 1) % 100:02d}Q{quarter.q}-{i + 1:03d}",
                "activity_date": dates[i],
                "ward_code": ward.code if ward else None,
                "method": method,
                "stage": stage,
                "participants_total": size,
                "feedback_published": i in feedback,
            }
        )
    return rows


def engagement_returns(quarter: Quarter, wards: list[Ward]) -> dict[str, list[dict]]:
    """Every directorate's engagement return for a quarter.

    Activity sizes in each ward are scaled together so that the ward's participation per 1,000
    residents follows its propensity (affluence, cold spot) with moderate noise; a citizens'
    assembly keeps its fixed membership.
    """
    drafts = {d.short: draft_activities(d, quarter, wards) for d in DIRECTORATES}
    rng = rng_for("participation", quarter.index)
    for ward in wards:
        acts = [
            r
            for rows in drafts.values()
            for r in rows
            if r["ward_code"] == ward.code and r["method"] != "citizens_assembly"
        ]
        if not acts:
            continue
        target = ward.total / 1000 * lerp(PARTICIPATION_PER_1000, quarter.t)
        target *= engagement_factor(ward, quarter, size=True) * rng.lognormvariate(0, 0.2)
        scale = min(4.0, max(0.25, target / sum(r["participants_total"] for r in acts)))
        for r in acts:
            r["participants_total"] = max(1, round(r["participants_total"] * scale))
    borough = population_shares(wards)
    by_code = {w.code: w for w in wards}
    for d in DIRECTORATES:
        rng = rng_for("demographics", d.short, quarter.index)
        for r in drafts[d.short]:
            shares = (
                borough if r["ward_code"] is None else population_shares([by_code[r["ward_code"]]])
            )
            feedback = r.pop("feedback_published")
            r.update(demographics(d, r["participants_total"], shares, rng))
            r["feedback_published"] = feedback
    return drafts


# --------------------------------------------------------------------------------------------
# Partnership registers
# --------------------------------------------------------------------------------------------

PARTNER_TYPES = {
    "vcse": 0.35,
    "parish_town_council": 0.08,
    "community_business": 0.15,
    "faith_group": 0.1,
    "residents_association": 0.12,
    "big_local": 0.06,
    "other": 0.14,
}
ARRANGEMENTS = {
    "vcse": ("service_delivery", "coproduction", "grant_funding"),
    "parish_town_council": ("neighbourhood_governance", "service_delivery"),
    "community_business": ("service_delivery", "grant_funding"),
    "faith_group": ("grant_funding", "coproduction"),
    "residents_association": ("neighbourhood_governance", "coproduction", "grant_funding"),
    "big_local": ("coproduction", "neighbourhood_governance", "grant_funding"),
    "other": ("other", "coproduction", "service_delivery"),
}
CAT_TYPES = ("vcse", "parish_town_council", "community_business", "faith_group", "other")
NAMES = {
    "vcse": (
        "{p} Community Trust",
        "{p} Youth Project",
        "{p} Carers Centre",
        "{p} Food Network",
        "{p} Credit Union",
        "Age Friendly {p}",
        "{p} Community Transport",
        "{p} Women's Centre",
        "{p} Refugee Welcome",
        "{p} Men's Shed",
        "{p} Mind",
    ),
    "parish_town_council": ("{p} Parish Council",),
    "community_business": (
        "{p} Community Pub Co-operative",
        "{p} Community Shop",
        "{p} Bakery CIC",
        "{p} Bike Workshop CIC",
        "{p} Community Energy",
    ),
    "faith_group": (
        "{p} Methodist Church",
        "{p} Jamia Mosque",
        "{p} Baptist Church",
        "{p} Gurdwara",
        "St Oswin's Parish Church",
    ),
    "residents_association": (
        "{p} Residents' Association",
        "{p} Tenants and Residents Association",
    ),
    "big_local": ("{p} Big Local",),
    "other": (
        "{p} Allotment Society",
        "{p} Rugby League Club",
        "{p} Cricket Club",
        "Friends of {p} Library",
        "{p} in Bloom",
    ),
}
LONG_LEASES = (25, 30, 35, 50, 99, 125)
SHORT_LEASES = (3, 5, 7, 10, 15, 20)
PERIOD_END = QUARTERS[-1].end


@dataclass
class Partnership:
    pid: str
    name: str
    partner_type: str
    arrangement: str
    ward_code: str | None
    start: date
    end: date | None
    value: int | None  # pence a year
    lease: int | None


def add_years(day: date, years: int) -> date:
    return date(day.year + years, day.month, min(day.day, 28))


def make_partnership(
    d: Directorate,
    pid: str,
    start: date,
    late: bool,
    wards: list[Ward],
    used: set[str],
    rng: random.Random,
) -> Partnership:
    by_name = {w.name: w for w in wards}
    ptype = pick(rng, PARTNER_TYPES)
    if ptype == "parish_town_council":
        ward = by_name[rng.choice(PARISHED_WARDS)]
    elif ptype == "big_local":
        ward = by_name[rng.choice(BIG_LOCAL_WARDS)]
    else:
        ward = rng.choice(wards) if rng.random() < 0.8 else None
    place = ward.name if ward else "Aldermoor"
    options = [n.format(p=place) for n in NAMES[ptype]]
    fresh = [n for n in options if n not in used]
    name = rng.choice(fresh or options)  # else a second arrangement with the same organisation
    used.add(name)
    lease = end = value = None
    # Since the council adopted its community asset transfer policy (2024), more transfers, and
    # on long leases that let groups raise funds against the building.
    if ptype in CAT_TYPES and rng.random() < d.cat_rate * (1.5 if late else 1.0):
        arrangement = "community_asset_transfer"
        long_lease = rng.random() < (0.9 if late else 0.3)
        lease = rng.choice(LONG_LEASES if long_lease else SHORT_LEASES)
        if add_years(start, lease) > PERIOD_END:
            end = add_years(start, lease) - timedelta(days=1)
        if rng.random() < 0.3:
            value = rng.randrange(1, 20) * 100_000
    else:
        arrangement = rng.choice(ARRANGEMENTS[ptype])
        if arrangement == "service_delivery" and ptype in ("vcse", "community_business"):
            value = rng.randrange(40, 400) * 100_000
        elif arrangement == "service_delivery":
            value = rng.randrange(5, 60) * 100_000
        elif arrangement == "grant_funding":
            value = rng.randrange(5, 60) * 100_000 + rng.choice((0, 0, 50_00))
        elif rng.random() < 0.4:
            value = rng.randrange(1, 30) * 100_000
        if arrangement in ("service_delivery", "grant_funding") and rng.random() < 0.5:
            end = date(rng.choice((2026, 2027, 2028)), 3, 31)
    return Partnership(
        pid, name, ptype, arrangement, ward.code if ward else None, start, end, value, lease
    )


def partnership_registers(d: Directorate, wards: list[Ward]) -> list[list[Partnership]]:
    """The register for each quarter: every partnership active at any time in it."""
    rng = rng_for("partnerships", d.short)
    target = [clamp(round(lerp(d.partnerships, q.t)) + rng.randint(-1, 1), 5, 25) for q in QUARTERS]
    used: set[str] = set()
    serial = iter(range(1, 1000))

    def new(start: date, late: bool) -> Partnership:
        return make_partnership(d, f"{d.short}-P{next(serial):03d}", start, late, wards, used, rng)

    first = QUARTERS[0]
    n_new = rng.randint(0, 2)  # a few are new in the first quarter
    starts = [
        date(2012, 1, 1) + timedelta(days=rng.randrange(4473)) for _ in range(target[0] - n_new)
    ]
    starts += [first.random_day(rng) for _ in range(n_new)]
    active = sorted((new(s, False) for s in starts), key=lambda p: p.start)
    for p, pid in zip(active, sorted(p.pid for p in active), strict=True):
        p.pid = pid  # the oldest partnership gets the lowest number
    registers = []
    for q in QUARTERS:
        registers.append(sorted(active, key=lambda p: p.pid))
        if q.index == 7:
            break
        ending = max(rng.choice((0, 1, 1, 2)), len(active) - target[q.index + 1])
        candidates = [
            p for p in active if p.arrangement != "community_asset_transfer" and p.end is None
        ]
        for p in rng.sample(candidates, min(ending, len(candidates))):
            first = max(q.start, p.start)
            p.end = first + timedelta(days=rng.randrange((q.end - first).days + 1))
        carried = [p for p in active if p.end is None or p.end > q.end]
        nxt = QUARTERS[q.index + 1]
        starts = sorted(
            nxt.random_day(rng) for _ in range(max(0, target[nxt.index] - len(carried)))
        )
        active = carried + [new(s, True) for s in starts]
    return registers


def partnership_rows(d: Directorate, quarter: Quarter, register: list[Partnership]) -> list[dict]:
    return [
        {
            "directorate": d.name,
            "quarter": quarter.label,
            "partnership_id": p.pid,
            "partner_name": p.name,
            "partner_type": p.partner_type,
            "arrangement": p.arrangement,
            "ward_code": p.ward_code,
            "start_date": p.start,
            "end_date": p.end,
            "annual_value_gbp": p.value,
            "lease_years": p.lease,
        }
        for p in register
    ]


# --------------------------------------------------------------------------------------------
# Writing files the way submitters would
# --------------------------------------------------------------------------------------------


@dataclass
class Submission:
    ret: str
    d: Directorate
    quarter: Quarter
    rows: list[dict]
    file: str  # relative to the output directory
    style: str = "plain"  # plain | excel (cp1252 as Excel saves it) | semicolon | xlsx
    quarter_variant: str = "canonical"
    directorate_spelling: str | None = None  # default: the reference name
    expect: str = "accepted"
    user: str = ""
    overrides: dict[tuple[int, str], str] = field(default_factory=dict)  # (row, column) -> text
    title_headers: bool = False
    guidance_sheet: bool = False


def money_text(pence: int, style: str) -> str:
    pounds, p = divmod(pence, 100)
    if style == "excel":
        return f"£{pounds:,}.{p:02d}"
    return f"{pounds}" if p == 0 else f"{pounds}.{p:02d}"


def enum_text(value: str, style: str) -> str:
    return value.replace("_", " ").capitalize() if style == "excel" else value


def cell_text(
    col: str, value: object, sub: Submission, wards: dict[str, Ward], rng: random.Random
) -> str:
    style = sub.style
    if col == "directorate":
        return sub.directorate_spelling or (sub.d.short if style == "excel" else sub.d.name)
    if col == "quarter":
        return sub.quarter.spelling(sub.quarter_variant)
    if value is None:
        return ""
    if col in MONEY_COLUMNS:
        return money_text(value, style)
    if col in DATE_COLUMNS:
        return value.strftime("%d/%m/%Y") if style == "excel" else value.isoformat()
    if col == "feedback_published":
        return {"excel": ("No", "Yes"), "semicolon": ("N", "Y")}.get(style, ("false", "true"))[
            value
        ]
    if col in ENUM_COLUMNS:
        return enum_text(value, style)
    if col == "ward_code" and style == "excel" and rng.random() < 0.5:
        return wards[value].name  # Excel users often type the ward's name
    if col in DEMOGRAPHIC_GROUPS and style == "excel" and value == 0:
        return ""  # a blank demographic count reads as 0
    return str(value)


def header_text(col: str, sub: Submission) -> str:
    if not sub.title_headers:
        return col
    return " ".join(w.upper() if w in ("gbp", "id") else w.capitalize() for w in col.split("_"))


def table_text(sub: Submission, wards: dict[str, Ward]) -> tuple[list[str], list[list[str]]]:
    rng = rng_for("cells", sub.ret, sub.d.short, sub.quarter.index)  # same choices in a resend
    cols = RETURN_COLUMNS[sub.ret]
    body = []
    for r, row in enumerate(sub.rows):
        body.append(
            [sub.overrides.get((r, c), cell_text(c, row.get(c), sub, wards, rng)) for c in cols]
        )
    return [header_text(c, sub) for c in cols], body


def csv_bytes(sub: Submission, wards: dict[str, Ward]) -> bytes:
    header, body = table_text(sub, wards)
    buf = io.StringIO()
    excel_like = sub.style in ("excel", "semicolon")
    writer = csv.writer(
        buf,
        delimiter=";" if sub.style == "semicolon" else ",",
        lineterminator="\r\n" if excel_like else "\n",
    )
    writer.writerow(header)
    writer.writerows(body)
    if sub.style == "excel":
        writer.writerows([[""] * len(header)] * 2)  # Excel leaves empty rows after the data
    encoding = {"excel": "cp1252", "semicolon": "utf-8-sig"}.get(sub.style, "utf-8")
    return buf.getvalue().encode(encoding)


def xlsx_bytes(sub: Submission) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    book.set_properties(
        {
            "title": f"{sub.ret} return",
            "author": sub.user,
            "company": COUNCIL,
            "created": FIXED_CREATED,
        }
    )
    bold = book.add_format({"bold": True})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    money = book.add_format({"num_format": "£#,##0.00"})
    if sub.guidance_sheet:
        notes = book.add_worksheet("Guidance")
        notes.write(0, 0, f"{COUNCIL}: quarterly {sub.ret} return", bold)
        notes.write(2, 0, "Fill in one row per activity on the 'engagement' sheet.")
        notes.write(3, 0, "Leave a demographic count blank if it was not recorded.")
    sheet = book.add_worksheet(sub.ret)
    cols = RETURN_COLUMNS[sub.ret]
    sheet.write_row(0, 0, cols, bold)
    for r, row in enumerate(sub.rows, start=1):
        for c, col in enumerate(cols):
            value = row.get(col)
            if col == "directorate":
                sheet.write_string(r, c, sub.d.name)
            elif col == "quarter":
                sheet.write_string(r, c, sub.quarter.spelling(sub.quarter_variant))
            elif value is None:
                continue
            elif col in MONEY_COLUMNS:
                sheet.write_number(r, c, value / 100, money)
            elif col in DATE_COLUMNS:
                sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
            elif col == "feedback_published":
                sheet.write_string(r, c, "Yes" if value else "No")
            elif isinstance(value, int):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
    sheet.set_column(0, len(cols) - 1, 16)
    book.close()
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# Reference files
# --------------------------------------------------------------------------------------------

# (kpi, directorate short name or "" for the council, financial year, target, direction).
# Council-wide targets for every KPI in both years, stepped up for 2025-26, plus a few a
# directorate agreed for itself. The one lower_is_better target: Resources and Corporate is
# consolidating many small grant agreements into a few strategic partnerships, so its register
# has a ceiling (at most 10 active partnerships) rather than a floor.
_UP, _DOWN = "higher_is_better", "lower_is_better"
TARGETS: tuple[tuple[str, str, str, float, str], ...] = (
    ("devolved_budget_share", "", "2024-25", 0.10, _UP),
    ("pb_share", "", "2024-25", 0.015, _UP),
    ("participation_per_1000", "", "2024-25", 50, _UP),
    ("engagement_equality_index", "", "2024-25", 0.95, _UP),
    ("early_engagement_share", "", "2024-25", 0.25, _UP),
    ("feedback_rate", "", "2024-25", 0.55, _UP),
    ("active_partnerships", "", "2024-25", 70, _UP),
    ("new_partnerships", "", "2024-25", 8, _UP),
    ("cat_long_lease_share", "", "2024-25", 0.3, _UP),
    ("devolved_budget_share", "", "2025-26", 0.18, _UP),
    ("pb_share", "", "2025-26", 0.05, _UP),
    ("participation_per_1000", "", "2025-26", 60, _UP),
    ("engagement_equality_index", "", "2025-26", 0.96, _UP),
    ("early_engagement_share", "", "2025-26", 0.4, _UP),
    ("feedback_rate", "", "2025-26", 0.7, _UP),
    ("active_partnerships", "", "2025-26", 85, _UP),
    ("new_partnerships", "", "2025-26", 10, _UP),
    ("cat_long_lease_share", "", "2025-26", 0.5, _UP),
    ("feedback_rate", "ADH", "2024-25", 0.6, _UP),
    ("feedback_rate", "ADH", "2025-26", 0.75, _UP),
    ("early_engagement_share", "CHF", "2025-26", 0.45, _UP),
    ("devolved_budget_share", "ENV", "2025-26", 0.06, _UP),
    ("early_engagement_share", "ENV", "2025-26", 0.2, _UP),
    ("pb_share", "HOC", "2025-26", 0.1, _UP),
    ("cat_long_lease_share", "PLE", "2025-26", 0.75, _UP),
    ("active_partnerships", "RES", "2025-26", 10, _DOWN),
)


def wards_csv(wards: list[Ward]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(WARD_COLUMNS)
    for w in sorted(wards, key=lambda w: w.code):
        extra = {
            "ward_code": w.code,
            "ward_name": w.name,
            "neighbourhood": w.neighbourhood,
            "imd_decile": w.imd,
        }
        writer.writerow([extra.get(c, w.pop.get(c)) for c in WARD_COLUMNS])
    return buf.getvalue().encode("utf-8")


def directorates_csv() -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(DIRECTORATE_COLUMNS)
    writer.writerows([d.name, d.short] for d in DIRECTORATES)
    return buf.getvalue().encode("utf-8")


def targets_csv() -> bytes:
    council = {(kpi, fy) for kpi, short, fy, _t, _d in TARGETS if not short}
    assert council == {(k, fy) for k in KPI_NAMES for fy in ("2024-25", "2025-26")}
    names = {d.short: d.name for d in DIRECTORATES}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(TARGET_COLUMNS)
    for kpi, short, fy, target, direction in TARGETS:
        writer.writerow([kpi, names.get(short, ""), fy, f"{target:g}", direction])
    return buf.getvalue().encode("utf-8")


# Hexagon map: pointy-top hexagons in an 'odd-r' grid (odd rows shifted half a hexagon east).
# Vertices sit on an integer lattice (units of half a hexagon width, half a circumradius), so
# neighbouring hexagons share exactly the same vertex coordinates.
HEX_RADIUS_KM = 1.6
MAP_CENTRE = (-2.3, 53.6)  # lon, lat: the South Pennine foothills, nowhere in particular
HEX_CORNERS = ((1, 1), (0, 2), (-1, 1), (-1, -1), (0, -2), (1, -1))  # anticlockwise from 30 deg


def boundaries_geojson(wards: list[Ward]) -> bytes:
    half_width = math.sqrt(3) * HEX_RADIUS_KM / 2
    half_radius = HEX_RADIUS_KM / 2
    km_per_deg_lon = 111.320 * math.cos(math.radians(MAP_CENTRE[1]))
    km_per_deg_lat = 110.574
    centres = {w.code: (2 * w.col + w.row % 2, 3 * w.row) for w in wards}
    mid_x = (min(x for x, _ in centres.values()) + max(x for x, _ in centres.values())) / 2
    mid_y = (min(y for _, y in centres.values()) + max(y for _, y in centres.values())) / 2

    def lonlat(ix: int, iy: int) -> list[float]:
        lon = MAP_CENTRE[0] + (ix - mid_x) * half_width / km_per_deg_lon
        lat = MAP_CENTRE[1] + (iy - mid_y) * half_radius / km_per_deg_lat
        return [round(lon, 6), round(lat, 6)]

    features = []
    for w in sorted(wards, key=lambda w: w.code):
        cx, cy = centres[w.code]
        ring = [lonlat(cx + dx, cy + dy) for dx, dy in HEX_CORNERS]
        ring.append(ring[0])
        features.append(
            json.dumps(
                {
                    "type": "Feature",
                    "properties": {"ward_code": w.code, "ward_name": w.name},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                },
                ensure_ascii=False,
            )
        )
    head = json.dumps(
        {
            "type": "FeatureCollection",
            "name": f"{COUNCIL} wards (hexagon map)",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        }
    )
    text = head[:-1] + ', "features": [\n' + ",\n".join(features) + "\n]}\n"
    return text.encode("utf-8")


# --------------------------------------------------------------------------------------------
# The submission plan: which file each directorate sends, in which shape, in which order
# --------------------------------------------------------------------------------------------

# (quarter index, directorate, return) -> how that one file departs from plain UTF-8 CSV.
VARIANTS: dict[tuple[int, str, str], dict] = {
    (0, "CHF", "budget"): {"quarter_variant": "q_first"},
    (1, "ADH", "budget"): {"style": "bom"},
    (1, "ENV", "engagement"): {"style": "excel", "quarter_variant": "slash"},
    (2, "CHF", "partnerships"): {"style": "excel", "quarter_variant": "slash"},
    (2, "RES", "engagement"): {
        "quarter_variant": "fy",
        "directorate_spelling": "resources and corporate",
    },
    (3, "PLE", "budget"): {"style": "excel", "quarter_variant": "slash", "title_headers": True},
    (3, "HOC", "partnerships"): {"style": "xlsx"},
    (4, "ENV", "budget"): {
        "style": "semicolon",
        "quarter_variant": "dashed",
        "directorate_spelling": "ENVIRONMENT AND TRANSPORT",
    },
    (4, "HOC", "engagement"): {"style": "excel"},
    (5, "PLE", "budget"): {"style": "excel", "quarter_variant": "slash", "title_headers": True},
    (5, "ADH", "engagement"): {
        "style": "xlsx",
        "guidance_sheet": True,
        "quarter_variant": "q_first",
    },
    (7, "RES", "budget"): {"style": "xlsx"},
}
REJECTED = (5, "PLE", "budget")  # first sent with errors, then corrected
SUPERSEDED = (6, "HOC", "budget")  # accepted, then replaced by a corrected version
CORRECTING_OFFICER = {"HOC": "Mark Haworth"}  # a finance business partner sends the correction
MULTILINE_LINE = "Heritage and arts fund –\nTown Hall 150th anniversary"  # Alt+Enter in Excel


@dataclass
class PlannedError:
    row: int  # index into the submission's rows
    column: str
    value: str
    reason: str


def file_name(sub_key: tuple[int, str, str], style: str, suffix: str = "") -> str:
    index, short, ret = sub_key
    ext = "xlsx" if style == "xlsx" else "csv"
    return f"returns/{QUARTERS[index].folder}/{short.lower()}_{ret}{suffix}.{ext}"


def break_budget(
    rows: list[dict], wards: list[Ward], quarter: Quarter
) -> tuple[dict, list[PlannedError]]:
    """Make the four realistic mistakes of the rejected file; fix `rows` to the corrected figures.

    Returns the cell overrides that turn the corrected file into the rejected one.
    """
    by_name = {w.name: w for w in wards}
    borough = next(i for i, r in enumerate(rows) if r["ward_code"] is None)
    rows.insert(0, rows.pop(borough))
    rows[0]["budget_line"] = MULTILINE_LINE
    ward_rows = [i for i, r in enumerate(rows) if r["ward_code"]]
    errors: list[PlannedError] = []
    overrides: dict[tuple[int, str], str] = {}

    # 1. A dropped zero in the total leaves the devolved amount above it.
    typo = max(ward_rows, key=lambda i: (rows[i]["devolved_gbp"] / rows[i]["total_budget_gbp"], -i))
    row = rows[typo]
    row["total_budget_gbp"] = row["total_budget_gbp"] // 1000 * 1000
    if row["devolved_gbp"] * 10 <= row["total_budget_gbp"]:
        row["devolved_gbp"] = row["total_budget_gbp"] * 6 // 10 // 10_000 * 10_000
        row["mechanism"] = (
            row["mechanism"] if row["mechanism"] not in (None, "none") else "community_grants"
        )
    overrides[(typo, "total_budget_gbp")] = money_text(row["total_budget_gbp"] // 10, "excel")
    errors.append(
        PlannedError(
            typo,
            "devolved_gbp",
            money_text(row["devolved_gbp"], "excel"),
            "devolved amount is above the line's total budget",
        )
    )
    rest = [i for i in ward_rows if i != typo]

    # 2. A misspelt ward name.
    foundry = by_name["Foundry Lane"].code
    misspelt = next(
        i
        for i in rest
        if (rows[i]["budget_line"], foundry)
        not in {(r["budget_line"], r["ward_code"]) for r in rows}
    )
    rows[misspelt]["ward_code"] = foundry
    overrides[(misspelt, "ward_code")] = "Foundary Lane"
    errors.append(
        PlannedError(misspelt, "ward_code", "Foundary Lane", "unknown ward (closest: Foundry Lane)")
    )
    rest.remove(misspelt)

    # 3. A line copied from last quarter's return still carries last quarter.
    stale = rest.pop(len(rest) // 2)
    previous = QUARTERS[quarter.index - 1].spelling("slash")
    overrides[(stale, "quarter")] = previous
    errors.append(
        PlannedError(
            stale, "quarter", previous, f"row is not for the submission's quarter {quarter.label}"
        )
    )

    # 4. A devolved amount with no mechanism.
    blank = next((i for i in rest if rows[i]["devolved_gbp"] > 0), rest[-1])
    if rows[blank]["devolved_gbp"] == 0:
        rows[blank]["devolved_gbp"] = rows[blank]["total_budget_gbp"] // 2 // 10_000 * 10_000
        rows[blank]["mechanism"] = "community_grants"
    overrides[(blank, "mechanism")] = ""
    errors.append(
        PlannedError(blank, "mechanism", "", "mechanism is required when devolved_gbp > 0")
    )
    errors.sort(key=lambda e: e.row)
    return overrides, errors


def submissions_for(key: tuple[int, str, str], rows: list[dict], wards: list[Ward]):
    """The file(s) sent for one (quarter, directorate, return): (sent now, sent at quarter's end,
    planned errors of a rejected file)."""
    index, short, ret = key
    d = next(d for d in DIRECTORATES if d.short == short)
    options = dict(VARIANTS.get(key, {}))
    style = options.pop("style", "plain")

    def make(rows: list[dict], suffix: str = "", user: str = d.officer, **kw) -> Submission:
        return Submission(
            ret,
            d,
            QUARTERS[index],
            rows,
            file_name(key, style, suffix),
            style,
            user=user,
            **options,
            **kw,
        )

    if key == REJECTED:
        overrides, errors = break_budget(rows, wards, QUARTERS[index])
        return [make(rows, expect="rejected", overrides=overrides), make(rows, "_v2")], [], errors
    if key == SUPERSEDED:
        first = [dict(r) for r in rows]
        ward_rows = [i for i, r in enumerate(first) if r["ward_code"]]
        big = max(ward_rows, key=lambda i: first[i]["total_budget_gbp"])
        first[big]["total_budget_gbp"] *= 10  # an extra zero, spotted after acceptance
        del first[next(i for i in reversed(ward_rows) if i != big)]  # and one line left out
        return [make(first)], [make(rows, "_v2", user=CORRECTING_OFFICER[short])], []
    return [make(rows)], [], []


def plan(wards: list[Ward]) -> tuple[list[Submission], list[PlannedError]]:
    """Every file in load order (the manifest's order) and the rejected file's planned errors."""
    registers = {d.short: partnership_registers(d, wards) for d in DIRECTORATES}
    subs: list[Submission] = []
    planned: list[PlannedError] = []
    for quarter in QUARTERS:
        engagement = engagement_returns(quarter, wards)
        late: list[Submission] = []
        for d in DIRECTORATES:
            for ret in RETURN_TYPES:
                key = (quarter.index, d.short, ret)
                if key == (MISSING[2], MISSING[1], MISSING[0]):
                    continue
                if ret == "budget":
                    rows = budget_rows(d, quarter, wards)
                elif ret == "engagement":
                    rows = engagement[d.short]
                else:
                    rows = partnership_rows(d, quarter, registers[d.short][quarter.index])
                now, later, errors = submissions_for(key, rows, wards)
                subs += now
                late += later
                planned += errors
        subs += late
    return subs, planned


def manifest_csv(subs: list[Submission]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["return", "directorate", "quarter", "file", "user", "expect"])
    for s in subs:
        writer.writerow([s.ret, s.d.name, s.quarter.label, s.file, s.user, s.expect])
    return buf.getvalue().encode("utf-8")


def submission_bytes(sub: Submission, wards: list[Ward]) -> bytes:
    if sub.style == "xlsx":
        return xlsx_bytes(sub)
    data = csv_bytes(sub, {w.code: w for w in wards})
    return b"\xef\xbb\xbf" + data if sub.style == "bom" else data


def generate(out_dir: Path) -> list[str]:
    """Write the reference files, every return and the manifest under out_dir; return their paths."""
    out_dir = Path(out_dir)
    for sub_dir in ("reference", "returns"):
        shutil.rmtree(out_dir / sub_dir, ignore_errors=True)
    wards = make_wards()
    subs, _errors = plan(wards)
    files: dict[str, bytes] = {
        "reference/wards.csv": wards_csv(wards),
        "reference/directorates.csv": directorates_csv(),
        "reference/targets.csv": targets_csv(),
        "reference/boundaries.geojson": boundaries_geojson(wards),
        "manifest.csv": manifest_csv(subs),
    }
    for sub in subs:
        files[sub.file] = submission_bytes(sub, wards)
    for rel, data in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return sorted(files)


def rejected_errors(out_dir: Path = HERE) -> tuple[str, list[tuple[int, str, str, str]]]:
    """The rejected file and its planned errors as (line the user sees, column, value, reason)."""
    subs, errors = plan(make_wards())
    sub = next(s for s in subs if s.expect == "rejected")
    text = (Path(out_dir) / sub.file).read_bytes().decode("cp1252")
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    starts, line = [], reader.line_num
    for _record in reader:
        starts.append(line + 1)  # a record starts on the line after the previous one ended
        line = reader.line_num
    return sub.file, [(starts[e.row], e.column, e.value, e.reason) for e in errors]


def main() -> None:
    files = generate(HERE)
    print(f"wrote {len(files)} files under {HERE}")
    rejected, errors = rejected_errors(HERE)
    for line, column, value, reason in errors:
        print(f"rejected {rejected} line {line}, {column} = {value!r}: {reason}")


if __name__ == "__main__":
    main()
