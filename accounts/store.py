"""The accounts file: built-in accounts with argon2 hashes, identity-provider accounts, demo accounts.

Built-in accounts live in a JSON file (`accounts.settings.users_path()`) with argon2 password
hashes; ``python -m etl add-user`` writes it. Where the council signs people in with its
identity provider (OpenID Connect), the same file maps the signed-in e-mail address to a role
and directorates (an entry with ``email`` and no password). Demo mode adds fixed demo accounts
with one shared, published password; it must never be switched on for real data.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from accounts.settings import demo_mode, users_path
from etl import warehouse
from etl.access import ROLES, Actor
from etl.reference import read_reference
from etl.warehouse import WarehouseLike

DEMO_PASSWORD = "localism-demo"  # published in the README; demo mode only
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
_hasher = PasswordHasher()


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


def all_accounts(path: str | Path | None = None, db: WarehouseLike | None = None) -> list[Account]:
    """Accounts from the file, plus the demo accounts in demo mode (the file wins on a name clash)."""
    accounts = read_accounts(path)
    if demo_mode():
        names = {a.name for a in accounts}
        dirs: list[tuple[str, str | None]] = []
        with contextlib.suppress(warehouse.WarehouseError):
            with warehouse.read_only(db or warehouse.default_db()) as con:
                ref = read_reference(con)
            dirs = list(zip(ref.directorates, ref.short_names, strict=True))
        accounts += [a for a in demo_accounts(dirs) if a.name not in names]
    return accounts


def find_account(name: str, path: str | Path | None = None, db: WarehouseLike | None = None) -> Account | None:
    """The account of this name (the file's, or a demo account in demo mode), or None."""
    key = (name or "").strip().lower()
    return next((a for a in all_accounts(path, db) if a.name.lower() == key), None)


def file_account(name: str, path: str | Path | None = None) -> Actor | None:
    """The actor for an account in the accounts file as it stands now (None if it is not there)."""
    for account in read_accounts(path):
        if account.name.lower() == name.strip().lower():
            return account.actor()
    return None


def verify_password(name: str, password: str, path: str | Path | None = None,
                    db: WarehouseLike | None = None) -> Actor | None:
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
