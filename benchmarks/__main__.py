"""The benchmarks: `make bench` (= `python -m benchmarks`). Prints a table, writes BENCHMARKS.md.

    python -m benchmarks [--scale small|national] [--rebuild] [--runs N] [--ingest-rows N] [--ingest-runs N]
                         [--skip-ingest] [--skip-write] [--out BENCHMARKS.md]

1. Ingest: one engagement return of --ingest-rows rows (default 1,000,000), loaded by
   `python -m etl load`, by DuckDB's bare `read_csv` into a table in a file, and by plain pandas
   + pandera, each in its own child process (seconds and that child's peak resident memory);
   then `etl load` of as many rows into the scale's warehouse (its first directorate's return for
   the last quarter, sent again afterwards so the KPI figures stay as they were); --ingest-runs
   rounds of the four (default 3), medians reported.
2. Write cost: a 100-row engagement return stored into an empty warehouse and into the scale's
   warehouse (median of 5).
3. Every KPI query a page runs, on the scale's warehouse (generated once and cached under
   data/bench/): p50 and p95 over --runs runs after one warm-up, against the same figures in
   plain pandas over rows already in memory (benchmarks/pandas_kpis.py).

Figures vary with the machine and its load, so nothing here asserts a time: it prints them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

import kpis
from benchmarks import national, pandas_kpis
from benchmarks.load_1m import engagement_csv
from etl import warehouse
from etl.load import store_return
from etl.quarters import last_quarters, previous_quarter, same_quarter_last_year
from kpis import Scope
from kpis import methodology as m

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


# ---------------------------------------------------------------------------------------------
# The machine


def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with open("/proc/meminfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    import pandera

    return {
        "cpu": cpu,
        "cores": str(len(os.sched_getaffinity(0))),
        "memory": mem,
        "load average (1 min) at start": f"{os.getloadavg()[0]:.1f}",
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
        "pandera": pandera.__version__,
        "numpy": np.__version__,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ---------------------------------------------------------------------------------------------
# Child processes: seconds and peak RSS of each


def child(args: list[str]) -> tuple[float, float, str]:
    """Run a child process; (seconds, its peak resident memory in MiB, its output).

    The peak comes from `benchmarks/peak.py`, a small launcher: Linux carries a process's peak
    across exec, so a child of this (large) process would report at least this process's size.
    """
    with tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "peak"
        t0 = time.perf_counter()
        done = subprocess.run([PYTHON, str(ROOT / "benchmarks" / "peak.py"), str(peak), *args],
                              cwd=ROOT, capture_output=True, check=False)
        seconds = time.perf_counter() - t0
        out = (done.stdout + done.stderr).decode(errors="replace")
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {out[-2000:]}")
        return seconds, int(peak.read_text()) / 1024, out


BARE_READ_CSV = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, header = true)", [sys.argv[2]])
con.execute("CHECKPOINT")
print(con.execute("SELECT count(*) FROM t").fetchone()[0])
"""


def tiny_council(folder: Path) -> Path:
    from tests.conftest import make_council

    return make_council(folder / "council.duckdb")


def _etl_load(db: Path, directorate: str, csv: Path) -> tuple[float, float, str]:
    seconds, rss, out = child([PYTHON, "-m", "etl", "load", "--db", str(db), "--return", "engagement",
                               "--directorate", directorate, "--quarter", national.LAST_QUARTER,
                               "--accept-warnings", str(csv)])
    # (--accept-warnings: the synthetic figures are implausible on purpose; they are not the point)
    return seconds, rss, out.strip().splitlines()[-1][:80] if out.strip() else ""


def ingest(rows: int, work: Path, scale_db: Path | None = None, scale: str = "",
           runs: int = 3) -> list[dict[str, Any]]:
    """The three loads of one file (`etl load` into a new small test council, bare `read_csv`,
    pandas + pandera), then, given the scale's warehouse, `etl load` of a file as big into it;
    `runs` rounds of the four, one after the other, so a slow minute of the machine falls on
    all of them alike. Each keeps its median time and its highest peak."""
    csv = national.BENCH_DIR / f"engagement_{rows}.csv"
    if not csv.exists():
        csv.parent.mkdir(parents=True, exist_ok=True)
        csv.write_bytes(engagement_csv(rows))
    size = csv.stat().st_size / 1e6
    hows = ["python -m etl load (read, validate, store, facts)", "DuckDB bare read_csv into a file table",
            "pandas read_csv + pandera validate(lazy=True)"]
    measured: dict[str, list[tuple[float, float, str]]] = {}
    files: dict[str, str] = dict.fromkeys(hows, f"{rows:,} rows, {size:.0f} MB")
    for run in range(runs):
        db = tiny_council(work / f"etl-{run}")  # a new council each time: a second load would be a re-send
        measured.setdefault(hows[0], []).append(_etl_load(db, "ADH", csv))
        bare = work / f"bare-{run}.duckdb"
        seconds, rss, _ = child([PYTHON, "-c", BARE_READ_CSV, str(bare), str(csv)])
        measured.setdefault(hows[1], []).append((seconds, rss, ""))
        seconds, rss, out = child([PYTHON, "-m", "benchmarks.pandas_ingest", str(csv)])
        measured.setdefault(hows[2], []).append((seconds, rss, out.strip()[:80]))
        if scale_db is not None:
            into = ingest_into(scale_db, rows, scale)
            measured.setdefault(into["how"], []).append((into["seconds"], into["peak_mib"], into["note"]))
            files[into["how"]] = into["file"]
    return [{"how": how, "file": files[how], "seconds": float(np.median([m[0] for m in ms])),
             "peak_mib": max(m[1] for m in ms), "note": ms[-1][2], "runs": [m[0] for m in ms]}
            for how, ms in measured.items()]


def ingest_into(db: Path, rows: int, scale: str) -> dict[str, Any]:
    """`etl load` of a `rows`-row engagement return into the scale's warehouse, superseding its
    first directorate's return for the last quarter; that return's rows are then sent again, so
    the figures the KPI benchmark reads are as before (the history keeps both submissions)."""
    with warehouse.read_only(db) as con:
        codes = [r[0] for r in con.execute("SELECT ward_code FROM wards ORDER BY ward_code").fetchall()]
        name, short = con.execute(
            "SELECT directorate, short_name FROM directorates WHERE directorate = ?",
            [national.directorate_names(1)[0]]).fetchone()
        before = con.execute(
            "SELECT submission_id FROM current_submissions WHERE return_type = 'engagement'"
            " AND directorate = ? AND quarter = ?", [name, national.LAST_QUARTER]).fetchone()
    csv = national.BENCH_DIR / f"engagement_{scale}_{rows}.csv"
    if not csv.exists():
        csv.write_bytes(engagement_csv(rows, directorate=short, wards=[*codes, ""]))
    size = csv.stat().st_size / 1e6
    seconds, rss, note = _etl_load(db, short, csv)
    if before is not None:
        with warehouse.write(db) as con:
            frame = con.execute("SELECT * EXCLUDE (submission_id) FROM engagement_rows"
                                " WHERE submission_id = ? ORDER BY line_no", [before[0]]).df()
            national.store_rows(con, "engagement", name, national.LAST_QUARTER,
                                frame.set_index("line_no"), dt.datetime.now())
    return {"how": f"python -m etl load into the {scale} warehouse ({len(codes):,} wards)",
            "seconds": seconds, "peak_mib": rss, "note": note,
            "file": f"{rows:,} rows, {size:.0f} MB"}


# ---------------------------------------------------------------------------------------------
# Write cost of a 100-row return


def hundred_rows(directorate: str, variant: int) -> bytes:
    from tests.conftest import ENGAGEMENT_HEADER

    wards = ["E05000001", "E05000002", "E05000003", ""]
    lines = [ENGAGEMENT_HEADER]
    for i in range(100):
        total = 20 + (i + variant) % 30
        lines.append(f"{directorate},2025-26 Q2,A{i},{1 + i % 28:02d}/08/2025,{wards[i % 4]},survey,"
                     f"options,{total},1,2,3,4,5,6,1,1,1,1,1,2,3,{'yes' if i % 2 else 'no'}\n")
    return "".join(lines).encode()


def write_cost(db: Path, directorate: str, runs: int) -> list[float]:
    times = []
    for i in range(runs):
        content = hundred_rows(directorate, i)
        t0 = time.perf_counter()
        with warehouse.write(db) as con:
            out = store_return(con, return_type="engagement", directorate=directorate,
                               quarter="2025-26 Q2", content=content, file_name="hundred.csv",
                               user="Benchmark")
        times.append(time.perf_counter() - t0)
        assert out.status == "accepted", out.message
    return times


# ---------------------------------------------------------------------------------------------
# KPI queries a page runs


def trend_windows(quarters: list[str], have: set[str]) -> list[tuple[str, ...]]:
    """The windows kpi_trend computes (kept in step with kpis.engine.kpi_trend)."""
    wanted = []
    for q in quarters:
        for w in ((q,), (previous_quarter(q),), last_quarters(q, m.ROLLING_QUARTERS),
                  (same_quarter_last_year(q),)):
            if set(w) <= have and w not in wanted:
                wanted.append(w)
    return wanted


def cases(con, rows: pandas_kpis.Rows) -> list[tuple[str, str, Callable[[Any], Any], Callable[[], Any] | None]]:
    """(page, call, SQL engine call on a cursor, the same in pandas)."""
    have = kpis.quarters_with_data(con)
    q = have[-1]
    d = con.execute("SELECT min(directorate) FROM directorates").fetchone()[0]
    ward, hood = con.execute("SELECT min(ward_code), min(neighbourhood) FROM wards").fetchone()
    recent = [x for x in last_quarters(q, 4) if x in have]
    council, dscope = Scope((q,)), Scope((q,), (d,))
    wscope = Scope((q,), wards=(ward,))
    hscope = Scope((q,), neighbourhoods=(hood,))
    pk = pandas_kpis.kpi_frame
    tw_council = trend_windows([q], set(have))
    tw_all = trend_windows(have, set(have))

    return [
        ("overview", "rag_status (council)", lambda c: kpis.rag_status(c, q), lambda: pk(rows, council)),
        ("overview", "kpi_trend council, 1 quarter", lambda c: kpis.kpi_trend(c, council, (q,)),
         lambda: pk(rows, council, "council", tw_council)),
        ("overview", "pillar_scorecard", lambda c: kpis.pillar_scorecard(c, q), lambda: pk(rows, council)),
        ("overview", "directorate_league", lambda c: kpis.directorate_league(c, q),
         lambda: pk(rows, council, "directorate")),
        ("overview", "league history (kpi_tables by directorate, 4 quarters)",
         lambda c: kpis.kpi_tables(c, recent, "directorate"),
         lambda: [pk(rows, Scope((x,)), "directorate") for x in recent]),
        ("directorate", "rag_status (directorate)", lambda c: kpis.rag_status(c, q, d),
         lambda: pk(rows, dscope)),
        ("directorate", f"kpi_trend directorate, all {len(have)} quarters",
         lambda c: kpis.kpi_trend(c, dscope, have), lambda: pk(rows, dscope, "council", tw_all)),
        ("directorate", "kpi_trend council, all quarters",
         lambda c: kpis.kpi_trend(c, council, have), lambda: pk(rows, council, "council", tw_all)),
        ("directorate", "budget_by_mechanism", lambda c: kpis.budget_by_mechanism(c, dscope), None),
        ("directorate", "engagement_by_method_stage",
         lambda c: kpis.engagement_by_method_stage(c, dscope), None),
        ("directorate", "partnerships_by_type", lambda c: kpis.partnerships_by_type(c, dscope), None),
        ("wards", "kpi_table by ward", lambda c: kpis.kpi_table(c, q, "ward"),
         lambda: pk(rows, council, "ward")),
        ("wards", "kpi_table by neighbourhood", lambda c: kpis.kpi_table(c, q, "neighbourhood"),
         lambda: pk(rows, council, "neighbourhood")),
        ("wards", "kpi_values (one ward)", lambda c: kpis.kpi_values(c, wscope), lambda: pk(rows, wscope)),
        ("wards", "kpi_trend one ward, all quarters", lambda c: kpis.kpi_trend(c, wscope, have),
         lambda: pk(rows, wscope, "council", tw_all)),
        ("wards", "equality_breakdown (council)", lambda c: kpis.equality_breakdown(c, council),
         lambda: pk(rows, council)),
        ("wards", "equality_breakdown (neighbourhood)", lambda c: kpis.equality_breakdown(c, hscope),
         lambda: pk(rows, hscope)),
        ("wards", "cold_spots", lambda c: kpis.cold_spots(c, (q,)), lambda: pk(rows, council, "ward")),
        ("wards", "deprivation_split", lambda c: kpis.deprivation_split(c, council), None),
    ]


def timed(fn: Callable[[], Any], runs: int, warm_up: bool = True, budget_s: float | None = None) -> list[float]:
    """Seconds of each run; with a budget, stop early once it is spent (at least one run)."""
    if warm_up:
        fn()  # caches, first plan
    times: list[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if budget_s is not None and sum(times) > budget_s:
            break
    return times


def pct(times: list[float], p: float) -> float:
    return float(np.percentile(np.array(times) * 1000, p))


def kpi_queries(
    db: Path, runs: int, pandas_runs: int, budget_s: float, skip_pandas_trends: bool = False
) -> tuple[list[dict[str, Any]], float]:
    out = []
    wh = warehouse.open_warehouse(db)

    def in_a_read(fn: Callable[[Any], Any]) -> Callable[[], Any]:
        def call() -> Any:
            with wh.read_pinned() as cur:  # each call in its own read of the pinned snapshot, as the app's
                return fn(cur)
        return call

    with warehouse.read_only(db) as con:
        t0 = time.perf_counter()
        rows = pandas_kpis.load(con)
        load_s = time.perf_counter() - t0
        for page, name, sql_fn, pd_fn in cases(con, rows):
            if skip_pandas_trends and "all" in name and "kpi_trend" in name:
                pd_fn = None  # one pandas run of a many-window trend takes minutes at this scale
            sql = timed(in_a_read(sql_fn), runs)
            # pandas: no warm-up, and runs stop once --pandas-budget seconds are spent on a call
            # (a national trend in pandas takes minutes a run); the number of runs is reported
            pdt = timed(pd_fn, pandas_runs, warm_up=False, budget_s=budget_s) if pd_fn else None
            r = {"page": page, "call": name, "p50": pct(sql, 50), "p95": pct(sql, 95), "runs": runs,
                 "pandas_runs": len(pdt) if pdt else 0,
                 "pandas_p50": pct(pdt, 50) if pdt else None,
                 "pandas_p95": pct(pdt, 95) if pdt else None}
            r["speedup"] = r["pandas_p50"] / r["p50"] if pdt else None
            out.append(r)
            print(f"  {page:12} {name:58} p50 {r['p50']:8.1f} ms  p95 {r['p95']:8.1f} ms"
                  + (f"  pandas p50 {r['pandas_p50']:9.1f} ms  x{r['speedup']:.0f}" if pdt else ""),
                  flush=True)
    return out, load_s


def pin_cost(db: Path, runs: int = 5) -> list[float]:
    """Seconds to pin a snapshot (`Warehouse.read_pinned`: the first read of each snapshot in a
    process), each on a fresh Warehouse whose connection is already open."""
    times = []
    for _ in range(runs):
        wh = warehouse.Warehouse(db)
        try:
            with wh.read():
                pass  # the connection and the schema check, not counted
            t0 = time.perf_counter()
            with wh.read_pinned():
                pass
            times.append(time.perf_counter() - t0)
        finally:
            wh.close()
    return times


def warehouse_summary(db: Path) -> dict[str, Any]:
    with warehouse.read_only(db) as con:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
                  for t in ("wards", "directorates", "current_submissions", "budget", "engagement",
                            "partnerships", "budget_facts", "engagement_facts", "partnership_facts",
                            "budget_rollup", "engagement_rollup", "equality_rollup",
                            "partnership_rollup")}
        counts["quarters"] = len(kpis.quarters_with_data(con))
        files = warehouse.data_files(con)  # after the product's own compaction on every write
        counts["data_files"] = sum(files.values())
        counts["most_files_in_a_table"] = max(files.values(), default=0)
        counts["snapshots"] = len(warehouse.snapshot_ids(con))
    # the catalog file(s) and the data folder beside them (`<db>.data`)
    files = [p for p in db.parent.glob(db.name + "*") if p.is_file()]
    files += [p for p in db.parent.glob(db.name + ".data/**/*") if p.is_file()]
    counts["size_gb"] = sum(p.stat().st_size for p in files) / 1e9
    return counts


# ---------------------------------------------------------------------------------------------
# Report


def markdown(info, summary, scale, kpi, load_s, ingest_rows, writes, notes, pin=()) -> str:
    lines = ["# Benchmarks", "",
             "Printed and written by `make bench` (`python -m benchmarks`); figures from one run on the "
             "machine below. Not tests: nothing asserts a time.", "", "## Machine", "",
             "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in info.items()]
    lines += ["", f"## Warehouse (`--scale {scale}`, built by `benchmarks/national.py`)", "",
              "| table | rows |", "| --- | --- |"]
    lines += [f"| {k} | {v:,} |" if isinstance(v, int) else f"| {k} | {v:.2f} |" for k, v in summary.items()]
    if ingest_rows:
        lines += ["", "## Ingest of one engagement return", "",
                  "Each in its own child process, in rounds of the four; median seconds, and the highest "
                  "peak memory (the process's maximum resident set) of the runs.", "",
                  "| how | file | median s | all runs (s) | peak MiB | output |",
                  "| --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {r['how']} | {r['file']} | {r['seconds']:.2f} | "
                  f"{', '.join(f'{x:.2f}' for x in r.get('runs', [r['seconds']]))} | {r['peak_mib']:.0f} | {r['note']} |"
                  for r in ingest_rows]
        etl_s, bare_s, pd_s = (r["seconds"] for r in ingest_rows[:3])
        lines += ["", f"`etl load` / bare `read_csv`: **{etl_s / bare_s:.2f}x** (target <= 2x); "
                  f"pandas + pandera / `etl load`: **{pd_s / etl_s:.2f}x** (target >= 1.5x); "
                  f"`etl load` peak: **{ingest_rows[0]['peak_mib']:.0f} MiB** (target < 1024)."]
        for r in ingest_rows[3:]:
            lines += ["", f"`etl load` into the {scale} warehouse / bare `read_csv`: "
                      f"**{r['seconds'] / bare_s:.2f}x** (target <= 2x); pandas + pandera / it: "
                      f"**{pd_s / r['seconds']:.2f}x** (target >= 1.5x); its peak: "
                      f"**{r['peak_mib']:.0f} MiB** (target < 1024)."]
    if writes:
        lines += ["", "## Write cost of a 100-row engagement return (median, in process)", "",
                  "| into | median s | all runs (s) |", "| --- | --- | --- |"]
        for name, times in writes.items():
            lines += [f"| {name} | {np.median(times):.3f} | {', '.join(f'{t:.3f}' for t in times)} |"]
        if len(writes) == 2:
            empty, big = (np.median(t) for t in writes.values())
            lines += ["", f"Into the {scale} warehouse / into the empty one: **{big / empty:.2f}x** "
                      "(target <= 1.5x)."]
    lines += ["", f"## KPI queries a page runs (`--scale {scale}`)", "",
              f"SQL engine (facts) through `kpis`, each call in its own read of the pinned snapshot "
              f"(`Warehouse.read_pinned`, as the app's cached reads), p50/p95 of "
              f"{kpi[0]['runs'] if kpi else 0} runs after a warm-up; pandas: the same KPIs from the "
              f"current rows already in memory (`benchmarks/pandas_kpis.py`; loading them took "
              f"{load_s:.1f} s, not counted)."
              + (f" Pinning a snapshot, paid by the first read after each write in each process: "
                 f"median {np.median(pin):.2f} s ({', '.join(f'{t:.2f}' for t in pin)})." if pin else ""), "",
              "| page | call | p50 ms | p95 ms | pandas p50 ms | pandas p95 ms | pandas runs | pandas / SQL "
              "| p95 < 150 ms and >= 10x |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in kpi:
        pdp50 = f"{r['pandas_p50']:.1f}" if r["pandas_p50"] is not None else "-"
        pdp95 = f"{r['pandas_p95']:.1f}" if r["pandas_p95"] is not None else "-"
        sp = f"{r['speedup']:.0f}x" if r["speedup"] is not None else "-"
        fast = r["p95"] < 150
        if r["speedup"] is None:
            met = "met (p95; no pandas baseline)" if fast else "missed"
        else:
            met = "met" if fast and r["speedup"] >= 10 else "missed"
        lines += [f"| {r['page']} | {r['call']} | {r['p50']:.1f} | {r['p95']:.1f} | {pdp50} | {pdp95} "
                  f"| {r['pandas_runs'] or '-'} | {sp} | {met} |"]
    lines += ["", *notes]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(national.SCALES), default="national")
    parser.add_argument("--rebuild", action="store_true", help="generate the warehouse again")
    parser.add_argument("--db", type=Path, help="measure this warehouse instead of the scale's cached one")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--pandas-runs", type=int, default=10)
    parser.add_argument("--pandas-budget", type=float, default=60.0,
                        help="seconds of pandas runs per call before stopping early")
    parser.add_argument("--write-runs", type=int, default=5)
    parser.add_argument("--skip-pandas-trends", action="store_true",
                        help="no pandas baseline for the all-quarters trends (minutes per run)")
    parser.add_argument("--ingest-rows", type=int, default=1_000_000)
    parser.add_argument("--ingest-runs", type=int, default=3, help="rounds of the ingest loads (medians)")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-write", action="store_true")
    parser.add_argument("--skip-kpis", action="store_true", help="no KPI queries (ingest and writes only)")
    parser.add_argument("--out", default="BENCHMARKS.md")
    parser.add_argument("--notes", default="benchmarks/NOTES.md",
                        help="a Markdown file appended to the report (what was tried)")
    parser.add_argument("--report", action="store_true",
                        help="write the report from data/bench/last-run.json (and --notes) without measuring")
    args = parser.parse_args()
    os.chdir(ROOT)  # the child processes run `python -m ...` from the project root
    if args.report:
        last = json.loads((national.BENCH_DIR / "last-run.json").read_text(encoding="utf-8"))
        args.scale = last.get("scale", args.scale)
        write_report(args, last["info"], last["summary"], last["kpi"], last["load_s"], last["ingest"],
                     last["writes"], last.get("pin", ()))
        return
    info = machine()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    db = args.db or national.ensure(args.scale, args.rebuild)
    summary = warehouse_summary(db)
    print("warehouse: " + ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v:.2f}"
                                    for k, v in summary.items()), flush=True)
    print("KPI queries:", flush=True)
    kpi, load_s, pin = [], 0.0, []
    if not args.skip_kpis:
        pin = pin_cost(db)
        print(f"  pinning a snapshot: median {np.median(pin):.2f} s", flush=True)
        kpi, load_s = kpi_queries(db, args.runs, args.pandas_runs, args.pandas_budget,
                                  args.skip_pandas_trends)
    ingest_rows, writes = [], {}
    with tempfile.TemporaryDirectory(dir=national.BENCH_DIR) as tmp:
        work = Path(tmp)
        if not args.skip_ingest:
            print(f"ingest of {args.ingest_rows:,} engagement rows:", flush=True)
            ingest_rows = ingest(args.ingest_rows, work, db, args.scale, args.ingest_runs)
            for r in ingest_rows:
                print(f"  {r['how']:55} {r['seconds']:7.1f} s  peak {r['peak_mib']:6.0f} MiB", flush=True)
        if not args.skip_write:
            empty = tiny_council(work / "empty")
            writes["an empty warehouse (3 wards, 2 directorates)"] = write_cost(
                empty, "Adults and Health", args.write_runs)
            # The return supersedes one generated return of the cached warehouse (same size class).
            writes[f"the {args.scale} warehouse"] = write_cost(
                db, national.directorate_names(1)[0], args.write_runs)
            for name, times in writes.items():
                print(f"  100-row return into {name}: median {np.median(times):.3f} s", flush=True)
        shutil.rmtree(work, ignore_errors=True)
    # the figures as measured, so a report can be written again without measuring again
    (national.BENCH_DIR / "last-run.json").write_text(json.dumps(
        {"scale": args.scale, "info": info, "summary": summary, "kpi": kpi, "load_s": load_s,
         "ingest": ingest_rows, "writes": writes, "pin": pin}, indent=1, default=float), encoding="utf-8")
    write_report(args, info, summary, kpi, load_s, ingest_rows, writes, pin)


def write_report(args, info, summary, kpi, load_s, ingest_rows, writes, pin=()) -> None:
    """BENCHMARKS.md from one run's figures and the notes; other benchmarks' sections are kept."""
    notes_path = ROOT / args.notes
    notes = [notes_path.read_text(encoding="utf-8")] if notes_path.exists() else []
    text = markdown(info, summary, args.scale, kpi, load_s, ingest_rows, writes, notes, pin)
    out = ROOT / args.out
    # Sections other benchmarks write between <!-- name:start --> and <!-- name:end --> are kept.
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    blocks = [m.group(0) for m in re.finditer(r"<!-- ([\w-]+):start -->.*?<!-- \1:end -->", old,
                                              flags=re.DOTALL)]
    out.write_text(text.rstrip() + "".join("\n\n" + b for b in blocks) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
