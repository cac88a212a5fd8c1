"""Who may do what: roles, the authorisation checks, and the authorised write path.

The read-only queries the submission, history and administration pages show (history, audit
log, deadlines, the returns tracker...) are in `etl.queries`; the app runs them through
`dashboard/data.py` on its one shared connection. Who can sign in (the accounts file, the demo
accounts) is the `accounts` package.

Roles
-----
* ``viewer``: reads everything; writes nothing.
* ``lead``: submits returns (and commentary) for their own directorate(s) only.
* ``admin``: loads reference data (wards, directorates, targets, boundaries), sets deadlines,
  manages users, and may submit for any directorate.

The check is made here, in the code path that writes (`submit_as`, `load_reference_as`,
`set_deadline_as`, `add_commentary_as`), never only by hiding a button: a page that forgot to
hide one still cannot write. Each function checks first and only then opens the write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl import warehouse
from etl.commentary import store_commentary
from etl.deadlines import store_deadline
from etl.load import precheck, store_return
from etl.normalise import match_directorate, text_key
from etl.records import Outcome, Progress, quiet
from etl.reference import read_reference, store_reference
from etl.validate import Reference
from etl.warehouse import WarehouseLike

ROLES: tuple[str, ...] = ("viewer", "lead", "admin")
ROLE_DESCRIPTIONS: dict[str, str] = {
    "viewer": "reads every page; cannot send or change anything",
    "lead": "sends returns and commentary for their own directorate(s)",
    "admin": "loads reference data, sets deadlines, manages users; may send for any directorate",
}


# ---------------------------------------------------------------------------------------------
# Actors and authorisation


@dataclass(frozen=True)
class Actor:
    """Someone signed in: their name, role and (for a lead) the directorates they send for."""

    name: str
    role: str
    directorates: tuple[str, ...] = ()
    email: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "directorates", tuple(self.directorates))

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "directorates": list(self.directorates), "email": self.email}


def _check_role(actor: Actor) -> None:
    if not isinstance(actor, Actor) or actor.role not in ROLES:
        raise PermissionError("Unknown role: sign in again.")


def _directorate_keys(values: Sequence[str], ref: Reference) -> set[str]:
    """Canonical reference spellings of a list of directorate names or short names."""
    out = set()
    for v in values:
        hit = match_directorate(v, ref.directorates, ref.short_names)
        out.add(hit if hit else text_key(v))
    return out


def may_submit_for(actor: Actor, directorate: str, ref: Reference | None = None) -> bool:
    """True when the actor may send returns for this directorate."""
    _check_role(actor)
    if actor.role == "admin":
        return True
    if actor.role != "lead":
        return False
    ref = ref or Reference()
    want = match_directorate(directorate, ref.directorates, ref.short_names) or text_key(directorate)
    return want in _directorate_keys(actor.directorates, ref)


def authorise_submission(actor: Actor, directorate: str, ref: Reference | None = None) -> None:
    """Raise PermissionError unless the actor may submit for the directorate."""
    _check_role(actor)
    if actor.role == "viewer":
        raise PermissionError(f"{actor.name} is a viewer: viewers cannot send returns.")
    if not may_submit_for(actor, directorate, ref):
        mine = ", ".join(actor.directorates) or "none"
        raise PermissionError(
            f"{actor.name} sends returns for {mine} only, not for {directorate}."
        )


def authorise_admin(actor: Actor, what: str = "do this") -> None:
    """Raise PermissionError unless the actor is an administrator."""
    _check_role(actor)
    if actor.role != "admin":
        raise PermissionError(f"Only an administrator may {what}; {actor.name} is a {actor.role}.")


def _reference(db: WarehouseLike) -> Reference:
    with warehouse.read_only(db) as con:
        return read_reference(con)


def resolve_directorate(db: WarehouseLike, directorate: str) -> str:
    """The reference spelling of a directorate name or short name (ValueError if unknown)."""
    return _resolve(_reference(db), directorate)


def _resolve(ref: Reference, directorate: str) -> str:
    hit = match_directorate(directorate, ref.directorates, ref.short_names)
    if hit is None:
        raise ValueError(f"'{directorate}' is not a directorate of this council.")
    return hit


def _authorised_directorate(actor: Actor, db: WarehouseLike, directorate: str) -> str:
    """The reference spelling of `directorate`, once the actor is known to be allowed to send for it."""
    _check_role(actor)
    if actor.role == "viewer":  # before even reading the warehouse
        raise PermissionError(f"{actor.name} is a viewer: viewers cannot send returns.")
    ref = _reference(db)
    canonical = _resolve(ref, directorate)
    authorise_submission(actor, canonical, ref)
    return canonical


# ---------------------------------------------------------------------------------------------
# The authorised write path


def submit_as(
    actor: Actor,
    db: WarehouseLike,
    *,
    return_type: str,
    directorate: str,
    quarter: str,
    content: bytes,
    file_name: str,
    commentary: str | None = None,
    progress: Progress = quiet,
    before_commit: Callable[[Any], None] | None = None,
    accept_warnings: bool = False,
) -> Outcome:
    """Check the actor may send for `directorate`, then submit (with optional commentary), all or nothing."""
    canonical = _authorised_directorate(actor, db, directorate)
    note = (commentary or "").strip()

    def _extra(con: Any) -> None:
        if note:
            store_commentary(con, directorate=canonical, quarter=quarter, body=note, user=actor.name)
        if before_commit:
            before_commit(con)

    # Read and validate first, on the latest snapshot; only the write itself queues for the lock.
    checked = precheck(db, return_type=return_type, directorate=canonical, quarter=quarter,
                       content=content, file_name=file_name, progress=progress)
    with warehouse.write(db) as con:
        return store_return(
            con, return_type=return_type, directorate=canonical, quarter=quarter, content=content,
            file_name=file_name, user=actor.name, progress=progress, before_commit=_extra,
            prechecked=checked,
            accept_warnings=accept_warnings,
        )


def add_commentary_as(actor: Actor, db: WarehouseLike, *, directorate: str, quarter: str, body: str) -> None:
    """Record commentary for a directorate the actor may send for."""
    canonical = _authorised_directorate(actor, db, directorate)
    with warehouse.write(db) as con:
        store_commentary(con, directorate=canonical, quarter=quarter, body=body, user=actor.name)


def load_reference_as(actor: Actor, db: WarehouseLike, *, kind: str, content: bytes, file_name: str,
                      vintage: str | None = None, first_quarter: str | None = None) -> Outcome:
    """Replace one reference table (wards and boundaries: of one ward set); administrators only."""
    authorise_admin(actor, "load reference data")
    with warehouse.write(db) as con:
        return store_reference(con, kind=kind, content=content, file_name=file_name, user=actor.name,
                               vintage=vintage, first_quarter=first_quarter)


def set_deadline_as(actor: Actor, db: WarehouseLike, *, quarter: str, due: dt.date) -> None:
    """Set a quarter's submission deadline; administrators only."""
    authorise_admin(actor, "set deadlines")
    with warehouse.write(db) as con:
        store_deadline(con, quarter=quarter, due=due, user=actor.name)


@contextlib.contextmanager
def dry_run_as(
    actor: Actor,
    db: WarehouseLike,
    *,
    return_type: str,
    directorate: str,
    quarter: str,
    content: bytes,
    file_name: str,
) -> Iterator[tuple[Outcome, Any]]:
    """Submit inside a write transaction that is rolled back; yield (outcome, its connection).

    Used to preview what an upload would change (rows and KPIs after) before the person confirms:
    queries on the yielded connection see the warehouse as if the upload were stored; nothing is,
    and no copy of the warehouse is made. Plausibility warnings are in the outcome's `warnings`,
    for the person to confirm.
    """
    canonical = _authorised_directorate(actor, db, directorate)
    with warehouse.open_warehouse(db).preview() as con:
        outcome = store_return(
            con, return_type=return_type, directorate=canonical, quarter=quarter,
            content=content, file_name=file_name, user=actor.name, accept_warnings=True,
        )
        yield outcome, con


# ---------------------------------------------------------------------------------------------
# What a role may see (the read-only queries themselves are in etl/queries.py)


def visible_directorates(actor: Actor | None, ref: Reference | str | Path) -> list[str]:
    """Directorates whose history the actor may see: a lead's own; everyone's for viewer and admin.

    `ref` is the reference already read (the app reads it on its shared connection) or a
    warehouse path.
    """
    if not isinstance(ref, Reference):
        ref = _reference(ref)
    names = list(ref.directorates)
    if actor is None:
        return []
    if actor.role == "lead":
        mine = _directorate_keys(actor.directorates, ref)
        return [d for d in names if d in mine]
    return names
