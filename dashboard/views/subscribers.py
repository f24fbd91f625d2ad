"""订阅 (admin): who receives alerts (an email address or a chat group's robot channel) and what they asked for;
the dashboard's users."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, data, labels, ui
from yuqing.ops.subscribers import mentions_text
from yuqing.records import Subscriber
from yuqing.vocab import CHANNEL_TYPE_ZH, PLATFORMS, ROLE_ZH, SEVERITIES, SEVERITY_ZH
from yuqing.vocab import SUBSCRIBER_MODE_ZH as MODE_ZH

ui.page_header("订阅")
if not auth.require("admin"):
    st.stop()

subs = data.subscribers()
channels = {c.name: c.type for c in data.settings().channels}


def channel_text(name: str) -> str:
    """邮件, or a chat channel as 名称（企业微信群机器人）; a channel gone from the settings says so."""
    if name == "email":
        return CHANNEL_TYPE_ZH["email"]
    return f"{name}（{CHANNEL_TYPE_ZH[channels[name]] if name in channels else '未配置'}）"


def target(s: Subscriber) -> str:
    return s.email if s.channel == "email" else f"群机器人 {s.channel}"


ui.table(pd.DataFrame([{
    "编号": s.subscriber_id, "渠道": channel_text(s.channel), "邮箱": s.email or "—", "姓名": s.name, "最低级别": SEVERITY_ZH[s.min_severity],
    "运营商": "、".join(s.operators) or "全部", "触点": "、".join(s.touchpoints) or "全部",
    "地区": "、".join(s.regions) or "全部", "平台": labels.platforms_text(s.platforms),
    "规则": "、".join(s.rules) or "全部", "方式": MODE_ZH[s.mode], "每日时间": s.daily_at,
    "@提醒": mentions_text(s).removeprefix("@") or "—", "状态": "启用" if s.active else "停用"} for s in subs],
    columns=["编号", "渠道", "邮箱", "姓名", "最低级别", "运营商", "触点", "地区", "平台", "规则", "方式", "每日时间", "@提醒",
             "状态"]),
    hide_index=True, width="stretch")

opts = ui.filter_options()
with st.form("add_subscriber", clear_on_submit=True):
    st.markdown("**新增订阅**")
    c1, c2 = st.columns(2)
    channel = c1.selectbox("渠道", ["email", *channels], format_func=channel_text, key="sub_channel",
                           help="群机器人渠道在配置文件的 [channels.名称] 中定义（见 docs/channels.md）；每个渠道一条订阅")
    c2.caption("选择群机器人渠道时无需填写邮箱。")
    email = c1.text_input("邮箱（渠道为邮件时必填）", key="sub_email")
    name = c2.text_input("姓名", key="sub_name")
    severity = c1.selectbox("最低级别", SEVERITIES, index=1, format_func=SEVERITY_ZH.__getitem__, key="sub_sev")
    mode = c2.selectbox("发送方式", list(MODE_ZH), format_func=MODE_ZH.__getitem__, key="sub_mode")
    operators = c1.multiselect("运营商（空=全部）", opts["operators"], key="sub_ops", placeholder="全部")
    touchpoints = c2.multiselect("触点（空=全部）", opts["touchpoints"], key="sub_tps", placeholder="全部")
    regions = c1.multiselect("地区（空=全部）", opts["regions"], key="sub_regions", placeholder="全部")
    platforms = c2.multiselect("平台（空=全部）", list(PLATFORMS), format_func=lambda p: ui.PLATFORM_ZH.get(p, p),
                               key="sub_platforms", placeholder="全部")
    rules = c1.multiselect("规则（空=全部）", data.alert_rule_names(), key="sub_rules", placeholder="全部")
    daily_at = c2.text_input("每日发送时间（北京时间，HH:MM）", value="08:00", key="sub_daily")
    mentions = c1.text_input("@提醒（群机器人渠道：手机号，逗号分隔；all 为所有人；飞书填 open_id 或邮箱）",
                             key="sub_mentions", placeholder="不 @ 任何人")
    mention_sev = c2.selectbox("@提醒的最低级别", SEVERITIES, index=SEVERITIES.index("orange"),
                               format_func=SEVERITY_ZH.__getitem__, key="sub_mention_sev",
                               help="默认橙色：红色、橙色预警 @ 值班人员，黄色、蓝色不 @")
    if st.form_submit_button("保存订阅"):  # the same checks and path as `yuqing alerts subscribe`
        try:
            sub = data.save_subscriber(Subscriber(
                email=email.strip() if channel == "email" else "", channel=channel, name=name.strip(), min_severity=severity, mode=mode, operators=tuple(operators),
                touchpoints=tuple(touchpoints), regions=tuple(regions), platforms=tuple(platforms),
                daily_at=daily_at.strip() or "08:00", rules=tuple(rules),
                mentions=tuple(m for m in mentions.replace("，", ",").split(",") if m.strip()),
                mention_min_severity=mention_sev), ui.username())
        except ValueError as exc:
            st.error(ui.escape_md(labels.subscriber_error(str(exc))))
        else:
            st.success(f"已保存 {ui.escape_md(target(sub))}")
            st.rerun()

if subs:
    by_id = {s.subscriber_id: s for s in subs}
    chosen = st.selectbox("管理订阅", list(by_id), key="sub_pick", format_func=lambda i: target(by_id[i]))
    s = by_id[chosen]
    b1, b2 = st.columns(2)
    if b1.button("停用" if s.active else "启用", key="sub_toggle"):
        data.set_subscriber_active(s.subscriber_id, not s.active, ui.username())
        st.rerun()
    if b2.button("删除", key="sub_delete"):
        data.delete_subscriber(s.subscriber_id, ui.username())
        st.rerun()

st.subheader("用户")
ui.table(pd.DataFrame([{"用户名": u.username, "显示名": u.display_name, "角色": ROLE_ZH[u.role]}
                           for u in data.user_list()], columns=["用户名", "显示名", "角色"]),
             hide_index=True, width="stretch")
st.caption("新增用户：`yuqing users add 用户名 --role viewer|responder|admin`（不指定密码时随机生成并打印；"
           "用户名已存在时会被拒绝，确需替换其密码和角色请加 `--replace`）。")
