"""Pure parts of the dashboard: filters in the URL, queue rules, templates, users and the users command."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime, timedelta

import pytest

from dashboard import filters, labels, triage, users
from yuqing.records import Alert, Analysis, Case, Post, StoredPost

NOW = datetime(2026, 11, 24, 2, 0, 30, tzinfo=UTC)


def sp(label="negative", influence=0.0, risk=(), platform="weibo", kind="post", comments=0, ops=("中国电信",),
       hours=1.0, touchpoints=()):
    post = Post(platform=platform, post_id="1", text="t", published_at=NOW - timedelta(hours=hours), kind=kind,
                comments=comments, operators=ops)
    return StoredPost(post=post, analysis=Analysis(label=label, score=0.1, influence=influence, risk_flags=risk,
                                                   operators=ops, touchpoints=touchpoints))


def test_filters_round_trip_through_query_params():
    f = filters.Filters(range="30d", operators=("中国电信", "中国移动"), platforms=("weibo",), regions=("广东",))
    params = filters.to_params(f)
    assert params == {"range": "30d", "operator": "中国电信,中国移动", "platform": "weibo", "region": "广东"}
    assert filters.from_params(params) == f
    assert filters.from_params({"range": "bogus", "operator": ["a", "a,b"]}) == filters.Filters(operators=("a", "b"))
    assert filters.to_params(filters.Filters()) == {}


def test_filter_query_floors_now_to_the_minute():
    q = filters.Filters(range="24h", touchpoints=("宽带",)).query(NOW, labels=("negative",))
    assert q.since == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert q.touchpoints == ("宽带",) and q.labels == ("negative",)
    assert filters.Filters(range="all").query(NOW).since is None


RULES = triage.QueueRules(negative_min_influence=1.0)


@pytest.mark.parametrize(("post", "reason"), [
    (sp(influence=1.5), "负面且有影响力(1.5)"),
    (sp(influence=0.5), ""),
    (sp(label="neutral", influence=5.0), ""),
    (sp(label="neutral", risk=("churn",)), "离网风险"),
    (sp(label="positive", risk=("churn",)), "携号转网（正面，多为转入）"),
    (sp(influence=2.0, risk=("escalation", "churn")), "升级投诉风险、离网风险；负面且有影响力(2.0)"),
    (sp(label="neutral", platform="zhidao", kind="question"), "知道提问未获回答"),
    (sp(label="neutral", platform="zhidao", kind="question", comments=2), ""),
    (sp(label="neutral", platform="zhidao", kind="question", ops=("中国移动",)), ""),
])
def test_flag_reason(post, reason):
    assert triage.flag_reason(post, "中国电信", RULES) == reason


def test_priority_prefers_risk_influence_and_fresh_posts():
    assert triage.priority(sp(influence=2, risk=("escalation",)), NOW) > triage.priority(sp(influence=2), NOW)
    assert triage.priority(sp(influence=2, hours=1), NOW) > triage.priority(sp(influence=2, hours=30), NOW)
    assert triage.priority(sp(influence=2, hours=24 * 30), NOW) == triage.priority(sp(influence=2, hours=24 * 10), NOW)


def test_churn_on_a_positive_post_is_someone_arriving_and_stays_low():
    arriving = sp(label="positive", influence=8.0, risk=("churn",))
    leaving = sp(label="negative", influence=1.0, risk=("churn",))
    assert triage.priority(arriving, NOW) <= triage.ARRIVING_MAX < triage.priority(leaving, NOW)
    assert triage.priority(arriving, NOW) < triage.priority(sp(label="neutral", influence=0.5), NOW)
    assert triage.priority(sp(label="neutral", risk=("churn",)), NOW) > triage.priority(sp(label="neutral"), NOW)


def _alert(severity, status="open", keys=(), event_id="", alert_id=1):
    return Alert(rule="r", key="k", severity=severity, title="t", reason="", opened_at=NOW, status=status,
                 sample_keys=keys, event_id=event_id, alert_id=alert_id)


def test_priority_scales_influence_over_its_whole_0_to_100_range():
    big, mid, small = (triage.priority(sp(influence=x), NOW) for x in (100.0, 20.0, 11.0))
    assert big > mid > small  # a 3.86M-follower report (100) no longer ties with an influence 11 post
    assert big - mid == 8.0  # one point per 10 influence
    # influence does not swamp the other factors: an escalation threat outweighs 30 points of reach
    assert triage.priority(sp(influence=20.0, risk=("escalation",)), NOW) > triage.priority(sp(influence=50.0), NOW)
    arriving = sp(label="positive", influence=100.0, risk=("churn",))
    assert triage.priority(arriving, NOW) <= triage.ARRIVING_MAX < triage.priority(sp(label="neutral", influence=11), NOW)
    # arriving stays last even below an old, unread post with no influence at all (whose score is negative)
    assert triage.priority(arriving, NOW) < triage.priority(sp(label="neutral", influence=0.0, hours=24 * 9), NOW)


def test_queue_priority_adds_the_worst_unresolved_alert_of_the_post():
    post = sp(influence=20.0)
    post = StoredPost(post=post.post, analysis=dataclasses.replace(post.analysis, event_id="ev1"))
    base = triage.priority(post, NOW)
    assert triage.queue_priority(post, NOW, []) == base
    yellow, red = _alert("yellow", keys=("weibo:1",), alert_id=1), _alert("red", event_id="ev1", alert_id=2)
    assert triage.post_alert(post, [yellow, red]) is red
    assert triage.queue_priority(post, NOW, [yellow, red]) == pytest.approx(base + triage.ALERT_WEIGHT["red"])
    assert triage.queue_priority(post, NOW, [yellow]) == pytest.approx(base + triage.ALERT_WEIGHT["yellow"])
    gone = [_alert("red", status="resolved", event_id="ev1"), _alert("orange", keys=("weibo:2",), event_id="ev9")]
    assert triage.post_alert(post, gone) is None and triage.queue_priority(post, NOW, gone) == base


def test_queue_order_is_by_priority_with_overdue_then_oldest_breaking_ties():
    rows = [(1.0, True, NOW - timedelta(hours=9)),  # stale, overdue, low
            (16.0, False, NOW),  # fresh crisis post
            (5.0, False, NOW - timedelta(minutes=5)),
            (5.0, True, NOW - timedelta(hours=2)),
            (5.0, True, NOW - timedelta(hours=3))]
    assert triage.queue_order(rows) == [1, 4, 3, 2, 0]
    assert triage.queue_order([]) == []


def test_codes_are_shown_in_chinese_and_unknown_ones_as_they_are():
    for code in ("alert_new", "alert_raise", "alert_reopen", "ack", "resolve", "silence", "claim", "assign", "reply",
                 "ignore", "reopen", "login_lock", "login_unlock", "correct_label", "subscriber_save",
                 "subscriber_delete"):
        assert labels.action_zh(code) != code and not labels.action_zh(code).isascii()
    assert labels.action_zh("alert_new") == "新预警" and labels.action_zh("login_unlock") == "解锁"
    assert labels.action_zh("something_new") == "something_new"
    scope = {"operators": ["中国电信"], "platforms": ["weibo"], "regions": ("山东", "济南"), "touchpoints": "宽带"}
    assert labels.scope_text(scope) == "运营商=中国电信；平台=微博；地区=山东、济南；触点=宽带"
    assert labels.scope_text({}) == "全部" and labels.scope_text({"weather": "rain"}) == "weather=rain"
    assert labels.rule_text("高影响力负面帖", "influential") == "高影响力负面帖"
    assert labels.rule_text("大V负面", "influential") == "大V负面（高影响力负面帖）"
    assert labels.rule_text("x", "new_type") == "x（new_type）" and labels.rule_text("x", "") == "x"
    from alerts.rules import RULE_TYPES  # tests may import several apps; the dashboard itself does not

    assert set(RULE_TYPES) <= set(labels.RULE_TYPE_ZH)


def test_subscriber_errors_in_chinese():
    from yuqing.records import Subscriber

    with pytest.raises(ValueError) as exc:
        Subscriber(email="bad-email")
    assert labels.subscriber_error(str(exc.value)) == "邮箱地址无效：bad-email（须包含 @）"
    with pytest.raises(ValueError) as exc:
        Subscriber(email="a@b.cn", min_severity="purple")
    assert labels.subscriber_error(str(exc.value)) == "未知的预警级别：'purple'"
    assert labels.subscriber_error("odd") == "订阅无效：odd"


def test_reply_clock_and_overdue():
    published = NOW - timedelta(minutes=90)
    new = Case(platform="weibo", post_id="1")
    assert triage.is_overdue(published, new, NOW, 60)
    assert not triage.is_overdue(published, new, NOW, 120)
    replied = Case(platform="weibo", post_id="1", status="replied", first_reply_at=published + timedelta(minutes=25))
    assert triage.reply_clock(published, replied, NOW) == timedelta(minutes=25)
    assert not triage.is_overdue(published, replied, NOW, 10)
    assert triage.format_clock(timedelta(minutes=25)) == "25分"
    assert triage.format_clock(timedelta(hours=3, minutes=5)) == "3小时5分"
    assert triage.format_clock(timedelta(days=2, hours=1)) == "2天1小时"


def test_reply_template_prefers_the_specific_touchpoint_and_outage_words():
    lib = triage.load_library()
    # a broadband outage report tagged 网络信号 and 宽带: never the 网络信号 "tell us your location" template
    outage = "家里宽带断网两天了，客服说在抢修，到现在还没好"
    assert triage.choose_template(lib.templates, ("网络信号", "宽带"), outage).template_id == "outage"
    assert triage.choose_template(lib.templates, ("网络信号", "宽带"), "宽带装机师傅迟到").template_id == "broadband"
    assert triage.choose_template(lib.templates, ("网络信号", "宽带")).template_id == "broadband"
    assert triage.choose_template(lib.templates, ("5G", "网络信号"), "地铁里5G信号很差").template_id == "network"
    assert triage.choose_template(lib.templates, ("网络信号",), "小区基站故障，一格信号都没有").template_id == "outage"
    # outage words outside network touchpoints do not pick the outage template
    assert triage.choose_template(lib.templates, ("资费账单",), "系统故障多扣了我20元").template_id == "billing"


def test_templates_chosen_by_touchpoint_with_fallback(tmp_path):
    lib = triage.load_library()
    assert triage.choose_template(lib.templates, ("宽带",)).template_id == "broadband"
    assert triage.choose_template(lib.templates, ("其他", "资费账单")).template_id == "billing"
    assert triage.choose_template(lib.templates, ()).template_id == "general"
    assert "{operator}" not in triage.fill_template(lib.templates[0], "中国电信")
    bad = tmp_path / "t.toml"
    bad.write_text('[[templates]]\nid = "x"\ntext = "y"\ntouchpoints = ["宽带"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="fallback"):
        triage.load_library(bad)


class _Users:
    def __init__(self):
        self.saved = {}

    def save_user(self, user):
        self.saved[user.username] = user

    def get_user(self, name):
        return self.saved.get(name)


def test_passwords_are_hashed_and_checked():
    store = _Users()
    user = users.add_user(store, "alice", "s3cret-pass", "responder")
    assert user.password_hash.startswith("$2") and "s3cret-pass" not in user.password_hash
    assert users.authenticate(store, "alice", "s3cret-pass").role == "responder"
    assert users.authenticate(store, "alice", "wrong-pass") is None
    assert users.authenticate(store, "nobody", "s3cret-pass") is None
    for name, pw, role in (("a b", "s3cret-pass", "viewer"), ("bob", "short", "viewer"), ("bob", "s3cret-pass", "root")):
        with pytest.raises(users.UserError):
            users.add_user(store, name, pw, role)
    assert users.can("admin", "responder") and not users.can("responder", "admin") and not users.can("", "viewer")


def test_users_add_command(tmp_path, monkeypatch, capsys):
    from tests.conftest import Both
    from yuqing.cli import main
    from yuqing.config import load_settings
    from yuqing.wiring import open_stores

    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    monkeypatch.setenv("YUQING_STORE_PATH", str(tmp_path / "u.db"))
    assert main(["users", "add", "ops1", "--role", "admin"]) == 0
    out = capsys.readouterr().out
    password = out.split("password: ")[1].strip()
    monkeypatch.setattr("sys.stdin", io.StringIO("typed-password-1\n"))
    assert main(["users", "add", "resp2", "--role", "responder", "--password-stdin"]) == 0
    assert "password:" not in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "resp3", "--role", "responder", "--password-stdin"]) == 2
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("demoted-password\n"))
    assert main(["users", "add", "ops1", "--role", "viewer", "--password-stdin"]) == 2  # an existing name
    out, err = capsys.readouterr()
    assert "already exists" in err and "--replace" in err and "saved" not in out
    store = Both(*open_stores(load_settings()))
    try:
        assert users.authenticate(store, "ops1", password).role == "admin"  # unchanged
        assert users.authenticate(store, "resp2", "typed-password-1").role == "responder"
        assert store.get_user("resp3") is None
    finally:
        store.close()
    monkeypatch.setattr("sys.stdin", io.StringIO("new-password-2\n"))
    assert main(["users", "add", "resp2", "--role", "viewer", "--password-stdin", "--replace"]) == 0
    assert "user resp2 role viewer saved (replaced: was role responder)" in capsys.readouterr().out
    store = Both(*open_stores(load_settings()))
    try:
        assert users.authenticate(store, "resp2", "new-password-2").role == "viewer"
    finally:
        store.close()


def test_users_disable_enable_remove_commands(tmp_path, monkeypatch, capsys):
    from dashboard import sessions
    from tests.conftest import Both
    from yuqing.cli import main
    from yuqing.config import load_settings
    from yuqing.records import now_utc
    from yuqing.wiring import open_stores

    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    monkeypatch.setenv("YUQING_STORE_PATH", str(tmp_path / "u.db"))
    assert main(["users", "add", "resp1", "--role", "responder"]) == 0
    store = Both(*open_stores(load_settings()))
    token = sessions.start(store, "resp1", now_utc())
    store.close()
    assert main(["users", "disable", "resp1"]) == 0
    assert "user resp1 disabled; its sessions are ended" in capsys.readouterr().out
    assert main(["users", "list"]) == 0
    assert "resp1\tresponder\t\t(disabled)" in capsys.readouterr().out
    assert main(["users", "enable", "resp1"]) == 0
    assert main(["users", "remove", "resp1"]) == 0
    assert main(["users", "remove", "resp1"]) == 2
    assert "no user 'resp1'" in capsys.readouterr().err
    assert main(["users", "disable", "nobody"]) == 2
    store = Both(*open_stores(load_settings()))
    try:
        assert store.get_user("resp1") is None and sessions.resume(store, token, now_utc()) is None
        assert [e.action for e in store.list_audit(target="user:resp1")] == ["user_remove", "user_enable",
                                                                            "user_disable"]
    finally:
        store.close()


def test_users_add_help_mentions_replace(capsys):
    from yuqing.cli import main

    with pytest.raises(SystemExit):
        main(["users", "add", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "an existing name is refused unless --replace" in out and "--replace " in out


def test_dashboard_command_serves_the_app_on_loopback(monkeypatch, tmp_path):
    from dashboard import commands
    from yuqing.cli import main

    calls = []
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    monkeypatch.setattr(commands.os, "execve", lambda path, argv, env: calls.append((argv, env)) or 0)
    assert main(["dashboard", "--port", "8600"]) == 0
    argv, _ = calls[0]
    assert argv[1:4] == ["-m", "streamlit", "run"] and argv[4].endswith("dashboard/server.py")
    flags = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert flags == {"--server.port": "8600", "--server.address": "127.0.0.1", "--server.headless": "true",
                     "--browser.gatherUsageStats": "false", "--client.toolbarMode": "viewer"}  # no Deploy button


def test_escape_md_neutralises_markdown_and_html():
    from dashboard.ui import escape_md

    assert escape_md("[点我](javascript:alert(1))") == "\\[点我\\]\\(javascript\\:alert\\(1\\)\\)"
    assert escape_md("<img src=x onerror=alert(1)>") == "\\<img src\\=x onerror\\=alert\\(1\\)\\>"
    assert escape_md("**粗体** $x$ :red[字]") == "\\*\\*粗体\\*\\* \\$x\\$ \\:red\\[字\\]"
    assert escape_md("第一行\n第二行") == "第一行 第二行"


def test_category_charts_label_every_category():
    import pandas as pd

    from dashboard import charts

    tps = [f"触点{i}" for i in range(13)]
    heat = pd.DataFrame([{"触点": t, "情感": s, "数量": 1} for t in tps for s in ("负面", "正面")])
    bars = pd.DataFrame({"地区": [f"省{i}" for i in range(15)], "数量": range(15, 0, -1)})
    for chart, n in ((charts.heatmap(heat), 13), (charts.ranked_bars(bars, "地区"), 15),
                     (charts.ranked_bars(bars.head(2), "地区"), 2)):
        spec = chart.to_dict()
        axis = spec["encoding"]["y"]["axis"]
        assert axis["labelOverlap"] is False  # Vega-Lite would otherwise drop every other label
        assert spec["height"] >= charts.ROW_PX * n + charts.AXIS_PX  # the axis takes its share of the height
