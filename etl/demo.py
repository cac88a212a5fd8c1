"""Build the fictional demo council's warehouse from `sample_data/` (`python -m etl demo`)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from etl import warehouse
from etl.commentary import store_commentary
from etl.deadlines import store_deadline
from etl.load import store_return
from etl.quarters import default_deadline, quarter_bounds
from etl.reference import store_reference
from etl.warehouse import WarehouseLike

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"
REFERENCE_FILES = {
    "directorates": "reference/directorates.csv",
    "wards": "reference/wards.csv",
    "boundaries": "reference/boundaries.geojson",
    "targets": "reference/targets.csv",
}


def _received(quarter: str, order: int) -> dt.datetime:
    """A plausible arrival time: two to five weeks after the quarter ends, in office hours."""
    _, end = quarter_bounds(quarter)
    day = end + dt.timedelta(days=14 + order % 20)
    return dt.datetime.combine(day, dt.time(9 + order % 8, (order * 17) % 60))


def build_demo(db: WarehouseLike, sample: Path = SAMPLE_DATA,
               progress: Callable[[str], None] = lambda _: None) -> str:
    """Fill the warehouse at `db` with the demo council (replacing what it held); return a summary.

    Built in memory, then stored in one write transaction: an app reading the warehouse
    meanwhile sees the old contents until the demo is complete, then the new ones.
    """
    manifest = sample / "manifest.csv"
    if not manifest.exists():
        raise warehouse.WarehouseError(f"The demo data is missing: {manifest} not found.")
    with manifest.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    counts = {"accepted": 0, "rejected": 0, "identical": 0}
    surprises = []
    wh = warehouse.open_warehouse(db)
    with wh.rebuild() as con:
        setup_time = dt.datetime(2024, 4, 1, 9, 0)
        for kind, rel in REFERENCE_FILES.items():
            out = store_reference(con, kind=kind, content=(sample / rel).read_bytes(), file_name=Path(rel).name,
                                  user="Demo administrator", received_at=setup_time)
            if not out.ok:
                raise warehouse.WarehouseError(f"demo {kind} did not load: {out.message} {out.problems[:3]}")
        for quarter in sorted({row["quarter"] for row in rows}):
            # Returns are due by the default rule (etl.quarters.DEFAULT_DEADLINE_AFTER).
            store_deadline(con, quarter=quarter, due=default_deadline(quarter), user="Demo administrator")
        for order, row in enumerate(rows):
            path = sample / row["file"]
            out = store_return(con, return_type=row["return"], directorate=row["directorate"],
                               quarter=row["quarter"], content=path.read_bytes(), file_name=path.name,
                               user=row["user"], received_at=_received(row["quarter"], order),
                               accept_warnings=True)
            counts[out.status] += 1
            if out.status != row.get("expect", "accepted"):
                surprises.append(f"{row['file']}: expected {row['expect']}, got {out.status}: {out.message}")
            if order % 50 == 0:
                progress(f"loaded {order + 1} of {len(rows)} demo returns")
        with (sample / "commentary.csv").open(newline="", encoding="utf-8") as fh:
            for note in csv.DictReader(fh):
                store_commentary(con, directorate=note["directorate"], quarter=note["quarter"],
                                 body=note["body"], user=note["user"],
                                 at=_received(note["quarter"], len(rows)))
        if surprises:
            raise warehouse.WarehouseError("The demo data did not load as expected:\n" + "\n".join(surprises))
    return (f"Demo warehouse ready at {wh.label}: {counts['accepted']} returns accepted, "
            f"{counts['rejected']} rejected (on purpose, to show the error report).")
