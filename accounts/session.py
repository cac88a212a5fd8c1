"""Signed sign-in tokens, so a built-in account's session survives a browser reload.

A token says who signed in and until when, signed with HMAC-SHA256 under the server's secret; it
never holds the password. It is bound to the account as it stands: changing the password (or
removing the account) makes every token issued before invalid. The dashboard keeps it in a
cookie; st.login (OpenID Connect) keeps its own signed cookie and does not use this.

The secret comes from `[session] secret` in `.streamlit/secrets.toml` or env LOCALISM_SESSION_SECRET;
without one, a random secret lives as long as the server process (a restart signs everyone out).
Signing out revokes the token in this process (`revoke`), so a copy of the cookie taken before
does not sign anyone in again here; other processes see it only as a token that expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

COOKIE_NAME = "localism_session"
LIFETIME_SECONDS = 8 * 3600  # a working day
MIN_SECRET_BYTES = 32
_PROCESS_SECRET = secrets.token_bytes(32)
_REVOKED: dict[str, int] = {}  # token -> its expiry, until it would have expired anyway


@dataclass(frozen=True)
class Claims:
    """What a valid token says: the account name and when the token expires (Unix seconds)."""

    name: str
    expires: int


def process_secret() -> bytes:
    """A random secret for this server process only (used when none is configured)."""
    return _PROCESS_SECRET


def secret_from(value: str | None) -> bytes | None:
    """The configured secret as bytes, or None when it is missing; ValueError when too short."""
    if not value:
        return None
    raw = value.encode("utf-8")
    if len(raw) < MIN_SECRET_BYTES:
        raise ValueError(f"The session secret must be at least {MIN_SECRET_BYTES} characters long.")
    return raw


def fingerprint(password_hash: str | None) -> str:
    """A short digest of the account's stored hash: a new password invalidates old tokens."""
    return hashlib.sha256((password_hash or "").encode("utf-8")).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: str, account_fingerprint: str) -> str:
    return _b64(hmac.new(secret, f"{payload}.{account_fingerprint}".encode("ascii"), hashlib.sha256).digest())


def issue(secret: bytes, name: str, account_fingerprint: str, *, now: float | None = None,
          lifetime: int = LIFETIME_SECONDS) -> str:
    """A token for `name`, valid for `lifetime` seconds."""
    expires = int((now if now is not None else time.time()) + lifetime)
    payload = _b64(json.dumps({"n": name, "e": expires, "r": secrets.token_hex(8)},
                              separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{_mac(secret, payload, account_fingerprint)}"


def claimed_name(token: str | None) -> str | None:
    """The account name a token claims, before it is verified (to look up its fingerprint)."""
    try:
        payload = (token or "").split(".", 1)[0]
        name = json.loads(_unb64(payload)).get("n")
    except (ValueError, AttributeError, TypeError):
        return None
    return name if isinstance(name, str) else None


def verify(secret: bytes, token: str | None, account_fingerprint: str, *, now: float | None = None) -> Claims | None:
    """The token's claims when its signature is right and it has not expired; None otherwise."""
    if not token or token.count(".") != 1 or len(token) > 1024:
        return None
    payload, mac = token.split(".")
    if not hmac.compare_digest(mac, _mac(secret, payload, account_fingerprint)):
        return None
    try:
        doc = json.loads(_unb64(payload))
        claims = Claims(str(doc["n"]), int(doc["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    if claims.expires <= (now if now is not None else time.time()) or token in _REVOKED:
        return None
    return claims


def seconds_left(token: str | None, *, now: float | None = None) -> int:
    """Whole seconds until the token says it expires (0 when it has, or says nothing readable)."""
    try:
        expires = int(json.loads(_unb64((token or "").split(".", 1)[0])).get("e", 0))
    except (ValueError, AttributeError, TypeError):
        return 0
    return max(0, int(expires - (now if now is not None else time.time())))


def revoke(token: str | None, *, now: float | None = None) -> None:
    """Refuse this token from now on in this process (at sign-out); expired entries are dropped."""
    moment = now if now is not None else time.time()
    for old in [t for t, expires in _REVOKED.items() if expires <= moment]:
        del _REVOKED[old]
    left = seconds_left(token, now=moment)
    if token and left > 0:
        _REVOKED[token] = int(moment) + left
