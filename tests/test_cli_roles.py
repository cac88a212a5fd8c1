"""The CLI knows who is writing: the login's account and its role apply when there is an accounts file."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from accounts import store
from etl import queries, warehouse
from tests.conftest import BUDGET_HEADER, TARGETS_CSV
from tests.conftest import etl_in_process as etl

Q = "2025-26 Q2"
LOGIN = getpass.getuser()


def _budget(tmp_path: Path, directorate: str = "ADH", total: str = "1000", devolved: str = "500",
            quarter: str = Q) -> str:
    f = tmp_path / f"budget-{directorate}-{total}-{quarter}.csv"
    f.write_text(BUDGET_HEADER + f"{directorate},{quarter},Grants,Ashby,{total},{devolved},community_grants\n")
    return str(f)


def _log(db: Path) -> list[tuple]:
    with warehouse.read_only(db) as con:
        return con.execute("SELECT user_name, outcome, warnings FROM submissions WHERE return_type = 'budget' "
                           "ORDER BY submission_id").fetchall()


@pytest.fixture
def users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "users.json"
    store.add_user(path, name=LOGIN, role="lead", directorates=["Adults and Health"], password="a long password")
    monkeypatch.setenv("LOCALISM_USERS", str(path))
    return path


def test_the_login_s_role_applies_when_an_accounts_file_is_configured(council, tmp_path, users, capsys):
    # A lead for Adults and Health may load Adults and Health ...
    r = etl(capsys, "load", "--db", str(council), "--return", "budget", "--directorate", "ADH", "--quarter", Q,
            _budget(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    # ... but not Place, and --user cannot pick another identity.
    r = etl(capsys, "load", "--db", str(council), "--return", "budget", "--directorate", "Place", "--quarter", Q,
            _budget(tmp_path, "Place"))
    assert r.returncode == 2 and "not for Place" in r.stderr and "Nothing was stored" in r.stderr
    r = etl(capsys, "load", "--db", str(council), "--return", "budget", "--directorate", "Place", "--quarter", Q,
            "--user", "demo-lead-adh", _budget(tmp_path, "Place"))
    assert r.returncode == 2 and "--user cannot name someone else" in r.stderr
    # Reference data needs an administrator.
    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS_CSV)
    r = etl(capsys, "load-reference", "--db", str(council), "targets", str(targets))
    assert r.returncode == 2 and "Only an administrator may load reference data" in r.stderr
    assert [row[:2] for row in _log(council)] == [(LOGIN, "accepted")]


def test_a_login_without_an_account_is_refused(council, tmp_path, monkeypatch, capsys):
    path = tmp_path / "users.json"
    store.add_user(path, name="someone.else", role="admin", password="a long password")
    r = etl(capsys, "load", "--db", str(council), "--users", str(path), "--return", "budget",
            "--directorate", "ADH", "--quarter", Q, _budget(tmp_path))
    assert r.returncode == 2 and f"{LOGIN} has no account" in r.stderr
    assert _log(council) == []


def test_the_operator_override_is_explicit_and_audited(council, tmp_path, users, capsys):
    r = etl(capsys, "load", "--db", str(council), "--return", "budget", "--directorate", "Place", "--quarter", Q,
            "--as-admin", _budget(tmp_path, "Place"))
    assert r.returncode == 0, r.stdout + r.stderr
    who = f"{LOGIN} (operator override)"
    assert [row[:2] for row in _log(council)] == [(who, "accepted")]
    with warehouse.read_only(council) as con:
        log = queries.audit_log(con)
    overrides = log[log["action"] == "operator override"]
    assert len(overrides) == 1 and "etl load budget Place" in overrides.iloc[0]["detail"]


def test_without_an_accounts_file_the_login_is_recorded(council, tmp_path, monkeypatch, capsys):

    monkeypatch.delenv("LOCALISM_USERS", raising=False)
    monkeypatch.setenv("LOCALISM_DB", str(tmp_path / "elsewhere" / "council.duckdb"))
    r = etl(capsys, "load", "--db", str(council), "--return", "budget", "--directorate", "ADH", "--quarter", Q,
            "--user", "J Smith", _budget(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert _log(council)[0][0] == f"J Smith (login {LOGIN})"


def test_implausible_figures_need_accept_warnings(council, tmp_path, users, capsys):
    args = ["load", "--db", str(council), "--return", "budget", "--directorate", "ADH"]
    r = etl(capsys, *args, "--quarter", "2025-26 Q1", _budget(tmp_path, quarter="2025-26 Q1"))
    assert r.returncode == 0, r.stdout + r.stderr
    big = _budget(tmp_path, total="100000", devolved="500")  # the total is 100 times last quarter's
    r = etl(capsys, *args, "--quarter", Q, big)
    assert r.returncode == 1
    assert "Warning: The total budget is £100,000, 100 times the usual £1,000" in r.stdout
    assert "--accept-warnings" in r.stdout and "Nothing was stored" in r.stdout
    assert len(_log(council)) == 1  # nothing stored, nothing logged
    r = etl(capsys, *args, "--quarter", Q, "--accept-warnings", big)
    assert r.returncode == 0 and "Note: The total budget is £100,000" in r.stdout
    stored = _log(council)[-1]
    assert stored[1] == "accepted" and stored[2].startswith("The total budget is £100,000")
