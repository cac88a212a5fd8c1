"""Sign-in for the dashboard: the council's identity provider (st.login, OpenID Connect) where
`.streamlit/secrets.toml` has an [auth] section, otherwise built-in accounts (accounts.store).

The router calls `render_sidebar()` in the shared sidebar and `require_viewer()` before a
read-only page; pages that write call `require_role(...)`. Roles are enforced again in the
write path (etl.access), so hiding a button here is a courtesy, not the protection.

A built-in account's sign-in survives a browser reload: signing in issues a signed token
(accounts.session) that `keep_cookie()` stores in a cookie (dashboard.cookies); a new session
whose browser sends a valid one is signed in as that account again (`current_user`). Signing out
revokes the token and deletes the cookie. st.login keeps its own cookie for OpenID Connect.
"""

from __future__ import annotations

import math
import secrets
import time
from typing import Any

import streamlit as st

from accounts import session, settings, store, throttle
from dashboard import cookies
from etl import warehouse
from etl.access import Actor
from etl.report import with_article

_SESSION_KEY = "auth_actor"
_TOKEN_KEY = "auth_token"  # the signed token of this session's sign-in (built-in accounts)
_COOKIE_READ_KEY = "auth_cookie_read"  # the browser's cookie is read once, when the session begins
_SIGNED_OUT_KEY = "auth_signed_out"  # signed out in this session: delete the cookie, never restore


def db_path() -> str:
    """The warehouse the app reads (LOCALISM_DB, else the CLI's default)."""
    return warehouse.default_db()


def _oidc_provider() -> tuple[bool, str | None]:
    """(configured, provider name) from the [auth] section of the secrets."""
    try:
        auth = st.secrets.get("auth")
    except Exception:  # no secrets file at all
        return False, None
    if not auth:
        return False, None
    auth = dict(auth)
    if "client_id" in auth:
        return True, None
    for key, value in auth.items():
        if isinstance(value, dict) or hasattr(value, "keys"):
            if "client_id" in dict(value):
                return True, key
    return False, None


def oidc_configured() -> bool:
    """Whether sign-in goes through the council's identity provider."""
    return _oidc_provider()[0]


def _oidc_user() -> Actor | None:
    try:
        if not st.user.is_logged_in:
            return None
        email = st.user.get("email")
        name = st.user.get("name") or email
    except Exception:
        return None
    # Read the accounts file on every run, so a changed role applies at once.
    return store.actor_for_email(email, settings.users_path(), name=name)


def session_secret() -> bytes:
    """The key that signs sign-in tokens: `[session] secret` in the secrets, env
    LOCALISM_SESSION_SECRET, else a random key for this server process."""
    configured: str | None = None
    try:
        configured = (st.secrets.get("session") or {}).get("secret")
    except Exception:  # no secrets file at all
        configured = None
    return session.secret_from(configured or settings.session_secret_text()) or session.process_secret()


def _fingerprint(name: str) -> str | None:
    """The fingerprint of the account's password hash now (None: no such account, or no password)."""
    account = store.find_account(name, settings.users_path(), db_path())
    if account is None or not account.password_hash:
        return None
    return session.fingerprint(account.password_hash)


def issue_token(name: str) -> str | None:
    """A signed token for a built-in account that has just signed in (None if it has no password)."""
    mark = _fingerprint(name)
    return session.issue(session_secret(), name, mark) if mark else None


def actor_from_token(token: str | None) -> Actor | None:
    """The account a token signs in, when its signature is right, it has not expired, was not
    revoked, and the account's password has not changed since; None otherwise."""
    name = session.claimed_name(token)
    mark = _fingerprint(name) if name else None
    if not mark or session.verify(session_secret(), token, mark) is None:
        return None
    account = store.find_account(name or "", settings.users_path(), db_path())
    return account.actor() if account else None


def _remember(actor: Actor, token: str | None) -> None:
    # An account from the accounts file is re-read on every run (see current_user); the demo
    # accounts are fixed and exist only in demo mode.
    from_file = store.file_account(actor.name, settings.users_path()) is not None
    st.session_state[_SESSION_KEY] = {**actor.as_dict(), "from_file": from_file}
    st.session_state.pop(_SIGNED_OUT_KEY, None)
    if token:
        st.session_state[_TOKEN_KEY] = token


def _restore_from_cookie() -> None:
    """Once per session: sign in again from the cookie the browser sent, if it is valid."""
    if st.session_state.get(_COOKIE_READ_KEY):
        return
    st.session_state[_COOKIE_READ_KEY] = True
    if st.session_state.get(_SIGNED_OUT_KEY) or st.session_state.get(_SESSION_KEY):
        return
    token = cookies.sent_token()
    actor = actor_from_token(token)
    if actor is not None:
        _remember(actor, token)


def keep_cookie(where: Any = None) -> None:
    """Keep the browser's sign-in cookie in step with this session (the router calls it every run):
    the token while signed in with a built-in account, a deletion after signing out."""
    if oidc_configured():
        return
    token = st.session_state.get(_TOKEN_KEY)
    if token and st.session_state.get(_SESSION_KEY):
        cookies.render(cookies.set_script(token, session.seconds_left(token)), where)
    elif st.session_state.get(_SIGNED_OUT_KEY):
        cookies.render(cookies.clear_script(), where)


def current_user() -> Actor | None:
    """The signed-in person, or None."""
    if oidc_configured():
        return _oidc_user()
    _restore_from_cookie()
    data: dict[str, Any] | None = st.session_state.get(_SESSION_KEY)
    if not data:
        return None
    if data.get("from_file"):
        # Roles and directorates as the accounts file says now: a removed account is signed out,
        # and a changed role applies at once, not at the next sign-in.
        actor = store.file_account(data["name"], settings.users_path())
        if actor is None:
            sign_out()
        return actor
    return Actor(data["name"], data["role"], tuple(data["directorates"]), data.get("email"))


def _browser_session() -> str:
    """A random id for this browser session, kept in its session state (the sign-in throttle's key)."""
    return st.session_state.setdefault("auth_throttle_id", secrets.token_hex(16))


def sign_out() -> None:
    """Forget the signed-in person: revoke their token and have the browser delete the cookie."""
    st.session_state.pop(_SESSION_KEY, None)
    session.revoke(st.session_state.pop(_TOKEN_KEY, None))
    st.session_state[_SIGNED_OUT_KEY] = True
    if oidc_configured():
        st.logout()


def demo_notice(where: Any = st) -> None:
    """The visible 'Demo mode' notice (demo accounts with a published password exist)."""
    if settings.demo_mode():
        where.warning(
            f"**Demo mode**: fictional data; demo accounts share the password `{store.DEMO_PASSWORD}` "
            "(demo-admin, demo-viewer, and a demo-lead-… per directorate). Never use demo mode for real data.",
            icon=":material/science:",
        )


def sign_in_form(key: str, where: Any = st) -> Actor | None:
    """A sign-in form (or the identity provider's button); returns the actor once signed in."""
    configured, provider = _oidc_provider()
    if configured:
        if where.button("Sign in with your council account", key=f"{key}_oidc", type="primary"):
            st.login(provider) if provider else st.login()
        return None
    with where.form(f"{key}_form", clear_on_submit=False):
        st.markdown("**Sign in**")
        name = st.text_input("User name", key=f"{key}_name", autocomplete="username")
        password = st.text_input("Password", type="password", key=f"{key}_password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        keys = (throttle.account_key(name or ""), throttle.session_key(_browser_session()))
        wait = throttle.THROTTLE.wait(*keys)
        if wait > 0:  # refused before the password is even checked
            where.error(f"Too many failed sign-ins. Wait {math.ceil(wait)} seconds, then try again.")
            return None
        actor = store.verify_password(name, password, settings.users_path(), db_path()) if name and password else None
        if actor is None:
            throttle.THROTTLE.failed(*keys)
            time.sleep(0.5)  # slow down guessing a little
            where.error("That user name and password do not match an account.")
            return None
        throttle.THROTTLE.succeeded(keys[0])
        _remember(actor, issue_token(actor.name))
        st.rerun()
    return None


def render_sidebar() -> None:
    """Sign-in state for the shared sidebar: who is signed in, their role, and sign in/out."""
    sb = st.sidebar
    demo_notice(sb)
    actor = current_user()
    if actor:
        scope = f" for {', '.join(actor.directorates)}" if actor.role == "lead" and actor.directorates else ""
        sb.markdown(f"Signed in as **{actor.name}** ({actor.role}{scope})")
        if sb.button("Sign out", key="auth_sidebar_signout"):
            sign_out()
            st.rerun()
    else:
        with sb.expander("Sign in", expanded=False):
            sign_in_form("auth_sidebar")


def require_viewer() -> Actor | None:
    """Stop a read-only page unless reading is open or someone is signed in (LOCALISM_REQUIRE_SIGNIN)."""
    actor = current_user()
    if actor is None and settings.signin_required_to_read():
        st.info("This council's dashboard needs sign-in to view.")
        sign_in_form("auth_viewer")
        st.stop()
    return actor


def require_role(*roles: str, action: str = "use this page") -> Actor:
    """Stop the page unless someone with one of `roles` is signed in; return them."""
    actor = current_user()
    if actor is None:
        demo_notice()
        st.info(f"Sign in to {action}.")
        sign_in_form("auth_page")
        if not oidc_configured():
            st.markdown("No account yet? Ask an administrator of this dashboard to add one for you.")
        st.stop()
    if roles and actor.role not in roles:
        st.warning(f"You are signed in as {actor.name} ({actor.role}); only "
                   f"{with_article(' or '.join(roles))} may {action}.")
        st.stop()
    return actor
