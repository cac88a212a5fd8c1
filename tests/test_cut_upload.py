"""An upload cut off mid-way, against the real server: Streamlit's upload route
(`PUT /_stcore/upload_file/<session>/<file>`, multipart) receives part of a valid return, then the
connection closes (or is reset). The server stays healthy, the warehouse is untouched (no commit,
no submission, no archived file, no temporary file left), and the next upload - a lead in a real
browser - is stored.
"""

from __future__ import annotations

import socket
import struct
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

from accounts import store
from benchmarks.streamlit_client import StreamlitSession
from etl import warehouse
from tests import browser
from tests.test_submit_fixtures import ADULTS, QUARTER, budget_csv, make_warehouse

pytestmark = [*browser.requirements(), pytest.mark.slow]

UPLOAD_ROUTE = "/_stcore/upload_file"  # streamlit/web/server/starlette/starlette_routes.py


def big_return(lines: int = 40_000) -> bytes:
    """A valid budget return of about 3 MB: worth storing, if any of it got through."""
    row = f"{ADULTS},{QUARTER},Line {{i}},E05900001,1000,10,participatory_budgeting\n"
    return (b"directorate,quarter,budget_line,ward_code,total_budget_gbp,devolved_gbp,mechanism\n"
            + "".join(row.format(i=i) for i in range(lines)).encode())


def multipart(content: bytes, file_name: str) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
            "Content-Type: text/csv\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return boundary, body


def put_upload(url: str, session: StreamlitSession, content: bytes, *, send: float = 1.0,
               reset: bool = False) -> bytes | None:
    """PUT an upload as the browser does; send only the fraction `send` of the whole request, then
    close the connection (abruptly with `reset`). Returns the status line if all was sent."""
    address = urlparse(url)
    boundary, body = multipart(content, "budget.csv")
    head = (f"PUT {UPLOAD_ROUTE}/{session.wait_for_session_id()}/{uuid.uuid4().hex} HTTP/1.1\r\n"
            f"Host: {address.netloc}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\nX-Xsrftoken: {session.xsrf}\r\n"
            f"Cookie: _streamlit_xsrf={session.xsrf}\r\nOrigin: {url}\r\n\r\n").encode()
    request = head + body
    conn = socket.create_connection((address.hostname, address.port), timeout=60)
    try:
        conn.sendall(request[: int(len(request) * send)])
        if send >= 1.0:
            return conn.recv(4096).split(b"\r\n", 1)[0]
        time.sleep(0.3)  # the server is now waiting for the rest
        if reset:  # an RST instead of a FIN: the network went away
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return None
    finally:
        conn.close()


def healthy(url: str) -> bool:
    with urllib.request.urlopen(url + "/_stcore/health", timeout=30) as r:
        return r.status == 200 and r.read() == b"ok"


def stored(wh: warehouse.Warehouse) -> tuple[str, list[tuple], list[str]]:
    with wh.read() as con:
        log = con.execute("SELECT submission_id, return_type, outcome, file_name FROM submissions "
                          "ORDER BY submission_id").fetchall()
    return wh.version, log, wh.archived_digests()


# (fraction of the request sent, reset): inside the headers, half-way through the body (closed,
# then reset), and all but the closing boundary.
CUTS = ((0.00002, False), (0.5, False), (0.5, True), (0.99999, False))


def test_an_upload_cut_off_mid_way_stores_nothing_and_the_next_upload_lands(tmp_path: Path):
    db = make_warehouse(tmp_path / "w.duckdb")
    wh = warehouse.open_warehouse(db)
    before = stored(wh)
    scratch = tmp_path / "server-tmp"  # the server's TMPDIR, where Starlette spools big request bodies
    scratch.mkdir()
    good = tmp_path / "adults-budget.csv"
    good.write_bytes(budget_csv())
    env = {"LOCALISM_DEMO": "1", "LOCALISM_USERS": str(tmp_path / "users.json"), "TMPDIR": str(scratch)}
    content = big_return()
    assert len(content) > 2_000_000

    with browser.running_app(db, env=env) as url:
        with StreamlitSession(url) as session:
            for send, reset in CUTS:
                assert put_upload(url, session, content, send=send, reset=reset) is None
                assert healthy(url), (send, reset)
            # The session that sent them still runs pages, and a whole upload is still taken
            # (held for the page; stored only when a lead confirms it).
            page = session.run_page("")
            assert page.ok and "No returns have been loaded yet" in page.text, page.status
            assert put_upload(url, session, content) == b"HTTP/1.1 204 No Content"
        assert stored(wh) == before  # no commit at all: same snapshot, log and archive
        assert list(scratch.iterdir()) == []  # no named temporary file left behind

        # The next write: a lead signs in, uploads a return and confirms it, in a real browser.
        with browser.chromium() as chrome:
            page = browser.new_page(chrome)
            page.goto(f"{url}/submit")
            browser.wait_for_app(page)
            main = page.locator('[data-testid="stMain"]')
            main.get_by_role("textbox", name="User name").fill("demo-lead-adh")
            main.get_by_role("textbox", name="Password").fill(store.DEMO_PASSWORD)
            main.get_by_role("button", name="Sign in").click()
            main.get_by_text("Upload the return").wait_for()
            browser.wait_for_app(page)
            main.get_by_role("combobox", name="Quarter").click()
            page.get_by_role("option", name=QUARTER).click()
            browser.wait_for_app(page)
            main.locator('input[type="file"]').set_input_files(str(good))
            browser.wait_for_app(page)
            main.get_by_role("button", name="Check the file").click()
            main.get_by_text("Not stored yet").wait_for()
            browser.wait_for_app(page)
            main.get_by_role("button", name="Confirm and store").click()
            main.get_by_text("Accepted: 2 rows").wait_for()
        assert healthy(url)

    version, log, archived = stored(wh)
    assert version != before[0]
    assert log[len(before[1]):] == [(len(before[1]) + 1, "budget", "accepted", "adults-budget.csv")]
    assert len(archived) == len(before[2]) + 1
    with wh.read() as con:
        assert con.execute("SELECT count(*), sum(total_budget_gbp) FROM budget").fetchone() == (2, 400000)
