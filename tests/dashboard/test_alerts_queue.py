"""Alerts and the reply queue: acknowledging, assigning and replying change the store."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from .conftest import NOW, XSS, _post, app_as


def on_page(role: str, page: str):
    at = app_as(role).run()
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def test_alert_detail_shows_why_and_ack_resolve_change_the_store(filled):
    at = on_page("responder", "alerts")
    assert at.title[0].value == "预警"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["触发数量"] == "12" and metrics["基线"] == "2.0" and metrics["倍数"] == "6.0x"
    shown = [t.value for t in at.text]
    assert "电信断网三天了，再不修就去工信部投诉" in shown  # sample post weibo:p1
    scope = [c.value.replace("\\", "") for c in at.caption if "范围" in c.value]  # shown Markdown-escaped
    assert scope and "运营商=中国电信" in scope[0] and "operators" not in scope[0]
    at.button(key="alert_ack").click().run()
    alert = filled.get_alert(1)
    assert alert.status == "acknowledged" and alert.acknowledged_by == "resp1"
    assert list(at.dataframe[-1].value["操作"]) == ["确认"]
    assert not [e for e in at.error if "未处理" in e.value]  # banner now says 处理中
    assert any("处理中" in w.value for w in at.warning)
    at.text_input(key="alert_note").input("已修复基站")
    at.button(key="alert_resolve").click().run()
    alert = filled.get_alert(1)
    assert alert.status == "resolved" and alert.resolution_note == "已修复基站"
    assert [e.action for e in filled.list_audit(target="alert:1")] == ["resolve", "ack"]
    assert not at.warning and not [e for e in at.error if "预警" in e.value]


def test_viewer_cannot_act_and_only_admin_silences(filled):
    at = on_page("viewer", "alerts")
    assert not [b for b in at.button if b.key in ("alert_ack", "alert_resolve", "alert_silence")]
    at = on_page("responder", "alerts")
    assert not [b for b in at.button if b.key == "alert_silence"]
    at = on_page("admin", "alerts")
    at.number_input(key="silence_hours").set_value(6)
    at.button(key="alert_silence").click().run()
    assert [(s.rule, s.key, s.by) for s in filled.active_silences(NOW)] == [("negative_burst", "ev1", "admin1")]


def test_queue_flags_posts_in_priority_order_and_reply_changes_the_store(filled):
    # p20: an influential, stale (overdue) positive post flagged churn: someone switching to 中国移动
    filled.upsert_posts([_post(NOW, 20, "weibo", "中国移动", "positive", 10, influence=5.0, risk=("churn",),
                               text="刚在济南的移动营业厅办了携号转网，流程比想象中顺利")])
    at = on_page("responder", "queue")
    flagged = {c.key: c for c in filled.list_cases()}
    # p1 (escalation, influence 3), p2 (negative, influence 2.5), p9 (zhidao question about us, unanswered), p20
    assert set(flagged) == {"weibo:p1", "weibo:p2", "zhidao:p9", "weibo:p20"}
    assert flagged["weibo:p20"].reason == "携号转网（正面，多为转入）" and flagged["weibo:p20"].priority <= 0.0
    table = at.dataframe[0].value
    # by priority, not by overdue: p1 (30 minutes old, not yet overdue) and p2 are in the open red alert #1;
    # p9 (4 h) and p20 (10 h) are overdue but rank lower; the arriving customer is last
    assert list(table["编号"]) == [flagged[k].case_id for k in ("weibo:p1", "weibo:p2", "zhidao:p9", "weibo:p20")]
    assert list(table["超时"]) == ["", "⏰ 超时", "⏰ 超时", "⏰ 超时"]
    assert list(table["用时"]) == ["30分", "2小时0分", "4小时0分", "10小时0分"]
    assert list(table["预警"]) == ["红色 #1", "红色 #1", "", ""]
    assert list(table["优先级"]) == sorted(table["优先级"], reverse=True)
    assert {m.label: m.value for m in at.metric}["超时未回复"] == "3"
    assert flagged["weibo:p1"].priority > flagged["weibo:p2"].priority > flagged["zhidao:p9"].priority
    first = flagged["weibo:p1"].case_id
    at.selectbox(key="case_pick").set_value(first).run()
    at.button(key=f"claim_{first}").click().run()
    assert filled.get_case(first).status == "assigned" and filled.get_case(first).assignee == "resp1"
    assert list(at.dataframe[-1].value["操作"]) == ["认领"]  # the case's audit trail, in Chinese
    # 网络信号 touchpoint and "断网" in the text -> the outage template, not the "tell us where you are" one
    assert at.selectbox(key=f"tpl_{first}").value == "outage"
    area = at.text_area(key=f"reply_{first}_outage")
    assert "中国电信" in area.value
    area.input("您好，已安排工程师处理。")
    at.text_input(key=f"reply_url_{first}").input("https://weibo.com/reply/1")
    at.button(key=f"replied_{first}").click().run()
    case = filled.get_case(first)
    assert case.status == "replied" and case.reply_text == "您好，已安排工程师处理。"
    assert case.reply_url == "https://weibo.com/reply/1" and case.first_reply_at == NOW
    assert [e.action for e in filled.list_audit(target=f"case:{first}")] == ["reply", "claim"]
    assert first not in list(at.dataframe[0].value["编号"])  # left the 待回复 view


def test_assign_to_another_responder(filled):
    at = on_page("admin", "queue")
    case_id = at.selectbox(key="case_pick").value
    at.selectbox(key=f"assignee_{case_id}").set_value("resp1")
    at.button(key=f"assign_{case_id}").click().run()
    assert filled.get_case(case_id).assignee == "resp1"
    assert filled.list_audit(target=f"case:{case_id}")[0].detail == "resp1"


def test_script_post_is_shown_as_text(filled):
    at = on_page("viewer", "overview")
    assert XSS in list(at.dataframe[-1].value["内容"])
    assert all("<script>" not in m.value for m in at.markdown)


def test_resolve_needs_a_note(filled):
    at = on_page("responder", "alerts")
    at.button(key="alert_resolve").click().run()
    assert "请填写解决说明" in [e.value for e in at.error]
    assert filled.get_alert(1).status == "open"


def test_alert_chart_has_the_scope_of_the_alerts_count(filled):
    from dashboard import alert_scope, data
    from yuqing.index import PostQuery
    from yuqing.records import Alert
    from yuqing.vocab import PROVINCES

    # 电信负面声量激增 (volume_spike, scope 中国电信, 60 minutes) counted 6 negative posts: p1 of event ev1 and five
    # posts of no event; the chart used to show only the event's posts
    filled.upsert_posts([_post(NOW, 30 + i, "weibo", "中国电信", "negative", 0.1 * (i + 1)) for i in range(5)])
    filled.save_alert(Alert(rule="电信负面声量激增", key="中国电信", severity="yellow", title="中国电信负面声量激增",
                            reason="近60分钟负面帖 6 条", opened_at=NOW, rule_type="volume_spike", count=6, baseline=1.0,
                            scope={"operators": ["中国电信"], "touchpoints": ["网络信号", "宽带"]}, event_id="ev1"))
    at = on_page("viewer", "alerts")
    pick = next(i for i in at.selectbox(key="alert_pick").options if "中国电信负面声量激增" in i)
    at.selectbox(key="alert_pick").select(pick).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["触发数量"] == "6" and metrics["开启时规则窗口（60分钟）内负面帖"] == "6"
    assert any("规则范围（运营商=中国电信）内的全部帖子" in c.value.replace("\\", "") for c in at.caption)
    alert = next(x for x in filled.list_alerts() if x.rule == "电信负面声量激增")
    view = alert_scope.alert_scope(alert, alert_scope.rule_config(data.rules_doc(), alert.rule), NOW,
                                   frozenset(PROVINCES))
    assert view.chart.event_id == "" and view.chart.operators == ("中国电信",) and view.chart.touchpoints == ()
    in_window = PostQuery(since=NOW - timedelta(minutes=60), until=NOW, operators=("中国电信",), labels=("negative",))
    charted = filled.count_posts(dataclasses.replace(view.chart, since=in_window.since, until=NOW, labels=("negative",)))
    assert charted == filled.count_posts(in_window) == 6  # the chart's scope holds the counted posts


def test_alert_scope_without_its_rule_or_for_an_event_rule():
    from dashboard import alert_scope
    from yuqing.records import Alert

    a = Alert(rule="gone", key="k", severity="blue", title="t", reason="", opened_at=NOW, rule_type="volume_spike",
              scope={"operators": ["中国移动"], "regions": ["广东", "深圳"]}, event_id="ev1")
    view = alert_scope.alert_scope(a, None, NOW, frozenset({"广东"}))
    assert (view.chart.operators, view.chart.provinces, view.chart.cities) == (("中国移动",), ("广东",), ("深圳",))
    assert view.chart.event_id == "" and view.window is None  # the rule's window is unknown: no count shown
    grow = Alert(rule="新事件快速发酵", key="ev1", severity="yellow", title="t", reason="", opened_at=NOW,
                 rule_type="event_growth", event_id="ev1")
    view = alert_scope.alert_scope(grow, {"name": "新事件快速发酵", "window_minutes": 30}, NOW, frozenset())
    assert view.chart.event_id == "ev1" and "事件的帖子" in view.caption and view.window_minutes == 30
    doc = {"rules": [{"name": "a", "scope": {"operator": "中国联通"}, "window_minutes": 15}]}
    rule = alert_scope.rule_config(doc, "a")
    view = alert_scope.alert_scope(a, rule, NOW, frozenset())
    assert view.chart.operators == ("中国联通",) and view.window.since == NOW - timedelta(minutes=15)


def test_mail_that_could_not_be_delivered_shows_on_the_alerts_page(filled):
    from yuqing.records import OutboxMessage

    mid = filled.enqueue(OutboxMessage(to=("duty@example.com",), subject="【红色预警】中国电信 断网负面激增",
                                             text="正文", dedup_key="d1", created_at=NOW))
    filled.mark_failed(mid, "SMTP 127.0.0.1:25 不可用或拒绝登录：Connection refused", NOW + timedelta(minutes=2))
    at = on_page("viewer", "alerts")
    assert any("1 封预警邮件尚未送达" in w.value for w in at.warning)
    [row] = at.dataframe[0].value.to_dict("records")
    assert row["收件人"] == "duty@example.com" and "Connection refused" in row["最近错误"] and row["已尝试"] == 1
