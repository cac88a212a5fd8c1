"""Rejection reports for people: a terminal table grouped by file line (JSON comes from Outcome.as_dict)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from etl.validate import Problem

_VALUE_WIDTH = 24


def with_article(words: str) -> str:
    """'a lead', 'an admin', 'an other partner': the indefinite article a reader expects before `words`."""
    return f"{'an' if words[:1].lower() in 'aeiou' and words[:1] else 'a'} {words}"


def _short(value: str | None) -> str:
    if value is None:
        return ""
    value = value.replace("\n", "\\n")
    return value if len(value) <= _VALUE_WIDTH else value[: _VALUE_WIDTH - 1] + "…"


def problems_text(problems: Sequence[Problem], width: int = 100) -> str:
    """A terminal table: one block per file line, one row per problem on it."""
    if not problems:
        return ""
    col_w = max([6, *(len(p.column or "") for p in problems)])
    col_w = min(col_w, 28)
    val_w = max([5, *(len(_short(p.value)) + 2 for p in problems)])
    reason_w = max(30, width - 8 - col_w - val_w - 6)
    head = f"{'line':>6}  {'column':<{col_w}}  {'value':<{val_w}}  reason"
    out = [head, "-" * min(width, len(head) + reason_w - 6)]
    last_line: object = object()
    for p in problems:
        line = "" if p.line == last_line else ("file" if p.line is None else str(p.line))
        last_line = p.line
        value = f"'{_short(p.value)}'" if p.value not in (None, "") else ("(blank)" if p.value == "" else "")
        wrapped = textwrap.wrap(p.reason, reason_w) or [""]
        out.append(f"{line:>6}  {(p.column or '')[:col_w]:<{col_w}}  {value:<{val_w}}  {wrapped[0]}")
        pad = " " * (6 + 2 + col_w + 2 + val_w + 2)
        out.extend(pad + w for w in wrapped[1:])
    return "\n".join(out)
