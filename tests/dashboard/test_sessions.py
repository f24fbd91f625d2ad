"""Login sessions kept in a cookie: start, resume with the current role, expire, end."""

from __future__ import annotations

from datetime import timedelta

from yuqing.store.sqlite import SQLiteStore

from dashboard import sessions, users

from .conftest import NOW, PASSWORD


def test_session_lifecycle(tmp_path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    users.add_user(store, "resp1", PASSWORD, "responder")
    token = sessions.start(store, "resp1", NOW)
    assert token not in str(store.get_state(sessions._key(token)))  # only the hash is kept as the key
    assert sessions.resume(store, token, NOW + timedelta(hours=1))["role"] == "responder"
    users.add_user(store, "resp1", PASSWORD, "viewer")  # a role change applies to live sessions
    assert sessions.resume(store, token, NOW + timedelta(hours=1))["role"] == "viewer"
    assert sessions.resume(store, token, NOW + sessions.TTL + timedelta(seconds=1)) is None
    assert sessions.resume(store, "forged", NOW) is None
    sessions.end(store, token)
    assert sessions.resume(store, token, NOW) is None
    store.close()


def test_cookie_script_sets_and_clears() -> None:
    assert "yuqing_session=abc; path=/; max-age=43200; SameSite=Strict" in sessions.cookie_script("abc")
    assert "; Secure" in sessions.cookie_script("abc", secure=True)
    assert "yuqing_session=; path=/; max-age=0" in sessions.cookie_script("")
