"""Settings read from the environment (documented in README.md)."""

from __future__ import annotations

import os
from pathlib import Path

from etl import warehouse


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


def session_secret_text() -> str | None:
    """The secret that signs sign-in cookies, from env LOCALISM_SESSION_SECRET (None if unset)."""
    return os.environ.get("LOCALISM_SESSION_SECRET") or None
