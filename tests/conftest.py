"""Shared fixtures: a tiny council (3 wards, 2 directorates) in a temporary warehouse file, and
fresh warehouses on either backend (embedded file, or DuckLake on the local PostgreSQL)."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
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


def etl_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess:
    """`python -m etl ARGS` through its entry point in this process (fast), argparse's exits caught."""
    from etl.cli import main

    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


def load_reference(db: Path, **kwargs: object):
    """Replace one reference table of the warehouse at `db` in its own write (etl.reference)."""
    from etl import warehouse
    from etl.reference import store_reference

    with warehouse.write(db) as con:
        return store_reference(con, **kwargs)


def submit_return(db: Path, **kwargs: object):
    """Store one return in the warehouse at `db` in its own write (etl.load), without roles:
    validated first on the latest snapshot, then stored, as the CLI and the app do."""
    from etl import warehouse
    from etl.load import precheck, store_return

    keys = ("return_type", "directorate", "quarter", "content", "file_name")
    checked = precheck(db, **{k: kwargs[k] for k in keys if k in kwargs})
    with warehouse.write(db) as con:
        return store_return(con, prechecked=checked, **kwargs)


def make_council(db):
    """Create a warehouse at `db` (a path or a Warehouse) with the tiny council's reference data."""
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


# ---------------------------------------------------------------------------------------------
# Backends: the embedded warehouse and a shared one (DuckLake + the machine's PostgreSQL)

PG_CONNINFO = os.environ.get("LOCALISM_TEST_PG", "host=127.0.0.1 port=5432 user=postgres")
PG_PREFIX = "localism_test_"
_RUN = uuid.uuid4().hex[:8]
_PG_SEQ = itertools.count(1)
BACKENDS = ("embedded", "postgres")


def _psql(sql: str) -> subprocess.CompletedProcess[str]:
    parts = dict(p.split("=", 1) for p in PG_CONNINFO.split())
    return subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", parts.get("host", "127.0.0.1"),
         "-p", parts.get("port", "5432"), "-U", parts.get("user", "postgres"), "-d", "postgres", "-c", sql],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
    )


_PG_STATE: list[str] = []


def postgres_or_skip() -> None:
    """Skip (fail on CI) unless the PostgreSQL server for the shared-warehouse tests answers."""
    if not _PG_STATE:
        if shutil.which("psql") is None:
            _PG_STATE.append("psql is not installed")
        else:
            done = _psql("SELECT 1")
            _PG_STATE.append("" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["no answer"])[-1])
    if _PG_STATE[0]:
        message = (f"PostgreSQL not reachable at {PG_CONNINFO} ({_PG_STATE[0]}): "
                   "the shared-warehouse (DuckLake + PostgreSQL) tests are skipped")
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message.replace("are skipped", "must run on CI (.ci/run starts PostgreSQL)"))
        pytest.skip(message)


def new_pg_database() -> str:
    """A fresh, empty PostgreSQL database for one test (dropped when the session ends)."""
    postgres_or_skip()
    name = f"{PG_PREFIX}{_RUN}_{next(_PG_SEQ)}"
    done = _psql(f'CREATE DATABASE "{name}"')
    assert done.returncode == 0, done.stderr
    return f"{PG_CONNINFO} dbname={name}"


def drop_pg_databases() -> None:
    """Drop every database this test run made."""
    if not _PG_STATE or _PG_STATE[0]:
        return
    for n in range(1, next(_PG_SEQ)):
        _psql(f'DROP DATABASE IF EXISTS "{PG_PREFIX}{_RUN}_{n}" WITH (FORCE)')


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    drop_pg_databases()


@dataclass(frozen=True)
class Place:
    """Where a test warehouse lives: the `--db` value and its data folder."""

    backend: str
    db: str
    data_path: str | None

    def open(self):
        from etl import warehouse

        return warehouse.open_warehouse(self.db, self.data_path)

    def cli_args(self) -> list[str]:
        return ["--db", self.db] + (["--data-path", self.data_path] if self.data_path else [])

    def env(self) -> dict[str, str]:
        env = {**os.environ, "LOCALISM_DB": self.db}
        if self.data_path:
            env["LOCALISM_DATA_PATH"] = self.data_path
        else:
            env.pop("LOCALISM_DATA_PATH", None)
        return env


def new_place(backend: str, folder: Path, name: str = "wh") -> Place:
    """A place for a new, empty warehouse on `backend` (nothing created yet)."""
    if backend == "embedded":
        return Place(backend, str(folder / f"{name}.duckdb"), None)
    conninfo = new_pg_database()
    return Place(backend, "ducklake:postgres:" + conninfo, str(folder / f"{name}-data"))


@pytest.fixture(params=BACKENDS)
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    """An empty place for a warehouse, once per backend."""
    return new_place(request.param, tmp_path)


@pytest.fixture
def any_council(place: Place):
    """The tiny council on each backend (the Warehouse)."""
    return make_council(place.open())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # The KPI tests build their warehouses through tests/conftest_kpis.py: run each on both backends.
    if "kpi_backend" in metafunc.fixturenames:
        metafunc.parametrize("kpi_backend", BACKENDS, indirect=True)


@pytest.fixture
def kpi_backend(request: pytest.FixtureRequest, tmp_path: Path):
    """Makes conftest_kpis.Warehouse() build on this backend for the test."""
    from etl import warehouse
    from tests import conftest_kpis

    folder = tmp_path / "kpi"
    folder.mkdir()
    counter = itertools.count(1)
    conftest_kpis.NEW_PLACE = lambda: new_place(request.param, folder, f"k{next(counter)}")
    # Read as the app reads: a pinned snapshot, its tables copied in memory (embedded, as at demo
    # scale) or read from the lake at that snapshot (shared, as the facts at national scale).
    conftest_kpis.PINNED_ROWS = warehouse.MIRROR_ROWS if request.param == "embedded" else 0
    yield request.param
    conftest_kpis.PINNED_ROWS = None
    conftest_kpis.NEW_PLACE = None
    conftest_kpis.KEEP_ALIVE.clear()
