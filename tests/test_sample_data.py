"""The demo council in sample_data/: reproducible, valid under the data contract, and showing the
patterns the dashboard is meant to reveal.

The checks read the committed files with a small stand-alone reader that follows the contract
(encodings, separators, .xlsx, '£1,234.50', UK dates, Yes/No, enum spellings, ward names), so
they do not depend on the ETL package and fail if a sample file would be rejected by it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from etl.contract import (
    ARRANGEMENTS,
    DIMENSIONS,
    DIRECTORATE_COLUMNS,
    KPI_NAMES,
    MECHANISMS,
    METHODS,
    OPTIONAL_COLUMNS,
    PARTNER_TYPES,
    RETURN_COLUMNS,
    RETURN_TYPES,
    STAGES,
    TARGET_COLUMNS,
    WARD_COLUMNS,
)
from sample_data.generate import generate, rejected_errors

ROOT = Path(__file__).resolve().parents[1] / "sample_data"
REF = ROOT / "reference"
GENERATED_GLOBS = ("reference/*", "returns/*/*", "manifest.csv")

COLD_SPOTS = {"Foundry Lane", "Lower Kell", "Mill Brow"}
RECOVERING = "Tanpits"  # a cold spot until 2025-26 Q2, not from 2025-26 Q3
LAGGING = "Environment and Transport"
QUARTERS = [f"{y}-{(y + 1) % 100:02d} Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4)]
REJECTED_FILE = "returns/2025-26_Q2/ple_budget.csv"


# ----------------------------------------------------------------------------------------------
# A minimal contract reader
# ----------------------------------------------------------------------------------------------


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", str(text).strip().lower())


def header_key(text: str) -> str:
    return re.sub(r"[\s_]+", "", str(text).strip().lower())


def read_records(path: Path, ret: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, cells as text) for each non-blank record."""
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = book[ret] if ret in book.sheetnames else book.worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        book.close()

        def text(v: object) -> str:
            if v is None:
                return ""
            if isinstance(v, datetime):
                return v.date().isoformat()
            if isinstance(v, float) and v.is_integer():
                return str(int(v))
            return str(v)

        header = [text(v) for v in rows[0]]
        records = [(n, [text(v) for v in row]) for n, row in enumerate(rows[1:], start=2)]
    else:
        data = path.read_bytes()
        try:
            content = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = data.decode("cp1252")
        first = content.splitlines()[0]
        delimiter = ";" if first.count(";") > first.count(",") else ","
        reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
        header = next(reader)
        records, line = [], reader.line_num
        for cells in reader:
            records.append((line + 1, cells))
            line = reader.line_num
    return header, [(n, cells) for n, cells in records if any(c.strip() for c in cells)]


def parse_money(text: str) -> float:
    t = text.strip().removeprefix("£")
    if not re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d+)?", t):
        raise ValueError("not an amount")
    return float(t.replace(",", ""))


def parse_date(text: str) -> date:
    t = text.strip()
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+)?", t):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", t):
        return date(int(m[3]), int(m[2]), int(m[1]))
    raise ValueError("not a date")


def parse_bool(text: str) -> bool:
    return {
        "true": True,
        "yes": True,
        "y": True,
        "1": True,
        "false": False,
        "no": False,
        "n": False,
        "0": False,
    }[squash(text)]


def parse_int(text: str) -> int:
    if not re.fullmatch(r"\d+", text.strip()):
        raise ValueError("not a whole number")
    return int(text)


def enum(text: str) -> str:
    return re.sub(r"[\s-]+", "_", squash(text))


def parse_quarter(text: str) -> str:
    t = text.strip().upper()
    for pattern in (r"(?:FY)?(\d{4})[-/](\d{2})[\s-]+Q([1-4])", r"Q([1-4])\s+(\d{4})[-/](\d{2})"):
        if m := re.fullmatch(pattern, t):
            y, yy, q = (m[1], m[2], m[3]) if len(m[1]) == 4 else (m[2], m[3], m[1])
            return f"{y}-{yy} Q{q}"
    raise ValueError("not a quarter")


def quarter_bounds(label: str) -> tuple[date, date]:
    y, q = int(label[:4]), int(label[-1])
    month = 4 + 3 * (q - 1)
    start = date(y + (month > 12), (month - 1) % 12 + 1, 1)
    end_month = month + 3
    end = date(y + (end_month > 12), (end_month - 1) % 12 + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


class Reference:
    def __init__(self) -> None:
        self.wards = pd.read_csv(REF / "wards.csv", dtype={"ward_code": str})
        self.directorates = pd.read_csv(REF / "directorates.csv")
        self.ward_by_name = {
            squash(n): c for n, c in zip(self.wards.ward_name, self.wards.ward_code, strict=True)
        }
        self.codes = set(self.wards.ward_code)
        self.dir_by_name = {}
        for name, short in zip(
            self.directorates.directorate, self.directorates.short_name, strict=True
        ):
            self.dir_by_name[squash(name)] = name
            self.dir_by_name[squash(short)] = name

    def ward(self, text: str) -> str:
        if text.strip().upper() in self.codes:
            return text.strip().upper()
        return self.ward_by_name[squash(text)]


def validate(path: Path, ret: str, directorate: str, quarter: str, ref: Reference):
    """(parsed rows, errors as (line, column, value, reason)) under the contract's rules."""
    header, records = read_records(path, ret)
    expected = RETURN_COLUMNS[ret]
    keys = {header_key(c): c for c in expected}
    columns = [keys.get(header_key(h)) for h in header]
    errors: list[tuple[int, str, str, str]] = []
    for h, c in zip(header, columns, strict=True):
        if c is None:
            errors.append((1, h, h, "unknown column"))
    missing = set(expected) - set(columns) - OPTIONAL_COLUMNS[ret]
    errors += [(1, c, "", "missing column") for c in sorted(missing)]
    q_start, q_end = quarter_bounds(quarter)
    rows, seen = [], set()
    for line, cells in records:
        raw = {c: cells[i].strip() if i < len(cells) else "" for i, c in enumerate(columns) if c}
        row: dict = {"_line": line}

        def fail(col: str, why: str, _line: int = line, _raw: dict = raw) -> None:
            errors.append((_line, col, _raw.get(col, ""), why))

        def get(col: str, parser, required: bool = True, _raw: dict = raw, _row: dict = row):
            text = _raw.get(col, "")
            if text == "":
                if required:
                    fail(col, "required")
                _row[col] = None
                return None
            try:
                _row[col] = parser(text)
            except (ValueError, KeyError):
                fail(col, "cannot read")
                _row[col] = None
            return _row[col]

        if get("directorate", lambda t: ref.dir_by_name[squash(t)]) not in (None, directorate):
            fail("directorate", "not the submission's directorate")
        if get("quarter", parse_quarter) not in (None, quarter):
            fail("quarter", "not the submission's quarter")
        ward = get("ward_code", ref.ward, required=False)
        if ret == "budget":
            line_text = get("budget_line", str)
            if line_text is not None and not 1 <= len(line_text) <= 200:
                fail("budget_line", "length")
            if (line_text, ward) in seen:
                fail("budget_line", "duplicate")
            seen.add((line_text, ward))
            total = get("total_budget_gbp", parse_money)
            devolved = get("devolved_gbp", parse_money)
            mechanism = get("mechanism", enum, required=False)
            if total is not None and devolved is not None and devolved > total:
                fail("devolved_gbp", "above total")
            if devolved and mechanism in (None, "none"):
                fail("mechanism", "required when devolved")
            if devolved == 0 and mechanism not in (None, "none"):
                fail("mechanism", "must be blank when nothing devolved")
            if mechanism not in (None, "none", *MECHANISMS):
                fail("mechanism", "unknown")
        elif ret == "engagement":
            activity = get("activity_id", str)
            if activity in seen:
                fail("activity_id", "duplicate")
            seen.add(activity)
            day = get("activity_date", parse_date)
            if day is not None and not q_start <= day <= q_end:
                fail("activity_date", "outside the quarter")
            if get("method", enum) not in METHODS:
                fail("method", "unknown")
            if get("stage", enum) not in STAGES:
                fail("stage", "unknown")
            total = get("participants_total", parse_int)
            for groups in DIMENSIONS.values():
                counts = [get(g, parse_int, required=False) or 0 for g in groups]
                for g, n in zip(groups, counts, strict=True):
                    row[g] = n
                if total is not None and sum(counts) > total:
                    fail(groups[0], "demographic sum above participants_total")
            get("feedback_published", parse_bool)
        else:
            pid = get("partnership_id", str)
            if pid in seen:
                fail("partnership_id", "duplicate")
            seen.add(pid)
            get("partner_name", str)
            if get("partner_type", enum) not in PARTNER_TYPES:
                fail("partner_type", "unknown")
            arrangement = get("arrangement", enum)
            if arrangement not in ARRANGEMENTS:
                fail("arrangement", "unknown")
            start = get("start_date", parse_date)
            end = get("end_date", parse_date, required=False)
            if start is not None and start > q_end:
                fail("start_date", "after the quarter")
            if end is not None and (end < q_start or (start is not None and end < start)):
                fail("end_date", "before the start or the quarter")
            get("annual_value_gbp", parse_money, required=False)
            lease = get("lease_years", parse_int, required=False)
            if arrangement == "community_asset_transfer" and not (lease and lease >= 1):
                fail("lease_years", "required for community asset transfer")
            if arrangement != "community_asset_transfer" and lease is not None:
                fail("lease_years", "only for community asset transfer")
        rows.append(row)
    return rows, errors


# ----------------------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ref() -> Reference:
    return Reference()


@pytest.fixture(scope="module")
def manifest() -> pd.DataFrame:
    return pd.read_csv(ROOT / "manifest.csv", dtype=str, keep_default_na=False)


def load_all(manifest: pd.DataFrame, ref: Reference) -> dict:
    """Every manifest file validated; the newest accepted one of each return kept as a frame."""
    results, current = {}, {}
    for m in manifest.itertuples(index=False):
        rows, errors = validate(ROOT / m.file, m._0, m.directorate, m.quarter, ref)
        results[m.file] = errors
        if m.expect == "accepted":
            current[(m._0, m.directorate, m.quarter)] = rows
    frames = {}
    for ret in RETURN_TYPES:
        parts = [
            pd.DataFrame(rows).assign(directorate=d, quarter=q)
            for (r, d, q), rows in current.items()
            if r == ret and rows
        ]
        frames[ret] = pd.concat(parts, ignore_index=True)
    return {"errors": results, "current": current, **frames}


@pytest.fixture(scope="module")
def loaded(manifest: pd.DataFrame, ref: Reference) -> dict:
    return load_all(manifest, ref)


# ----------------------------------------------------------------------------------------------
# Reproducibility and the manifest
# ----------------------------------------------------------------------------------------------


def committed_files() -> list[str]:
    return sorted(
        str(p.relative_to(ROOT)) for g in GENERATED_GLOBS for p in ROOT.glob(g) if p.is_file()
    )


def test_generator_is_deterministic(tmp_path: Path) -> None:
    written = generate(tmp_path)
    assert written == committed_files()
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (ROOT / rel).read_bytes(), rel


def test_manifest_names_existing_files_in_load_order(manifest: pd.DataFrame) -> None:
    assert list(manifest.columns) == ["return", "directorate", "quarter", "file", "user", "expect"]
    for rel in manifest.file:
        assert (ROOT / rel).is_file(), rel
    assert set(manifest.expect) == {"accepted", "rejected"}
    assert all(manifest.user.str.len() > 3)
    assert manifest.file.is_unique
    order = [QUARTERS.index(q) for q in manifest.quarter]
    assert order == sorted(order)
    assert set(manifest.quarter) == set(QUARTERS)
    assert set(manifest.file) == {f for f in committed_files() if f.startswith("returns/")}

    keys = list(zip(manifest["return"], manifest.directorate, manifest.quarter, strict=True))
    counts = Counter(keys)
    rejected = manifest[manifest.expect == "rejected"]
    assert list(rejected.file) == [REJECTED_FILE]
    resent = [k for k, n in counts.items() if n > 1]
    assert len(resent) == 2
    for key in resent:
        rows = manifest[[k == key for k in keys]]
        assert rows.expect.iloc[-1] == "accepted"  # the last one is the one that counts
    # Every return of every directorate in every quarter, except one register not yet sent.
    directorates = pd.read_csv(REF / "directorates.csv").directorate
    expected = {(r, d, q) for r in RETURN_TYPES for d in directorates for q in QUARTERS}
    assert expected - set(keys) == {("partnerships", "Children and Families", "2025-26 Q4")}


def test_file_formats_are_a_realistic_mix(manifest: pd.DataFrame) -> None:
    files = [ROOT / f for f in manifest.file]
    xlsx = [f for f in files if f.suffix == ".xlsx"]
    assert 2 <= len(xlsx) <= 3
    for f in xlsx:
        assert any(
            ret in openpyxl.load_workbook(f, read_only=True).sheetnames for ret in RETURN_TYPES
        )
    raw = [f.read_bytes() for f in files if f.suffix == ".csv"]
    cp1252 = [b for b in raw if b"\xa3" in b]  # '£' in Windows-1252
    assert len(cp1252) >= 3
    assert all(re.search(rb"\d{2}/\d{2}/\d{4}|\xa3", b) for b in cp1252)
    assert sum(b.startswith(b"\xef\xbb\xbf") for b in raw) >= 2
    assert sum(b.split(b"\n")[0].count(b";") > 3 for b in raw) == 1


# ----------------------------------------------------------------------------------------------
# Reference data
# ----------------------------------------------------------------------------------------------


def test_reference_totals_are_consistent(ref: Reference) -> None:
    w = ref.wards
    assert list(w.columns) == list(WARD_COLUMNS)
    assert len(w) == 24 and w.ward_code.is_unique and w.ward_name.is_unique
    assert w.neighbourhood.nunique() == 5
    assert w.ward_code.str.fullmatch(r"E059000\d\d").all()
    assert w.population_total.between(8000, 16000).all()
    assert (w.pop_female + w.pop_male == w.population_total).all()
    ethnicity = [f"pop_{g}" for g in DIMENSIONS["ethnicity"]]
    assert (w[ethnicity].sum(axis=1) == w.population_total).all()
    assert (w.pop_disabled + w.pop_not_disabled == w.population_total).all()
    age_16_plus = w[[f"pop_{g}" for g in DIMENSIONS["age"]]].sum(axis=1)
    under_16 = 1 - age_16_plus / w.population_total
    assert under_16.between(0.15, 0.25).all() and abs(under_16.mean() - 0.19) < 0.02
    assert (w.pop_disabled / w.population_total).between(0.17, 0.22).all()
    assert w.imd_decile.between(1, 10).all()
    diverse = (w.pop_ethnicity_asian + w.pop_ethnicity_black) / w.population_total
    assert (diverse >= 0.3).sum() >= 2 and (
        w.pop_ethnicity_white / w.population_total > 0.85
    ).sum() >= 12
    deprived = w[w.imd_decile <= 2]
    assert len(deprived) >= 2 and deprived.neighbourhood.nunique() == 1


def test_directorates_and_targets(ref: Reference) -> None:
    d = ref.directorates
    assert list(d.columns) == list(DIRECTORATE_COLUMNS) and len(d) == 6
    assert d.directorate.is_unique and d.short_name.is_unique
    t = pd.read_csv(REF / "targets.csv", dtype={"financial_year": str}, keep_default_na=False)
    assert list(t.columns) == list(TARGET_COLUMNS)
    council = t[t.directorate == ""]
    for fy in ("2024-25", "2025-26"):
        assert set(council[council.financial_year == fy].kpi) == set(KPI_NAMES)
    assert set(t.kpi) <= set(KPI_NAMES)
    assert set(t.directorate) - {""} <= set(d.directorate) and (t.directorate != "").sum() >= 3
    assert set(t.direction) == {"higher_is_better", "lower_is_better"}
    assert not t.duplicated(["kpi", "directorate", "financial_year"]).any()


def test_boundaries_are_one_hexagon_per_ward(ref: Reference) -> None:
    geo = json.loads((REF / "boundaries.geojson").read_text("utf-8"))
    assert geo["type"] == "FeatureCollection"
    codes = [f["properties"]["ward_code"] for f in geo["features"]]
    assert sorted(codes) == sorted(ref.codes)
    edges: dict[tuple, list[str]] = {}
    hood = dict(zip(ref.wards.ward_code, ref.wards.neighbourhood, strict=True))
    for f in geo["features"]:
        assert f["geometry"]["type"] == "Polygon" and len(f["geometry"]["coordinates"]) == 1
        ring = f["geometry"]["coordinates"][0]
        assert len(ring) == 7 and ring[0] == ring[-1]
        assert all(round(x, 6) == x for pt in ring for x in pt)
        assert all(-2.6 < lon < -2.0 and 53.4 < lat < 53.8 for lon, lat in ring)
        area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False))
        assert area > 0  # anticlockwise exterior ring
        for a, b in zip(ring, ring[1:], strict=False):
            edges.setdefault(tuple(sorted((tuple(a), tuple(b)))), []).append(
                f["properties"]["ward_code"]
            )
    # Each neighbourhood is contiguous: its hexagons are connected through shared edges.
    links = [pair for pair in edges.values() if len(pair) == 2]
    for name, group in ref.wards.groupby("neighbourhood"):
        members = set(group.ward_code)
        reached, frontier = set(), [next(iter(members))]
        while frontier:
            code = frontier.pop()
            reached.add(code)
            frontier += [
                b if a == code else a
                for a, b in links
                if code in (a, b) and hood[a] == hood[b] == name and {a, b} - reached
            ]
        assert reached == members, name


# ----------------------------------------------------------------------------------------------
# Returns are valid (and the rejected one is wrong in exactly the planned ways)
# ----------------------------------------------------------------------------------------------


def test_every_accepted_file_is_valid(manifest: pd.DataFrame, loaded: dict) -> None:
    for m in manifest.itertuples(index=False):
        errors = loaded["errors"][m.file]
        if m.expect == "accepted":
            assert errors == [], (m.file, errors)


def test_rejected_file_has_the_planned_errors(loaded: dict) -> None:
    rejected, planned = rejected_errors(ROOT)
    assert rejected == REJECTED_FILE
    assert {c for _l, c, _v, _w in planned} == {"devolved_gbp", "ward_code", "quarter", "mechanism"}
    errors = loaded["errors"][REJECTED_FILE]
    assert [(line, col) for line, col, _v, _w in errors] == [
        (line, col) for line, col, _v, _w in planned
    ]
    assert [v for _l, c, v, _w in errors if c == "ward_code"] == ["Foundary Lane"]
    text = (ROOT / REJECTED_FILE).read_bytes().decode("cp1252")
    assert '"Heritage and arts fund \u2013\nTown Hall' in text  # a quoted field spanning two lines


def test_return_sizes_and_borough_wide_rows(loaded: dict) -> None:
    limits = {"budget": (6, 15), "engagement": (8, 40), "partnerships": (5, 25)}
    for (ret, d, q), rows in loaded["current"].items():
        low, high = limits[ret]
        assert low <= len(rows) <= high, (ret, d, q, len(rows))
    for ret in ("budget", "engagement"):
        borough_wide = loaded[ret].ward_code.isna().mean()
        assert 0.12 <= borough_wide <= 0.28, (ret, borough_wide)


def test_partnership_registers_are_stable_and_mixed(loaded: dict) -> None:
    p = loaded["partnerships"]
    fixed = [
        "partner_name",
        "partner_type",
        "arrangement",
        "ward_code",
        "start_date",
        "end_date",
        "annual_value_gbp",
        "lease_years",
    ]
    per_id = p.groupby(["directorate", "partnership_id"])[fixed].nunique(dropna=False)
    assert (per_id <= 1).all().all()  # an id means the same partnership every quarter
    cat = p[p.arrangement == "community_asset_transfer"].drop_duplicates(
        ["directorate", "partnership_id"]
    )
    assert (cat.lease_years >= 25).sum() >= 3 and (cat.lease_years < 25).sum() >= 3
    new = p[
        [
            quarter_bounds(q)[0] <= s <= quarter_bounds(q)[1]
            for q, s in zip(p.quarter, p.start_date, strict=True)
        ]
    ]
    assert len(new) >= 20


# ----------------------------------------------------------------------------------------------
# The patterns the demo must show
# ----------------------------------------------------------------------------------------------


def shares_by(frame: pd.DataFrame, by: list[str], num: pd.Series, den: pd.Series) -> pd.Series:
    g = frame.assign(_n=num, _d=den).groupby(by)
    return g._n.sum() / g._d.sum()


def test_devolved_and_early_engagement_trend_upwards(loaded: dict) -> None:
    b, e = loaded["budget"], loaded["engagement"]
    devolved = shares_by(b, ["quarter"], b.devolved_gbp, b.total_budget_gbp)
    early = (
        e.assign(early=(e.stage == "priority_setting") | (e.method == "codesign"))
        .groupby("quarter")
        .early.mean()
    )
    for series, gain in ((devolved, 0.08), (early, 0.15)):
        values = [series[q] for q in QUARTERS]
        assert values[-1] - values[0] > gain
        assert sum(values[4:]) / 4 > sum(values[:4]) / 4
        assert sum(b > a for a, b in zip(values, values[1:], strict=False)) >= 5


def test_one_directorate_lags_behind(loaded: dict) -> None:
    b, e, p = loaded["budget"], loaded["engagement"], loaded["partnerships"]
    devolved = shares_by(
        b, ["directorate", "quarter"], b.devolved_gbp, b.total_budget_gbp
    ).unstack()
    early = (
        e.assign(x=(e.stage == "priority_setting") | (e.method == "codesign"))
        .groupby("directorate")
        .x.mean()
    )
    feedback = e.groupby("directorate").feedback_published.mean()
    partners = p.groupby("directorate").partnership_id.nunique()
    others = [d for d in devolved.index if d != LAGGING]
    assert (devolved.loc[LAGGING] < devolved.loc[others].min()).all()
    assert devolved.loc[LAGGING].max() < 0.5 * devolved.loc[others].mean().mean()
    for kpi in (early, feedback, partners):
        assert kpi[LAGGING] < kpi[others].min()


def participation(loaded: dict, ref: Reference) -> pd.DataFrame:
    """participation_per_1000 by ward and quarter (0 where a ward had no activity)."""
    e = loaded["engagement"].dropna(subset=["ward_code"])
    people = e.groupby(["quarter", "ward_code"]).participants_total.sum().unstack(fill_value=0)
    people = people.reindex(columns=ref.wards.ward_code, fill_value=0)
    return 1000 * people / ref.wards.set_index("ward_code").population_total


def test_cold_spots(loaded: dict, ref: Reference) -> None:
    rate = participation(loaded, ref)
    names = dict(zip(ref.wards.ward_code, ref.wards.ward_name, strict=True))
    k = math.ceil(24 / 5)
    for q in QUARTERS:
        row = rate.loc[q]
        cold = {names[c] for c, v in row.items() if v <= row.nsmallest(k).iloc[-1]}
        assert COLD_SPOTS <= cold, (q, cold)
        assert (RECOVERING in cold) == (QUARTERS.index(q) < 6), (q, cold)


def test_participation_higher_in_less_deprived_wards(loaded: dict, ref: Reference) -> None:
    rate = participation(loaded, ref).mean()
    imd = ref.wards.set_index("ward_code").imd_decile
    assert rate.rank().corr(imd.rank()) > 0.5  # Spearman's rank correlation
    non_cold = ~ref.wards.set_index("ward_code").ward_name.isin(COLD_SPOTS | {RECOVERING})
    assert rate[non_cold].rank().corr(imd[non_cold].rank()) > 0.3


def test_young_and_disabled_residents_are_under_represented(loaded: dict, ref: Reference) -> None:
    e = loaded["engagement"]
    pops = ref.wards.set_index("ward_code").select_dtypes("number")
    pops.loc["borough"] = pops.sum()  # a borough-wide activity is compared with the whole borough
    pop = pops.loc[e.ward_code.fillna("borough")].reset_index(drop=True)

    def ratio(group: str, dim: str) -> float:
        """Representation ratio r_g = p_g / q_g, as the contract defines it."""
        columns = list(DIMENSIONS[dim])
        known = e[columns].sum(axis=1)
        share = pop[f"pop_{group}"] / pop[[f"pop_{g}" for g in columns]].sum(axis=1)
        return (e[group].sum() / known.sum()) / ((known * share).sum() / known.sum())

    assert 0.45 <= ratio("age_16_24", "age") <= 0.75
    assert 0.45 <= ratio("disabled", "disability") <= 0.75
    assert ratio("age_65_plus", "age") > 1.2
    unknown = e.participants_total - e[list(DIMENSIONS["age"])].sum(axis=1)
    assert (unknown > 0).mean() > 0.8


def test_readme_describes_the_rejected_file() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    rejected, planned = rejected_errors(ROOT)
    assert f"`{rejected}`" in readme
    for line, column, value, _reason in planned:
        assert f"line {line}, `{column}`" in readme
        assert not value or f"`{value}`" in readme
