"""Benchmark: concurrent sessions rendering pages on the real server while `etl load` runs.

    python -m benchmarks.load_sessions [--sessions 20] [--rounds 3] [--db PATH] [--write]
    make bench-load

Starts `streamlit run dashboard/app.py` on a free loopback port against the demo council's
warehouse (built in a temporary folder unless --db names one), opens --sessions sessions over
the app's websocket (benchmarks/streamlit_client.py: each is what a browser tab is to the
server), and has each render the overview, a directorate and a ward, round after round. Once
every session has rendered its first round, one `python -m etl load` of a budget return runs from
a shell; the sessions carry on until it has finished and each has done at least --rounds rounds.

A page run counts as an error when it does not finish, raises, or lacks the text that page
always shows. Prints the page times (p50, p95, max) and the errors per page, the load's time
and outcome, and whether its submission was stored exactly once. With --write, the table
replaces the "Load" section of BENCHMARKS.md. Not a test: figures vary with the machine and its
load; tests/test_load_sessions.py runs a bounded version and asserts outcomes, not times.

Why threads and not locust: the run must be coordinated with the CLI load (start it once every
session is rendering, stop after it), every page's text must be checked per session, and the
same generator runs inside pytest, where locust's gevent monkey-patching of the whole process
would change every other test's sockets and threads. Twenty threads waiting on sockets cost the
client little; the server is what is measured. `benchmarks/locustfile.py` drives the same
pages with locust against a deployed server, for longer soak runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import sections
from benchmarks.streamlit_client import PageRun, SessionError, StreamlitSession

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass(frozen=True)
class Page:
    """A page to render: its URL name and query string, and text it always shows."""

    label: str
    name: str
    query: str
    expect: str


# The demo council's pages: the overview, one directorate, one ward.
DEMO_PAGES = (
    Page("overview", "", "", "Headline KPIs"),
    Page("directorate", "directorates", "directorate=Place+and+Economy", "Place and Economy, "),
    Page("ward", "neighbourhoods", "ward=E05900001", "Profile: Ashenhall"),
)


@dataclass
class SessionLog:
    """What one session did: every page run, with its page, and any error in words."""

    runs: list[tuple[Page, PageRun]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def rounds(self, pages: int) -> int:
        return len(self.runs) // pages


def page_error(page: Page, run: PageRun) -> str | None:
    """Why a page run counts as an error, or None."""
    if run.status != "finished":
        return f"{page.label}: {run.status}"
    if run.exceptions:
        return f"{page.label}: raised {run.exceptions[0][:200]}"
    if page.expect not in run.text:
        return f"{page.label}: '{page.expect}' not on the page"
    return None


def session_worker(url: str, pages: tuple[Page, ...], rounds: int, first_round: threading.Barrier,
                   keep_going: threading.Event, deadline: float) -> SessionLog:
    """One session: render every page, round after round, until `rounds` are done and
    `keep_going` is cleared (or the deadline passes)."""
    log = SessionLog()
    try:
        session = StreamlitSession(url)
    except (SessionError, OSError) as exc:
        log.errors.append(f"connect: {exc}")
        first_round.abort()
        return log
    with session:
        done = 0
        while True:
            for page in pages:
                run = session.run_page(page.name, page.query)
                log.runs.append((page, run))
                if error := page_error(page, run):
                    log.errors.append(error)
            done += 1
            if done == 1:
                try:
                    first_round.wait(timeout=max(1.0, deadline - time.monotonic()))
                except threading.BrokenBarrierError:
                    pass
            if (done >= rounds and not keep_going.is_set()) or time.monotonic() > deadline:
                return log


def run_sessions(url: str, during: Callable[[], Any], *, sessions: int = 20, rounds: int = 2,
                 pages: tuple[Page, ...] = DEMO_PAGES, timeout: float = 900.0) -> tuple[list[SessionLog], Any]:
    """Run `sessions` sessions against `url`; once all have rendered a round, call `during()`
    (in this thread) while they carry on; return every session's log and what `during` returned."""
    deadline = time.monotonic() + timeout
    first_round = threading.Barrier(sessions + 1)
    keep_going = threading.Event()
    keep_going.set()
    with ThreadPoolExecutor(max_workers=sessions, thread_name_prefix="session") as pool:
        futures = [pool.submit(session_worker, url, pages, rounds, first_round, keep_going, deadline)
                   for _ in range(sessions)]
        try:
            first_round.wait(timeout=timeout)
        except threading.BrokenBarrierError:
            pass  # a session could not connect: its log says why; the others still run
        try:
            result = during()
        finally:
            keep_going.clear()
        logs = [f.result() for f in futures]
    return logs, result


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation, as numpy's default."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def alone(url: str, pages: tuple[Page, ...], runs: int = 3) -> dict[str, float]:
    """Each page's median time with one session on the server (after one warm-up run)."""
    with StreamlitSession(url) as session:
        times: dict[str, list[float]] = {p.label: [] for p in pages}
        for n in range(runs + 1):
            for page in pages:
                run = session.run_page(page.name, page.query)
                if n:
                    times[page.label].append(run.seconds)
    return {label: percentile(seconds, 50) for label, seconds in times.items()}


def page_table(logs: list[SessionLog], pages: tuple[Page, ...], baseline: dict[str, float] | None = None) -> list[str]:
    """A Markdown table: runs, p50, p95, max and errors per page, and all pages together (with
    each page's time alone on the server, when measured)."""
    baseline = baseline or {}
    lines = ["| page | alone p50 (s) | runs | p50 (s) | p95 (s) | max (s) | errors |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    everything = [(p, r) for log in logs for p, r in log.runs]
    groups = [(p.label, [(q, r) for q, r in everything if q == p]) for p in pages] + [("all pages", everything)]
    for label, runs in groups:
        seconds = [r.seconds for _, r in runs]
        errors = sum(1 for p, r in runs if page_error(p, r))
        solo = f"{baseline[label]:.2f}" if label in baseline else ""
        lines.append(f"| {label} | {solo} | {len(runs)} | {percentile(seconds, 50):.2f} | "
                     f"{percentile(seconds, 95):.2f} | {max(seconds, default=float('nan')):.2f} | {errors} |")
    return lines


def budget_return(directorate: str, quarter: str, lines: int, tag: str) -> bytes:
    """A valid budget return of `lines` lines for the demo council's wards."""
    rows = [f"{directorate},{quarter},{tag} line {i},E0590{i % 24 + 1:04d},{1000 + i},{i % 7 * 10},"
            f"{'community_grants' if i % 7 else ''}\n" for i in range(lines)]
    return ("directorate,quarter,budget_line,ward_code,total_budget_gbp,devolved_gbp,mechanism\n"
            + "".join(rows)).encode()


def cli_load(db: str, file: Path, directorate: str, quarter: str, env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess]:
    """`python -m etl load` of a budget return from a shell; (seconds, the finished process)."""
    started = time.monotonic()
    done = subprocess.run(
        [PYTHON, "-m", "etl", "load", "--db", db, "--return", "budget", "--directorate", directorate,
         "--quarter", quarter, "--accept-warnings", str(file)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})
    return time.monotonic() - started, done


def stored_submissions(db: str, file_name: str) -> list[tuple]:
    """The submissions log rows of `file_name` (id, outcome, row count) and the rows stored for each."""
    from etl import warehouse

    with warehouse.read_only(db) as con:
        return con.execute(
            "SELECT s.submission_id, s.outcome, s.row_count, (SELECT count(*) FROM budget_rows r "
            "WHERE r.submission_id = s.submission_id) FROM submissions s WHERE s.file_name = ? "
            "ORDER BY s.submission_id", [file_name]).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three pages per session, at least")
    parser.add_argument("--lines", type=int, default=2000, help="lines of the budget return loaded meanwhile")
    parser.add_argument("--db", default=None, help="the demo warehouse to serve (default: build one)")
    parser.add_argument("--write", action="store_true", help="update the Load section of BENCHMARKS.md")
    args = parser.parse_args()
    from tests.browser import running_app

    with tempfile.TemporaryDirectory(prefix="localism-load-") as tmp:
        db = args.db or str(Path(tmp) / "demo.duckdb")
        if args.db is None:
            print("building the demo warehouse...", flush=True)
            subprocess.run([PYTHON, "-m", "etl", "demo", "--db", db], cwd=ROOT, check=True, capture_output=True)
        tag = f"load-{int(time.time())}"
        file = Path(tmp) / f"{tag}.csv"
        file.write_bytes(budget_return("Place and Economy", "2026-27 Q1", args.lines, tag))
        with running_app(db, env={"LOCALISM_DEMO": "1"}, timeout=120) as url:
            baseline = alone(url, DEMO_PAGES)
            print(f"{args.sessions} sessions on {url}, then etl load of {args.lines} lines...", flush=True)
            started = time.monotonic()
            logs, (load_s, load) = run_sessions(
                url, lambda: cli_load(db, file, "Place and Economy", "2026-27 Q1"),
                sessions=args.sessions, rounds=args.rounds)
            wall = time.monotonic() - started
        stored = stored_submissions(db, file.name)
    table = page_table(logs, DEMO_PAGES, baseline)
    errors = [e for log in logs for e in log.errors]
    facts = [
        f"etl load: exit {load.returncode} in {load_s:.1f} s ({load.stdout.strip().splitlines()[0] if load.stdout.strip() else load.stderr.strip()[:200]})",
        f"its submission stored {len(stored)} time(s): {stored}",
        f"sessions: {len(logs)}, rounds each: {min(log.rounds(len(DEMO_PAGES)) for log in logs)}-"
        f"{max(log.rounds(len(DEMO_PAGES)) for log in logs)}, wall time {wall:.1f} s, errors {len(errors)}",
        f"throughput: {sum(len(log.runs) for log in logs) / wall:.1f} page runs per second with "
        f"{args.sessions} sessions; one session alone: {1 / statistics.mean(baseline.values()):.1f}",
    ]
    print("\n".join(table))
    print("\n".join(facts))
    for e in errors[:20]:
        print("error:", e)
    if args.write:
        write_section(table, facts, args)


START, END = "<!-- load-sessions:start -->", "<!-- load-sessions:end -->"


def write_section(table: list[str], facts: list[str], args: argparse.Namespace) -> None:
    """Replace the section between the markers in BENCHMARKS.md (append it if absent)."""
    path = ROOT / "BENCHMARKS.md"
    body = "\n".join([
        START,
        "## Load: concurrent sessions while `etl load` runs (`python -m benchmarks.load_sessions --write`)",
        "",
        f"Machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores, load average "
        f"{os.getloadavg()[0]:.1f} when it ended ({dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}). "
        f"The demo council on the embedded warehouse, one `streamlit run` process on loopback.",
        f"{args.sessions} sessions over the app's websocket (as many browser tabs), each rendering the "
        f"overview, a directorate and a ward, at least {args.rounds} rounds; once all had rendered a round, "
        f"`python -m etl load` of a {args.lines:,}-line budget return ran from a shell. A page's time is from "
        "asking for the run to the script-finished message; an error is a run that did not finish, raised, "
        "or lacked the text the page always shows.",
        "",
        *table,
        "",
        *(f"- {f}" for f in facts),
        "",
        "\"alone\" is one session on the same server before the others start (median of 3 after a "
        "warm-up). One server process runs every session's script on its own thread under one "
        "interpreter lock, and DuckDB's queries share the machine's cores with it, so page times grow "
        "with the sessions in flight: the server's throughput (page runs per second) stays about what one "
        "session gets alone, shared among the sessions. For more readers at once, run more app instances "
        "(README, \"Several app instances\"). The figures are cached by the warehouse's snapshot id: the "
        "load's commit changes it, so they are computed again once after it.",
        END,
    ])
    sections.write_section(path, START, END, body)
    print(f"wrote the Load section of {path}")


if __name__ == "__main__":
    main()
