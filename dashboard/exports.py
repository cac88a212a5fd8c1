"""Downloads: CSV and Excel safe against formula injection, and the printable ward pack (HTML).

Pure functions (no streamlit): frames in, bytes or text out.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from typing import Any

import pandas as pd

# A spreadsheet reads a cell starting with one of these as a formula (OWASP 'CSV injection').
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy in which every text cell (and column name) is neutralised; numbers stay numbers."""
    out = df.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.astype(object).map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark (so Excel opens it as UTF-8 and shows £ correctly)."""
    return safe_frame(df).to_csv(index=False).encode("utf-8-sig")


def to_excel_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook, one sheet per frame; text is written as text, never as a formula."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(
        buffer,
        engine="xlsxwriter",
        engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}},
    ) as writer:
        for name, frame in sheets.items():
            safe_name = "".join(ch for ch in name if ch not in "[]:*?/\\")[:31] or "Sheet"
            safe_frame(frame).to_excel(writer, sheet_name=safe_name, index=False)
            sheet = writer.sheets[safe_name]
            for i, column in enumerate(frame.columns):
                width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
                sheet.set_column(i, i, min(max(width + 2, 8), 60))
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# The printable ward pack


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    kind = geometry.get("type")
    if kind == "Polygon":
        return list(geometry["coordinates"])
    if kind == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    return []


MAP_MAX_WARDS = 300
"""The ward pack's map draws at most this many wards: the chosen ward and its nearest neighbours."""


def _bounds(rings: list[list[list[float]]]) -> tuple[float, float, float, float]:
    xs = [p[0] for ring in rings for p in ring]
    ys = [p[1] for ring in rings for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def map_svg(geojson: dict[str, Any], highlight: str, title: str,
            names: dict[str, str] | None = None, width: int = 520,
            max_wards: int = MAP_MAX_WARDS) -> str:
    """A static SVG outline map of the wards with one ward filled (no script, prints anywhere).

    Longitude is scaled by cos(latitude) so shapes keep their proportions at UK latitudes. The
    bounds are computed once (the cost is linear in the points drawn); with more than `max_wards`
    wards only the chosen ward and the `max_wards - 1` wards whose centres are nearest to it are
    drawn, so a national warehouse gives a local map, not 7,000 paths.
    """
    import math

    features = [(f["properties"]["ward_code"], _rings(f.get("geometry") or {}))
                for f in geojson.get("features", [])]
    features = [(code, rings) for code, rings in features if any(rings)]
    if not features:
        return ""
    boxes = {code: _bounds(rings) for code, rings in features}
    if len(features) > max_wards and highlight in boxes:
        x0, y0, x1, y1 = boxes[highlight]
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2

        def distance(item: tuple[str, Any]) -> float:
            a, b, c, d = boxes[item[0]]
            return (cx - (a + c) / 2) ** 2 + (cy - (b + d) / 2) ** 2

        features = sorted(features, key=distance)[:max_wards]
    elif len(features) > max_wards:
        features = features[:max_wards]
    min_x = min(boxes[c][0] for c, _ in features)
    min_y = min(boxes[c][1] for c, _ in features)
    max_x = max(boxes[c][2] for c, _ in features)
    max_y = max(boxes[c][3] for c, _ in features)
    k = math.cos(math.radians((min_y + max_y) / 2))
    span_x = (max_x - min_x) * k or 1e-9
    span_y = (max_y - min_y) or 1e-9
    pad = 8
    scale = (width - 2 * pad) / span_x
    height = int(span_y * scale + 2 * pad)
    sx, sy = k * scale, scale

    def xy(p: list[float]) -> str:
        return f"{pad + (p[0] - min_x) * sx:.1f},{pad + (max_y - p[1]) * sy:.1f}"

    paths = []
    for code, rings in features:
        d = " ".join("M" + " L".join(xy(p) for p in ring) + " Z" for ring in rings if ring)
        chosen = code == highlight
        fill = "#D55E00" if chosen else "#f2f2f2"
        label = html.escape((names or {}).get(code, code))
        paths.append(f'<path d="{d}" fill="{fill}" stroke="#404040" stroke-width="{2 if chosen else 0.8}">'
                     f"<title>{label}</title></path>")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{html.escape(title)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{html.escape(title)}</title>{''.join(paths)}</svg>"
    )


_PACK_CSS = """
body { font-family: Arial, Helvetica, sans-serif; color: #1a1a1a; margin: 2em; max-width: 60em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1em; }
th, td { border: 1px solid #595959; padding: 0.35em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.meta { color: #404040; } .note { font-size: 0.9em; color: #404040; }
@media print { body { margin: 0; } h2 { break-after: avoid; } table { break-inside: auto; }
  tr { break-inside: avoid; } .noprint { display: none; } }
"""


def html_table(df: pd.DataFrame, caption: str, numeric: Sequence[str] = ()) -> str:
    """An accessible HTML table (caption, header scope); every cell escaped."""
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in df.columns)
    rows = []
    for record in df.itertuples(index=False):
        cells = []
        for column, value in zip(df.columns, record, strict=True):
            text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
            cls = ' class="num"' if column in numeric else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def ward_pack_html(
    *,
    council: str,
    ward_name: str,
    ward_code: str,
    neighbourhood: str,
    quarter: str,
    kpi_rows: pd.DataFrame,
    representation: pd.DataFrame,
    cold_spot: bool,
    trend: pd.DataFrame | None = None,
    cold_spots: pd.DataFrame | None = None,
    similar: pd.DataFrame | None = None,
    incomplete: Sequence[str] = (),
    replaced: Sequence[str] = (),
    figure_html: str = "",
    generated: str = "",
    notes: Sequence[str] = (),
) -> str:
    """A self-contained, print-ready HTML page for one ward; all text is escaped.

    Sections: the council and ward, whether it was replaced when wards were redrawn (`replaced`:
    the words of etl.vintages.replacement_words), what is incomplete, the KPIs against the comparator, the
    trend over recent quarters, where the ward is, the council's cold spots, wards of similar
    deprivation, who took part, notes. `figure_html` is trusted markup made by `map_svg` (which
    escapes its own text), never user text; everything else passes through html.escape.
    """
    e = html.escape
    title = f"Ward pack: {ward_name} ({ward_code}), {council}, {quarter}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{_PACK_CSS}</style></head><body><main>",
        f'<p class="meta">{e(council)}: localism ward pack</p>',
        f"<h1>{e(ward_name)}</h1>",
        f'<p class="meta">Ward {e(ward_code)}, {e(neighbourhood)} neighbourhood. Quarter '
        f"{e(quarter)}.{' Generated ' + e(generated) + '.' if generated else ''}</p>",
    ]
    for words in replaced:
        parts.append(f"<p><strong>Ward boundaries changed:</strong> {e(words)}</p>")
    for words in incomplete:
        parts.append(f"<p><strong>Incomplete:</strong> {e(words)}</p>")
    if cold_spot:
        from dashboard.tables import COLD_SPOT_WORDS

        parts.append(f"<p><strong>Cold spot:</strong> this ward is {e(COLD_SPOT_WORDS)} this quarter.</p>")
    parts.append("<h2>Localism KPIs: this ward against all wards</h2>")
    parts.append(html_table(kpi_rows, f"KPIs for {ward_name} and the comparator, {quarter}",
                            numeric=[c for c in kpi_rows.columns if c not in ("KPI", "Status", "Difference")]))
    if trend is not None and not trend.empty:
        parts.append("<h2>Trend over recent quarters</h2>")
        parts.append(html_table(trend, f"KPIs for {ward_name} by quarter (the engagement equality "
                                       "index is left out: for one ward it can give small counts back)",
                                numeric=[c for c in trend.columns if c != "Quarter"]))
    if figure_html:
        parts.append("<h2>Where the ward is</h2>")
        parts.append(figure_html)
    if cold_spots is not None:
        parts.append(f"<h2>Cold spots in {e(council)} this quarter</h2>")
        if cold_spots.empty:
            parts.append("<p>No ward is a cold spot this quarter.</p>")
        else:
            parts.append(html_table(cold_spots, f"The wards with the lowest participation, {quarter}",
                                    numeric=[c for c in cold_spots.columns if c not in ("Ward", "Neighbourhood")]))
    if similar is not None and not similar.empty:
        parts.append("<h2>Wards of similar deprivation</h2>")
        parts.append(html_table(similar, f"Wards within one IMD decile of {ward_name}",
                                numeric=[c for c in similar.columns if c != "Ward"]))
    parts.append("<h2>Who took part</h2>")
    if representation.empty:
        parts.append("<p>No participants with a known demographic group in this ward.</p>")
    else:
        parts.append(html_table(representation, f"Participants by group in {ward_name}, {quarter}",
                                numeric=[c for c in representation.columns
                                         if c not in ("Dimension", "Group", "Under-represented")]))
    if notes:
        parts.append('<h2>Notes</h2><ul class="note">')
        parts += [f"<li>{e(n)}</li>" for n in notes]
        parts.append("</ul>")
    parts.append("</main></body></html>")
    return "\n".join(parts)
