"""Census 2021, IMD 2019 and ONS lookups as published, turned into the contract's ward figures.

Pure functions: they take tables already read (etl.read.RawTable: header + text cells by file
line) and return frames, notes and problems; etl.build_wards does the file I/O.

Census 2021 bulk CSVs (Nomis `census2021-tsNNN-<level>.csv`) have the columns
`date, geography, geography code, <Dimension>: <Category>[: <Sub-category>]`, some downloads
adding `; measures: Value` to each. Each table gives one of the contract's dimensions:

| table | ONS categories | contract groups |
| --- | --- | --- |
| TS021 ethnic group | the five broad groups (sub-categories must add up to them) | ethnicity_white/asian/black/mixed/other |
| TS007 age (single year) | single years of age | age_16_24, 25_44, 45_64, 65_plus: exact sums |
| TS007A age (five-year bands) | 15-19, 20-24, 25-29, ... 85+ | exact, except 16-24 (see below) |
| TS008 sex | Female, Male | female, male |
| TS038 disability | Disabled / Not disabled under the Equality Act | disabled, not_disabled |

Age bands: the finest bands in the file are used (those that contain no other band); each
contract group takes the bands inside it whole, and a band that straddles a group's edge is
split in proportion to the years it shares with the group, on the assumption that ages are spread
evenly within a band. With TS007A that is only 16-24: it takes 4/5 of 'Aged 15 to 19 years'
(ages 16-19 of 15-19) plus all of 'Aged 20 to 24 years'. With TS007 every group is an exact sum
of single years. Shares are rounded to whole people once, per ward, after aggregation.

A dimension whose table is not given is left blank ('not known'), never 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pandas as pd

from etl import contract as c
from etl.normalise import header_key
from etl.read import RawTable

ENGLAND_LSOAS_2019 = 32_844  # LSOAs (2011) ranked by the English Indices of Deprivation 2019
MOST_DEPRIVED_DECILES = 2  # 'most deprived' = IMD deciles 1 and 2 (the most deprived 20%)

_MEASURES = re.compile(r"\s*;\s*measures\s*:\s*value\s*$", re.IGNORECASE)
_LEVELS = {"E05": "ward", "W05": "ward", "E01": "lsoa", "W01": "lsoa", "E00": "oa", "W00": "oa"}

DIMENSION_NAMES: dict[str, str] = {
    "ethnic group": "ethnicity",
    "age": "age",
    "sex": "sex",
    "disability": "disability",
}
TABLE_HINT = {"ethnicity": "TS021", "age": "TS007/TS007A", "sex": "TS008", "disability": "TS038"}

_ETHNIC_BROAD = (
    ("asian", "ethnicity_asian"),
    ("black", "ethnicity_black"),
    ("mixed", "ethnicity_mixed"),
    ("white", "ethnicity_white"),
    ("other ethnic group", "ethnicity_other"),
)
_SEX = {"female": "female", "male": "male"}
_DISABILITY = {
    "disabled under the equality act": "disabled",
    "not disabled under the equality act": "not_disabled",
}
AGE_GROUPS: dict[str, tuple[int, float]] = {
    "age_16_24": (16, 24),
    "age_25_44": (25, 44),
    "age_45_64": (45, 64),
    "age_65_plus": (65, math.inf),
}


class OnsError(Exception):
    """A file cannot be used; `problems` says every reason in plain English."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class CensusTable:
    """One census file mapped to the contract's groups, per area (index = geography code)."""

    file_name: str
    dimension: str
    level: str  # ward | lsoa | oa
    names: pd.Series  # area name by code
    groups: pd.DataFrame  # float counts per contract group, plus 'total'
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Census


def _count(text: str) -> int | None:
    t = text.strip().replace(",", "")
    return int(t) if t.isdigit() else None


def _category_parts(title: str) -> list[str]:
    return [p.strip() for p in _MEASURES.sub("", title).split(": ")]


def read_census(raw: RawTable, file_name: str) -> CensusTable:
    """Map one Census 2021 bulk CSV onto the contract's groups, checking that its parts add up."""
    keys = [header_key(h) for h in raw.header]
    where = f"{file_name}:"
    try:
        code_pos = keys.index("geographycode")
        name_pos = keys.index("geography")
    except ValueError:
        raise OnsError([
            f"{where} is not a Census 2021 bulk CSV: its first columns should be 'date, geography, "
            "geography code', then one column per category such as 'Ethnic group: White'."
        ]) from None
    categories = {pos: _category_parts(h) for pos, h in enumerate(raw.header)
                  if pos not in (code_pos, name_pos) and keys[pos] != "date" and h.strip()}
    dims = {parts[0].lower() for parts in categories.values()}
    if len(dims) != 1 or any(len(p) < 2 for p in categories.values()):
        raise OnsError([f"{where} its category columns should all read '<Dimension>: <Category>' for one "
                        f"dimension; found {', '.join(sorted(dims)) or 'none'}."])
    dim_title = dims.pop()
    dimension = DIMENSION_NAMES.get(dim_title)
    if dimension is None:
        known = ", ".join(f"{t} ({TABLE_HINT[d]})" for t, d in DIMENSION_NAMES.items())
        raise OnsError([f"{where} '{dim_title}' is not a dimension the wards file holds; it takes {known}."])
    codes = raw.rows[code_pos].str.strip()
    problems = []
    values: dict[str, pd.Series] = {}
    for pos, parts in categories.items():
        label = ": ".join(parts[1:])
        parsed = raw.rows[pos].map(_count)
        for line in parsed.index[parsed.isna()][:5]:
            problems.append(f"{where} line {line}, column '{raw.header[pos]}': '{raw.rows.at[line, pos]}' "
                            "is not a count")
        values[label] = parsed
    levels = codes.str[:3].map(_LEVELS)
    for line in levels.index[levels.isna()][:5]:
        problems.append(f"{where} line {line}: '{codes[line]}' is not a ward (E05), LSOA (E01) or output area "
                        "(E00) code")
    found = sorted(set(levels.dropna()))
    if len(found) > 1:
        problems.append(f"{where} mixes geography levels ({', '.join(found)}); use one file per level")
    dup = codes[codes.duplicated()]
    if not dup.empty:
        problems.append(f"{where} area {dup.iloc[0]} appears more than once")
    if problems:
        raise OnsError(problems)
    frame = pd.DataFrame(values).astype("int64")
    frame.index = codes.to_numpy()
    names = pd.Series(raw.rows[name_pos].str.strip().to_numpy(), index=frame.index)
    mapper = {"ethnicity": _ethnicity, "age": _age, "sex": _sex, "disability": _disability}[dimension]
    groups, notes = mapper(frame, file_name)
    return CensusTable(file_name, dimension, found[0] if found else "ward", names, groups, notes)


def _total_column(frame: pd.DataFrame, file_name: str) -> str:
    totals = [col for col in frame.columns if col.lower().startswith("total") or col.lower() == "all persons"]
    if len(totals) != 1:
        raise OnsError([f"{file_name}: expected one total column (like 'Total: All usual residents'), "
                        f"found {len(totals)}"])
    return totals[0]


def _check_parts(frame: pd.DataFrame, parents: list[str], total: str, file_name: str) -> list[str]:
    """Sub-categories add up to their category; categories add up to the total."""
    problems = []
    for parent in parents:
        subs = [col for col in frame.columns if col.startswith(parent + ": ")]
        if subs:
            bad = frame.index[frame[subs].sum(axis=1) != frame[parent]]
            if len(bad):
                problems.append(f"{file_name}: in {bad[0]} (and {len(bad) - 1} more) the sub-categories of "
                                f"'{parent}' do not add up to it")
    bad = frame.index[frame[parents].sum(axis=1) != frame[total]]
    if len(bad):
        problems.append(f"{file_name}: in {bad[0]} (and {len(bad) - 1} more) the categories do not add up to "
                        f"'{total}'")
    return problems


def _named_groups(frame: pd.DataFrame, file_name: str, names: dict[str, str], what: str,
                  prefix: bool = False) -> tuple[pd.DataFrame, list[str]]:
    total = _total_column(frame, file_name)
    parents = [col for col in frame.columns if ": " not in col and col != total]
    out = pd.DataFrame(index=frame.index)
    unknown = []
    for col in parents:
        key = col.lower()
        group = next((g for k, g in names.items() if (key.startswith(k) if prefix else key == k)), None)
        if group is None:
            unknown.append(col)
        elif group in out:
            unknown.append(col)
        else:
            out[group] = frame[col].astype(float)
    problems = _check_parts(frame, parents, total, file_name)
    if unknown:
        problems.append(f"{file_name}: {what} categories not recognised: {', '.join(unknown)}")
    missing = [g for g in names.values() if g not in out]
    if missing and not unknown:
        problems.append(f"{file_name}: no column for {', '.join(missing)}")
    if problems:
        raise OnsError(problems)
    out["total"] = frame[total].astype(float)
    return out, []


def _ethnicity(frame: pd.DataFrame, file_name: str) -> tuple[pd.DataFrame, list[str]]:
    return _named_groups(frame, file_name, dict(_ETHNIC_BROAD), "ethnic group", prefix=True)


def _sex(frame: pd.DataFrame, file_name: str) -> tuple[pd.DataFrame, list[str]]:
    return _named_groups(frame, file_name, _SEX, "sex")


def _disability(frame: pd.DataFrame, file_name: str) -> tuple[pd.DataFrame, list[str]]:
    return _named_groups(frame, file_name, _DISABILITY, "disability")


_AGE_PATTERNS = (
    (re.compile(r"^aged under (\d+) years?$"), lambda m: (0, int(m[1]) - 1)),
    (re.compile(r"^aged (\d+) years? and under$"), lambda m: (0, int(m[1]))),
    (re.compile(r"^aged (\d+) to (\d+) years?$"), lambda m: (int(m[1]), int(m[2]))),
    (re.compile(r"^aged (\d+) years? and over$"), lambda m: (int(m[1]), math.inf)),
    (re.compile(r"^aged (\d+) years?$"), lambda m: (int(m[1]), int(m[1]))),
)


def age_band(label: str) -> tuple[int, float] | None:
    """(first, last) year of an ONS age category such as 'Aged 15 to 19 years'; None if not one."""
    text = " ".join(label.lower().split())
    for pattern, band in _AGE_PATTERNS:
        m = pattern.match(text)
        if m:
            return band(m)
    return None


def _age(frame: pd.DataFrame, file_name: str) -> tuple[pd.DataFrame, list[str]]:
    total = _total_column(frame, file_name)
    bands: dict[str, tuple[int, float]] = {}
    unknown = []
    for col in frame.columns:
        if col == total:
            continue
        band = age_band(col.split(": ")[-1])
        if band is None:
            unknown.append(col)
        else:
            bands[col] = band
    if unknown:
        raise OnsError([f"{file_name}: age categories not recognised: {', '.join(unknown[:5])}"])

    def inside(a: tuple[int, float], b: tuple[int, float]) -> bool:
        return b[0] <= a[0] and a[1] <= b[1] and a != b

    leaves = {col: b for col, b in bands.items() if not any(inside(o, b) for o in bands.values())}
    ordered = sorted(leaves.items(), key=lambda kv: kv[1][0])
    problems = []
    edge = 0
    for col, (lo, hi) in ordered:
        if lo != edge:
            problems.append(f"{file_name}: the age bands leave a gap or overlap at age {edge} ('{col}')")
            break
        edge = hi + 1
    if edge != math.inf:
        problems.append(f"{file_name}: the age bands stop at {edge - 1}; the last should be open ('and over')")
    leaf_cols = [col for col, _ in ordered]
    bad = frame.index[frame[leaf_cols].sum(axis=1) != frame[total]]
    if len(bad):
        problems.append(f"{file_name}: in {bad[0]} (and {len(bad) - 1} more) the ages do not add up to '{total}'")
    for col, band in bands.items():
        if col in leaves:
            continue
        parts = [lc for lc, lb in leaves.items() if inside(lb, band)]
        wrong = frame.index[frame[parts].sum(axis=1) != frame[col]]
        if len(wrong):
            problems.append(f"{file_name}: in {wrong[0]} the ages inside '{col}' do not add up to it")
    out = pd.DataFrame(index=frame.index)
    notes = []
    for group, (glo, ghi) in AGE_GROUPS.items():
        acc = pd.Series(0.0, index=frame.index)
        for col, (lo, hi) in ordered:
            shared = min(hi, ghi) - max(lo, glo) + 1
            if shared <= 0:
                continue
            width = hi - lo + 1
            if shared == width:
                acc += frame[col]
            elif math.isinf(width):
                problems.append(f"{file_name}: '{col}' is open-ended and straddles {group}, so it cannot be split")
            else:
                acc += frame[col] * (shared / width)
                notes.append(f"pop_{group} takes {int(shared)}/{int(width)} of '{col}' from {file_name} "
                             "(ages assumed evenly spread within the band)")
        out[group] = acc
    if problems:
        raise OnsError(problems)
    out["total"] = frame[total].astype(float)
    return out, notes


# ---------------------------------------------------------------------------------------------
# Lookups, IMD, neighbourhoods


@dataclass
class Lookup:
    """Small areas (LSOA or OA) to wards, best fit: each small area wholly in one ward."""

    file_name: str
    area_level: str  # lsoa | oa
    ward_column: str  # e.g. WD25CD: names the ward vintage
    ward_of: pd.Series  # ward code by small-area code
    ward_names: pd.Series  # ward name by ward code

    @property
    def vintage(self) -> str:
        return self.ward_column[:4].upper()


def _find(keys: list[str], *prefixes: str) -> int | None:
    for prefix in prefixes:
        for pos, key in enumerate(keys):
            if re.fullmatch(prefix, key):
                return pos
    return None


def read_lookup(raw: RawTable, file_name: str, council: str | None = None) -> Lookup:
    """An ONS best-fit lookup (LSOA21CD or OA21CD to WDnnCD, WDnnNM, optionally LADnnCD)."""
    keys = [header_key(h).lower() for h in raw.header]
    area = _find(keys, r"lsoa\d{2}cd", r"oa\d{2}cd")
    ward = _find(keys, r"wd\d{2}cd")
    ward_name = _find(keys, r"wd\d{2}nm")
    lad = _find(keys, r"lad\d{2}cd")
    if area is None or ward is None or ward_name is None:
        raise OnsError([f"{file_name}: not an ONS lookup: it needs columns like LSOA21CD (or OA21CD), WD25CD "
                        "and WD25NM"])
    rows = raw.rows
    if council:
        if lad is None:
            raise OnsError([f"{file_name}: --council needs a LADnnCD column in the lookup"])
        rows = rows[rows[lad].str.strip() == council]
        if rows.empty:
            raise OnsError([f"{file_name}: no row has {raw.header[lad]} = {council}"])
    elif lad is not None and rows[lad].str.strip().nunique() > 1:
        lads = ", ".join(sorted(rows[lad].str.strip().unique())[:6])
        raise OnsError([f"{file_name}: the lookup covers several councils ({lads}); say which with --council"])
    areas = rows[area].str.strip()
    dup = areas[areas.duplicated()]
    if not dup.empty:
        raise OnsError([f"{file_name}: {dup.iloc[0]} is in more than one ward; a best-fit lookup has one row per area"])
    ward_of = pd.Series(rows[ward].str.strip().to_numpy(), index=areas.to_numpy())
    names = (pd.Series(rows[ward_name].str.strip().to_numpy(), index=ward_of.to_numpy())
             .groupby(level=0).first())
    level = "lsoa" if keys[area].startswith("lsoa") else "oa"
    return Lookup(file_name, level, raw.header[ward].strip(), ward_of, names)


@dataclass
class Imd:
    """IMD 2019 rank and decile by LSOA (2011 codes), with the mid-2015 population if given."""

    rank: pd.Series
    decile: pd.Series
    population: pd.Series | None
    files: list[str]


def read_imd(tables: list[tuple[RawTable, str]]) -> Imd:
    """IMD 2019 File 1 or 2 (ranks, deciles), and optionally File 6 (population denominators)."""
    rank = decile = population = None
    for raw, name in tables:
        keys = [header_key(h).lower() for h in raw.header]
        code = _find(keys, r"lsoacode\(2011\)", r"lsoacode.*")
        if code is None:
            raise OnsError([f"{name}: not an IMD 2019 file: it has no 'LSOA code (2011)' column"])
        codes = raw.rows[code].str.strip().to_numpy()
        r = _find(keys, r"indexofmultipledeprivation\(imd\)rank.*")
        d = _find(keys, r"indexofmultipledeprivation\(imd\)decile.*")
        p = _find(keys, r"totalpopulation:mid2015.*")
        if r is None and p is None:
            raise OnsError([f"{name}: has neither the IMD rank (File 1) nor the total population (File 6)"])

        def ints(pos: int, what: str, raw: RawTable = raw, name: str = name, codes=codes) -> pd.Series:
            s = raw.rows[pos].map(_count)
            if s.isna().any():
                line = s.index[s.isna()][0]
                raise OnsError([f"{name}: line {line}: the {what} '{raw.rows.at[line, pos]}' is not a number"])
            return pd.Series(s.astype("int64").to_numpy(), index=codes)

        if r is not None:
            rank = ints(r, "IMD rank")
            decile = ints(d, "IMD decile") if d is not None else None
        if p is not None:
            population = ints(p, "population")
    if rank is None:
        raise OnsError(["--imd: give IMD 2019 File 1 (or File 2), which has the ranks; File 6 alone has only "
                        "populations"])
    if decile is None:
        decile = rank.map(rank_decile)
    return Imd(rank, decile, population, [n for _, n in tables])


def rank_decile(rank: float) -> int:
    """The national decile (1 = most deprived 10%) of an IMD 2019 rank among England's LSOAs."""
    return int(min(10, max(1, math.ceil(rank * 10 / ENGLAND_LSOAS_2019))))


def ward_imd(imd: Imd, lookup: Lookup) -> tuple[pd.DataFrame, list[str]]:
    """Per ward: LSOA count, (population-weighted) mean rank, decile, LSOAs in deciles 1-2 and share.

    Method: the ward's decile is the national decile of the mean IMD rank of its LSOAs, weighted
    by their mid-2015 population when IMD File 6 is given (else unweighted). A single decile hides
    pockets of deprivation, so the count and share of its LSOAs in deciles 1-2 are kept beside it.
    """
    notes = []
    lsoas = lookup.ward_of
    missing = sorted(set(lsoas.index) - set(imd.rank.index))
    if missing:
        notes.append(f"{len(missing)} LSOA(s) of the lookup have no IMD 2019 rank (LSOA codes changed between "
                     f"2011 and 2021) and are left out of their ward's IMD: {', '.join(missing[:10])}")
    known = lsoas[lsoas.index.isin(imd.rank.index)]
    frame = pd.DataFrame({"ward_code": known.to_numpy(), "rank": imd.rank[known.index].to_numpy(),
                          "decile": imd.decile[known.index].to_numpy()}, index=known.index)
    weighted = imd.population is not None and known.index.isin(imd.population.index).all()
    frame["weight"] = imd.population[known.index].to_numpy() if weighted else 1
    frame["weighted_rank"] = frame["rank"] * frame["weight"]
    frame["deprived"] = (frame["decile"] <= MOST_DEPRIVED_DECILES).astype(int)
    g = frame.groupby("ward_code")
    out = pd.DataFrame({
        "lsoa_count": g.size(),
        "imd_mean_rank": (g["weighted_rank"].sum() / g["weight"].sum()).round(0),
        "lsoas_in_deciles_1_2": g["deprived"].sum(),
    })
    out["imd_decile"] = out["imd_mean_rank"].map(rank_decile)
    out["imd_most_deprived_share"] = (out["lsoas_in_deciles_1_2"] / out["lsoa_count"]).round(3)
    notes.append("imd_decile: the national decile of the "
                 + ("mid-2015-population-weighted" if weighted else "unweighted (no IMD File 6 given)")
                 + f" mean IMD 2019 rank of the ward's LSOAs, against England's {ENGLAND_LSOAS_2019:,} LSOAs")
    out.index.name = "ward_code"
    return out.reset_index(), notes


def read_neighbourhoods(raw: RawTable, file_name: str) -> pd.Series:
    """The council's `ward_code,neighbourhood` file, as neighbourhood by ward code."""
    keys = [header_key(h).lower() for h in raw.header]
    if "wardcode" not in keys or "neighbourhood" not in keys:
        raise OnsError([f"{file_name}: needs the columns ward_code and neighbourhood"])
    codes = raw.rows[keys.index("wardcode")].str.strip()
    hoods = raw.rows[keys.index("neighbourhood")].str.strip()
    problems = [f"{file_name}: line {line}: no neighbourhood for {codes[line]}" for line in hoods.index[hoods == ""]]
    dup = codes[codes.duplicated()]
    problems += [f"{file_name}: line {line}: {code} is listed twice" for line, code in dup.items()]
    if problems:
        raise OnsError(problems)
    return pd.Series(hoods.to_numpy(), index=codes.to_numpy())


# ---------------------------------------------------------------------------------------------
# Vintages and the wards frame


def code_range(codes: list[str] | set[str] | pd.Index) -> str:
    """'25 wards, E05000840-E05000864' for a report."""
    s = sorted(codes)
    return f"{len(s)} ward{'s' if len(s) != 1 else ''}, {s[0]}-{s[-1]}" if s else "no wards"


def vintage_problems(sets: list[tuple[str, str, set[str]]]) -> list[str]:
    """Ward sets (file, vintage label, codes) that differ: name which file is on which vintage."""
    base_file, base_label, base = sets[0]
    problems = []
    for file_name, label, codes in sets[1:]:
        if codes == base:
            continue
        only_a, only_b = sorted(base - codes), sorted(codes - base)
        kind = ("different ward vintages" if not base & codes
                else "partly different wards (a boundary change, or a file for another area)")
        problems.append(
            f"{base_file} and {file_name} are on {kind}: {base_file} is on {base_label} ({code_range(base)}); "
            f"{file_name} is on {label} ({code_range(codes)}). "
            f"Only in {base_file}: {', '.join(only_a[:5]) or 'none'}; only in {file_name}: {', '.join(only_b[:5]) or 'none'}."
        )
    return problems


def census_vintage(table: CensusTable, lookup: Lookup | None) -> str:
    """How a census file's wards are labelled in a vintage report."""
    if table.level != "ward":
        return f"{lookup.vintage} via {lookup.file_name}" if lookup else table.level
    return "WD22 (ONS publishes Census 2021 ward tables on the May 2022 wards)"


def to_wards(table: CensusTable, lookup: Lookup | None) -> CensusTable:
    """A census table on wards: as it is at ward level, else summed over the lookup's small areas."""
    if table.level == "ward":
        if lookup is not None:
            keep = table.groups.index.isin(lookup.ward_names.index)
            if keep.any():
                return CensusTable(table.file_name, table.dimension, "ward", table.names[keep],
                                   table.groups[keep], table.notes)
        return table
    if lookup is None:
        raise OnsError([f"{table.file_name}: is at {table.level.upper()} level; give --lsoa-lookup to add it up to wards"])
    if lookup.area_level != table.level:
        raise OnsError([f"{table.file_name}: is at {table.level.upper()} level but {lookup.file_name} looks up "
                        f"{lookup.area_level.upper()}s"])
    missing = sorted(set(lookup.ward_of.index) - set(table.groups.index))
    if missing:
        raise OnsError([f"{table.file_name}: has no row for {len(missing)} area(s) of {lookup.file_name}: "
                        f"{', '.join(missing[:10])}"])
    groups = table.groups.loc[lookup.ward_of.index]
    summed = groups.groupby(lookup.ward_of.to_numpy()).sum()
    notes = [*table.notes, f"{table.file_name}: {len(groups):,} {table.level.upper()}s added up to "
             f"{len(summed)} wards through {lookup.file_name} (best fit: each area wholly in one ward)"]
    return CensusTable(table.file_name, table.dimension, "ward", lookup.ward_names[summed.index], summed, notes)


def wards_frame(
    tables: list[CensusTable],
    neighbourhoods: pd.Series | None,
    imd: pd.DataFrame | None,
) -> tuple[pd.DataFrame, list[str]]:
    """The contract's wards table from census tables already on one ward set (blank = not known)."""
    notes: list[str] = []
    codes = sorted(tables[0].groups.index)
    names = tables[0].names
    out = pd.DataFrame({"ward_code": codes, "ward_name": [names[c] for c in codes]})
    out["neighbourhood"] = (out["ward_code"].map(neighbourhoods) if neighbourhoods is not None
                            else out["ward_name"])
    totals = pd.DataFrame({t.dimension: t.groups["total"].reindex(codes) for t in tables})
    out["population_total"] = totals.max(axis=1).round().astype("Int64").to_numpy()
    spread = (totals.max(axis=1) - totals.min(axis=1)).max()
    if len(tables) > 1:
        notes.append(f"population_total is the largest of the tables' totals for each ward; they differ by at most "
                     f"{int(spread):,} (ONS perturbs each table slightly to protect confidentiality)")
    given = {t.dimension: t for t in tables}
    for dimension, groups in c.DIMENSIONS.items():
        for g in groups:
            col = f"pop_{g}"
            if dimension in given:
                out[col] = given[dimension].groups[g].reindex(codes).round().astype("Int64").to_numpy()
            else:
                out[col] = pd.array([pd.NA] * len(codes), dtype="Int64")
    missing = [d for d in c.DIMENSIONS if d not in given]
    if missing:
        notes.append("not given, left blank (not known): " + ", ".join(
            f"{d} ({TABLE_HINT[d]})" for d in missing))
    if imd is not None:
        out["imd_decile"] = out["ward_code"].map(imd.set_index("ward_code")["imd_decile"]).astype("Int64")
    else:
        out["imd_decile"] = pd.array([pd.NA] * len(codes), dtype="Int64")
    return out[list(c.WARD_COLUMNS)], notes
