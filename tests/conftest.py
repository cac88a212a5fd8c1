"""Shared fixtures: a tiny council (3 wards, 2 directorates) in a temporary warehouse file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_REFERENCE = ROOT.parent / "shared" / "reference"
PYTHON = sys.executable

WARDS_CSV = """\
ward_code,ward_name,neighbourhood,population_total,pop_age_16_24,pop_age_25_44,pop_age_45_64,pop_age_65_plus,pop_female,pop_male,pop_ethnicity_white,pop_ethnicity_asian,pop_ethnicity_black,pop_ethnicity_mixed,pop_ethnicity_other,pop_disabled,pop_not_disabled,imd_decile
E05000001,Ashby,North,1000,100,300,300,100,500,500,800,100,50,30,20,200,800,2
E05000002,Castle Quay,North,2000,300,600,500,200,1000,1000,1500,300,100,60,40,300,1700,5
E05000003,Dunmore,South,3000,300,900,900,500,1500,1500,2700,100,100,50,50,600,2400,9
"""
DIRECTORATES_CSV = "directorate,short_name\nAdults and Health,ADH\nPlace,\n"
TARGETS_CSV = "kpi,directorate,financial_year,target,direction\ndevolved_budget_share,,2025-26,0.1,higher_is_better\n"

BUDGET_HEADER = "directorate,quarter,budget_line,ward_code,total_budget_gbp,devolved_gbp,mechanism\n"
ENGAGEMENT_HEADER = (
    "directorate,quarter,activity_id,activity_date,ward_code,method,stage,participants_total,"
    "age_16_24,age_25_44,age_45_64,age_65_plus,female,male,ethnicity_white,ethnicity_asian,"
    "ethnicity_black,ethnicity_mixed,ethnicity_other,disabled,not_disabled,feedback_published\n"
)
PARTNERSHIPS_HEADER = (
    "directorate,quarter,partnership_id,partner_name,partner_type,arrangement,ward_code,"
    "start_date,end_date,annual_value_gbp,lease_years\n"
)


def load_reference(db: Path, **kwargs: object):
    """Replace one reference table of the warehouse at `db` in its own write (etl.reference)."""
    from etl import warehouse
    from etl.reference import store_reference

    with warehouse.write(db) as con:
        return store_reference(con, **kwargs)


def submit_return(db: Path, **kwargs: object):
    """Store one return in the warehouse at `db` in its own write (etl.load), without roles."""
    from etl import warehouse
    from etl.load import store_return

    with warehouse.write(db) as con:
        return store_return(con, **kwargs)


def make_council(db: Path) -> Path:
    """Create a warehouse at `db` with the tiny council's reference data."""
    from etl import warehouse

    warehouse.init(db)
    for kind, text in (("directorates", DIRECTORATES_CSV), ("wards", WARDS_CSV), ("targets", TARGETS_CSV)):
        out = load_reference(db, kind=kind, content=text.encode(), file_name=f"{kind}.csv", user="test")
        assert out.ok, out.problems
    return db


@pytest.fixture
def council(tmp_path: Path) -> Path:
    """A fresh warehouse file with the tiny council's reference data."""
    return make_council(tmp_path / "council.duckdb")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo council's warehouse, built once per session by the real `python -m etl demo`."""
    import subprocess

    path = tmp_path_factory.getbasetemp() / "shared-demo" / "demo.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([PYTHON, "-m", "etl", "demo", "--db", str(path)], cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "144 returns accepted, 1 rejected" in done.stdout, done.stdout
    return path


@pytest.fixture
def shared_reference() -> Path:
    """`../shared/reference`, or skip where that folder is absent."""
    if not SHARED_REFERENCE.is_dir():
        pytest.skip("../shared/reference is not present on this machine")
    return SHARED_REFERENCE
