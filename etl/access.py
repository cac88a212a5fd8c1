"""Who may do what: accounts, roles and the authorised write path.

The read-only queries the submission, history and administration pages show (history, audit
log, deadlines, the returns tracker...) are in `etl.queries`; the app runs them through
`dashboard/data.py` on its one shared connection.

Roles
-----
* ``viewer``: reads everything; writes nothing.
* ``lead``: submits returns (and commentary) for their own directorate(s) only.
* ``admin``: loads reference data (wards, directorates, targets, boundaries), sets deadlines,
  manages users, and may submit for any directorate.

The check is made here, in the code path that writes (`submit_as`, `load_reference_as`,
`set_deadline_as`, `add_commentary_as`), never only by hiding a button: a page that forgot to
hide one still cannot write. Each wrapper checks first and only then calls `etl.load`.

Accounts
--------
Built-in accounts live in a JSON file (env ``LOCALISM_USERS``; default ``users.json`` beside
the default warehouse) with argon2 password hashes; ``python -m etl add-user`` writes it.
Where the council signs people in with its identity provider (OpenID Connect), the same file
maps the signed-in e-mail address to a role and directorates (an entry with ``email`` and no
password). Demo mode (env ``LOCALISM_DEMO=1``) adds fixed demo accounts with one shared,
published password; it must never be switched on for real data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from etl import load, warehouse
from etl.normalise import match_directorate, text_key

ROLES: tuple[str, ...] = ("viewer", "lead", "admin")
ROLE_DESCRIPTIONS: dict[str, str] = {
    "viewer": "reads every page; cannot send or change anything",
    "lead": "sends returns and commentary for their own directorate(s)",
    "admin": "loads reference data, sets deadlines, manages users; may send for any directorate",
}

DEMO_PASSWORD = "localism-demo"  # published in the README; demo mode only
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
_hasher = PasswordHasher()


# ---------------------------------------------------------------------------------------------
# Settings from the environment


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def demo_mode() -> bool:
    """Demo mode (env LOCALISM_DEMO=1): built-in demo accounts with a published password."""
    return _flag("LOCALISM_DEMO")


def signin_required_to_read() -> bool:
    """Whether reading the dashboard needs sign-in (env LOCALISM_REQUIRE_SIGNIN=1; default off)."""
    return _flag("LOCALISM_REQUIRE_SIGNIN")


def users_path() -> Path:
    """The accounts file: env LOCALISM_USERS, else users.json beside the default warehouse."""
    env = os.environ.get("LOCALISM_USERS")
    return Path(env) if env else warehouse.default_db_path().parent / "users.json"


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

    def can_submit(self) -> bool:
        """Whether the role sends returns at all."""
        return self.role in ("lead", "admin")

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "directorates": list(self.directorates), "email": self.email}


def _check_role(actor: Actor) -> None:
    if not isinstance(actor, Actor) or actor.role not in ROLES:
        raise PermissionError("Unknown role: sign in again.")


def _directorate_keys(values: Sequence[str], ref: load.Reference) -> set[str]:
    """Canonical reference spellings of a list of directorate names or short names."""
    out = set()
    for v in values:
        hit = match_directorate(v, ref.directorates, ref.short_names)
        out.add(hit if hit else text_key(v))
    return out


def may_submit_for(actor: Actor, directorate: str, ref: load.Reference | None = None) -> bool:
    """True when the actor may send returns for this directorate."""
    _check_role(actor)
    if actor.role == "admin":
        return True
    if actor.role != "lead":
        return False
    ref = ref or load.Reference()
    want = match_directorate(directorate, ref.directorates, ref.short_names) or text_key(directorate)
    return want in _directorate_keys(actor.directorates, ref)


def authorise_submission(actor: Actor, directorate: str, ref: load.Reference | None = None) -> None:
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


def _reference(db: str | Path) -> load.Reference:
    with warehouse.read_only(db) as con:
        return load.reference(con)


def resolve_directorate(db: str | Path, directorate: str) -> str:
    """The reference spelling of a directorate name or short name (ValueError if unknown)."""
    return _resolve(_reference(db), directorate)


def _resolve(ref: load.Reference, directorate: str) -> str:
    hit = match_directorate(directorate, ref.directorates, ref.short_names)
    if hit is None:
        raise ValueError(f"'{directorate}' is not a directorate of this council.")
    return hit


def _authorised_directorate(actor: Actor, db: str | Path, directorate: str) -> str:
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
    db: str | Path,
    *,
    return_type: str,
    directorate: str,
    quarter: str,
    content: bytes,
    file_name: str,
    commentary: str | None = None,
    progress: load.Progress | None = None,
    before_commit: Callable[[Any], None] | None = None,
) -> load.Outcome:
    """Check the actor may send for `directorate`, then submit (with optional commentary)."""
    canonical = _authorised_directorate(actor, db, directorate)
    note = (commentary or "").strip()

    def _extra(con: Any) -> None:
        if note:
            load.write_commentary(con, directorate=canonical, quarter=quarter, body=note, user=actor.name)
        if before_commit:
            before_commit(con)

    kwargs: dict[str, Any] = {}
    if progress:
        kwargs["progress"] = progress
    return load.submit_return(
        db, return_type=return_type, directorate=canonical, quarter=quarter, content=content,
        file_name=file_name, user=actor.name, before_commit=_extra, **kwargs,
    )


def add_commentary_as(actor: Actor, db: str | Path, *, directorate: str, quarter: str, body: str) -> None:
    """Record commentary for a directorate the actor may send for."""
    canonical = _authorised_directorate(actor, db, directorate)
    load.add_commentary(db, directorate=canonical, quarter=quarter, body=body, user=actor.name)


def load_reference_as(actor: Actor, db: str | Path, *, kind: str, content: bytes, file_name: str) -> load.Outcome:
    """Replace one reference table; administrators only."""
    authorise_admin(actor, "load reference data")
    return load.load_reference(db, kind=kind, content=content, file_name=file_name, user=actor.name)


def set_deadline_as(actor: Actor, db: str | Path, *, quarter: str, due: dt.date) -> None:
    """Set a quarter's submission deadline; administrators only."""
    authorise_admin(actor, "set deadlines")
    load.set_deadline(db, quarter=quarter, due=due, user=actor.name)


@contextlib.contextmanager
def dry_run_as(
    actor: Actor,
    db: str | Path,
    *,
    return_type: str,
    directorate: str,
    quarter: str,
    content: bytes,
    file_name: str,
) -> Iterator[tuple[load.Outcome, Path]]:
    """Submit to a private copy of the warehouse; yield (outcome, copy path). The live file is untouched.

    Used to preview what an upload would change (rows and KPIs after) before the person confirms.
    """
    canonical = _authorised_directorate(actor, db, directorate)
    with tempfile.TemporaryDirectory(prefix="localism-preview-") as tmp:
        copy = Path(tmp) / "preview.duckdb"
        shutil.copyfile(db, copy)
        outcome = load.submit_return(
            copy, return_type=return_type, directorate=canonical, quarter=quarter,
            content=content, file_name=file_name, user=actor.name,
        )
        yield outcome, copy


# ---------------------------------------------------------------------------------------------
# Accounts file


@dataclass
class Account:
    """One entry of the accounts file."""

    name: str
    role: str
    directorates: list[str] = field(default_factory=list)
    email: str | None = None
    password_hash: str | None = None
    demo: bool = False

    def actor(self) -> Actor:
        return Actor(self.name, self.role, tuple(self.directorates), self.email)

    def public(self) -> dict[str, Any]:
        """What an admin may see: no hash."""
        return {"name": self.name, "role": self.role, "directorates": ", ".join(self.directorates),
                "email": self.email or "", "sign-in": "password" if self.password_hash else "identity provider",
                "demo": self.demo}


def read_accounts(path: str | Path | None = None) -> list[Account]:
    """The accounts in the file (none if it does not exist)."""
    path = Path(path) if path else users_path()
    if not path.exists():
        return []
    doc = json.loads(path.read_text(encoding="utf-8") or "{}")
    out = []
    for entry in doc.get("users", []):
        out.append(Account(name=entry["name"], role=entry["role"], directorates=list(entry.get("directorates", [])),
                           email=entry.get("email"), password_hash=entry.get("password_hash")))
    return out


def _write_accounts(path: Path, accounts: list[Account]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"users": [
        {k: v for k, v in {"name": a.name, "role": a.role, "directorates": a.directorates,
                           "email": a.email, "password_hash": a.password_hash}.items() if v not in (None, [])}
        for a in accounts
    ]}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o600)  # hashes are not passwords, but need not be world-readable
    os.replace(tmp, path)


def add_user(
    path: str | Path,
    *,
    name: str,
    role: str,
    directorates: Sequence[str] = (),
    password: str | None = None,
    email: str | None = None,
) -> Account:
    """Add (or replace) an account; the password is stored only as an argon2 hash."""
    if not _NAME_RE.match(name):
        raise ValueError("A user name is 1-64 letters, digits or . _ @ + - and starts with a letter or digit.")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "lead" and not directorates:
        raise ValueError("A lead needs at least one --directorate.")
    if password is None and not email:
        raise ValueError("Give a password, or an --email for sign-in through the identity provider.")
    if password is not None and len(password) < 10:
        raise ValueError("Choose a password of at least 10 characters.")
    path = Path(path)
    accounts = [a for a in read_accounts(path) if a.name != name]
    account = Account(name=name, role=role, directorates=list(directorates), email=email,
                      password_hash=_hasher.hash(password) if password is not None else None)
    accounts.append(account)
    _write_accounts(path, accounts)
    return account


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:20] or "x"


def demo_accounts(directorates: Sequence[tuple[str, str | None]]) -> list[Account]:
    """The demo accounts (demo mode only): admin, viewer, and a lead for each of the first two directorates."""
    digest = _demo_hash()
    accounts = [Account("demo-admin", "admin", [], password_hash=digest, demo=True),
                Account("demo-viewer", "viewer", [], password_hash=digest, demo=True)]
    for name, short in list(directorates)[:2]:
        accounts.append(Account(f"demo-lead-{_slug(short or name)}", "lead", [name], password_hash=digest, demo=True))
    return accounts


_DEMO_HASH: list[str] = []


def _demo_hash() -> str:
    if not _DEMO_HASH:
        _DEMO_HASH.append(_hasher.hash(DEMO_PASSWORD))
    return _DEMO_HASH[0]


def all_accounts(path: str | Path | None = None, db: str | Path | None = None) -> list[Account]:
    """Accounts from the file, plus the demo accounts in demo mode (the file wins on a name clash)."""
    accounts = read_accounts(path)
    if demo_mode():
        names = {a.name for a in accounts}
        dirs: list[tuple[str, str | None]] = []
        with contextlib.suppress(warehouse.WarehouseError):
            ref = _reference(db or warehouse.default_db_path())
            dirs = list(zip(ref.directorates, ref.short_names, strict=True))
        accounts += [a for a in demo_accounts(dirs) if a.name not in names]
    return accounts


def file_account(name: str, path: str | Path | None = None) -> Actor | None:
    """The actor for an account in the accounts file as it stands now (None if it is not there)."""
    for account in read_accounts(path):
        if account.name.lower() == name.strip().lower():
            return account.actor()
    return None


def verify_password(name: str, password: str, path: str | Path | None = None,
                    db: str | Path | None = None) -> Actor | None:
    """The actor for a name and password, or None (same answer for unknown name and wrong password)."""
    for account in all_accounts(path, db):
        if account.name.lower() == name.strip().lower() and account.password_hash:
            try:
                _hasher.verify(account.password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return None
            return account.actor()
    _hasher.hash(password)  # spend the same time as a real check: do not reveal which names exist
    return None


def actor_for_email(email: str | None, path: str | Path | None = None, name: str | None = None) -> Actor:
    """Map an identity-provider e-mail address to an actor; unknown addresses may only read."""
    key = (email or "").strip().lower()
    for account in read_accounts(path):
        if account.email and account.email.strip().lower() == key:
            return Actor(account.name, account.role, tuple(account.directorates), account.email)
    return Actor(name or email or "signed-in user", "viewer", (), email)


# ---------------------------------------------------------------------------------------------
# What a role may see (the read-only queries themselves are in etl/queries.py)


def visible_directorates(actor: Actor | None, ref: load.Reference | str | Path) -> list[str]:
    """Directorates whose history the actor may see: a lead's own; everyone's for viewer and admin.

    `ref` is the reference already read (the app reads it on its shared connection) or a
    warehouse path.
    """
    if not isinstance(ref, load.Reference):
        ref = _reference(ref)
    names = list(ref.directorates)
    if actor is None:
        return []
    if actor.role == "lead":
        mine = _directorate_keys(actor.directorates, ref)
        return [d for d in names if d in mine]
    return names
