"""The bad-input corpus: every malformed or hostile file is rejected with a clear message, or
accepted after a correct normalisation; never a crash, never a partial write.

Files: the small text files committed in tests/corpus/, and the binary or huge ones that
tests/corpus/generate.py makes at test time. Each goes through the real command line
(`python -m etl load` / `load-reference`, run in this process for speed).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl import warehouse
from etl.cli import main
from tests.conftest import make_council
from tests.corpus.generate import GENERATED

CORPUS = Path(__file__).with_name("corpus")
Q = "2025-26 Q2"

# Tables that hold data; a rejected file must leave every one of them exactly as it was.
DATA_TABLES = ("budget_rows", "engagement_rows", "partnerships_rows", "wards", "directorates", "targets",
               "boundaries", "commentary", "deadlines")

# file -> (what it is sent as, "rejected" + words the message must contain | "accepted" + rows stored)
REJECTED = "rejected"
ACCEPTED = "accepted"
CASES: dict[str, tuple[str, str, tuple[str, ...] | int]] = {
    # empty and header-only
    "empty.csv": ("partnerships", REJECTED, ("The file is empty",)),
    "blank_lines_only.csv": ("partnerships", REJECTED, ("The file is empty",)),
    "header_only.csv": ("partnerships", ACCEPTED, 0),
    "header_only_bom.csv": ("partnerships", ACCEPTED, 0),
    "header_only_crlf_trailing_blank_lines.csv": ("partnerships", ACCEPTED, 0),
    "directorates_header_only.csv": ("directorates", REJECTED, ("has a header but no rows",)),
    # byte-order marks and encodings
    "bom_utf8.csv": ("partnerships", ACCEPTED, 1),
    "bom_twice.csv": ("partnerships", ACCEPTED, 1),
    "windows1252.csv": ("partnerships", ACCEPTED, 1),
    "utf16le_bom.csv": ("partnerships", REJECTED, ("UTF-16", "CSV UTF-8")),
    "utf16be_bom.csv": ("partnerships", REJECTED, ("UTF-16", "CSV UTF-8")),
    "utf32_bom.csv": ("partnerships", REJECTED, ("UTF-32", "CSV UTF-8")),
    "mixed_encoding.csv": ("partnerships", REJECTED, ("mixes two character encodings", "line 3")),
    "undecodable_bytes.csv": ("partnerships", REJECTED, ("characters cannot be read",)),
    "nul_bytes.csv": ("partnerships", REJECTED, ("line 102 contains a NUL (zero) byte",)),
    # separators and headers
    "semicolons.csv": ("partnerships", ACCEPTED, 1),
    "excel_sep_line.csv": ("partnerships", ACCEPTED, 1),
    "mixed_delimiters.csv": ("budget", REJECTED, ("is separated by ';' but the header by ','",)),
    "tab_separated.csv": ("partnerships", REJECTED, ("separated by tabs",)),
    "duplicated_header.csv": ("budget", REJECTED, ("appears twice in the header",)),
    "header_typo.csv": ("budget", REJECTED, ("did you mean 'total_budget_gbp'",)),
    "no_header.csv": ("budget", REJECTED, ("not a header row",)),
    "header_spacing_case.csv": ("budget", ACCEPTED, 1),
    "trailing_delimiters.csv": ("budget", ACCEPTED, 1),
    "wide_100k_columns.csv": ("partnerships", REJECTED, ("Line 1 has 100,011 values", "at most 1,000 columns")),
    "wide_100k_values.csv": ("partnerships", REJECTED, ("Line 2 has 100,011 values", "at most 1,000 columns")),
    # truncation and quoting
    "truncated_row.csv": ("budget", REJECTED, ("is required but is blank",)),
    "truncated_in_quotes.csv": ("partnerships", REJECTED, ("Check its quote marks",)),
    "stray_quote.csv": ("partnerships", ACCEPTED, 1),  # a quote inside an unquoted value is a character
    "unclosed_quote_runs_to_end.csv": ("partnerships", REJECTED, ("longer than 100,000 characters", "quote marks")),
    "multiline_quoted_cell.csv": ("partnerships", ACCEPTED, 2),
    "cr_only_line_ends.csv": ("budget", ACCEPTED, 2),
    # long cells
    "very_long_cell.csv": ("partnerships", REJECTED, ("longer than 100,000 characters",)),
    "long_text_cell.csv": ("partnerships", REJECTED, ("is longer than 1,000 characters",)),
    "long_budget_line.csv": ("budget", REJECTED, ("is too long or empty (1-200 characters)",)),
    # hostile text: stored as written (exports and pages neutralise it, see test_security.py)
    "formula_injection.csv": ("partnerships", ACCEPTED, 4),
    "html_script.csv": ("partnerships", ACCEPTED, 3),
    "sql_injection.csv": ("partnerships", ACCEPTED, 1),
    "text_direction_override.csv": ("partnerships", REJECTED, ("invisible control character",)),
    "control_characters.csv": ("partnerships", REJECTED, ("invisible control character",)),
    # values
    "huge_numbers.csv": ("budget", REJECTED, ("is not an amount in pounds", "is too large")),
    "nan_and_infinity.csv": ("budget", REJECTED, ("is not an amount in pounds", "must not be negative")),
    "negative_and_decimal_comma.csv": ("budget", REJECTED, ("must not be negative", "decimal comma")),
    "month_first_date.csv": ("engagement", REJECTED, ("is not a real calendar date",)),
    "other_directorate_rows.csv": ("budget", REJECTED, ("does not match the directorate this file is sent for",)),
    "other_quarter_rows.csv": ("budget", REJECTED, ("does not match the quarter this file is sent for",)),
    "duplicate_keys.csv": ("partnerships", REJECTED, ("is repeated",)),
    # not a table at all
    "random_binary.csv": ("partnerships", REJECTED, ("not a text (CSV) file",)),
    "png_named.csv": ("partnerships", REJECTED, ("not a text (CSV) file",)),
    "pdf_named.csv": ("partnerships", REJECTED, ("not a header row",)),
    "legacy.xls": ("partnerships", REJECTED, ("old Excel .xls file or a password-protected workbook",)),
    "text_named.xlsx": ("budget", REJECTED, ("is named .xlsx but is not an Excel workbook",)),
    # workbooks
    "valid.xlsx": ("partnerships", ACCEPTED, 1),
    "zip_bomb.xlsx": ("partnerships", REJECTED, ("would unpack to 100 MB",)),
    "macros.xlsx": ("partnerships", REJECTED, ("contains macros",)),
    "external_links.xlsx": ("partnerships", REJECTED, ("links to other workbooks",)),
    "billion_laughs.xlsx": ("partnerships", REJECTED, ("cannot be opened",)),
    "truncated.xlsx": ("partnerships", REJECTED, ("cannot be opened",)),
    "word_document_named.xlsx": ("partnerships", REJECTED, ("cannot be opened",)),
    # reference files
    "wards_duplicate_names.csv": ("wards", REJECTED, ("same ward name as another row",)),
    "boundaries_not_featurecollection.geojson": ("boundaries", REJECTED, ("not a GeoJSON FeatureCollection",)),
    "boundaries_nan_coordinates.geojson": ("boundaries", REJECTED, ("not longitude/latitude",)),
    "boundaries_other_crs.geojson": ("boundaries", REJECTED, ("longitude/latitude (CRS84)",)),
    "boundaries_truncated.geojson": ("boundaries", REJECTED, ("The file is not GeoJSON",)),
    "million_vertices.geojson": ("boundaries", REJECTED, ("has 1,000,001 points", "at most 100,000")),
    "deeply_nested.geojson": ("boundaries", REJECTED, ("nested too deeply",)),
}
REFERENCE_KINDS = ("wards", "directorates", "targets", "boundaries")


def committed_files() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if p.is_file() and p.suffix != ".py")


def test_every_corpus_file_has_an_expectation_and_there_are_at_least_40():
    names = set(committed_files()) | set(GENERATED)
    assert names == set(CASES), (sorted(names - set(CASES)), sorted(set(CASES) - names))
    assert not set(committed_files()) & set(GENERATED)  # generated files are never committed
    assert len(CASES) >= 40


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_council(tmp_path_factory.mktemp("corpus") / "council.duckdb")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated")
    for name, make in GENERATED.items():
        (folder / name).write_bytes(make())
    return folder


def snapshot(db: Path) -> dict[str, object]:
    """Every data table's rows, and the submission log, as plain values."""
    with warehouse.read_only(db) as con:
        tables = {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in DATA_TABLES}  # noqa: S608
        log = con.execute("SELECT submission_id, outcome FROM submissions ORDER BY submission_id").fetchall()
    return {"tables": tables, "log": log}


def send(capsys, db: Path, path: Path, target: str) -> tuple[int, str]:
    if target in REFERENCE_KINDS:
        args = ["load-reference", "--db", str(db), "--user", "corpus", target, str(path)]
    else:
        args = ["load", "--db", str(db), "--return", target, "--directorate", "ADH", "--quarter", Q,
                "--user", "corpus", "--format", "json", str(path)]
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_file(name: str, db: Path, generated: Path, capsys):
    target, expected, detail = CASES[name]
    path = generated / name if name in GENERATED else CORPUS / name
    before = snapshot(db)
    code, out = send(capsys, db, path, target)  # any exception escaping here fails the test
    after = snapshot(db)
    flat = " ".join(out.split())
    if expected == REJECTED:
        assert code == 1, flat[:2000]
        for words in detail:
            assert words in flat, (words, flat[:2000])
        assert after["tables"] == before["tables"]  # not one row of the file was stored
        new = after["log"][len(before["log"]):]
        assert after["log"][: len(before["log"])] == before["log"]
        assert [outcome for _, outcome in new] == ["rejected"]  # logged as rejected, nothing else
        assert "Traceback" not in out
    else:
        assert code == 0, flat[:2000]
        report = json.loads(out)
        assert report["status"] in ("accepted", "identical"), report
        assert report["row_count"] == detail


def stored(db: Path, sql: str) -> list[tuple]:
    with warehouse.read_only(db) as con:
        return con.execute(sql).fetchall()


PARTNERS = ("SELECT partnership_id, partner_name FROM partnerships WHERE directorate = 'Adults and Health' "
            "ORDER BY partnership_id")


@pytest.mark.parametrize(
    "name, expected",
    [
        ("windows1252.csv", [("P1", "Café £ Société")]),
        ("bom_utf8.csv", [("P1", "Ashby Trust")]),
        ("stray_quote.csv", [("P1", 'Ashby "Trust')]),
        ("multiline_quoted_cell.csv", [("P1", "Ashby\nCommunity Trust"), ("P2", "Ashby Trust")]),
        ("formula_injection.csv", [("P1", "=CMD|' /C calc'!A0"), ("P2", "+SUM(1+1)*cmd|' /C calc'!A0"),
                                   ("P3", "@SUM(1+1)"), ("P4", "-2+3+cmd|' /C calc'!A0")]),
        ("html_script.csv", [("P1", "<script>alert('x')</script>"), ("P2", '<img src=x onerror="alert(1)">'),
                             ("P3", "Ashby &amp; <b>Co</b>")]),
        ("sql_injection.csv", [("P1'); DROP TABLE submissions; --", "Robert'); DROP TABLE partnerships_rows;--")]),
    ],
)
def test_accepted_text_is_stored_exactly_as_written(name: str, expected: list[tuple], tmp_path: Path, capsys):
    db = make_council(tmp_path / "c.duckdb")
    code, out = send(capsys, db, CORPUS / name, "partnerships")
    assert code == 0, out
    assert stored(db, PARTNERS) == expected
    assert stored(db, "SELECT count(*) FROM submissions WHERE outcome = 'accepted' AND return_type = 'partnerships'") == [(1,)]


def test_normalised_spellings_are_stored_in_canonical_form(tmp_path: Path, capsys):
    db = make_council(tmp_path / "c.duckdb")
    for name in ("header_spacing_case.csv", "cr_only_line_ends.csv"):
        code, out = send(capsys, db, CORPUS / name, "budget")
        assert code == 0, out
    rows = stored(db, "SELECT directorate, quarter, budget_line, ward_code, CAST(total_budget_gbp AS VARCHAR), "
                      "mechanism FROM budget ORDER BY budget_line")
    assert rows == [("Adults and Health", Q, "Fund", "E05000002", "1000.00", "community_grants"),
                    ("Adults and Health", Q, "Grants", "E05000002", "1000.00", "community_grants")]


def test_a_file_over_the_upload_limit_is_refused_before_it_is_read(tmp_path: Path, db: Path, capsys):
    from etl.read import MAX_FILE_BYTES

    big = tmp_path / "huge.csv"
    with open(big, "wb") as fh:  # sparse: takes no disk space
        fh.truncate(MAX_FILE_BYTES + 1)
    before = snapshot(db)
    code, out = send(capsys, db, big, "budget")
    assert code == 1
    assert "the most one file may be is 200 MB" in " ".join(out.split())
    assert snapshot(db) == before  # not even a log entry: the file was never read


def test_the_upload_limit_matches_streamlits_setting():
    import tomllib

    from etl.read import MAX_FILE_MB

    config = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_FILE_MB
