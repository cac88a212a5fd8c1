"""A small warehouse and return files for the submission, role and template tests.

Built from CSV strings (two directorates, three wards) rather than sample_data/, for speed.
Other test files import the helpers from here; the one test below checks the fixture itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from etl import contract as c
from etl import warehouse
from tests.conftest import load_reference

ADULTS = "Adults and Health"
PLACE = "Place and Environment"
QUARTER = "2025-26 Q2"

DIRECTORATES_CSV = f"directorate,short_name\n{ADULTS},ADH\n{PLACE},PLE\n"


def _wards_csv() -> str:
    head = ["ward_code", "ward_name", "neighbourhood", "population_total", *c.POPULATION_COLUMNS]
    rows = []
    for i, (name, hood) in enumerate([("Castle Quay", "North"), ("Mill Green", "North"), ("Riverside", "South")]):
        pops = {"age_16_24": 1000, "age_25_44": 3000, "age_45_64": 2500, "age_65_plus": 2000,
                "female": 5000, "male": 4800, "ethnicity_white": 8000, "ethnicity_asian": 900,
                "ethnicity_black": 500, "ethnicity_mixed": 250, "ethnicity_other": 150,
                "disabled": 1800, "not_disabled": 8000}
        rows.append([f"E0590000{i + 1}", name, hood, "10000", *(str(pops[g]) for g in c.DEMOGRAPHIC_COLUMNS)])
    return "\n".join(",".join(r) for r in [head, *rows]) + "\n"


def budget_csv(directorate: str = ADULTS, devolved: str = "40000", quarter: str = QUARTER) -> bytes:
    """A valid budget return (two lines)."""
    return (
        "directorate,quarter,budget_line,ward_code,total_budget_gbp,devolved_gbp,mechanism\n"
        f"{directorate},{quarter},Community grants pot,E05900001,100000,{devolved},participatory_budgeting\n"
        f"{directorate},{quarter},Day services,,300000,0,\n"
    ).encode()


def bad_budget_csv(directorate: str = ADULTS) -> bytes:
    """A budget return with three problems on two lines."""
    return (
        "directorate,quarter,budget_line,ward_code,total_budget_gbp,devolved_gbp,mechanism\n"
        f"{directorate},{QUARTER},Community grants pot,E05999999,100000,40000,participatory_budgeting\n"
        f"{directorate},{QUARTER},Day services,,300000,500000,lottery\n"
    ).encode()


def make_warehouse(path: Path) -> Path:
    """An initialised warehouse with directorates and wards loaded."""
    warehouse.init(path)
    for kind, text in (("directorates", DIRECTORATES_CSV), ("wards", _wards_csv())):
        out = load_reference(path, kind=kind, content=text.encode(), file_name=f"{kind}.csv", user="setup")
        assert out.ok, out.problems
    return path


T = TypeVar("T")


def read(db: Path, query: Callable[..., T], *args: Any) -> T:
    """Run one etl.queries function on a short-lived read-only connection to `db`."""
    with warehouse.read_only(db) as con:
        return query(con, *args)


def test_fixture_warehouse_loads(tmp_path: Path) -> None:
    db = make_warehouse(tmp_path / "w.duckdb")
    with warehouse.read_only(db) as con:
        assert con.execute("SELECT count(*) FROM wards").fetchone()[0] == 3
        assert con.execute("SELECT count(*) FROM directorates").fetchone()[0] == 2
