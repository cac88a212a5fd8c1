"""Benchmark: load a 1,000,000-row engagement return into a fresh warehouse; print the figures.

    python -m benchmarks.load_1m [--rows N]

Prints the time of each stage (read, validate, store) and the peak resident memory. Not a test:
figures vary with the machine, so nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path

from etl import warehouse
from etl.load import store_return
from etl.read import read_table
from etl.reference import read_reference
from etl.validate import validate_return
from tests.conftest import ENGAGEMENT_HEADER, make_council

METHODS = ["survey", "Public meeting", "workshop", "codesign", "online_platform"]
STAGES = ["priority_setting", "options", "decision", "implementation", "review"]
WARDS = ["E05000001", "E05000002", "Dunmore", ""]


def engagement_csv(rows: int, seed: int = 1, directorate: str = "ADH",
                   wards: tuple[str, ...] | list[str] = tuple(WARDS)) -> bytes:
    """A valid engagement return for 2025-26 Q2 with `rows` activities, for Adults and Health in
    the test council (or `directorate`, cycling through `wards`: codes, names, "" borough-wide)."""
    rng = random.Random(seed)
    out = [ENGAGEMENT_HEADER]
    for i in range(rows):
        total = rng.randint(10, 60)
        a = [rng.randint(0, total // 4) for _ in range(4)]
        f = rng.randint(0, total // 2)
        e = [rng.randint(0, total // 5) for _ in range(5)]
        d = rng.randint(0, total // 3)
        day = rng.randint(1, 30)
        out.append(
            f"{directorate},2025-26 Q2,A{i},{day:02d}/09/2025,{wards[i % len(wards)]},{METHODS[i % 5]},{STAGES[i % 5]},{total},"
            f"{a[0]},{a[1]},{a[2]},{a[3]},{f},{total - f},{e[0]},{e[1]},{e[2]},{e[3]},{e[4]},{d},{total - d},"
            f"{'yes' if i % 3 else 'no'}\n"
        )
    return "".join(out).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    content = engagement_csv(args.rows)
    print(f"file: {args.rows:,} rows, {len(content) / 1e6:.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        db = make_council(Path(tmp) / "bench.duckdb")
        with warehouse.read_only(db) as con:
            ref = read_reference(con)
        t0 = time.perf_counter()
        raw = read_table(content)
        t1 = time.perf_counter()
        checked = validate_return(raw, "engagement", directorate="Adults and Health", quarter="2025-26 Q2", ref=ref)
        t2 = time.perf_counter()
        assert checked.ok, checked.problems[:5]
        print(f"read:      {t1 - t0:6.1f} s")
        print(f"validate:  {t2 - t1:6.1f} s")
        t3 = time.perf_counter()
        with warehouse.write(db) as con:
            out = store_return(con, return_type="engagement", directorate="Adults and Health",
                               quarter="2025-26 Q2", content=content, file_name="big.csv", user="bench",
                               accept_warnings=True)  # a synthetic million rows: the figures are not the point
        t4 = time.perf_counter()
        assert out.status == "accepted", out.message
        print(f"full load (read + validate + store + swap): {t4 - t3:6.1f} s  -> {out.message}")
        print(f"warehouse file: {db.stat().st_size / 1e6:.0f} MB")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
