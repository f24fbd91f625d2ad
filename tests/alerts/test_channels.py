"""Each chat platform against a real HTTP receiver on 127.0.0.1 (demo.chatbot) that checks what the platform
checks: the key, the signature and its timestamp window, the JSON shape and the size limit, answering with the
platform's documented success, rate-limit and error codes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from alerts.channels import CHANNEL_CLASSES, ChatMessage, open_channel
from alerts.channels.dingtalk import dingtalk_sign
from alerts.channels.feishu import feishu_sign
from alerts.chat import deliver_chat
from alerts.engine import run_once
from alerts.loader import parse_rules
from demo.chatbot import ChatReceiver
from tests.alerts.chatkit import PLATFORMS, channel, robots, with_channels
from tests.alerts.factory import make_post
from yuqing.ops.subscribers import subscribe
from yuqing.vocab import CHANNEL_TYPES

RULES = parse_rules({"rules": [{"name": "升级投诉", "type": "escalation", "more_than": 2}]})
LINK = "http://127.0.0.1:8501/alerts?alert=7"
MSG = ChatMessage("【红色预警】郑州联通宽带大面积断网", "**为什么预警**：近15分钟负面帖 **120** 条，基线 8 条。", LINK)


@pytest.fixture
def rx(tmp_path) -> Iterator[ChatReceiver]:
    with ChatReceiver(robots(), tmp_path / "chat") as receiver:
        yield receiver


def now() -> datetime:
    return datetime.now(UTC)


def test_the_registry_has_a_class_for_every_configurable_type() -> None:
    assert set(CHANNEL_CLASSES) == set(CHANNEL_TYPES)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_chinese_alert_reaches_each_platform(platform, store, settings, rx) -> None:
    settings = with_channels(settings, channel(platform, rx.url, name="henan-duty"))
    subscribe(store, settings, "", channel="henan-duty", min_severity="blue", actor="test")
    t = now()
    store.upsert_posts([make_post("郑州联通宽带断网三天，我要打12300投诉", minutes_ago=1 + i, now=t) for i in range(3)])
    (alert,) = run_once(*store, settings, t, rules=RULES)
    assert deliver_chat(store.ops, settings, t) == 1
    (got,) = rx.received
    assert got["platform"] == platform and got["title"] == "【橙色预警】出现升级投诉苗头（全部运营商）"
    assert "3 条帖子提到升级投诉" in got["text"] and f"alerts?alert={alert.alert_id}" in got["text"]
    assert "郑州联通宽带断网三天" in got["text"]
    (msg,) = [m for m in store.list_outbox() if m.channel == "henan-duty"]
    assert msg.sent_at is not None and msg.attempts == 1
    assert deliver_chat(store.ops, settings, t + timedelta(minutes=5)) == 0 and rx.count == 1  # once
    assert len(list((rx.directory).glob(f"*-{platform}-*.json"))) == 1


WRONG = {"wecom": {"key": "not-the-key"}, "dingtalk": {"secret": "SECwrong"}, "feishu": {"secret": "wrong"},
         "webhook": {"secret": "wrong"}}
REFUSAL = {"wecom": (200, "93000"), "dingtalk": (200, "310000"), "feishu": (200, "19021"), "webhook": (401, "")}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_wrong_key_or_secret_is_permanent_with_the_platform_code(platform, rx) -> None:
    c = channel(platform, rx.url, **WRONG[platform])
    answer = open_channel(c).send(MSG, now())
    assert answer.kind == "permanent" and (answer.status, answer.code) == REFUSAL[platform]
    assert rx.count == 0
    for secret in (c.key, c.secret):
        assert not secret or secret not in answer.describe()


@pytest.mark.parametrize(("platform", "age", "accepted"), [
    ("dingtalk", timedelta(minutes=50), True), ("dingtalk", timedelta(minutes=70), False),
    ("feishu", timedelta(minutes=50), True), ("feishu", timedelta(minutes=70), False),
    ("webhook", timedelta(minutes=4), True), ("webhook", timedelta(minutes=6), False),
])
def test_signed_timestamps_are_checked_against_their_window(platform, age, accepted, rx) -> None:
    answer = open_channel(channel(platform, rx.url)).send(MSG, now() - age)
    assert answer.ok is accepted
    assert rx.count == int(accepted)


def test_signatures_follow_the_published_formulas() -> None:
    """DingTalk: urlencode(base64(HmacSHA256(secret, f"{ts}\\n{secret}"))); Feishu: base64(HmacSHA256 keyed by
    f"{ts}\\n{secret}" of nothing); values computed here with the standard library, independently."""
    import base64
    import hashlib
    import hmac
    from urllib.parse import quote_plus

    ts_ms, secret = 1700000000000, "SEC000"
    raw = hmac.new(secret.encode(), f"{ts_ms}\n{secret}".encode(), hashlib.sha256).digest()
    assert dingtalk_sign(secret, ts_ms) == quote_plus(base64.b64encode(raw))
    raw = hmac.new(f"1700000000\n{secret}".encode(), b"", digestmod=hashlib.sha256).digest()
    assert feishu_sign(secret, 1700000000) == base64.b64encode(raw).decode()


LIMITS = {"wecom": (20, "45009"), "dingtalk": (20, "130101"), "feishu": (100, "11232"), "webhook": (60, "")}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_platforms_rate_limit_answer_is_read_as_rate_limited(platform, rx) -> None:
    ch = open_channel(channel(platform, rx.url))
    limit, code = LIMITS[platform]
    answers = []
    for _ in range(limit + 1):
        answers.append(ch.send(MSG, now()))
        if platform == "feishu":  # 5 a second as well: keep under it while filling the minute
            time.sleep(0.21)
    assert all(a.ok for a in answers[:limit]), [a.describe() for a in answers if not a.ok][:3]
    assert answers[-1].kind == "rate_limited" and answers[-1].code == code
    assert rx.count == limit


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_long_alert_is_cut_to_the_size_limit_with_the_link(platform, rx) -> None:
    long = ChatMessage("【红色预警】郑州联通宽带大面积断网", "\n".join(f"{i}. 用户反映郑州金水区联通宽带断网，客服电话打不通。"
                                                             for i in range(2000)), LINK)
    ch = open_channel(channel(platform, rx.url))
    assert ch.send(long, now()).ok
    (got,) = rx.received
    assert got["text"].rstrip().endswith(f"[查看完整内容]({LINK})") and "内容过长，已截断" in got["text"]
    size = {"wecom": len(got["text"].encode()), "dingtalk": len(got["text"].encode()), "feishu": got["bytes"],
            "webhook": got["bytes"]}[platform]
    assert size <= ch.max_bytes
    assert size > ch.max_bytes * 0.9  # cut at the limit, not far below it
    assert "0. 用户反映郑州金水区联通宽带断网" in got["text"]


def test_a_5xx_and_a_closed_port_are_worth_retrying(rx) -> None:
    ch = open_channel(channel("wecom", rx.url))
    rx.fail_next(1)
    assert ch.send(MSG, now()).kind == "retry"
    assert ch.send(MSG, now()).ok
    rx.stop()
    answer = open_channel(channel("wecom", rx.url)).send(MSG, now())
    assert answer.kind == "retry" and answer.status == 0 and "wecom-key" not in answer.describe()


def test_an_unset_key_variable_is_reported_not_sent(rx) -> None:
    c = channel("dingtalk", rx.url, key="")
    answer = open_channel(c).send(MSG, now())
    assert answer.kind == "permanent" and "T_DINGTALK_KEY is not set" in answer.detail and rx.requests == 0


def test_post_text_cannot_inject_markdown_links() -> None:
    from alerts.render import md_text

    assert md_text("点这里[领奖](http://evil)**加粗**\n# 标题") == "点这里［领奖］(http://evil)＊＊加粗＊＊ ＃ 标题"
