"""etl.queries on a small hand-made warehouse: the returns tracker (received / missing / overdue),
the submission history with superseded returns, the newest commentary, and every query runs."""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path

import pandas as pd
import pytest

from etl import commentary, queries, warehouse
from etl.access import Actor, add_commentary_as, set_deadline_as
from etl.records import Outcome
from tests.conftest import BUDGET_HEADER, submit_return

ADULTS, PLACE = "Adults and Health", "Place"
ADMIN = Actor("admin", "admin")
Q = "2025-26 Q2"
T0 = dt.datetime(2025, 10, 3, 9, 30)


def _budget(devolved: int = 100, ward: str = "E05000001", quarter: str = Q) -> bytes:
    return (BUDGET_HEADER + f"{ADULTS},{quarter},Grants pot,{ward},1000,{devolved},participatory_budgeting\n"
            ).encode()


def _submit(db: Path, content: bytes, name: str, at: dt.datetime, user: str = "ann") -> Outcome:
    return submit_return(db, return_type="budget", directorate=ADULTS, quarter=Q, content=content,
                         file_name=name, user=user, received_at=at)


def _read(db: Path, query, *args):  # noqa: ANN001, ANN202
    with warehouse.read_only(db) as con:
        return query(con, *args)


def test_returns_tracker_received_missing_overdue(council: Path) -> None:
    assert _submit(council, _budget(), "b.csv", T0).status == "accepted"
    before = _read(council, queries.returns_tracker, Q, dt.date(2025, 11, 5))
    assert list(before.columns) == ["quarter", "directorate", "return_type", "received_at", "user_name",
                                    "file_name", "row_count", "status", "due", "due_set"]
    assert len(before) == 6  # 2 directorates x 3 returns
    status = before.set_index(["directorate", "return_type"])["status"]
    assert status[(ADULTS, "budget")] == "received"
    assert status[(ADULTS, "engagement")] == "missing"  # no deadline set: the default, 11 Nov, applies
    assert set(before["due"]) == {dt.date(2025, 11, 11)} and not before["due_set"].any()
    assert set(before["quarter"]) == {Q}
    after_default = _read(council, queries.returns_tracker, Q, dt.date(2025, 11, 12))
    assert after_default["status"].value_counts().to_dict() == {"overdue": 5, "received": 1}
    row = before[(before["directorate"] == ADULTS) & (before["return_type"] == "budget")].iloc[0]
    assert row["received_at"] == pd.Timestamp(T0) and row["user_name"] == "ann" and row["row_count"] == 1

    set_deadline_as(ADMIN, council, quarter=Q, due=dt.date(2025, 10, 31))
    on_time = _read(council, queries.returns_tracker, Q, dt.date(2025, 10, 31))
    assert set(on_time["status"]) == {"received", "missing"}  # the deadline day itself is not late
    late = _read(council, queries.returns_tracker, Q, dt.date(2025, 11, 1))
    assert late["status"].value_counts().to_dict() == {"overdue": 5, "received": 1}
    assert set(late["due"]) == {dt.date(2025, 10, 31)} and late["due_set"].all()

    mine = _read(council, queries.returns_tracker, Q, dt.date(2025, 11, 1), [PLACE])
    assert set(mine["directorate"]) == {PLACE} and set(mine["status"]) == {"overdue"}
    other = _read(council, queries.returns_tracker, "2025-26 Q3", dt.date(2026, 2, 11))
    assert set(other["status"]) == {"missing"}  # another quarter: nothing in, default deadline 11 Feb 2026
    assert set(_read(council, queries.returns_tracker, "2025-26 Q3", dt.date(2026, 2, 12))["status"]) == {"overdue"}


def test_submission_history_marks_superseded(council: Path) -> None:
    first = _submit(council, _budget(100), "v1.csv", T0)
    again = _submit(council, _budget(100), "v1-again.csv", T0 + dt.timedelta(minutes=1))
    bad = _submit(council, _budget(ward="E05999999"), "bad.csv", T0 + dt.timedelta(minutes=2))
    second = _submit(council, _budget(200), "v2.csv", T0 + dt.timedelta(minutes=3), user="bob")
    assert (first.status, again.status, bad.status, second.status) == (
        "accepted", "identical", "rejected", "accepted")

    history = _read(council, queries.submission_history)
    assert history["file"].tolist() == ["v2.csv", "bad.csv", "v1-again.csv", "v1.csv"]  # newest first
    assert history["state"].tolist() == ["current", "", "", f"superseded by #{second.submission_id}"]
    assert history["status"].tolist() == ["accepted", "rejected", "identical", "accepted"]
    assert history.loc[0, "who"] == "bob" and history.loc[1, "problems"] == 1
    assert _read(council, queries.submission_history, [PLACE]).empty
    assert len(_read(council, queries.submission_history, [ADULTS])) == 4

    rows = _read(council, queries.submission_rows, "budget", second.submission_id)
    assert rows["line"].tolist() == [2] and float(rows["devolved_gbp"].iloc[0]) == 200
    assert _read(council, queries.archived_file, first.submission_id) == ("v1.csv", _budget(100))
    assert _read(council, queries.archived_file, 999) is None
    newest_reference = _read(council, queries.reference_history)["when"].max()  # loaded today, after T0
    assert _read(council, queries.last_accepted_at) == newest_reference


def test_newest_commentary_wins(council: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _read(council, queries.latest_commentary, ADULTS, Q) is None
    times = iter([T0 + dt.timedelta(hours=1), T0, T0, T0 + dt.timedelta(hours=2)])
    monkeypatch.setattr(commentary, "now", lambda: next(times))
    add_commentary_as(Actor("ann", "admin"), council, directorate=ADULTS, quarter=Q, body="Newest.")
    add_commentary_as(Actor("bob", "admin"), council, directorate=ADULTS, quarter=Q, body="Older.")  # written earlier
    note = _read(council, queries.latest_commentary, ADULTS, Q)
    assert note == {"body": "Newest.", "who": "ann", "when": T0 + dt.timedelta(hours=1)}
    assert _read(council, queries.latest_commentary, PLACE, Q) is None
    assert _read(council, queries.latest_commentary, ADULTS, "2025-26 Q3") is None


def test_commentary_in_the_same_second_the_later_wins(council: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(commentary, "now", lambda: T0)
    for body in ("First.", "Second.", "Third."):
        add_commentary_as(Actor("ann", "admin"), council, directorate=PLACE, quarter=Q, body=body)
    assert _read(council, queries.latest_commentary, PLACE, Q)["body"] == "Third."


def test_reference_deadlines_and_audit(council: Path) -> None:
    dirs = _read(council, queries.directorates)
    assert dirs["directorate"].tolist() == [ADULTS, PLACE]
    assert dirs["short_name"].iloc[0] == "ADH" and pd.isna(dirs["short_name"].iloc[1])
    wards = _read(council, queries.wards)
    assert wards["ward_name"].tolist() == ["Ashby", "Castle Quay", "Dunmore"]  # by neighbourhood, name
    assert _read(council, queries.boundaries).empty
    assert _read(council, queries.reference_history)["kind"].tolist() == ["targets", "wards", "directorates"]
    assert _read(council, queries.deadline_of, Q) is None
    set_deadline_as(ADMIN, council, quarter=Q, due=dt.date(2025, 10, 31))
    set_deadline_as(ADMIN, council, quarter="2025-26 Q3", due=dt.date(2026, 1, 31))
    assert _read(council, queries.deadline_of, Q) == dt.date(2025, 10, 31)
    assert _read(council, queries.deadlines)["quarter"].tolist() == ["2025-26 Q3", Q]
    log = _read(council, queries.audit_log)
    assert set(log["action"]) >= {"deadline"} and len(_read(council, queries.audit_log, 1)) == 1


QUERY_ARGS = {
    "submission_rows": ("budget", 1),
    "archived_file": (1,),
    "deadline_of": (Q,),
    "latest_commentary": (ADULTS, Q),
    "returns_tracker": (Q,),
}


@pytest.mark.parametrize("name", [
    n for n, f in vars(queries).items()
    if inspect.isfunction(f) and f.__module__ == queries.__name__ and not n.startswith("_")
    and n != "default_quarter"
])
def test_every_query_runs_on_the_app_reader(council: Path, name: str) -> None:
    """Each query runs on a Reader cursor (as the app runs it), not only on read_only()."""
    _submit(council, _budget(), "b.csv", T0)
    query, args = getattr(queries, name), QUERY_ARGS.get(name, ())
    with warehouse.Reader(council).cursor() as cur:
        on_reader = query(cur, *args)
    with warehouse.read_only(council) as con:
        expected = query(con, *args)
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(on_reader, expected)
    else:
        assert on_reader == expected
