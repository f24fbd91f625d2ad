"""The walking skeleton: login gate, crisis banner, the overview shows the store's numbers."""

from __future__ import annotations

from yuqing.index import PostQuery

from .conftest import NOW, PASSWORD, XSS, app_as


def texts(at) -> list[str]:
    return [e.value for e in at.text] + [e.value for e in at.markdown]


def test_login_is_required_and_wrong_password_is_refused(filled):
    at = app_as(None).run()
    assert not at.exception
    assert at.title[0].value == "舆情监测平台 · 登录"
    assert not at.error  # no banner before login
    at.text_input[0].input("resp1")
    at.text_input[1].input("wrong-password")
    at.button[0].click().run()
    assert at.error[0].value == "用户名或密码错误（还可尝试 4 次）"
    assert "user" not in at.session_state
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert at.session_state["user"]["role"] == "responder"
    assert at.title[0].value == "总览"


def test_overview_shows_store_numbers_and_banner(filled):
    at = app_as("viewer").run()
    assert not at.exception, at.exception
    assert "中国电信 断网负面激增" in at.error[0].value
    metrics = {m.label: m.value for m in at.metric}
    since = NOW.replace(second=0, microsecond=0) - __import__("datetime").timedelta(days=7)
    total = filled.count_posts(PostQuery(since=since))
    negative = filled.count_posts(PostQuery(since=since, labels=("negative",)))
    assert metrics["帖子总数"] == f"{total:,}" == "14"
    assert metrics["负面"] == f"{negative:,}" == "8"
    assert metrics["负面占比"] == f"{negative / total:.1%}"
    latest = at.dataframe[-1].value
    assert len(latest) == 14
    assert XSS in list(latest["内容"])


def test_unsubscribe_link_from_an_email_works_without_login(filled):
    from yuqing.records import Subscriber

    sub = filled.save_subscriber(Subscriber(email="pr@example.com", min_severity="yellow"))
    at = app_as(None)
    at.query_params["unsubscribe"] = sub.token
    at.run()
    assert not at.exception
    assert any("已退订" in s.value for s in at.success)
    assert [s.active for s in filled.list_subscribers() if s.email == "pr@example.com"] == [False]
    bad = app_as(None)
    bad.query_params["unsubscribe"] = "no-such-token"
    bad.run()
    assert any("无效" in e.value for e in bad.error)


def test_an_unusable_store_is_one_clear_message_on_every_page(filled, tmp_path, monkeypatch):
    """A corrupt store file (or a locked or unreachable one): no traceback on the page, one message that says so."""
    import os

    from dashboard import data

    path = tmp_path / "broken.db"
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    monkeypatch.setenv("YUQING_STORE_PATH", str(path))
    data.close_stores()
    for role in (None, "viewer", "admin"):
        at = app_as(role).run()
        assert not at.exception, at.exception
        assert any("存储不可用" in e.value for e in at.error), [e.value for e in at.error]
