"""A built-in account's sign-in survives a browser reload: the signed token (accounts.session), the
dashboard's restore from the cookie (dashboard.auth), and signing out.

The browser part (the cookie really set, a reload really signed in) is in
tests/test_browser_submit.py; here the cookie the browser would send is given to the session.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from accounts import session, store
from dashboard import auth, cookies

SECRET = b"s" * 32
TIMEOUT = 60


@pytest.fixture
def users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "users.json"
    monkeypatch.setenv("LOCALISM_USERS", str(path))
    monkeypatch.setenv("LOCALISM_DB", str(tmp_path / "none.duckdb"))
    monkeypatch.setenv("LOCALISM_SESSION_SECRET", "x" * 40)
    monkeypatch.delenv("LOCALISM_DEMO", raising=False)
    store.add_user(path, name="jo.lead", role="lead", directorates=["Adults and Health"], password="a-long-password")
    return path


# ---------------------------------------------------------------------------------------------
# The token


def test_a_token_names_the_account_until_it_expires():
    token = session.issue(SECRET, "jo.lead", "fp", now=1_000, lifetime=60)
    assert session.claimed_name(token) == "jo.lead"
    assert session.verify(SECRET, token, "fp", now=1_059) == session.Claims("jo.lead", 1_060)
    assert session.verify(SECRET, token, "fp", now=1_060) is None  # expired
    assert session.seconds_left(token, now=1_000) == 60 and session.seconds_left(token, now=2_000) == 0


def test_a_forged_altered_or_re_keyed_token_is_refused():
    token = session.issue(SECRET, "jo.lead", "fp")
    payload, mac = token.split(".")
    other = session.issue(SECRET, "admin", "fp").split(".")[0]
    assert session.verify(SECRET, f"{other}.{mac}", "fp") is None  # another name under this signature
    assert session.verify(b"t" * 32, token, "fp") is None  # another server's key
    assert session.verify(SECRET, token, "new password") is None  # the password changed since
    for junk in (None, "", "a.b.c", "x" * 2000, f"{payload}.", "not base64!.x"):
        assert session.verify(SECRET, junk, "fp") is None
        assert session.claimed_name(junk) in (None, "jo.lead")


def test_a_revoked_token_is_refused_and_forgotten_once_it_would_have_expired():
    token = session.issue(SECRET, "jo.lead", "fp", now=time.time(), lifetime=60)
    session.revoke(token)
    assert session.verify(SECRET, token, "fp") is None
    session.revoke(None, now=time.time() + 61)  # a later sign-out prunes it
    assert token not in session._REVOKED


def test_a_short_configured_secret_is_an_error_not_a_weak_key():
    with pytest.raises(ValueError):
        session.secret_from("short")
    assert session.secret_from(None) is None and session.secret_from("y" * 32) == b"y" * 32


# ---------------------------------------------------------------------------------------------
# The dashboard's restore (dashboard.auth)


def test_restore_logic_signs_in_the_account_the_token_names(users: Path):
    token = auth.issue_token("jo.lead")
    actor = auth.actor_from_token(token)
    assert actor is not None and (actor.name, actor.role, actor.directorates) == ("jo.lead", "lead", ("Adults and Health",))
    assert auth.actor_from_token(token + "x") is None
    assert auth.actor_from_token(None) is None
    assert auth.issue_token("nobody") is None


def test_a_new_password_or_a_removed_account_ends_every_restore(users: Path):
    token = auth.issue_token("jo.lead")
    store.add_user(users, name="jo.lead", role="lead", directorates=["Adults and Health"], password="another-password")
    assert auth.actor_from_token(token) is None
    token = auth.issue_token("jo.lead")
    users.write_text('{"users": []}', encoding="utf-8")
    assert auth.actor_from_token(token) is None


def _script() -> None:
    import streamlit as st

    from dashboard import auth

    actor = auth.current_user()
    st.write(f"who={actor.name}" if actor else "signed out")
    if actor and st.button("Sign out"):
        auth.sign_out()
        st.rerun()
    auth.keep_cookie()


def _html(at: AppTest) -> str:
    return "\n".join(str(e.proto.body) for e in at.get("html"))


def test_a_new_session_with_the_cookie_is_signed_in_and_sign_out_deletes_it(users: Path,
                                                                             monkeypatch: pytest.MonkeyPatch):
    token = auth.issue_token("jo.lead")
    monkeypatch.setattr(cookies, "sent_token", lambda: token)  # what the reloaded browser sends
    at = AppTest.from_function(_script, default_timeout=TIMEOUT).run()
    assert "who=jo.lead" in "\n".join(m.value for m in at.markdown)
    assert f'"{token}"' in _html(at)  # the cookie kept in step

    [b for b in at.button if b.label == "Sign out"][0].click()
    at.run()
    assert "signed out" in "\n".join(m.value for m in at.markdown)
    assert 'Max-Age=" + 0' in _html(at) and token not in _html(at)
    at.run()  # the browser still sends its old cookie this session: it is not read again
    assert "signed out" in "\n".join(m.value for m in at.markdown)
    assert auth.actor_from_token(token) is None  # and the token itself is revoked here


def test_a_bad_cookie_leaves_the_session_signed_out(users: Path, monkeypatch: pytest.MonkeyPatch):
    good = auth.issue_token("jo.lead")
    for sent in ("garbage", good.replace(".", "x.", 1), None):
        monkeypatch.setattr(cookies, "sent_token", lambda sent=sent: sent)
        at = AppTest.from_function(_script, default_timeout=TIMEOUT).run()
        assert not at.exception
        assert "signed out" in "\n".join(m.value for m in at.markdown)
        assert not at.get("html")


def test_signing_in_issues_the_cookie(users: Path):
    def script() -> None:
        import streamlit as st

        from dashboard import auth

        actor = auth.current_user()
        if actor is None:
            auth.sign_in_form("t")
        else:
            st.write(f"who={actor.name}")
        auth.keep_cookie()

    at = AppTest.from_function(script, default_timeout=TIMEOUT).run()
    assert not at.get("html")
    at.text_input(key="t_name").input("jo.lead")
    at.text_input(key="t_password").input("a-long-password")
    at.button[0].click()
    at.run()
    assert "who=jo.lead" in "\n".join(m.value for m in at.markdown)
    token = at.session_state["auth_token"]
    assert auth.actor_from_token(token).name == "jo.lead"
    assert f'"{token}"' in _html(at)
