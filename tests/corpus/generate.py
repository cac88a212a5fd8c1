"""The binary and huge members of the bad-input corpus, made at test time (never committed).

    python -m tests.corpus.generate DIR    # writes every generated file into DIR

The committed members are the small text files beside this script; `tests/test_bad_input.py`
says what must happen to each file of both kinds.
"""

from __future__ import annotations

import io
import json
import random
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

Q = "2025-26 Q2"
PARTNERSHIPS_HEADER = (
    "directorate,quarter,partnership_id,partner_name,partner_type,arrangement,ward_code,"
    "start_date,end_date,annual_value_gbp,lease_years\n"
)
ROW = f"ADH,{Q},P1,Ashby Trust,vcse,coproduction,E05000001,2025-01-01,,1000,\n"


def _csv(rows: int = 1) -> str:
    return PARTNERSHIPS_HEADER + "".join(ROW.replace("P1", f"P{i}") for i in range(1, rows + 1))


def valid_xlsx() -> bytes:
    """A correct one-row partnerships workbook (the base the hostile workbooks are made from)."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("partnerships")
    for r, line in enumerate(_csv().splitlines()):
        for col, value in enumerate(line.split(",")):
            ws.write_string(r, col, value)
    wb.close()
    return buf.getvalue()


def _rezip(base: bytes, extra: dict[str, bytes], replace: dict[str, bytes] | None = None) -> bytes:
    replace = replace or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, replace.get(item.filename, src.read(item.filename)))
        for name, data in extra.items():
            dst.writestr(name, data)
    return out.getvalue()


def macros_xlsx() -> bytes:
    """A workbook carrying a VBA project (what Excel saves as .xlsm), renamed .xlsx."""
    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Attribute VB_Name = \"Module1\"\nSub AutoOpen()\nShell \"calc\"\nEnd Sub\n"
    return _rezip(valid_xlsx(), {"xl/vbaProject.bin": vba})


def external_links_xlsx() -> bytes:
    """A workbook whose cells link to another workbook on a file share."""
    link = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<externalBook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1"/>'
            b"</externalLink>")
    rels = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
            b'Target="file:///\\\\fileserver\\finance\\budget.xlsx" TargetMode="External"/></Relationships>')
    return _rezip(valid_xlsx(), {"xl/externalLinks/externalLink1.xml": link,
                                 "xl/externalLinks/_rels/externalLink1.xml.rels": rels})


def billion_laughs_xlsx() -> bytes:
    """A workbook whose sheet XML defines nested entities that expand to gigabytes."""
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    sheet = (f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>').encode()
    return _rezip(valid_xlsx(), {}, replace={"xl/worksheets/sheet1.xml": sheet})


def zip_bomb_xlsx() -> bytes:
    """A workbook whose one sheet unpacks to 1,000 times its packed size (a zip bomb)."""
    head = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    sheet = head + b" " * (100 * 1024 * 1024) + b"</sheetData></worksheet>"
    return _rezip(valid_xlsx(), {}, replace={"xl/worksheets/sheet1.xml": sheet})


def truncated_xlsx() -> bytes:
    """A workbook cut off half-way (an interrupted download)."""
    data = valid_xlsx()
    return data[: len(data) // 2]


def docx_named_xlsx() -> bytes:
    """A zip that is a Word document, not a workbook, named .xlsx."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        zf.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def million_vertices_geojson() -> bytes:
    """One ward outlined by a million points."""
    n = 1_000_000
    ring = [[round(-0.1 + 0.01 * (i / n), 7), 51.5] for i in range(n)] + [[-0.1, 51.5]]
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ward_code": "E05000001"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    return json.dumps(doc, separators=(",", ":")).encode()


def deeply_nested_geojson() -> bytes:
    """Coordinates nested 100,000 lists deep (a parser recursion bomb)."""
    depth = 100_000
    return (b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"ward_code":"E05000001"},'
            b'"geometry":{"type":"Polygon","coordinates":' + b"[" * depth + b"]" * depth + b"}}]}")


GENERATED: dict[str, Callable[[], bytes]] = {
    "utf16le_bom.csv": lambda: _csv().encode("utf-16"),
    "utf16be_bom.csv": lambda: b"\xfe\xff" + _csv().encode("utf-16-be"),
    "utf32_bom.csv": lambda: _csv().encode("utf-32"),
    "nul_bytes.csv": lambda: (_csv(100) + f"ADH,{Q},P999,Ashby\x00Trust,vcse,coproduction,,2025-01-01,,,\n").encode(),
    "random_binary.csv": lambda: random.Random(12).randbytes(50_000),
    "png_named.csv": lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(3).randbytes(2_000),
    "very_long_cell.csv": lambda: (PARTNERSHIPS_HEADER + ROW.replace("Ashby Trust", "x" * 300_000)).encode(),
    "unclosed_quote_runs_to_end.csv": lambda: (PARTNERSHIPS_HEADER + ROW.replace("Ashby Trust", '"Ashby') + ROW * 20_000).encode(),
    "wide_100k_columns.csv": lambda: (PARTNERSHIPS_HEADER.strip() + "," + ",".join(f"extra{i}" for i in range(100_000)) + "\n" + ROW).encode(),
    "wide_100k_values.csv": lambda: (PARTNERSHIPS_HEADER + ROW.strip() + "," * 100_000 + "x\n").encode(),
    "zip_bomb.xlsx": zip_bomb_xlsx,
    "macros.xlsx": macros_xlsx,
    "external_links.xlsx": external_links_xlsx,
    "billion_laughs.xlsx": billion_laughs_xlsx,
    "truncated.xlsx": truncated_xlsx,
    "word_document_named.xlsx": docx_named_xlsx,
    "valid.xlsx": valid_xlsx,
    "million_vertices.geojson": million_vertices_geojson,
    "deeply_nested.geojson": deeply_nested_geojson,
}


def write_all(folder: Path) -> list[Path]:
    """Write every generated file into `folder`; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in GENERATED.items():
        path = folder / name
        path.write_bytes(make())
        paths.append(path)
    return paths


if __name__ == "__main__":  # pragma: no cover
    for p in write_all(Path(sys.argv[1])):
        print(p)
