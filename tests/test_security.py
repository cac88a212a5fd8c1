"""Intruders lose: each test tries one attack named in SECURITY.md and checks it fails.

Role checks on the write path are in tests/test_roles.py and tests/test_submit_app.py; hostile
file contents in tests/test_bad_input.py. This file covers the rest: brute force, SQL through
filters and URLs, formulas in exports, HTML in names and commentary, file-name traversal, the
server's address, and secrets in the repository and in logs.
"""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from accounts import store, throttle
from dashboard import exports
from etl import access, warehouse
from etl.access import Actor
from tests.conftest import ROOT
from tests.test_submit_fixtures import ADULTS, PLACE, QUARTER, make_warehouse

APP = ROOT / "dashboard" / "app.py"
VIEWS = ROOT / "dashboard" / "views"
ADMIN = Actor("admin", "admin")
LEAD = Actor("lead.adults", "lead", (ADULTS,))
SCRIPT = "<script>alert('x')</script>"
FORMULAS = ("=CMD|' /C calc'!A0", "+SUM(1+1)", "-2+3+cmd|' /C calc'!A0", "@SUM(1)")
SQL = "x'); DROP TABLE submissions; --"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = make_warehouse(tmp_path / "w.duckdb")
    monkeypatch.setenv("LOCALISM_DB", str(path))
    monkeypatch.setenv("LOCALISM_USERS", str(tmp_path / "users.json"))
    monkeypatch.delenv("LOCALISM_DEMO", raising=False)
    monkeypatch.delenv("LOCALISM_REQUIRE_SIGNIN", raising=False)
    monkeypatch.setattr(throttle, "THROTTLE", throttle.SignInThrottle())
    return path


def partnerships(names: tuple[str, ...], directorate: str = ADULTS) -> bytes:
    head = ("directorate,quarter,partnership_id,partner_name,partner_type,arrangement,ward_code,"
            "start_date,end_date,annual_value_gbp,lease_years\n")
    rows = "".join(
        f'{directorate},{QUARTER},P{i},"{name.replace(chr(34), chr(34) * 2)}",vcse,grant_funding,E05900001,2025-01-01,,1000,\n'
        for i, name in enumerate(names)
    )
    return (head + rows).encode()


def table_counts(db: Path) -> dict[str, int]:
    with warehouse.read_only(db) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in sorted(names)}  # noqa: S608


# ---------------------------------------------------------------------------------------------
# Sign-in brute force


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_waits_grow_after_the_free_attempts_and_have_a_ceiling():
    clock = Clock()
    t = throttle.SignInThrottle(clock)
    key = throttle.account_key("Lead.Adults")
    waits = []
    for _ in range(12):
        waits.append(round(t.wait(key), 3))
        t.failed(key)
    assert waits[: throttle.FREE_ATTEMPTS] == [0.0] * throttle.FREE_ATTEMPTS  # the free attempts
    assert waits[3:7] == [2.0, 4.0, 8.0, 16.0]  # then doubling, measured right after each failure
    assert waits[-1] == throttle.MAX_WAIT_S
    clock.now += 10
    assert t.wait(key) == pytest.approx(throttle.MAX_WAIT_S - 10)
    clock.now += throttle.FORGET_AFTER_S + 1
    assert t.wait(key) == 0.0  # an hour without failures starts again


def test_throttle_counts_the_account_from_any_session_and_the_session_across_accounts():
    t = throttle.SignInThrottle(Clock())
    for i in range(5):  # five sessions, one guess each, at one account
        t.failed(throttle.account_key(" lead.ADULTS "), throttle.session_key(f"s{i}"))
    assert t.wait(throttle.account_key("lead.adults")) > 0  # case and spaces are the same account
    for name in ("a", "b", "c", "d", "e"):  # one session guessing five accounts
        t.failed(throttle.account_key(name), throttle.session_key("attacker"))
    assert t.wait(throttle.account_key("f"), throttle.session_key("attacker")) > 0
    assert t.wait(throttle.account_key("f"), throttle.session_key("someone else")) == 0
    t.succeeded(throttle.account_key("lead.adults"))
    assert t.wait(throttle.account_key("lead.adults")) == 0


def test_sign_in_page_refuses_even_the_right_password_after_repeated_failures(db: Path, tmp_path: Path):
    store.add_user(tmp_path / "users.json", name="lead.adults", role="lead", directorates=["ADH"],
                   password="the right password")
    at = AppTest.from_file(str(VIEWS / "submit.py"), default_timeout=60).run()
    for _ in range(throttle.FREE_ATTEMPTS + 1):
        at.text_input[0].input("lead.adults")
        at.text_input[1].input("a guess")
        [b for b in at.button if b.label == "Sign in"][0].click()
        at.run()
    at.text_input[1].input("the right password")
    [b for b in at.button if b.label == "Sign in"][0].click()
    at.run()
    assert "Too many failed sign-ins" in " ".join(e.value for e in at.error)
    assert "auth_actor" not in at.session_state
    assert not at.file_uploader  # still signed out


# ---------------------------------------------------------------------------------------------
# SQL injection through filters and URL parameters


def test_sql_in_url_parameters_is_ignored_and_harms_nothing(db: Path):
    access.submit_as(LEAD, db, return_type="partnerships", directorate=ADULTS, quarter=QUARTER,
                     content=partnerships(("Ashby Trust",)), file_name="p.csv")
    before = table_counts(db)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["_test"] = "1"
    for key in ("quarter", "directorate", "neighbourhood", "ward", "page"):
        at.query_params[key] = SQL
    at.run()
    assert not at.exception, at.exception
    assert table_counts(db) == before


def test_sql_in_kpi_filters_is_bound_as_a_value(db: Path):
    import kpis

    access.submit_as(LEAD, db, return_type="partnerships", directorate=ADULTS, quarter=QUARTER,
                     content=partnerships(("Ashby Trust",)), file_name="p.csv")
    before = table_counts(db)
    with warehouse.read_only(db) as con:
        hostile = kpis.Scope(quarters=(QUARTER,), directorates=(SQL, "' OR 1=1 --"), wards=(SQL,))
        values = kpis.kpi_values(con, hostile)
        honest = kpis.kpi_values(con, kpis.Scope(quarters=(QUARTER,), directorates=(ADULTS,)))
    assert values["active_partnerships"] == 0  # no directorate is called that: nothing matches
    assert honest["active_partnerships"] == 1
    assert table_counts(db) == before


# ---------------------------------------------------------------------------------------------
# Formulas in every export


def test_every_download_in_the_app_goes_through_the_neutralising_exports():
    calls = []
    for path in VIEWS.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        calls += [(path.name, text[m.end(): m.end() + 300]) for m in re.finditer(r"download_button\(", text)]
    assert len(calls) >= 5
    for name, call in calls:
        # Besides exports.*: blank templates (schema only), the sender's own file given back, the escaped ward pack.
        assert any(w in call for w in ("exports.", "templates.", "annotated", "original", "pack")), (name, call[:200])


@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_and_excel_downloads_neutralise_formulas(formula: str):
    frame = exports.pd.DataFrame({"partner_name": [formula], "value": [1.5]})
    text = exports.to_csv_bytes(frame).decode("utf-8-sig")
    assert f"'{formula}" in text and f",{formula}" not in text and f"\n{formula}" not in text
    book = openpyxl.load_workbook(io.BytesIO(exports.to_excel_bytes({"Sheet": frame})))
    cells = [c.value for row in book.active.iter_rows() for c in row]
    assert f"'{formula}" in cells or formula in cells and book.active["A2"].data_type == "s"
    assert not any(isinstance(c, str) and c.startswith("=") for c in cells)


def test_annotated_problem_file_neutralises_its_problems_column():
    import csv

    from dashboard import submission
    from etl.validate import Problem

    content = partnerships(("Ashby Trust",))
    problems = [Problem(1, "=HYPERLINK(\"http://x\")", None, "is not a column"),
                Problem(2, None, "=CMD|' /C calc'!A0", "is in column 12")]
    data, name, _ = submission.annotate(content, "p.csv", problems)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    notes = [rows[0][-1], rows[1][-1]]
    assert all(n and not n.startswith(exports.FORMULA_PREFIXES) for n in notes), notes
    # The sender's own cells come back as they sent them: the file is theirs, to fix and resend.
    assert rows[1][3] == "Ashby Trust"


def test_open_data_export_keeps_values_exact_and_says_so(db: Path, tmp_path: Path):
    """The open data package is for machines (CSV and Parquet that cannot disagree): a partner name is
    published as the directorate sent it, formula-like or not. SECURITY.md records this choice; the
    spreadsheet downloads a person opens from the app are neutralised (tests above)."""
    import csv

    access.submit_as(LEAD, db, return_type="partnerships", directorate=ADULTS, quarter=QUARTER,
                     content=partnerships(FORMULAS), file_name="p.csv")
    out = tmp_path / "export"
    done = subprocess.run([sys.executable, "-m", "etl", "export", "--db", str(db), "--to", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(out / "partnerships.csv", encoding="utf-8-sig", newline="") as fh:
        names = sorted(row["partner_name"] for row in csv.DictReader(fh))
    assert names == sorted(FORMULAS)
    assert "formula" in (ROOT / "SECURITY.md").read_text(encoding="utf-8").lower()


# ---------------------------------------------------------------------------------------------
# HTML and script through partner names, file names and commentary


def test_no_page_renders_raw_html():
    cookie_module = ROOT / "dashboard" / "cookies.py"
    for path in [*VIEWS.glob("*.py"), *(ROOT / "dashboard").glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "unsafe_allow_html=True" not in text, path
        assert "components.html(" not in text, path
        if path != cookie_module:  # the sign-in cookie's fixed script, below
            assert "st.html(" not in text and ".html(" not in text.replace("_html(", ""), path
            assert "unsafe_allow_javascript" not in text, path


def test_the_only_script_the_app_sends_carries_nothing_but_a_token():
    from dashboard import cookies

    token = "eyJuIjoiam8ifQ.c2lnbmF0dXJl"
    script = cookies.set_script(token, 60)
    assert f'"{token}"' in script and "Max-Age=" in script and "SameSite=Strict" in script
    assert "Path=/" in script and 'protocol === "https:" ? "; Secure"' in script
    for hostile in (SCRIPT, 'a.b"; alert(1); "', "a.b</script><script>alert(1)", "", "no-dot", "a.b.c"):
        with pytest.raises(ValueError):
            cookies.set_script(hostile)
    assert '"localism_session" + "=" + "" + "; Path=/; SameSite=Strict; Max-Age=" + 0 + secure' in cookies.clear_script()


def test_script_in_names_file_names_and_commentary_is_shown_as_text(db: Path):
    access.submit_as(LEAD, db, return_type="partnerships", directorate=ADULTS, quarter=QUARTER,
                     content=partnerships((SCRIPT, "<img src=x onerror=alert(1)>")),
                     file_name=f"{SCRIPT}.csv", commentary=f"Good quarter {SCRIPT}")
    for page, actor in (("history", ADMIN), ("directorates", None)):
        at = AppTest.from_file(str(VIEWS / f"{page}.py"), default_timeout=60)
        if actor:
            at.session_state["auth_actor"] = actor.as_dict()
        at.run()
        assert not at.exception, at.exception
        for md in at.markdown:
            if "<script" in str(md.value) or "onerror" in str(md.value):
                assert not md.allow_html, (page, md.value)


def test_ward_pack_escapes_partner_names_and_commentary():
    import inspect

    params = inspect.signature(exports.ward_pack_html).parameters
    assert params  # the pack is built from plain frames and text
    frame = exports.pd.DataFrame({"partner_name": [SCRIPT], "value": [1]})
    html = exports.html_table(frame, caption=SCRIPT)
    assert "<script>" not in html and "&lt;script&gt;" in html


# ---------------------------------------------------------------------------------------------
# Path traversal through uploaded file names


@pytest.mark.parametrize("name", ["../../../../tmp/evil.csv", "..\\..\\evil.csv", "/etc/passwd", "a/../../b.csv",
                                  "evil\x00.csv"])
def test_file_names_never_choose_a_path(db: Path, tmp_path: Path, name: str):
    before = {p for p in Path("/tmp").glob("evil*")} | set(tmp_path.parent.rglob("*evil*"))
    out = access.submit_as(LEAD, db, return_type="partnerships", directorate=ADULTS, quarter=QUARTER,
                           content=partnerships(("Ashby Trust",)), file_name=name)
    assert out.ok
    after = {p for p in Path("/tmp").glob("evil*")} | set(tmp_path.parent.rglob("*evil*"))
    assert after == before  # no file was written under the name the browser sent
    stored = sorted(p.name for p in db.parent.iterdir())
    assert all(not n.startswith("evil") and n not in ("passwd", "b.csv") for n in stored), stored


# ---------------------------------------------------------------------------------------------
# Roles (the UI's half; the write path's is in test_roles.py)


def test_viewer_reaches_no_admin_action(db: Path):
    at = AppTest.from_file(str(VIEWS / "admin.py"), default_timeout=60)
    at.session_state["auth_actor"] = Actor("v", "viewer").as_dict()
    at.run()
    assert not at.exception
    assert not at.file_uploader and not at.date_input
    assert "viewer" in " ".join(w.value for w in at.warning)
    with pytest.raises(PermissionError):
        access.load_reference_as(Actor("v", "viewer"), db, kind="directorates",
                                 content=b"directorate\nEvil\n", file_name="d.csv")
    with pytest.raises(PermissionError):
        access.submit_as(Actor("p", "lead", (PLACE,)), db, return_type="partnerships", directorate=ADULTS,
                         quarter=QUARTER, content=partnerships(("x",)), file_name="p.csv")


# ---------------------------------------------------------------------------------------------
# The server's address, upload limit and secrets


def test_streamlit_listens_on_loopback_only_by_default():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["client"]["showErrorDetails"] == "none"  # no tracebacks to a reader
    assert "--server.address 127.0.0.1" in (ROOT / "Makefile").read_text(encoding="utf-8")


SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "client secret": re.compile(r"client_secret\s*=\s*[\"'](?!\.\.\.|<|your|CHANGE|replace)[^\"']{8,}[\"']", re.I),
    "cookie secret": re.compile(r"cookie_secret\s*=\s*[\"'](?!\.\.\.|<|your|CHANGE|replace)[^\"']{8,}[\"']", re.I),
    "password assignment": re.compile(r"\bpassword\s*=\s*[\"'][^\"'{}]{6,}[\"']\s*$", re.I | re.M),
    "AWS key": re.compile(r"AKIA[0-9A-Z]{16}"),
    "postgres password in URL": re.compile(r"postgres(?:ql)?://[^:/\s]+:[^@/\s]+@"),
}
ALLOWED_PASSWORD_FILES = ("tests/",)  # tests set throwaway passwords on throwaway accounts


def test_no_secret_is_committed():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert ".streamlit/secrets.toml" not in files and not any(f.endswith("users.json") for f in files)
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8")
    assert ".streamlit/secrets.toml" in ignored
    found = []
    for name in files:
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000 or name.startswith("tests/corpus/"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for what, pattern in SECRET_PATTERNS.items():
            if what == "password assignment" and name.startswith(ALLOWED_PASSWORD_FILES):
                continue
            found += [(name, what, m.group(0)[:40]) for m in pattern.finditer(text)]
    assert not found, found


def test_passwords_never_reach_output_logs_or_the_warehouse(db: Path, tmp_path: Path, caplog):
    password = "correct horse battery staple 7"
    users = tmp_path / "users.json"
    done = subprocess.run([sys.executable, "-m", "etl", "add-user", "--users", str(users), "--name", "lead.a",
                           "--role", "lead", "--directorate", "ADH", "--password-stdin"],
                          cwd=ROOT, input=password + "\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert password not in done.stdout + done.stderr
    assert password not in users.read_text(encoding="utf-8") and "$argon2" in users.read_text(encoding="utf-8")
    caplog.set_level(logging.DEBUG)
    at = AppTest.from_file(str(VIEWS / "submit.py"), default_timeout=60).run()
    at.text_input[0].input("lead.a")
    at.text_input[1].input(password[::-1])  # a wrong one, as a typo would be
    [b for b in at.button if b.label == "Sign in"][0].click()
    at.run()
    assert password[::-1] not in caplog.text
    with warehouse.read_only(db) as con:
        rows = con.execute("SELECT * FROM audit_log").fetchall() + con.execute("SELECT * FROM submissions").fetchall()
    assert password not in repr(rows) and password[::-1] not in repr(rows)


# ---------------------------------------------------------------------------------------------
# Dependency audit in CI (.ci/audit.py)


def _audit():
    import importlib.util

    spec = importlib.util.spec_from_file_location("ci_audit", ROOT / ".ci" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ci_audit_fails_on_a_known_vulnerability_and_warns_when_unchecked():
    audit = _audit()
    code, lines = audit.summarise({"dependencies": [
        {"name": "duckdb", "version": "1.5.5", "vulns": []},
        {"name": "jinja2", "version": "2.0", "vulns": [{"id": "PYSEC-2019-217", "fix_versions": ["2.10.1"]}]},
    ]})
    assert code == 1 and "VULNERABLE: jinja2 2.0: PYSEC-2019-217 (fixed in 2.10.1)" in lines[0]
    code, lines = audit.summarise({"dependencies": [
        {"name": "duckdb", "version": "1.5.5", "vulns": []},
        {"name": "altair", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    ]})
    assert code == 0 and "WARNING: 1 of 2 packages could not be checked" in lines[0]
    assert "ci/audit.py" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
