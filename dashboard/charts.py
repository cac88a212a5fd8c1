"""Pure Plotly figure builders: DataFrames in, figures (and their written summaries) out.

No streamlit here, so every builder is tested on its own. Each figure uses the one template in
`dashboard.theme`; each has a `describe_*` partner that says in words what the chart shows, for
the chart's accessible label and for readers who cannot see it.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard import theme

# Plotly's geo maps fetch a world outline (topojson) from a CDN before drawing anything, even a
# choropleth of our own GeoJSON with the base map hidden. The network is closed, so the app serves
# an empty outline itself (dashboard/static/, server.enableStaticServing) and points Plotly at it.
# The URL is relative to the page, so it also works under a server.baseUrlPath.
MAP_CONFIG: dict[str, Any] = {"topojsonURL": "app/static/", "displaylogo": False}


def _axis_format(unit: str) -> dict[str, Any]:
    if unit == "share":
        return {"tickformat": ".0%"}
    if unit == "gbp":
        return {"tickprefix": "£", "tickformat": ",.0f"}
    if unit == "count":
        return {"tickformat": ",d"}
    return {"tickformat": ",.1f" if unit == "rate" else ".2f"}


def _count_axis(values: Any) -> dict[str, Any]:
    """Whole-number ticks with a step of at least 1, so a small count never repeats a tick
    ('0, 0, 1, 1, 2' from a ',d' format on half steps)."""
    top = pd.to_numeric(pd.Series(values), errors="coerce").max()
    top = 0 if pd.isna(top) else float(top)
    return {"tickformat": ",d", "tick0": 0, "dtick": max(1, -(-int(top) // 5))}


def _hover_value(unit: str) -> str:
    return {
        "share": "%{y:.1%}",
        "gbp": "£%{y:,.0f}",
        "count": "%{y:,d}",
        "rate": "%{y:,.1f}",
    }.get(unit, "%{y:.2f}")


def _empty(fig: go.Figure, message: str) -> go.Figure:
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 15})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def trend_figure(df: pd.DataFrame, title: str, unit: str, series: str | None = None) -> go.Figure:
    """A line per series (or one line) of `value` by `quarter`, in quarter order."""
    fig = go.Figure(layout={"template": theme.TEMPLATE_NAME, "title": title, "height": 320})
    data = df.dropna(subset=["value"]) if "value" in df else df
    if data.empty:
        return _empty(fig, "No data for these quarters")
    groups = data.groupby(series, sort=False) if series else [(title, data)]
    for i, (name, part) in enumerate(groups):
        part = part.sort_values("quarter")
        whole = part["complete"].astype(bool) if "complete" in part else pd.Series(True, index=part.index)
        symbol = ["circle", "square", "diamond", "triangle-up"][i % 4]
        note = ["" if w else " (incomplete: a return is missing)" for w in whole]
        fig.add_trace(
            go.Scatter(
                x=part["quarter"], y=part["value"], mode="lines+markers", name=str(name),
                # An incomplete quarter is drawn hollow and says so on hover (never colour alone).
                marker={"symbol": [symbol if w else f"{symbol}-open" for w in whole], "size": 9},
                line={"dash": ["solid", "dash", "dot", "dashdot"][i % 4], "width": 2.5},
                customdata=note,
                hovertemplate=f"%{{x}}: {_hover_value(unit)}%{{customdata}}<extra>{name}</extra>",
            )
        )
    fig.update_xaxes(type="category", title_text="Quarter")
    axis = _count_axis(data["value"]) if unit == "count" else _axis_format(unit)
    fig.update_yaxes(rangemode="tozero", **axis)
    if "complete" in data and not data["complete"].astype(bool).all():
        fig.add_annotation(text="Hollow markers: quarters with a missing return", showarrow=False,
                           x=1, xanchor="right", y=1.08, xref="paper", yref="paper", font={"size": 13})
    fig.update_layout(showlegend=bool(series))
    return fig


SPARK_CONFIG: dict[str, Any] = {"staticPlot": True, "displayModeBar": False}
"""A tile's small trend is a picture with words beside it: no hover, zoom or toolbar."""


def sparkline_figure(values: list[float | None], quarters: list[str], unit: str) -> go.Figure:
    """A tile's small trend: a line of the values by quarter, no axes, the last point marked."""
    fig = go.Figure(layout={"template": theme.TEMPLATE_NAME, "height": 70,
                            "margin": {"l": 4, "r": 4, "t": 4, "b": 4}, "showlegend": False})
    fig.add_trace(go.Scatter(x=quarters, y=values, mode="lines", line={"width": 2, "color": theme.OKABE_ITO[0]},
                             connectgaps=False, hoverinfo="skip"))
    known = [(q, v) for q, v in zip(quarters, values, strict=True) if v is not None]
    if known:
        fig.add_trace(go.Scatter(x=[known[-1][0]], y=[known[-1][1]], mode="markers",
                                 marker={"size": 7, "color": theme.OKABE_ITO[0]}, hoverinfo="skip"))
    fig.update_xaxes(visible=False, type="category")
    fig.update_yaxes(visible=False, rangemode="tozero" if unit != "index" else "normal")
    return fig


def bar_figure(df: pd.DataFrame, category: str, value: str, title: str, unit: str,
               category_title: str = "", value_title: str = "") -> go.Figure:
    """Horizontal bars of `value` by `category` (labels made readable), largest at the top."""
    fig = go.Figure(layout={"template": theme.TEMPLATE_NAME, "title": title})
    if df.empty or pd.to_numeric(df[value], errors="coerce").fillna(0).eq(0).all():
        return _empty(fig, "Nothing recorded in this scope")
    data = df.assign(_label=df[category].map(theme.label)).iloc[::-1]
    hover = _hover_value(unit).replace("%{y", "%{x")
    fig.add_trace(go.Bar(x=data[value], y=data["_label"], orientation="h",
                         marker={"color": theme.OKABE_ITO[0]},
                         hovertemplate=f"%{{y}}: {hover}<extra></extra>"))
    fig.update_layout(height=max(260, 60 + 34 * len(data)))
    axis = _count_axis(data[value]) if unit == "count" else _axis_format(unit)
    fig.update_xaxes(title_text=value_title, rangemode="tozero", **axis)
    fig.update_yaxes(title_text=category_title, automargin=True)
    return fig


def heatmap_figure(df: pd.DataFrame, rows: str, columns: str, value: str, title: str) -> go.Figure:
    """A grid (e.g. method x stage) of counts, each cell labelled with its number."""
    fig = go.Figure(layout={"template": theme.TEMPLATE_NAME, "title": title})
    if df.empty or df[value].sum() == 0:
        return _empty(fig, "Nothing recorded in this scope")
    grid = df.pivot_table(index=rows, columns=columns, values=value, aggfunc="sum", sort=False)
    fig.add_trace(
        go.Heatmap(
            z=grid.to_numpy(), x=[theme.label(c) for c in grid.columns],
            y=[theme.label(r) for r in grid.index], colorscale=theme.SEQUENTIAL,
            text=grid.to_numpy(), texttemplate="%{text}", showscale=True,
            colorbar={"title": {"text": theme.label(value)}, "tickformat": ",d",
                      "dtick": max(1, -(-int(grid.to_numpy().max()) // 5))},
            hovertemplate="%{y}, %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(height=max(320, 80 + 40 * len(grid)))
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


def representation_figure(df: pd.DataFrame, threshold: float) -> go.Figure:
    """Representation ratio by demographic group, with the under-representation line marked."""
    fig = go.Figure(layout={"template": theme.TEMPLATE_NAME,
                            "title": "Representation of each group (1 = in proportion)",
                            "margin": {"t": 90}})
    data = df.dropna(subset=["ratio"])
    if data.empty:
        return _empty(fig, "No participants with a known group in this scope")
    under = data["under_represented"].astype(bool)
    fig.add_trace(
        go.Bar(
            x=data["ratio"], y=data["group_label"], orientation="h",
            marker={"color": [theme.RAG_COLOURS["red"] if u else theme.OKABE_ITO[0] for u in under],
                    "pattern": {"shape": ["/" if u else "" for u in under]}},
            text=[f"{r:.2f}{' under' if u else ''}" for r, u in zip(data["ratio"], under, strict=True)],
            textposition="outside",
            hovertemplate="%{y}: %{x:.2f}<extra></extra>",
        )
    )
    fig.add_vline(x=threshold, line_dash="dash", line_color=theme.TEXT,
                  annotation_text=f"Under-represented below {threshold}",
                  annotation_position="top left", annotation_yshift=18)
    fig.add_vline(x=1.0, line_dash="dot", line_color="#595959")
    fig.update_layout(height=max(320, 60 + 30 * len(data)), showlegend=False)
    fig.update_xaxes(title_text="Share of participants / share of population", rangemode="tozero")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


MAP_MAX_WARDS = 600
"""The ward map draws at most this many wards (a neighbourhood at national scale); beyond it the
page asks for a neighbourhood and offers the lists instead."""
MAP_LABEL_WARDS = 40
"""Up to this many wards, each is named on the map."""
NO_DATA_FILL = "#bdbdbd"


def centroids(geojson: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Each ward's label point: the centre of its bounding box (lon, lat)."""
    out = {}
    for f in geojson.get("features", []):
        geometry = f.get("geometry") or {}
        coords = geometry.get("coordinates") or []
        if geometry.get("type") == "Polygon":
            rings = coords
        elif geometry.get("type") == "MultiPolygon":
            rings = [ring for polygon in coords for ring in polygon]
        else:
            continue
        xs = [p[0] for ring in rings for p in ring]
        ys = [p[1] for ring in rings for p in ring]
        if xs:
            out[f["properties"]["ward_code"]] = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
    return out


def ward_map_figure(df: pd.DataFrame, geojson: dict[str, Any], value: str, title: str,
                    unit: str, highlight: str | None = None) -> go.Figure:
    """A choropleth of wards (no tile server): `df` has ward_code, ward_name and `value`.

    Wards without a value are grey and crossed (a pattern, not a colour alone) with a legend
    entry 'No data'; with few wards each is named on the map.
    """
    fig = go.Figure(layout={"template": theme.TEMPLATE_NAME, "title": title, "height": 560})
    if df.empty or not geojson.get("features"):
        return _empty(fig, "No ward boundaries are loaded")
    hover = _hover_value(unit).replace("%{y", "%{z")
    known = df[df[value].notna()]
    unknown = df[df[value].isna()]
    if not known.empty:
        fig.add_trace(
            go.Choropleth(
                geojson=geojson, featureidkey="properties.ward_code", locations=known["ward_code"],
                z=known[value], text=known["ward_name"], colorscale=theme.SEQUENTIAL,
                marker={"line": {"color": "#404040", "width": 0.6}}, name="Value",
                colorbar={"title": {"text": ""}, **_axis_format(unit)},
                hovertemplate=f"%{{text}}: {hover}<extra></extra>",
            )
        )
    points = centroids(geojson) if len(df) <= MAP_LABEL_WARDS or not unknown.empty else {}
    if not unknown.empty:
        fig.add_trace(
            go.Choropleth(
                geojson=geojson, featureidkey="properties.ward_code", locations=unknown["ward_code"],
                z=[0] * len(unknown), text=unknown["ward_name"], showscale=False, showlegend=True,
                colorscale=[[0, NO_DATA_FILL], [1, NO_DATA_FILL]], name="No data (grey, crossed)",
                marker={"line": {"color": "#404040", "width": 0.6}},
                hovertemplate="%{text}: no data<extra></extra>",
            )
        )
        crossed = [c for c in unknown["ward_code"] if c in points]
        fig.add_trace(
            go.Scattergeo(
                lon=[points[c][0] for c in crossed], lat=[points[c][1] for c in crossed],
                mode="markers", marker={"symbol": "x-thin", "size": 12, "line": {"width": 2, "color": "#1a1a1a"}},
                hoverinfo="skip", showlegend=False,
            )
        )
    if len(df) <= MAP_LABEL_WARDS:
        values = pd.to_numeric(df[value], errors="coerce")
        low, high = values.min(), values.max()
        named = [(c, n, v) for c, n, v in zip(df["ward_code"], df["ward_name"], values, strict=True)
                 if c in points]
        # Black or white, whichever contrasts more with the ward's own fill (>= 4.58:1 anywhere on
        # the scale), with a halo of the other colour where a label crosses a boundary.
        fills = [NO_DATA_FILL if pd.isna(v) else theme.scale_colour((v - low) / (high - low) if high > low else 0)
                 for _, _, v in named]
        colours = [theme.text_on(f) for f in fills]
        fig.add_trace(
            go.Scattergeo(
                lon=[points[c][0] for c, _, _ in named], lat=[points[c][1] for c, _, _ in named],
                text=[n for _, n, _ in named], mode="text", hoverinfo="skip", showlegend=False,
                textfont={"size": 11, "color": colours,
                          "shadow": [f"0 0 2px {'#000000' if c == '#ffffff' else '#ffffff'}" for c in colours]},
            )
        )
    if highlight and highlight in set(df["ward_code"]):
        row = df[df["ward_code"] == highlight]
        fig.add_trace(
            go.Choropleth(
                geojson=geojson, featureidkey="properties.ward_code", locations=row["ward_code"],
                z=[0], colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False,
                marker={"line": {"color": theme.OKABE_ITO[1], "width": 3}}, hoverinfo="skip",
            )
        )
    fig.update_geos(fitbounds="locations", visible=False, projection_type="mercator")
    fig.update_layout(margin={"l": 0, "r": 0, "t": 50, "b": 0},
                      legend={"orientation": "h", "y": -0.02, "yanchor": "top"})
    return fig


def normalise_geojson(features: pd.DataFrame) -> dict[str, Any]:
    """A FeatureCollection from rows of (ward_code, geometry JSON), keyed by properties.ward_code."""
    out = []
    for row in features.itertuples(index=False):
        geometry = json.loads(row.geometry) if isinstance(row.geometry, str) else row.geometry
        if geometry.get("type") == "Feature":
            geometry = geometry.get("geometry")
        out.append({"type": "Feature", "properties": {"ward_code": row.ward_code},
                    "geometry": geometry})
    return {"type": "FeatureCollection", "features": out}


# ---------------------------------------------------------------------------------------------
# Written summaries (the text equivalent and accessible label of each chart)


def describe_trend(df: pd.DataFrame, title: str, unit: str, series: str | None = None) -> str:
    """'Devolved budget share by quarter: 12.0% in 2025-26 Q1, ... .'"""
    data = df.dropna(subset=["value"])
    if data.empty:
        return f"{title}: no data for these quarters."
    parts = []
    groups = data.groupby(series, sort=False) if series else [(None, data)]
    for name, part in groups:
        part = part.sort_values("quarter")
        whole = part["complete"].astype(bool) if "complete" in part else [True] * len(part)
        values = ", ".join(f"{theme.fmt_kpi(v, unit)} in {q}{'' if w else ' (incomplete)'}"
                           for q, v, w in zip(part["quarter"], part["value"], whole, strict=True))
        parts.append(f"{name}: {values}" if name is not None else values)
    return f"{title}, by quarter. " + "; ".join(parts) + "."


def describe_bars(df: pd.DataFrame, category: str, value: str, title: str, unit: str) -> str:
    """'Title: A £1,000; B £500.' largest first."""
    values = pd.to_numeric(df[value], errors="coerce")
    data = df.assign(_v=values).dropna(subset=["_v"])
    data = data[data["_v"] > 0].sort_values("_v", ascending=False)
    if data.empty:
        return f"{title}: nothing recorded in this scope."
    fmt = theme.fmt_gbp if unit == "gbp" else (lambda v: theme.fmt_kpi(v, unit))
    items = "; ".join(f"{theme.label(c)} {fmt(v)}" for c, v in zip(data[category], data["_v"], strict=True))
    return f"{title}: {items}."


def describe_heatmap(df: pd.DataFrame, title: str) -> str:
    """Text equivalent of the method x stage grid: totals, then each used cell, largest first."""
    used = df[df["activities"] > 0].sort_values("activities", ascending=False)
    cells = "; ".join(f"{theme.label(r.method)} at {theme.label(r.stage).lower()}: {r.activities}"
                      for r in used.itertuples())
    return (f"{title}: {int(df['activities'].sum())} activities, "
            f"{int(df['participants'].sum()):,} participants. {cells}.")


def describe_map(df: pd.DataFrame, value: str, title: str, unit: str) -> str:
    """Which wards are highest and lowest on the map, and how many have no data."""
    data = df.dropna(subset=[value]).sort_values(value)
    gaps = len(df) - len(data)
    none = f" {gaps:,} ward{'s have' if gaps != 1 else ' has'} no data (grey, crossed)." if gaps else ""
    if data.empty:
        return f"{title}: no ward has a value."
    low, high = data.iloc[0], data.iloc[-1]
    return (
        f"Map of {len(df):,} wards shaded by {title} (darker is higher). Highest: "
        f"{high['ward_name']} ({theme.fmt_kpi(high[value], unit)}); lowest: {low['ward_name']} "
        f"({theme.fmt_kpi(low[value], unit)}).{none} The table below lists the wards."
    )


def describe_representation(df: pd.DataFrame, threshold: float) -> str:
    """Which groups are under-represented."""
    data = df.dropna(subset=["ratio"])
    if data.empty:
        return "Representation: no participants with a known group in this scope."
    under = data[data["under_represented"].astype(bool)]
    if under.empty:
        return f"No group has a representation ratio below {threshold}."
    names = ", ".join(f"{r.group_label} ({r.ratio:.2f})" for r in under.itertuples())
    return f"Under-represented (ratio below {threshold}): {names}."
