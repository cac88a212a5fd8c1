"""The ingest baseline: read an engagement CSV with plain pandas and check it with pandera.

    python -m benchmarks.pandas_ingest FILE

The same rules the product checks on every row (types, ranges, enums, demographic sums within
the total, the date inside the quarter), written the plain way: one pandera schema, lazy
validation. Prints the number of rows and of failure cases. A baseline, not product code.
"""

from __future__ import annotations

import sys

import pandas as pd
import pandera.pandas as pa

from etl.contract import DIMENSIONS, METHODS, STAGES

BOOLEANS = ["yes", "no", "true", "false", "y", "n", "1", "0"]


def schema() -> pa.DataFrameSchema:
    count = pa.Column(int, pa.Check.ge(0), coerce=True)
    columns = {
        "directorate": pa.Column(str),
        "quarter": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2} Q[1-4]$")),
        "activity_id": pa.Column(str, unique=True),
        "activity_date": pa.Column(pa.DateTime, coerce=True),
        "ward_code": pa.Column(str, nullable=True),
        "method": pa.Column(str, pa.Check.isin([*METHODS, "Public meeting"])),
        "stage": pa.Column(str, pa.Check.isin(STAGES)),
        "participants_total": count,
        **{g: count for groups in DIMENSIONS.values() for g in groups},
        "feedback_published": pa.Column(str, pa.Check(lambda s: s.str.lower().isin(BOOLEANS))),
    }
    checks = [
        pa.Check(lambda df, gs=gs: df[list(gs)].sum(axis=1) <= df["participants_total"],
                 name=f"{d}_within_total")
        for d, gs in DIMENSIONS.items()
    ]
    checks.append(pa.Check(lambda df: df["activity_date"].between("2025-07-01", "2025-09-30"),
                           name="date_in_quarter"))
    return pa.DataFrameSchema(columns, checks=checks, strict=True)


def main(path: str) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    frame["activity_date"] = pd.to_datetime(frame["activity_date"], format="%d/%m/%Y")
    try:
        schema().validate(frame, lazy=True)
        failures = 0
    except pa.errors.SchemaErrors as exc:
        failures = len(exc.failure_cases)
    print(f"{len(frame)} rows, {failures} failure cases")


if __name__ == "__main__":
    main(sys.argv[1])
