"""360Giving files into the warehouse's partnership registers, and community grants back out.

Import: every quarter the grants touch gets the directorate's full register again - the rows
already stored for that quarter merged with the grant-funded partners (etl.giving360.merge) -
submitted through the same validation, supersede rule and submission history as a register a
lead uploads (etl.load.store_return), all quarters in one warehouse write: the whole file is
stored or nothing is. An unchanged quarter is an identical re-send (logged, nothing else).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from etl import contract as c
from etl import giving360 as g3
from etl import warehouse
from etl.load import store_return
from etl.quarters import quarter_of_date
from etl.read import ReadError, read_table
from etl.records import Outcome
from etl.reference import ward_set_of, ward_sets
from etl.warehouse import WarehouseLike

META_FUNDER_ID = "360giving_funder_id"
META_FUNDER_NAME = "360giving_funder_name"
META_PREFIX = "360giving_prefix"


@dataclass
class Imported:
    """What an import did: per-quarter outcomes and the report lines."""

    ok: bool
    report: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    outcomes: dict[str, Outcome] = field(default_factory=dict)


def read_grants(content: bytes, file_name: str) -> list[g3.Grant]:
    """Grants from a 360Giving file: JSON if it looks like JSON, else the flattened CSV/.xlsx."""
    if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") or file_name.lower().endswith(".json"):
        return g3.read_json(content)
    try:
        raw = read_table(content, file_name, sheet="grants")
    except ReadError as exc:
        raise g3.GivingError([str(exc)]) from exc
    return g3.read_csv(raw)


def _register_csv(directorate: str, quarter: str, rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    cols = c.RETURN_COLUMNS["partnerships"]
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in sorted(rows, key=lambda r: r["partnership_id"]):
        w.writerow({**r, "directorate": directorate, "quarter": quarter})
    return buf.getvalue().encode("utf-8")


def _stored(con: Any, directorate: str, quarter: str) -> list[dict[str, Any]]:
    frame = con.execute(
        """
        SELECT partnership_id, partner_name, partner_type, arrangement, ward_code,
               strftime(start_date, '%Y-%m-%d') AS start_date, strftime(end_date, '%Y-%m-%d') AS end_date,
               CAST(annual_value_gbp AS VARCHAR) AS annual_value_gbp, CAST(lease_years AS VARCHAR) AS lease_years
        FROM partnerships WHERE directorate = ? AND quarter = ? ORDER BY line_no
        """,
        [directorate, quarter],
    ).fetchall()
    names = ["partnership_id", "partner_name", "partner_type", "arrangement", "ward_code", "start_date",
             "end_date", "annual_value_gbp", "lease_years"]
    return [{k: ("" if v is None else v) for k, v in zip(names, row, strict=True)} for row in frame]


def import_360giving(
    db: WarehouseLike,
    *,
    directorate: str,
    content: bytes,
    file_name: str,
    user: str,
    mapping: dict[str, str] | None = None,
    first_quarter: str | None = None,
    last_quarter: str | None = None,
    today: dt.date | None = None,
) -> Imported:
    """Import a 360Giving file into `directorate`'s registers (all quarters or none)."""
    try:
        return _import(db, directorate=directorate, content=content, file_name=file_name, user=user,
                       mapping=mapping, first_quarter=first_quarter, last_quarter=last_quarter, today=today)
    except _Rejected as exc:
        result = exc.result
        bad = [q for q, o in result.outcomes.items() if not o.ok]
        result.report.append(f"Rejected: the register of {len(bad)} quarter(s) had problems ({', '.join(bad[:5])}), "
                             "so nothing of the file was stored")
        return result


class _Rejected(Exception):
    def __init__(self, result: Imported):
        super().__init__("rejected")
        self.result = result


def _import(
    db: WarehouseLike,
    *,
    directorate: str,
    content: bytes,
    file_name: str,
    user: str,
    mapping: dict[str, str] | None,
    first_quarter: str | None,
    last_quarter: str | None,
    today: dt.date | None,
) -> Imported:
    grants = read_grants(content, file_name)
    last = last_quarter or quarter_of_date(today or dt.date.today())
    with warehouse.write(db) as con:
        sets = ward_sets(con)  # a quarter's grants are mapped to that quarter's wards
        wards = set().union(*(s.codes for s in sets)) if sets else set()

        def quarter_wards(quarter: str) -> set[str]:
            vintage = ward_set_of(con, quarter)
            return set(next((s.codes for s in sets if s.vintage == vintage), ()))

        mapped = g3.to_partnerships(grants, ward_codes=wards, mapping=mapping, last_quarter=last,
                                    first_quarter=first_quarter, quarter_wards=quarter_wards)
        result = Imported(True, list(mapped.report), list(mapped.skipped))
        kept = replaced = 0
        counts = {"accepted": 0, "identical": 0}
        for quarter in sorted(mapped.rows):
            stored = _stored(con, directorate, quarter)
            rows, k, r = g3.merge(stored, mapped.rows[quarter])
            kept, replaced = kept + k, replaced + r
            outcome = store_return(
                con, return_type="partnerships", directorate=directorate, quarter=quarter,
                content=_register_csv(directorate, quarter, rows),
                file_name=f"{file_name} (360Giving, {quarter} register)", user=user,
            )
            result.outcomes[quarter] = outcome
            if not outcome.ok:
                result.ok = False
            else:
                counts[outcome.status] += 1
        if not result.ok:
            raise _Rejected(result)  # the write rolls back: nothing of the file is stored
        for key, value in ((META_FUNDER_ID, mapped.funder_id), (META_FUNDER_NAME, mapped.funder_name),
                           (META_PREFIX, mapped.grant_prefix)):
            if value:
                con.execute("DELETE FROM meta WHERE key = ?", [key])  # one row per key
                con.execute("INSERT INTO meta VALUES (?, ?)", [key, value])
    quarters = sorted(mapped.rows)
    span = f" ({quarters[0]} to {quarters[-1]})" if quarters else ""
    result.report.append(
        f"{directorate}: {len(quarters)} quarter register(s){span}: {counts['accepted']} stored as new submissions, "
        f"{counts['identical']} unchanged (identical re-sends)")
    result.report.append(
        f"merge: {kept} partnership row(s) already stored and not in the file were kept as they were; "
        f"{replaced} stored row(s) with a partnership_id the file names were replaced by the file's figures")
    return result


@dataclass
class Exported:
    """A 360Giving package and what was left out of it."""

    package: dict[str, Any]
    skipped: list[str]
    report: list[str]


class MissingFunder(Exception):
    """The funder's identity is neither given nor stored by an earlier import."""


def export_360giving(
    db: WarehouseLike,
    *,
    funder_id: str | None = None,
    funder_name: str | None = None,
    prefix: str | None = None,
    published: dt.date | None = None,
) -> Exported:
    """The council's grant_funding partnerships (current registers) as a 360Giving package."""
    with warehouse.read_only(db) as con:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        frame = con.execute(
            """
            SELECT directorate, quarter, partnership_id, partner_name, partner_type, ward_code,
                   start_date, end_date, CAST(annual_value_gbp AS DOUBLE) AS annual_value_gbp
            FROM partnerships WHERE arrangement = 'grant_funding'
            ORDER BY directorate, partnership_id, quarter
            """
        ).df()
        ward_names = dict(con.execute(  # every set's wards (a grant keeps the ward of its quarter), newest name last
            "SELECT ward_code, ward_name FROM ward_history ORDER BY span_from").fetchall())
        pots = con.execute(
            "SELECT count(*), coalesce(sum(devolved_gbp), 0) FROM budget WHERE mechanism = 'community_grants'"
        ).fetchone()
    funder_id = funder_id or meta.get(META_FUNDER_ID)
    funder_name = funder_name or meta.get(META_FUNDER_NAME)
    prefix = prefix or meta.get(META_PREFIX)
    if not (funder_id and funder_name and prefix):
        raise MissingFunder(
            "360Giving needs the funder's org identifier and name and your registered grant prefix: give "
            "--funder-id (e.g. GB-LAE-TRF), --funder-name and --prefix (e.g. 360G-traffordmbc). They are "
            "remembered from an earlier import-360giving where one was done."
        )
    pkg, skipped = g3.package(frame, funder_id=funder_id, funder_name=funder_name, prefix=prefix,
                              ward_names=ward_names, published=published or dt.date.today())
    report = [f"{len(pkg['grants'])} grant(s) from {frame['partnership_id'].nunique() if len(frame) else 0} "
              f"grant_funding partnership(s); {len(skipped)} left out",
              f"funder {funder_id} ({funder_name}); grant identifiers start {prefix}-"]
    if pots[0]:
        report.append(f"{pots[0]} community_grants budget line(s) (£{float(pots[1]):,.2f} devolved) are pots, "
                      "not grants to a recipient: they are not in the package")
    return Exported(pkg, skipped, report)
