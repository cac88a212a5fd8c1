"""A small Streamlit client: one browser session over the app's websocket, without a browser.

A Streamlit page is not rendered by an HTTP request: the browser opens `/_stcore/stream` (a
websocket carrying protobuf messages from `streamlit.proto`), sends a `BackMsg` asking for a run
of a page (`rerun_script` with the page's URL name and query string), and the server streams
`ForwardMsg`s (the session, then one `delta` per element) until `script_finished`. This client
does the same, as Streamlit's own frontend does it:

1. `GET /_stcore/health` sets the `_streamlit_xsrf` cookie (XSRF protection is on by default);
2. the websocket is opened with the subprotocols `streamlit, <xsrf token>` and that cookie;
3. `new_session` gives the session id (what an upload to `/_stcore/upload_file/<session>/<file>`
   must name);
4. each `run_page` sends one `rerun_script` and collects the text of every element until the
   run's `script_finished` (an `exception` element, or a run that does not finish, is an error).

Used by the load benchmark (`python -m benchmarks.load_sessions`) and by the tests that need a
real session (tests/test_load_sessions.py, tests/test_cut_upload.py).
"""

from __future__ import annotations

import http.cookies
import time
import urllib.request
from dataclasses import dataclass, field

import websocket  # websocket-client
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

XSRF_COOKIE = "_streamlit_xsrf"
# The string fields of these elements are what a reader sees as text on the page.
_TEXT_ELEMENTS = ("markdown", "heading", "alert", "text", "metric", "exception", "code", "page_link",
                  "button", "selectbox", "text_input", "radio", "checkbox", "download_button", "toast")
_TEXT_FIELDS = {"body", "label", "delta", "message", "options"}  # not ids, icons or help


class SessionError(Exception):
    """The server refused the session, closed it, or a page run did not finish."""


@dataclass
class PageRun:
    """One run of a page: the text it drew, how it finished, and how long it took."""

    page: str
    query: str
    started: float  # time.monotonic() when the run was asked for
    seconds: float
    status: str  # "finished", or the reason it did not
    texts: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "finished" and not self.exceptions

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


def element_texts(element: Element) -> list[str]:
    """The visible strings of one element (labels, bodies, values), empty for charts and tables."""
    kind = element.WhichOneof("type")
    if kind not in _TEXT_ELEMENTS:
        return []
    inner = getattr(element, kind)
    out = []
    for fd, value in inner.ListFields():
        if fd.type != fd.TYPE_STRING or fd.name not in _TEXT_FIELDS:
            continue
        if isinstance(value, str):
            out.append(value)
        else:  # a repeated field (the options of a select box)
            out.extend(v for v in value if v)
    return out


class StreamlitSession:
    """One session of a running app (`base_url` such as http://127.0.0.1:8501)."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.xsrf = self._xsrf_cookie()
        ws_url = "ws" + self.base_url[len("http"):] + "/_stcore/stream"
        try:
            self.ws = websocket.create_connection(
                ws_url, timeout=timeout, subprotocols=["streamlit", self.xsrf],
                cookie=f"{XSRF_COOKIE}={self.xsrf}", origin=self.base_url)
        except (OSError, websocket.WebSocketException) as exc:
            raise SessionError(f"cannot open {ws_url}: {exc}") from exc
        self.session_id: str | None = None
        self.closed = False

    def _xsrf_cookie(self) -> str:
        with urllib.request.urlopen(self.base_url + "/_stcore/health", timeout=self.timeout) as r:
            for header in r.headers.get_all("Set-Cookie") or []:
                jar = http.cookies.SimpleCookie()
                jar.load(header)
                if XSRF_COOKIE in jar:
                    return jar[XSRF_COOKIE].value
        raise SessionError("the server set no XSRF cookie")

    def _receive(self, deadline: float) -> ForwardMsg:
        self.ws.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            frame = self.ws.recv()
        except websocket.WebSocketTimeoutException as exc:
            raise SessionError("timed out waiting for the server") from exc
        except (OSError, websocket.WebSocketException) as exc:
            self.closed = True
            raise SessionError(f"the server closed the session: {exc}") from exc
        if not isinstance(frame, bytes) or not frame:
            self.closed = True
            raise SessionError("the server closed the session")
        msg = ForwardMsg()
        msg.ParseFromString(frame)
        return msg

    def run_page(self, page: str = "", query: str = "") -> PageRun:
        """Ask for a run of `page` (its URL name; "" for the default page) with `query` (a query
        string such as "directorate=Place"), and collect what it draws until it finishes."""
        back = BackMsg()
        back.rerun_script.page_name = page
        back.rerun_script.query_string = query
        started = time.monotonic()
        deadline = started + self.timeout
        run = PageRun(page=page, query=query, started=started, seconds=0.0, status="")
        try:
            self.ws.send_binary(back.SerializeToString())
            while True:
                msg = self._receive(deadline)
                kind = msg.WhichOneof("type")
                if kind == "new_session":
                    self.session_id = msg.new_session.initialize.session_id
                elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    element = msg.delta.new_element
                    if element.WhichOneof("type") == "exception":
                        run.exceptions.append(element.exception.message or element.exception.type)
                    run.texts.extend(element_texts(element))
                elif kind == "page_not_found":
                    run.status = "page not found"
                elif kind == "script_finished":
                    status = msg.script_finished
                    if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        run.texts.clear()  # a rerun the page asked for itself: its text starts again
                        run.exceptions.clear()
                        continue
                    if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                        run.status = "compile error"
                    elif not run.status:
                        run.status = "finished"
                    break
        except (SessionError, OSError, websocket.WebSocketException) as exc:
            run.status = str(exc)
        run.seconds = time.monotonic() - started
        return run

    def wait_for_session_id(self) -> str:
        """The session id (known once the first run has started)."""
        if self.session_id is None:
            self.run_page()
        if self.session_id is None:
            raise SessionError("the server sent no session id")
        return self.session_id

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.ws.close()
            except (OSError, websocket.WebSocketException):
                pass

    def __enter__(self) -> StreamlitSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
