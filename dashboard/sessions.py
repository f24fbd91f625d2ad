"""Login sessions that survive a page reload: a random token in an HttpOnly cookie, its hash in the store.

The cookie is set by the server, never by page JavaScript (dashboard/web.py): after a successful login the
Streamlit page gets a one-time *grant* (60 s, single use) and posts it to `/_yuqing/session`, which starts the
session and answers with `Set-Cookie: …; HttpOnly; SameSite=Strict`. The token itself is never stored; the store
keeps sha256(token) -> user, start and expiry. Logging out blanks the entry, so a stolen cookie dies with it; a
password reset or `users disable` sets the user's `sessions_after`, which voids every session started before.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from yuqing.post import utc
from yuqing.store.base import Store

COOKIE = "yuqing_session"
TTL = timedelta(hours=12)
GRANT_TTL = timedelta(seconds=60)
MAX_TOKEN = 200  # longer cookies or grants are not ours: refused before hashing


def _key(token: str) -> str:
    return "session:" + hashlib.sha256(token.encode()).hexdigest()


def _grant_key(grant: str) -> str:
    return "grant:" + hashlib.sha256(grant.encode()).hexdigest()


def _entry(store: Store, key: str) -> dict[str, Any] | None:
    raw = store.get_state(key)
    if not raw:
        return None
    try:
        entry = json.loads(raw)
        entry["expires"] = utc(datetime.fromisoformat(entry["expires"]))
        entry["started"] = utc(datetime.fromisoformat(entry.get("started") or "1970-01-01T00:00:00+00:00"))
    except (ValueError, KeyError, TypeError):
        return None
    return entry if isinstance(entry.get("username"), str) else None


def start(store: Store, username: str, now: datetime) -> str:
    """A new session for `username`; returns the token to put in the cookie."""
    token = secrets.token_urlsafe(32)
    store.set_state(_key(token), json.dumps({"username": username, "started": utc(now).isoformat(),
                                             "expires": (utc(now) + TTL).isoformat()}))
    return token


def resume(store: Store, token: str, now: datetime) -> dict[str, Any] | None:
    """The user of a live session, with the role the store holds now; None when unknown, ended, expired, or the
    user was removed, disabled or had the password reset since the session started."""
    if not token or len(token) > MAX_TOKEN:
        return None
    entry = _entry(store, _key(token))
    if entry is None or entry["expires"] <= utc(now):
        return None
    user = store.get_user(entry["username"])
    if user is None or user.disabled or (user.sessions_after is not None and entry["started"] < user.sessions_after):
        return None
    return {"username": user.username, "role": user.role, "display_name": user.display_name or user.username}


def end(store: Store, token: str) -> None:
    if token and len(token) <= MAX_TOKEN:
        store.set_state(_key(token), "")


def issue_grant(store: Store, username: str, now: datetime) -> str:
    """A one-time code, good for GRANT_TTL, that the browser exchanges for a session cookie."""
    grant = secrets.token_urlsafe(32)
    store.set_state(_grant_key(grant), json.dumps({"username": username, "started": utc(now).isoformat(),
                                                   "expires": (utc(now) + GRANT_TTL).isoformat()}))
    return grant


def redeem_grant(store: Store, grant: str, now: datetime) -> str | None:
    """A new session token for a live grant (which is used up), else None."""
    if not grant or len(grant) > MAX_TOKEN:
        return None
    key = _grant_key(grant)
    entry = _entry(store, key)
    if entry is None:
        return None
    store.set_state(key, "")  # single use, live or not
    if entry["expires"] <= utc(now):
        return None
    user = store.get_user(entry["username"])
    if user is None or user.disabled:
        return None
    return start(store, user.username, now)


def cookie_header(token: str, *, secure: bool = False) -> str:
    """The Set-Cookie value that stores (token) or clears ("") the session cookie; HttpOnly always."""
    if token:
        attrs = f"Path=/; Max-Age={int(TTL.total_seconds())}; HttpOnly; SameSite=Strict"
    else:
        attrs = "Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
    return f"{COOKIE}={token}; {attrs}" + ("; Secure" if secure else "")
