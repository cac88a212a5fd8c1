"""Load, bounded: 20 sessions render the overview, a directorate and a ward on the real server
(over its websocket, as browsers do) while `python -m etl load` stores a return from a shell.

Every page run finishes with its page's text and no error, and the return is stored exactly
once. Times are printed by `python -m benchmarks.load_sessions`, never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.load_sessions import (
    DEMO_PAGES,
    budget_return,
    cli_load,
    page_error,
    run_sessions,
    stored_submissions,
)
from etl import warehouse
from tests.browser import running_app
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

SESSIONS = 20
ROUNDS = 2
DIRECTORATE, QUARTER = "Place and Economy", "2026-27 Q1"


def test_twenty_sessions_render_while_a_cli_load_lands_exactly_once(demo_db: Path, tmp_path: Path):
    db = tmp_path / "demo.duckdb"
    warehouse.migrate(demo_db, db)  # a copy of its own: this test writes to it
    with warehouse.read_only(db) as con:
        before = con.execute("SELECT count(*), max(submission_id) FROM submissions").fetchone()
    file = tmp_path / "place-budget-load-test.csv"
    file.write_bytes(budget_return(DIRECTORATE, QUARTER, 50, "load test"))

    def load_from_a_shell() -> tuple[float, float, object]:
        started = time.monotonic()
        _seconds, done = cli_load(str(db), file, DIRECTORATE, QUARTER)
        return started, time.monotonic(), done

    with running_app(db, env={"LOCALISM_DEMO": "1"}, timeout=120) as url:
        logs, (load_started, load_ended, load) = run_sessions(url, load_from_a_shell, sessions=SESSIONS,
                                                              rounds=ROUNDS)

    assert load.returncode == 0, load.stdout + load.stderr
    assert f"Accepted: 50 rows of the budget return for {DIRECTORATE}, {QUARTER}" in load.stdout
    assert len(logs) == SESSIONS
    errors = [e for log in logs for e in log.errors]
    assert errors == []
    for log in logs:
        assert log.rounds(len(DEMO_PAGES)) >= ROUNDS
        for page, run in log.runs:  # every run rendered the text its page always shows
            assert page_error(page, run) is None and page.expect in run.text
        assert {p.label for p, _ in log.runs} == {p.label for p in DEMO_PAGES}
    # Pages were rendered while the load ran (every session had rendered a round before it began).
    during = [r for log in logs for _, r in log.runs if load_started < r.started + r.seconds and r.started < load_ended]
    assert during
    assert all(r.started < load_started for log in logs for _, r in log.runs[:len(DEMO_PAGES)])

    # The load's submission is stored once, whole; nothing else was added or lost.
    assert stored_submissions(str(db), file.name) == [(before[1] + 1, "accepted", 50, 50)]
    with warehouse.read_only(db) as con:
        after = con.execute("SELECT count(*), count(DISTINCT submission_id) FROM submissions").fetchone()
    assert after == (before[0] + 1, before[0] + 1)


def test_the_locustfile_renders_every_page_without_a_failure(demo_db: Path):
    """`benchmarks/locustfile.py` (for soak runs against a deployment) works: a short run, bounded
    by locust's own --run-time, renders every page with no failure. Each user finishes the round of
    pages it has begun (--stop-timeout), however slow the machine."""
    with running_app(demo_db, env={"LOCALISM_DEMO": "1"}, timeout=120) as url:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("locust")), "-f", "benchmarks/locustfile.py", "--headless",
             "--users", "3", "--spawn-rate", "3", "--run-time", "15s", "--stop-timeout", "120", "--host", url, "--json", "--skip-log"],
            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    stats = {s["name"]: s for s in json.loads(done.stdout)}
    assert set(stats) == {p.label for p in DEMO_PAGES}, stats.keys()
    assert all(s["num_requests"] >= 1 and s["num_failures"] == 0 for s in stats.values()), stats
