"""Ward sets (vintages): which set a wards file goes into, and the words for a replaced ward.

Pure: no warehouse, no files. `etl.reference` reads the sets and writes what `plan_ward_set`
decides; pages show what `replacement_words` says. The rules are in docs/ward-vintages.md:

* a ward set has a vintage (ONS's `WDnn` label, or one the loader gives) and the first quarter it
  applies to; a quarter uses the set with the latest first quarter on or before it, and the
  earliest set also serves every quarter before its first;
* sets are never deleted, and a new set starts after the newest one;
* ward codes are ONS's: a ward whose boundary changes gets a new code, so a file whose codes are
  not those of any set is a new set, and one with the same codes corrects that set in place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from etl.quarters import previous_quarter, shift_quarter

INITIAL = "initial"  # the label of a warehouse's first set when nothing names one
FROM_THE_START = ""  # the first quarter of a first set loaded without one: it serves every quarter
_FILE_LABEL = re.compile(r"(?<![a-z0-9])wd([0-9]{2})(?![0-9])", re.IGNORECASE)


class VintageError(ValueError):
    """A wards or boundaries file cannot go into the set asked for (the message says why)."""


@dataclass(frozen=True)
class WardSet:
    """One set as stored: its vintage, first quarter and ward codes."""

    vintage: str
    first_quarter: str
    codes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plan:
    """Where a wards file goes: a new set, or the wards of the set `replaces` replaced (a correction,
    or the newest set relabelled before any return was stored)."""

    vintage: str
    first_quarter: str
    replaces: str | None
    words: str  # for the load's message


def label_in_file_name(file_name: str) -> str | None:
    """The `WDnn` vintage a file's name carries ('wigan_wards_wd25.csv' -> 'WD25'), or None."""
    m = _FILE_LABEL.search(file_name or "")
    return f"WD{m.group(1)}" if m else None


def _ordered(sets: Iterable[WardSet]) -> list[WardSet]:
    return sorted(sets, key=lambda s: s.first_quarter)


def serves(sets: Sequence[WardSet], s: WardSet) -> str:
    """Which quarters set `s` serves, in words: 'from 2023-24 Q1', 'from 2022-23 Q1 to 2022-23 Q4',
    'every quarter to 2022-23 Q4' (a first set with no first quarter)."""
    later = [t.first_quarter for t in sets if t.first_quarter > s.first_quarter]
    until = f" to {previous_quarter(min(later))}" if later else ""
    if s.first_quarter == FROM_THE_START:
        return f"every quarter{until}"
    return f"from {s.first_quarter}{until}"


def plan_ward_set(
    sets: Sequence[WardSet],
    codes: Iterable[str],
    file_name: str,
    *,
    vintage: str | None = None,
    first_quarter: str | None = None,
    return_quarters: tuple[str, str] | None = None,
    today_quarter: str,
) -> Plan:
    """Decide which set a wards file with these ward codes goes into (raises VintageError).

    `vintage` and `first_quarter` are what the loader asked for (None: not given);
    `return_quarters` is (earliest, latest) quarter with a current return, None when there is none;
    `today_quarter` the quarter of the load.
    Without them:
    * the vintage is the set whose codes are exactly the file's (a correction of that set), else
      the `WDnn` in the file's name, else 'initial' for the first set and 'set-N' for later ones;
    * a new set starts in the quarter after the latest quarter with a return (so no stored quarter
      changes its wards; with no return, from this quarter), and after the newest set's first
      quarter; the first set serves every quarter (its first quarter is FROM_THE_START, '');
    * a file whose codes are new when no return has been stored yet replaces the newest set
      (nothing has been reported on it).
    """
    ordered = _ordered(sets)
    codes = frozenset(codes)
    by_label = {s.vintage: s for s in ordered}
    by_first = {s.first_quarter: s for s in ordered}
    newest = ordered[-1] if ordered else None
    from_name = label_in_file_name(file_name)

    def correct(s: WardSet) -> Plan:
        if first_quarter and first_quarter != s.first_quarter:
            raise VintageError(
                f"Ward set {s.vintage} applies {serves(ordered, s)}; its first quarter cannot be moved to "
                f"{first_quarter}. To start new wards in {first_quarter}, load the file with a new --vintage.")
        return Plan(s.vintage, s.first_quarter, s.vintage,
                    f"into ward set {s.vintage} ({serves(ordered, s)}), replacing its wards")

    def new(label: str, first: str) -> Plan:
        if label in by_label:
            raise VintageError(f"There is already a ward set {label}, {serves(ordered, by_label[label])}.")
        if newest is not None and first <= newest.first_quarter:
            raise VintageError(
                f"A new ward set must start after the newest one, {newest.vintage} "
                f"({serves(ordered, newest)}); {first} does not. Sets are never put before a later set.")
        if first == FROM_THE_START:
            return Plan(label, first, None, f"as ward set {label}, for every quarter")
        before = f"; quarters before it keep set {newest.vintage}" if newest is not None else (
            "; it also serves every quarter before it")
        return Plan(label, first, None, f"as ward set {label}, from {first}{before}")

    def new_label() -> str:
        if from_name and from_name in by_label:
            raise VintageError(
                f"The file's name says {from_name}, but its ward codes are not those of set {from_name} "
                f"({serves(ordered, by_label[from_name])}). Give --vintage: {from_name} to replace that "
                "set's wards, or a new label to start a new set.")
        if from_name:
            return from_name
        if not ordered:
            return INITIAL
        n = len(ordered) + 1
        while f"set-{n}" in by_label:
            n += 1
        return f"set-{n}"

    def default_first() -> str:
        if newest is None:
            return FROM_THE_START
        after_returns = shift_quarter(return_quarters[1], 1) if return_quarters else today_quarter
        if newest.first_quarter == FROM_THE_START:
            return after_returns
        return max(after_returns, shift_quarter(newest.first_quarter, 1))

    if vintage:
        if vintage in by_label:
            return correct(by_label[vintage])
        return new(vintage, first_quarter or default_first())
    if first_quarter:
        if first_quarter in by_first:
            return correct(by_first[first_quarter])
        return new(new_label(), first_quarter)
    same = [s for s in reversed(ordered) if s.codes == codes]
    if same:
        return correct(same[0])
    if newest is not None and return_quarters is None:
        label = from_name if from_name and from_name not in by_label else newest.vintage
        return Plan(label, newest.first_quarter, newest.vintage,
                    f"as ward set {label}, replacing set {newest.vintage} (no return has been stored yet)")
    return new(new_label(), default_first())


def boundaries_set(sets: Sequence[WardSet], codes: Iterable[str], vintage: str | None = None) -> WardSet:
    """The set a boundaries file's shapes belong to: the one named, else the one sharing the most
    ward codes with the file (the newest on a tie). Raises VintageError when there is none."""
    ordered = _ordered(sets)
    if not ordered:
        raise VintageError("Load the wards before their boundaries: there is no ward set yet.")
    if vintage:
        for s in ordered:
            if s.vintage == vintage:
                return s
        raise VintageError(f"There is no ward set {vintage}; the sets are {', '.join(s.vintage for s in ordered)}.")
    codes = frozenset(codes)
    return max(reversed(ordered), key=lambda s: len(s.codes & codes))


# ---------------------------------------------------------------------------------------------
# Replaced wards


@dataclass(frozen=True)
class Ward:
    """One ward of one set, as the notices name it."""

    vintage: str
    first_quarter: str  # of its set
    code: str
    name: str


def _name_key(name: str) -> str:
    """Names compared as ONS spells them differently across vintages ('&' / 'and', commas)."""
    text = name.lower().replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _sets(wards: Iterable[Ward]) -> list[tuple[str, str, dict[str, Ward]]]:
    """(first_quarter, vintage, {code: ward}) per set, oldest first."""
    found: dict[str, tuple[str, dict[str, Ward]]] = {}
    for w in wards:
        found.setdefault(w.vintage, (w.first_quarter, {}))[1][w.code] = w
    return sorted(((first, v, ws) for v, (first, ws) in found.items()), key=lambda t: t[0])


def _listed(wards: Sequence[Ward]) -> str:
    parts = [f"{w.name} ({w.code})" for w in wards]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def replacement_words(wards: Iterable[Ward], code: str, vintage: str) -> list[str]:
    """What a page says about ward `code` of set `vintage` when wards have been redrawn: that it
    was replaced (by the next set's ward of the same name, if there is one), and whom it replaced.
    Empty when the ward is in every set from its own on and replaced nothing."""
    sets = _sets(wards)
    index = next((i for i, (_, v, _) in enumerate(sets) if v == vintage), None)
    if index is None or code not in sets[index][2]:
        return []
    ward = sets[index][2][code]
    out = []
    for first, v, members in sets[index + 1:]:
        if code in members:
            continue  # the same ward (ONS keeps a code while the boundary stays)
        same = [w for w in members.values() if _name_key(w.name) == _name_key(ward.name)]
        by = f" by {_listed(same)}" if same else f" when the wards were redrawn (ward set {v})"
        out.append(f"{ward.name} ({code}) was replaced in {first}{by}. Figures to {previous_quarter(first)} "
                   f"are on the old ward; figures from {first} are on the new wards.")
        break
    if index > 0:
        first, _, _ = sets[index]
        _, old_v, old = sets[index - 1]
        if code not in old:
            same = [w for w in old.values() if _name_key(w.name) == _name_key(ward.name)]
            if same:
                out.append(f"{ward.name} ({code}) replaced {_listed(same)} in {first}: figures to "
                           f"{previous_quarter(first)} are on the old ward.")
            else:
                out.append(f"{ward.name} ({code}) is a ward of set {ward.vintage}, from {first}: figures to "
                           f"{previous_quarter(first)} are on the wards of set {old_v}.")
    return out
