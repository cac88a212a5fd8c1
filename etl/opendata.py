"""`etl export`: every KPI and the current returns as open data (CSV + Parquet + datapackage.json).

What is written to DIR:

* `kpis_council`, `kpis_directorate`, `kpis_neighbourhood`, `kpis_ward`: every KPI (the
  `kpis table` columns) for every quarter that has a current return, one row per group per
  quarter, every group of the reference data (data or not); an undefined KPI is blank.
* `budget`, `engagement`, `partnerships`: the rows of the current (newest accepted) returns,
  with the small-number rule of the pages applied to the engagement demographic counts (see
  `disclose`): a count from 1 to 4, and a second count of the same dimension that would give it
  away, is written '[c]' in the CSV and null in the Parquet file, and the data package declares
  '[c]' a missing value, so the columns stay integers.
* `wards`: the ward reference (codes, names, neighbourhoods, census populations).
* each as `.csv` and `.parquet`, described by a Frictionless `datapackage.json` (Table Schema
  types, descriptions from the contract's schemas and methodology).

Nothing is written unless the whole export succeeds: the files are made in a temporary folder
beside DIR, then each is moved into DIR (other files in DIR are left alone).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from etl import contract as c
from etl import warehouse
from etl.schemas import REFERENCE_MODELS, RETURN_MODELS, columns_of
from etl.warehouse import WarehouseLike

SUPPRESSED = "[c]"  # how a withheld count is written: kpis.disclosure.SUPPRESSED (a test keeps them equal)
BY = ("council", "directorate", "neighbourhood", "ward")
KEY_TITLES = {"directorate": "directorate", "neighbourhood": "neighbourhood", "ward_code": "ward_code"}


def disclose(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """The pages' disclosure rule (kpis.disclosure) on the demographic dimensions among `columns`,
    row by row (the one place `etl export` applies it)."""
    from kpis.disclosure import suppress_dimensions

    wanted = set(columns)
    return suppress_dimensions(frame, {d: g for d, g in c.DIMENSIONS.items() if set(g) <= wanted})


@dataclass
class Table:
    """One resource of the package: a frame and the Table Schema of its columns."""

    name: str
    title: str
    description: str
    frame: pd.DataFrame
    fields: list[dict[str, Any]]
    primary_key: list[str] | None = None


# ---------------------------------------------------------------------------------------------
# Pure: frames and descriptors


def _field(name: str, kind: str, description: str) -> dict[str, Any]:
    return {"name": name, "type": kind, "description": description}


_KINDS = {
    "int": "integer", "count": "integer", "money": "number", "decimal": "number", "date": "date",
    "bool": "boolean",
}


def schema_fields(model: Any, columns: Iterable[str]) -> list[dict[str, Any]]:
    """Table Schema fields for contract columns, typed and described from the pandera model."""
    meta = {name: (m, d) for name, m, d in columns_of(model)}
    out = []
    for col in columns:
        m, d = meta.get(col, ({}, ""))
        out.append(_field(col, _KINDS.get(m.get("kind", ""), "string"), d))
    return out


def kpi_fields(key: str | None) -> list[dict[str, Any]]:
    """Fields of a KPI table: its key, the quarter, then the KPIs in the contract's order."""
    from kpis.engine import COUNT_KPIS
    from kpis.methodology import KPIS

    described = {k.name: k for k in KPIS}
    fields = [_field(key, "string", f"The {key.replace('_', ' ')} the row is for.")] if key else []
    fields.append(_field("quarter", "string", "Financial-year quarter, like 2025-26 Q2."))
    for name in c.KPI_NAMES:
        k = described.get(name)
        text = f"{k.title}: {k.definition}" if k else name
        fields.append(_field(name, "integer" if name in COUNT_KPIS else "number", text))
    return fields


def _cell(v: Any, kind: str) -> str:
    if isinstance(v, str):
        return v
    if v is None or pd.isna(v):
        return ""
    if kind == "integer":
        return str(int(v))
    if kind == "boolean":
        return "true" if v else "false"
    if kind == "date":
        return pd.Timestamp(v).strftime("%Y-%m-%d")
    if isinstance(v, (float, np.floating)):
        text = repr(float(v))
        return np.format_float_positional(float(v), trim="-") if "e" in text else text
    return str(v)


def csv_text(frame: pd.DataFrame, fields: list[dict[str, Any]]) -> str:
    """CSV as the package declares it: blank for missing, integers as integers, floats without
    exponents, true/false, ISO dates, a withheld count as '[c]'."""
    import csv
    import io

    kinds = [f["type"] for f in fields]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([f["name"] for f in fields])
    for row in frame[[f["name"] for f in fields]].itertuples(index=False):
        w.writerow([_cell(v, k) for v, k in zip(row, kinds, strict=True)])
    return buf.getvalue()


def descriptor(tables: list[Table], *, created: dt.datetime) -> dict[str, Any]:
    """The Frictionless data package descriptor: each table as a CSV and a Parquet resource."""
    resources = []
    for t in tables:
        schema: dict[str, Any] = {"fields": t.fields, "missingValues": ["", SUPPRESSED]}
        if t.primary_key:
            schema["primaryKey"] = t.primary_key
        # pyarrow hands Frictionless a null integer as the float NaN, which it reads as "nan".
        parquet_schema = {**schema, "missingValues": ["", "nan"]}
        for fmt in ("csv", "parquet"):
            res: dict[str, Any] = {
                "name": t.name if fmt == "csv" else f"{t.name}-parquet",
                "title": t.title,
                "description": t.description,
                "path": f"{t.name}.{fmt}",
                "format": fmt,
                "schema": schema if fmt == "csv" else parquet_schema,
            }
            if fmt == "csv":
                res.update({"mediatype": "text/csv", "encoding": "utf-8"})
            else:
                res["mediatype"] = "application/vnd.apache.parquet"
            resources.append(res)
    return {
        "name": "localism-kpis",
        "title": "Localism KPIs and quarterly returns",
        "description": "How far the council shares power, money and decisions with communities: every KPI "
                       "for every quarter by council, directorate, neighbourhood and ward, and the current "
                       f"returns. Demographic counts from 1 to 4, and a second count of the same dimension "
                       f"that would give one away, are withheld ('{SUPPRESSED}' in CSV, null in "
                       "Parquet); KPIs are computed on the exact counts.",
        "created": created.replace(microsecond=0).isoformat() + "Z",
        "licenses": [{"name": "OGL-UK-3.0", "title": "Open Government Licence v3.0",
                      "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}],
        "resources": resources,
    }


# ---------------------------------------------------------------------------------------------
# I/O


def _kpi_tables(con: duckdb.DuckDBPyConnection) -> list[Table]:
    from kpis.engine import KEY_COLUMNS, kpi_table, quarters_with_data

    quarters = quarters_with_data(con)
    tables = []
    for by in BY:
        key = KEY_COLUMNS[by]
        frames = [kpi_table(con, q, by) for q in quarters]
        fields = kpi_fields(key)
        frame = (pd.concat(frames, ignore_index=True) if frames
                 else pd.DataFrame(columns=[f["name"] for f in fields]))
        tables.append(Table(f"kpis_{by}", f"KPIs by {by}", f"Every KPI for every quarter with data, by {by}.",
                            frame, fields, [key, "quarter"] if key else ["quarter"]))
    return tables


def _return_tables(con: duckdb.DuckDBPyConnection) -> list[Table]:
    tables = []
    titles = {"budget": "Devolved budget returns", "engagement": "Engagement activity returns",
              "partnerships": "Partnership registers"}
    for rtype in c.RETURN_TYPES:
        cols = list(c.RETURN_COLUMNS[rtype])
        select = ", ".join(cols)  # the contract's fixed column names
        frame = con.execute(
            f"SELECT {select} FROM {rtype} ORDER BY quarter, directorate, line_no"  # noqa: S608
        ).df()
        for col in frame.columns:
            if str(frame[col].dtype).startswith("decimal") or frame[col].dtype == object and col.endswith("_gbp"):
                frame[col] = frame[col].map(lambda v: None if v is None else float(v))
        if rtype == "engagement":
            frame = disclose(frame, c.DEMOGRAPHIC_COLUMNS)
        tables.append(Table(rtype, titles[rtype], f"Rows of the current (newest accepted) {rtype} returns.",
                            frame, schema_fields(RETURN_MODELS[rtype], cols)))
    return tables


def _wards_table(con: duckdb.DuckDBPyConnection) -> Table:
    cols = list(c.WARD_COLUMNS)
    frame = con.execute(f"SELECT {', '.join(cols)} FROM wards ORDER BY ward_code").df()  # noqa: S608
    return Table("wards", "Wards", "The ward reference: codes, names, neighbourhoods and census populations.",
                 frame, schema_fields(REFERENCE_MODELS["wards"], cols), ["ward_code"])


_SQL_TYPES = {"integer": "BIGINT", "number": "DOUBLE", "date": "DATE", "boolean": "BOOLEAN", "string": "VARCHAR"}


def _write_parquet(csv_path: Path, fields: list[dict[str, Any]], path: Path) -> None:
    """The CSV just written, typed as the schema says, as Parquet: the two files cannot disagree.

    A withheld count ('[c]') and a blank cell become null.
    """
    columns = "{" + ", ".join(f"'{f['name']}': '{_SQL_TYPES[f['type']]}'" for f in fields) + "}"
    con = duckdb.connect()
    try:
        source = "'" + str(csv_path).replace("'", "''") + "'"
        target = "'" + str(path).replace("'", "''") + "'"
        # Paths are quoted literals; the column names and types are the contract's fixed ones.
        con.execute(
            f"COPY (SELECT * FROM read_csv({source}, header = true, columns = {columns}, "  # noqa: S608
            f"nullstr = ['', '{SUPPRESSED}'], quote = '\"', escape = '\"')) TO {target} (FORMAT parquet)"
        )
    finally:
        con.close()


@dataclass
class ExportSummary:
    """What was written."""

    folder: Path
    rows: dict[str, int]
    quarters: int


def export(db: WarehouseLike, to: Path, *, now: dt.datetime | None = None) -> ExportSummary:
    """Write the open-data package into `to` (created or replaced as a whole)."""
    with warehouse.read_only(db) as con:
        con.execute("SET enable_progress_bar = false")
        tables = [*_kpi_tables(con), *_return_tables(con), _wards_table(con)]
        from kpis.engine import quarters_with_data

        quarters = len(quarters_with_data(con))
    to = Path(to)
    to.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{to.name}-", dir=to.parent))
    try:
        for t in tables:
            (tmp / f"{t.name}.csv").write_text(csv_text(t.frame, t.fields), encoding="utf-8")
            _write_parquet(tmp / f"{t.name}.csv", t.fields, tmp / f"{t.name}.parquet")
        pkg = descriptor(tables, created=now or dt.datetime.now(dt.UTC).replace(tzinfo=None))
        (tmp / "datapackage.json").write_text(json.dumps(pkg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        to.mkdir(exist_ok=True)
        for path in sorted(tmp.iterdir()):
            os.replace(path, to / path.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ExportSummary(to, {t.name: len(t.frame) for t in tables}, quarters)
