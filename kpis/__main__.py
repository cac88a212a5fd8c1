"""`python -m kpis table --db PATH --quarter Q --by council|directorate|neighbourhood|ward
[--format csv|json]` (fixed by the data contract) and `python -m kpis methodology`.

Exit codes: 0 done, 1 the warehouse cannot be read, 2 a usage error (argparse's convention).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np

from etl.quarters import parse_quarter
from etl.stdout import result_only_stdout
from etl.warehouse import WarehouseError, default_db, open_warehouse
from kpis.engine import BY_CHOICES, kpi_table
from kpis.methodology import render_markdown


def _quarter(text: str) -> str:
    try:
        return parse_quarter(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kpis", description="Localism KPIs.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    table = commands.add_parser(
        "table",
        help="print every KPI for one quarter, one row per council, directorate, neighbourhood or ward",
    )
    table.add_argument(
        "--db", default=default_db(),
        help="warehouse: a file path or ducklake:postgres:<connection string> (default: %(default)s)"
    )
    table.add_argument(
        "--quarter", required=True, type=_quarter, help="financial-year quarter, e.g. 2025-26 Q2"
    )
    table.add_argument("--data-path", default=None,
                       help="the warehouse's data folder (default: $LOCALISM_DATA_PATH, else PATH.data)")
    table.add_argument("--by", required=True, choices=BY_CHOICES, help="one row per ...")
    table.add_argument(
        "--format", default="csv", choices=("csv", "json"),
        help="csv (default) or json; stdout carries nothing else, and the same warehouse gives "
        "byte-identical output on every run (exact sums, one final division: docs/methodology.md)",
    )
    commands.add_parser("methodology", help="print docs/methodology.md (generated)")
    return parser


def _plain(value: Any) -> Any:
    """A JSON/CSV-ready Python value: None for undefined, int for counts, float for ratios."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _write(rows: list[dict[str, Any]], columns: list[str], fmt: str) -> None:
    if fmt == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else _number(row[c]) if isinstance(row[c], float)
                         else row[c] for c in columns])  # fmt: skip


def _number(value: float) -> str:
    """The shortest text that reads back as the same float, never in exponent form (1e-06)."""
    text = repr(value)
    return np.format_float_positional(value, trim="-") if "e" in text else text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "methodology":
        sys.stdout.write(render_markdown())
        return 0
    with result_only_stdout():
        return _table(args)


def _table(args: argparse.Namespace) -> int:
    try:
        with open_warehouse(args.db, args.data_path).read() as con:
            table = kpi_table(con, args.quarter, args.by)
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:
        print(f"error: cannot read the warehouse at {args.db}: {exc}", file=sys.stderr)
        return 1
    columns = list(table.columns)
    rows = [
        {c: _plain(v) for c, v in zip(columns, r, strict=True)}
        for r in table.itertuples(index=False)
    ]
    _write(rows, columns, args.format)
    return 0


if __name__ == "__main__":
    sys.exit(main())
