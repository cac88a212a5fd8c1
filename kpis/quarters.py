"""Financial-year quarters in their canonical spelling (`2025-26 Q2`): dates, neighbours, ranges.

Parsing every accepted spelling belongs to `etl.normalise.parse_quarter`, so the CLI and the
loader read quarters the same way; the arithmetic below only ever sees canonical text.
"""

from __future__ import annotations

import datetime as dt
import re

_CANONICAL = re.compile(r"^(\d{4})-(\d{2}) Q([1-4])$")


def parse_quarter(text: str) -> str:
    """Read a quarter in any spelling the contract accepts; raise ValueError with a clear message."""
    from etl.normalise import parse_quarter as etl_parse_quarter  # one parser for the whole product

    return etl_parse_quarter(text)


def _parts(quarter: str) -> tuple[int, int]:
    m = _CANONICAL.match(quarter)
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise ValueError(f"'{quarter}' is not a canonical quarter such as 2025-26 Q2")
    return int(m.group(1)), int(m.group(3))


def _make(fy_start: int, q: int) -> str:
    return f"{fy_start}-{(fy_start + 1) % 100:02d} Q{q}"


def financial_year(quarter: str) -> str:
    """The financial year a quarter belongs to, as targets spell it: `2025-26`."""
    _parts(quarter)  # validates
    return quarter[:7]


def quarter_start(quarter: str) -> dt.date:
    """First day of the quarter (Q1 starts 1 April)."""
    fy, q = _parts(quarter)
    month = 3 * q + 1  # Q1 -> 4, Q2 -> 7, Q3 -> 10, Q4 -> 13 (January of the next year)
    return dt.date(fy + (month > 12), (month - 1) % 12 + 1, 1)


def quarter_end(quarter: str) -> dt.date:
    """Last day of the quarter."""
    return quarter_start(shift_quarter(quarter, 1)) - dt.timedelta(days=1)


def shift_quarter(quarter: str, by: int) -> str:
    """The quarter `by` quarters later (negative: earlier)."""
    fy, q = _parts(quarter)
    index = fy * 4 + (q - 1) + by
    return _make(index // 4, index % 4 + 1)


def previous_quarter(quarter: str) -> str:
    """The quarter before."""
    return shift_quarter(quarter, -1)


def same_quarter_last_year(quarter: str) -> str:
    """The same quarter of the previous financial year."""
    return shift_quarter(quarter, -4)


def last_quarters(quarter: str, n: int = 4) -> tuple[str, ...]:
    """The n quarters ending at `quarter`, oldest first."""
    return tuple(shift_quarter(quarter, i) for i in range(1 - n, 1))


def quarters_between(first: str, last: str) -> list[str]:
    """Every quarter from `first` to `last` inclusive, oldest first (empty if last < first)."""
    fy1, q1 = _parts(first)
    fy2, q2 = _parts(last)
    count = (fy2 * 4 + q2) - (fy1 * 4 + q1) + 1
    return [shift_quarter(first, i) for i in range(max(count, 0))]


def quarter_of_date(day: dt.date) -> str:
    """The quarter a date falls in."""
    fy = day.year - (day.month < 4)
    return _make(fy, (day.month - 4) % 12 // 3 + 1)
