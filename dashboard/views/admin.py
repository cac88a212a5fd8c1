"""Administration: reference data, deadlines, users and the audit log (administrators only)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from accounts import settings, store
from dashboard import auth, data, exports, submission
from etl import access
from etl import contract as c
from etl.quarters import (
    default_deadline,
    parse_quarter,
    quarter_of_date,
    quarters_between,
    shift_quarter,
)

K = "admin_"
WARD_SETS_WORDS = (
    "Wards are kept in ward sets, each with a vintage and the first quarter it applies to; every "
    "quarter's returns and figures use that quarter's set, and no set is deleted. Left blank, a file "
    "with the codes of a set corrects it, and one with new codes starts a new set after the latest "
    "quarter with returns. Boundaries go into the set whose wards they name.")

st.title("Administration")
actor = auth.require_role("admin", action="administer the dashboard")
db = auth.db_path()

ref_tab, deadline_tab, users_tab, audit_tab = st.tabs(["Reference data", "Deadlines", "Users", "Audit log"])

with ref_tab:
    st.write("Replace a reference table: wards and directorates first, boundaries (GeoJSON) after wards.")
    kind = st.selectbox("Reference table", c.REFERENCE_KINDS, key=K + "kind")
    types = ["geojson", "json"] if kind == "boundaries" else ["csv", "xlsx"]
    upload = st.file_uploader(f"{kind} file", type=types, key=K + "ref_file")
    vintage = first = ""
    if kind in ("wards", "boundaries"):
        st.caption(WARD_SETS_WORDS)
        v1, v2 = st.columns(2)
        vintage = v1.text_input("Ward set (vintage), e.g. WD25: blank to decide from the file", key=K + "vintage")
        if kind == "wards":
            first = v2.text_input("First quarter it applies to, e.g. 2025-26 Q1: blank for the default",
                                  key=K + "first_quarter")
    if upload is not None and st.button(f"Load {kind}", type="primary", key=K + "ref_load"):
        content = upload.getvalue()
        try:
            first_quarter = parse_quarter(first) if first.strip() else None
            with st.spinner(f"Loading {kind}…"):
                out = access.load_reference_as(actor, db, kind=kind, content=content, file_name=upload.name,
                                               vintage=vintage.strip() or None, first_quarter=first_quarter)
        except ValueError as exc:
            st.error(f"First quarter: {exc}")
        except PermissionError as exc:
            st.error(str(exc))
        else:
            if out.ok:
                st.cache_data.clear()
                st.success(out.message)
            else:
                st.error(out.message)
                st.table(submission.problems_frame(out.problems))
                annotated = submission.annotate(content, upload.name, out.problems, sheet=kind)
                if annotated and kind != "boundaries":
                    annotated_bytes, name, mime = annotated
                    st.download_button("Download your file with a problems column", annotated_bytes, file_name=name,
                                       mime=mime, key=K + "ref_annotated")
            for w in out.warnings:
                st.warning(w)
    st.subheader("Ward sets")
    st.dataframe(data.ward_sets(), hide_index=True)
    st.subheader("Reference loads")
    st.dataframe(data.reference_history().drop(columns=["sha256"]), hide_index=True)

with deadline_tab:
    today = dt.date.today()
    this_q = quarter_of_date(today)
    quarters = list(reversed(quarters_between(shift_quarter(this_q, -8), shift_quarter(this_q, 1))))
    q = st.selectbox("Quarter", quarters, index=1, key=K + "dl_quarter")
    current = data.deadline_of(q)
    suggested = current or default_deadline(q)
    due = st.date_input("Returns due by", value=suggested, key=K + "dl_date", format="DD/MM/YYYY")
    if st.button("Save deadline", key=K + "dl_save"):
        try:
            access.set_deadline_as(actor, db, quarter=q, due=due)
        except PermissionError as exc:
            st.error(str(exc))
        else:
            st.cache_data.clear()
            st.success(f"Deadline for {q} set to {submission.long_date(due)}.")
    st.table(submission.deadlines_display(data.deadlines()), hide_index=True)

with users_tab:
    path = settings.users_path()
    accounts = store.all_accounts(path, db)
    st.write(f"Accounts file: `{path}`" + (" (not created yet)" if not path.exists() else ""))
    if accounts:
        st.table(pd.DataFrame([a.public() for a in accounts]))
    st.markdown("Add or change an account on the server (the password is asked for, never stored in clear):")
    st.code("python -m etl add-user --users " + str(path) +
            " --name j.smith --role lead --directorate \"Adults and Health\"", language="bash")
    st.caption("Roles: " + "; ".join(f"**{r}** {d}" for r, d in access.ROLE_DESCRIPTIONS.items()))

with audit_tab:
    log = data.audit_log()
    st.dataframe(log, hide_index=True)
    st.download_button("Download the audit log (CSV)", exports.to_csv_bytes(log),
                       file_name="audit-log.csv", mime="text/csv", key=K + "audit_csv")
