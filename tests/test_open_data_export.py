"""`etl export`: KPIs and returns as CSV + Parquet with a datapackage.json Frictionless accepts."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import subprocess
from pathlib import Path

import duckdb
import pytest

from etl import warehouse
from kpis.__main__ import main as kpis_main
from tests.conftest import (
    BUDGET_HEADER,
    ENGAGEMENT_HEADER,
    PARTNERSHIPS_HEADER,
    PYTHON,
    make_council,
    submit_return,
)
from tests.test_giving360 import run

# Two quarters of the tiny council (wards E05000001-3, populations 1000/2000/3000).
RETURNS = {
    ("budget", "Place", "2025-26 Q1"): BUDGET_HEADER
    + "Place,2025-26 Q1,Parks,E05000001,1000,250,community_grants\nPlace,2025-26 Q1,Roads,,3000,0,\n",
    ("engagement", "Place", "2025-26 Q1"): ENGAGEMENT_HEADER
    # 12 people in Ashby: 3 Black and 2 disabled residents are small numbers; 7 White is not
    + "Place,2025-26 Q1,E-1,2025-05-01,E05000001,workshop,priority_setting,12,0,5,4,3,6,6,7,2,3,0,0,2,10,yes\n"
    + "Place,2025-26 Q1,E-2,2025-06-01,,survey,options,40,10,10,10,10,20,20,30,5,5,0,0,8,32,no\n",
    ("partnerships", "Place", "2025-26 Q1"): PARTNERSHIPS_HEADER
    + "Place,2025-26 Q1,P-1,Hall Trust,vcse,community_asset_transfer,E05000002,2025-04-10,,1200.50,30\n"
    + "Place,2025-26 Q1,P-2,Friends,residents_association,coproduction,,2020-01-01,,,\n",
    ("budget", "Adults and Health", "2025-26 Q2"): BUDGET_HEADER
    + "Adults and Health,2025-26 Q2,Care,E05000003,2000,1000,participatory_budgeting\n",
}


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny council with the returns above (built once for this file)."""
    db = make_council(tmp_path_factory.mktemp("export") / "council.duckdb")
    for (rtype, directorate, quarter), text in RETURNS.items():
        out = submit_return(db, return_type=rtype, directorate=directorate, quarter=quarter,
                            content=text.encode(), file_name=f"{rtype}.csv", user="lead")
        assert out.ok, out.problems
    return db


@pytest.fixture(scope="module")
def exported(council: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("open")
    res = run("export", "--db", council, "--to", folder)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Wrote 8 tables for 2 quarter(s) and datapackage.json" in res.stdout
    return folder


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_frictionless_accepts_the_package(exported: Path):
    from frictionless import Package

    report = Package(str(exported / "datapackage.json")).validate()
    assert report.valid, [e.message for t in report.tasks for e in t.errors][:10]
    names = [t.name for t in report.tasks]
    assert len(names) == 16 and "kpis_ward" in names and "engagement-parquet" in names
    cli = subprocess.run([str(Path(PYTHON).with_name("frictionless")), "validate", str(exported / "datapackage.json")],
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stdout[-2000:]


def test_kpis_for_every_quarter_and_group_match_kpis_table(exported: Path, council: Path):
    council_rows = rows(exported / "kpis_council.csv")
    assert [r["quarter"] for r in council_rows] == ["2025-26 Q1", "2025-26 Q2"]
    q1 = council_rows[0]
    # Q1 budget: devolved 250 of 4,000 -> 0.0625; PB nothing -> 0.0
    assert q1["devolved_budget_share"] == "0.0625" and q1["pb_share"] == "0.0"
    # participants 12 + 40 over the council's 6,000 residents -> 1000 * 52 / 6000
    assert float(q1["participation_per_1000"]) == pytest.approx(1000 * 52 / 6000)
    assert (q1["active_partnerships"], q1["new_partnerships"], q1["cat_long_lease_share"]) == ("2", "1", "1.0")
    q2 = council_rows[1]
    assert q2["participation_per_1000"] == "0.0" and q2["feedback_rate"] == ""  # no activity: undefined, blank
    wards = rows(exported / "kpis_ward.csv")
    assert len(wards) == 3 * 2 and {r["ward_code"] for r in wards} == {"E05000001", "E05000002", "E05000003"}
    for by, key in (("directorate", "directorate"), ("neighbourhood", "neighbourhood"), ("ward", "ward_code")):
        for quarter in ("2025-26 Q1", "2025-26 Q2"):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                assert kpis_main(["table", "--db", str(council), "--quarter", quarter, "--by", by,
                                  "--format", "csv"]) == 0
            table = out.getvalue()
            mine = [r for r in rows(exported / f"kpis_{by}.csv") if r["quarter"] == quarter]
            assert mine == list(csv.DictReader(table.splitlines())), (by, quarter)
            assert mine and all(r[key] for r in mine)


def test_returns_are_exported_with_small_numbers_suppressed(exported: Path):
    eng = {r["activity_id"]: r for r in rows(exported / "engagement.csv")}
    e1 = eng["E-1"]
    # kpis.disclosure's rule: ethnicity has two small counts already; disability's 2 takes its
    # complement (not disabled 10) with it, so 'known minus the rest' cannot give it away.
    assert (e1["participants_total"], e1["ethnicity_white"], e1["ethnicity_asian"]) == ("12", "7", "[c]")
    assert (e1["ethnicity_black"], e1["ethnicity_mixed"], e1["disabled"], e1["not_disabled"]) == ("[c]", "0", "[c]", "[c]")
    assert e1["feedback_published"] == "true" and e1["activity_date"] == "2025-05-01"
    rel = duckdb.read_parquet(str(exported / "engagement.parquet")).order("activity_id")
    p1 = dict(zip(rel.columns, rel.fetchall()[0], strict=True))
    assert p1["ethnicity_white"] == 7 and p1["ethnicity_black"] is None and p1["ethnicity_mixed"] == 0
    part = {r["partnership_id"]: r for r in rows(exported / "partnerships.csv")}
    assert (part["P-1"]["annual_value_gbp"], part["P-1"]["lease_years"], part["P-2"]["end_date"]) == ("1200.5", "30", "")
    budget = rows(exported / "budget.csv")
    assert [(b["budget_line"], b["devolved_gbp"], b["mechanism"]) for b in budget] == [
        ("Parks", "250.0", "community_grants"), ("Roads", "0.0", ""), ("Care", "1000.0", "participatory_budgeting")]
    pkg = json.loads((exported / "datapackage.json").read_text())
    eng_schema = next(r for r in pkg["resources"] if r["name"] == "engagement")["schema"]
    assert eng_schema["missingValues"] == ["", "[c]"]
    assert {f["name"]: f["type"] for f in eng_schema["fields"]}["ethnicity_black"] == "integer"


def test_the_export_keeps_other_files_and_rejects_a_file_as_folder(council: Path, tmp_path: Path):
    (tmp_path / "README.txt").write_text("ours")
    assert run("export", "--db", council, "--to", tmp_path).returncode == 0
    assert (tmp_path / "README.txt").read_text() == "ours" and (tmp_path / "wards.parquet").exists()
    not_dir = tmp_path / "file.txt"
    not_dir.write_text("x")
    res = run("export", "--db", council, "--to", not_dir)
    assert res.returncode == 2 and "is a file, not a folder" in res.stderr
    assert run("export", "--db", tmp_path / "none.duckdb", "--to", tmp_path / "o").returncode == 2


def test_an_empty_warehouse_exports_valid_empty_tables(tmp_path: Path):
    from frictionless import Package

    db = tmp_path / "empty.duckdb"
    warehouse.init(db)
    assert run("export", "--db", db, "--to", tmp_path / "o").returncode == 0
    assert rows(tmp_path / "o" / "kpis_council.csv") == []
    assert Package(str(tmp_path / "o" / "datapackage.json")).validate().valid
