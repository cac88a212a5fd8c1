"""The reader: encodings, separators, line ends, quoting, blank rows, Excel, and bad files."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from etl.read import ReadError, read_table


def test_utf8_bom_crlf_semicolons_and_quotes():
    content = '\ufeffa;b;c\r\n1;"x; ""quoted""";3\r\n\r\n;;\r\n4;5;6\r\n\r\n'.encode()
    t = read_table(content)
    assert t.header == ["a", "b", "c"] and t.delimiter == ";" and t.encoding == "utf-8"
    assert t.rows.index.tolist() == [2, 5]  # blank rows (and a row of empty cells) are skipped
    assert t.rows.loc[2].tolist() == ["1", 'x; "quoted"', "3"]


def test_windows_1252_pound_sign():
    t = read_table("a,b\n£1,234.50,Café\n".encode("cp1252").replace(b"\xa31,234.50", b'"\xa31,234.50"'))
    assert t.encoding == "windows-1252"
    assert t.rows.loc[2].tolist() == ["£1,234.50", "Café"]


def test_a_record_spanning_lines_is_numbered_where_it_starts():
    t = read_table(b'a,b\n1,"two\nlines"\n3,4\n')
    assert t.rows.index.tolist() == [2, 4]


def test_xlsx_prefers_the_sheet_named_after_the_return():
    wb = Workbook()
    wb.active.title = "Guidance"
    wb.active.append(["not", "this"])
    ws = wb.create_sheet("Engagement")
    ws.append(["activity_id", "activity_date", "participants_total"])
    ws.append([])
    import datetime as dt

    ws.append(["A1", dt.datetime(2025, 7, 31), 12.0])
    buf = io.BytesIO()
    wb.save(buf)
    t = read_table(buf.getvalue(), "x.xlsx", sheet="engagement")
    assert t.source == "xlsx" and t.header == ["activity_id", "activity_date", "participants_total"]
    assert t.rows.index.tolist() == [3]  # the spreadsheet row number
    assert t.rows.loc[3].tolist() == ["A1", "2025-07-31", "12"]


def test_xlsx_falls_back_to_the_first_sheet():
    wb = Workbook()
    wb.active.append(["h"])
    wb.active.append(["v"])
    buf = io.BytesIO()
    wb.save(buf)
    assert read_table(buf.getvalue(), "x.xlsx", sheet="budget").rows.loc[2].tolist() == ["v"]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "x.csv", "empty"),
        (b"\n\n  \n", "x.csv", "empty"),
        (b"\x00\x01\x02binary", "x.csv", "not a text"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "x.xls", "old Excel"),
        (b"PK\x03\x04garbage", "x.xlsx", "cannot be opened"),
        (b"a,b\n1,\x81\x8d\n", "x.csv", "cannot be read"),
        (b'a,b\n1,"unclosed\n', "x.csv", "Check its quote marks"),
        (b"a,b\n", "x.xlsx", "not an Excel workbook"),
    ],
)
def test_bad_files_give_a_clear_message(content, name, message):
    with pytest.raises(ReadError, match=message):
        read_table(content, name)


def test_header_only_is_a_table_with_no_rows():
    t = read_table(b"a,b\r\n")
    assert t.header == ["a", "b"] and len(t.rows) == 0


def _exact(content: bytes):
    import etl.read as r

    fast, r._read_csv_fast = r._read_csv_fast, lambda *a: None
    try:
        return read_table(content)
    finally:
        r._read_csv_fast = fast


@pytest.mark.parametrize(
    "body",
    [
        "".join(f"{i},x\r\n" + ("\r\n" if i % 100 == 0 else "") + (",\r\n" if i % 333 == 0 else "") for i in range(2000)),
        "".join(f'{i},"a, ""b"""\n' for i in range(2000)),
        "".join(f'{i},"multi\nline"\n' if i == 1500 else f"{i},x\n" for i in range(2000)),
        "".join(f"{i},x\n" + ('"",""\n' if i % 400 == 0 else "") + (' , \n' if i % 333 == 0 else "")
                for i in range(2000)),
    ],
    ids=["blank-rows-crlf", "quoted", "spanning-lines", "blank-quoted-and-spaced-rows"],
)
def test_big_files_read_the_same_as_the_exact_reader(body):
    content = ("h1,h2\n" + body).encode()
    fast, exact = read_table(content), _exact(content)
    assert fast.rows.index.tolist() == exact.rows.index.tolist()
    assert fast.rows.values.tolist() == exact.rows.values.tolist()


@pytest.mark.parametrize(
    ("head", "body", "parser"),
    [
        ("h1,h2,h3\n", "".join(f"{i},x,é€\n" for i in range(2000)), "arrow"),
        ("\n ,\nh1;h2\n", "".join(f"{i};x\n" for i in range(2000)), "arrow"),  # blank lines above the header
        ("sep=;\nh1;h2\n", "".join(f"{i};x\n" for i in range(2000)), "arrow"),
        ("h1,h2\n", "".join(f"{i},x\n" + ("\xa0,\n" if i % 500 == 0 else "") for i in range(2000)), "arrow"),
        ("h1,h2,h3\n", "".join(f"{i},x\n" if i % 700 == 0 else f"{i},x,y\n" for i in range(2000)), "pandas"),
        ("h1,h2\n", "".join(f"{i},x\n" + ("\n" if i % 100 == 0 else "") for i in range(2000)), "arrow"),
    ],
    ids=["unicode", "blank-lines-first", "excel-sep-line", "nbsp-blank-rows", "short-rows", "empty-lines"],
)
def test_big_files_take_the_columnar_parser_that_reads_them_like_the_exact_reader(head, body, parser, monkeypatch):
    import etl.read as r

    used = []

    def spy(name):
        real = getattr(r, name)

        def parse(*args):
            parsed = real(*args)
            if parsed is not None:
                used.append(name)
            return parsed
        return parse

    for name in ("_arrow_table", "_pandas_frame"):
        monkeypatch.setattr(r, name, spy(name))
    content = (head + body).encode()
    fast = read_table(content)
    monkeypatch.undo()
    exact = _exact(content)
    assert used == [{"arrow": "_arrow_table", "pandas": "_pandas_frame"}[parser]]
    assert (fast.header, fast.header_line) == (exact.header, exact.header_line)
    assert fast.rows.index.tolist() == exact.rows.index.tolist()
    assert fast.rows.values.tolist() == exact.rows.values.tolist()


def test_a_stray_quote_is_reported_with_its_line_in_big_files_too():
    body = "".join(f"{i},x\n" if i != 1200 else f'{i},"L2"x\n' for i in range(2000))
    with pytest.raises(ReadError) as caught:
        read_table(("h1,h2\n" + body).encode())
    assert caught.value.line == 1202


def test_xlsx_with_a_wrong_stored_sheet_size_is_read_in_full():
    import re
    import zipfile

    wb = Workbook()
    wb.active.append(["a", "b", "c"])
    wb.active.append([1, 2, 3])
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', data)
            dst.writestr(item, data)
    t = read_table(out.getvalue(), "x.xlsx")
    assert t.header == ["a", "b", "c"] and t.rows.loc[2].tolist() == ["1", "2", "3"]


def test_a_utf8_marker_on_windows_1252_bytes_gets_a_word_about_the_encoding():
    content = b"\xef\xbb\xbfdirectorate,quarter,budget_line\nADH,2025-26 Q2,Caf\xe9 grants \xa3\n"
    with pytest.raises(ReadError) as err:
        read_table(content)
    message = str(err.value)
    assert "encoding is mixed" in message and "line 2" in message and "CSV UTF-8" in message
    assert err.value.line == 2 and "ï»¿" not in message


def test_csv_records_keep_blank_lines_with_their_line_numbers():
    from etl.read import csv_records

    records, delimiter = csv_records(b"a;b\n\n1;2\n\"x\ny\";3\n4;5\n")
    assert delimiter == ";"
    assert records == [(1, ["a", "b"]), (2, []), (3, ["1", "2"]), (4, ["x\ny", "3"]), (6, ["4", "5"])]


def test_a_cell_too_long_in_a_big_file_is_named_with_its_line():
    body = "".join(f"{i},x\n" if i != 1500 else f"{i},{'y' * 100_001}\n" for i in range(2000))
    with pytest.raises(ReadError, match="longer than 100,000 characters") as caught:
        read_table(("h1,h2\n" + body).encode())
    assert caught.value.line == 1502
