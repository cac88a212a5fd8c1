"""Send a return: choose it, download a template, attach the file, check it, then confirm.

Nothing is checked or recorded until the lead presses "Check the file". A check that finds
problems (or an identical re-send) is recorded in the submission log then; a clean file is only
previewed, and stored when the lead confirms. The outcome, any figures to confirm and the Confirm
button come first; the detail (rows, KPIs before and after) follows.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import streamlit as st

from dashboard import auth, data, submission, theme
from etl import access, templates
from etl import contract as c
from etl.quarters import quarter_of_date, quarters_between, shift_quarter
from etl.read import refused_file_type

K = "submit_"  # widget key prefix for this page
CHECK = K + "check"  # the last check: {"key": (sha256, return, directorate, quarter), "preview": Preview}
STORED = K + "stored"  # confirmed checks: key -> (final outcome, commentary stored)
SHOWN_WARNINGS = 3  # queried figures listed beside the tick box; the rest one click away

st.title("Send a return")
actor = auth.require_role("lead", "admin", action="send returns")
db = auth.db_path()

allowed = data.directorates() if actor.is_admin else data.visible_directorates(actor)
if not allowed:
    st.error("No directorate of this council is linked to your account. Ask an administrator.")
    st.stop()

today_quarter = quarter_of_date(dt.date.today())
default_q = data.default_quarter()
quarters = list(reversed(quarters_between(shift_quarter(today_quarter, -12), shift_quarter(today_quarter, -1))))
if default_q not in quarters:
    quarters.insert(0, default_q)

col1, col2, col3 = st.columns(3)
return_type = col1.selectbox("Return", c.RETURN_TYPES, format_func=lambda r: c.RETURN_TITLES[r], key=K + "return")
quarter = col2.selectbox("Quarter", quarters, index=quarters.index(default_q), key=K + "quarter",
                         help="Defaults to the most recent quarter that has ended (see README).")
directorate = col3.selectbox("Directorate", allowed, key=K + "directorate")
due = data.deadline_of(quarter)
if due:
    st.caption(f"Deadline for {quarter}: {submission.long_date(due)}")
title = c.RETURN_TITLES[return_type]

with st.expander(f"Templates and guidance: {title.lower()}, {directorate}, {quarter}", expanded=False):
    st.write(f"One file is one return: the **{title.lower()}** of one directorate for one quarter. "
             "Every row repeats the directorate and quarter. The Excel template is made for the return, "
             "quarter and directorate chosen above: both are filled in, and every column with a fixed "
             "list (wards included) has a drop-down.")
    wards = data.wards()
    t1, t2 = st.columns(2)
    t1.download_button("Download CSV template", templates.template_csv(return_type),
                       file_name=f"{return_type}-template.csv", mime="text/csv", key=K + "tpl_csv")
    t2.download_button("Download Excel template",
                       templates.template_xlsx(
                           return_type, directorate=directorate, quarter=quarter,
                           wards=list(zip(wards["ward_code"], wards["ward_name"], wards["neighbourhood"],
                                          strict=True))),
                       file_name=f"{return_type}-{submission.file_slug(directorate)}-{submission.file_slug(quarter)}.xlsx",
                       key=K + "tpl_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    st.table(templates.guidance(return_type, quarter, directorate))

# The file and the button that checks it side by side: the report, Confirm included, starts higher.
file_col, check_col = st.columns([5, 1], vertical_alignment="bottom")
upload = file_col.file_uploader("Upload the return (CSV or Excel .xlsx)", key=K + "file",
                                help="Attach the file as it is: the page names any other kind and says what to do.")

if upload is None:
    st.session_state.pop(CHECK, None)
    st.caption("Attach the file, then press Check the file. Reloading the page keeps you signed in "
               "but lets go of an attached file: attach it again.")
    st.stop()

shown_name = theme.md_escape(upload.name)  # a file name is user text: never markdown
refused = refused_file_type(upload.name)
if refused:
    st.session_state.pop(CHECK, None)  # the report of an earlier file no longer applies
    st.error(theme.md_escape(refused), icon=":material/block:")
    st.stop()

content = upload.getvalue()
key = (hashlib.sha256(content).hexdigest(), return_type, directorate, quarter)
check = st.session_state.get(CHECK)

if check_col.button("Check the file", type="primary" if check is None or check["key"] != key else "secondary",
                    key=K + "check_button", width="stretch"):
    try:
        with st.spinner(f"Checking {shown_name} ({len(content) / 1024:,.0f} KB): reading and validating every row…"):
            pre = submission.preview(actor, db, return_type=return_type, directorate=directorate,
                                     quarter=quarter, content=content, file_name=upload.name)
            if pre.outcome.status != "accepted":
                # The lead asked for this check: a rejection or identical re-send is recorded now.
                outcome = access.submit_as(actor, db, return_type=return_type, directorate=directorate,
                                           quarter=quarter, content=content, file_name=upload.name)
                pre = submission.Preview(outcome)
                st.cache_data.clear()
    except PermissionError as exc:
        st.error(str(exc))
        st.stop()
    check = {"key": key, "preview": pre}
    st.session_state[CHECK] = check

if check is None:
    st.info(f"{shown_name} is attached. Press **Check the file**: nothing is checked or recorded until you do.")
    st.stop()
if check["key"] != key:
    if check["key"][0] == key[0]:
        st.warning("The return, quarter or directorate changed since this file was checked, so its report "
                   "is cleared. Press **Check the file** to check it again.")
    else:
        st.info(f"{shown_name} is attached. Press **Check the file**: nothing is checked or recorded until you do.")
    st.stop()

pre: submission.Preview = check["preview"]
outcome = pre.outcome

if outcome.status == "rejected":
    st.error(f"**Not stored.** {outcome.message}")
    annotated = submission.annotate(content, upload.name, outcome.problems, sheet=return_type)
    if annotated:
        annotated_bytes, name, mime = annotated
        st.download_button("Download your file with a problems column", annotated_bytes, file_name=name, mime=mime,
                           key=K + "annotated", type="primary")
    st.subheader(f"Problems ({len(outcome.problems)})")
    st.table(submission.problems_frame(outcome.problems))
    st.stop()

if outcome.status == "identical":
    st.info(f"**Nothing to store.** {outcome.message}")
    st.stop()

stored = st.session_state.get(STORED, {})
if key in stored:
    final, noted = stored[key]
    if final.status == "accepted":
        st.success(f"**Stored** as submission {final.submission_id}. {final.message}", icon=":material/check_circle:")
        st.markdown("The dashboard's figures now include it; the Submission history page lists it."
                    + (" Your commentary was stored with it." if noted else ""))
    else:
        {"identical": st.info}.get(final.status, st.error)(final.message)
    st.stop()

# A dry run accepted it: the outcome, what to confirm and the Confirm button first, the detail after.
n = outcome.row_count
rows = f"{n:,} row{'s' if n != 1 else ''} of the {title.lower()} for {directorate}, {quarter}"
queried = len(outcome.warnings)
replaces = (f" Storing it replaces submission {outcome.superseded}, the {title.lower()} already accepted for "
            f"{directorate}, {quarter}; the older one stays in the history." if outcome.superseded else "")
with st.container(border=True):
    if queried:
        st.warning(f"**Not stored yet.** No problems found in {rows}, but {queried} figure"
                   f"{'s look' if queried != 1 else ' looks'} implausible against the directorate's own history "
                   "or the ward's residents. Check the figures below, tick the box if they are right, then press "
                   "**Confirm and store**." + replaces, icon=":material/pending:")
        st.markdown("\n".join(f"- {theme.md_escape(w)}" for w in outcome.warnings[:SHOWN_WARNINGS]))
        if queried > SHOWN_WARNINGS:
            with st.expander(f"{queried - SHOWN_WARNINGS} more figures to check"):
                st.markdown("\n".join(f"- {theme.md_escape(w)}" for w in outcome.warnings[SHOWN_WARNINGS:]))
    else:
        st.warning(f"**Not stored yet.** No problems found: {rows} {'is' if n == 1 else 'are'} ready. Press "
                   f"**Confirm and store** to store {'it' if n == 1 else 'them'}." + replaces, icon=":material/pending:")
    with st.form(K + "confirm_form", border=False):
        checked = True
        if outcome.warnings:
            checked = st.checkbox("I have checked the figures above and they are right", key=K + "accept_warnings")
        with st.expander("Add commentary (optional)"):
            note = st.text_area(f"Commentary for {directorate}, {quarter}", key=K + "commentary",
                                help="Shown with the directorate's figures; the newest commentary counts.")
        go = st.form_submit_button("Confirm and store", type="primary")
    if go and not checked:
        st.error("Nothing was stored: tick the box to confirm the figures queried above, or fix the file "
                 "and check it again.")
    elif go:
        try:
            with st.spinner("Storing…"):
                final = access.submit_as(actor, db, return_type=return_type, directorate=directorate,
                                         quarter=quarter, content=content, file_name=upload.name, commentary=note,
                                         accept_warnings=bool(outcome.warnings))
        except PermissionError as exc:
            st.error(str(exc))
            st.stop()
        st.cache_data.clear()
        stored[key] = (final, bool(note.strip()) and final.status == "accepted")
        st.session_state[STORED] = stored
        st.rerun()

st.subheader("What will change")
st.dataframe(submission.rows_display(pre.rows, return_type), hide_index=True,
             height=min(400, 38 + 35 * max(1, len(pre.rows))))
if pre.kpi_error:
    st.caption(pre.kpi_error)
elif not pre.kpis.empty:
    st.markdown(f"**KPIs for {directorate}, {quarter}: before and after**")
    st.table(submission.kpi_display(pre.kpis).drop(columns="kpi").set_index("KPI"))
