"""A directorate lead's journey in a real browser (Chromium, 1280x900): sign in, download the
template, attach a file with errors, check it, download the annotated file and send it back,
send the fixed file, confirm, see the overview change; and the details a lead trips on: the
Excel template's ward drop-down, a reload that keeps the session, the outcome and Confirm on one
screen, queried figures with their tick box, a refused file type (axe and a screenshot).

Screenshots go to test-artifacts/submit-*.png.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from accounts import store
from etl import access, queries, warehouse
from etl.access import Actor
from tests import browser
from tests.conftest import ENGAGEMENT_HEADER
from tests.test_submit_fixtures import (
    ADULTS,
    PLACE,
    QUARTER,
    bad_budget_csv,
    budget_csv,
    make_warehouse,
    read,
)

pytestmark = browser.requirements()
VIEWPORT = (1280, 900)


@contextlib.contextmanager
def _app(folder: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, warehouse) of an app on a small council; another directorate's return is in.

    The test reads the warehouse only after the app has stopped: this process holds no handle
    on it while the app writes.
    """
    db = make_warehouse(folder / "w.duckdb")
    access.submit_as(Actor("admin", "admin"), db, return_type="budget", directorate=PLACE, quarter=QUARTER,
                     content=budget_csv(PLACE, devolved="10000"), file_name="place.csv")
    handle = warehouse.open_warehouse(db)
    warehouse.forget(db)
    handle.close()
    env = {"LOCALISM_DEMO": "1", "LOCALISM_USERS": str(folder / "users.json")}
    with browser.running_app(db, env=env) as url:
        yield url, db


@pytest.fixture(scope="module")
def chrome():
    with browser.chromium() as b:
        yield b


def _main(page):  # noqa: ANN001, ANN202
    return page.locator('[data-testid="stMain"]')


def _sidebar(page):  # noqa: ANN001, ANN202
    return page.locator('[data-testid="stSidebar"]')


def _metric(page, title: str) -> str:  # noqa: ANN001
    tile = page.locator('[data-testid="stMetric"]').filter(has_text=title).first
    return tile.locator('[data-testid="stMetricValue"]').inner_text()


def _nav(page, label: str) -> None:  # noqa: ANN001
    _sidebar(page).get_by_role("link", name=label).click()
    browser.wait_for_app(page)


def _sign_in_on_submit(page, url: str, account: str = "demo-lead-adh") -> None:  # noqa: ANN001
    page.goto(f"{url}/submit")
    browser.wait_for_app(page)
    main = _main(page)
    main.get_by_role("textbox", name="User name").fill(account)
    main.get_by_role("textbox", name="Password").fill(store.DEMO_PASSWORD)
    main.get_by_role("button", name="Sign in").click()
    main.get_by_text("Upload the return").wait_for()
    browser.wait_for_app(page)
    _sidebar(page).get_by_text("Signed in as").wait_for()


def _pick(page, label: str, option: str) -> None:  # noqa: ANN001
    _main(page).get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    browser.wait_for_app(page)


def _attach(page, path: Path) -> None:  # noqa: ANN001
    _main(page).locator('input[type="file"]').set_input_files(str(path))
    browser.wait_for_app(page)


def _check(page) -> None:  # noqa: ANN001
    _main(page).get_by_role("button", name="Check the file").click()
    browser.wait_for_app(page)


def _log(db: Path) -> list[tuple[str, str, str, str]]:
    """(return, quarter, status, file) of every submission for Adults and Health, oldest first."""
    history = read(db, queries.submission_history, [ADULTS]).sort_values("id")
    return list(zip(history["return"], history["quarter"], history["status"], history["file"], strict=True))


def _in_viewport(page, locator) -> bool:  # noqa: ANN001
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


def test_lead_journey(chrome, tmp_path: Path) -> None:  # noqa: ANN001
    bad = tmp_path / "adults-budget.csv"
    bad.write_bytes(bad_budget_csv())
    good = tmp_path / "adults-budget-fixed.csv"
    good.write_bytes(budget_csv())

    with _app(tmp_path) as (url, db):
        page = browser.new_page(chrome, viewport=VIEWPORT)
        page.goto(url)
        browser.wait_for_app(page)
        page.get_by_text("Demo mode").first.wait_for()
        before = _metric(page, "Devolved budget share")
        browser.screenshot(page, "submit-0-overview-before")

        # Signed out, the navigation offers no Submit page: a lead opens it by its address (the
        # link in the council's e-mail) and signs in there. No shell command is offered.
        assert _sidebar(page).get_by_role("link", name="Submit a return").count() == 0
        page.goto(f"{url}/submit")
        browser.wait_for_app(page)
        assert "python -m" not in _main(page).inner_text()
        _sign_in_on_submit(page, url)
        main = _main(page)
        # One Quarter picker on this page: the page's own (the sidebar's is for the council pages).
        assert page.get_by_role("combobox", name="Quarter").count() == 1
        _pick(page, "Quarter", QUARTER)

        main.get_by_text("Templates and guidance").click()
        with page.expect_download() as dl:
            main.get_by_role("button", name="Download CSV template").click()
        template = dl.value.path().read_bytes().decode("utf-8-sig")
        assert template.startswith("directorate,quarter,budget_line,ward_code")
        browser.screenshot(page, "submit-1-signed-in-template")

        # Attached, not yet checked: nothing is recorded until the lead presses Check the file;
        # a picker changed meanwhile records nothing either (the log is read at the end).
        _attach(page, bad)
        main.get_by_text("nothing is checked or recorded until you do").wait_for()
        _pick(page, "Return", "Engagement activity return")
        _pick(page, "Return", "Devolved budget return")
        _check(page)
        main.get_by_text("3 problems to fix").wait_for()
        assert main.get_by_text("E05999999").first.is_visible()
        assert main.get_by_text("lottery").first.is_visible()
        browser.screenshot(page, "submit-2-rejected")

        # The annotated file goes back as it is: the same three problems, none about its problems column.
        with page.expect_download() as dl:
            main.get_by_role("button", name="Download your file with a problems column").click()
        annotated_bytes = dl.value.path().read_bytes()
        annotated = list(csv.reader(io.StringIO(annotated_bytes.decode("utf-8-sig"))))
        assert annotated[0][-1] == "problems" and "mechanism" in annotated[2][-1]
        sent_back = tmp_path / "adults-budget-problems.csv"
        sent_back.write_bytes(annotated_bytes)
        _attach(page, sent_back)
        _check(page)
        main.get_by_text("3 problems to fix").wait_for()
        assert "not a column" not in main.inner_text()
        # Fixed in place (the notes left in), it is accepted.
        good_rows = list(csv.reader(io.StringIO(budget_csv().decode())))[1:]
        fixed = [annotated[0], *[[*r, a[-1]] for r, a in zip(good_rows, annotated[1:], strict=True)]]
        fixed_in_place = tmp_path / "adults-budget-problems-fixed.csv"
        with open(fixed_in_place, "w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows(fixed)
        _attach(page, fixed_in_place)
        _check(page)
        main.get_by_text("Not stored yet").wait_for()

        # The fixed file: outcome, commentary and Confirm on one 1280x900 screen; the detail below.
        _attach(page, good)
        _check(page)
        main.get_by_text("Not stored yet").wait_for()
        main.get_by_text("KPIs for Adults and Health").wait_for()
        status = main.get_by_text("Not stored yet").first
        confirm = main.get_by_role("button", name="Confirm and store")
        assert _in_viewport(page, status) and _in_viewport(page, confirm), (status.bounding_box(),
                                                                             confirm.bounding_box())
        assert confirm.bounding_box()["y"] < main.get_by_text("What will change").bounding_box()["y"]
        page.screenshot(path=str(browser.ARTIFACTS / "submit-3-preview-viewport.png"))
        main.get_by_text("Add commentary (optional)").click()
        main.get_by_role("textbox", name=re.compile("Commentary for")).fill("Grants pot opened in August.")
        browser.screenshot(page, "submit-3-preview")
        confirm.click()
        main.get_by_text("Accepted: 2 rows").wait_for()
        browser.wait_for_app(page)
        stored_as = re.search(r"Stored as submission (\d+)\.", main.inner_text())
        assert stored_as, main.inner_text()[:500]
        browser.screenshot(page, "submit-4-accepted")

        # The overview shows the new figures.
        _nav(page, "Overview")
        page.locator('[data-testid="stMetric"]').filter(has_text="Devolved budget share").first.wait_for()
        after = _metric(page, "Devolved budget share")
        browser.screenshot(page, "submit-5-overview-after")
        assert after != before, (before, after)

        _nav(page, "Submission history")
        browser.screenshot(page, "submit-6-history")
        assert _main(page).get_by_text("Returns tracker").is_visible()

        # Sign out, and in again as the admin from the sidebar: the audit log shows every write.
        sidebar = _sidebar(page)
        sidebar.get_by_role("button", name="Sign out").click()
        browser.wait_for_app(page)
        sidebar.get_by_text("Sign in", exact=True).first.click()
        sidebar.get_by_role("textbox", name="User name").fill("demo-admin")
        sidebar.get_by_role("textbox", name="Password").fill(store.DEMO_PASSWORD)
        sidebar.get_by_role("button", name="Sign in").click()
        sidebar.get_by_text("Signed in as").wait_for()
        _nav(page, "Administration")
        _main(page).get_by_role("tab", name="Audit log").click()
        browser.wait_for_app(page)
        browser.screenshot(page, "submit-7-admin-audit")
        assert _main(page).get_by_text("Administration").first.is_visible()
        page.context.close()

    # Logged: the three checks the lead asked for and the confirmed return; nothing for the picker
    # changes, nothing for the clean files checked but not confirmed.
    assert _log(db) == [("budget", QUARTER, "rejected", "adults-budget.csv"),
                        ("budget", QUARTER, "rejected", "adults-budget-problems.csv"),
                        ("budget", QUARTER, "accepted", "adults-budget-fixed.csv")]
    accepted = read(db, queries.submission_history, [ADULTS]).query("status == 'accepted'")
    assert int(stored_as.group(1)) == int(accepted["id"].iloc[0])
    assert read(db, queries.latest_commentary, ADULTS, QUARTER)["body"] == "Grants pot opened in August."


def test_excel_template_has_the_ward_drop_down_and_the_chosen_quarter(chrome, tmp_path: Path) -> None:  # noqa: ANN001
    with _app(tmp_path) as (url, _):
        page = browser.new_page(chrome, viewport=VIEWPORT)
        _sign_in_on_submit(page, url)
        _pick(page, "Quarter", QUARTER)
        main = _main(page)
        main.get_by_text("Templates and guidance").click()
        with page.expect_download() as dl:
            main.get_by_role("button", name="Download Excel template").click()
        name, content = dl.value.suggested_filename, dl.value.path().read_bytes()
        page.context.close()
    assert name == "budget-adults-and-health-2025-26-q2.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book["budget"]
    header = [c.value for c in sheet[1]]
    ward_col = openpyxl.utils.get_column_letter(header.index("ward_code") + 1)
    lists = book["Allowed values"]
    list_header = [c.value for c in lists[1]]
    ward_list_col = openpyxl.utils.get_column_letter(list_header.index("ward_code") + 1)
    ward_rule = [v for v in sheet.data_validations.dataValidation if str(v.sqref).startswith(f"{ward_col}2")]
    assert ward_rule and ward_rule[0].type == "list"
    assert f"${ward_list_col}$2" in ward_rule[0].formula1 and "Allowed values" in ward_rule[0].formula1
    assert sorted(lists[f"{ward_list_col}{i}"].value for i in range(2, 5)) == ["Castle Quay", "Mill Green", "Riverside"]
    assert {row[1] for row in book["Wards"].iter_rows(min_row=2, values_only=True)} == {
        "E05900001", "E05900002", "E05900003"}
    assert (sheet["A2"].value, sheet["B2"].value) == (ADULTS, QUARTER)  # filled in for this return


def test_reload_keeps_the_session_and_sign_out_ends_it(chrome, tmp_path: Path) -> None:  # noqa: ANN001
    bad = tmp_path / "adults-budget.csv"
    bad.write_bytes(bad_budget_csv())
    with _app(tmp_path) as (url, _):
        page = browser.new_page(chrome, viewport=VIEWPORT)
        _sign_in_on_submit(page, url)
        cookie = {c["name"]: c for c in page.context.cookies()}["localism_session"]
        assert cookie["sameSite"] == "Strict" and cookie["path"] == "/" and cookie["expires"] > 0
        assert not cookie["secure"]  # served over http here; over https the cookie is Secure
        _pick(page, "Quarter", QUARTER)
        _attach(page, bad)

        page.reload()
        browser.wait_for_app(page)
        _sidebar(page).get_by_text("Signed in as").wait_for()
        assert "demo-lead-adh" in _sidebar(page).inner_text()
        assert _main(page).get_by_text("Upload the return").is_visible()  # still signed in
        assert _main(page).get_by_role("textbox", name="Password").count() == 0
        # The attached file is let go, and the page says so.
        assert "lets go of an attached file: attach it again" in _main(page).inner_text()
        browser.screenshot(page, "submit-8-after-reload")

        _sidebar(page).get_by_role("button", name="Sign out").click()
        browser.wait_for_app(page)
        page.reload()
        browser.wait_for_app(page)
        _main(page).get_by_role("textbox", name="Password").wait_for()  # signed out for good
        assert "localism_session" not in {c["name"] for c in page.context.cookies()}
        page.context.close()


def test_queried_figures_sit_with_their_tick_box_and_confirm(chrome, tmp_path: Path) -> None:  # noqa: ANN001
    # 190,449 participants in Castle Quay (10,000 residents): 19,044.9 per 1,000, queried.
    row = f"{ADULTS},{QUARTER},A1,2025-08-01,E05900001,survey,options,190449" + ",0" * 13 + ",yes\n"
    odd = tmp_path / "engagement.csv"
    odd.write_text(ENGAGEMENT_HEADER + row, encoding="utf-8")
    with _app(tmp_path) as (url, db):
        page = browser.new_page(chrome, viewport=VIEWPORT)
        _sign_in_on_submit(page, url)
        _pick(page, "Return", "Engagement activity return")
        _pick(page, "Quarter", QUARTER)
        _attach(page, odd)
        _check(page)
        main = _main(page)
        main.get_by_text("Not stored yet").wait_for()
        main.get_by_text("19,044.9 per 1,000 residents").wait_for()
        box = main.get_by_role("checkbox", name="I have checked the figures above and they are right")
        confirm = main.get_by_role("button", name="Confirm and store")
        assert _in_viewport(page, main.get_by_text("Not stored yet").first)
        assert _in_viewport(page, confirm), confirm.bounding_box()
        main.get_by_text("I have checked the figures above").click()
        browser.wait_for_app(page)
        assert box.is_checked()
        page.screenshot(path=str(browser.ARTIFACTS / "submit-9-queried-ticked.png"))
        found = browser.axe_violations(page)
        page.context.close()
    assert not found, browser.summarise(found)
    assert _log(db) == []  # checked clean, never confirmed: nothing logged


def test_a_refused_file_type_is_named_in_words(chrome, tmp_path: Path) -> None:  # noqa: ANN001
    bad = tmp_path / "adults-budget.csv"
    bad.write_bytes(bad_budget_csv())
    pdf = tmp_path / "Q2 return.pdf"
    pdf.write_bytes(b"%PDF-1.7\n% a return printed to PDF\n")
    with _app(tmp_path) as (url, db):
        page = browser.new_page(chrome, viewport=VIEWPORT)
        _sign_in_on_submit(page, url)
        _pick(page, "Quarter", QUARTER)
        _attach(page, bad)
        _check(page)
        main = _main(page)
        main.get_by_text("3 problems to fix").wait_for()

        _attach(page, pdf)
        alert = main.locator('[data-testid="stAlertContentError"]')
        alert.get_by_text("Q2 return.pdf is a PDF file; send the return as CSV or Excel .xlsx").wait_for()
        assert _in_viewport(page, alert.first)
        text = main.inner_text()
        assert "3 problems to fix" not in text and "Problems (" not in text  # the earlier report is gone
        found = browser.axe_violations(page)
        browser.ARTIFACTS.mkdir(exist_ok=True)
        (browser.ARTIFACTS / "axe-submit-refused-type.json").write_text(json.dumps(found, indent=1), encoding="utf-8")
        page.screenshot(path=str(browser.ARTIFACTS / "submit-10-refused-type.png"))
        page.context.close()
    assert not found, browser.summarise(found)
    assert _log(db) == [("budget", QUARTER, "rejected", "adults-budget.csv")]  # nothing for the PDF


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-v"])
