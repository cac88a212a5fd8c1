"""Submission history per directorate, and the returns tracker: who has not yet sent what."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import auth, data, exports, submission, theme
from etl import contract as c
from etl.quarters import DEFAULT_DEADLINE_AFTER, quarter_of_date, quarters_between, shift_quarter

K = "history_"

st.title("Submissions and deadlines")
actor = auth.require_role("viewer", "lead", "admin", action="see the submission history")
visible = data.visible_directorates(actor)
if not visible:
    st.info("No directorate is linked to your account yet. Ask an administrator.")
    st.stop()

# Returns tracker ---------------------------------------------------------------------------
st.header("Returns tracker")
today = dt.date.today()
this_q = quarter_of_date(today)
default_q = data.default_quarter(today)
quarters = list(reversed(quarters_between(shift_quarter(this_q, -12), this_q)))
quarter = st.selectbox("Quarter to track", quarters, index=quarters.index(default_q) if default_q in quarters else 0,
                       key=K + "quarter")
tracker = data.returns_tracker(quarter, None if actor.role != "lead" else visible, today)
if len(tracker):
    due, due_set = tracker["due"].iloc[0], bool(tracker["due_set"].iloc[0])
    st.caption(f"Deadline for {quarter}: {submission.long_date(due)}" + (" (passed)" if today > due else "")
               + ("" if due_set else f" — the default, {DEFAULT_DEADLINE_AFTER.days // 7} weeks after the quarter ends; an "
                  "administrator can set another on the Admin page."))
outstanding = tracker[tracker["status"] != "received"]
received = len(tracker) - len(outstanding)
st.metric("Returns received", f"{received} of {len(tracker)}")
labels = {"received": "✓ received", "missing": "○ not yet sent", "overdue": "✖ overdue"}
grid = tracker.assign(status=tracker["status"].map(labels),
                      return_type=tracker["return_type"].map(c.RETURN_TITLES)).pivot(
    index="directorate", columns="return_type", values="status")[[c.RETURN_TITLES[r] for r in c.RETURN_TYPES]]
st.table(grid)
if len(outstanding):
    st.markdown("**Not yet sent:** " + "; ".join(
        f"{d}: {c.RETURN_TITLES[r].lower()}" + (" (overdue)" if st_ == "overdue" else "")
        for d, r, st_ in zip(outstanding["directorate"], outstanding["return_type"], outstanding["status"],
                             strict=True)))

# History -----------------------------------------------------------------------------------
st.header("History")
choice = st.selectbox("Directorate", ["All my directorates" if actor.role == "lead" else "All directorates",
                                      *visible], key=K + "directorate")
chosen = visible if choice not in visible else [choice]
history = data.submission_history(chosen)
if history.empty:
    st.info("No returns have been sent yet.")
else:
    icons = {"accepted": "✓ accepted", "rejected": "✖ rejected", "identical": "= identical re-send"}
    shown = history.assign(status=history["status"].map(icons).fillna(history["status"]))
    order = ["id", "return", "directorate", "quarter", "status", "state", "who", "when", "file", "rows",
             "problems", "message"]
    st.dataframe(shown[order], hide_index=True,
                 column_config={"when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
    st.download_button("Download this history (CSV)", exports.to_csv_bytes(history),
                       file_name="submission-history.csv", mime="text/csv", key=K + "csv")
    if actor.is_admin:
        st.subheader("Archived original files")
        sid = st.selectbox("Submission", history["id"].tolist(), key=K + "archive_id",
                           format_func=lambda i: " · ".join(
                               str(v) for v in history.loc[history["id"] == i,
                                                           ["id", "return", "directorate", "quarter", "file"]].iloc[0]))
        archived = data.archived_file(int(sid))
        if archived:
            name, original = archived
            st.download_button(f"Download the original file ({theme.md_escape(name)})", original, file_name=name,
                               key=K + "archive_dl")
