"""A national-scale warehouse for the benchmarks, built through the product's own write path.

    python -m benchmarks.national [--scale small|national] [--rebuild]

`national`: about 7,000 wards x 30 directorates x 40 quarters: ~5M engagement, ~1.5M budget and
~5M partnership rows in 3,600 current returns. `small` is the same shape, a few hundred times
smaller, for iterating. The reference data goes through `etl.reference.store_reference` (read
and validated like an administrator's file); each return's rows are made as a frame of already
valid values and stored by the same steps `etl.load.store_return` takes once a file has passed
its checks (log entry, rows, supersede, facts), so the facts are the product's. Reading and
validating 3,600 CSV files would add hours and measure nothing new: the ingest benchmark times
that part on one big file.

The warehouse is cached under `data/bench/<scale>.duckdb` and reused until `--rebuild`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from etl import warehouse
from etl.contract import (
    ARRANGEMENTS,
    DEMOGRAPHIC_COLUMNS,
    DIMENSIONS,
    MECHANISMS,
    METHODS,
    PARTNER_TYPES,
    POPULATION_COLUMNS,
    STAGES,
)
from etl.load import _current, _insert_rows
from etl.quarters import last_quarters, quarter_bounds
from etl.records import log_submission, sha256
from etl.reference import store_reference
from kpis import facts

BENCH_DIR = Path("data") / "bench"
LAST_QUARTER = "2025-26 Q2"


@dataclass(frozen=True)
class Scale:
    wards: int
    directorates: int
    quarters: int
    engagement_rows: int  # per return
    budget_rows: int
    partnerships: int  # on each register


SCALES = {
    "national": Scale(7000, 30, 40, 4200, 1250, 4200),
    "small": Scale(300, 6, 8, 300, 80, 250),
}
# `--quarters N` keeps a scale's wards, directorates and returns but stores only its last N
# quarters (a mid-size warehouse for profiling: national with 6 quarters is ~1.7M rows).


def bench_path(scale: str, quarters: int | None = None) -> Path:
    return BENCH_DIR / (f"{scale}.duckdb" if quarters is None else f"{scale}-{quarters}q.duckdb")


def ward_codes(n: int) -> list[str]:
    return [f"E05{i:06d}" for i in range(1, n + 1)]


def directorate_names(n: int) -> list[str]:
    return [f"Directorate {i:02d}" for i in range(1, n + 1)]


def wards_csv(n: int, rng: np.random.Generator) -> bytes:
    """The wards reference: ~10 wards per neighbourhood, populations in proportion."""
    rows = []
    for i, code in enumerate(ward_codes(n)):
        total = int(rng.integers(4000, 16000))
        pops = []
        for groups in DIMENSIONS.values():
            weights = rng.dirichlet(np.ones(len(groups)) * 4)
            pops += [int(total * w) for w in weights]
        rows.append(",".join([code, f"Ward {i + 1}", f"Neighbourhood {i // 10 + 1}", str(total),
                              *map(str, pops), str(int(rng.integers(1, 11)))]))
    header = ",".join(["ward_code", "ward_name", "neighbourhood", "population_total",
                       *POPULATION_COLUMNS, "imd_decile"])
    return (header + "\n" + "\n".join(rows) + "\n").encode()


def directorates_csv(n: int) -> bytes:
    return ("directorate,short_name\n" + "".join(
        f"{name},D{i + 1:02d}\n" for i, name in enumerate(directorate_names(n)))).encode()


def _ward_column(rng: np.random.Generator, codes: np.ndarray, n: int) -> list[str | None]:
    picks = codes[rng.integers(0, len(codes), n)].astype(object)
    picks[rng.random(n) < 0.1] = None  # one row in ten borough-wide
    return list(picks)


def engagement_frame(rng, d: str, q: str, n: int, codes: np.ndarray) -> pd.DataFrame:
    start, end = quarter_bounds(q)
    days = (end - start).days + 1
    total = rng.integers(5, 80, n)
    frame = {
        "directorate": d, "quarter": q,
        "activity_id": [f"A{i}" for i in range(n)],
        "activity_date": np.datetime64(start, "D") + rng.integers(0, days, n).astype("timedelta64[D]"),
        "ward_code": _ward_column(rng, codes, n),
        "method": np.array(METHODS)[rng.integers(0, len(METHODS), n)],
        "stage": np.array(STAGES)[rng.integers(0, len(STAGES), n)],
        "participants_total": total,
    }
    for groups in DIMENSIONS.values():
        known = (total * rng.uniform(0.5, 1.0, n)).astype(int)
        split = rng.dirichlet(np.ones(len(groups)), n)
        counts = np.floor(split * known[:, None]).astype(int)
        for j, g in enumerate(groups):
            frame[g] = counts[:, j]
    frame["feedback_published"] = rng.random(n) < 0.6
    out = pd.DataFrame(frame)
    out.index = pd.RangeIndex(2, n + 2)  # file line numbers (header = line 1)
    return out[["directorate", "quarter", "activity_id", "activity_date", "ward_code", "method",
                "stage", "participants_total", *DEMOGRAPHIC_COLUMNS, "feedback_published"]]


def budget_frame(rng, d: str, q: str, n: int, codes: np.ndarray) -> pd.DataFrame:
    total = rng.integers(1_000, 500_000, n).astype(float)
    devolved = np.where(rng.random(n) < 0.4, np.round(total * rng.uniform(0, 1, n), 2), 0.0)
    mechanism = np.array(MECHANISMS, dtype=object)[rng.integers(0, len(MECHANISMS), n)]
    mechanism[devolved == 0] = None
    out = pd.DataFrame({
        "directorate": d, "quarter": q, "budget_line": [f"Line {i}" for i in range(n)],
        "ward_code": _ward_column(rng, codes, n), "total_budget_gbp": total,
        "devolved_gbp": devolved, "mechanism": mechanism,
    })
    out.index = pd.RangeIndex(2, n + 2)
    return out


def partnerships_frame(rng, d: str, q: str, pool: pd.DataFrame, n: int) -> pd.DataFrame:
    """The register of quarter q: n partnerships of the directorate's pool started by then."""
    _, end = quarter_bounds(q)
    live = pool[pool["start_date"] <= np.datetime64(end, "D")]
    picked = live.sample(n=min(n, len(live)), random_state=int(rng.integers(0, 2**31)))
    out = picked.assign(directorate=d, quarter=q).sort_values("partnership_id")
    out.index = pd.RangeIndex(2, len(out) + 2)
    return out[["directorate", "quarter", "partnership_id", "partner_name", "partner_type",
                "arrangement", "ward_code", "start_date", "end_date", "annual_value_gbp",
                "lease_years"]]


def partnership_pool(rng, n: int, codes: np.ndarray, first: dt.date) -> pd.DataFrame:
    """A directorate's partnerships over the whole period (some new each quarter)."""
    size = int(n * 1.3)
    arrangement = np.array(ARRANGEMENTS, dtype=object)[rng.integers(0, len(ARRANGEMENTS), size)]
    cat = arrangement == "community_asset_transfer"
    lease = np.where(cat, rng.integers(1, 60, size), 0).astype(object)
    lease[~cat] = None
    offsets = np.where(rng.random(size) < 0.7, -rng.integers(0, 3000, size),
                       rng.integers(0, 3650, size))
    return pd.DataFrame({
        "partnership_id": [f"P{i:05d}" for i in range(size)],
        "partner_name": [f"Partner {i}" for i in range(size)],
        "partner_type": np.array(PARTNER_TYPES)[rng.integers(0, len(PARTNER_TYPES), size)],
        "arrangement": arrangement,
        "ward_code": _ward_column(rng, codes, size),
        "start_date": np.datetime64(first, "D") + offsets.astype("timedelta64[D]"),
        "end_date": np.full(size, np.datetime64("NaT"), dtype="datetime64[D]"),
        "annual_value_gbp": np.round(rng.uniform(0, 100_000, size), 2),
        "lease_years": lease,
    })


def store_rows(con, return_type: str, d: str, q: str, frame: pd.DataFrame, at: dt.datetime) -> int:
    """The accepted-file steps of etl.load.store_return: log, rows, supersede, facts."""
    digest = sha256(f"{return_type}|{d}|{q}|{at.isoformat()}".encode())
    current = _current(con, return_type, d, q)
    sid = log_submission(con, return_type=return_type, directorate=d, quarter=q, user="Benchmark",
                         received_at=at, file_name=f"{return_type}.csv", digest=digest,
                         row_count=len(frame), outcome="accepted", message="generated")
    _insert_rows(con, return_type, sid, frame)
    superseded = []
    if current:
        superseded = [current[0]]
        con.execute("UPDATE submissions SET superseded_by = ? WHERE submission_id = ?",
                    [sid, current[0]])
    facts.store(con, return_type, sid, superseded)
    return sid


def build(
    scale_name: str, path: Path | None = None, progress=print, quarters: int | None = None
) -> Path:
    """Generate the warehouse for a scale (replacing any file at `path`), optionally with only
    its last `quarters` quarters."""
    scale = SCALES[scale_name]
    if quarters is not None:
        scale = dataclasses.replace(scale, quarters=quarters)
    path = path or bench_path(scale_name, quarters)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    rng = np.random.default_rng(2026)
    codes = np.array(ward_codes(scale.wards))
    quarters = last_quarters(LAST_QUARTER, scale.quarters)
    names = directorate_names(scale.directorates)
    t0 = time.perf_counter()
    warehouse.init(path)
    with warehouse.write(path) as con:
        for kind, content in (("directorates", directorates_csv(scale.directorates)),
                              ("wards", wards_csv(scale.wards, rng))):
            out = store_reference(con, kind=kind, content=content, file_name=f"{kind}.csv",
                                  user="Benchmark")
            assert out.ok, out.problems[:3]
    first = quarter_bounds(quarters[0])[0]
    pools = {d: partnership_pool(rng, scale.partnerships, codes, first) for d in names}
    at = dt.datetime(2024, 1, 1, 9)
    for i, q in enumerate(quarters):
        with warehouse.write(path) as con:  # one write per quarter: every directorate's returns
            for d in names:
                at += dt.timedelta(minutes=1)
                store_rows(con, "engagement", d, q,
                           engagement_frame(rng, d, q, scale.engagement_rows, codes), at)
                store_rows(con, "budget", d, q, budget_frame(rng, d, q, scale.budget_rows, codes), at)
                store_rows(con, "partnerships", d, q,
                           partnerships_frame(rng, d, q, pools[d], scale.partnerships), at)
        progress(f"  {q}: {i + 1}/{len(quarters)} quarters stored, {time.perf_counter() - t0:.0f} s")
    # Years of returns were stored in minutes: in service, the writes of the hour after each one
    # would have expired the snapshots before it (warehouse.SNAPSHOT_RETENTION). Leave the catalog
    # as it would be then, holding its newest snapshot only.
    expired = warehouse.open_warehouse(path).expire(dt.timedelta(0))
    progress(f"  {expired:,} snapshots of the build expired, as the retention would have in service")
    return path


def ensure(
    scale_name: str, rebuild: bool = False, progress=print, quarters: int | None = None
) -> Path:
    """The cached warehouse for a scale, generated first if missing (or asked to)."""
    path = bench_path(scale_name, quarters)
    if rebuild or not path.exists():
        progress(f"generating the {scale_name} warehouse at {path} (cached for later runs)")
        t0 = time.perf_counter()
        build(scale_name, path, progress, quarters)
        progress(f"generated in {time.perf_counter() - t0:.0f} s, {path.stat().st_size / 1e9:.2f} GB")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--quarters", type=int, help="store only the scale's last N quarters")
    args = parser.parse_args()
    ensure(args.scale, args.rebuild, quarters=args.quarters)


if __name__ == "__main__":
    main()
