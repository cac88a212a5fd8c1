"""The dashboard: every page opens (AppTest) and shows what kpis computes; charts, exports, tables.

The demo warehouse is built once per session (tests/browser.py: demo_warehouse) and shared with
the browser tests.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import charts, exports, tables, theme
from tests import browser as helpers

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard" / "app.py")
MY_PAGES = ("views/overview.py", "views/directorates.py", "views/neighbourhoods.py", "views/methods.py")
# Written by another engineer; opened here (no exception) only once their files exist.
LEAD_PAGES = tuple(p for p in ("views/submit.py", "views/history.py", "views/admin.py")
                   if (ROOT / "dashboard" / p).exists())


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return helpers.demo_warehouse(tmp_path_factory)


@pytest.fixture
def warehouse_env(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOCALISM_DB", str(demo_db))
    return demo_db


def _app(**query: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["_test"] = "1"  # never read the developer's own secrets.toml
    for key, value in query.items():
        at.query_params[key] = value
    return at


def _kpis(db: Path):
    import kpis
    from etl import warehouse

    return kpis, warehouse.read_only(db)


def _metric_values(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


# ---------------------------------------------------------------------------------------------
# AppTest: pages


def test_every_page_opens_without_exception(warehouse_env: Path) -> None:
    at = _app().run()
    assert not at.exception, at.exception
    for page in MY_PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])
        assert at.title, page
    for page in LEAD_PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)


def _nav_links(at) -> list[str]:
    return [link.proto.label for link in at.sidebar.get("page_link")]


def test_navigation_lists_only_the_pages_the_reader_may_use(warehouse_env: Path) -> None:
    council = ["Overview", "Directorates", "Neighbourhoods and wards", "Data and methods"]
    at = _app().run()
    assert _nav_links(at) == council
    at.session_state["auth_actor"] = {"name": "Lead", "role": "lead",
                                      "directorates": ["Place and Economy"], "email": None}
    at.run()
    assert _nav_links(at) == [*council, "Submit a return", "Submission history"]
    at.session_state["auth_actor"] = {"name": "Admin", "role": "admin", "directorates": [], "email": None}
    at.run()
    assert _nav_links(at) == [*council, "Submit a return", "Submission history", "Administration"]
    # A page not listed still opens by its address, and says who may use it.
    at.session_state["auth_actor"] = {"name": "Viewer", "role": "viewer", "directorates": [], "email": None}
    at.switch_page("views/admin.py").run()
    assert not at.exception
    assert any("admin may administer" in w.value for w in at.warning)


def test_overview_tiles_equal_kpis_for_latest_quarter(warehouse_env: Path) -> None:
    kpis, connect = _kpis(warehouse_env)
    with connect as con:
        latest = kpis.quarters_with_data(con)[-1]
        expected = kpis.kpi_values(con, kpis.Scope((latest,)))
    at = _app().run()
    assert at.sidebar.selectbox[0].value == latest
    assert at.query_params["quarter"] == latest
    shown = _metric_values(at)
    for k in kpis.KPIS:
        assert shown[k.title] == theme.fmt_kpi(expected[k.name], k.unit), k.name


def test_changing_quarter_changes_tiles(warehouse_env: Path) -> None:
    kpis, connect = _kpis(warehouse_env)
    with connect as con:
        first = kpis.quarters_with_data(con)[0]
        expected = kpis.kpi_values(con, kpis.Scope((first,)))
    at = _app().run()
    at.sidebar.selectbox[0].set_value(first).run()
    assert at.query_params["quarter"] == first
    shown = _metric_values(at)
    assert shown["Participation per 1,000 residents"] == theme.fmt_kpi(
        expected["participation_per_1000"], "rate")
    assert shown["Devolved budget share"] == theme.fmt_kpi(expected["devolved_budget_share"], "share")


def test_quarter_from_the_url(warehouse_env: Path) -> None:
    at = _app(quarter="2024-25 Q3").run()
    assert at.sidebar.selectbox[0].value == "2024-25 Q3"
    at = _app(quarter="not a quarter").run()  # ignored, falls back to the latest
    assert not at.exception
    assert at.sidebar.selectbox[0].value != "not a quarter"


def test_ward_profile_equals_kpis(warehouse_env: Path) -> None:
    kpis, connect = _kpis(warehouse_env)
    with connect as con:
        latest = kpis.quarters_with_data(con)[-1]
        ward = "E05900017"
        values = kpis.kpi_values(con, kpis.Scope((latest,), wards=(ward,)))
        like = kpis.like_for_like(con, kpis.Scope((latest,), wards=(ward,)))
        all_wards = dict(zip(like["kpi"], like["all_wards"], strict=True))
        cold = kpis.cold_spots(con, latest)
    name = cold.loc[cold["ward_code"] == ward, "ward_name"].iloc[0]
    neighbourhood = cold.loc[cold["ward_code"] == ward, "neighbourhood"].iloc[0]
    at = _app(neighbourhood=neighbourhood, ward=ward).run()
    at.switch_page("views/neighbourhoods.py").run()
    assert not at.exception, at.exception
    shown = _metric_values(at)
    assert shown[f"Participation per 1,000 residents, {name}"] == theme.fmt_kpi(
        values["participation_per_1000"], "rate")
    assert shown["Participation per 1,000 residents, compared with all wards"] == theme.fmt_kpi(
        all_wards["participation_per_1000"], "rate")
    profile = next(t.value for t in at.table if name in t.value.columns)
    row = profile[profile["KPI"] == "Feedback rate"].iloc[0]
    assert row[name] == theme.fmt_kpi(values["feedback_rate"], "share")
    # the filters are in the URL
    assert at.query_params["ward"] == ward
    assert at.query_params["neighbourhood"] == neighbourhood
    assert at.query_params["kpi"] == "participation_per_1000"


def test_neighbourhood_filter_limits_ward_choices(warehouse_env: Path) -> None:
    at = _app(neighbourhood="Northmoor").run()
    at.switch_page("views/neighbourhoods.py").run()
    ward_box = next(s for s in at.selectbox if s.label == "Ward")
    codes = [o for o in ward_box.options if o]
    assert codes and len(codes) < 24
    assert not at.exception


def test_directorate_page_from_url(warehouse_env: Path) -> None:
    at = _app(directorate="Environment and Transport").run()
    at.switch_page("views/directorates.py").run()
    assert not at.exception, at.exception
    assert next(s for s in at.selectbox if s.label == "Directorate").value == "Environment and Transport"
    # The demo lead's commentary for the latest quarter (sample_data/commentary.csv).
    assert any("highways capital programme" in m.value for m in at.markdown)


def test_new_load_shows_without_restart(demo_db: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A write commits a new snapshot: the next run shows it (the reader.version cache key)."""
    from etl import warehouse
    from etl.access import Actor, add_commentary_as

    db = tmp_path / "fresh.duckdb"
    warehouse.migrate(demo_db, db)  # a copy of the demo, made the product's way
    monkeypatch.setenv("LOCALISM_DB", str(db))
    at = _app(directorate="Place and Economy", quarter="2025-26 Q4").run()
    at.switch_page("views/directorates.py").run()
    assert any("No commentary" in m.value for m in at.markdown)
    body = "<script>alert(1)</script> **Budget** =SUM(A1) [link](http://example.com)"
    add_commentary_as(Actor("Lead", "admin"), db, directorate="Place and Economy", quarter="2025-26 Q4", body=body)
    at.run()
    assert not at.exception, at.exception
    shown = [m.value for m in at.markdown if "alert" in m.value]
    assert shown, "the new commentary did not appear"
    assert shown[0] == theme.md_escape(body)  # markdown and HTML characters made inert


# ---------------------------------------------------------------------------------------------
# charts.py


def _trend() -> pd.DataFrame:
    return pd.DataFrame({"quarter": ["2025-26 Q2", "2025-26 Q1", "2025-26 Q3"],
                         "value": [0.2, 0.1, None]})


def test_trend_figure_orders_quarters_and_uses_template() -> None:
    fig = charts.trend_figure(_trend(), "Devolved budget share", "share")
    assert isinstance(fig, go.Figure)
    assert list(fig.data[0].x) == ["2025-26 Q1", "2025-26 Q2"]
    assert fig.layout.yaxis.tickformat == ".0%"
    assert fig.layout.template.layout.colorway[0] == theme.OKABE_ITO[0]


def test_trend_description_is_british_and_complete() -> None:
    text = charts.describe_trend(_trend(), "Devolved budget share", "share")
    assert text == "Devolved budget share, by quarter. 10.0% in 2025-26 Q1, 20.0% in 2025-26 Q2."
    empty = charts.trend_figure(_trend().iloc[0:0], "X", "share")
    assert not empty.data and empty.layout.annotations[0].text.startswith("No data")


def test_bar_figure_and_description() -> None:
    df = pd.DataFrame({"mechanism": ["participatory_budgeting", "community_grants"],
                       "devolved_gbp": [1000.0, 250000.0]})
    fig = charts.bar_figure(df, "mechanism", "devolved_gbp", "Devolved", "gbp")
    assert list(fig.data[0].y) == ["Community grants", "Participatory budgeting"]
    assert fig.layout.xaxis.tickprefix == "£"
    assert charts.describe_bars(df, "mechanism", "devolved_gbp", "Devolved", "gbp") == (
        "Devolved: Community grants £250,000; Participatory budgeting £1,000.")


def test_heatmap_and_representation() -> None:
    grid = pd.DataFrame({"method": ["survey", "survey", "workshop", "workshop"],
                         "stage": ["options", "review", "options", "review"],
                         "activities": [3, 0, 1, 2]})
    fig = charts.heatmap_figure(grid, "method", "stage", "activities", "Activities")
    assert fig.data[0].z.tolist() == [[3, 0], [1, 2]]
    eq = pd.DataFrame({"group_label": ["Aged 16-24", "Aged 65+"], "ratio": [0.5, 1.3],
                       "under_represented": [True, False]})
    rep = charts.representation_figure(eq, 0.8)
    assert rep.data[0].marker.pattern.shape == ("/", "")  # a pattern, not colour alone
    assert charts.describe_representation(eq, 0.8) == (
        "Under-represented (ratio below 0.8): Aged 16-24 (0.50).")


def test_ward_map_and_geojson() -> None:
    rows = pd.DataFrame({"ward_code": ["E05000001"], "geometry": [
        '{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}']})
    gj = charts.normalise_geojson(rows)
    assert gj["features"][0]["properties"]["ward_code"] == "E05000001"
    df = pd.DataFrame({"ward_code": ["E05000001"], "ward_name": ["Ashby"], "v": [12.5]})
    fig = charts.ward_map_figure(df, gj, "v", "Participation", "rate", highlight="E05000001")
    assert fig.data[0].featureidkey == "properties.ward_code"
    assert fig.layout.geo.fitbounds == "locations"
    assert fig.data[-1].marker.line.width == 3  # the chosen ward is outlined
    assert [t.type for t in fig.data] == ["choropleth", "scattergeo", "choropleth"]  # values, names, outline
    assert "Ashby (12.5)" in charts.describe_map(df, "v", "Participation", "rate")
    assert (ROOT / "dashboard" / "static" / "world_110m.json").exists()


def test_heatmap_summary_names_totals_and_cells_largest_first() -> None:
    df = pd.DataFrame({"method": ["survey", "workshop", "codesign"], "stage": ["options", "review", "decision"],
                       "activities": [2, 0, 5], "participants": [30, 0, 1200]})
    assert charts.describe_heatmap(df, "Grid") == (
        "Grid: 7 activities, 1,230 participants. Co-design at decision: 5; Survey at options: 2.")


# ---------------------------------------------------------------------------------------------
# exports.py


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\t=1", "\r=1",
                                  '=HYPERLINK("http://x","y")'])
def test_formula_cells_get_an_apostrophe(text: str) -> None:
    assert exports.neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Castle Quay", "", "1-2", " =1", 5, -3.5, None])
def test_other_cells_untouched(value: object) -> None:
    assert exports.neutralise(value) == value


def test_csv_is_safe_and_keeps_numbers() -> None:
    df = pd.DataFrame({"name": ["=cmd|' /C calc'!A0", "Ok"], "value": [-5, 10],
                       "=col": ["@x", "+y"]})
    text = exports.to_csv_bytes(df).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text))
    assert back.columns.tolist() == ["name", "value", "'=col"]
    assert back["name"].tolist() == ["'=cmd|' /C calc'!A0", "Ok"]
    assert back["value"].tolist() == [-5, 10]  # numbers are not text: no apostrophe
    assert back["'=col"].tolist() == ["'@x", "'+y"]


def test_excel_is_safe() -> None:
    df = pd.DataFrame({"partner": ["=1+1", "-SUM(A1)", "Friends of the Park"], "value": [1, -2, 3]})
    book = openpyxl.load_workbook(io.BytesIO(exports.to_excel_bytes({"Sheet: one/two": df})))
    sheet = book.worksheets[0]
    cells = [c.value for c in sheet["A"]][1:]
    assert cells == ["'=1+1", "'-SUM(A1)", "Friends of the Park"]
    assert all(c.data_type != "f" for c in sheet["A"])
    assert [c.value for c in sheet["B"]][1:] == [1, -2, 3]


def test_ward_pack_escapes_and_suppresses() -> None:
    kpi_rows = pd.DataFrame({"KPI": ["Feedback rate"], "Ward <b>": ["50.0%"], "Council": ["70%"]})
    rep = pd.DataFrame({"Dimension": ["Age"], "Group": ["Aged 16-24"], "Participants": ["<5"]})
    gj = {"features": [{"properties": {"ward_code": "E05000001"}, "geometry": {
        "type": "Polygon", "coordinates": [[[0, 50], [1, 50], [1, 51], [0, 50]]]}}]}
    svg = exports.map_svg(gj, "E05000001", "Map <x>", {"E05000001": "<script>"})
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    page = exports.ward_pack_html(
        council="Test & Council", ward_name="<img src=x onerror=alert(1)>", ward_code="E05000001",
        neighbourhood="North & South",
        quarter="2025-26 Q2", kpi_rows=kpi_rows, representation=rep, cold_spot=True,
        figure_html=svg, notes=["a < b"],
    )
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "North &amp; South" in page and "Ward &lt;b&gt;" in page
    assert "<td class=\"num\">&lt;5</td>" in page or "&lt;5" in page
    assert page.startswith("<!DOCTYPE html>") and 'lang="en-GB"' in page
    assert "@media print" in page and "Cold spot" in page
    assert "Test &amp; Council: localism ward pack" in page


def _square(code: str, x: float, y: float) -> dict:
    ring = [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]
    return {"properties": {"ward_code": code}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_council_name_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import data

    monkeypatch.delenv("LOCALISM_COUNCIL_NAME", raising=False)
    monkeypatch.delenv("LOCALISM_DEMO", raising=False)
    assert data.council_name() == "The council"
    monkeypatch.setenv("LOCALISM_DEMO", "1")
    assert data.council_name() == "Demo Borough Council (fictional)"
    monkeypatch.setenv("LOCALISM_COUNCIL_NAME", "Kellbrook Borough Council")
    assert data.council_name() == "Kellbrook Borough Council"


def test_map_svg_places_points_from_bounds_computed_once() -> None:
    # Two unit squares side by side at the equator (cos 0 = 1): 520 px wide, pad 8, so the scale is
    # (520 - 16) / 2 = 252 px per degree and the height 1 * 252 + 16 = 268.
    svg = exports.map_svg({"features": [_square("A", 0, 0), _square("B", 1, 0)]}, "B", "t")
    assert 'viewBox="0 0 520 268"' in svg
    assert 'd="M8.0,260.0 L260.0,260.0 L260.0,8.0 L8.0,8.0 L8.0,260.0 Z" fill="#f2f2f2"' in svg
    assert 'd="M260.0,260.0 L512.0,260.0 L512.0,8.0 L260.0,8.0 L260.0,260.0 Z" fill="#D55E00"' in svg


def test_map_svg_draws_a_local_map_at_national_scale() -> None:
    grid = [_square(f"W{i:05d}", i % 100, i // 100) for i in range(7000)]
    svg = exports.map_svg({"features": grid}, "W03550", "t", max_wards=50)
    assert svg.count("<path") == 50
    assert "<title>W03550</title>" in svg and 'fill="#D55E00"' in svg
    assert "<title>W03551</title>" in svg  # a neighbour
    assert "<title>W00000</title>" not in svg  # the far corner is left out


# ---------------------------------------------------------------------------------------------
# tables.py and theme.py


def test_formats_are_british() -> None:
    assert theme.fmt_gbp(1234567.8) == "£1,234,568"
    assert theme.fmt_pct(0.1234) == "12.3%"
    assert theme.fmt_kpi(None, "share") == "No data"
    assert theme.fmt_kpi(float("nan"), "rate") == "No data"
    assert theme.fmt_change(0.023, "share") == "+2.3 pp"
    assert theme.fmt_change(-3, "count") == "-3"
    assert theme.fmt_change(-0.001, "index") == "0.00"  # rounds to nothing: no sign, no arrow
    assert theme.fmt_change(0.0004, "share") == "0.0 pp"
    assert theme.md_escape("**x** <b>") == "\\*\\*x\\*\\* \\<b\\>"


def test_returns_table_marks_missing_with_words() -> None:
    tracker = pd.DataFrame({
        "directorate": ["A", "A", "A"], "return_type": ["budget", "engagement", "partnerships"],
        "received_at": [pd.Timestamp("2026-04-25 15:56"), pd.NaT, pd.Timestamp("2026-04-26 09:00")],
    })
    table = tables.returns_table(tracker)
    assert table.iloc[0]["Devolved budget return"] == "✔ Received 25 Apr 2026 15:56"
    assert table.iloc[0]["Engagement activity return"] == "✖ Missing"
    assert tables.missing_returns(tracker) == ["A: Engagement activity return"]


def test_comparison_table_words() -> None:
    area = {"devolved_budget_share": 0.3, "active_partnerships": 3, "feedback_rate": None}
    council = {"devolved_budget_share": 0.2, "active_partnerships": 79, "feedback_rate": 0.5}
    table = tables.comparison_table(area, council, "Ward").set_index("KPI")
    assert table.loc["Devolved budget share", "Difference"] == "10.0 pp above council"
    assert table.loc["Active partnerships", "Difference"] == "3 of the council's 79"
    assert table.loc["Feedback rate", "Difference"] == "Not comparable"



def _league() -> pd.DataFrame:
    from kpis import league_assessment

    league = pd.DataFrame({
        "directorate": list("ABCDEF"), "green": [1, 4, 3, 0, 1, 5], "amber": [0] * 6,
        "red": [4, 1, 2, 0, 4, 0], "grey": [4, 4, 4, 9, 4, 4],
        **{k.name: [1234.5 * i for i in range(6)] for k in kpis_module().KPIS},
    })
    return pd.concat([league, league_assessment(league)], axis=1)


def kpis_module():
    import kpis

    return kpis


def test_league_in_league_order_with_lagging_and_returns_in_words() -> None:
    league = _league()
    completeness = pd.DataFrame({
        "directorate": ["A", "A", "B", "B", "C", "C", "D", "D", "E", "E", "F", "F"],
        "return_type": ["budget", "partnerships"] * 6,
        "complete": [True, True, True, False, True, True, True, True, True, True, True, True],
    })
    table, trend = tables.league_table(league, pd.DataFrame(), "participation_per_1000", completeness)
    assert trend["Directorate"].tolist() == ["F", "B", "C", "A", "E", "D"]  # the trend table in the same order
    # F (5 on target, none off) first; D has no KPI assessed: last, 'Not assessed', never lagging.
    assert table["Directorate"].tolist() == ["F", "B", "C", "A", "E", "D"]
    assert table["Rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert table["Lagging"].tolist() == ["", "", "", "Lagging", "Lagging", "Not assessed"]
    assert table.loc[1, "Returns"] == "Incomplete: partnership register not received"
    assert table.loc[0, "Returns"] == "All received"
    assert table.loc[0, "Participation per 1,000 residents"] == "6,172.5"  # thousands separator
    sheet = tables.league_export(league, completeness)
    assert sheet["directorate"].tolist() == ["F", "B", "C", "A", "E", "D"]
    assert sheet["participation_per_1000"].tolist()[0] == 6172.5  # a number, not text
    assert sheet["lagging"].tolist()[-1] == "Not assessed"


def test_pillar_words_take_the_methodology_labels() -> None:
    row = {"kpis": 3, "green": 1, "amber": 0, "red": 1, "grey": 1}
    assert tables.pillar_words(row) == (
        "3 KPIs: ✔ 1 on target, ▲ 0 within 10%, ✖ 1 off target, ○ 1 with no target or no data")


def test_tile_says_incomplete_and_shows_no_change() -> None:
    rag = pd.DataFrame({"kpi": ["active_partnerships"], "value": [81.0], "target": [None],
                        "direction": ["higher_is_better"], "icon": ["○"], "label": ["No target"]})
    words = "5 of 6 directorates' partnership registers received; missing: Children and Families."
    trend = pd.DataFrame({
        "quarter": ["2025-26 Q2", "2025-26 Q3", "2025-26 Q4"], "kpi": ["active_partnerships"] * 3,
        "value": [None, 92.0, 81.0], "change": [None, None, float("nan")],
        "complete": [True, True, False], "comparable": [False, True, False],
        "completeness": ["", "All 6 directorates' partnership registers received.", words],
    })
    tile = tables.headline_rows(rag, trend, "2025-26 Q4")[0]
    assert tile["value"] == "81" and tile["delta"] is None  # a missing register is not a fall
    assert tile["note"] == f"Incomplete: {words}"
    assert tile["status"] == "○ No target"
    assert tile["chart"] == [92.0, 81.0]  # from the first quarter with data
    assert tile["chart_text"] == "Last 2 quarters (2025-26 Q3 to 2025-26 Q4): 92 → 81 (falling)"


def test_returns_table_names_overdue_with_its_date() -> None:
    import datetime as dt

    tracker = pd.DataFrame({"directorate": ["A", "B"], "return_type": ["budget", "budget"],
                            "received_at": [pd.NaT, pd.NaT]})
    overdue = pd.DataFrame({"directorate": ["A"], "return_type": ["budget"], "due": [dt.date(2026, 5, 12)]})
    table = tables.returns_table(tracker, overdue).set_index("Directorate")
    assert table.loc["A", "Devolved budget return"] == "✖ Overdue (due 12 May 2026)"
    assert table.loc["B", "Devolved budget return"] == "✖ Missing"


def _equality(counts: list[int]) -> pd.DataFrame:
    known = sum(counts)
    return pd.DataFrame({
        "dimension": ["ethnicity"] * len(counts), "group": [f"g{i}" for i in range(len(counts))],
        "group_label": [f"Group {i}" for i in range(len(counts))], "participants": counts,
        "known": known, "p_share": [c / known for c in counts], "q_share": [0.5] * len(counts),
        "ratio": [c / known / 0.5 for c in counts], "under_represented": [c / known / 0.5 < 0.8 for c in counts],
        "low_base": known < 30, "eei": 0.9,
    })


def test_representation_shows_nothing_that_gives_a_small_count_back() -> None:
    from kpis import disclose_equality

    # 'White 74, 92.5%' beside '<5' would give 3 back: the 3, its complement and their shares go.
    disclosed = disclose_equality(_equality([74, 3, 3]))
    table = tables.representation_table(disclosed)
    assert table["Participants"].tolist() == ["74", "[c]", "[c]"]
    assert table["Share of participants"].tolist() == ["92.5%", "[c]", "[c]"]
    assert table["Ratio"].tolist()[1:] == ["[c]", "[c]"]
    shown = " ".join(table.astype(str).to_numpy().ravel())
    assert " 3 " not in f" {shown} " and "3.8%" not in shown
    assert tables.chartable(disclosed)["group"].tolist() == ["g0"]  # nothing withheld is drawn
    # a low base is too few to judge, never under-represented
    low = tables.representation_table(disclose_equality(_equality([20, 1, 0])))
    assert set(low["Representation"]) == {"Too few to judge"}
    assert tables.under_represented(disclose_equality(_equality([20, 1, 0]))).empty


def test_ward_compared_with_all_wards_in_words() -> None:
    lfl = pd.DataFrame([{"kpi": k.name, "title": k.title, "unit": k.unit, "area": 0.2 if k.unit != "count" else 3,
                         "all_wards": 0.25 if k.unit != "count" else 69, "difference": None,
                         "borough_wide": 0.1, "council": 0.24 if k.unit != "count" else 81}
                        for k in kpis_module().KPIS])
    table = tables.like_for_like_table(lfl, "Sheepwash").set_index("KPI")
    assert table.loc["Feedback rate", "Difference"] == "5.0 pp below all wards"
    assert table.loc["Feedback rate", "All wards"] == "25.0%"
    assert table.loc["Active partnerships", "Difference"] == "3 of all wards' 69"
    assert table.loc["Feedback rate", "Whole council"] == "24.0%"
    assert table.loc["Feedback rate", "Borough-wide (no ward)"] == "10.0%"


def test_ward_export_is_analysis_ready() -> None:
    frame = pd.DataFrame({"ward_code": ["W1", "W2"], "ward_name": ["A", "B"], "neighbourhood": ["N", "N"],
                          "imd_decile": [1.0, None], "quarter": ["2025-26 Q4"] * 2,
                          **{k.name: [1.5, None] for k in kpis_module().KPIS}})
    council = {k.name: 2.5 for k in kpis_module().KPIS}
    cold = pd.DataFrame({"ward_code": ["W1", "W2"], "rank": [1, 2], "is_cold_spot": [True, False]})
    out = tables.ward_export(frame, {"council": council}, cold)
    assert out.loc[0, "participation_per_1000"] == 1.5 and out.loc[0, "participation_per_1000_council"] == 2.5
    assert out["is_cold_spot"].tolist() == [True, False] and out["cold_spot_rank"].tolist() == [1, 2]
    book = openpyxl.load_workbook(io.BytesIO(exports.to_excel_bytes({"W": out})))
    sheet = book["W"]
    header = [c.value for c in sheet[1]]
    assert isinstance(sheet.cell(2, header.index("participation_per_1000") + 1).value, float)


def test_bounded_lists_keep_the_lowest_and_highest() -> None:
    table = pd.DataFrame({"v": range(100, 0, -1)})
    cut, left_out = tables.lowest_and_highest(table, 10)
    assert len(cut) == 20 and left_out == 80
    assert cut["v"].tolist()[:2] == [100, 99] and cut["v"].tolist()[-1] == 1


def test_count_axes_step_by_whole_numbers() -> None:
    fig = charts.bar_figure(pd.DataFrame({"k": ["a", "b"], "n": [1, 2]}), "k", "n", "t", "count")
    assert fig.layout.xaxis.dtick == 1 and fig.layout.xaxis.tickformat == ",d"
    trend = pd.DataFrame({"quarter": ["2025-26 Q1", "2025-26 Q2"], "value": [2.0, 3.0],
                          "complete": [True, False]})
    fig = charts.trend_figure(trend, "Active partnerships", "count")
    assert fig.layout.yaxis.dtick == 1
    assert list(fig.data[0].marker.symbol) == ["circle", "circle-open"]
    assert charts.describe_trend(trend, "Active", "count").endswith("3 in 2025-26 Q2 (incomplete).")


def test_map_marks_wards_without_data_with_a_pattern_and_names_few_wards() -> None:
    gj = {"features": [_square("W1", 0, 50), _square("W2", 1, 50)]}
    df = pd.DataFrame({"ward_code": ["W1", "W2"], "ward_name": ["Alpha", "Beta"], "v": [1.0, None]})
    fig = charts.ward_map_figure(df, gj, "v", "t", "rate")
    names = [t.name for t in fig.data]
    assert "No data (grey, crossed)" in names
    crosses = next(t for t in fig.data if t.type == "scattergeo" and t.mode == "markers")
    assert list(crosses.lon) == [1.5]
    labels = next(t for t in fig.data if t.type == "scattergeo" and t.mode == "text")
    assert list(labels.text) == ["Alpha", "Beta"]
    assert "1 ward has no data" in charts.describe_map(df, "v", "t", "rate")


def test_map_labels_meet_text_contrast_on_their_own_ward_fill() -> None:
    """WCAG 1.4.3: each ward's name contrasts at least 4.5:1 with that ward's fill, mid-blues included."""
    gj = {"features": [_square(f"W{i}", i, 50) for i in range(11)]}
    df = pd.DataFrame({"ward_code": [f"W{i}" for i in range(11)], "ward_name": [f"Ward {i}" for i in range(11)],
                       "v": [float(i) for i in range(10)] + [None]})
    fig = charts.ward_map_figure(df, gj, "v", "t", "rate")
    labels = next(t for t in fig.data if t.type == "scattergeo" and t.mode == "text")
    fills = [theme.scale_colour(i / 9) for i in range(10)] + [charts.NO_DATA_FILL]
    ratios = [theme.contrast_ratio(fg, bg) for fg, bg in zip(labels.textfont.color, fills, strict=True)]
    assert min(ratios) >= 4.5, ratios
    assert labels.textfont.color[0] == "#000000" and labels.textfont.color[9] == "#ffffff"  # lightest, darkest
    assert theme.scale_colour(0.5) == "#6baed6" and theme.scale_colour(0.625) == "#4690c6"  # Plotly's sRGB mix
    assert round(theme.contrast_ratio("#767676", "#ffffff"), 2) == 4.54  # WCAG's own worked figure


def test_empty_and_missing_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A warehouse with no returns yet opens every page; a missing one says how to make it."""
    from etl import warehouse

    empty = tmp_path / "empty.duckdb"
    warehouse.init(empty)
    monkeypatch.setenv("LOCALISM_DB", str(empty))
    at = _app().run()
    assert not at.exception, at.exception
    for page in MY_PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
    monkeypatch.setenv("LOCALISM_DB", str(tmp_path / "nowhere.duckdb"))
    at = _app().run()
    assert not at.exception
    assert "python -m etl demo" in at.error[0].value


def test_council_setting_puts_the_whole_dashboard_behind_sign_in(warehouse_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALISM_REQUIRE_SIGNIN", "1")
    at = _app().run()
    assert not at.exception, at.exception
    assert not at.metric  # no figures before sign-in
    assert any("needs sign-in" in i.value for i in at.info)
    at.session_state["auth_actor"] = {"name": "Councillor Viewer", "role": "viewer", "directorates": []}
    at.run()
    assert len(at.metric) >= 9  # the overview's KPI tiles
