"""360Giving in: Trafford's real grants file (../shared/reference, skipped where absent) and small
JSON packages into a directorate's partnership registers, through the normal submission path."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from pathlib import Path

import pytest

from etl import giving360 as g3
from etl import warehouse
from etl.cli import main
from tests.conftest import PARTNERSHIPS_HEADER, submit_return

TRAFFORD = "grants_360giving/trafford_council_voluntary_sector_grants_360giving.csv"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def registers(db: Path, directorate: str = "Place") -> dict[str, list[tuple]]:
    with warehouse.read_only(db) as con:
        rows = con.execute(
            "SELECT quarter, partnership_id, partner_type, arrangement, ward_code, start_date::VARCHAR, "
            "end_date::VARCHAR, annual_value_gbp::DOUBLE FROM partnerships WHERE directorate = ? "
            "ORDER BY quarter, partnership_id", [directorate]).fetchall()
    out: dict[str, list[tuple]] = {}
    for r in rows:
        out.setdefault(r[0], []).append(r[1:])
    return out


def test_trafford_import_reports_what_mapped_and_writes_each_quarters_register(council: Path, shared_reference: Path):
    path = shared_reference / TRAFFORD
    res = run("import-360giving", "--db", council, "--directorate", "place", "--from", "2019-20 Q1",
              "--to", "2019-20 Q4", path)
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert "555 grant(s) read; 555 mapped to 323 partnership(s) (one per recipient organisation); 0 not mapped" in out
    # Recipient identifiers: 289 360G-trafford-..., 189 GB-COH (77 of them with a charity number), 77 GB-CHC
    assert "partner type vcse (360G): 289 grant(s)" in out
    assert "partner type vcse (GB-CHC): 77 grant(s)" in out
    assert "partner type vcse (GB-COH with a charity number): 77 grant(s)" in out
    assert "partner type community_business (GB-COH): 112 grant(s)" in out
    assert "beneficiary locations: location of type MD: borough-wide: 555" in out  # the whole district
    assert "no budget return is written or changed" in out
    assert "Place: 4 quarter register(s) (2019-20 Q1 to 2019-20 Q4): 4 stored as new submissions" in out
    regs = registers(council)
    assert sorted(regs) == ["2019-20 Q1", "2019-20 Q2", "2019-20 Q3", "2019-20 Q4"]
    rows = {r[0]: r for r in regs["2019-20 Q2"]}
    assert all(r[2] == "grant_funding" and r[3] is None for r in rows.values())
    with warehouse.read_only(council) as con:
        n, sources = con.execute(
            "SELECT count(*), count(DISTINCT file_name) FROM submissions WHERE return_type = 'partnerships' "
            "AND outcome = 'accepted'").fetchone()
    assert n == 4 and sources == 4
    again = run("import-360giving", "--db", council, "--directorate", "Place", "--from", "2019-20 Q1",
                "--to", "2019-20 Q4", path)
    assert again.returncode == 0
    assert "0 stored as new submissions, 4 unchanged (identical re-sends)" in again.stdout
    assert registers(council) == regs


def test_one_real_grant_is_active_in_every_quarter_it_spans(council: Path, shared_reference: Path):
    grants = g3.read_csv(__import__("etl.read", fromlist=["read_table"]).read_table(
        (shared_reference / TRAFFORD).read_bytes()))
    first = grants[0]  # 360G-traffordmbc-VSG1342: £2,266 to Altrincham Children's Choir, 2013-01-18, 12 months
    assert (first.recipient_id, first.amount, str(first.award_date), first.months) == (
        "360G-trafford-altrincham_childrens_choir", 2266.0, "2013-01-18", 12.0)
    mapped = g3.to_partnerships([first], ward_codes=set(), last_quarter="2026-27 Q4")
    # 2013-01-18 to 2014-01-17: 2012-13 Q4, then 2013-14 Q1, Q2, Q3 and Q4 (January 2014)
    assert sorted(mapped.rows) == ["2012-13 Q4", "2013-14 Q1", "2013-14 Q2", "2013-14 Q3", "2013-14 Q4"]
    row = mapped.rows["2013-14 Q3"][0]
    assert (row["start_date"], row["end_date"], row["annual_value_gbp"]) == ("2013-01-18", "2014-01-17", "2266.00")


def _package(*grants: dict) -> bytes:
    return json.dumps({"grants": list(grants)}).encode()


def _grant(gid: str, org: str | None, *, ward: str | None = None, start: str = "2025-05-01", months: int = 6,
           amount: float = 1200, **extra) -> dict:
    g = {"id": gid, "title": f"Grant {gid}", "description": "d", "currency": "GBP", "amountAwarded": amount,
         "awardDate": start, "plannedDates": [{"startDate": start, "duration": months}],
         "fundingOrganization": [{"id": "GB-LAE-XYZ", "name": "Some Council"}], **extra}
    if org:
        g["recipientOrganization"] = [{"id": org, "name": f"Org {org}"}]
    else:
        g["recipientIndividual"] = {"id": "360G-xyz-ind-1", "name": "A person"}
    if ward:
        g["beneficiaryLocation"] = [{"geoCode": ward, "geoCodeType": "WD", "name": "w"}]
    return g


def test_json_wards_individuals_and_unknown_registers(council: Path, tmp_path: Path):
    f = tmp_path / "grants.json"
    f.write_bytes(_package(
        _grant("360G-xyz-1", "GB-CHC-1000001", ward="E05000002"),  # Castle Quay: a ward of the council
        _grant("360G-xyz-2", "GB-CHC-1000002", ward="E05999999"),  # not a ward here: borough-wide
        _grant("360G-xyz-3", None),  # a grant to an individual is not a partnership
        _grant("360G-xyz-4", "US-EIN-123456"),  # a register with no partner type
        _grant("360G-xyz-5", "GB-CHC-1000001", ward="E05000002", start="2025-11-01", months=3, amount=300),
    ))
    res = run("import-360giving", "--db", council, "--directorate", "ADH", "--to", "2025-26 Q4", f)
    assert res.returncode == 0, res.stdout
    assert "5 grant(s) read; 3 mapped to 2 partnership(s)" in res.stdout
    assert "grant 3 (360G-xyz-3): has no recipient organisation" in res.stdout
    assert "grant 4 (360G-xyz-4): recipient US-EIN-123456: the register US-EIN has no partner type" in res.stdout
    assert "beneficiary locations: ward E05999999 is not a ward of this council: 1" in res.stdout
    regs = registers(council, "Adults and Health")
    # GB-CHC-1000001: 2025-05-01 + 6 months -> 2025-10-31, then 2025-11-01 + 3 months (follows on the
    # next day: one spell) -> 2026-01-31. Q1..Q4 of 2025-26.
    assert sorted(regs) == ["2025-26 Q1", "2025-26 Q2", "2025-26 Q3", "2025-26 Q4"]
    q3 = {r[0]: r for r in regs["2025-26 Q3"]}
    # Q3 (Oct-Dec) has both grants active: 1,200 (6 months: the amount is the year's value) + 300
    assert q3["GB-CHC-1000001"] == ("GB-CHC-1000001", "vcse", "grant_funding", "E05000002", "2025-05-01",
                                    "2026-01-31", 1500.0)
    # GB-CHC-1000002: 2025-05-01 to 2025-10-31, so in Q1-Q3; its ward is unknown here: borough-wide
    assert q3["GB-CHC-1000002"][3:] == (None, "2025-05-01", "2025-10-31", 1200.0)
    assert [r[0] for r in regs["2025-26 Q4"]] == ["GB-CHC-1000001"]
    mapping = tmp_path / "types.csv"
    mapping.write_text("identifier,partner_type\nUS-EIN,other\nGB-CHC-1000002,faith group\n")
    res = run("import-360giving", "--db", council, "--directorate", "ADH", "--to", "2025-26 Q4",
              "--partner-types", mapping, f)
    assert res.returncode == 0 and "4 mapped to 3 partnership(s)" in res.stdout
    q2 = {r[0]: r for r in registers(council, "Adults and Health")["2025-26 Q2"]}
    assert q2["US-EIN-123456"][1] == "other" and q2["GB-CHC-1000002"][1] == "faith_group"


def test_stored_partnerships_are_kept_and_same_ids_replaced(council: Path, tmp_path: Path):
    register = PARTNERSHIPS_HEADER + (
        "Place,2025-26 Q1,P-1,Hall Trust,vcse,coproduction,,2024-01-01,,,\n"
        "Place,2025-26 Q1,GB-CHC-1000001,Old name,vcse,service_delivery,,2024-01-01,,5000,\n"
    )
    out = submit_return(council, return_type="partnerships", directorate="Place", quarter="2025-26 Q1",
                        content=register.encode(), file_name="reg.csv", user="lead")
    assert out.ok, out.problems
    f = tmp_path / "g.json"
    f.write_bytes(_package(_grant("360G-xyz-1", "GB-CHC-1000001")))
    res = run("import-360giving", "--db", council, "--directorate", "Place", "--to", "2025-26 Q2", f)
    assert res.returncode == 0, res.stdout
    assert "1 partnership row(s) already stored and not in the file were kept" in res.stdout
    assert "1 stored row(s) with a partnership_id the file names were replaced" in res.stdout
    q1 = {r[0]: r for r in registers(council)["2025-26 Q1"]}
    assert q1["P-1"][2] == "coproduction"  # never dropped
    assert q1["GB-CHC-1000001"][2] == "grant_funding" and q1["GB-CHC-1000001"][6] == 1200.0
    with warehouse.read_only(council) as con:
        superseded = con.execute("SELECT count(*) FROM submissions WHERE superseded_by IS NOT NULL").fetchone()[0]
    assert superseded == 1  # the lead's register stays in the history


def test_one_bad_quarter_stores_nothing(council: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    f = tmp_path / "g.json"
    f.write_bytes(_package(_grant("360G-xyz-1", "GB-CHC-1000001", months=12)))
    real, calls = g3.merge, []

    def broken(existing, imported):  # the third quarter's register gets a partner type the contract lacks
        rows, kept, replaced = real(existing, imported)
        calls.append(1)
        if len(calls) == 3:
            rows = [{**rows[0], "partner_type": "club"}]
        return rows, kept, replaced

    monkeypatch.setattr(g3, "merge", broken)
    res = run("import-360giving", "--db", council, "--directorate", "Place", "--to", "2026-27 Q4", f)
    assert res.returncode == 1
    assert "nothing of the file was stored" in res.stdout and "partner_type" in res.stdout
    assert registers(council) == {}


def test_bad_files_and_usage(council: Path, tmp_path: Path):
    bad = tmp_path / "x.json"
    bad.write_text('{"grants": ')
    res = run("import-360giving", "--db", council, "--directorate", "Place", bad)
    assert res.returncode == 1 and "is not valid JSON" in res.stdout
    csv_file = tmp_path / "x.csv"
    csv_file.write_text("a,b\n1,2\n")
    res = run("import-360giving", "--db", council, "--directorate", "Place", csv_file)
    assert res.returncode == 1 and "This is not a 360Giving file" in res.stdout
    assert run("import-360giving", "--db", council, "--directorate", "Nobody", csv_file).returncode == 2
    assert run("import-360giving", "--db", council, "--directorate", "Place", "--to", "soon", csv_file).returncode == 2
    assert run("import-360giving", "--db", council, "--directorate", "Place", tmp_path / "none.csv").returncode == 2
