"""360Giving grants in and out: pure parsing and mapping (etl.giving360_io does the warehouse work).

In: a 360Giving file (flattened CSV with the standard column titles, or a JSON package) becomes
partnership register rows, one per recipient organisation per quarter:

* partnership_id = the recipient's org identifier (GB-CHC-..., GB-COH-..., 360G-...), stable
  across quarters and across files; partner_name = the recipient's name.
* partner_type from a mapping file (`identifier,partner_type`, per identifier or register
  prefix), else the recipient's organisation type where it is one of the contract's partner
  types (as this product exports it), else the identifier's register prefix (PARTNER_TYPES).
* arrangement = grant_funding; lease_years blank.
* Dates: a grant runs from its planned start date (else its award date) to its planned end date
  (else start + planned duration in months, less a day; else it is taken to last one day, so it
  is active in its award quarter only). An organisation's grants that overlap, follow on the
  next day or start in the quarter the previous one ended form one funding spell (a register
  has one row per partnership per quarter); the partnership is active in every quarter a
  spell touches, with the spell's start and end as start_date and end_date (so it counts as new
  in the quarter its spell began).
* ward_code: the grants' beneficiary locations of type WD that are wards of the council; when
  the grants active in a quarter name exactly one such ward it is used, otherwise borough-wide.
* annual_value_gbp: the sum over the grants active in the quarter of the amount awarded, per
  year (the amount itself for a grant of 12 months or less; amount x 12 / months for a longer
  one); blank if any of them is not in GBP. Budgets are never derived from grants.

Out: grant_funding partnerships become 360Giving grants (see `package`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from etl import contract as c
from etl.normalise import header_key
from etl.quarters import quarter_bounds, quarter_of_date, quarters_between
from etl.read import RawTable
from etl.report import with_article

# Register prefixes of org-id.guide identifiers -> the contract's partner types.
PARTNER_TYPES: dict[str, str] = {
    "GB-CHC": "vcse",  # Charity Commission for England and Wales
    "GB-SC": "vcse",  # Scottish Charity Regulator
    "GB-NIC": "vcse",  # Charity Commission for Northern Ireland
    "GB-REV": "vcse",  # charities registered with HMRC only
    "GB-MPR": "community_business",  # Mutuals Public Register: co-operatives, community benefit societies
    "GB-COH": "community_business",  # Companies House (a company with a charity number is a vcse)
    "GB-PC": "parish_town_council",  # as some funders write parish and town councils
    "360G": "vcse",  # funder-assigned: an unregistered community group
}
PARTNER_TYPE_NOTES: dict[str, str] = {
    "GB-COH": "registered companies without a charity number are taken to be community businesses",
    "360G": "identifiers assigned by the funder (unregistered community groups) are taken to be VCSE",
}


class GivingError(Exception):
    """The file is not a usable 360Giving file; `problems` says why."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Grant:
    """One grant as the mapping needs it."""

    where: str  # 'line 12' or 'grant 3'
    grant_id: str
    title: str
    currency: str
    amount: float | None
    award_date: dt.date | None
    start: dt.date | None
    end: dt.date | None
    months: float | None
    recipient_id: str
    recipient_name: str
    charity_number: str
    organisation_type: str = ""
    locations: list[tuple[str, str]] = field(default_factory=list)  # (code, code type)
    funder_id: str = ""
    funder_name: str = ""
    programme: str = ""
    description: str = ""


# ---------------------------------------------------------------------------------------------
# Reading


def _date(text: Any) -> dt.date | None:
    if text is None:
        return None
    t = str(text).strip()
    if not t:
        return None
    try:
        return dt.date.fromisoformat(t[:10])
    except ValueError:
        pass
    try:
        return dt.datetime.strptime(t, "%d/%m/%Y").date()
    except ValueError:
        return None


def _number(text: Any) -> float | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        value = float(str(text).replace(",", "").replace("£", "").strip())
    except ValueError:
        return None
    return value if value == value and value >= 0 else None  # NaN and negatives are not amounts


_CSV_FIELDS = {
    "identifier": "grant_id",
    "title": "title",
    "description": "description",
    "currency": "currency",
    "amountawarded": "amount",
    "awarddate": "award_date",
    "planneddates:startdate": "start",
    "planneddates:enddate": "end",
    "planneddates:duration(months)": "months",
    "recipientorg:identifier": "recipient_id",
    "recipientorg:name": "recipient_name",
    "recipientorg:charitynumber": "charity_number",
    "recipientorg:organisationtype": "organisation_type",
    "fundingorg:identifier": "funder_id",
    "fundingorg:name": "funder_name",
    "grantprogramme:title": "programme",
}
_LOCATION = re.compile(r"^beneficiarylocation(?::(\d+))?:geographiccode(type)?$")
_REQUIRED = ("identifier", "amountawarded", "awarddate")


def read_csv(raw: RawTable) -> list[Grant]:
    """Grants from a flattened 360Giving CSV (standard column titles)."""
    keys = [header_key(h).lower() for h in raw.header]
    missing = [k for k in _REQUIRED if k not in keys]
    if missing:
        raise GivingError([
            "This is not a 360Giving file: it needs the standard column titles Identifier, Amount Awarded, "
            "Award Date and Recipient Org:Identifier (360Giving's flattened CSV, or its JSON)."
        ])
    pos = {_CSV_FIELDS[k]: i for i, k in enumerate(keys) if k in _CSV_FIELDS}
    locations: dict[int, dict[str, int]] = defaultdict(dict)
    for i, k in enumerate(keys):
        m = _LOCATION.match(k)
        if m:
            locations[int(m[1] or 0)]["type" if m[2] else "code"] = i
    grants = []
    for line, row in raw.rows.iterrows():
        def get(name: str, row: pd.Series = row) -> str:
            return str(row[pos[name]]).strip() if name in pos else ""

        locs = [(str(row[p["code"]]).strip(), str(row[p["type"]]).strip().upper() if "type" in p else "")
                for _, p in sorted(locations.items()) if "code" in p and str(row[p["code"]]).strip()]
        grants.append(Grant(
            where=f"line {line}", grant_id=get("grant_id"), title=get("title"), currency=get("currency"),
            amount=_number(get("amount")), award_date=_date(get("award_date")), start=_date(get("start")),
            end=_date(get("end")), months=_number(get("months")), recipient_id=get("recipient_id"),
            recipient_name=get("recipient_name"), charity_number=get("charity_number"),
            organisation_type=get("organisation_type"), locations=locs,
            funder_id=get("funder_id"), funder_name=get("funder_name"), programme=get("programme"),
            description=get("description"),
        ))
    return grants


def read_json(content: bytes) -> list[Grant]:
    """Grants from a 360Giving JSON package ({"grants": [...]})."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GivingError([f"The file is not valid JSON ({exc})."]) from exc
    if not isinstance(data, dict) or not isinstance(data.get("grants"), list):
        raise GivingError(['This JSON is not a 360Giving package: it has no "grants" list.'])

    def first(obj: dict, key: str) -> dict:
        items = obj.get(key) or []
        return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}

    grants = []
    for i, g in enumerate(data["grants"], start=1):
        if not isinstance(g, dict):
            raise GivingError([f"grant {i} is not an object"])
        planned, org, funder, prog = (first(g, k) for k in ("plannedDates", "recipientOrganization",
                                                              "fundingOrganization", "grantProgramme"))
        locs = [(str(loc.get("geoCode", "")).strip(), str(loc.get("geoCodeType", "")).strip().upper())
                for loc in g.get("beneficiaryLocation") or [] if isinstance(loc, dict) and loc.get("geoCode")]
        grants.append(Grant(
            where=f"grant {i}", grant_id=str(g.get("id", "")).strip(), title=str(g.get("title", "")),
            currency=str(g.get("currency", "")), amount=_number(g.get("amountAwarded")),
            award_date=_date(g.get("awardDate")), start=_date(planned.get("startDate")),
            end=_date(planned.get("endDate")), months=_number(planned.get("duration")),
            recipient_id=str(org.get("id", "")).strip(), recipient_name=str(org.get("name", "")).strip(),
            charity_number=str(org.get("charityNumber", "")).strip(),
            organisation_type=str(org.get("organisationType") or "").strip(), locations=locs,
            funder_id=str(funder.get("id", "")), funder_name=str(funder.get("name", "")),
            programme=str(prog.get("title", "")), description=str(g.get("description", "")),
        ))
    return grants


def read_mapping(raw: RawTable) -> dict[str, str]:
    """A partner-type mapping file: `identifier,partner_type` (an identifier or a register prefix)."""
    keys = [header_key(h).lower() for h in raw.header]
    if "identifier" not in keys or "partnertype" not in keys:
        raise GivingError(["The partner-type mapping file needs the columns identifier,partner_type."])
    out, problems = {}, []
    for line, row in raw.rows.iterrows():
        ident, ptype = str(row[keys.index("identifier")]).strip(), str(row[keys.index("partnertype")]).strip()
        key = ptype.lower().replace(" ", "_").replace("-", "_")
        if key not in c.PARTNER_TYPES:
            problems.append(f"mapping file line {line}: '{ptype}' is not a partner type "
                            f"({', '.join(c.PARTNER_TYPES)})")
        else:
            out[ident] = key
    if problems:
        raise GivingError(problems)
    return out


# ---------------------------------------------------------------------------------------------
# Grants -> partnership rows


def scheme(identifier: str) -> str:
    """The register part of an org identifier: GB-CHC-1234567 -> GB-CHC; 360G-x-y -> 360G."""
    parts = identifier.split("-")
    if parts[0].upper() == "360G":
        return "360G"
    return "-".join(parts[:2]).upper() if len(parts) >= 3 else identifier.upper()


def partner_type(grant: Grant, mapping: dict[str, str]) -> tuple[str | None, str]:
    """(partner type or None, how it was decided)."""
    ident = grant.recipient_id
    if ident in mapping:
        return mapping[ident], "mapping file (identifier)"
    reg = scheme(ident)
    if reg in mapping:
        return mapping[reg], f"mapping file ({reg})"
    org_type = grant.organisation_type.lower().replace(" ", "_").replace("-", "_")
    if org_type in c.PARTNER_TYPES:
        return org_type, "the file's organisation type"
    if reg == "GB-COH" and grant.charity_number:
        return "vcse", "GB-COH with a charity number"
    if reg in PARTNER_TYPES:
        return PARTNER_TYPES[reg], reg
    return None, reg


def _add_months(day: dt.date, months: float) -> dt.date:
    whole = int(months)
    y, m = divmod(day.month - 1 + whole, 12)
    year, month = day.year + y, m + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    out = dt.date(year, month, min(day.day, last))
    return out + dt.timedelta(days=round((months - whole) * 30))


@dataclass
class Mapped:
    """Register rows by quarter and a report of what mapped and what did not."""

    rows: dict[str, list[dict[str, Any]]]
    report: list[str]
    skipped: list[str]
    funder_id: str = ""
    funder_name: str = ""
    grant_prefix: str = ""


def _period(g: Grant) -> tuple[dt.date, dt.date, str | None]:
    start = g.start or g.award_date
    if g.end:
        return start, g.end, None
    if g.months:
        return start, _add_months(start, g.months) - dt.timedelta(days=1), None
    return start, start, "no planned end date or duration: taken as active in its award quarter only"


def _annual(g: Grant, start: dt.date, end: dt.date) -> float | None:
    if g.amount is None or g.currency.upper() != "GBP":
        return None
    months = g.months or ((end - start).days + 1) / (365.25 / 12)
    return g.amount if months <= 12.5 else g.amount * 12 / months


def to_partnerships(
    grants: list[Grant],
    *,
    ward_codes: set[str],
    mapping: dict[str, str] | None = None,
    last_quarter: str,
    first_quarter: str | None = None,
    quarter_wards: Callable[[str], set[str]] | None = None,
) -> Mapped:
    """Map grants to register rows per quarter (see the module docstring for every rule).

    `ward_codes`: every ward the council has had; `quarter_wards(q)`: the wards of quarter q's
    ward set (docs/ward-vintages.md), which a quarter's rows are mapped with (default: ward_codes).
    """
    mapping = mapping or {}
    skipped: list[str] = []
    notes: Counter[str] = Counter()
    types: Counter[str] = Counter()
    wards: Counter[str] = Counter()
    usable: list[tuple[Grant, dt.date, dt.date, str]] = []
    seen_ids: set[str] = set()
    for g in grants:
        reason = None
        if not g.grant_id:
            reason = "has no Identifier"
        elif g.grant_id in seen_ids:
            reason = f"repeats the grant identifier {g.grant_id}"
        elif not g.recipient_id:
            reason = "has no recipient organisation (a grant to an individual is not a partnership)"
        elif not (g.start or g.award_date):
            reason = "has no award date or planned start date that can be read (use 2024-06-19)"
        seen_ids.add(g.grant_id)
        if reason is None:
            ptype, how = partner_type(g, mapping)
            if ptype is None:
                reason = (f"recipient {g.recipient_id}: the register {how} has no partner type; add it to a "
                          "mapping file (identifier,partner_type)")
        if reason:
            skipped.append(f"{g.where} ({g.grant_id or 'no id'}): {reason}")
            continue
        start, end, note = _period(g)
        if end < start:
            skipped.append(f"{g.where} ({g.grant_id}): its end date {end} is before its start {start}")
            continue
        if note:
            notes[note] += 1
        if g.currency.upper() != "GBP":
            notes[f"amount in {g.currency or 'no currency'}, not GBP: annual value left blank"] += 1
        types[f"{ptype} ({how})"] += 1
        for code, ctype in g.locations:
            if ctype == "WD":
                wards["mapped to a ward" if code in ward_codes else f"ward {code} is not a ward of this council"] += 1
            else:
                wards[f"location of type {ctype or 'unknown'}: borough-wide"] += 1
        if not g.locations:
            wards["no beneficiary location: borough-wide"] += 1
        usable.append((g, start, end, ptype))

    by_org: dict[str, list[tuple[Grant, dt.date, dt.date, str]]] = defaultdict(list)
    for item in usable:
        by_org[item[0].recipient_id].append(item)
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    beyond: set[str] = set()
    for org, items in by_org.items():
        for spell in _spells(sorted(items, key=lambda x: (x[1], x[2]))):
            s_start, s_end = spell[0][1], max(x[2] for x in spell)
            for q in quarters_between(quarter_of_date(s_start), quarter_of_date(s_end)):
                if q > last_quarter:
                    beyond.add(q)
                    continue
                if first_quarter and q < first_quarter:
                    continue
                rows[q].append(_row(org, spell, q, s_start, s_end,
                                    quarter_wards(q) if quarter_wards else ward_codes))
    report = [f"{len(grants)} grant(s) read; {len(usable)} mapped to {len(by_org)} partnership(s) "
              f"(one per recipient organisation); {len(skipped)} not mapped"]
    report += [f"partner type {k}: {n} grant(s)" for k, n in sorted(types.items())]
    report += [f"{PARTNER_TYPE_NOTES[r]}" for r in PARTNER_TYPE_NOTES if any(f"({r})" in k for k in types)]
    report += [f"beneficiary locations: {k}: {n}" for k, n in sorted(wards.items())]
    report += [f"{n} grant(s): {k}" for k, n in sorted(notes.items())]
    if beyond:
        report.append(f"quarters after {last_quarter} (the last to write: --to, else the current quarter) not "
                      f"written: {min(beyond)} to {max(beyond)}")
    report.append("budgets: grants awarded are not the directorate's budget, so no budget return is written "
                  "or changed; send the budget return (community_grants lines) as usual")
    funders = Counter(g.funder_id for g, *_ in usable if g.funder_id)
    funder = funders.most_common(1)[0][0] if funders else ""
    names = {g.funder_id: g.funder_name for g, *_ in usable}
    prefix = _common_prefix([g.grant_id for g, *_ in usable])
    return Mapped(dict(rows), report, skipped, funder, names.get(funder, ""), prefix)


def _common_prefix(ids: list[str]) -> str:
    """The shared 360G-xxx prefix of grant identifiers (their registered publisher prefix)."""
    heads = Counter("-".join(i.split("-")[:2]) for i in ids if i.upper().startswith("360G-"))
    return heads.most_common(1)[0][0] if heads else ""


def _spells(items: list[tuple[Grant, dt.date, dt.date, str]]) -> list[list[tuple[Grant, dt.date, dt.date, str]]]:
    spells: list[list] = []
    end = None
    for item in items:
        if end is not None and (item[1] <= end + dt.timedelta(days=1)
                                or quarter_of_date(item[1]) == quarter_of_date(end)):
            spells[-1].append(item)
            end = max(end, item[2])
        else:
            spells.append([item])
            end = item[2]
    return spells


def _row(org: str, spell: list, quarter: str, start: dt.date, end: dt.date, ward_codes: set[str]) -> dict[str, Any]:
    q_start, q_end = quarter_bounds(quarter)
    active = [x for x in spell if x[1] <= q_end and x[2] >= q_start]
    newest = max(spell, key=lambda x: x[1])[0]
    wards = {code for g, *_ in active for code, ctype in g.locations if ctype == "WD" and code in ward_codes}
    values = [_annual(g, s, e) for g, s, e, _ in active]
    return {
        "partnership_id": org,
        "partner_name": newest.recipient_name or org,
        "partner_type": active[-1][3] if active else spell[-1][3],
        "arrangement": "grant_funding",
        "ward_code": wards.pop() if len(wards) == 1 else "",
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "annual_value_gbp": "" if not values or any(v is None for v in values) else f"{sum(values):.2f}",
        "lease_years": "",
    }


def merge(existing: list[dict[str, Any]], imported: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, int]:
    """A quarter's register: every stored row kept, a row with an imported partnership_id replaced.

    Returns (rows, kept, replaced): kept = stored partnerships the file does not name (never
    dropped); replaced = stored rows whose partnership_id the 360Giving file names (the file's
    figures win, as the newer and fuller source for that grant-funded partner).
    """
    ids = {r["partnership_id"] for r in imported}
    kept = [r for r in existing if r["partnership_id"] not in ids]
    return kept + imported, len(kept), len(existing) - len(kept)


# ---------------------------------------------------------------------------------------------
# Partnerships -> a 360Giving package


def package(
    partnerships: pd.DataFrame,
    *,
    funder_id: str,
    funder_name: str,
    prefix: str,
    ward_names: dict[str, str],
    published: dt.date,
) -> tuple[dict[str, Any], list[str]]:
    """A 360Giving package of grant_funding partnerships; (package, what was left out and why).

    One grant per (directorate, partnership_id, start_date) - one funding spell - named as in the
    newest quarter's register row. amountAwarded: where the spell's annual_value_gbp is the same
    in every stored quarter, that value (x months / 12 for a spell longer than a year: the inverse
    of the import's rule); where it changes, each stored quarter's annual value pro rata to the
    spell's days in that quarter, summed (reported as estimated). awardDate and plannedDates
    from start_date and end_date; the recipient's
    identifier is the partnership_id when it is an org identifier; a ward gives a beneficiary
    location of type WD. A partnership without an annual value is left out (never invented).
    """
    skipped: list[str] = []
    estimated: list[str] = []
    grants = []
    frame = partnerships.sort_values("quarter")
    for (directorate, pid, start), g in frame.groupby(["directorate", "partnership_id", "start_date"], sort=True):
        row = g.iloc[-1]
        start_d = pd.Timestamp(start).date()
        if pd.isna(row.annual_value_gbp):
            skipped.append(f"{directorate} {pid} (from {start_d}): no annual_value_gbp, so no amount awarded")
            continue
        end_d = None if pd.isna(row.end_date) else pd.Timestamp(row.end_date).date()
        months = None
        if end_d is not None:
            months = max(1, round(((end_d - start_d).days + 1) / (365.25 / 12)))
        values = g.annual_value_gbp.dropna().astype(float)
        if values.nunique() <= 1 or end_d is None:
            annual = float(row.annual_value_gbp)
            amount = annual * months / 12 if months and months > 12 else annual
        else:
            amount = sum(float(v) * _days_in(q, start_d, end_d) / 365.25
                         for q, v in zip(g.quarter, g.annual_value_gbp, strict=True) if not pd.isna(v))
            estimated.append(f"{directorate} {pid} (from {start_d})")
        slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{directorate}-{pid}-{start_d.isoformat()}").strip("-")
        grant: dict[str, Any] = {
            "id": f"{prefix}-{slug}",
            "title": f"Grant to {row.partner_name}",
            "description": f"Grant funding from {directorate} to {row.partner_name}, {with_article(row.partner_type.replace('_', ' '))} partner.",
            "currency": "GBP",
            "amountAwarded": round(amount, 2),
            "awardDate": start_d.isoformat(),
            "plannedDates": [{"startDate": start_d.isoformat(), **({"endDate": end_d.isoformat(), "duration": months}
                                                                   if end_d else {})}],
            "recipientOrganization": [{"id": pid if _is_org_id(pid) else f"{prefix}-org-{slug}",
                                       "name": row.partner_name, "organisationType": row.partner_type}],
            "fundingOrganization": [{"id": funder_id, "name": funder_name, "department": directorate}],
            "grantProgramme": [{"title": f"{directorate} community grants"}],
            "dateModified": f"{published.isoformat()}T00:00:00Z",
        }
        if isinstance(row.ward_code, str) and row.ward_code:
            grant["beneficiaryLocation"] = [{"geoCode": row.ward_code, "geoCodeType": "WD",
                                             "name": ward_names.get(row.ward_code, row.ward_code)}]
        grants.append(grant)
    pkg = {"grants": grants, "version": "1.4", "title": f"{funder_name}: community grants",
           "issued": published.isoformat()}
    if estimated:
        skipped.append(f"{len(estimated)} grant(s) whose annual value changed during the spell have an amount "
                       "estimated pro rata from the stored quarters' annual values: " + ", ".join(estimated[:5]))
    return pkg, skipped


def _days_in(quarter: str, start: dt.date, end: dt.date) -> int:
    q_start, q_end = quarter_bounds(quarter)
    return max(0, (min(end, q_end) - max(start, q_start)).days + 1)


def _is_org_id(value: str) -> bool:
    return bool(re.match(r"^(GB-[A-Z]+-|360G-|XI-|XM-)", value))


def validate_package(pkg: dict[str, Any], package_schema: dict[str, Any], grant_schema: dict[str, Any]) -> list[str]:
    """Every way `pkg` breaks 360Giving's package schema (empty: it validates), with format checks.

    The package schema refers to the grant schema by URL; both URLs it may use resolve to the
    grant schema given, so nothing is fetched. Dates need `rfc3339-validator` installed, or a
    plain date matches both branches of the schema's oneOf and fails.
    """
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    grant = Resource(contents=grant_schema, specification=DRAFT202012)
    urls = {grant_schema.get("$id", "")}
    refs = package_schema.get("properties", {}).get("grants", {}).get("items", {}).get("$ref", "")
    urls.add(refs.split("#")[0])
    registry = Registry().with_resources([(u, grant) for u in urls if u])
    validator = Draft202012Validator(package_schema, registry=registry,
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    out: list[str] = []
    for e in sorted(validator.iter_errors(pkg), key=lambda e: [str(p) for p in e.absolute_path]):
        where = "/".join(str(p) for p in e.absolute_path) or "(package)"
        # anyOf/oneOf say only 'not valid under any of the given schemas': give the branches' reasons.
        reasons = list(dict.fromkeys(sub.message for sub in e.context)) if e.context else [e.message]
        out.append(f"{where}: {'; or '.join(reasons)}")
    return out
