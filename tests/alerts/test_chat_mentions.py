"""@mentions in chat alerts, over real HTTP to the receiver on 127.0.0.1 (demo.chatbot), which reads them the
way each platform does: WeCom text.mentioned_mobile_list, DingTalk at.atMobiles (only those written as @mobile
in the text) and at.isAtAll, Feishu the card's <at id=…></at>, the webhook's "mentions". Red and orange alerts
@ the subscription's people by default, yellow and blue do not; the level is per subscription; bad numbers are
refused with a Chinese message, from the library, the CLI and the OpsDB."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from alerts.channels import ChatMessage, open_channel
from alerts.channels.base import plain_text
from alerts.chat import deliver_chat
from alerts.email import notify, schedule_digests
from alerts.subscriptions import describe
from demo.chatbot import ChatReceiver
from tests.alerts.chatkit import PLATFORMS, channel, robots, with_channels
from yuqing.ops.subscribers import check_mentions, subscribe
from yuqing.records import Alert

MOBILE = "13800138000"
WHO = {p: ("ou_7d8a6e6df7621556ce0d21922b676706", "all") if p == "feishu" else (MOBILE, "all") for p in PLATFORMS}


@pytest.fixture
def rx(tmp_path) -> Iterator[ChatReceiver]:
    with ChatReceiver(robots(), tmp_path / "chat") as receiver:
        yield receiver


def alert(store, severity: str, title: str, t: datetime) -> Alert:
    return store.save_alert(Alert(rule="城市网络故障", key=title, severity=severity, title=title, reason="近30分钟 12 条",
                                  opened_at=t, updated_at=t, scope={"regions": ("河南",)}))


def by_title(rx: ChatReceiver) -> dict[str, dict]:
    return {next(w for w in ("红色", "橙色", "黄色") if w in r["title"]): r for r in rx.received}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_red_and_orange_alerts_mention_the_duty_people_and_yellow_does_not(platform, store, settings, rx) -> None:
    settings = with_channels(settings, channel(platform, rx.url, name="henan-duty"))
    subscribe(store, settings, "", channel="henan-duty", min_severity="blue", mentions=WHO[platform], actor="test")
    t = datetime.now(UTC)
    alerts = [alert(store, s, f"郑州联通宽带疑似故障{s}", t) for s in ("red", "orange", "yellow")]
    assert notify(*store, settings, alerts, t) == 3
    assert deliver_chat(store.ops, settings, t) == 3
    got = by_title(rx)
    assert got["红色"]["mentions"] == got["橙色"]["mentions"] == list(WHO[platform])
    assert got["黄色"]["mentions"] == []
    red, yellow = got["红色"]["body"], got["黄色"]["body"]
    if platform == "wecom":  # markdown cannot @ by mobile: the mentioning message is text, the others markdown
        assert red["msgtype"] == "text" and red["text"]["mentioned_mobile_list"] == [MOBILE, "@all"]
        assert "郑州联通宽带疑似故障red" in red["text"]["content"] and "**" not in red["text"]["content"]
        assert yellow["msgtype"] == "markdown" and "mentioned_mobile_list" not in str(yellow)
    elif platform == "dingtalk":
        assert red["at"] == {"atMobiles": [MOBILE], "isAtAll": True} and f"@{MOBILE}" in red["markdown"]["text"]
        assert "at" not in yellow and "@" not in yellow["markdown"]["text"]
    elif platform == "feishu":
        assert red["card"]["elements"][1]["text"]["content"] == f"<at id={WHO['feishu'][0]}></at> <at id=all></at>"
        assert "<at " not in str(yellow)
    else:
        assert red["mentions"] == [MOBILE, "all"] and yellow["mentions"] == []


def test_the_mention_level_is_per_subscription(store, settings, rx) -> None:
    settings = with_channels(settings, channel("dingtalk", rx.url, name="red-only"),
                             channel("wecom", rx.url, name="everything"))
    subscribe(store, settings, "", channel="red-only", min_severity="blue", mentions=(MOBILE,),
              mention_min_severity="red", actor="test")
    subscribe(store, settings, "", channel="everything", min_severity="blue", mentions=("all",),
              mention_min_severity="yellow", actor="test")
    t = datetime.now(UTC)
    notify(*store, settings, [alert(store, s, f"故障{s}", t) for s in ("red", "orange", "yellow")], t)
    assert deliver_chat(store.ops, settings, t) == 6
    ding = {r["title"][:6]: r["mentions"] for r in rx.received if r["platform"] == "dingtalk"}
    wecom = [r["mentions"] for r in rx.received if r["platform"] == "wecom"]
    assert sorted(ding.values()) == [[], [], [MOBILE]] and wecom == [["all"]] * 3


def test_an_hourly_digest_with_a_red_alert_mentions_them(store, settings, rx) -> None:
    settings = with_channels(settings, channel("wecom", rx.url, name="hourly"))  # no signature: any clock
    subscribe(store, settings, "", channel="hourly", mode="hourly", min_severity="blue", mentions=(MOBILE,), actor="test")
    hour = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    alert(store, "red", "郑州宽带中断", hour - timedelta(minutes=30))
    assert schedule_digests(*store, settings, hour + timedelta(minutes=1)) == 1
    assert deliver_chat(store.ops, settings, hour + timedelta(minutes=1)) == 1
    (got,) = rx.received
    assert got["mentions"] == [MOBILE] and "郑州宽带中断" in got["body"]["text"]["content"]


def test_dingtalk_action_card_mentions_go_as_markdown(rx) -> None:
    ch = open_channel(channel("dingtalk", rx.url, msg_type="actionCard"))
    msg = ChatMessage("【红色预警】郑州联通宽带大面积断网", "**近15分钟** 120 条", "http://127.0.0.1:8501/alerts?alert=7")
    assert ch.send(msg, datetime.now(UTC)).ok
    assert ch.send(ChatMessage(msg.title, msg.markdown, msg.link, (MOBILE,)), datetime.now(UTC)).ok
    card, marked = rx.received
    assert card["body"]["msgtype"] == "actionCard" and card["mentions"] == []
    assert marked["body"]["msgtype"] == "markdown" and marked["mentions"] == [MOBILE]


def test_a_long_wecom_alert_with_mentions_fits_the_text_limit(rx) -> None:
    ch = open_channel(channel("wecom", rx.url))
    long = "\n".join(f"{i}. 郑州联通宽带断网三天，我要打12300投诉 **加粗** [原帖](http://weibo.test/{i})" for i in range(200))
    assert ch.send(ChatMessage("【红色预警】断网", long, "http://127.0.0.1:8501/alerts?alert=7", ("all",)),
                   datetime.now(UTC)).ok
    (got,) = rx.received
    content = got["body"]["text"]["content"]
    assert len(content.encode("utf-8")) <= 2048 and "查看完整内容：http://127.0.0.1:8501/alerts?alert=7" in content
    assert got["mentions"] == ["all"]
    assert "[原帖" not in content and "](" not in content  # never cut inside a link


def test_a_cut_never_splits_a_link_and_keeps_whole_emoticons() -> None:
    from alerts.channels.base import cut_to_fit

    md = "断网了[怒] [原帖](http://weibo.test/123456789) 第二条"
    for n in range(len(md)):  # whatever the budget, the kept part holds whole links only
        out = cut_to_fit(md, "", lambda s, n=n: len(s) <= n + len("\n\n……（内容过长，已截断）"))
        kept = out.split("\n\n……")[0]
        assert "[原帖](http" not in kept or "123456789)" in kept, (n, kept)
        assert not kept.endswith(("[", "[原", "[原帖", "[原帖]", "[原帖](")), (n, kept)
    assert cut_to_fit(md, "", lambda s: len(s) <= 30).startswith("断网了[怒]")


def test_plain_text_keeps_the_words_and_the_addresses() -> None:
    md = "### 【红色预警】断网\n> 规则：断网\n**为什么预警**：近15分钟 **120** 条\n[在看板中确认](http://h/alerts?alert=7)"
    assert plain_text(md) == "【红色预警】断网\n规则：断网\n为什么预警：近15分钟 120 条\n在看板中确认：http://h/alerts?alert=7"


@pytest.mark.parametrize(("kind", "given", "expected"), [
    ("wecom", ("+86 138-0013-8000", "所有人", "13800138000"), ("13800138000", "all")),
    ("dingtalk", ("@all", " 15900001111 "), ("all", "15900001111")),
    ("feishu", ("ou_abc123", "duty@example.test", "ALL"), ("ou_abc123", "duty@example.test", "all")),
    ("webhook", ("", "13800138000"), ("13800138000",)),
])
def test_mentions_are_normalised(kind, given, expected, settings, rx) -> None:
    settings = with_channels(settings, channel(kind, rx.url, name="duty"))
    assert check_mentions(given, "duty", settings) == expected


@pytest.mark.parametrize(("kind", "given", "message"), [
    ("wecom", ("1380013800",), "@提醒对象无效：1380013800（手机号应为 1 开头的 11 位数字；all 表示 @所有人）"),
    ("dingtalk", ("23800138000", "张三"), "@提醒对象无效：23800138000、张三（手机号应为 1 开头的 11 位数字"),
    ("feishu", ("13800138000",), "飞书机器人只能按 open_id（ou_ 开头）或邮箱 @ 人，不能按手机号"),
])
def test_a_bad_mention_is_refused_in_chinese(kind, given, message, store, settings, rx) -> None:
    settings = with_channels(settings, channel(kind, rx.url, name="duty"))
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        subscribe(store, settings, "", channel="duty", mentions=given, actor="test")
    assert store.list_subscribers() == []
    with pytest.raises(ValueError, match="@提醒只用于群机器人渠道，邮件订阅不能设置"):
        subscribe(store, settings, "a@example.test", mentions=(MOBILE,), actor="test")


def test_the_subscription_describes_its_mentions(store, settings, rx) -> None:
    settings = with_channels(settings, channel("wecom", rx.url, name="duty"))
    sub = subscribe(store, settings, "", channel="duty", mentions=(MOBILE, "all"), actor="test")
    assert describe(sub).endswith(f"@{MOBILE}、所有人（橙色及以上）")
    cleared = subscribe(store, settings, "", channel="duty", mentions=(), actor="test")
    assert cleared.subscriber_id == sub.subscriber_id and cleared.mentions == ()
