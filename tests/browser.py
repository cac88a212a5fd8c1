"""Shared helpers for browser tests: start the app on a free port, launch Chromium, run axe-core.

Not a test module (no test_ prefix). Use from a test file:

    from tests import browser  # or `import browser` with tests/ on sys.path
    pytestmark = browser.requirements()          # skip cleanly without Chromium / playwright
    with browser.running_app(db_path) as url, browser.chromium() as chrome: ...
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOAD_TIMEOUT_MS = 90_000  # a cold page load is about 5 s (Plotly's bundle); allow for a loaded CI machine


def have_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def requirements() -> list[pytest.MarkDecorator]:
    """Markers for a browser test module: `browser`, and a clean skip without Chromium/playwright."""
    return [
        pytest.mark.browser,
        pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
        pytest.mark.skipif(not have_playwright(), reason="the playwright package is not installed"),
    ]


def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo council's warehouse, built once per test session (shared by every test file)."""
    from etl.demo import build_demo

    path = tmp_path_factory.getbasetemp() / "shared-demo" / "demo.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        build_demo(path)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(db: str | Path, timeout: float = 60.0, env: dict[str, str] | None = None,
                script: str = "dashboard/app.py", port: int | None = None) -> Iterator[str]:
    """Start `streamlit run` on a local port (a free one by default) against warehouse `db`;
    yield its base URL."""
    port = port or free_port()
    streamlit = Path(sys.executable).with_name("streamlit")
    command = [
        str(streamlit) if streamlit.exists() else shutil.which("streamlit") or "streamlit",
        "run", script, "--server.address", "127.0.0.1", "--server.headless", "true",
        "--server.port", str(port), "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]
    log = ARTIFACTS / f"streamlit-{port}.log"
    ARTIFACTS.mkdir(exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "LOCALISM_DB": str(db), **(env or {})},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited early: {log.read_text()[-2000:]}")
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not answer within {timeout} s")
                time.sleep(0.25)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium driven by playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any, viewport: tuple[int, int] = (1366, 900), **context_args: Any) -> Any:
    """A page in a fresh browser context (its own cookies and session), default timeouts set."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                  locale="en-GB", **context_args)
    page = context.new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    return page


def wait_for_app(page: Any, timeout_ms: int = LOAD_TIMEOUT_MS) -> None:
    """Wait until the script run has finished (stably) and every Plotly chart has drawn."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    settled = """() => {
        const app = document.querySelector('[data-testid="stApp"]');
        if (!app || app.getAttribute('data-test-script-state') === 'running') return false;
        if (document.querySelector('[data-testid="stSkeleton"]')) return false;
        const charts = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'));
        return charts.every(c => c.querySelector('.main-svg'));
    }"""
    for _ in range(2):  # twice, apart: a rerun can start right after the first run ends
        page.wait_for_function(settled, timeout=timeout_ms, polling=200)
        page.wait_for_timeout(400)
    page.wait_for_function(settled, timeout=timeout_ms, polling=200)


def download(page: Any, button: str, save_as: Path, timeout_ms: int = 45_000) -> Path:
    """Click a download button once the page has settled and save what arrives.

    A button built on click (Streamlit's deferred data) asks the server for its file over the
    session and stays disabled until the answer comes. In full suite runs on a loaded machine
    that answer once never came (the button spinning for minutes; not reproduced in smaller
    runs), so after `timeout_ms` the page is reloaded and the button clicked once more, as a
    reader would."""
    for attempt in (1, 2):
        wait_for_app(page)
        target = page.get_by_role("button", name=button)
        target.wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
        try:
            with page.expect_download(timeout=timeout_ms) as info:
                target.click(timeout=timeout_ms)
            info.value.save_as(save_as)
            return save_as
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError; tried once more
            if attempt == 2:
                raise
            page.reload()
    raise AssertionError("unreachable")


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    """Save a screenshot to test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    if full_page:  # Streamlit scrolls an inner container: grow the viewport to its full height
        height = page.evaluate(
            """() => Math.max(document.body.scrollHeight,
                   ...Array.from(document.querySelectorAll('[data-testid="stMain"], '
                       + '[data-testid="stAppViewContainer"], [data-testid="stMainBlockContainer"]'))
                       .map(e => e.scrollHeight))"""
        )
        page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 12000)})
        page.wait_for_timeout(1500)  # Plotly redraws its charts for the new size
    page.screenshot(path=str(path), full_page=full_page)
    if full_page:
        page.set_viewport_size(size)
    return path


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical"),
                   context: str | None = None) -> list[dict[str, Any]]:
    """Inject axe-core and return violations of the given impacts (each with its nodes)."""
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed ({AXE}); run `make browser-deps`")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (ctx) => await axe.run(ctx || document, {resultTypes: ['violations']})", context
    )
    return [v for v in result["violations"] if v.get("impact") in impacts]


def violation_html(violations: list[dict[str, Any]], limit: int = 3) -> str:
    """The offending elements' HTML (to see whether the app or Streamlit made them)."""
    return "\n".join(f"{v['id']}: {n.get('html', '')[:300]}" for v in violations
                     for n in v.get("nodes", [])[:limit])


def summarise(violations: list[dict[str, Any]]) -> str:
    """A readable list of violations with the first few offending elements."""
    lines = []
    for v in violations:
        targets = [", ".join(n.get("target", [])) for n in v.get("nodes", [])[:4]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} -> {targets}")
    return "\n".join(lines)
