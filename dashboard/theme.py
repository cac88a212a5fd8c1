"""One look for every chart and one way to write every number (British English, £ and %).

The palette is Okabe-Ito (Okabe and Ito, 2008), distinguishable with the common forms of colour
blindness. Colour never carries meaning alone: RAG statuses always come with a label and icon.
"""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from etl import contract
from kpis.methodology import display_round

# Okabe-Ito, ordered so the first colours have the strongest contrast on white.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
# A sequential scale for maps (light to dark blue: darker = more), readable in greyscale too.
SEQUENTIAL: list[list[Any]] = [
    [0.0, "#f7fbff"],
    [0.25, "#c6dbef"],
    [0.5, "#6baed6"],
    [0.75, "#2171b5"],
    [1.0, "#08306b"],
]
# RAG colours chosen from Okabe-Ito, for the few places a status is drawn (always with text).
RAG_COLOURS: dict[str, str] = {
    "green": "#009E73",
    "amber": "#E69F00",
    "red": "#D55E00",
    "grey": "#999999",
}
TEXT = "#1a1a1a"
FONT = "Source Sans Pro, Arial, sans-serif"
TEMPLATE_NAME = "localism"  # pages pass theme=None to st.plotly_chart so this, not Streamlit's, applies


def scale_colour(position: float, scale: list[list[Any]] = SEQUENTIAL) -> str:
    """The colour (#rrggbb) at `position` (0-1) of a colour scale, interpolated in sRGB as Plotly does."""
    t = min(1.0, max(0.0, float(position)))
    for (a, ca), (b, cb) in zip(scale, scale[1:], strict=False):
        if t <= b:
            f = 0.0 if b == a else (t - a) / (b - a)
            ra, rb = _rgb(ca), _rgb(cb)
            return "#" + "".join(f"{round(x + (y - x) * f):02x}" for x, y in zip(ra, rb, strict=True))
    return scale[-1][1]


def _rgb(colour: str) -> tuple[int, int, int]:
    h = colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    def lin(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def text_on(background: str) -> str:
    """Black or white, whichever contrasts more with `background` (at least 4.58:1 on any colour)."""
    return max(("#000000", "#ffffff"), key=lambda fg: contrast_ratio(fg, background))


def _template() -> go.layout.Template:
    return go.layout.Template(
        layout=go.Layout(
            colorway=list(OKABE_ITO),
            font={"family": FONT, "size": 14, "color": TEXT},
            title={"font": {"size": 17}, "x": 0, "xanchor": "left"},
            paper_bgcolor="#ffffff",
            plot_bgcolor="#ffffff",
            xaxis={"gridcolor": "#e5e5e5", "linecolor": "#595959", "ticks": "outside",
                   "zerolinecolor": "#bdbdbd", "automargin": True},
            yaxis={"gridcolor": "#e5e5e5", "linecolor": "#595959", "ticks": "outside",
                   "zerolinecolor": "#bdbdbd", "automargin": True},
            legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
            margin={"l": 10, "r": 10, "t": 60, "b": 10},
            hoverlabel={"font": {"family": FONT}},
            separators=".,",  # decimal point, thousands comma (British)
        )
    )


pio.templates[TEMPLATE_NAME] = _template()


# ---------------------------------------------------------------------------------------------
# Number formats


def is_missing(value: Any) -> bool:
    """True for None, NaN and pandas' NA."""
    if value is None:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value)) or str(value) == "<NA>"
    except (TypeError, ValueError):
        return False


def fmt_gbp(value: Any, decimals: int = 0) -> str:
    """£1,234 (blank-safe: 'No data')."""
    if is_missing(value):
        return "No data"
    return f"£{float(value):,.{decimals}f}"


def fmt_pct(value: Any, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.123 -> 12.3%."""
    if is_missing(value):
        return "No data"
    return f"{100 * float(value):.{decimals}f}%"


def fmt_int(value: Any) -> str:
    """A whole number with thousands separators."""
    if is_missing(value):
        return "No data"
    return f"{round(float(value)):,}"


def fmt_kpi(value: Any, unit: str) -> str:
    """A KPI value in its unit: share as %, rate per 1,000 to 1 dp, count whole, index to 2 dp."""
    if is_missing(value):
        return "No data"
    value = display_round(value, unit)  # the one rounding rule, shared with the RAG status
    if unit == "share":
        return fmt_pct(value)
    if unit == "rate":
        return f"{float(value):,.1f}"
    if unit == "count":
        return fmt_int(value)
    return f"{float(value):.2f}"


def fmt_change(value: Any, unit: str) -> str | None:
    """A quarter-on-quarter change: '+2.3 pp' for shares, '+4' for counts; None if unknown."""
    if is_missing(value):
        return None
    v = float(value)
    if unit == "share":
        text = f"{100 * v:+.1f} pp"
    elif unit == "rate":
        text = f"{v:+,.1f}"
    elif unit == "count":
        text = f"{round(v):+,}"
    else:
        text = f"{v:+.2f}"
    # A change that rounds to nothing has no sign: "0.00", never "-0.00".
    return text[1:] if not any(ch in "123456789" for ch in text) else text


def label(code: str) -> str:
    """An enum code as words: 'participatory_budgeting' -> 'Participatory budgeting'."""
    return contract.label(code)


_MARKDOWN_SPECIALS = "\\`*_{}[]()<>#+-.!|~$"


def md_escape(text: str) -> str:
    """User text made inert for st.markdown: every markdown/HTML special character escaped."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in str(text))
