"""Send a return: choose it, download a template, upload, see problems or a preview, confirm."""

from __future__ import annotations

import datetime as dt
import hashlib

import streamlit as st

from dashboard import auth, data, submission, theme
from etl import access, templates
from etl import contract as c
from etl.quarters import quarter_of_date, quarters_between, shift_quarter

K = "submit_"  # widget key prefix for this page

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
    st.caption(f"Deadline for {quarter}: {due:%d %B %Y}")

with st.expander("Templates and guidance", expanded=False):
    st.write(f"One file is one return: the **{c.RETURN_TITLES[return_type].lower()}** of one directorate "
             "for one quarter. Every row repeats the directorate and quarter.")
    t1, t2 = st.columns(2)
    t1.download_button("Download CSV template", templates.template_csv(return_type),
                       file_name=f"{return_type}-template.csv", mime="text/csv", key=K + "tpl_csv")
    t2.download_button("Download Excel template",
                       templates.template_xlsx(return_type, directorates=allowed),
                       file_name=f"{return_type}-template.xlsx", key=K + "tpl_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    st.table(templates.guidance(return_type))

upload = st.file_uploader("Upload the return (CSV or Excel .xlsx)", type=["csv", "xlsx"], key=K + "file")
results = st.session_state.setdefault(K + "results", {})

if upload is None:
    st.stop()

content = upload.getvalue()
digest = hashlib.sha256(content).hexdigest()
key = (digest, return_type, directorate, quarter)

if key not in results:
    try:
        shown_name = theme.md_escape(upload.name)  # a file name is user text: never markdown
        with st.status(f"Checking {shown_name} ({len(content) / 1024:,.0f} KB)…", expanded=False) as status:
            st.write("Reading and validating every row…")
            pre = submission.preview(actor, db, return_type=return_type, directorate=directorate,
                                     quarter=quarter, content=content, file_name=upload.name)
            if pre.outcome.status != "accepted":
                # Rejections and identical re-sends are recorded in the submission log at once.
                st.write("Recording the outcome…")
                outcome = access.submit_as(actor, db, return_type=return_type, directorate=directorate,
                                           quarter=quarter, content=content, file_name=upload.name)
                pre = submission.Preview(outcome)
                st.cache_data.clear()
            status.update(label=f"Checked {shown_name}", state="complete")
    except PermissionError as exc:
        st.error(str(exc))
        st.stop()
    results[key] = pre
pre: submission.Preview = results[key]
outcome = pre.outcome

if outcome.status == "rejected":
    st.error(outcome.message)
    st.subheader(f"Problems ({len(outcome.problems)})")
    st.table(submission.problems_frame(outcome.problems))
    annotated = submission.annotate(content, upload.name, outcome.problems, sheet=return_type)
    if annotated:
        annotated_bytes, name, mime = annotated
        st.download_button("Download your file with a problems column", annotated_bytes, file_name=name, mime=mime,
                           key=K + "annotated")
    st.stop()

if outcome.status == "identical":
    st.info(outcome.message)
    st.stop()

# A dry run accepted it: show what will change and ask for confirmation.
confirmed = st.session_state.get(K + "confirmed", {})
if key in confirmed:
    final, noted = confirmed[key]
    {"accepted": st.success, "identical": st.info}.get(final.status, st.error)(final.message)
    if final.status == "accepted":
        st.caption("Stored. The dashboard's figures now include it; the History page lists it."
                   + (" Your commentary was stored with it." if noted else ""))
    st.stop()

st.success(f"No problems found: {outcome.row_count:,} row{'s' if outcome.row_count != 1 else ''} ready to store.")
if outcome.superseded:
    st.warning(f"This replaces the {return_type} return already accepted for {directorate}, {quarter} "
               f"(submission {outcome.superseded}); the older one stays in the history.")
st.subheader("What will change")
st.dataframe(submission.rows_display(pre.rows), hide_index=True, height=min(400, 38 + 35 * max(1, len(pre.rows))))
if pre.kpi_error:
    st.caption(pre.kpi_error)
elif not pre.kpis.empty:
    st.markdown(f"**KPIs for {directorate}, {quarter}: before and after**")
    st.table(submission.kpi_display(pre.kpis).drop(columns="kpi").set_index("KPI"))

if outcome.warnings:
    st.warning("Please check these figures before you store the return: they look implausible "
               "against the directorate's own history or the ward's residents.")
    st.markdown("\n".join(f"- {theme.md_escape(w)}" for w in outcome.warnings))

with st.form(K + "confirm_form"):
    note = st.text_area(f"Commentary for {directorate}, {quarter} (optional)", key=K + "commentary",
                        help="Shown with the directorate's figures; the newest commentary counts.")
    checked = True
    if outcome.warnings:
        checked = st.checkbox("I have checked the figures above and they are right", key=K + "accept_warnings")
    go = st.form_submit_button("Confirm and store", type="primary")
if go and not checked:
    st.error("Nothing was stored: tick the box to confirm the figures queried above, or fix the file "
             "and upload it again.")
    st.stop()
if go:
    try:
        with st.spinner("Storing…"):
            final = access.submit_as(actor, db, return_type=return_type, directorate=directorate,
                                     quarter=quarter, content=content, file_name=upload.name, commentary=note,
                                     accept_warnings=bool(outcome.warnings))
    except PermissionError as exc:
        st.error(str(exc))
        st.stop()
    st.cache_data.clear()
    confirmed[key] = (final, bool(note.strip()) and final.status == "accepted")
    st.session_state[K + "confirmed"] = confirmed
    st.rerun()
