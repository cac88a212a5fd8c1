"""The sign-in cookie in the browser: the one place the app sends a script of its own.

Streamlit reads the cookies a browser sends with its first request of a session
(`st.context.cookies`) but has no call that sets one (st.login sets its own, for OpenID Connect
only). So a fixed script, rendered by `st.html(..., unsafe_allow_javascript=True)`, writes the
signed token with `document.cookie`: Path=/, SameSite=Strict, Secure when the page is served over
https, and a Max-Age of the token's lifetime. A cookie written by a script cannot be HttpOnly:
a script planted in the page could read it (SECURITY.md, "Known limits"); the app renders no
user text as HTML, which is what keeps such a script out.

Nothing but the token goes into the script, and only after it matches the token's own alphabet
(URL-safe base64 and one dot), so no user text ever reaches it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import streamlit as st

from accounts import session

_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,900}\.[A-Za-z0-9_-]{1,200}")
_SCRIPT = """<script>
(function () {{
  var secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie = {name} + "=" + {value} + "; Path=/; SameSite=Strict; Max-Age=" + {max_age} + secure;
}})();
</script>"""


def set_script(token: str, max_age: int = session.LIFETIME_SECONDS) -> str:
    """The script that stores `token` in the sign-in cookie; ValueError for anything not a token."""
    if not _TOKEN.fullmatch(token or ""):
        raise ValueError("not a sign-in token")
    return _SCRIPT.format(name=json.dumps(session.COOKIE_NAME), value=json.dumps(token), max_age=int(max_age))


def clear_script() -> str:
    """The script that deletes the sign-in cookie."""
    return _SCRIPT.format(name=json.dumps(session.COOKIE_NAME), value=json.dumps(""), max_age=0)


def render(script: str, where: Any = None) -> None:
    """Send one of the scripts above to the browser (it renders nothing visible)."""
    (where or st).html(script, unsafe_allow_javascript=True)


def sent_token() -> str | None:
    """The sign-in cookie the browser sent when this session began, if any."""
    try:
        return st.context.cookies.get(session.COOKIE_NAME) or None
    except Exception:  # no browser behind this run (a test, a bare script)
        return None
