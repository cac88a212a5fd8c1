"""Submissions: accept whole or not at all, supersede, identical re-send, archive, atomicity."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from etl import warehouse
from tests.conftest import BUDGET_HEADER, WARDS_CSV, load_reference, submit_return

Q = "2025-26 Q2"
GOOD = (BUDGET_HEADER + 'ADH,2025-26 Q2,Grants,Ashby,"£1,000",500,community_grants\nADH,2025-26 Q2,Central,,2000,0,\n').encode()
BETTER = (BUDGET_HEADER + "ADH,2025-26 Q2,Grants,Ashby,1000,800,community_grants\n").encode()
BAD = (BUDGET_HEADER + "ADH,2025-26 Q2,Grants,Ashby,1000,1800,community_grants\n").encode()


def submit(db: Path, content: bytes, name: str = "budget.csv"):
    return submit_return(db, return_type="budget", directorate="Adults and Health", quarter=Q,
                         content=content, file_name=name, user="Jo Lead")


def rows(db: Path, sql: str, params=None):
    with warehouse.read_only(db) as con:
        return con.execute(sql, params or []).fetchall()


def test_accepted_file_is_stored_with_its_log_entry_and_bytes(council):
    out = submit(council, GOOD)
    assert out.status == "accepted" and out.row_count == 2
    assert rows(council, "SELECT budget_line, ward_code, total_budget_gbp, devolved_gbp FROM budget ORDER BY line_no") == [
        ("Grants", "E05000001", 1000, 500), ("Central", None, 2000, 0)]
    log = rows(council, "SELECT user_name, file_name, sha256, row_count, outcome FROM submissions WHERE submission_id = ?", [out.submission_id])
    assert log == [("Jo Lead", "budget.csv", hashlib.sha256(GOOD).hexdigest(), 2, "accepted")]
    digest = hashlib.sha256(GOOD).hexdigest()
    assert rows(council, "SELECT size_bytes FROM files WHERE sha256 = ?", [digest]) == [(len(GOOD),)]
    # The bytes live in the archive folder, content-addressed, not in a table that queries scan.
    wh = warehouse.open_warehouse(council)
    assert wh.archived(digest) == GOOD
    assert (wh.data_path / "archive" / digest[:2] / digest).read_bytes() == GOOD


def test_rejected_file_stores_no_rows_but_is_logged_and_archived(council):
    out = submit(council, BAD)
    assert out.status == "rejected" and [(p.line, p.column) for p in out.problems] == [(2, "devolved_gbp")]
    assert rows(council, "SELECT count(*) FROM budget_rows") == [(0,)]
    assert rows(council, "SELECT outcome, problem_count FROM submissions WHERE submission_id = ?", [out.submission_id]) == [("rejected", 1)]


def test_newer_file_supersedes_and_older_stays_in_history(council):
    first = submit(council, GOOD)
    second = submit(council, BETTER)
    assert second.status == "accepted" and second.superseded == first.submission_id
    assert rows(council, "SELECT sum(devolved_gbp) FROM budget") == [(800,)]
    assert rows(council, "SELECT count(*) FROM budget_rows") == [(3,)]  # history kept
    assert rows(council, "SELECT superseded_by FROM submissions WHERE submission_id = ?", [first.submission_id]) == [(second.submission_id,)]


def test_identical_resend_is_a_logged_no_op(council):
    first = submit(council, GOOD)
    again = submit(council, GOOD, "renamed.csv")
    assert again.status == "identical" and again.ok and "identical" in again.message
    assert rows(council, "SELECT count(*) FROM budget_rows") == [(2,)]
    assert rows(council, "SELECT outcome FROM submissions WHERE return_type = 'budget' ORDER BY submission_id") == [("accepted",), ("identical",)]
    assert rows(council, "SELECT superseded_by FROM submissions WHERE submission_id = ?", [first.submission_id]) == [(None,)]


def test_resending_an_older_superseded_file_reinstates_it(council):
    submit(council, GOOD)
    submit(council, BETTER)
    again = submit(council, GOOD)
    assert again.status == "accepted"
    assert rows(council, "SELECT sum(devolved_gbp) FROM budget") == [(500,)]


def snapshot_of_every_table(db: Path) -> dict[str, list[tuple]]:
    with warehouse.read_only(db) as con:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)  # noqa: S608
                for t in warehouse.table_names(con)}


def test_a_failure_in_the_middle_of_a_load_leaves_the_warehouse_exactly_as_before(council):
    submit(council, GOOD)
    before, version = snapshot_of_every_table(council), warehouse.file_version(council)

    def explode(con):
        # rows are written and the older submission marked superseded by now
        assert con.execute("SELECT count(*) FROM budget_rows").fetchone()[0] == 3
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        submit_return(council, return_type="budget", directorate="Adults and Health", quarter=Q,
                      content=BETTER, file_name="b.csv", user="x", before_commit=explode)
    assert warehouse.file_version(council) == version  # no commit happened
    assert snapshot_of_every_table(council) == before  # every table exactly as before
    assert rows(council, "SELECT sum(devolved_gbp) FROM budget") == [(500,)]
    # The next write goes through: the failed one left no lock or transaction behind.
    assert submit(council, BETTER).status == "accepted"


def test_unreadable_file_is_rejected_with_a_message(council):
    out = submit(council, b"\x00\x00binary")
    assert out.status == "rejected" and "not a text" in out.problems[0].reason


def test_boundaries_accept_ons_property_names_and_report_gaps(council):
    square = {"type": "Polygon", "coordinates": [[[-2.0, 53.0], [-1.9, 53.0], [-1.9, 53.1], [-2.0, 53.0]]]}
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"WD23CD": "E05000001"}, "geometry": square},
        {"type": "Feature", "properties": {"area_code": "E05000002"}, "geometry": square},
        {"type": "Feature", "properties": {"ward_code": "E05099999"}, "geometry": square},
    ]}
    out = load_reference(council, kind="boundaries", content=json.dumps(doc).encode(), file_name="b.geojson", user="admin")
    assert out.ok and out.row_count == 2
    assert any("E05099999" in w for w in out.warnings)
    assert any("E05000003" in w for w in out.warnings)


def test_boundaries_in_british_national_grid_are_rejected(council):
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"ward_code": "E05000001"},
           "geometry": {"type": "Polygon", "coordinates": [[[350000, 400000], [351000, 400000], [350000, 401000], [350000, 400000]]]}}]}
    out = load_reference(council, kind="boundaries", content=json.dumps(doc).encode(), file_name="b.geojson", user="admin")
    assert out.status == "rejected" and "longitude/latitude" in out.problems[0].reason


@pytest.mark.parametrize("kind", ["wards", "directorates"])
def test_a_header_only_wards_or_directorates_file_is_rejected(council, kind):
    header = {"wards": "ward_code,ward_name,neighbourhood,population_total," + ",".join(
        f"pop_{g}" for g in ("age_16_24", "age_25_44", "age_45_64", "age_65_plus", "female", "male",
                             "ethnicity_white", "ethnicity_asian", "ethnicity_black", "ethnicity_mixed",
                             "ethnicity_other", "disabled", "not_disabled")) + "\n",
              "directorates": "directorate,short_name\n"}[kind]
    out = load_reference(council, kind=kind, content=header.encode(), file_name="x.csv", user="admin")
    assert out.status == "rejected" and "no rows" in out.problems[0].reason
    assert rows(council, f"SELECT count(*) FROM {kind}")[0][0] > 0  # noqa: S608 - fixed table names


def test_a_header_only_targets_file_is_loaded_with_a_warning(council):
    out = load_reference(council, kind="targets", content=b"kpi,directorate,financial_year,target,direction\n",
                         file_name="t.csv", user="admin")
    assert out.ok and "No target" in out.warnings[0]
    assert rows(council, "SELECT count(*) FROM targets") == [(0,)]


def test_reloading_wards_without_a_ward_in_use_warns(council):
    submit(council, GOOD)  # one row in Ashby (E05000001)
    without_ashby = "\n".join(line for line in WARDS_CSV.splitlines() if "Ashby" not in line) + "\n"
    # New codes start a new ward set after the stored quarter: that quarter keeps its wards.
    out = load_reference(council, kind="wards", content=without_ashby.encode(), file_name="w.csv", user="admin")
    assert out.ok and "as ward set set-2, from 2025-26 Q3; quarters before it keep set initial" in out.message
    assert not any("row(s) of current returns" in w for w in out.warnings)
    # Loaded into the stored quarter's own set (a correction), the row on Ashby is named.
    out = load_reference(council, kind="wards", content=without_ashby.encode(), file_name="w.csv", user="admin",
                         vintage="initial")
    assert out.ok and "into ward set initial (every quarter to 2025-26 Q2), replacing its wards" in out.message
    assert any("1 row(s) of current returns for 2025-26 Q2 name ward(s) not in ward set initial (E05000001)" in w
               for w in out.warnings)


@pytest.mark.parametrize(
    "doc",
    [b'{"type":"FeatureCollection","features":"x"}', b'{"type":"FeatureCollection","features":[1]}',
     b'{"type":"FeatureCollection","features":[{"properties":"x","geometry":[]}]}'],
)
def test_malformed_geojson_is_rejected_not_a_crash(council, doc):
    out = load_reference(council, kind="boundaries", content=doc, file_name="b.geojson", user="admin")
    assert out.status == "rejected" and out.problems


def test_a_duckdb_file_that_is_not_a_warehouse_gives_a_clear_error(tmp_path):
    import duckdb

    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    with pytest.raises(warehouse.WarehouseError, match="not a localism warehouse"):
        warehouse.Reader(other).query_df("SELECT 1")
