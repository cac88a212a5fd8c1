"""Roles are enforced in the write path (etl.access), not only by hiding buttons."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from accounts import store
from etl import access, queries, warehouse
from etl.access import Actor
from tests.test_submit_fixtures import (
    ADULTS,
    PLACE,
    QUARTER,
    bad_budget_csv,
    budget_csv,
    make_warehouse,
    read,
)

LEAD = Actor("lead.adults", "lead", ("ADH",))
VIEWER = Actor("viewer.one", "viewer")
ADMIN = Actor("admin.one", "admin")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_warehouse(tmp_path / "w.duckdb")


def _count(db: Path, sql: str) -> int:
    with warehouse.read_only(db) as con:
        return int(con.execute(sql).fetchone()[0])


def test_lead_submits_for_own_directorate(db: Path) -> None:
    out = access.submit_as(LEAD, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                           content=budget_csv(), file_name="b.csv", commentary="Grants pot opened.")
    assert out.status == "accepted"
    assert _count(db, "SELECT count(*) FROM budget") == 2
    assert _count(db, "SELECT count(*) FROM commentary") == 1


@pytest.mark.parametrize("spelling", [PLACE, "PLE", "  place   AND environment ", "ple"])
def test_lead_cannot_submit_for_another_directorate_in_any_spelling(db: Path, spelling: str) -> None:
    before = warehouse.file_version(db)
    with pytest.raises(PermissionError, match="not for Place and Environment"):
        access.submit_as(LEAD, db, return_type="budget", directorate=spelling, quarter=QUARTER,
                         content=budget_csv(PLACE), file_name="b.csv")
    assert warehouse.file_version(db) == before  # not even a rejected entry was written
    assert _count(db, "SELECT count(*) FROM submissions WHERE return_type = 'budget'") == 0


def test_rows_for_another_directorate_under_own_declaration_are_rejected(db: Path) -> None:
    # Crafted input: declared as the lead's own directorate, rows naming another one.
    out = access.submit_as(LEAD, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                           content=budget_csv(PLACE), file_name="b.csv")
    assert out.status == "rejected"
    assert {p.column for p in out.problems} == {"directorate"}
    assert _count(db, "SELECT count(*) FROM budget") == 0


def test_lead_cannot_preview_or_comment_for_another_directorate(db: Path) -> None:
    with pytest.raises(PermissionError):
        with access.dry_run_as(LEAD, db, return_type="budget", directorate=PLACE, quarter=QUARTER,
                               content=budget_csv(PLACE), file_name="b.csv"):
            pass
    with pytest.raises(PermissionError):
        access.add_commentary_as(LEAD, db, directorate="PLE", quarter=QUARTER, body="not mine")
    assert _count(db, "SELECT count(*) FROM commentary") == 0


def test_lead_cannot_administer(db: Path) -> None:
    with pytest.raises(PermissionError):
        access.set_deadline_as(LEAD, db, quarter=QUARTER, due=dt.date(2025, 10, 31))
    with pytest.raises(PermissionError):
        access.load_reference_as(LEAD, db, kind="directorates", content=b"directorate\nX\n", file_name="d.csv")
    assert _count(db, "SELECT count(*) FROM directorates") == 2


def test_viewer_never_reaches_a_write(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_write(*args: object, **kwargs: object) -> None:
        raise AssertionError("a viewer reached warehouse.write")

    monkeypatch.setattr(warehouse, "write", no_write)
    calls = [
        lambda: access.submit_as(VIEWER, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                                 content=budget_csv(), file_name="b.csv"),
        lambda: access.submit_as(VIEWER, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                                 content=bad_budget_csv(), file_name="b.csv"),
        lambda: access.add_commentary_as(VIEWER, db, directorate=ADULTS, quarter=QUARTER, body="x"),
        lambda: access.set_deadline_as(VIEWER, db, quarter=QUARTER, due=dt.date(2025, 10, 31)),
        lambda: access.load_reference_as(VIEWER, db, kind="directorates", content=b"directorate\nX\n",
                                         file_name="d.csv"),
    ]
    before = warehouse.file_version(db)
    for call in calls:
        with pytest.raises(PermissionError):
            call()
    assert warehouse.file_version(db) == before


def test_unknown_or_forged_role_is_refused(db: Path) -> None:
    for actor in (Actor("x", "superuser"), Actor("x", "Admin")):
        with pytest.raises(PermissionError):
            access.submit_as(actor, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                             content=budget_csv(), file_name="b.csv")
    with pytest.raises(PermissionError):
        access.authorise_submission("admin", ADULTS)  # type: ignore[arg-type]


def test_admin_may_do_everything(db: Path) -> None:
    out = access.submit_as(ADMIN, db, return_type="budget", directorate="PLE", quarter=QUARTER,
                           content=budget_csv(PLACE), file_name="b.csv")
    assert out.status == "accepted"
    access.set_deadline_as(ADMIN, db, quarter=QUARTER, due=dt.date(2025, 10, 31))
    assert read(db, queries.deadline_of, QUARTER) == dt.date(2025, 10, 31)
    log = read(db, queries.audit_log)
    assert {"accepted", "deadline"} <= set(log["action"])
    assert set(log["who"]) >= {"admin.one"}


def test_history_visibility(db: Path) -> None:
    assert access.visible_directorates(LEAD, db) == [ADULTS]
    assert access.visible_directorates(VIEWER, db) == [ADULTS, PLACE]
    assert access.visible_directorates(None, db) == []


# ---------------------------------------------------------------------------------------------
# Accounts


def test_accounts_file_hashes_passwords(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCALISM_DEMO", raising=False)
    path = tmp_path / "users.json"
    store.add_user(path, name="j.smith", role="lead", directorates=["ADH"], password="correct horse 1")
    text = path.read_text()
    assert "correct horse" not in text and "$argon2id$" in text
    actor = store.verify_password("j.smith", "correct horse 1", path)
    assert actor == Actor("j.smith", "lead", ("ADH",))
    assert store.verify_password("j.smith", "wrong password", path) is None
    assert store.verify_password("nobody", "correct horse 1", path) is None
    with pytest.raises(ValueError):
        store.add_user(path, name="x", role="lead", password="long enough pw")  # a lead needs a directorate
    with pytest.raises(ValueError):
        store.add_user(path, name="y", role="viewer", password="short")
    with pytest.raises(ValueError):
        store.add_user(path, name="z", role="owner", password="long enough pw")


def test_no_default_password_outside_demo_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = make_warehouse(tmp_path / "w.duckdb")
    path = tmp_path / "users.json"
    monkeypatch.delenv("LOCALISM_DEMO", raising=False)
    assert store.all_accounts(path, db) == []
    assert store.verify_password("demo-admin", store.DEMO_PASSWORD, path, db) is None
    monkeypatch.setenv("LOCALISM_DEMO", "1")
    names = {a.name for a in store.all_accounts(path, db)}
    assert names == {"demo-admin", "demo-viewer", "demo-lead-adh", "demo-lead-ple"}
    assert store.verify_password("demo-lead-adh", store.DEMO_PASSWORD, path, db) == Actor(
        "demo-lead-adh", "lead", (ADULTS,))


def test_identity_provider_email_maps_to_role(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    store.add_user(path, name="j.smith", role="lead", directorates=["ADH"], email="J.Smith@council.gov.uk")
    assert store.actor_for_email("j.smith@council.gov.uk", path).role == "lead"
    assert store.actor_for_email("stranger@council.gov.uk", path).role == "viewer"
    assert "password_hash" not in json.loads(path.read_text())["users"][0]


def test_add_user_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from etl.cli import main

    path = tmp_path / "users.json"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert main(["add-user", "--users", str(path), "--name", "ann", "--role", "admin", "--password-stdin"]) == 0
    assert store.verify_password("ann", "a long password", path) == Actor("ann", "admin")
    assert main(["add-user", "--users", str(path), "--name", "bob", "--role", "lead", "--no-password"]) == 2


def test_default_quarter() -> None:
    assert queries.default_quarter(dt.date(2026, 11, 23)) == "2026-27 Q2"
    assert queries.default_quarter(dt.date(2026, 4, 2)) == "2025-26 Q4"
    # The quarter before that is still open while its deadline has not passed.
    deadline = {"2026-27 Q1": dt.date(2026, 10, 31)}.get
    assert queries.default_quarter(dt.date(2026, 10, 5), deadline) == "2026-27 Q1"
    assert queries.default_quarter(dt.date(2026, 11, 1), deadline) == "2026-27 Q2"
