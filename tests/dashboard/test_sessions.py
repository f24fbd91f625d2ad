"""Login sessions kept in an HttpOnly cookie: start, resume with the current role, expire, end; one-time grants;
a password reset, `users disable` or `users remove` ends every session of that user."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard import sessions, throttle, users
from tests.alerts.conftest import open_both

from .conftest import NOW, PASSWORD


@pytest.fixture
def store(tmp_path):
    s = open_both(tmp_path / "s.db")
    users.add_user(s, "resp1", PASSWORD, "responder")
    yield s
    s.close()


def test_session_lifecycle(store) -> None:
    token = sessions.start(store, "resp1", NOW)
    assert store.ops.session_user(sessions.token_hash(token), NOW).username == "resp1"  # kept by its hash only
    assert store.ops.session_user(token, NOW) is None
    assert sessions.resume(store, token, NOW + timedelta(hours=1))["role"] == "responder"
    assert sessions.resume(store, token, NOW + sessions.TTL + timedelta(seconds=1)) is None
    assert sessions.resume(store, "forged", NOW) is None
    assert sessions.resume(store, "x" * 10_000, NOW) is None
    sessions.end(store, token, NOW)
    assert sessions.resume(store, token, NOW) is None


def test_a_password_reset_ends_the_users_sessions(store) -> None:
    token = sessions.start(store, "resp1", NOW)
    users.add_user(store, "resp1", "another-password-1", "viewer", now=NOW + timedelta(minutes=5))  # --replace
    assert sessions.resume(store, token, NOW + timedelta(minutes=6)) is None
    fresh = sessions.start(store, "resp1", NOW + timedelta(minutes=7))  # a login after the reset works
    assert sessions.resume(store, fresh, NOW + timedelta(minutes=8))["role"] == "viewer"


def test_disable_and_remove_end_sessions_and_refuse_logins(store) -> None:
    token = sessions.start(store, "resp1", NOW)
    users.set_disabled(store, "resp1", True, NOW + timedelta(minutes=1))
    assert sessions.resume(store, token, NOW + timedelta(minutes=2)) is None
    attempt = throttle.attempt(store, "resp1", PASSWORD, NOW + timedelta(minutes=2))
    assert attempt.user is None and "已停用" in attempt.message
    wrong = throttle.attempt(store, "resp1", "wrong-password", NOW + timedelta(minutes=2))
    assert "已停用" not in wrong.message  # only someone who knows the password learns it is disabled
    users.set_disabled(store, "resp1", False, NOW + timedelta(minutes=3))
    assert sessions.resume(store, token, NOW + timedelta(minutes=4)) is None  # enabling does not revive it
    again = sessions.start(store, "resp1", NOW + timedelta(minutes=4))
    assert sessions.resume(store, again, NOW + timedelta(minutes=5)) is not None
    users.remove_user(store, "resp1")
    assert sessions.resume(store, again, NOW + timedelta(minutes=6)) is None
    assert store.get_user("resp1") is None
    with pytest.raises(users.UserError, match="no user"):
        users.remove_user(store, "resp1")
    with pytest.raises(users.UserError, match="no user"):
        users.set_disabled(store, "nobody", True)


def test_a_grant_is_good_once_and_briefly(store) -> None:
    grant = sessions.issue_grant(store, "resp1", NOW)
    token = sessions.redeem_grant(store, grant, NOW + timedelta(seconds=5))
    assert token and sessions.resume(store, token, NOW + timedelta(seconds=6))["username"] == "resp1"
    assert sessions.redeem_grant(store, grant, NOW + timedelta(seconds=7)) is None  # used up
    late = sessions.issue_grant(store, "resp1", NOW)
    assert sessions.redeem_grant(store, late, NOW + sessions.GRANT_TTL + timedelta(seconds=1)) is None
    assert sessions.redeem_grant(store, "forged", NOW) is None
    disabled = sessions.issue_grant(store, "resp1", NOW)
    users.set_disabled(store, "resp1", True, NOW)
    assert sessions.redeem_grant(store, disabled, NOW + timedelta(seconds=1)) is None


def test_cookie_header_is_httponly_and_strict() -> None:
    assert sessions.cookie_header("abc") == "yuqing_session=abc; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict"
    assert sessions.cookie_header("abc", secure=True).endswith("; HttpOnly; SameSite=Strict; Secure")
    assert sessions.cookie_header("") == "yuqing_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
