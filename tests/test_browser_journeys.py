"""Journeys a person would recognise, in headless Chromium against the demo council.

Leader: overview, change quarter, open a lagging directorate. Scrutiny panel: pick a
neighbourhood, open a ward, open the shared link in a new browser and see the same view,
download the ward pack. Then axe-core on every page. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests import browser as b

pytestmark = b.requirements()

# Every page, as an anonymous reader and as the role that uses it: (name, path, demo account).
AXE_PAGES: tuple[tuple[str, str, str | None], ...] = (
    ("overview", "", None),
    ("directorates", "directorates", None),
    ("neighbourhoods", "neighbourhoods", None),
    ("methods", "methods", None),
    ("submit-signed-out", "submit", None),
    ("submit", "submit", "demo-lead-adh"),
    ("history", "history", "demo-viewer"),
    ("admin", "admin", "demo-admin"),
)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory):
    db = b.demo_warehouse(tmp_path_factory)
    users = tmp_path_factory.mktemp("accounts") / "users.json"
    with b.running_app(db, env={"LOCALISM_DEMO": "1", "LOCALISM_USERS": str(users)}) as url:
        yield url


@pytest.fixture(scope="module")
def chrome():
    with b.chromium() as browser:
        yield browser


def _pick(page, label: str, option: str | re.Pattern, where=None) -> None:
    """Choose an option in a Streamlit selectbox (a React Aria combobox) by its label."""
    scope = where or page
    scope.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option).first.click()
    b.wait_for_app(page)


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_leader_journey(app_url: str, chrome) -> None:
    page = b.new_page(chrome)
    page.goto(app_url)
    b.wait_for_app(page)
    assert page.get_by_role("heading", name="Localism overview").is_visible()
    latest = re.search(r"quarter=([^&]+)", page.url).group(1).replace("+", " ")
    before = _metric(page, "Participation per 1,000 residents")
    b.screenshot(page, "leader-1-overview")

    sidebar = page.locator('[data-testid="stSidebar"]')
    _pick(page, "Quarter", "2025-26 Q1", where=sidebar)
    assert "quarter=2025-26+Q1" in page.url
    assert page.get_by_text("Whole council, 2025-26 Q1.").is_visible()
    after = _metric(page, "Participation per 1,000 residents")
    assert after != before or latest == "2025-26 Q1"
    b.screenshot(page, "leader-2-quarter-changed")

    link = page.get_by_role("link", name=re.compile(r": directorate page$")).first
    name = re.search(r"([^\n:]+): directorate page", link.inner_text()).group(1).strip()
    link.click()
    b.wait_for_app(page)
    assert page.get_by_role("heading", name="Directorates", exact=True).is_visible()
    assert "directorate=" in page.url and "quarter=2025-26+Q1" in page.url
    assert page.get_by_text(f"{name}, 2025-26 Q1.").is_visible()
    assert page.locator('[data-testid="stPlotlyChart"] .main-svg').count() >= 3
    b.screenshot(page, "leader-3-lagging-directorate")
    page.context.close()


def test_scrutiny_journey(app_url: str, chrome, tmp_path: Path) -> None:
    page = b.new_page(chrome)
    page.goto(f"{app_url}/neighbourhoods")
    b.wait_for_app(page)
    _pick(page, "Neighbourhood", "Northmoor")
    assert "neighbourhood=Northmoor" in page.url
    _pick(page, "Ward", re.compile(r"^Sheepwash"))
    assert "ward=E05900017" in page.url
    assert page.get_by_role("heading", name="Profile: Sheepwash").is_visible()
    # the map drew the wards (served offline: no tile server, no CDN)
    assert page.locator("path.choroplethlocation").count() >= 5
    rate = _metric(page, "Participation per 1,000 residents, Sheepwash")
    b.screenshot(page, "scrutiny-1-ward")

    shared = page.url
    other = b.new_page(chrome)  # a new browser context: no shared session or cookies
    other.goto(shared)
    b.wait_for_app(other)
    assert other.get_by_role("heading", name="Profile: Sheepwash").is_visible()
    assert _metric(other, "Participation per 1,000 residents, Sheepwash") == rate
    for label, value in (("Neighbourhood", "Northmoor"), ("Ward", "Sheepwash (E05900017)"),
                         ("KPI on the map", "Participation per 1,000 residents")):
        assert value in other.get_by_role("combobox", name=label).input_value() or \
            other.get_by_role("combobox", name=label).locator("xpath=..").inner_text().find(value) >= 0
    b.screenshot(other, "scrutiny-2-shared-link")
    other.context.close()

    pack = b.download(page, "Printable ward pack (HTML)", b.ARTIFACTS / "ward-pack.html")
    text = pack.read_text(encoding="utf-8")
    assert "<h1>Sheepwash</h1>" in text and "E05900017" in text
    assert "[c]" in text  # small counts withheld (kpis.disclosure)
    assert "<script" not in text.lower()  # static, prints anywhere
    viewer = b.new_page(chrome, viewport=(900, 1200))
    viewer.goto(pack.resolve().as_uri())
    b.screenshot(viewer, "scrutiny-3-ward-pack")
    viewer.context.close()
    page.context.close()


def _text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def test_words_on_an_incomplete_quarter(app_url: str, chrome) -> None:
    """The demo council: Children and Families' 2025-26 Q4 register is missing, every deadline has
    passed, and Lower Kell has one participant with a known group (a low base)."""
    page = b.new_page(chrome, viewport=(1280, 900))
    page.goto(f"{app_url}/?quarter=2025-26+Q4")
    b.wait_for_app(page)
    text = _text(page)
    assert "Where returns stand" in text and "Current reporting quarter:" in text
    assert "Overdue for 2025-26 Q4 (due 12 May 2026" in text
    assert "1 return: Children and Families: Partnership register." in text
    assert "The newest figures are for 2025-26 Q4" in text
    assert ("Incomplete: 5 of 6 directorates' partnership registers received; missing: Children "
            "and Families.") in text
    metric = page.locator('[data-testid="stMetric"]', has_text="Active partnerships").first
    assert metric.locator('[data-testid="stMetricDelta"]').count() == 0  # a missing register is not a fall
    assert page.get_by_role("figure", name=re.compile("^Small trend of Active partnerships")).count() == 1
    assert "Last 8 quarters (2024-25 Q1 to 2025-26 Q4): 62 → 69" in text  # its words
    assert "The engagement equality index covers age, sex, ethnicity and disability." in text
    assert "Return not received" in text  # the league cell, not 0
    b.screenshot(page, "issue8-overview", full_page=False)
    b.screenshot(page, "issue8-overview-full")

    page.goto(f"{app_url}/directorates?quarter=2025-26+Q4&directorate=Children+and+Families")
    b.wait_for_app(page)
    text = _text(page)
    assert "Incomplete: Children and Families' partnership register not yet received." in text
    assert "Its partnerships are not shown until it arrives." in text
    assert "○ No target" in text  # its participation takes no council target
    b.screenshot(page, "issue8-directorate", full_page=False)
    b.screenshot(page, "issue8-directorate-full")

    page.goto(f"{app_url}/neighbourhoods?quarter=2025-26+Q4&neighbourhood=Kellbrook+Valley&ward=E05900011")
    b.wait_for_app(page)
    text = _text(page)
    assert "Profile: Lower Kell" in text and "Lower Kell is a cold spot this quarter" in text
    assert "Incomplete for every ward this quarter: 5 of 6 directorates' partnership registers" in text
    assert "Too few to judge" in text and "Under-represented (fewer than" not in text
    assert "[c]" in text  # one known participant: their counts and shares are withheld
    assert "compared with all wards" in text and "Borough-wide (no ward)" in text
    assert "The engagement equality index covers" in text
    b.screenshot(page, "issue8-ward", full_page=False)
    b.screenshot(page, "issue8-ward-full")
    pack = b.download(page, "Printable ward pack (HTML)", b.ARTIFACTS / "issue8-ward-pack.html")
    html = pack.read_text(encoding="utf-8")
    assert "Demo Borough Council (fictional): localism ward pack" in html
    assert "<h1>Lower Kell</h1>" in html and "Incomplete:</strong> 5 of 6 directorates&#x27;" in html
    assert "Trend over recent quarters" in html and "Cold spots in Demo Borough Council" in html
    assert "Wards of similar deprivation" in html and "Too few to judge" in html
    assert "[c]" in html and "<script" not in html.lower()
    viewer = b.new_page(chrome, viewport=(1280, 900))
    requests: list[str] = []
    viewer.on("request", lambda r: requests.append(r.url))
    viewer.goto(pack.resolve().as_uri())
    b.screenshot(viewer, "issue8-ward-pack", full_page=False)
    b.screenshot(viewer, "issue8-ward-pack-full")
    assert all(r.startswith("file://") for r in requests), requests
    viewer.context.close()
    page.context.close()


def test_nothing_is_fetched_from_outside(app_url: str, chrome) -> None:
    page = b.new_page(chrome)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    for path in ("", "directorates", "neighbourhoods?ward=E05900017", "methods"):
        page.goto(f"{app_url}/{path}")
        b.wait_for_app(page)
    outside = sorted({r for r in requests if not r.startswith(app_url) and not r.startswith("data:")})
    assert not outside, outside
    page.context.close()


def _sign_in(page, account: str) -> None:
    from accounts.store import DEMO_PASSWORD

    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Sign in", exact=True).first.click()
    sidebar.get_by_role("textbox", name="User name").fill(account)
    sidebar.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
    sidebar.get_by_role("button", name="Sign in").click()
    sidebar.get_by_text("Signed in as").wait_for()
    b.wait_for_app(page)


@pytest.mark.parametrize(("name", "path", "account"), AXE_PAGES, ids=[n for n, _, _ in AXE_PAGES])
def test_axe_every_page(app_url: str, chrome, name: str, path: str, account: str | None) -> None:
    """0 serious or critical axe findings on the whole page, navigation included: no exceptions."""
    page = b.new_page(chrome)
    page.goto(f"{app_url}/{path}?ward=E05900017&neighbourhood=Northmoor")
    b.wait_for_app(page)
    if account:
        _sign_in(page, account)
    found = b.axe_violations(page)
    b.ARTIFACTS.mkdir(exist_ok=True)
    (b.ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(found, indent=1), encoding="utf-8")
    b.screenshot(page, f"axe-{name}")
    page.context.close()
    assert not found, b.summarise(found)
