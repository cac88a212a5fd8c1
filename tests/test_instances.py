"""Several instances for real: two `streamlit run` processes and two writer processes (several
`python -m etl load` each, at once) on one shared warehouse (DuckLake + PostgreSQL).

Every return lands exactly once, and both instances show the new figures.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dashboard import theme
from tests import browser
from tests.conftest import BUDGET_HEADER, PYTHON, ROOT, make_council, new_place

pytestmark = [*browser.requirements(), pytest.mark.slow]

PORTS = (8611, 8612)  # this test's own ports
QUARTERS = ("2025-26 Q1", "2025-26 Q2", "2025-26 Q3")
# (directorate, total, devolved) per return; the latest quarter's devolved share is
# (250 + 750) / (1,000 + 3,000) = 25%.
WRITERS = {
    "ADH": [(q, 1000, d) for q, d in zip(QUARTERS, (100, 200, 250), strict=True)],
    "Place": [(q, 3000, d) for q, d in zip(QUARTERS, (100, 300, 750), strict=True)],
}


def _file(folder: Path, directorate: str, quarter: str, total: int, devolved: int) -> Path:
    path = folder / f"{directorate}-{quarter.replace(' ', '_')}.csv"
    path.write_text(BUDGET_HEADER + f"{directorate},{quarter},Grants,Ashby,{total},{devolved},community_grants\n")
    return path


def _overview_text(page, url: str, *wait_for: str) -> str:
    """The overview's text once every `wait_for` is drawn (bounded: two minutes each)."""
    page.goto(url)  # a new page load is a new session: it reads the newest snapshot
    for text in wait_for:
        page.get_by_text(text).first.wait_for(timeout=120_000)
    return page.inner_text("body")


def test_two_instances_and_two_writers_on_one_shared_warehouse(tmp_path: Path):
    place = new_place("postgres", tmp_path)
    wh = make_council(place.open())
    env = {k: v for k, v in place.env().items() if k.startswith("LOCALISM_")}
    with browser.running_app(place.db, env=env, port=PORTS[0]) as one, \
            browser.running_app(place.db, env=env, port=PORTS[1]) as two, \
            browser.chromium() as chrome:
        pages = [browser.new_page(chrome), browser.new_page(chrome)]
        for page, url in zip(pages, (one, two), strict=True):
            assert "No returns have been loaded yet" in _overview_text(page, url, "No returns have been loaded yet")

        # Two shells, each sending its directorate's three returns one after another, at once.
        writers = []
        for directorate, returns in WRITERS.items():
            script = " && ".join(
                f"{PYTHON} -m etl load --return budget --directorate {directorate} --quarter '{q}' "
                f"--user writer-{directorate} {_file(tmp_path, directorate, q, total, dev)}"
                for q, total, dev in returns
            )
            writers.append(subprocess.Popen(["bash", "-c", script], cwd=ROOT, env=place.env(),
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        for w in writers:
            out, err = w.communicate(timeout=600)
            assert w.returncode == 0, out + err
            assert out.count("Accepted: 1 row") == 3, out

        # Every return landed exactly once: six accepted submissions, distinct ids, one current per quarter.
        with wh.read() as con:
            log = con.execute("SELECT submission_id, directorate, quarter, outcome FROM submissions "
                              "WHERE return_type = 'budget' ORDER BY submission_id").fetchall()
            assert len(log) == 6 and len({r[0] for r in log}) == 6
            assert sorted((r[1], r[2]) for r in log) == sorted(
                (d, q) for d in ("Adults and Health", "Place") for q in QUARTERS)
            assert {r[3] for r in log} == {"accepted"}
            assert con.execute("SELECT count(*), sum(devolved_gbp) FROM budget").fetchone() == (6, 1700)

        # Both instances show the new figures: the latest quarter and its devolved share.
        share = theme.fmt_kpi(0.25, "share")
        for n, (page, url) in enumerate(zip(pages, (one, two), strict=True)):
            text = _overview_text(page, url, f"Whole council, {QUARTERS[-1]}", share)
            browser.screenshot(page, f"instances-{n + 1}")
            assert f"Whole council, {QUARTERS[-1]}" in text
            assert share in text, text[:2000]
