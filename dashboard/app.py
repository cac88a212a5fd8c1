"""The dashboard's entry point and router: `streamlit run dashboard/app.py` from the project root.

Sets the page config, declares the pages (st.navigation), renders what every page shares (the
sign-in widget and, on the council pages that read it, the quarter picker, whose value is also in
the URL), then runs the page.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts dashboard/ on the path, not the project root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

st.set_page_config(
    page_title="Localism dashboard",
    page_icon="🏘️",  # an emoji favicon is drawn in the browser; a :material: icon is fetched from a font host
    layout="wide",
    initial_sidebar_state="expanded",
)
# Until the page itself draws (the first run of a fresh server imports the KPI engine and opens
# the warehouse: seconds), the main area says so instead of staying blank.
loading = st.empty()
loading.markdown("Loading the dashboard…")

from etl.memory import use_jemalloc  # noqa: E402

use_jemalloc()  # an upload is read and checked in this process (etl/memory.py)

from dashboard import auth, data, state, theme  # noqa: E402,F401  (theme registers the Plotly template)
from etl.quarters import quarters_between  # noqa: E402
from etl.warehouse import WarehouseError  # noqa: E402

PAGES = Path(__file__).resolve().parent / "views"  # not pages/: Streamlit would run that folder as legacy pages

# Streamlit's own sectioned sidebar navigation puts the section headings inside its <ul> (axe:
# list, listitem), so the router hides it and draws the navigation from st.page_link instead: a
# heading per section, a link per page. Each page names the roles that may use it (() = everyone).
ANYONE: tuple[str, ...] = ()
SIGNED_IN = ("viewer", "lead", "admin")
COUNCIL = "Council"  # the section whose pages read the shared quarter picker
SECTIONS: tuple[tuple[str, tuple[tuple[st.Page, tuple[str, ...]], ...]], ...] = (
    (COUNCIL, (
        (st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True), ANYONE),
        (st.Page(PAGES / "directorates.py", title="Directorates", icon=":material/corporate_fare:"), ANYONE),
        (st.Page(PAGES / "neighbourhoods.py", title="Neighbourhoods and wards", icon=":material/map:"), ANYONE),
        (st.Page(PAGES / "methods.py", title="Data and methods", icon=":material/menu_book:"), ANYONE),
    )),
    ("Returns", (
        (st.Page(PAGES / "submit.py", title="Submit a return", icon=":material/upload_file:"), ("lead", "admin")),
        (st.Page(PAGES / "history.py", title="Submission history", icon=":material/history:"), SIGNED_IN),
    )),
    ("Administration", (
        (st.Page(PAGES / "admin.py", title="Administration", icon=":material/admin_panel_settings:"), ("admin",)),
    )),
)
# Every page stays routable (a shared link to a page the reader may not use says why and offers
# sign-in); the sidebar lists only the pages the signed-in reader may use.
page = st.navigation([p for _, pages in SECTIONS for p, _ in pages], position="hidden")


def render_navigation(role: str | None) -> None:
    with st.sidebar:
        for section, pages in SECTIONS:
            usable = [p for p, roles in pages if not roles or role in roles]
            if not usable:
                continue
            st.markdown(f"**{section}**")
            for p in usable:
                st.page_link(p, label=p.title, icon=p.icon)
        if role is None:
            st.markdown("Sign in to send returns or to see the submission history.")


actor = auth.current_user()
render_navigation(actor.role if actor else None)
auth.render_sidebar()
auth.keep_cookie(st.sidebar)
try:
    with_data = data.quarters()
    reporting = data.reporting_status().quarter
except WarehouseError as exc:
    loading.empty()
    st.error(str(exc))
    st.stop()
loading.empty()
# Whether reading needs sign-in is the council's setting (LOCALISM_REQUIRE_SIGNIN); submitting and
# administration always need it, and their pages check the role themselves.
auth.require_viewer()

# The returns and administration pages choose their quarter themselves (the quarter a return is
# for, a deadline's quarter): a second, disagreeing Quarter picker in the sidebar would only
# confuse. Its value is kept meanwhile, so the council pages reopen on the quarter last chosen.
reads_quarter = page.url_path in {p.url_path for section, pages in SECTIONS if section == COUNCIL for p, _ in pages}
with st.sidebar:
    if reads_quarter:
        # Every quarter from the first with data to the current reporting quarter, even one with no
        # return yet (a quarter nobody has sent for is news, not a gap to hide).
        quarters = quarters_between(min([reporting, *with_data[:1]]), max([reporting, *with_data[-1:]]))
        newest_first = list(reversed(quarters))
        state.url_select(
            "Quarter", newest_first, key=state.QUARTER_KEY, param="quarter",
            default=with_data[-1] if with_data else reporting,
            help="Financial-year quarter (Q1 is April to June). Defaults to the latest with data.",
        )
    elif state.QUARTER_KEY in st.session_state:
        st.session_state[state.QUARTER_KEY] = st.session_state[state.QUARTER_KEY]
    if not with_data:
        st.info("No returns have been loaded yet.")
    updated = data.last_updated()
    if updated is not None:
        # Plain text, not st.caption: the caption's faded grey fails contrast on the sidebar.
        st.markdown(f"Data last updated {updated:%-d %B %Y at %H:%M}.")

page.run()
