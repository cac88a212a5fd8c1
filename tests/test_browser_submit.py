"""A directorate lead's journey in a real browser: sign in, download the template, upload a file
with errors, see them, download the annotated file, upload the fixed file, see the overview change.

Screenshots go to test-artifacts/submit-*.png.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from accounts import store
from etl import access, queries
from etl.access import Actor
from tests import browser
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


def _main(page):  # noqa: ANN001, ANN202
    return page.locator('[data-testid="stMain"]')


def _metric(page, title: str) -> str:  # noqa: ANN001
    tile = page.locator('[data-testid="stMetric"]').filter(has_text=title).first
    return tile.locator('[data-testid="stMetricValue"]').inner_text()


def _nav(page, label: str) -> None:  # noqa: ANN001
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name=label).click()
    browser.wait_for_app(page)


def test_lead_journey(tmp_path: Path) -> None:
    db = make_warehouse(tmp_path / "w.duckdb")
    # Another directorate's return is already in, so the overview has figures for the quarter.
    access.submit_as(Actor("admin", "admin"), db, return_type="budget", directorate=PLACE, quarter=QUARTER,
                     content=budget_csv(PLACE, devolved="10000"), file_name="place.csv")
    bad = tmp_path / "adults-budget.csv"
    bad.write_bytes(bad_budget_csv())
    good = tmp_path / "adults-budget-fixed.csv"
    good.write_bytes(budget_csv())
    env = {"LOCALISM_DEMO": "1", "LOCALISM_USERS": str(tmp_path / "users.json")}

    with browser.running_app(db, env=env) as url, browser.chromium() as chrome:
        page = browser.new_page(chrome)
        page.goto(url)
        browser.wait_for_app(page)
        page.get_by_text("Demo mode").first.wait_for()
        before = _metric(page, "Devolved budget share")
        browser.screenshot(page, "submit-0-overview-before")

        # Signed out, the navigation offers no Submit page: a lead opens it by its address (the
        # link in the council's e-mail) and signs in there.
        assert page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Submit a return").count() == 0
        page.goto(f"{url}/submit")
        browser.wait_for_app(page)
        main = _main(page)
        main.get_by_role("textbox", name="User name").fill("demo-lead-adh")
        main.get_by_role("textbox", name="Password").fill(store.DEMO_PASSWORD)
        main.get_by_role("button", name="Sign in").click()
        main.get_by_text("Upload the return").wait_for()
        browser.wait_for_app(page)
        page.locator('[data-testid="stSidebar"]').get_by_text("Signed in as").wait_for()

        main.get_by_role("combobox", name="Quarter").click()
        page.get_by_role("option", name=QUARTER).click()
        browser.wait_for_app(page)

        # The template.
        main.get_by_text("Templates and guidance").click()
        with page.expect_download() as dl:
            main.get_by_role("button", name="Download CSV template").click()
        template = dl.value.path().read_bytes().decode("utf-8-sig")
        assert template.startswith("directorate,quarter,budget_line,ward_code")
        browser.screenshot(page, "submit-1-signed-in-template")

        # A file with errors.
        main.locator('input[type="file"]').set_input_files(str(bad))
        main.get_by_text("3 problems to fix").wait_for()
        browser.wait_for_app(page)
        assert main.get_by_text("E05999999").first.is_visible()
        assert main.get_by_text("lottery").first.is_visible()
        browser.screenshot(page, "submit-2-rejected")
        with page.expect_download() as dl:
            main.get_by_role("button", name="Download your file with a problems column").click()
        annotated = list(csv.reader(io.StringIO(dl.value.path().read_bytes().decode("utf-8-sig"))))
        assert annotated[0][-1] == "problems" and "mechanism" in annotated[2][-1]

        # The fixed file: a preview, then confirm.
        main.locator('input[type="file"]').set_input_files(str(good))
        main.get_by_text("No problems found").wait_for()
        browser.wait_for_app(page)
        main.get_by_text("KPIs for Adults and Health").wait_for()
        main.get_by_role("textbox", name=re.compile("Commentary for")).fill("Grants pot opened in August.")
        browser.screenshot(page, "submit-3-preview")
        main.get_by_role("button", name="Confirm and store").click()
        main.get_by_text("Accepted: 2 rows").wait_for()
        browser.wait_for_app(page)
        browser.screenshot(page, "submit-4-accepted")

        # The overview shows the new figures.
        _nav(page, "Overview")
        page.locator('[data-testid="stMetric"]').filter(has_text="Devolved budget share").first.wait_for()
        after = _metric(page, "Devolved budget share")
        browser.screenshot(page, "submit-5-overview-after")
        assert after != before, (before, after)

        _nav(page, "Submission history")
        browser.wait_for_app(page)
        browser.screenshot(page, "submit-6-history")
        assert _main(page).get_by_text("Returns tracker").is_visible()

        # Sign out, and in again as the admin from the sidebar: the audit log shows every write.
        sidebar = page.locator('[data-testid="stSidebar"]')
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

    assert read(db, queries.latest_commentary, ADULTS, QUARTER)["body"] == "Grants pot opened in August."


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-v"])
