"""Failed-login throttling: counting, the lock and its message, expiry, reset, the login form and `users unlock`."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from dashboard import throttle, users
from tests.alerts.conftest import open_both
from yuqing.config import ConfigError, load_settings
from yuqing.records import now_utc
from yuqing.timefmt import local_str

from .conftest import NOW, PASSWORD, app_as


@pytest.fixture
def store(tmp_path):
    s = open_both(tmp_path / "t.db")
    users.add_user(s, "alice", PASSWORD, "responder")
    yield s
    s.close()


def fail(store, name: str, times: int, now=NOW) -> throttle.Status:
    st = throttle.Status()
    for _ in range(times):
        st = throttle.record_failure(store, name, now)
    return st


def locks(store) -> list:
    return [e for e in store.list_audit() if e.action == "login_lock"]


def test_failures_are_counted_and_the_fifth_locks_audited_and_logged(store, caplog) -> None:
    for i in range(1, throttle.MAX_FAILURES):
        st = throttle.record_failure(store, "alice", NOW + timedelta(minutes=i))
        assert (st.count, st.first_at, st.locked_until) == (i, NOW + timedelta(minutes=1), None)
        assert throttle.failed_message(st) == f"用户名或密码错误（还可尝试 {5 - i} 次）"
    assert not locks(store)
    with caplog.at_level(logging.WARNING, logger="dashboard.throttle"):
        st = throttle.record_failure(store, "alice", NOW + timedelta(minutes=5))
    assert st.count == 5 and st.locked_until == NOW + timedelta(minutes=20)
    assert st.locked(NOW + timedelta(minutes=19)) and not st.locked(NOW + timedelta(minutes=20))
    [entry] = locks(store)
    assert (entry.actor, entry.target, entry.at) == ("system", "user:alice", NOW + timedelta(minutes=5))
    assert "连续 5 次登录失败" in entry.detail
    assert any("'alice' locked until" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    # the count is a row of the OpsDB's login_failures, keyed by a hash of the name
    stored = store.ops.login_failures(throttle.user_key("alice"))
    assert "alice" not in throttle.user_key("alice") and stored.count == 5 and stored.locked_until == st.locked_until


def test_locked_user_is_refused_even_with_the_right_password_until_the_lock_expires(store) -> None:
    fail(store, "alice", 5)
    at = throttle.attempt(store, "alice", PASSWORD, NOW)
    assert at.user is None and at.message == "登录失败次数过多，该账号已锁定，请 15 分钟后再试"
    later = throttle.attempt(store, "alice", PASSWORD, NOW + timedelta(minutes=3, seconds=30))
    assert later.user is None and later.message == "登录失败次数过多，该账号已锁定，请 12 分钟后再试"
    assert throttle.attempt(store, "alice", "wrong-pass", NOW + timedelta(minutes=14, seconds=59)).message.endswith(
        "请 1 分钟后再试")
    # attempts while locked neither extend the lock nor write another audit entry
    assert throttle.status(store, "alice", NOW).locked_until == NOW + timedelta(minutes=15)
    assert len(locks(store)) == 1
    ok = throttle.attempt(store, "alice", PASSWORD, NOW + timedelta(minutes=15))
    assert ok.user is not None and ok.user.username == "alice" and not ok.message
    assert throttle.status(store, "alice", NOW + timedelta(minutes=15)) == throttle.Status()


def test_failures_older_than_the_window_are_forgotten(store) -> None:
    fail(store, "alice", 4)
    st = throttle.record_failure(store, "alice", NOW + timedelta(minutes=15))
    assert st.count == 1 and st.locked_until is None
    st = fail(store, "alice", 3, NOW + timedelta(minutes=16))
    assert st.count == 4 and not st.locked(NOW + timedelta(minutes=16))
    st = throttle.record_failure(store, "alice", NOW + timedelta(minutes=29))
    assert st.locked(NOW + timedelta(minutes=29))


def test_a_success_resets_the_counter(store) -> None:
    fail(store, "alice", 4)
    assert throttle.attempt(store, "alice", PASSWORD, NOW).user is not None
    assert throttle.status(store, "alice", NOW) == throttle.Status()
    after = throttle.attempt(store, "alice", "wrong-pass", NOW)
    assert after.user is None and after.message == "用户名或密码错误（还可尝试 4 次）"


def test_unknown_usernames_are_counted_with_the_same_messages(store) -> None:
    seen = {}
    for name in ("alice", "ghost"):
        seen[name] = [throttle.attempt(store, name, "wrong-pass", NOW) for _ in range(5)]
    assert [a.message for a in seen["alice"]] == [a.message for a in seen["ghost"]]
    assert seen["ghost"][-1].locked_now and seen["ghost"][-1].message.startswith("登录失败次数过多")
    assert [e.target for e in locks(store)] == ["user:ghost", "user:alice"]


def test_the_username_is_case_insensitive(store) -> None:
    for name in ("Alice", " alice ", "ALICE", "alice"):
        throttle.record_failure(store, name, NOW)
    assert throttle.status(store, "aLiCe", NOW).count == 4
    assert throttle.attempt(store, "ALICE", "wrong-pass", NOW).locked_now
    assert throttle.attempt(store, "alice", PASSWORD, NOW).user is None
    assert throttle.status(store, "bob", NOW) == throttle.Status()  # other names are not affected


def test_an_expired_lock_starts_over(store) -> None:
    fail(store, "alice", 5)
    assert throttle.status(store, "alice", NOW + timedelta(minutes=30)) == throttle.Status()
    assert throttle.record_failure(store, "alice", NOW + timedelta(minutes=30)).count == 1


def test_limits_come_from_the_dashboard_settings(monkeypatch, store) -> None:
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    assert throttle.Limits.from_settings(load_settings()) == throttle.Limits()
    monkeypatch.setenv("YUQING_DASHBOARD_LOGIN_MAX_FAILURES", "2")
    monkeypatch.setenv("YUQING_DASHBOARD_LOGIN_LOCK_MINUTES", "60")
    limits = throttle.Limits.from_settings(load_settings())
    assert limits == throttle.Limits(2, timedelta(minutes=60), timedelta(minutes=60))
    assert throttle.attempt(store, "alice", "wrong-pass", NOW, limits).message == "用户名或密码错误（还可尝试 1 次）"
    locked = throttle.attempt(store, "alice", "wrong-pass", NOW, limits)
    assert locked.message == "登录失败次数过多，该账号已锁定，请 60 分钟后再试"
    monkeypatch.setenv("YUQING_DASHBOARD_LOGIN_MAX_FAILURES", "0")
    with pytest.raises(ConfigError, match="login_max_failures"):
        load_settings()


def test_login_form_locks_after_five_failures_across_browser_sessions(filled):
    at = app_as(None).run()
    for left in (4, 3, 2, 1):
        at.text_input[0].input("resp1")
        at.text_input[1].input("wrong-password")
        at.button[0].click().run()
        assert [e.value for e in at.error] == [f"用户名或密码错误（还可尝试 {left} 次）"]
    at.text_input[1].input("wrong-password")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["登录失败次数过多，该账号已锁定，请 15 分钟后再试"]
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["登录失败次数过多，该账号已锁定，请 15 分钟后再试"]
    assert "user" not in at.session_state and at.title[0].value == "舆情监测平台 · 登录"
    fresh = app_as(None).run()  # another browser: the lock is in the store, not in the session
    fresh.text_input[0].input("RESP1")
    fresh.text_input[1].input(PASSWORD)
    fresh.button[0].click().run()
    assert "user" not in fresh.session_state and fresh.error[0].value.startswith("登录失败次数过多")
    assert [(e.action, e.target) for e in filled.list_audit() if e.action == "login_lock"] == [("login_lock",
                                                                                                  "user:resp1")]


def test_users_unlock_command(tmp_path, monkeypatch, capsys):
    from tests.conftest import Both
    from yuqing.cli import main
    from yuqing.wiring import open_stores

    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    monkeypatch.delenv("YUQING_ES_URL", raising=False)
    monkeypatch.setenv("YUQING_STORE_PATH", str(tmp_path / "u.db"))
    store = Both(*open_stores(load_settings()))
    try:
        users.add_user(store, "resp1", PASSWORD, "responder")
        fail(store, "resp1", 5, now_utc())
        assert throttle.attempt(store, "resp1", PASSWORD, now_utc()).user is None
        locked_until = throttle.status(store, "resp1", now_utc()).locked_until
    finally:
        store.close()
    assert main(["users", "unlock", "Resp1"]) == 0
    out = capsys.readouterr().out
    shown = local_str(locked_until, "%Y-%m-%d %H:%M:%S")  # Beijing time, like the rest of the product
    assert f"user Resp1 unlocked (was locked until {shown} 北京时间)" in out and "+00:00" not in out
    store = Both(*open_stores(load_settings()))
    try:
        assert throttle.status(store, "resp1", now_utc()) == throttle.Status()
        [entry] = [e for e in store.list_audit() if e.action == "login_unlock"]
        assert entry.actor.startswith("cli:") and entry.target == "user:Resp1" and "解除锁定" in entry.detail
        assert entry.detail == f"解除锁定（原锁定至 {shown}）"
        assert throttle.attempt(store, "resp1", PASSWORD, now_utc()).user.username == "resp1"
    finally:
        store.close()
    assert main(["users", "unlock", "nobody"]) == 2  # no such user, nothing counted: a usage error
    assert "没有这个用户 no user 'nobody'; nothing to unlock" in capsys.readouterr().err
    store = Both(*open_stores(load_settings()))
    try:  # failures counted against a name that is no user are still cleared by hand
        fail(store, "ghost", 2, now_utc())
    finally:
        store.close()
    assert main(["users", "unlock", "ghost"]) == 0
    assert "user ghost was not locked; 2 counted failed logins cleared" in capsys.readouterr().out
