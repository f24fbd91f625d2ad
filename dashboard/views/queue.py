"""待处理: flagged posts in priority order; claim or assign; reply from a template; the clock; the audit trail."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, data, triage, ui
from yuqing.records import Alert, Case
from yuqing.timefmt import local_str
from yuqing.vocab import CASE_STATUS_ZH, SEVERITY_ZH

ui.page_header("待处理")
settings = data.settings()
ours = settings.dashboard.our_operator
due = settings.dashboard.reply_due_minutes
if auth.allowed("responder"):
    created = data.sync_queue(ours)
    if created:
        st.toast(f"新增 {created} 条待处理帖子")
library = triage.load_library()
now = data.now()

VIEWS = {"待回复": ("new", "assigned"), "我的": ("new", "assigned"), "已回复": ("replied",),
         "已结束": ("resolved", "ignored")}
view = st.segmented_control("视图", list(VIEWS), default="待回复", key="queue_view") or "待回复"
cases = data.cases(VIEWS[view], assignee=ui.username() if view == "我的" else "")
posts = data.posts_by_keys(tuple(c.key for c in cases))
cases = [c for c in cases if c.key in posts]


def overdue(c: Case) -> bool:
    return triage.is_overdue(posts[c.key].post.published_at, c, now, due)


unresolved = data.alerts(("open", "acknowledged"), 200)
rank = {c.key: triage.queue_priority(posts[c.key], now, unresolved) for c in cases}
in_alert = {c.key: triage.post_alert(posts[c.key], unresolved) for c in cases}
order = triage.queue_order([(rank[c.key], overdue(c), posts[c.key].post.published_at) for c in cases])
cases = [cases[i] for i in order]
n_overdue = sum(overdue(c) for c in cases)
m1, m2, m3 = st.columns(3)
m1.metric("本视图帖子", len(cases), help="按优先级排序（影响力、风险、负面、新鲜度，所在未解决预警越严重越靠前）；同分时超时的在前")
m2.metric("超时未回复", n_overdue, help=f"发帖后超过 {due} 分钟仍未回复")
m3.metric("回复时限", f"{due} 分钟")
if not cases:
    st.info("当前没有需要处理的帖子。")
    st.stop()


def _alert_cell(a: Alert | None) -> str:
    return f"{SEVERITY_ZH[a.severity]} #{a.alert_id}" if a else ""


rows = [{"编号": c.case_id, "超时": "⏰ 超时" if overdue(c) else "", "优先级": round(rank[c.key], 1),
         "预警": _alert_cell(in_alert[c.key]),
         "状态": CASE_STATUS_ZH[c.status], "处理人": c.assignee,
         "平台": ui.PLATFORM_ZH.get(c.platform, c.platform),
         "发布时间": local_str(posts[c.key].post.published_at),
         "用时": triage.format_clock(triage.reply_clock(posts[c.key].post.published_at, c, now)),
         "原因": c.reason, "回访情感": ui.LABEL_ZH.get(c.followup_label, c.followup_label) if c.followup_label else "",
         "内容": posts[c.key].post.text[:80]} for c in cases]
frame = pd.DataFrame(rows)
ui.table((frame, lambda f: f.style.apply(lambda r: ["background-color: #ffd6d6" if r["超时"] else "" for _ in r],
                                          axis=1).format({"优先级": "{:.1f}"})))

by_id = {c.case_id: c for c in cases}
case_id = st.selectbox("处理帖子", list(by_id), key="case_pick",
                       format_func=lambda i: f"#{i} {CASE_STATUS_ZH[by_id[i].status]} {by_id[i].reason}")
c = by_id[case_id]
sp = posts[c.key]
with st.container(border=True):
    linked = in_alert[c.key]
    st.caption(ui.post_caption(sp) + f" · 原因：{c.reason}"
               + (f" · 预警：{_alert_cell(linked)} {ui.escape_md(linked.title)}" if linked else ""))
    ui.post_text(sp)
    if sp.post.url:
        st.link_button("在平台打开", sp.post.url)
clock = triage.reply_clock(sp.post.published_at, c, now)
k1, k2, k3 = st.columns(3)
k1.metric("状态", CASE_STATUS_ZH[c.status])
k2.metric("发帖至首次回复" if c.first_reply_at else "已等待", triage.format_clock(clock))
k3.metric("处理人", c.assignee or "未分派")
if overdue(c):
    st.error(f"已超时：发帖后 {triage.format_clock(clock)} 仍未回复（时限 {due} 分钟）")

if c.status in ("replied", "resolved") and (c.reply_text or c.reply_url):
    st.markdown("**我方回复**")
    if c.reply_text:
        st.text(c.reply_text)
    if c.reply_url:
        st.text(c.reply_url)
    st.caption("回访情感：" + (ui.LABEL_ZH.get(c.followup_label, c.followup_label) if c.followup_label
                               else "尚未回访（回复后的帖子会被再次抓取）"))

if not auth.allowed("responder"):
    st.caption("只读用户不能处理帖子。")
elif c.status in ("new", "assigned"):
    a1, a2 = st.columns(2)
    if c.assignee != ui.username() and a1.button("认领", key=f"claim_{c.case_id}"):
        data.case_action(c.case_id, "claim", ui.username())
        ui.flash(f"已认领 #{c.case_id}")
        st.rerun()
    staff = [u.username for u in data.user_list() if u.role in ("responder", "admin")]
    who = a2.selectbox("分派给", staff, key=f"assignee_{c.case_id}",
                       index=staff.index(c.assignee) if c.assignee in staff else 0)
    if a2.button("分派", key=f"assign_{c.case_id}"):
        data.case_action(c.case_id, "assign", ui.username(), assignee=who)
        ui.flash(f"已将 #{c.case_id} 分派给 {who}")
        st.rerun()

    touchpoints = sp.analysis.touchpoints if sp.analysis else ()
    suggested = triage.choose_template(library.templates, touchpoints,
                                       f"{sp.post.title} {sp.post.text}")
    ids = [t.template_id for t in library.templates]
    titles = {t.template_id: t for t in library.templates}
    tid = st.selectbox("回复模板（统一口径）", ids, index=ids.index(suggested.template_id), key=f"tpl_{c.case_id}",
                       format_func=lambda i: titles[i].title + ("（推荐）" if i == suggested.template_id else ""))
    text = st.text_area("回复内容（可修改）", value=triage.fill_template(titles[tid], ours),
                        key=f"reply_{c.case_id}_{tid}", height=120)
    url = st.text_input("回复链接（可选）", key=f"reply_url_{c.case_id}")
    r1, r2 = st.columns(2)
    if r1.button("标记已回复", key=f"replied_{c.case_id}", type="primary"):
        try:
            data.case_action(c.case_id, "reply", ui.username(), reply_text=text, reply_url=url)
        except ValueError as exc:
            st.error(str(exc))
        else:
            ui.flash(f"已回复 #{c.case_id}，可在「已回复」视图查看回访情感")
            st.rerun()
    if r2.button("忽略", key=f"ignore_{c.case_id}"):
        data.case_action(c.case_id, "ignore", ui.username())
        ui.flash(f"已忽略 #{c.case_id}")
        st.rerun()
elif c.status == "replied":
    if st.button("标记已解决", key=f"resolve_{c.case_id}"):
        data.case_action(c.case_id, "resolve", ui.username())
        ui.flash(f"已解决 #{c.case_id}")
        st.rerun()
elif st.button("重新打开", key=f"reopen_{c.case_id}"):
    data.case_action(c.case_id, "reopen", ui.username())
    ui.flash(f"已重新打开 #{c.case_id}")
    st.rerun()

trail = data.audit(f"case:{c.case_id}")
st.markdown("**操作记录**")
ui.table(pd.DataFrame([{"时间": local_str(e.at), "操作人": e.actor, "操作": ui.action_zh(e.action), "说明": e.detail}
                           for e in trail], columns=["时间", "操作人", "操作", "说明"]),
             hide_index=True, width="stretch")
