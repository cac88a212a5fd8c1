"""Completeness: which of the returns a figure needs are in, and which are missing.

A quarter expects one return of each type from every directorate (contract, 'Completeness'). A
KPI needs only the return its family is computed from (`KpiDefinition.return_type`: budget KPIs
the budget return, engagement KPIs the engagement return, partnership KPIs the register), from
every directorate in its scope, for every quarter in its scope. Ward and neighbourhood figures
need every directorate's return (any directorate may have rows in any ward). A figure missing
any of them is 'incomplete': pages say so in words (`Completeness.words`) and never present its
change on the previous quarter as a rise or fall (`kpis.kpi_trend` blanks `change` then).

How a page uses it:
- a tile or a KPI row: `kpi_completeness(con, scope)[kpi].words` next to the figure, and a marker
  where `.complete` is False; `completeness_frame(con, scope)` is the same as a frame for exports;
- a trend: `kpi_trend` rows carry `complete`, `comparable` and `completeness` (words);
- a league or `kpi_table` row: `completeness_table(con, quarter, by)` (one row per group x KPI);
- the overview's returns position: `reporting_status(con, today)` (current reporting quarter,
  overdue returns named and dated, how old the newest figures are, in words).

The deadline rule lives in `etl.quarters` (`default_deadline`): a quarter's deadline is the one an
administrator set, else that default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from etl.contract import RETURN_TYPES
from etl.quarters import (
    default_deadline,
    parse_quarter,
    quarter_end,
    quarter_of_date,
    quarters_between,
    shift_quarter,
)
from kpis import methodology as m
from kpis.engine import KEY_COLUMNS, Scope, _check_by, quarters_with_data, run_sql

RETURN_NOUNS: dict[str, tuple[str, str]] = {
    "budget": ("devolved budget return", "devolved budget returns"),
    "engagement": ("engagement activity return", "engagement activity returns"),
    "partnerships": ("partnership register", "partnership registers"),
}
"""Each return type as words in a sentence, singular and plural."""


# ---------------------------------------------------------------------------------------------
# Expected returns


def expected_returns(
    con: duckdb.DuckDBPyConnection, quarters: Sequence[str], directorates: Sequence[str] = ()
) -> pd.DataFrame:
    """Every expected return: quarter, directorate, return_type, received (bool), received_at,
    submission_id; for each quarter, directorate (all when empty) and return type."""
    if isinstance(quarters, str):
        quarters = (quarters,)
    if isinstance(directorates, str):
        directorates = (directorates,)
    frame = run_sql(
        con,
        "expected_returns.sql",
        quarters=[parse_quarter(q) for q in quarters],
        directorates=list(directorates),
    )
    frame["received"] = frame["received"].astype(bool)
    return frame


@dataclass(frozen=True)
class Completeness:
    """Whether the returns one figure needs are in: counts, who is missing, and in words."""

    return_type: str
    quarters: tuple[str, ...]
    expected: int
    received: int
    missing: tuple[tuple[str, str], ...] = field(default=())  # (quarter, directorate)
    directorates: tuple[str, ...] = ()  # the directorates in scope, reference order

    @property
    def complete(self) -> bool:
        """Every expected return is in (a scope with no directorate expects nothing)."""
        return self.received == self.expected

    @property
    def missing_directorates(self) -> tuple[str, ...]:
        """The directorates with a missing return, each once, in reference order."""
        return tuple(dict.fromkeys(d for _, d in self.missing))

    @property
    def words(self) -> str:
        """A plain sentence, e.g. "5 of 6 directorates' partnership registers received; missing:
        Children and Families"."""
        one, many = RETURN_NOUNS[self.return_type]
        if self.expected == 0:
            return f"No {many} are expected: no directorate is in the reference data."
        several = len(self.quarters) > 1
        when = f" for {_quarter_span(self.quarters)}" if several else ""
        if len(self.directorates) == 1 and not several:
            state = "received" if self.complete else "not yet received"
            return f"{_possessive(self.directorates[0])} {one} {state}."
        if self.complete:
            whose = "" if several else " directorates'"
            return f"All {self.expected}{whose} {many} received{when}."
        if several:
            gone = ", ".join(f"{d} ({q})" for q, d in self.missing)
            return f"{self.received} of {self.expected} {many} received{when}; missing: {gone}."
        return (
            f"{self.received} of {self.expected} directorates' {many} received; missing: "
            f"{', '.join(self.missing_directorates)}."
        )


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _quarter_span(quarters: Sequence[str]) -> str:
    ordered = sorted(quarters)
    if ordered == quarters_between(ordered[0], ordered[-1]) and len(ordered) > 1:
        return f"{ordered[0]} to {ordered[-1]}"
    return ", ".join(ordered)


Expected = list[tuple[str, str, str, bool]]
"""`expected_returns` rows as plain tuples: (return_type, quarter, directorate, received)."""


def _records(expected: pd.DataFrame) -> Expected:
    """The rows of an `expected_returns` frame as plain tuples (a league or trend summarises them
    dozens of times: plain Python, not a frame operation each time)."""
    return list(zip(expected["return_type"].tolist(), expected["quarter"].astype(str).tolist(),
                    expected["directorate"].tolist(), expected["received"].astype(bool).tolist(),
                    strict=True))  # fmt: skip


def _summarise(expected: Expected, return_type: str, quarters: Sequence[str]) -> Completeness:
    wanted = set(quarters)
    part = [(q, d, got) for t, q, d, got in expected if t == return_type and q in wanted]
    return Completeness(
        return_type=return_type,
        quarters=tuple(quarters),
        expected=len(part),
        received=sum(got for _, _, got in part),
        missing=tuple((q, d) for q, d, got in part if not got),
        directorates=tuple(dict.fromkeys(d for _, d, _ in part)),
    )


def kpi_completeness(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, Completeness]:
    """For each KPI (contract order), the completeness of the returns it needs in `scope`.

    KPIs of one family share one Completeness. Use `.words` beside the figure and `.complete` to
    mark it; `.received`/`.expected`/`.missing_directorates` for a table.
    """
    return completeness_of(expected_returns(con, scope.quarters, scope.directorates), scope.quarters)


def completeness_of(expected: pd.DataFrame, quarters: Sequence[str]) -> dict[str, Completeness]:
    """`kpi_completeness` from `expected_returns` rows already read (those of the scope only)."""
    return _per_kpi(_records(expected), quarters)


def completeness_by_directorate(
    expected: pd.DataFrame, quarters: Sequence[str]
) -> dict[str, dict[str, Completeness]]:
    """`completeness_of` for each directorate of `expected_returns` rows (first-seen order)."""
    rows: dict[str, Expected] = {}
    for row in _records(expected):
        rows.setdefault(row[2], []).append(row)
    return {d: _per_kpi(mine, quarters) for d, mine in rows.items()}


def _per_kpi(expected: Expected, quarters: Sequence[str]) -> dict[str, Completeness]:
    by_type = {t: _summarise(expected, t, quarters) for t in RETURN_TYPES}
    return {k.name: by_type[k.return_type] for k in m.KPIS}


def completeness_frame(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """`kpi_completeness` as a frame: kpi, return_type, received, expected, complete,
    missing_directorates (a '; '-joined text), words."""
    return _as_frame(kpi_completeness(con, scope))


def _as_frame(found: dict[str, Completeness]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "kpi": kpi,
                "return_type": c.return_type,
                "received": c.received,
                "expected": c.expected,
                "complete": c.complete,
                "missing_directorates": "; ".join(c.missing_directorates),
                "words": c.words,
            }
            for kpi, c in found.items()
        ],
        columns=["kpi", "return_type", "received", "expected", "complete",
                 "missing_directorates", "words"],
    )  # fmt: skip


def completeness_table(con: duckdb.DuckDBPyConnection, quarter: str, by: str) -> pd.DataFrame:
    """Completeness of each row of `kpi_table(quarter, by)` (and so of each league row): the key
    column (none for council), kpi, return_type, received, expected, complete,
    missing_directorates, words; one row per group x KPI, groups in kpi_table's order.

    A directorate's row needs that directorate's returns; a neighbourhood's or ward's needs
    every directorate's (so all their rows read the same).
    """
    _check_by(by)
    quarter = parse_quarter(quarter)
    expected = expected_returns(con, (quarter,))
    key = KEY_COLUMNS[by]
    if by == "directorate":
        found = completeness_by_directorate(expected, (quarter,))
        parts = [_as_frame(found[g]).assign(**{key: g}) for g in sorted(found, key=str)]
        frame = pd.concat(parts, ignore_index=True) if parts else _as_frame({}).assign(**{key: []})
    else:
        whole = _as_frame(completeness_of(expected, (quarter,)))
        if key is None:
            return whole
        column = "neighbourhood" if by == "neighbourhood" else "ward_code"
        groups = sorted(  # the wards of the quarter's ward set (docs/ward-vintages.md)
            con.execute(f"SELECT DISTINCT {column} FROM ward_history WHERE ? >= span_from "  # noqa: S608
                        "AND (span_until IS NULL OR ? < span_until)", [quarter, quarter]).df()[column],
            key=str,
        )
        frame = whole.merge(pd.DataFrame({key: groups}), how="cross")
    return frame[[key, *[c for c in frame.columns if c != key]]].reset_index(drop=True)


def trend_completeness(
    con: duckdb.DuckDBPyConnection, scope: Scope, quarters: Sequence[str]
) -> pd.DataFrame:
    """For each quarter and KPI: complete, previous_complete (the quarter before), comparable
    (both complete: only then may a change be called a rise or fall) and words (the quarter's
    completeness, plus why a change is not comparable where it is not)."""
    quarters = [parse_quarter(q) for q in quarters]
    wanted = sorted({*quarters, *(shift_quarter(q, -1) for q in quarters)})
    # the rows of each (return type, quarter), so that each summary reads its own rows only
    # (41 quarters x 3 types over every row was 37 ms of a national trend)
    expected: dict[tuple[str, str], Expected] = {}
    for row in _records(expected_returns(con, wanted, scope.directorates)):
        expected.setdefault((row[0], row[1]), []).append(row)
    cache: dict[tuple[str, str], Completeness] = {}

    def get(q: str, t: str) -> Completeness:
        if (q, t) not in cache:
            cache[(q, t)] = _summarise(expected.get((t, q), []), t, (q,))
        return cache[(q, t)]

    rows = []
    for q in quarters:
        for k in m.KPIS:
            now, before = get(q, k.return_type), get(shift_quarter(q, -1), k.return_type)
            words = now.words
            if not before.complete:
                words += f" Not comparable with {shift_quarter(q, -1)}: {before.words}"
            rows.append({"quarter": q, "kpi": k.name, "complete": now.complete,
                         "previous_complete": before.complete,
                         "comparable": now.complete and before.complete, "completeness": words})
    return pd.DataFrame(rows, columns=["quarter", "kpi", "complete", "previous_complete",
                                       "comparable", "completeness"])  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Deadlines and the overview's returns position


def deadlines_for(con: duckdb.DuckDBPyConnection, quarters: Sequence[str]) -> dict[str, tuple[dt.date, str]]:
    """Each quarter's deadline and where it comes from: ('set' by an administrator) or 'default'
    (`etl.quarters.default_deadline`)."""
    rows = con.execute(
        "SELECT quarter, due_date FROM deadlines WHERE list_contains($q, quarter)",
        {"q": list(quarters)},
    ).fetchall()
    found = {q: (pd.Timestamp(d).date(), "set") for q, d in rows}
    return {q: found.get(q, (default_deadline(q), "default")) for q in quarters}


def reporting_quarter(con: duckdb.DuckDBPyConnection, today: dt.date | None = None) -> str:
    """The quarter returns are being collected for now, whether or not anything has arrived.

    The most recent quarter that has ended; but while the quarter before it is still within its
    deadline, that one (the later quarter's returns are not due yet, and leads are still sending).
    """
    today = today or dt.date.today()
    last_ended = shift_quarter(quarter_of_date(today), -1)
    earlier = shift_quarter(last_ended, -1)
    due, _ = deadlines_for(con, [earlier])[earlier]
    return earlier if today <= due else last_ended


@dataclass(frozen=True)
class ReportingStatus:
    """Where returns stand today (see `reporting_status`)."""

    today: dt.date
    quarter: str  # the current reporting quarter
    due: dt.date  # its deadline
    due_source: str  # 'set' or 'default'
    received: int  # its returns received ...
    expected: int  # ... of those expected
    overdue: pd.DataFrame  # quarter, directorate, return_type, return_title, due, days_overdue
    latest_with_data: str | None  # the newest quarter with any current return
    quarters_behind: int | None  # quarters from latest_with_data to `quarter` (0 = up to date)
    months_old: int | None  # whole months since latest_with_data ended
    words: tuple[str, ...]  # the sentences an overview shows, in order


def reporting_status(con: duckdb.DuckDBPyConnection, today: dt.date | None = None) -> ReportingStatus:
    """The overview's returns position: the current reporting quarter (from today and the
    deadlines, even when nothing has arrived), how many of its returns are in, every overdue
    return named and dated, and how old the newest figures are, with sentences to show.

    Overdue: a return not received for a quarter whose deadline has passed, for every quarter from
    the first with any data (or the reporting quarter, if earlier than that or nothing has come)
    to the reporting quarter. Oldest quarter first.
    """
    from etl.contract import RETURN_TITLES

    today = today or dt.date.today()
    quarter = reporting_quarter(con, today)
    have = quarters_with_data(con)
    first = min([quarter, *have[:1]])
    span = quarters_between(first, max([quarter, *have[-1:]]))
    due = deadlines_for(con, span)
    expected = expected_returns(con, span)
    now = expected[expected["quarter"] == quarter]
    late = expected[~expected["received"] & expected["quarter"].map(lambda q: today > due[q][0])]
    overdue = pd.DataFrame({
        "quarter": late["quarter"].to_numpy(),
        "directorate": late["directorate"].to_numpy(),
        "return_type": late["return_type"].to_numpy(),
        "return_title": late["return_type"].map(RETURN_TITLES).to_numpy(),
        "due": [due[q][0] for q in late["quarter"]],
        "days_overdue": [(today - due[q][0]).days for q in late["quarter"]],
    })  # fmt: skip
    latest = have[-1] if have else None
    behind = len(quarters_between(latest, quarter)) - 1 if latest else None
    months = _months_between(quarter_end(latest), today) if latest else None
    status = ReportingStatus(
        today=today, quarter=quarter, due=due[quarter][0], due_source=due[quarter][1],
        received=int(now["received"].sum()), expected=len(now), overdue=overdue,
        latest_with_data=latest, quarters_behind=behind if behind is None else max(behind, 0),
        months_old=months, words=(),
    )  # fmt: skip
    return _with_words(status)


def _months_between(start: dt.date, end: dt.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return max(months - (end.day < start.day), 0)


def _date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _overdue_names(part: pd.DataFrame, expected: int) -> str:
    """'all 18 returns' when nothing came; else each directorate with its missing returns."""
    n = len(part)
    if n == expected:
        return f"all {n} returns"
    per = part.groupby("directorate", sort=False)["return_title"].agg(list)
    names = "; ".join(
        f"{d}: {'all ' + str(len(RETURN_TYPES)) + ' returns' if len(t) == len(RETURN_TYPES) else ', '.join(t)}"
        for d, t in per.items()
    )
    return f"{n} return{'s' if n != 1 else ''}: {names}"


def _with_words(s: ReportingStatus) -> ReportingStatus:
    passed = s.today > s.due
    lines = [
        f"Current reporting quarter: {s.quarter}. Returns "
        f"{'were' if passed else 'are'} due by {_date(s.due)}"
        f"{'' if s.due_source == 'set' else ' (the default deadline)'}; "
        f"{s.received} of {s.expected} received."
    ]
    if s.overdue.empty:
        lines.append("No return is overdue.")
    else:
        for q, part in s.overdue.groupby("quarter", sort=True):
            due, days = part["due"].iloc[0], int(part["days_overdue"].iloc[0])
            lines.append(f"Overdue for {q} (due {_date(due)}, {days} day{'s' if days != 1 else ''} "
                         f"ago): {_overdue_names(part, s.expected)}.")
    if s.latest_with_data is None:
        lines.append("No figures yet: no return has been received for any quarter.")
    elif s.quarters_behind == 0:
        lines.append(f"The newest figures are for the current reporting quarter, {s.quarter}.")
    else:
        ago = (f"{s.months_old} month{'s' if s.months_old != 1 else ''}"
               if s.months_old else "less than a month")  # fmt: skip
        behind = s.quarters_behind
        lines.append(
            f"The newest figures are for {s.latest_with_data}, {behind} quarter"
            f"{'s' if behind != 1 else ''} before the current reporting quarter; that quarter "
            f"ended {ago} ago ({_date(quarter_end(s.latest_with_data))})."
        )
    return ReportingStatus(**{**s.__dict__, "words": tuple(lines)})
