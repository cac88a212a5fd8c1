"""`etl build-wards`: read ONS's files as published and write the contract's wards file.

The file I/O around etl.ons: read each file, put census and IMD on one ward set, run the vintage
check, check the result with the same validation as `etl load-reference wards`, and say in a
report what was used, what was approximated and what was left unknown.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from etl import ons
from etl.read import RawTable, ReadError, read_table
from etl.validate import Reference, validate_reference


@dataclass
class Built:
    """The wards table, the IMD detail per ward (or None), and the report's lines."""

    wards: pd.DataFrame
    imd: pd.DataFrame | None
    report: list[str] = field(default_factory=list)
    vintage: str = ""


def _read(path: Path) -> tuple[RawTable, str]:
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ons.OnsError([f"{path}: cannot be read ({exc.strerror or exc})"]) from exc
    try:
        return read_table(content, path.name), path.name
    except ReadError as exc:
        raise ons.OnsError([f"{path.name}: {exc}"]) from exc


def build(
    census: list[Path],
    *,
    imd: list[Path] | None = None,
    lookup: Path | None = None,
    neighbourhoods: Path | None = None,
    council: str | None = None,
) -> Built:
    """Build the wards table from the files; raises ons.OnsError listing every problem."""
    problems: list[str] = []
    tables: list[ons.CensusTable] = []
    for path in census:
        try:
            tables.append(ons.read_census(*_read(path)))
        except ons.OnsError as exc:
            problems.extend(exc.problems)
    seen: dict[str, str] = {}
    for t in tables:
        if t.dimension in seen:
            problems.append(f"{t.file_name} and {seen[t.dimension]} both give {t.dimension}; give one file per dimension")
        seen[t.dimension] = t.file_name
    look = None
    if lookup is not None:
        try:
            look = ons.read_lookup(*_read(lookup), council=council)
        except ons.OnsError as exc:
            problems.extend(exc.problems)
    elif imd:
        problems.append("--imd needs --lsoa-lookup: IMD 2019 is published for LSOAs, and the lookup says which "
                        "ward each LSOA is in")
    hoods = None
    if neighbourhoods is not None:
        try:
            hoods = ons.read_neighbourhoods(*_read(neighbourhoods))
        except ons.OnsError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ons.OnsError(problems)

    on_wards = []
    for t in tables:
        try:
            on_wards.append(ons.to_wards(t, look))
        except ons.OnsError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ons.OnsError(problems)
    if hoods is None and look is None and on_wards and len(on_wards[0].groups) > 400:
        raise ons.OnsError([f"{on_wards[0].file_name} has {len(on_wards[0].groups):,} wards, which looks like a "
                            "national file; give --neighbourhoods (your wards) or --lsoa-lookup with --council "
                            "to pick your council's wards"])
    if hoods is not None and look is None:
        on_wards = [_only(t, set(hoods.index)) for t in on_wards]

    # Vintage check: every file must name the same ward set.
    sets = [(t.file_name, ons.census_vintage(tables[i], look), set(t.groups.index)) for i, t in enumerate(on_wards)]
    if look is not None:
        sets.append((look.file_name, f"{look.vintage} (its column {look.ward_column})", set(look.ward_names.index)))
    if hoods is not None:
        sets.append((neighbourhoods.name, "the wards it lists", set(hoods.index)))
    problems = ons.vintage_problems(sets)
    if problems:
        if look is not None and any(t.level == "ward" for t in tables):
            problems.append("To put census and IMD on the same, current wards, use the census tables at LSOA level "
                            "(census2021-tsNNN-lsoa.csv in the same Nomis download) with --lsoa-lookup; or leave "
                            "out --imd and --lsoa-lookup to build the wards the census tables are on.")
        raise ons.OnsError(problems)

    report: list[str] = []
    for name, label, codes in sets:
        report.append(f"{name}: {label}; {ons.code_range(codes)}")
    ward_imd = None
    if imd:
        try:
            imd_data = ons.read_imd([_read(p) for p in imd])
        except ons.OnsError as exc:
            raise ons.OnsError(exc.problems) from None
        ward_imd, imd_notes = ons.ward_imd(imd_data, look)
        report.extend(imd_notes)
        deprived = int(ward_imd["lsoas_in_deciles_1_2"].sum())
        report.append(
            f"IMD 2019: {deprived} of {int(ward_imd['lsoa_count'].sum())} LSOAs are in deciles 1-2, in "
            f"{int((ward_imd['lsoas_in_deciles_1_2'] > 0).sum())} wards; "
            f"{int((ward_imd['imd_decile'] <= 2).sum())} wards have a decile of 2 or less")
    wards, notes = ons.wards_frame(on_wards, hoods, ward_imd)
    for t in on_wards:
        report.extend(dict.fromkeys(t.notes))
    report.extend(notes)
    if hoods is None:
        report.append("No --neighbourhoods file: each ward is its own neighbourhood (named after the ward)")
    report.append(f"Wards: {len(wards)}; population_total {int(wards['population_total'].sum()):,}")
    vintage = look.vintage if look is not None else ("WD22" if all(t.level == "ward" for t in tables) else "")
    return Built(wards, ward_imd, report, vintage)


def _only(t: ons.CensusTable, codes: set[str]) -> ons.CensusTable:
    keep = t.groups.index.isin(codes)
    if not keep.any():
        return t  # no overlap at all: the vintage check says so
    return ons.CensusTable(t.file_name, t.dimension, t.level, t.names[keep], t.groups[keep], t.notes)


def wards_csv(wards: pd.DataFrame) -> bytes:
    """The wards table as CSV bytes (a blank cell where a count is not known)."""
    buf = io.StringIO()
    wards.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def check_loads(content: bytes, file_name: str) -> list[str]:
    """The problems `etl load-reference wards` would find in the file (none: it loads)."""
    checked = validate_reference(read_table(content, file_name), "wards", Reference())
    return [f"line {p.line}, {p.column}: '{p.value}' {p.reason}" if p.line else p.reason for p in checked.problems]
