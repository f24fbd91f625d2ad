"""预警: the alert list; each alert's why (chart, count against baseline, sample posts); ack, resolve, silence."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import alert_scope, auth, briefs, charts, data, labels, ui
from yuqing.timefmt import local_str
from yuqing.vocab import PROVINCES, SEVERITY_ZH

ui.page_header("预警")
stuck = [m for m in data.outbox(limit=200) if m.sent_at is None and m.last_error]
mails = [m for m in stuck if m.channel == "email"]
chats = [m for m in stuck if m.channel != "email"]
if mails:  # SMTP down, a refused login, a bad address: never silent
    st.warning(f"有 {len(mails)} 封预警邮件尚未送达，正在按退避策略重试（详见下表；命令行 `yuqing alerts outbox`）。")
    with st.expander("通知投递：未送达的邮件", expanded=False):
        ui.table(pd.DataFrame([{"编号": m.message_id, "收件人": "、".join(m.to), "主题": m.subject, "已尝试": m.attempts,
                                "下次重试": local_str(m.next_attempt_at), "最近错误": m.last_error} for m in mails]))
if chats:  # a robot down or throttling (retried), a wrong key or signature (given up): never silent
    given_up = sum(1 for m in chats if m.next_attempt_at and m.next_attempt_at.year == 9999)
    st.warning(f"有 {len(chats)} 条群机器人消息尚未送达（其中 {given_up} 条已放弃，其余按退避策略重试；"
               "详见下表；命令行 `yuqing alerts outbox`，检查渠道 `yuqing alerts test-channel 名称`）。")
    with st.expander("通知投递：未送达的群消息", expanded=False):
        ui.table(pd.DataFrame([{
            "编号": m.message_id, "渠道": m.channel, "标题": m.subject, "已尝试": m.attempts,
            "下次重试": "不再重试" if m.next_attempt_at and m.next_attempt_at.year == 9999 else local_str(m.next_attempt_at),
            "原因": m.last_error} for m in chats]))
alerts = data.alerts(limit=200)
if not alerts:
    st.info("暂无预警。")
    st.stop()

order = {"open": 0, "acknowledged": 1, "resolved": 2}
alerts = sorted(alerts, key=lambda a: (order[a.status], -["blue", "yellow", "orange", "red"].index(a.severity),
                                       -a.opened_at.timestamp()))
ui.table(pd.DataFrame([{
    "编号": a.alert_id, "级别": SEVERITY_ZH[a.severity], "状态": ui.ALERT_STATUS_ZH[a.status], "标题": a.title,
    "规则": a.rule, "触发时间": local_str(a.opened_at), "数量": a.count, "基线": round(a.baseline, 1),
    "处理人": a.resolved_by or a.acknowledged_by} for a in alerts]))

by_id = {a.alert_id: a for a in alerts}
linked = st.query_params.get("alert", "")  # emails link to /alerts?alert=ID
ids = list(by_id)
start = ids.index(int(linked)) if linked.isdigit() and int(linked) in by_id else 0
chosen = st.selectbox("查看预警", ids, index=start, key="alert_pick",
                      format_func=lambda i: f"#{i} {SEVERITY_ZH[by_id[i].severity]} {by_id[i].title}"
                      f"（{ui.ALERT_STATUS_ZH[by_id[i].status]}）")
a = by_id[chosen]

st.subheader(f"#{a.alert_id} {ui.escape_md(a.title)}")
st.text(a.reason)
c1, c2, c3, c4 = st.columns(4)
c1.metric("触发数量", a.count)
c2.metric("基线", f"{a.baseline:.1f}")
c3.metric("倍数", f"{a.count / a.baseline:.1f}x" if a.baseline else "-")
c4.metric("状态", ui.ALERT_STATUS_ZH[a.status])
scope = dict(a.scope)
st.caption(ui.escape_md(
    "范围：" + labels.scope_text(scope) + f"　规则：{labels.rule_text(a.rule, a.rule_type)}"
    + (f"　确认：{a.acknowledged_by} {local_str(a.acknowledged_at)}" if a.acknowledged_by else "")
    + (f"　解决：{a.resolved_by} {local_str(a.resolved_at)}" if a.resolved_by else "")))

view = alert_scope.alert_scope(a, alert_scope.rule_config(data.rules_doc(), a.rule), data.now(),
                               frozenset(PROVINCES))
if view.window is not None:
    st.metric(f"开启时规则窗口（{view.window_minutes}分钟）内负面帖", data.count(view.window),
              help="按规则自身的范围和时间窗口重新统计；预警升级后触发数量取各次评估的最大值")
st.caption(ui.escape_md(view.caption))
st.altair_chart(charts.volume_chart(charts.buckets_frame(data.volume(view.chart, 3600, "label"), ui.LABEL_ZH),
                                    by_label=True), width="stretch")

st.markdown("**样例帖子**")
samples = data.posts_by_keys(a.sample_keys)
for key in a.sample_keys:
    sp = samples.get(key)
    if sp is None:
        st.caption(ui.escape_md(f"{labels.post_key_text(key)}（帖子不在库中）"))
        continue
    with st.container(border=True):
        st.caption(ui.post_caption(sp))
        ui.post_text(sp)

with st.expander("下载此预警的专报（事件经过、时间线、代表性帖子、处置与回复情况）"):
    briefs.download(f"alert_brief_{a.alert_id}", lambda: data.brief("event", alert_id=a.alert_id), "生成专报")

if a.status != "resolved" and auth.allowed("responder"):
    st.markdown("**处理**")
    b1, b2 = st.columns(2)
    if a.status == "open" and b1.button("确认预警", key="alert_ack"):
        data.alert_action(a.alert_id, "ack", ui.username())
        ui.flash(f"已确认预警 #{a.alert_id}")
        st.rerun()
    note = b2.text_input("解决说明", key="alert_note")
    if b2.button("标记已解决", key="alert_resolve"):
        try:
            data.alert_action(a.alert_id, "resolve", ui.username(), note)
        except ValueError as exc:
            st.error(str(exc))
        else:
            ui.flash(f"预警 #{a.alert_id} 已解决")
            st.rerun()
elif a.status != "resolved":
    st.caption("只读用户不能处理预警。")

if auth.allowed("admin"):
    with st.expander("静默此预警（静默期内同规则同对象的预警仍会记录，但不发邮件）"):
        hours = st.number_input("静默小时数", min_value=1, max_value=24 * 30, value=24, key="silence_hours")
        reason = st.text_input("原因", key="silence_reason")
        if st.button("静默", key="alert_silence"):
            sil = data.silence_alert(a.alert_id, float(hours), ui.username(), reason)
            st.success(f"已静默至 {local_str(sil.until)}")

trail = data.audit(f"alert:{a.alert_id}")
if trail:
    st.markdown("**操作记录**")
    ui.table(pd.DataFrame([{"时间": local_str(e.at), "操作人": e.actor, "操作": ui.action_zh(e.action), "说明": e.detail}
                               for e in trail]))

active = data.silences()
if active:
    st.markdown("**生效中的静默**")
    ui.table(pd.DataFrame([{"规则": x.rule, "对象": x.key or "（整条规则）", "截至": local_str(x.until), "操作人": x.by,
                                "原因": x.reason} for x in active]))
