"""Financial-year quarters: reading every accepted spelling, and arithmetic on the canonical one.

UK local-government financial years start on 1 April: Q1 is April-June ... Q4 January-March. The
canonical spelling is `2025-26 Q2`; `parse_quarter` reads the contract's variants, and everything
else here only ever sees canonical text.
"""

from __future__ import annotations

import datetime as dt
import re

# Patterns use [0-9], not \d, which also matches digits of other scripts.
_Q_YEAR_FIRST = re.compile(r"^(?:fy\s*)?([0-9]{4})\s*[-/]\s*([0-9]{2}|[0-9]{4})\s*[-\s]?\s*q\s*([1-4])$")
_Q_QUARTER_FIRST = re.compile(r"^q\s*([1-4])\s*[-\s]?\s*(?:fy\s*)?([0-9]{4})\s*[-/]\s*([0-9]{2}|[0-9]{4})$")


def parse_quarter(text: str) -> str:
    """Read a financial-year quarter in any accepted spelling; return it as `2025-26 Q2`."""
    key = " ".join(str(text).split()).lower()  # case- and space-insensitive
    m = _Q_YEAR_FIRST.match(key)
    if m:
        start, end, q = m.group(1), m.group(2), m.group(3)
    else:
        m = _Q_QUARTER_FIRST.match(key)
        if not m:
            raise ValueError(
                f"'{text}' is not a quarter: write it like 2025-26 Q2 (financial year, then Q1-Q4)"
            )
        q, start, end = m.group(1), m.group(2), m.group(3)
    first = int(start)
    second = int(end) if len(end) == 4 else (first // 100) * 100 + int(end)
    if second != first + 1:
        raise ValueError(
            f"'{text}' is not a quarter: the financial year must run over two consecutive years, "
            f"like {first}-{(first + 1) % 100:02d}"
        )
    return f"{first:04d}-{second % 100:02d} Q{q}"


DEFAULT_DEADLINE_AFTER = dt.timedelta(weeks=6)
"""Returns are due this long after their quarter ends unless an administrator sets a deadline."""


def default_deadline(quarter: str) -> dt.date:
    """The deadline a quarter has when none is set: DEFAULT_DEADLINE_AFTER after its last day."""
    return quarter_end(quarter) + DEFAULT_DEADLINE_AFTER


_CANONICAL = re.compile(r"^([0-9]{4})-([0-9]{2}) Q([1-4])$")


def _parts(quarter: str) -> tuple[int, int]:
    m = _CANONICAL.match(quarter)
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise ValueError(f"'{quarter}' is not a canonical quarter such as 2025-26 Q2")
    return int(m.group(1)), int(m.group(3))


def _make(fy_start: int, q: int) -> str:
    return f"{fy_start:04d}-{(fy_start + 1) % 100:02d} Q{q}"


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


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """First and last day of a canonical quarter."""
    return quarter_start(quarter), quarter_end(quarter)
