"""The submit, history and admin pages in AppTest: accept, reject, identical re-send, supersede,
commentary. Secrets and settings come from the test (at.secrets, env), never a developer's files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from accounts import store
from dashboard import submission
from etl import access, queries, warehouse
from etl.access import Actor
from tests.test_submit_fixtures import (
    ADULTS,
    QUARTER,
    bad_budget_csv,
    budget_csv,
    make_warehouse,
    read,
)

PAGES = Path(__file__).resolve().parent.parent / "dashboard" / "views"
APP = PAGES.parent / "app.py"
LEAD = Actor("lead.adults", "lead", (ADULTS,))
TIMEOUT = 60


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = make_warehouse(tmp_path / "w.duckdb")
    monkeypatch.setenv("LOCALISM_DB", str(path))
    monkeypatch.setenv("LOCALISM_USERS", str(tmp_path / "users.json"))
    monkeypatch.delenv("LOCALISM_DEMO", raising=False)
    monkeypatch.delenv("LOCALISM_REQUIRE_SIGNIN", raising=False)
    return path


def _page(name: str, actor: Actor | None = LEAD) -> AppTest:
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=TIMEOUT)
    if actor is not None:
        at.session_state["auth_actor"] = actor.as_dict()
    return at.run()


def _button(at: AppTest, label: str):  # noqa: ANN202
    hits = [b for b in at.button if b.label == label]
    assert hits, f"no button {label!r}: {[b.label for b in at.button]}"
    return hits[0]


def _upload(at: AppTest, content: bytes, name: str = "budget.csv") -> AppTest:
    """Attach a file (nothing is checked yet)."""
    at.file_uploader(key="submit_file").set_value((name, content, "text/csv"))
    return at.run()


def _check(at: AppTest) -> AppTest:
    """Press 'Check the file'."""
    _button(at, "Check the file").click()
    return at.run()


def _send(at: AppTest, content: bytes, name: str = "budget.csv") -> AppTest:
    """Attach a file and press 'Check the file'."""
    return _check(_upload(at, content, name))


def _texts(elements) -> str:  # noqa: ANN001
    return "\n".join(str(e.value) for e in elements)


def _count(db: Path, sql: str) -> int:
    with warehouse.read_only(db) as con:
        return int(con.execute(sql).fetchone()[0])


def test_sign_in_with_built_in_account(db: Path, tmp_path: Path) -> None:
    store.add_user(tmp_path / "users.json", name="lead.adults", role="lead", directorates=["ADH"],
                    password="a long password")
    at = _page("submit", actor=None)
    assert "Sign in to send returns" in _texts(at.info)
    assert not at.file_uploader
    at.text_input[0].input("lead.adults")
    at.text_input[1].input("wrong password")
    _button(at, "Sign in").click()
    at.run()
    assert "do not match" in _texts(at.error)
    at.text_input[1].input("a long password")
    _button(at, "Sign in").click()
    at.run()
    assert not at.exception
    assert at.selectbox(key="submit_directorate").options == [ADULTS]  # a lead sees only their own
    assert at.file_uploader


def test_viewer_cannot_use_the_submit_page(db: Path) -> None:
    at = _page("submit", Actor("v", "viewer"))
    assert "viewer" in _texts(at.warning)
    assert not at.file_uploader


def test_good_file_previewed_then_accepted_with_commentary(db: Path) -> None:
    at = _page("submit")
    at.selectbox(key="submit_quarter").set_value(QUARTER)
    at.run()
    at = _send(at, budget_csv())
    assert not at.exception
    assert "Not stored yet. No problems found: 2 rows" in _texts(at.warning).replace("**", "")
    assert _count(db, "SELECT count(*) FROM submissions WHERE return_type = 'budget'") == 0  # not yet stored
    kpi_table = at.table[-1].value
    row = kpi_table.loc["Devolved budget share"]
    assert row["before"] == "—" and row["after"] == "10.0%"  # 40,000 of 400,000 devolved
    at.text_area(key="submit_commentary").input("The grants pot opened in August.")
    _button(at, "Confirm and store").click()
    at.run()
    assert not at.exception
    sid = _count(db, "SELECT max(submission_id) FROM submissions WHERE outcome = 'accepted'")
    assert f"Stored as submission {sid}. Accepted: 2 rows" in _texts(at.success).replace("**", "")
    assert _count(db, "SELECT count(*) FROM budget") == 2
    note = read(db, queries.latest_commentary, ADULTS, QUARTER)
    assert note and note["body"] == "The grants pot opened in August." and note["who"] == "lead.adults"


def test_bad_file_rejected_with_problem_table(db: Path) -> None:
    at = _page("submit")
    at.selectbox(key="submit_quarter").set_value(QUARTER)
    at.run()
    at = _send(at, bad_budget_csv())
    assert "rejected: 3 problems" in _texts(at.error)
    problems = at.table[-1].value
    assert list(problems.columns) == ["line", "column", "value", "reason"]
    assert problems[["line", "column", "value"]].values.tolist() == [
        ["2", "ward_code", "E05999999"], ["3", "devolved_gbp", "500000"], ["3", "mechanism", "lottery"]]
    assert at.get("download_button")  # the annotated file
    assert _count(db, "SELECT count(*) FROM submissions WHERE outcome = 'rejected' AND return_type = 'budget'") == 1
    assert _count(db, "SELECT count(*) FROM budget") == 0


def test_identical_resend_and_supersede(db: Path) -> None:
    access.submit_as(LEAD, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                     content=budget_csv(), file_name="budget.csv")
    at = _page("submit")
    at.selectbox(key="submit_quarter").set_value(QUARTER)
    at.run()
    at = _send(at, budget_csv())
    assert "identical" in _texts(at.info)
    assert _count(db, "SELECT count(*) FROM submissions WHERE outcome = 'identical'") == 1

    at = _send(at, budget_csv(devolved="60000"), "budget-v2.csv")
    assert "the devolved budget return already accepted for" in _texts(at.warning)
    _button(at, "Confirm and store").click()
    at.run()
    assert "It replaces submission" in _texts(at.success)
    history = read(db, queries.submission_history, [ADULTS])
    states = dict(zip(history["file"] + ":" + history["status"], history["state"], strict=True))
    assert states["budget-v2.csv:accepted"] == "current"
    assert states["budget.csv:accepted"].startswith("superseded by #")
    assert states["budget.csv:identical"] == ""


def test_history_page_lists_submissions_and_tracker(db: Path) -> None:
    access.submit_as(LEAD, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                     content=budget_csv(), file_name="budget.csv")
    at = _page("history")
    at.selectbox(key="history_quarter").set_value(QUARTER)
    at.run()
    assert not at.exception
    tracker = at.table[0].value
    assert tracker.loc[ADULTS, "Devolved budget return"] == "✓ received"
    # No deadline was set, so the default one applies (as on the overview): 11 November 2025, long past.
    assert tracker.loc[ADULTS, "Engagement activity return"] == "✖ overdue"
    assert "Deadline for 2025-26 Q2: 11 November 2025 (passed) — the default, 6 weeks after" in _texts(at.caption)
    assert "Place and Environment" not in tracker.index  # a lead sees their own directorates
    frame = at.dataframe[0].value
    assert frame["file"].tolist() == ["budget.csv"] and frame["state"].tolist() == ["current"]
    assert not [b for b in at.get("download_button") if "original" in b.label]  # admins only

    at = _page("history", Actor("boss", "admin"))
    assert not at.exception
    assert any("original" in b.label for b in at.get("download_button"))


def test_admin_page_deadline_and_audit(db: Path) -> None:
    at = _page("admin", LEAD)
    assert "admin" in _texts(at.warning) and not at.tabs
    at = _page("admin", Actor("boss", "admin"))
    assert not at.exception
    at.selectbox(key="admin_dl_quarter").set_value(QUARTER)
    at.run()
    _button(at, "Save deadline").click()
    at.run()
    assert f"Deadline for {QUARTER} set to" in _texts(at.success)
    assert read(db, queries.deadline_of, QUARTER) is not None
    assert "deadline" in set(at.dataframe[-1].value["action"])  # the audit log


def test_demo_mode_notice_and_identity_provider_button(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALISM_DEMO", "1")
    at = _page("submit", actor=None)
    assert "Demo mode" in _texts(at.warning)
    at = AppTest.from_file(str(PAGES / "submit.py"), default_timeout=TIMEOUT)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                          "microsoft": {"client_id": "id", "client_secret": "s",
                                        "server_metadata_url": "https://login.example/.well-known/openid-configuration"}}
    at.run()
    assert [b.label for b in at.button] == ["Sign in with your council account"]
    assert not at.text_input  # no password form when the council's identity provider is set up


def test_commentary_shown_on_directorate_page(db: Path) -> None:
    if not (PAGES / "directorates.py").exists() or not APP.exists():
        pytest.skip("the directorate page is not there yet")
    access.submit_as(LEAD, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                     content=budget_csv(), file_name="budget.csv", commentary="Grants pot opened in August.")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("views/directorates.py")
    at.run()
    assert not at.exception, at.exception
    assert "Grants pot opened in August" in _texts(at.markdown)  # markdown-escaped on the page


# ---------------------------------------------------------------------------------------------
# The annotated file


def test_annotated_csv_keeps_rows_and_joins_problems_per_line(db: Path) -> None:
    out = access.submit_as(LEAD, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                           content=bad_budget_csv(), file_name="b.csv")
    data, name, mime = submission.annotate(bad_budget_csv(), "b.csv", out.problems)
    assert name == "b-problems.csv" and mime == "text/csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][-1] == "problems"
    assert rows[1][:-1] == bad_budget_csv().decode().splitlines()[1].split(",")
    assert "ward_code" in rows[1][-1]
    assert "devolved_gbp" in rows[2][-1] and "; mechanism" in rows[2][-1]


def test_annotated_csv_round_trips_with_blank_lines_where_they_were(db: Path) -> None:
    lines = bad_budget_csv().decode().splitlines()
    sent = ("\n".join([lines[0], "", lines[1], ",,,,,,", lines[2], *lines[3:]]) + "\n").encode()
    out = access.submit_as(LEAD, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                           content=sent, file_name="b.csv")
    assert out.status == "rejected"
    data, name, _ = submission.annotate(sent, "b.csv", out.problems)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    # Line n of the report is line n of the annotated file: the blank lines 2 and 4 are kept.
    assert rows[1] == [] and not any(rows[3][:-1])
    for p in out.problems:
        if p.line:
            assert p.reason in rows[p.line - 1][-1], (p, rows[p.line - 1])
    # Sent back as it is, the problems column is ignored: the same problems, nothing about 'problems'.
    again = access.submit_as(LEAD, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                             content=data, file_name=name)
    assert sorted((p.line, p.column, p.reason) for p in again.problems) == sorted(
        (p.line, p.column, p.reason) for p in out.problems)
    # Annotated a second time, it has one problems column, not two.
    twice, name2, _ = submission.annotate(data, name, again.problems)
    assert name2 == "b-problems.csv"
    assert list(csv.reader(io.StringIO(twice.decode("utf-8-sig"))))[0].count("problems") == 1
    # Fixed in place (the bad cells corrected, the notes left in), it is accepted.
    fixed = budget_csv().decode().splitlines()
    with_notes = "\n".join(f"{line},{'old note' if i else 'problems'}" for i, line in enumerate(fixed)) + "\n"
    ok = access.submit_as(LEAD, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                          content=with_notes.encode(), file_name="b-problems.csv")
    assert ok.status == "accepted", ok.problems


def _bad_budget_xlsx() -> bytes:
    """bad_budget_csv() as an Excel workbook with one sheet named 'budget'."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "budget"
    for line in bad_budget_csv().decode().splitlines():
        ws.append(line.split(","))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_annotated_xlsx_round_trips(db: Path) -> None:
    buf = io.BytesIO(_bad_budget_xlsx())
    out = access.submit_as(LEAD, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                           content=buf.getvalue(), file_name="b.xlsx")
    data, name, _ = submission.annotate(buf.getvalue(), "b.xlsx", out.problems, sheet="budget")
    again = access.submit_as(LEAD, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                             content=data, file_name=name)
    assert again.status == "rejected"
    assert not any("problems" in (p.column or "") for p in again.problems)
    assert len(again.problems) == len(out.problems)
    twice, _, _ = submission.annotate(data, name, again.problems, sheet="budget")
    header = [cell.value for cell in openpyxl.load_workbook(io.BytesIO(twice))["budget"][1]]
    assert header.count("problems") == 1


def test_annotated_xlsx_stays_xlsx(db: Path) -> None:
    buf = io.BytesIO(_bad_budget_xlsx())
    out = access.submit_as(LEAD, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                           content=buf.getvalue(), file_name="b.xlsx")
    assert out.status == "rejected"
    data, name, _ = submission.annotate(buf.getvalue(), "b.xlsx", out.problems, sheet="budget")
    assert name == "b-problems.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(data))["budget"]
    assert sheet.cell(1, 8).value == "problems"
    assert "ward_code" in sheet.cell(2, 8).value and "mechanism" in sheet.cell(3, 8).value


def test_page_cannot_be_tricked_into_another_directorate(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Even if the page offered another directorate (a bug, or a tampered session), the write refuses.
    monkeypatch.setattr(access, "visible_directorates", lambda actor, db_: [ADULTS, "Place and Environment"])
    at = _page("submit")
    at.selectbox(key="submit_quarter").set_value(QUARTER)
    at.selectbox(key="submit_directorate").set_value("Place and Environment")
    at.run()
    at = _send(at, budget_csv("Place and Environment"))
    assert "not for Place and Environment" in _texts(at.error)
    assert _count(db, "SELECT count(*) FROM submissions WHERE return_type = 'budget'") == 0


def test_require_viewer_when_the_council_asks_for_sign_in(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def script() -> None:
        import streamlit as st

        from dashboard import auth

        auth.require_viewer()
        st.write("the figures")

    at = AppTest.from_function(script, default_timeout=TIMEOUT).run()
    assert "the figures" in _texts(at.markdown)  # open by default
    monkeypatch.setenv("LOCALISM_REQUIRE_SIGNIN", "1")
    at = AppTest.from_function(script, default_timeout=TIMEOUT).run()
    assert "the figures" not in _texts(at.markdown)
    assert "needs sign-in" in _texts(at.info)
    at.session_state["auth_actor"] = Actor("v", "viewer").as_dict()
    at.run()
    assert "the figures" in _texts(at.markdown)


def test_admin_loads_reference_with_problem_report(db: Path) -> None:
    at = _page("admin", Actor("boss", "admin"))
    at.selectbox(key="admin_kind").set_value("directorates")
    at.run()
    bad = b"directorate,short_name\nAdults and Health,ADH\nChildren,adh\n"
    at.file_uploader(key="admin_ref_file").set_value(("dirs.csv", bad, "text/csv"))
    at.run()
    _button(at, "Load directorates").click()
    at.run()
    assert "rejected" in _texts(at.error)
    assert at.table[0].value["column"].tolist() == ["short_name", "short_name"]
    good = b"directorate,short_name\nAdults and Health,ADH\nPlace and Environment,PLE\nChildren,CHF\n"
    at.file_uploader(key="admin_ref_file").set_value(("dirs.csv", good, "text/csv"))
    at.run()
    _button(at, "Load directorates").click()
    at.run()
    assert "Loaded 3 directorates rows" in _texts(at.success)
    assert read(db, queries.directorates)["directorate"].tolist() == [ADULTS, "Children", "Place and Environment"]


def test_archived_original_is_the_uploaded_bytes(db: Path) -> None:
    out = access.submit_as(LEAD, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                           content=bad_budget_csv(), file_name="mine.csv")
    assert read(db, queries.archived_file, out.submission_id) == ("mine.csv", bad_budget_csv())


def test_a_changed_or_removed_account_applies_at_once_to_a_signed_in_session(db: Path, tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    store.add_user(users, name="jo.lead", role="lead", directorates=[ADULTS], password="a-long-password")

    def script() -> None:
        import streamlit as st

        from dashboard import auth

        actor = auth.current_user()
        if actor is None:
            auth.sign_in_form("t")
        else:
            st.write(f"who={actor.name} role={actor.role} dirs={','.join(actor.directorates)}")

    at = AppTest.from_function(script, default_timeout=TIMEOUT).run()
    at.text_input(key="t_name").input("jo.lead")
    at.text_input(key="t_password").input("a-long-password")
    at.button[0].click()
    at.run()
    assert f"who=jo.lead role=lead dirs={ADULTS}" in _texts(at.markdown)
    store.add_user(users, name="jo.lead", role="viewer", password="a-long-password")  # role changed
    at.run()
    assert "who=jo.lead role=viewer dirs=" in _texts(at.markdown)
    users.write_text('{"users": []}', encoding="utf-8")  # account removed
    at.run()
    assert "who=" not in _texts(at.markdown) and at.text_input(key="t_name") is not None


def test_implausible_return_stored_only_after_the_lead_confirms_the_warning(db: Path) -> None:
    from tests.conftest import ENGAGEMENT_HEADER

    # 20,001 participants in a ward of 10,000 residents: valid, but queried (2,000.1 per 1,000).
    row = f"{ADULTS},{QUARTER},A1,2025-08-01,E05900001,survey,options,20001" + ",0" * 13 + ",yes\n"
    at = _page("submit")
    at.selectbox(key="submit_return").set_value("engagement")
    at.selectbox(key="submit_quarter").set_value(QUARTER)
    at.run()
    at = _send(at, (ENGAGEMENT_HEADER + row).encode(), name="engagement.csv")
    assert not at.exception
    assert "20,001 participants" in _texts(at.markdown)
    _button(at, "Confirm and store").click()
    at.run()
    assert "Nothing was stored" in _texts(at.error)
    assert _count(db, "SELECT count(*) FROM submissions WHERE return_type = 'engagement'") == 0
    at.checkbox(key="submit_accept_warnings").check()
    _button(at, "Confirm and store").click()
    at.run()
    assert not at.exception
    assert "Accepted: 1 row" in _texts(at.success)
    assert _count(db, "SELECT count(*) FROM submissions WHERE warnings LIKE '%20,001 participants%'") == 1


# ---------------------------------------------------------------------------------------------
# Checked only when the lead asks; a refused file type; the order of the result


def _logged(db: Path) -> int:
    return _count(db, "SELECT count(*) FROM submissions WHERE return_type IN ('budget', 'engagement', 'partnerships')")


def _report(at: AppTest) -> list:
    """The problem tables shown (the guidance table of the templates is always there)."""
    return [t for t in at.table if "reason" in t.value.columns]


def test_nothing_is_checked_or_logged_until_the_lead_presses_check(db: Path) -> None:
    at = _page("submit")
    at.selectbox(key="submit_quarter").set_value(QUARTER)
    at.run()
    at = _upload(at, bad_budget_csv())
    assert not at.exception
    assert "nothing is checked or recorded until you do" in _texts(at.info)
    assert not _report(at) and _logged(db) == 0
    # Changing the pickers with a file attached checks and logs nothing either.
    at.selectbox(key="submit_return").set_value("engagement")
    at.run()
    at.selectbox(key="submit_quarter").set_value("2025-26 Q1")
    at.run()
    assert _logged(db) == 0 and not at.error

    at.selectbox(key="submit_return").set_value("budget")
    at.selectbox(key="submit_quarter").set_value(QUARTER)
    at.run()
    at = _check(at)
    assert "rejected: 3 problems" in _texts(at.error)
    assert _logged(db) == 1
    # A picker changed after the check: the report goes, the page asks to check again, nothing logged.
    at.selectbox(key="submit_quarter").set_value("2025-26 Q1")
    at.run()
    assert "changed since this file was checked" in _texts(at.warning)
    assert not _report(at) and not at.error and not at.get("download_button")[2:]
    assert _logged(db) == 1
    at = _check(at)  # asked for: logged, for the quarter now chosen
    assert _logged(db) == 2
    assert _count(db, "SELECT count(*) FROM submissions WHERE quarter = '2025-26 Q1'") == 1


@pytest.mark.parametrize(("name", "kind"), [("return.pdf", "a PDF file"), ("return.xls", "an old Excel .xls workbook"),
                                            ("return.ods", "an OpenDocument spreadsheet (.ods)")])
def test_a_refused_file_type_says_why_in_words_and_clears_the_report(db: Path, name: str, kind: str) -> None:
    at = _page("submit")
    at.selectbox(key="submit_quarter").set_value(QUARTER)
    at.run()
    at = _send(at, bad_budget_csv())
    assert _report(at) and _logged(db) == 1
    at = _upload(at, b"%PDF-1.7 not a return", name)
    assert not at.exception
    errors = _texts(at.error).replace("\\", "")
    assert f"{name} is {kind}; send the return as CSV or Excel .xlsx" in errors
    assert "Nothing was checked or stored" in errors
    assert not _report(at) and not [b for b in at.button if b.label == "Check the file"]
    assert "problems column" not in " ".join(b.label for b in at.get("download_button"))
    assert _logged(db) == 1


def _order(at: AppTest) -> list[str]:
    """The main area's elements, depth first, as 'type:text' (labels, values, bodies)."""
    out: list[str] = []

    def walk(node) -> None:  # noqa: ANN001
        for child in getattr(node, "children", {}).values():
            texts = [getattr(child, name, None) for name in ("label", "value", "body")]
            out.append(f"{child.type}:{next((t for t in texts if isinstance(t, str) and t), '')}")
            walk(child)

    walk(at.main)
    return out


def test_outcome_tick_box_and_confirm_come_before_the_detail(db: Path) -> None:
    from tests.conftest import ENGAGEMENT_HEADER

    # 190,449 participants in a ward of 10,000 residents: 19,044.9 per 1,000, queried.
    row = f"{ADULTS},{QUARTER},A1,2025-08-01,E05900001,survey,options,190449" + ",0" * 13 + ",yes\n"
    at = _page("submit")
    at.selectbox(key="submit_return").set_value("engagement")
    at.selectbox(key="submit_quarter").set_value(QUARTER)
    at.run()
    at = _send(at, (ENGAGEMENT_HEADER + row).encode(), name="engagement.csv")
    assert "19,044.9 per 1,000 residents" in _texts(at.markdown).replace("\\", "")
    order = _order(at)
    first = {what: next(i for i, e in enumerate(order) if e.startswith(what)) for what in (
        "warning:**Not stored yet.**", "checkbox:I have checked", "button:Confirm and store",
        "subheader:What will change")}
    assert first["warning:**Not stored yet.**"] < first["checkbox:I have checked"] < first["button:Confirm and store"]
    assert first["button:Confirm and store"] < first["subheader:What will change"]


def test_budget_rows_show_money_in_pounds_and_changes_never_minus_zero() -> None:
    import pandas as pd

    rows = pd.DataFrame({"budget_line": ["Grants"], "total_budget_gbp": [12500.5], "devolved_gbp": [0.0],
                         "mechanism": [None]})
    shown = submission.rows_display(rows, "budget")
    assert shown.iloc[0].tolist() == ["Grants", "£12,500.50", "£0.00", ""]
    frame = pd.DataFrame({"kpi": ["engagement_equality_index", "devolved_budget_share", "participation_per_1000"],
                          "before": [0.5, 0.1, 10.0], "after": [0.499999, 0.1000001, 12.04],
                          "change": [-0.000001, 0.0000001, 2.04]})
    assert submission.kpi_display(frame)["change"].tolist() == ["0.00", "0.0 pts", "+2.0"]
    changes = [submission._fmt(v, unit, signed=True) for v, unit in
               [(-0.000001, "index"), (-0.0001, "share"), (-0.04, "rate"), (-0.4, "count"), (2.04, "rate")]]
    assert changes == ["0.00", "0.0 pts", "0.0", "0", "+2.0"]
    assert submission.long_date(pd.Timestamp("2026-05-12")) == "12 May 2026"
    dl = submission.deadlines_display(pd.DataFrame({"quarter": ["2025-26 Q4"],
                                                    "due_date": [pd.Timestamp("2026-05-12")]}))
    assert dl.iloc[0].tolist() == ["2025-26 Q4", "12 May 2026"]


def test_one_quarter_picker_on_the_submit_page_and_no_loading_words_left(db: Path) -> None:
    access.submit_as(LEAD, db, return_type="budget", directorate=ADULTS, quarter=QUARTER,
                     content=budget_csv(), file_name="budget.csv")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["auth_actor"] = LEAD.as_dict()
    at.run()
    assert not at.exception, at.exception
    assert [s.label for s in at.sidebar.selectbox] == ["Quarter"]  # the council pages read the sidebar's
    assert at.session_state["quarter"] == QUARTER  # the latest with data
    chosen = at.sidebar.selectbox[0].options[0]
    assert chosen != QUARTER
    at.sidebar.selectbox[0].set_value(chosen)
    at.run()
    at.switch_page("views/submit.py")
    at.run()
    assert not at.exception, at.exception
    assert [s.label for s in at.selectbox].count("Quarter") == 1 and not at.sidebar.selectbox
    assert "Loading the dashboard" not in _texts(at.markdown)
    at.switch_page("views/overview.py")
    at.run()
    assert at.session_state["quarter"] == chosen  # kept while the submit page was open
