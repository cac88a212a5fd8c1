"""Locust against a running app: each user is one session rendering the overview, a directorate
and a ward, over the app's websocket (benchmarks/streamlit_client.py), for a soak run.

    locust -f benchmarks/locustfile.py --headless --users 20 --spawn-rate 5 --run-time 5m --stop-timeout 60 \\
        --host http://127.0.0.1:8501 --only-summary

The pages are the demo council's (benchmarks/load_sessions.py, DEMO_PAGES); a run that does not
finish, raises or lacks its page's text is a failure in locust's figures. For the bounded,
coordinated run with a CLI load meanwhile, use `python -m benchmarks.load_sessions`.
"""

from __future__ import annotations

from locust import User, between, task

from benchmarks.load_sessions import DEMO_PAGES, page_error
from benchmarks.streamlit_client import SessionError, StreamlitSession


class StreamlitPages(User):
    """One browser tab's worth of traffic: a session that renders page after page."""

    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.session = StreamlitSession(self.host)

    def on_stop(self) -> None:
        self.session.close()

    @task
    def render_pages(self) -> None:
        for page in DEMO_PAGES:
            run = self.session.run_page(page.name, page.query)
            error = page_error(page, run)
            self.environment.events.request.fire(
                request_type="page", name=page.label, response_time=run.seconds * 1000,
                response_length=len(run.text), exception=SessionError(error) if error else None, context={})
