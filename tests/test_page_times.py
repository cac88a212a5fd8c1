"""The page-times benchmark (benchmarks/page_times.py) measures real pages: one run of each
measurement on the tiny council gives a time for every one and finds the texts it waited for.
No time is asserted: the benchmark prints figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import browser as b
from tests.conftest import ENGAGEMENT_HEADER, make_council, submit_return

pytestmark = [*b.requirements(), pytest.mark.slow]


def engagement(quarter: str, month: str, participants: int) -> bytes:
    lines = [ENGAGEMENT_HEADER]
    for i, ward in enumerate(("E05000001", "E05000002", "E05000003")):
        total = participants + i
        lines.append(f"Adults and Health,{quarter},A{i},1{i}/{month}/2025,{ward},survey,options,{total},"
                     f"1,2,3,4,5,6,1,1,1,1,1,2,3,yes\n")
    return "".join(lines).encode()


@pytest.fixture(scope="module")
def two_quarters(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = make_council(tmp_path_factory.mktemp("pages") / "council.duckdb")
    for quarter, month, n in (("2025-26 Q1", "05", 20), ("2025-26 Q2", "08", 30)):
        out = submit_return(db, return_type="engagement", directorate="Adults and Health", quarter=quarter,
                            content=engagement(quarter, month, n), file_name=f"{quarter}.csv", user="test")
        assert out.status == "accepted", out.message
    return db


def test_one_run_of_each_measurement(two_quarters: Path) -> None:
    from benchmarks import page_times

    result = page_times.measure(two_quarters, runs=1, log=lambda _: None)
    subject = result["subjects"]
    assert subject.quarters == ("2025-26 Q2", "2025-26 Q1")
    assert subject.wards == (("E05000001", "Ashby"), ("E05000002", "Castle Quay"))
    assert (subject.ward_count, subject.directorates) == (3, 2)
    measures = {m.name: m for m in result["measures"]}
    assert list(measures) == ["overview, cold first load", "overview ready, warm",
                              "filter change: sidebar Quarter on the overview",
                              "filter change: Ward on Neighbourhoods"]
    for m in measures.values():
        assert len(m.seconds) == 1 and all(s > 0 for s in m.seconds), (m.name, m.seconds)
        assert m.found == [True], m.name  # the page's texts were on it
    # what each waited for: the overview of the other quarter, then the other ward's profile
    assert "Whole council, 2025-26 Q1." in measures["filter change: sidebar Quarter on the overview"].expect
    assert measures["filter change: Ward on Neighbourhoods"].expect == ["Profile: Castle Quay"]
    table = page_times.table(result["measures"], "demo")
    assert len(table) == 2 + 4 and "| overview ready, warm | 1 |" in table[3]
