"""Chat channels on the dashboard: the 订阅 page subscribes a configured group robot (the same checks as
`yuqing alerts subscribe --channel`), the 预警 page shows chat messages that were not delivered, with the reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.dashboard.test_alerts_queue import on_page
from yuqing.records import OutboxMessage

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def subscribers_page(tmp_path, monkeypatch, platform: str):
    """The 订阅 page of an admin, with one configured group robot `henan-duty` of `platform`."""
    config = tmp_path / "yuqing.toml"
    config.write_text(f'[channels.henan-duty]\ntype = "{platform}"\nbase_url = "http://127.0.0.1:9"\n'
                      'key_env = "T_HENAN_KEY"\n', encoding="utf-8")
    monkeypatch.setenv("YUQING_CONFIG", str(config))
    return on_page("admin", "subscribers")


def test_a_chat_channel_is_subscribed_on_the_subscribers_page(filled, tmp_path, monkeypatch):
    at = subscribers_page(tmp_path, monkeypatch, "wecom")
    assert at.selectbox(key="sub_channel").options == ["邮件", "henan-duty（企业微信群机器人）"]
    at.selectbox(key="sub_channel").set_value("henan-duty")
    at.selectbox(key="sub_sev").set_value("orange")
    at.button[0].click().run()
    assert not at.exception, at.exception
    [sub] = filled.list_subscribers()
    assert (sub.channel, sub.email, sub.min_severity) == ("henan-duty", "", "orange")
    rows = at.dataframe[0].value.to_dict("records")
    assert rows[0]["渠道"] == "henan-duty（企业微信群机器人）" and rows[0]["邮箱"] == "—"


def test_a_chat_subscription_gets_its_mentions_on_the_subscribers_page(filled, tmp_path, monkeypatch):
    at = subscribers_page(tmp_path, monkeypatch, "dingtalk")
    at.selectbox(key="sub_channel").set_value("henan-duty")
    at.text_input(key="sub_mentions").set_value("1380013800")
    at.button[0].click().run()
    assert any("@提醒对象无效：1380013800（手机号应为 1 开头的 11 位数字" in e.value for e in at.error)
    assert filled.list_subscribers() == []
    at.selectbox(key="sub_channel").set_value("henan-duty")
    at.text_input(key="sub_mentions").set_value("13800138000，all")
    at.selectbox(key="sub_mention_sev").set_value("red")
    at.button[0].click().run()
    assert not at.exception, at.exception
    [sub] = filled.list_subscribers()
    assert (sub.mentions, sub.mention_min_severity) == (("13800138000", "all"), "red")
    assert at.dataframe[0].value.to_dict("records")[0]["@提醒"] == "13800138000、所有人（红色及以上）"


def test_chat_messages_not_delivered_show_with_their_reason(filled):
    retry = filled.enqueue(OutboxMessage(to=("henan-duty",), channel="henan-duty", subject="【红色预警】郑州电信宽带断网",
                                         text="正文", dedup_key="c1", created_at=NOW))
    filled.mark_failed(retry, "wecom henan-duty: 无应答: ConnectionRefusedError", NOW + timedelta(seconds=20))
    gone = filled.enqueue(OutboxMessage(to=("pr",), channel="pr", subject="【橙色预警】升级投诉", text="正文",
                                        dedup_key="c2", created_at=NOW))
    filled.mark_failed(gone, "已放弃（错误不可重试，1 次）：dingtalk pr: HTTP 200 code 310000: sign not match",
                       datetime(9999, 1, 1, tzinfo=UTC))
    at = on_page("viewer", "alerts")
    assert any("2 条群机器人消息尚未送达（其中 1 条已放弃" in w.value for w in at.warning)
    rows = {r["渠道"]: r for r in at.dataframe[0].value.to_dict("records")}
    assert rows["pr"]["下次重试"] == "不再重试" and "310000" in rows["pr"]["原因"]
    assert "ConnectionRefused" in rows["henan-duty"]["原因"] and rows["henan-duty"]["已尝试"] == 1
