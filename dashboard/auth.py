"""Sign-in for the dashboard: the council's identity provider (st.login, OpenID Connect) where
`.streamlit/secrets.toml` has an [auth] section, otherwise built-in accounts (accounts.store).

The router calls `render_sidebar()` in the shared sidebar and `require_viewer()` before a
read-only page; pages that write call `require_role(...)`. Roles are enforced again in the
write path (etl.access), so hiding a button here is a courtesy, not the protection.
"""

from __future__ import annotations

import math
import secrets
import time
from typing import Any

import streamlit as st

from accounts import settings, store, throttle
from etl import warehouse
from etl.access import Actor

_SESSION_KEY = "auth_actor"


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


def current_user() -> Actor | None:
    """The signed-in person, or None."""
    if oidc_configured():
        return _oidc_user()
    data: dict[str, Any] | None = st.session_state.get(_SESSION_KEY)
    if not data:
        return None
    if data.get("from_file"):
        # Roles and directorates as the accounts file says now: a removed account is signed out,
        # and a changed role applies at once, not at the next sign-in.
        actor = store.file_account(data["name"], settings.users_path())
        if actor is None:
            st.session_state.pop(_SESSION_KEY, None)
        return actor
    return Actor(data["name"], data["role"], tuple(data["directorates"]), data.get("email"))


def _browser_session() -> str:
    """A random id for this browser session, kept in its session state (the sign-in throttle's key)."""
    return st.session_state.setdefault("auth_throttle_id", secrets.token_hex(16))


def sign_out() -> None:
    """Forget the signed-in person."""
    st.session_state.pop(_SESSION_KEY, None)
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
        # An account from the accounts file is re-read on every run (see current_user); the demo
        # accounts are fixed and exist only in demo mode.
        from_file = store.file_account(actor.name, settings.users_path()) is not None
        st.session_state[_SESSION_KEY] = {**actor.as_dict(), "from_file": from_file}
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
            # Plain text, not st.caption: inline code in a caption fails contrast (3:1, axe).
            st.markdown("No account yet? An administrator adds one with `python -m etl add-user`.")
        st.stop()
    if roles and actor.role not in roles:
        st.warning(f"You are signed in as {actor.name} ({actor.role}); a {' or '.join(roles)} may {action}.")
        st.stop()
    return actor
