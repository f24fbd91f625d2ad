"""Chat delivery from the outbox against the receiver on 127.0.0.1: exactly once per alert and channel through
an outage, a wrong secret given up at once and shown, bursts paced under the rate limit and never dropped,
subscriptions routed by filter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from alerts.chat import deliver_channel, deliver_chat
from alerts.email import notify
from alerts.engine import run_once
from alerts.loader import parse_rules
from alerts.outbox import deliver_due
from demo.chatbot import ChatReceiver
from tests.alerts.chatkit import channel, robots, with_channels
from tests.alerts.factory import make_post
from yuqing.ops.subscribers import subscribe, unsubscribe
from yuqing.records import Alert

RULES = parse_rules({"rules": [{"name": "升级投诉", "type": "escalation", "more_than": 2}]})


@pytest.fixture
def rx(tmp_path) -> Iterator[ChatReceiver]:
    with ChatReceiver(robots(), tmp_path / "chat") as receiver:
        yield receiver


def crisis(store, t: datetime, n: int = 3) -> None:
    store.upsert_posts([make_post("郑州联通宽带断网三天，我要打12300投诉", minutes_ago=1 + i, now=t) for i in range(n)])


def test_channel_down_during_a_crisis_then_up_delivers_exactly_once(store, settings, rx) -> None:
    settings = with_channels(settings, channel("dingtalk", rx.url))
    subscribe(store, settings, "", channel="dingtalk", actor="test")
    port = rx.port
    rx.stop()  # the robot's address refuses connections
    t = datetime.now(UTC)
    crisis(store, t)
    run_once(*store, settings, t, rules=RULES)
    assert deliver_chat(store.ops, settings, t) == 0
    (queued,) = store.list_outbox()
    assert queued.sent_at is None and queued.attempts == 1 and "无应答" in queued.last_error
    assert deliver_chat(store.ops, settings, t + timedelta(seconds=2)) == 0  # backing off: not yet due
    assert store.list_outbox()[0].attempts == 1
    run_once(*store, settings, t + timedelta(seconds=30), rules=RULES)  # still firing: nothing new queued
    rx.port = port
    rx.start()
    assert deliver_chat(store.ops, settings, t + timedelta(minutes=1)) == 1
    assert deliver_chat(store.ops, settings, t + timedelta(minutes=30)) == 0
    assert rx.count == 1 and len(store.list_outbox()) == 1 and store.list_outbox()[0].sent_at is not None


def test_a_wrong_secret_is_given_up_at_once_and_visible(store, settings, rx) -> None:
    settings = with_channels(settings, channel("dingtalk", rx.url, secret="SECwrong"))
    subscribe(store, settings, "", channel="dingtalk", actor="test")
    t = datetime.now(UTC)
    crisis(store, t)
    run_once(*store, settings, t, rules=RULES)
    for minutes in range(0, 60, 5):  # an hour of delivery rounds
        assert deliver_chat(store.ops, settings, t + timedelta(minutes=minutes)) == 0
    assert rx.requests == 1 and rx.answers == [("dingtalk", 200, 310000)]  # one request, no retry storm
    (msg,) = store.list_outbox()
    assert msg.sent_at is None and msg.attempts == 1 and msg.next_attempt_at.year == 9999
    assert "已放弃（错误不可重试" in msg.last_error and "310000" in msg.last_error and "sign not match" in msg.last_error
    assert "SECwrong" not in msg.last_error
    (rejected,) = [r for r in store.list_rejected() if r.stage == "chat"]
    assert "310000" in rejected.reason and "dingtalk" in rejected.sample


def test_a_channel_that_never_answers_is_given_up_after_its_bounded_time(store, settings, rx) -> None:
    c = channel("wecom", rx.url, give_up_minutes=10)
    settings = with_channels(settings, c)
    subscribe(store, settings, "", channel="wecom", actor="test")
    rx.fail_next(1000)  # 502 to everything
    t = datetime.now(UTC)
    crisis(store, t)
    run_once(*store, settings, t, rules=RULES)
    minutes = 0.0
    while minutes < 30:
        deliver_chat(store.ops, settings, t + timedelta(minutes=minutes))
        minutes += 0.5
    (msg,) = store.list_outbox()
    assert msg.sent_at is None and msg.next_attempt_at.year == 9999 and "10 分钟内未送达" in msg.last_error
    assert "HTTP 502" in msg.last_error
    assert 4 <= rx.requests <= 8  # backoff 5 s, 10 s, 20 s … within ten minutes: a handful, not one per round


def test_a_burst_is_paced_under_the_rate_limit_and_nothing_is_dropped(store, settings, rx) -> None:
    settings = with_channels(settings, channel("wecom", rx.url))
    subscribe(store, settings, "", channel="wecom", min_severity="blue", actor="test")
    t = datetime.now(UTC)
    alerts = [store.save_alert(Alert(rule="r", key=f"k{i}", severity="orange", title=f"第{i}号预警：宽带断网",
                                     reason="近15分钟 9 条", opened_at=t, updated_at=t)) for i in range(25)]
    assert notify(*store, settings, alerts, t) == 25
    assert deliver_chat(store.ops, settings, t) == 20  # WeCom: 20 a minute per robot
    assert deliver_chat(store.ops, settings, t + timedelta(seconds=30)) == 0  # the minute is not over
    rx._hits.clear()  # the receiver's minute passes too (its clock is the real one)
    assert deliver_chat(store.ops, settings, t + timedelta(seconds=61)) == 5
    assert rx.count == 25 and {a[2] for a in rx.answers} == {0}  # never throttled by the platform
    assert sorted(int(m["title"].split("第")[1].split("号")[0]) for m in rx.received) == list(range(25))


def test_a_rate_limit_answer_waits_a_minute_and_is_not_dropped(store, settings, rx) -> None:
    c = channel("wecom", rx.url)
    settings = with_channels(settings, c)
    subscribe(store, settings, "", channel="wecom", actor="test")
    from alerts.channels import ChatMessage, open_channel

    t = datetime.now(UTC)
    for _ in range(20):  # another sender used the robot's minute
        assert open_channel(c).send(ChatMessage("别的系统", "占满"), t).ok
    crisis(store, t)
    run_once(*store, settings, t, rules=RULES)
    (attempt,) = deliver_channel(store.ops, c, t)
    assert attempt.answer.kind == "rate_limited" and attempt.answer.code == "45009"
    (msg,) = store.list_outbox()
    assert msg.next_attempt_at >= t + timedelta(seconds=60) and "45009" in msg.last_error
    rx._hits.clear()
    assert deliver_chat(store.ops, settings, t + timedelta(seconds=61)) == 1
    assert rx.count == 21


def test_subscriptions_route_alerts_to_groups_by_filter(store, settings, smtp_server, rx) -> None:
    settings = with_channels(settings, channel("wecom", rx.url, name="henan-broadband"),
                             channel("feishu", rx.url, name="national-red"), channel("webhook", rx.url, name="tickets"))
    subscribe(store, settings, "", channel="henan-broadband", regions=("河南",), touchpoints=("宽带",),
              min_severity="blue", actor="test")
    subscribe(store, settings, "", channel="national-red", min_severity="red", actor="test")
    subscribe(store, settings, "", channel="tickets", mode="hourly", actor="test")
    subscribe(store, settings, "duty@example.test", actor="test")
    t = datetime.now(UTC)
    henan = store.save_alert(Alert(rule="城市网络故障", key="郑州", severity="orange", title="郑州联通宽带疑似故障",
                                   reason="近30分钟 12 条", opened_at=t, updated_at=t,
                                   scope={"regions": ("河南", "郑州"), "touchpoints": ("宽带",)}))
    guangdong = store.save_alert(Alert(rule="城市网络故障", key="深圳", severity="orange", title="深圳移动信号疑似故障",
                                       reason="近30分钟 9 条", opened_at=t, updated_at=t,
                                       scope={"regions": ("广东", "深圳"), "touchpoints": ("网络信号",)}))
    notify(*store, settings, [henan, guangdong], t)
    assert deliver_chat(store.ops, settings, t) == 1 and deliver_due(store.ops, settings, t) == 2
    (got,) = rx.received
    assert got["platform"] == "wecom" and got["robot"] == "wecom-key-一" and "郑州联通宽带疑似故障" in got["title"]
    assert len(smtp_server.inbox.to("duty@example.test")) == 2
    assert unsubscribe(store, "henan-broadband", actor="test")
    assert not [s for s in store.list_subscribers(active_only=True) if s.channel == "henan-broadband"]


def test_subscribing_an_unknown_channel_lists_the_configured_ones(store, settings, rx) -> None:
    settings = with_channels(settings, channel("wecom", rx.url, name="henan"))
    with pytest.raises(ValueError, match="未知渠道 shanghai（可选：email、henan"):
        subscribe(store, settings, "", channel="shanghai", actor="test")
    first = subscribe(store, settings, "", channel="henan", min_severity="red", actor="test")
    again = subscribe(store, settings, "", channel="henan", regions=("河南",), actor="test")
    assert again.subscriber_id == first.subscriber_id and again.min_severity == "red"  # one per channel


def test_a_channel_removed_from_the_settings_is_a_visible_problem(store, settings, rx) -> None:
    configured = with_channels(settings, channel("wecom", rx.url, name="henan"))
    subscribe(store, configured, "", channel="henan", actor="test")
    t = datetime.now(UTC)
    crisis(store, t)
    run_once(*store, settings, t, rules=RULES)  # settings without [channels.henan]
    assert store.list_outbox() == []
    assert any("渠道 henan 未在配置文件中定义" in r.reason for r in store.list_rejected())
