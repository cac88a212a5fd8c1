"""The dashboard's entry point and router: `streamlit run dashboard/app.py` from the project root.

Sets the page config, declares the pages (st.navigation), renders what every page shares (the
sign-in widget and the quarter picker, whose value is also in the URL), then runs the page.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts dashboard/ on the path, not the project root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import data, state, theme  # noqa: E402,F401  (theme registers the Plotly template)
from etl.warehouse import WarehouseError  # noqa: E402

PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(
    page_title="Localism dashboard",
    page_icon=":material/groups:",
    layout="wide",
    initial_sidebar_state="expanded",
)


def _optional(file: str, title: str, icon: str) -> list[st.Page]:
    """A page written elsewhere, listed only once its file exists (so the app runs before it)."""
    path = PAGES / file
    return [st.Page(path, title=title, icon=icon)] if path.exists() else []


navigation = {
    "Council": [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page(PAGES / "directorates.py", title="Directorates", icon=":material/corporate_fare:"),
        st.Page(PAGES / "neighbourhoods.py", title="Neighbourhoods and wards",
                icon=":material/map:"),
        st.Page(PAGES / "methods.py", title="Data and methods", icon=":material/menu_book:"),
    ],
    "Directorate leads": [
        *_optional("submit.py", "Submit a return", ":material/upload_file:"),
        *_optional("history.py", "Submission history", ":material/history:"),
    ],
    "Administration": _optional("admin.py", "Administration", ":material/admin_panel_settings:"),
}
page = st.navigation({section: pages for section, pages in navigation.items() if pages})

# Sign-in widget: dashboard/auth.py is written by another engineer and may not exist yet. When it
# does and defines render_sidebar(), it draws the sign-in state in the sidebar; until then the
# council pages (which are public) work without it.
try:
    from dashboard import auth as _auth
except ImportError:
    _auth = None
if _auth is not None and callable(getattr(_auth, "render_sidebar", None)):
    _auth.render_sidebar()

try:
    quarters = data.quarters()
except WarehouseError as exc:
    st.error(str(exc))
    st.stop()

with st.sidebar:
    if quarters:
        newest_first = list(reversed(quarters))
        state.url_select(
            "Quarter", newest_first, key=state.QUARTER_KEY, param="quarter",
            default=newest_first[0],
            help="Financial-year quarter (Q1 is April to June). Defaults to the latest with data.",
        )
    else:
        st.info("No returns have been loaded yet.")
    updated = data.last_updated()
    if updated is not None:
        # Plain text, not st.caption: the caption's faded grey fails contrast on the sidebar.
        st.markdown(f"Data last updated {updated:%-d %B %Y at %H:%M}.")

page.run()
