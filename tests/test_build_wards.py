"""`etl build-wards`: ONS's Census 2021, IMD 2019 and lookup files as published -> the wards file.

Real Wigan files are read from ../shared/reference (skipped where absent); the TS007/TS007A/
TS008/TS038 fixtures in tests/fixtures/ons keep ONS's column titles, with and without
'; measures: Value', for three fictional wards and four fictional LSOAs.
"""

from __future__ import annotations

import contextlib
import csv
import io
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from etl import build_wards, ons
from etl.cli import main
from tests.conftest import PYTHON, ROOT, load_reference

FIX = ROOT / "tests" / "fixtures" / "ons"
WARD_FILES = [FIX / f"census2021-{t}-ward.csv" for t in ("ts021", "ts007a", "ts008", "ts038")]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`python -m etl build-wards ARGS` in this process (the CLI's main, its output captured)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["build-wards", *map(str, args)])
        except SystemExit as exc:  # argparse: usage errors and --help
            code = int(exc.code or 0)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def census_args(files: list[Path]) -> list[str | Path]:
    return [x for f in files for x in ("--census", f)]


def test_all_four_dimensions_at_ward_level_build_a_file_that_loads(tmp_path: Path):
    out = tmp_path / "wards.csv"
    res = run(*census_args(WARD_FILES), "--neighbourhoods", FIX / "neighbourhoods.csv", "--out", out)
    assert res.returncode == 0, res.stdout + res.stderr
    wards = pd.read_csv(out, dtype={"ward_code": str}).set_index("ward_code")
    ashby = wards.loc["E05000001"]
    # TS007A Ashby: 15-19 = 349, 20-24 = 374 -> 16-24 = 4/5 * 349 + 374 = 653.2 -> 653
    assert ashby.pop_age_16_24 == 653
    assert ashby.pop_age_25_44 == 848 + 396 + 674 + 896
    assert ashby.pop_age_45_64 == 359 + 819 + 519 + 338
    assert ashby.pop_age_65_plus == 388 + 744 + 728 + 371 + 546
    assert (ashby.pop_female, ashby.pop_male) == (5098, 5040)  # TS008, '; measures: Value' columns
    assert (ashby.pop_disabled, ashby.pop_not_disabled) == (1620, 8515)  # TS038 broad categories
    # TS038's total for Ashby is 10,135 against TS007A's 10,138: the larger is kept
    assert ashby.population_total == 10138
    assert list(wards.neighbourhood) == ["North", "North", "South"]
    assert wards.imd_decile.isna().all()
    assert "takes 4/5 of 'Aged 15 to 19 years'" in res.stdout
    db = tmp_path / "c.duckdb"
    from etl import warehouse

    warehouse.init(db)
    loaded = load_reference(db, kind="wards", content=out.read_bytes(), file_name="wards.csv", user="t")
    assert loaded.ok, loaded.problems


def test_lsoa_tables_and_imd_are_added_up_to_the_lookups_wards():
    built = build_wards.build(
        [FIX / "census2021-ts007-lsoa.csv"],
        imd=[FIX / "imd2019_file1_fixture.csv", FIX / "imd2019_file6_fixture.csv"],
        lookup=FIX / "lsoa21_to_wd25_lookup.csv",
    )
    w = built.wards.set_index("ward_code")
    assert list(w.index) == ["E05000001", "E05000003"]
    # TS007 single years: Ashby = E01000001 + E01000002; 16-24 = 125 + 120 (exact, no apportioning)
    assert w.at["E05000001", "population_total"] == 1510 + 1493
    assert w.at["E05000001", "pop_age_16_24"] == 125 + 120
    # Population-weighted mean rank: (512*1802 + 14230*1458) / 3260 = 6647.2 -> decile ceil(2.02) = 3
    # Dunmore: (29199*2100 + 6001*900) / 3000 = 22239.6 -> decile ceil(6.77) = 7
    assert w.at["E05000001", "imd_decile"] == 3 and w.at["E05000003", "imd_decile"] == 7
    imd = built.imd.set_index("ward_code")
    assert imd.at["E05000001", "imd_mean_rank"] == 6647
    assert imd.at["E05000001", "lsoas_in_deciles_1_2"] == 1  # rank 512 is decile 1
    assert imd.at["E05000003", "imd_most_deprived_share"] == 0.5  # rank 6001 is decile 2
    assert pd.isna(w.at["E05000001", "pop_female"])  # sex not given: unknown, not 0
    assert built.vintage == "WD25"
    assert any("not given, left blank (not known): sex (TS008), ethnicity (TS021), disability (TS038)" in r
               for r in built.report)


def test_age_bands_are_read_as_ons_writes_them():
    assert ons.age_band("Aged 4 years and under") == (0, 4)
    assert ons.age_band("Aged under 1 year") == (0, 0)
    assert ons.age_band("Aged 1 year") == (1, 1)
    assert ons.age_band("Aged 15 to 19 years") == (15, 19)
    assert ons.age_band("Aged 85 years and over")[0] == 85
    assert ons.age_band("Aged 100 years and over")[0] == 100
    assert ons.age_band("Total") is None


def test_rank_to_decile_against_englands_32844_lsoas():
    assert [ons.rank_decile(r) for r in (1, 3284, 3285, 6568, 6569, 32844)] == [1, 1, 2, 2, 3, 10]


def _broken(tmp_path: Path, source: Path, edit) -> Path:
    rows = list(csv.reader(source.open(encoding="utf-8")))
    edit(rows)
    path = tmp_path / source.name
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_sub_categories_that_do_not_add_up_are_rejected(tmp_path: Path):
    def edit(rows):
        rows[2][5] = str(int(rows[2][5]) + 1)  # Castle Quay: one more 'Disabled: limited a lot'

    bad = _broken(tmp_path, FIX / "census2021-ts038-ward.csv", edit)
    res = run("--census", bad, "--out", tmp_path / "w.csv")
    assert res.returncode == 1
    assert "in E05000002 (and 0 more) the sub-categories of 'Disabled under the Equality Act' do not add up" in res.stdout
    assert not (tmp_path / "w.csv").exists()


def test_a_count_that_is_not_a_number_names_its_line_and_column(tmp_path: Path):
    def edit(rows):
        rows[3][4] = "n/a"

    bad = _broken(tmp_path, FIX / "census2021-ts008-ward.csv", edit)
    res = run("--census", bad, "--out", tmp_path / "w.csv")
    assert res.returncode == 1
    assert "line 4, column 'Sex: Female; measures: Value': 'n/a' is not a count" in res.stdout


def test_a_dimension_given_twice_and_an_unknown_table_are_rejected(tmp_path: Path, shared_reference: Path):
    religion = shared_reference / "wigan" / "wigan_census2021_ts030_religion_wd22.csv"
    res = run(*census_args([WARD_FILES[2], WARD_FILES[2], religion]), "--out", tmp_path / "w.csv")
    assert res.returncode == 1
    assert "both give sex" in res.stdout
    assert "'religion' is not a dimension the wards file holds" in res.stdout


def test_lsoa_tables_without_a_lookup_and_imd_without_a_lookup(tmp_path: Path):
    res = run("--census", FIX / "census2021-ts007-lsoa.csv", "--imd", FIX / "imd2019_file1_fixture.csv",
              "--out", tmp_path / "w.csv")
    assert res.returncode == 1
    assert "--imd needs --lsoa-lookup" in res.stdout
    res = run("--census", FIX / "census2021-ts007-lsoa.csv", "--out", tmp_path / "w.csv")
    assert "is at LSOA level; give --lsoa-lookup" in res.stdout


def test_usage_errors_exit_2_and_help_has_examples(tmp_path: Path):
    assert run("--out", tmp_path / "w.csv").returncode == 2
    missing = run("--census", tmp_path / "nope.csv", "--out", tmp_path / "w.csv")
    assert missing.returncode == 2 and "There is no file" in missing.stderr
    helped = subprocess.run([PYTHON, "-m", "etl", "build-wards", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert helped.returncode == 0 and "examples:" in helped.stdout and "4/5 of the 15-19 band" in helped.stdout


# ---------------------------------------------------------------------------------------------
# Wigan's real files


def test_wigan_ts021_totals_match_ons(shared_reference: Path):
    built = build_wards.build([shared_reference / "wigan" / "wigan_census2021_ts021_ethnic_group_wd22.csv"])
    w = built.wards
    assert len(w) == 25 and int(w.population_total.sum()) == 329_325  # ONS's TS021 total for Wigan
    eth = [f"pop_ethnicity_{g}" for g in ("white", "asian", "black", "mixed", "other")]
    assert (w[eth].sum(axis=1) == w.population_total).all()  # the broad groups make up each ward
    assert w.set_index("ward_code").at["E05000840", "pop_ethnicity_asian"] == 273  # Abram, as ONS publishes
    assert w[["pop_age_16_24", "pop_female", "pop_disabled"]].isna().all().all()  # not given: unknown
    assert built.vintage == "WD22"


def test_wigan_census_on_2022_wards_and_lookup_on_2025_wards_is_a_named_vintage_mismatch(
    tmp_path: Path, shared_reference: Path
):
    w = shared_reference / "wigan"
    res = run("--census", w / "wigan_census2021_ts021_ethnic_group_wd22.csv",
              "--imd", shared_reference / "imd2019" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation_4councils.csv",
              "--lsoa-lookup", w / "wigan_lsoa21_to_ward25_bestfit.csv", "--out", tmp_path / "w.csv")
    assert res.returncode == 1
    assert ("wigan_census2021_ts021_ethnic_group_wd22.csv is on WD22 (ONS publishes Census 2021 ward tables on "
            "the May 2022 wards) (25 wards, E05000840-E05000864)") in res.stdout
    assert "wigan_lsoa21_to_ward25_bestfit.csv is on WD25 (its column wd25cd) (25 wards, E05014989-E05015013)" in res.stdout
    assert "census2021-tsNNN-lsoa.csv" in res.stdout
    assert not (tmp_path / "w.csv").exists()


def test_wigan_imd_by_ward_keeps_the_most_deprived_share(shared_reference: Path):
    from etl.read import read_table

    imd_dir = shared_reference / "imd2019"
    lookup_path = shared_reference / "wigan" / "wigan_lsoa21_to_ward25_bestfit.csv"
    lookup = ons.read_lookup(read_table(lookup_path.read_bytes()), lookup_path.name)
    files = ["File_1_-_IMD2019_Index_of_Multiple_Deprivation_4councils.csv",
             "File_6_-_IoD2019_Population_Denominators_4councils.csv"]
    imd = ons.read_imd([(read_table((imd_dir / f).read_bytes()), f) for f in files])
    by_ward, notes = ons.ward_imd(imd, lookup)
    assert int(by_ward.lsoa_count.sum()) == 200
    assert int(by_ward.lsoas_in_deciles_1_2.sum()) == 65  # 65 of Wigan's 200 LSOAs are in deciles 1-2 ...
    assert int((by_ward.lsoas_in_deciles_1_2 > 0).sum()) == 18  # ... spread over 18 wards ...
    assert int((by_ward.imd_decile <= 2).sum()) == 3  # ... yet only 3 wards have a decile of 2 or less
    derived = pd.read_csv(
        shared_reference / "wigan" / "derived" / "wigan_wd23_population2015_and_imd2019_from_lsoa_bestfit.csv"
    ).set_index("wd23cd")
    mine = by_ward.set_index("ward_code")
    assert (mine.imd_mean_rank - derived.imd2019_popweighted_mean_rank).abs().max() <= 1
    assert (mine.lsoas_in_deciles_1_2 == derived.lsoas_in_imd_decile1_2).all()
    assert "mid-2015-population-weighted" in notes[-1]


@pytest.mark.parametrize("council", [None, "E08000010"])
def test_wigan_lookup_reads_with_or_without_a_council_filter(shared_reference: Path, council: str | None):
    from etl.read import read_table

    path = shared_reference / "wigan" / "wigan_lsoa21_to_ward25_bestfit.csv"
    lookup = ons.read_lookup(read_table(path.read_bytes()), path.name, council=council)
    assert len(lookup.ward_of) == 200 and len(lookup.ward_names) == 25 and lookup.vintage == "WD25"


def test_wigan_ts021_alone_builds_a_wards_file_that_loads_with_unknown_dimensions(
    tmp_path: Path, shared_reference: Path
):
    out = tmp_path / "wards.csv"
    res = run("--census", shared_reference / "wigan" / "wigan_census2021_ts021_ethnic_group_wd22.csv", "--out", out)
    assert res.returncode == 0, res.stdout
    assert "not given, left blank (not known): age (TS007/TS007A), sex (TS008), disability (TS038)" in res.stdout
    assert "Wards: 25; population_total 329,325" in res.stdout
    first = out.read_text().splitlines()[1].split(",")
    assert first[:4] == ["E05000840", "Abram", "Abram", "15917"] and first[4:10] == [""] * 6  # blank, not 0
    db = tmp_path / "c.duckdb"
    from etl import warehouse

    warehouse.init(db)
    loaded = load_reference(db, kind="wards", content=out.read_bytes(), file_name="wards.csv", user="t")
    assert loaded.ok, loaded.problems
