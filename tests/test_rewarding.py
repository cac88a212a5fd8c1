"""Re-warding (a new ward set over returns on the old wards, docs/ward-vintages.md): every earlier
quarter's figures stay exactly as they were, by council, directorate, neighbourhood and ward,
equality index included; the new quarter uses the new wards; a late return for an old quarter
on the old wards is still accepted. Once on the tiny council, once on Wigan's real 2022 and 2025
wards from ../shared/reference (skipped where absent)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from dashboard import exports
from etl import build_wards, ons, warehouse
from etl.quarters import quarters_between
from etl.read import read_table
from etl.reference import read_reference, ward_set_of
from kpis.__main__ import main as kpis_main
from kpis.engine import BY_CHOICES, Scope, equality_breakdown, kpi_table
from tests.conftest import (
    BUDGET_HEADER,
    DIRECTORATES_CSV,
    ENGAGEMENT_HEADER,
    PARTNERSHIPS_HEADER,
    WARDS_CSV,
    load_reference,
    submit_return,
)

OLD_QUARTERS = ("2025-26 Q1", "2025-26 Q2")
NEW_QUARTER = "2025-26 Q3"


def returns(quarter: str, a: str, b: str, c: str) -> dict[str, str]:
    """Place's three returns for a quarter on wards a, b and c (codes), with a borough-wide row each."""
    return {
        "budget": BUDGET_HEADER
        + f"Place,{quarter},Parks,{a},1000,250,community_grants\n"
        + f"Place,{quarter},Halls,{c},2000,500,participatory_budgeting\n"
        + f"Place,{quarter},Roads,,1000,0,\n",
        "engagement": ENGAGEMENT_HEADER
        + f"Place,{quarter},E-1,{_day(quarter)},{a},workshop,priority_setting,30,5,10,10,5,15,15,20,5,5,0,0,6,24,yes\n"
        + f"Place,{quarter},E-2,{_day(quarter)},{b},survey,options,60,10,20,20,10,30,30,50,5,5,0,0,10,50,no\n"
        + f"Place,{quarter},E-3,{_day(quarter)},,public_meeting,decision,15,0,5,5,5,8,7,15,0,0,0,0,3,12,yes\n",
        "partnerships": PARTNERSHIPS_HEADER
        + f"Place,{quarter},P-1,Hall Trust,vcse,community_asset_transfer,{b},2025-04-10,,,30\n"
        + f"Place,{quarter},P-2,Friends,residents_association,coproduction,{c},2020-01-01,,,\n",
    }


def _day(quarter: str) -> str:
    return {"2025-26 Q1": "2025-05-01", "2025-26 Q2": "2025-08-01", "2025-26 Q3": "2025-11-03"}[quarter]


# The same council after a boundary review: four new wards in new neighbourhoods, with other
# populations and other demographic shares (so a figure on the wrong set would show).
NEW_WARDS = WARDS_CSV.splitlines()[0] + "\n" + """\
E05000011,Ashby North,Uplands,1500,200,400,500,400,700,800,1300,100,50,30,20,300,1200,1
E05000012,Castle Quay and Mill,Uplands,1500,300,400,400,400,800,700,1000,300,100,60,40,200,1300,4
E05000013,Dunmore East,Lowlands,2000,100,900,600,400,1000,1000,1900,50,20,20,10,500,1500,8
E05000014,Dunmore West,Lowlands,1000,100,300,300,300,500,500,900,50,20,20,10,100,900,9
"""


def store(db: Path, quarter: str, texts: dict[str, str], directorate: str = "Place") -> None:
    for rtype, text in texts.items():
        out = submit_return(db, return_type=rtype, directorate=directorate, quarter=quarter, content=text.encode(),
                            file_name=f"{rtype}.csv", user="lead", accept_warnings=True)
        assert out.ok, (rtype, quarter, out.problems)


def kpis_cli_tables(db: Path | str, quarters: tuple[str, ...]) -> dict[tuple[str, str], str]:
    """`python -m kpis table --quarter Q --by B --format csv` for every quarter and breakdown, as printed."""
    printed = {}
    for q in quarters:
        for by in BY_CHOICES:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                assert kpis_main(["table", "--db", str(db), "--quarter", q, "--by", by, "--format", "csv"]) == 0
            printed[(q, by)] = out.getvalue()
    return printed


def equality_rows(db: Path | str, quarter: str) -> list[dict]:
    with warehouse.read_only(db) as con:
        frame = equality_breakdown(con, Scope((quarter,)))
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def test_rewarding_keeps_every_earlier_quarter_and_the_new_quarter_uses_the_new_wards(council: Path):
    for q in OLD_QUARTERS:
        store(council, q, returns(q, "E05000001", "E05000002", "E05000003"))
    before = kpis_cli_tables(council, OLD_QUARTERS)
    before_equality = {q: equality_rows(council, q) for q in OLD_QUARTERS}
    # Worked example, council, each old quarter: devolved 750 of 4,000 = 0.1875; PB 500 / 4,000 =
    # 0.125; participation 1000 * (30 + 60 + 15) / 6,000 = 17.5.
    with warehouse.read_only(council) as con:
        c = kpi_table(con, OLD_QUARTERS[0], "council").iloc[0]
        assert (c.devolved_budget_share, c.pb_share, c.participation_per_1000) == (0.1875, 0.125, 17.5)
        eei_before = c.engagement_equality_index

    # The boundary review: no flags, so the set's vintage comes from the file's name and it starts
    # after the latest quarter with returns.
    out = load_reference(council, kind="wards", content=NEW_WARDS.encode(), file_name="wards_wd26.csv", user="admin")
    assert out.ok, out.problems
    assert out.message == ("Loaded 4 wards rows as ward set WD26, from 2025-26 Q3; quarters before it keep "
                           "set initial.")
    assert not any("row(s) of current returns" in w for w in out.warnings)  # nothing stored is left without a ward
    assert kpis_cli_tables(council, OLD_QUARTERS) == before  # byte for byte, every breakdown
    assert {q: equality_rows(council, q) for q in OLD_QUARTERS} == before_equality

    store(council, NEW_QUARTER, returns(NEW_QUARTER, "E05000011", "E05000012", "E05000014"))
    assert kpis_cli_tables(council, OLD_QUARTERS) == before
    with warehouse.read_only(council) as con:
        wards = kpi_table(con, NEW_QUARTER, "ward").set_index("ward_code")
        hoods = kpi_table(con, NEW_QUARTER, "neighbourhood").set_index("neighbourhood")
        council_new = kpi_table(con, NEW_QUARTER, "council").iloc[0]
        old_wards = kpi_table(con, OLD_QUARTERS[1], "ward")
        assert ward_set_of(con, OLD_QUARTERS[1]) == "initial" and ward_set_of(con, NEW_QUARTER) == "WD26"
    assert list(wards.index) == ["E05000011", "E05000012", "E05000013", "E05000014"]
    assert list(old_wards.ward_code) == ["E05000001", "E05000002", "E05000003"]
    # E05000011: 30 participants of 1,500 residents = 20 per 1,000; E05000013 had no activity.
    assert wards.at["E05000011", "participation_per_1000"] == 20.0
    assert wards.at["E05000013", "participation_per_1000"] == 0.0
    # Uplands (E05000011 + E05000012, 3,000 residents): 30 + 60 participants = 30 per 1,000.
    assert list(hoods.index) == ["Lowlands", "Uplands"] and hoods.at["Uplands", "participation_per_1000"] == 30.0
    # The council: the same rows and 6,000 residents again, so the same participation; its equality
    # index uses the new wards' shares, so it differs from the old quarters'.
    assert council_new.participation_per_1000 == 17.5
    assert council_new.engagement_equality_index != pytest.approx(eei_before)

    # A late return for an old quarter on the old wards is accepted, and checked against them.
    adh = {"engagement": ENGAGEMENT_HEADER
           + "Adults and Health,2025-26 Q2,L-1,2025-08-02,Ashby,survey,options,12,2,4,4,2,6,6,10,1,1,0,0,2,10,yes\n"}
    wrong = {"engagement": adh["engagement"].replace(",Ashby,", ",E05000011,")}
    bad = submit_return(council, return_type="engagement", directorate="Adults and Health", quarter="2025-26 Q2",
                        content=wrong["engagement"].encode(), file_name="late.csv", user="lead")
    assert bad.status == "rejected" and any(p.column == "ward_code" for p in bad.problems)
    store(council, "2025-26 Q2", adh, directorate="Adults and Health")
    after_late = kpis_cli_tables(council, OLD_QUARTERS)
    assert {k: v for k, v in after_late.items() if k[0] == OLD_QUARTERS[0]} == {
        k: v for k, v in before.items() if k[0] == OLD_QUARTERS[0]}
    with warehouse.read_only(council) as con:
        ashby = kpi_table(con, "2025-26 Q2", "ward").set_index("ward_code").loc["E05000001"]
        assert read_reference(con, "2025-26 Q2").ward_codes == ("E05000001", "E05000002", "E05000003")
    assert ashby.participation_per_1000 == 1000 * (30 + 12) / 1000  # the old ward, its own population


def test_a_replaced_ward_has_figures_only_in_its_own_quarters(council: Path):
    """Over a window that spans the change (a trend's rolling year), each quarter's rows join
    that quarter's wards, and a ward is a group only in windows holding one of its quarters."""
    store(council, OLD_QUARTERS[1], returns(OLD_QUARTERS[1], "E05000001", "E05000002", "E05000003"))
    assert load_reference(council, kind="wards", content=NEW_WARDS.encode(), file_name="w.csv", user="admin").ok
    store(council, NEW_QUARTER, returns(NEW_QUARTER, "E05000011", "E05000012", "E05000014"))
    with warehouse.read_only(council) as con:
        both = Scope((OLD_QUARTERS[1], NEW_QUARTER))
        from kpis.engine import kpi_frame

        wards = kpi_frame(con, both, "ward").set_index("grp")
        council_both = kpi_frame(con, both).iloc[0]
    assert sorted(wards.index) == ["E05000001", "E05000002", "E05000003", "E05000011", "E05000012",
                                   "E05000013", "E05000014"]
    assert wards.at["E05000001", "participants"] == 30 and wards.at["E05000011", "participants"] == 30
    # Each set has 6,000 residents: the window's population is their mean, 6,000.
    assert council_both.population == 6000 and council_both.participants == 210


# ---------------------------------------------------------------------------------------------
# Wigan: Census 2021 ward tables on the 2022 wards, then the 2025 wards from May 2023


def _wigan_wd25(shared: Path) -> str:
    """The 2025 wards as a council could build them from ONS's files here: names from the LSOA
    lookup, IMD 2019 deciles and mid-2015 populations from the LSOAs (no census ward table exists
    on these wards in ../shared, so the demographic counts are left blank: not known)."""
    path = shared / "wigan" / "wigan_lsoa21_to_ward25_bestfit.csv"
    lookup = ons.read_lookup(read_table(path.read_bytes()), path.name)
    imd_dir = shared / "imd2019"
    files = ["File_1_-_IMD2019_Index_of_Multiple_Deprivation_4councils.csv",
             "File_6_-_IoD2019_Population_Denominators_4councils.csv"]
    imd = ons.read_imd([(read_table((imd_dir / f).read_bytes()), f) for f in files])
    by_ward, _ = ons.ward_imd(imd, lookup)
    pops = pd.read_csv(shared / "wigan" / "derived" / "wigan_wd23_population2015_and_imd2019_from_lsoa_bestfit.csv")
    frame = pops.rename(columns={"wd23cd": "ward_code", "wd23nm": "ward_name", "pop_mid2015_total": "population_total"})
    frame = frame[["ward_code", "ward_name", "population_total"]].merge(by_ward[["ward_code", "imd_decile"]])
    frame["neighbourhood"] = frame["ward_name"]
    header = WARDS_CSV.splitlines()[0].split(",")
    return frame.reindex(columns=header).to_csv(index=False, lineterminator="\n")


def _wigan_returns(quarter: str, codes: list[str]) -> dict[str, str]:
    day = {"Q1": "05-01", "Q2": "08-01", "Q3": "11-03", "Q4": "02-02"}[quarter[-2:]]
    year = int(quarter[:4]) + (1 if quarter.endswith("Q4") else 0)
    lines_b, lines_e = [BUDGET_HEADER], [ENGAGEMENT_HEADER]
    for i, code in enumerate(codes[:10]):
        lines_b.append(f"Place,{quarter},Line {i},{code},{1000 + 100 * i},{50 * (i + 1)},community_grants\n")
        n = 20 + 7 * i  # participants, with ethnicity known for all of them
        white, asian = n - 4 - i % 3, 2 + i % 3
        lines_e.append(f"Place,{quarter},A-{i},{year}-{day},{code},workshop,options,{n},0,0,0,0,0,0,"
                       f"{white},{asian},1,1,0,0,0,yes\n")
    lines_b.append(f"Place,{quarter},Central,,5000,0,\n")
    return {"budget": "".join(lines_b), "engagement": "".join(lines_e)}


def test_wigan_rewarding_keeps_2022_23_on_the_2022_wards(tmp_path: Path, shared_reference: Path):
    w = shared_reference / "wigan"
    built = build_wards.build([w / "wigan_census2021_ts021_ethnic_group_wd22.csv"])
    assert built.vintage == "WD22"
    db = tmp_path / "wigan.duckdb"
    warehouse.init(db)
    assert load_reference(db, kind="directorates", content=DIRECTORATES_CSV.encode(), file_name="d.csv", user="a").ok
    wd22 = load_reference(db, kind="wards", content=build_wards.wards_csv(built.wards),
                          file_name="wigan_wards_wd22.csv", user="admin")
    assert wd22.ok and wd22.message == "Loaded 25 wards rows as ward set WD22, for every quarter."
    shapes22 = load_reference(db, kind="boundaries", content=(w / "wigan_wards_2022_generalised.geojson").read_bytes(),
                              file_name="wards2022.geojson", user="admin")
    assert shapes22.ok and shapes22.message.endswith("as the shapes of ward set WD22.")
    old_codes = sorted(built.wards["ward_code"])
    year = quarters_between("2022-23 Q1", "2022-23 Q4")
    for q in year:
        store(db, q, _wigan_returns(q, old_codes))
    before = kpis_cli_tables(db, tuple(year))
    with warehouse.read_only(db) as con:
        participation = kpi_table(con, "2022-23 Q4", "council").iloc[0].participation_per_1000
        eei = kpi_table(con, "2022-23 Q4", "council").iloc[0].engagement_equality_index
    assert participation > 0 and not pd.isna(eei)

    wd25 = load_reference(db, kind="wards", content=_wigan_wd25(shared_reference).encode(),
                          file_name="wigan_wards_wd25.csv", user="admin", first_quarter="2023-24 Q1")
    assert wd25.ok, wd25.problems
    assert wd25.message == ("Loaded 25 wards rows as ward set WD25, from 2023-24 Q1; quarters before it keep "
                            "set WD22.")
    shapes25 = load_reference(db, kind="boundaries", content=(w / "wigan_wards_2023_generalised.geojson").read_bytes(),
                              file_name="wards2023.geojson", user="admin")
    assert shapes25.ok and shapes25.message.endswith("as the shapes of ward set WD25.")
    new_codes = sorted(pd.read_csv(io.StringIO(_wigan_wd25(shared_reference)))["ward_code"])
    store(db, "2023-24 Q1", _wigan_returns("2023-24 Q1", new_codes))

    assert kpis_cli_tables(db, tuple(year)) == before  # every 2022-23 table, byte for byte
    with warehouse.read_only(db) as con:
        council = kpi_table(con, "2022-23 Q4", "council").iloc[0]
        assert (council.participation_per_1000, council.engagement_equality_index) == (participation, eei)
        new_wards = kpi_table(con, "2023-24 Q1", "ward")
        assert list(new_wards.ward_code) == new_codes and new_codes[0] == "E05014989"
        shapes = con.execute("SELECT vintage, count(*) FROM ward_boundaries GROUP BY ALL ORDER BY 1").fetchall()
        assert shapes == [("WD22", 25), ("WD25", 25)]
    # A late 2022-23 Q4 return on the 2022 wards (Adults and Health had not sent one) is accepted.
    late = _wigan_returns("2022-23 Q4", old_codes)["budget"].replace("Place,", "Adults and Health,")
    out = submit_return(db, return_type="budget", directorate="Adults and Health", quarter="2022-23 Q4",
                        content=late.encode(), file_name="late.csv", user="lead", accept_warnings=True)
    assert out.ok, out.problems

def _ward_page(quarter: str, ward: str):  # noqa: ANN202 - an AppTest
    """The Neighbourhoods page opened from a link with ?quarter=&ward=."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py"), default_timeout=90)
    at.secrets["_test"] = "1"
    at.query_params["quarter"] = quarter
    at.query_params["ward"] = ward
    at.run()
    return at.switch_page("views/neighbourhoods.py").run()



def test_the_ward_page_names_a_replaced_ward(tmp_path: Path, shared_reference: Path, monkeypatch):
    w = shared_reference / "wigan"
    db = tmp_path / "wigan.duckdb"
    warehouse.init(db)
    assert load_reference(db, kind="directorates", content=DIRECTORATES_CSV.encode(), file_name="d.csv", user="a").ok
    built = build_wards.build([w / "wigan_census2021_ts021_ethnic_group_wd22.csv"])
    assert load_reference(db, kind="wards", content=build_wards.wards_csv(built.wards),
                          file_name="wigan_wards_wd22.csv", user="admin").ok
    store(db, "2022-23 Q4", _wigan_returns("2022-23 Q4", sorted(built.wards["ward_code"])))
    assert load_reference(db, kind="wards", content=_wigan_wd25(shared_reference).encode(),
                          file_name="wigan_wards_wd25.csv", user="admin", first_quarter="2023-24 Q1").ok
    monkeypatch.setenv("LOCALISM_DB", str(db))
    at = _ward_page("2022-23 Q4", "E05000840")
    assert not at.exception, at.exception
    infos = [re.sub(r"\\(.)", r"\1", i.value) for i in at.info]  # as shown: Markdown escapes undone
    notice = ("Abram (E05000840) was replaced in 2023-24 Q1 by Abram (E05014989). Figures to 2022-23 Q4 are on the "
              "old ward; figures from 2023-24 Q1 are on the new wards.")
    assert notice in infos, infos
    # The ward picker lists the wards of the quarter's set: the 2022 wards for 2022-23 Q4.
    ward_box = next(s for s in at.selectbox if s.label == "Ward")
    assert "Abram (E05000840)" in ward_box.options and not any("E0501" in o for o in ward_box.options)
    # The map's shapes and the ward pack say the same (the pack is built from the same notices).
    pack = exports.ward_pack_html(council="Wigan", ward_name="Abram", ward_code="E05000840", neighbourhood="Abram",
                                  quarter="2022-23 Q4", kpi_rows=pd.DataFrame({"KPI": []}),
                                  representation=pd.DataFrame(), cold_spot=False, replaced=[notice])
    assert "<strong>Ward boundaries changed:</strong> Abram (E05000840) was replaced in 2023-24 Q1" in pack
    # In 2023-24 Q1 the picker has the 2025 wards, and a link to the old ward says what became of it.
    at = _ward_page("2023-24 Q1", "E05000840")
    assert not at.exception, at.exception
    ward_box = next(s for s in at.selectbox if s.label == "Ward")
    assert "Abram (E05014989)" in ward_box.options and not any("E05000" in o for o in ward_box.options)
    infos = [re.sub(r"\\(.)", r"\1", i.value) for i in at.info]
    assert f"E05000840 is not a ward in 2023-24 Q1. {notice}" in infos, infos


def _etl(*args: str) -> tuple[int, str, str]:
    from etl.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_load_reference_takes_the_vintage_and_first_quarter_and_keeps_the_contract_form(council: Path,
                                                                                       tmp_path: Path):
    store(council, OLD_QUARTERS[0], returns(OLD_QUARTERS[0], "E05000001", "E05000002", "E05000003"))
    new = tmp_path / "wards.csv"
    new.write_text(NEW_WARDS)
    db = ["--db", str(council), "--as-admin"]
    code, out, err = _etl("load-reference", *db, "wards", str(new), "--vintage", "WD26", "--from", "2026/27 Q1")
    assert code == 0, out + err
    assert "Loaded 4 wards rows as ward set WD26, from 2026-27 Q1; quarters before it keep set initial." in out
    # The contract's form: the same codes again correct the set they belong to.
    code, out, err = _etl("load-reference", *db, "wards", str(new))
    assert code == 0 and "into ward set WD26 (from 2026-27 Q1), replacing its wards" in out, out + err
    code, out, err = _etl("load-reference", *db, "wards", str(new), "--vintage", "WD27", "--from-quarter", "2025-26 Q4")
    assert code == 1 and "must start after the newest one, WD26" in out, out + err
    for bad in (["directorates", str(new), "--from-quarter", "2026-27 Q1"], ["targets", str(new), "--vintage", "X"],
                ["wards", str(new), "--from-quarter", "spring"]):
        code, out, err = _etl("load-reference", *db, *bad)
        assert code == 2 and err.startswith("error: "), (bad, out, err)
    with warehouse.read_only(council) as con:
        sets = con.execute("SELECT vintage, first_quarter FROM ward_sets ORDER BY first_quarter").fetchall()
    assert sets == [("initial", ""), ("WD26", "2026-27 Q1")]
