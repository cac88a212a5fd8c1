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

from dashboard import auth, data, state, theme  # noqa: E402,F401  (theme registers the Plotly template)
from etl.warehouse import WarehouseError  # noqa: E402

PAGES = Path(__file__).resolve().parent / "views"  # not pages/: Streamlit would run that folder as legacy pages

st.set_page_config(
    page_title="Localism dashboard",
    page_icon=":material/groups:",
    layout="wide",
    initial_sidebar_state="expanded",
)


navigation = {
    "Council": [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page(PAGES / "directorates.py", title="Directorates", icon=":material/corporate_fare:"),
        st.Page(PAGES / "neighbourhoods.py", title="Neighbourhoods and wards",
                icon=":material/map:"),
        st.Page(PAGES / "methods.py", title="Data and methods", icon=":material/menu_book:"),
    ],
    "Directorate leads": [
        st.Page(PAGES / "submit.py", title="Submit a return", icon=":material/upload_file:"),
        st.Page(PAGES / "history.py", title="Submission history", icon=":material/history:"),
    ],
    "Administration": [
        st.Page(PAGES / "admin.py", title="Administration", icon=":material/admin_panel_settings:"),
    ],
}
page = st.navigation(navigation)

auth.render_sidebar()
# Whether reading needs sign-in is the council's setting (LOCALISM_REQUIRE_SIGNIN); submitting and
# administration always need it, and their pages check the role themselves.
auth.require_viewer()

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
