"""Login sessions that survive a page reload: a random token in a cookie, its hash in the store.

The token itself is never stored; the store keeps sha256(token) -> user and expiry under
`session:<hash>` in its key/value state. Logging out blanks the entry, so a stolen cookie dies with it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from yuqing.store.base import Store

COOKIE = "yuqing_session"
TTL = timedelta(hours=12)


def _key(token: str) -> str:
    return "session:" + hashlib.sha256(token.encode()).hexdigest()


def start(store: Store, username: str, now: datetime) -> str:
    """A new session for `username`; returns the token to put in the cookie."""
    token = secrets.token_urlsafe(32)
    store.set_state(_key(token), json.dumps({"username": username, "expires": (now + TTL).isoformat()}))
    return token


def resume(store: Store, token: str, now: datetime) -> dict[str, Any] | None:
    """The user of a live session, with the role the store holds now; None when unknown, ended or expired."""
    if not token or len(token) > 200:
        return None
    raw = store.get_state(_key(token))
    if not raw:
        return None
    try:
        entry = json.loads(raw)
        expires = datetime.fromisoformat(entry["expires"])
    except (ValueError, KeyError, TypeError):
        return None
    if expires <= now:
        return None
    user = store.get_user(entry["username"])
    if user is None:
        return None
    return {"username": user.username, "role": user.role, "display_name": user.display_name or user.username}


def end(store: Store, token: str) -> None:
    if token:
        store.set_state(_key(token), "")


def cookie_script(token: str, *, secure: bool = False) -> str:
    """JavaScript that stores (token) or clears ("") the session cookie in the browser."""
    if token:
        attrs = f"path=/; max-age={int(TTL.total_seconds())}; SameSite=Strict" + ("; Secure" if secure else "")
        value = token
    else:
        attrs, value = "path=/; max-age=0; SameSite=Strict", ""
    return f"<script>document.cookie = {json.dumps(f'{COOKIE}={value}; {attrs}')};</script>"
