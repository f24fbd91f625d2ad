"""数据源: each crawler's health, and every rejected item counted by source, stage and reason."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, ui
from yuqing.timefmt import local_str
from yuqing.vocab import SOURCE_ZH

ui.page_header("数据源")
health = data.source_health()
if not health:
    st.info("还没有任何抓取记录。")
else:
    down = [h for h in health if not h.healthy]
    for h in down:
        st.error(f"数据源 {SOURCE_ZH.get(h.source, h.source)} 异常：{ui.escape_md(h.reason or '未知原因')}")
    ui.table(pd.DataFrame([{
        "数据源": SOURCE_ZH.get(h.source, h.source), "状态": "正常" if h.healthy else "异常", "原因": h.reason,
        "最近运行": local_str(h.last_run_at), "最近成功": local_str(h.last_success_at),
        "最新帖子": local_str(h.last_post_at), "运行次数": h.runs, "页面": h.pages, "发现": h.posts_found,
        "新增": h.posts_new, "拒收": h.rejected,
        "错误": "，".join(f"{k}×{v}" for k, v in sorted(h.errors.items())),
    } for h in health]))

st.subheader("拒收统计")
counts = data.rejected_counts()
if counts:
    ui.table(pd.DataFrame([{"来源": SOURCE_ZH.get(s, s), "环节": stage, "原因": reason, "数量": n}
                               for (s, stage, reason), n in sorted(counts.items(), key=lambda kv: -kv[1])],
                              columns=["来源", "环节", "原因", "数量"]))
else:
    st.info("暂无拒收记录。")
st.subheader("最近拒收")
recent = data.rejected(100)
if recent:
    ui.table(pd.DataFrame([{"时间": local_str(r.at), "来源": SOURCE_ZH.get(r.source, r.source), "环节": r.stage, "原因": r.reason,
                                "链接": r.url, "样本": r.sample} for r in recent],
                              columns=["时间", "来源", "环节", "原因", "链接", "样本"]))
else:
    st.info("暂无拒收记录。")
