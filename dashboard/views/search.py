"""搜索: full text with the overview's filters; a post's detail with its event and analysis; label correction."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from dashboard import auth, data, labels, ui
from yuqing.timefmt import local_str
from yuqing.vocab import LABELS

PAGE_SIZE = 50

ui.page_header("搜索")
f = ui.filter_sidebar(**ui.filter_options())
text = st.text_input("关键词（包含全部词语的帖子）", value=st.query_params.get("q", ""), key="search_q")
if text.strip() != st.query_params.get("q", ""):
    if text.strip():
        st.query_params["q"] = text.strip()
    elif "q" in st.query_params:
        del st.query_params["q"]
c1, c2 = st.columns([3, 1])
wanted_labels = c1.multiselect("情感", list(LABELS), format_func=ui.LABEL_ZH.__getitem__, key="search_labels", placeholder="全部")
q = dataclasses.replace(f.query(data.now()), text=text.strip(), labels=tuple(wanted_labels))
total = data.count(q)
pages = max(1, -(-total // PAGE_SIZE))
page = c2.number_input("页码", min_value=1, max_value=pages, value=1, key="search_page")
st.metric("匹配帖子", f"{total:,}")
found = data.search(q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                    order="relevance" if text.strip() else "published_at_desc")
ui.table(ui.posts_frame(found))
if not found:
    st.stop()

by_key = {sp.post.key: sp for sp in found}
key = st.selectbox("帖子详情", list(by_key), key="search_pick",
                   format_func=lambda k: f"{local_str(by_key[k].post.published_at)} {by_key[k].post.text[:40]}")
sp = by_key[key]
p, a = sp.post, sp.analysis
with st.container(border=True):
    st.caption(ui.post_caption(sp))
    ui.post_text(sp)
    if p.url:
        st.link_button("在平台打开", p.url)
d1, d2, d3, d4 = st.columns(4)
d1.metric("情感", ui.LABEL_ZH.get(sp.label, sp.label) + ("（已人工更正）" if sp.corrected_label else ""))
d2.metric("正面概率", f"{a.score:.2f}" if a else "-")
d3.metric("影响力", f"{a.influence:.2f}" if a else "-")
d4.metric("互动", f"{p.reposts}/{p.comments}/{p.likes}", help="转发/评论/点赞")
if a:
    ui.table(pd.DataFrame([
        {"项目": "触点", "内容": "、".join(a.touchpoints)}, {"项目": "运营商", "内容": "、".join(a.operators)},
        {"项目": "地区", "内容": " ".join(x for x in (a.province, a.city) if x) or p.ip_region},
        {"项目": "风险", "内容": labels.risks_text(a.risk_flags, sp.label)}, {"项目": "关键词", "内容": "、".join(a.keywords)},
        {"项目": "模型", "内容": f"{a.model} {a.model_version}".strip()},
        {"项目": "分析时间", "内容": local_str(a.analyzed_at)},
    ]))
    ev = data.event(a.event_id) if a.event_id else None
    if ev:
        st.markdown("**所属事件**")
        st.text(f"{ev.title}（{ev.size} 条，负面 {ev.negative} 条，{local_str(ev.first_seen)} 至 {local_str(ev.last_seen)}）")

if auth.allowed("responder"):
    with st.form(f"correct_label_{p.platform}_{p.post_id}"):
        # One widget per post, starting from the post's own label: never a label chosen for another post.
        new = st.selectbox("更正情感标签", list(LABELS), index=LABELS.index(sp.label) if sp.label in LABELS else 1,
                           format_func=ui.LABEL_ZH.__getitem__, key=f"correct_to_{p.platform}_{p.post_id}")
        if st.form_submit_button("保存更正"):
            data.correct_label(p.platform, p.post_id, new, ui.username())  # clears the cached reads
            ui.flash(f"已更正为「{ui.LABEL_ZH[new]}」")
            st.rerun()
