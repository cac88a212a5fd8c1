"""Filters that live in the URL (st.query_params), so a shared link reopens the same view.

A filter reads the URL once per session (when its widget has no state yet), then the widget
owns the value and writes it back to the URL on every run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

QUARTER_KEY = "quarter"


def url_select(
    label: str,
    options: Sequence[str],
    *,
    key: str,
    param: str,
    default: str | None = None,
    format_func: Callable[[Any], str] = str,
    where: Any = None,
    help: str | None = None,
    clear_value: str | None = None,
) -> str:
    """A selectbox whose value is mirrored in the URL query parameter `param`.

    `clear_value` is the option meaning 'no filter': when chosen, the parameter is removed.
    """
    options = list(options)
    fallback = default if default in options else options[0]
    current = st.session_state.get(key)
    if current is None or current not in options:
        wanted = st.query_params.get(param)
        st.session_state[key] = wanted if wanted in options else fallback
    box = (where or st).selectbox(label, options, key=key, format_func=format_func, help=help)
    if clear_value is not None and box == clear_value:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != box:
        st.query_params[param] = box
    return box


def chosen_quarter() -> str | None:
    """The quarter picked in the shared sidebar (None when the warehouse has no returns yet)."""
    return st.session_state.get(QUARTER_KEY)
