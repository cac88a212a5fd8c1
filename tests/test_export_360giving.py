"""360Giving out: the package validates against 360Giving's own schema (from ../shared/reference,
skipped where absent) and reads back into the same registers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl import giving360 as g3
from tests.conftest import PARTNERSHIPS_HEADER, make_council, submit_return
from tests.test_giving360 import TRAFFORD, registers, run

SCHEMA = "grants_360giving"


def schemas(shared: Path) -> tuple[dict, dict]:
    folder = shared / SCHEMA
    return (json.loads((folder / "360-giving-package-schema.json").read_text()),
            json.loads((folder / "360-giving-schema.json").read_text()))


def test_trafford_round_trip_export_validate_read_back(council: Path, tmp_path: Path, shared_reference: Path):
    span = ("--from", "2019-20 Q1", "--to", "2019-20 Q4")
    assert run("import-360giving", "--db", council, "--directorate", "Place", *span,
               shared_reference / TRAFFORD).returncode == 0
    out = tmp_path / "grants.json"
    res = res_export = run("export-360giving", "--db", council, "--out", out, "--schema", shared_reference / SCHEMA)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "The package validates against 360Giving's schema" in res.stdout
    assert "funder GB-LAE-TRF (Trafford Metropolitan Borough Council); grant identifiers start 360G-traffordmbc-" in res.stdout
    pkg = json.loads(out.read_text())
    assert g3.validate_package(pkg, *schemas(shared_reference)) == []
    ids = {g["recipientOrganization"][0]["id"] for g in pkg["grants"]}
    assert ids == {r[0] for rows in registers(council).values() for r in rows}
    assert all(g["currency"] == "GBP" and g["fundingOrganization"][0]["department"] == "Place" for g in pkg["grants"])
    back = make_council(tmp_path / "back.duckdb")
    res = run("import-360giving", "--db", back, "--directorate", "Place", *span, out)
    assert res.returncode == 0, res.stdout
    assert "partner type" in res.stdout and "the file's organisation type" in res.stdout
    # Read back, every partnership is in the same quarters with the same type, ward and dates; the
    # annual value is exact for a spell of one grant (or of grants with one annual value), while a
    # spell whose annual value changed comes back as one grant with a pro-rata amount.
    mine, theirs = registers(council), registers(back)
    assert {q: [r[:6] for r in rows] for q, rows in theirs.items()} == {q: [r[:6] for r in rows] for q, rows in mine.items()}
    changing = {r[0] for rows in mine.values() for r in rows
                if len({x[6] for rs in mine.values() for x in rs if x[0] == r[0]}) > 1}
    same = [(q, a, b) for q in mine for a, b in zip(mine[q], theirs[q], strict=True) if a[0] not in changing]
    assert len(same) > 100 and all(a == b for _, a, b in same)
    assert "estimated pro rata" in res_export.stdout


def test_a_broken_package_is_reported_not_passed(shared_reference: Path):
    pkg = {"grants": [{"id": "360G-x-1", "title": "t", "description": "d", "currency": "GBP",
                       "awardDate": "2025-13-01",
                       "recipientOrganization": [{"id": "GB-CHC-1", "name": "n"}],
                       "fundingOrganization": [{"id": "GB-LAE-X", "name": "c"}]}]}
    errors = g3.validate_package(pkg, *schemas(shared_reference))
    assert any(e.startswith("grants/0: 'amountAwarded' is a required property") for e in errors), errors
    assert any(e.startswith("grants/0/awardDate: '2025-13-01' is not a 'date-time'; or '2025-13-01' does not match") for e in errors), errors
    assert g3.validate_package({"grants": []}, *schemas(shared_reference))  # at least one grant


def test_ward_amounts_and_what_is_left_out(council: Path, tmp_path: Path, shared_reference: Path):
    register = PARTNERSHIPS_HEADER + (
        "Place,2025-26 Q1,GB-CHC-1000001,Hall Trust,vcse,grant_funding,E05000002,2025-04-01,2027-03-31,6000,\n"
        "Place,2025-26 Q1,P-2,Friends Group,residents_association,grant_funding,,2025-04-01,,,\n"
        "Place,2025-26 Q1,P-3,Asset Trust,vcse,community_asset_transfer,,2020-04-01,,,30\n"
    )
    assert submit_return(council, return_type="partnerships", directorate="Place", quarter="2025-26 Q1",
                         content=register.encode(), file_name="r.csv", user="lead").ok
    out = tmp_path / "g.json"
    assert run("export-360giving", "--db", council, "--out", out).returncode == 2  # no funder known: usage
    res = run("export-360giving", "--db", council, "--out", out, "--funder-id", "GB-LAE-ABC",
              "--funder-name", "Abc Council", "--prefix", "360G-abc", "--schema", shared_reference / SCHEMA)
    assert res.returncode == 0, res.stdout
    assert "left out: Place P-2 (from 2025-04-01): no annual_value_gbp, so no amount awarded" in res.stdout
    (grant,) = json.loads(out.read_text())["grants"]
    # £6,000 a year over 24 months (2025-04-01 to 2027-03-31): £12,000 awarded
    assert grant["amountAwarded"] == 12000.0
    assert grant["plannedDates"] == [{"startDate": "2025-04-01", "endDate": "2027-03-31", "duration": 24}]
    assert grant["beneficiaryLocation"] == [{"geoCode": "E05000002", "geoCodeType": "WD", "name": "Castle Quay"}]
    assert grant["recipientOrganization"][0] == {"id": "GB-CHC-1000001", "name": "Hall Trust", "organisationType": "vcse"}


def test_nothing_to_publish_exits_1(council: Path, tmp_path: Path):
    res = run("export-360giving", "--db", council, "--out", tmp_path / "g.json", "--funder-id", "GB-LAE-ABC",
              "--funder-name", "Abc", "--prefix", "360G-abc")
    assert res.returncode == 1 and "needs at least one grant" in res.stdout
    assert not (tmp_path / "g.json").exists()


@pytest.mark.parametrize("bad", ["nowhere", "schema-missing"])
def test_bad_schema_folder_is_a_usage_error(council: Path, tmp_path: Path, bad: str):
    res = run("export-360giving", "--db", council, "--out", tmp_path / "g.json", "--schema", tmp_path / bad)
    assert res.returncode == 2 and "--schema: cannot read" in res.stderr
