"""Each brief built from the known data set and read back: the figures equal the store's, the PDF's text (pdftotext)
holds the Chinese headings and figures, the .docx opens with python-docx with its headings, tables and pictures."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document

from reports import render
from tests.reports.conftest import DAY, EVENT, EXPECTED, NOW, pdf_text
from yuqing import briefing
from yuqing.index import PostQuery

HEADINGS = ("摘要", "一、核心数据", "二、主要事件", "三、声量走势", "四、触点与情感", "五、地区分布", "六、热词", "七、预警处置",
            "八、回复队列")


def test_daily_figures_equal_the_store(known) -> None:
    b = briefing.gather_period(known.index, known.ops, "daily", NOW, day=DAY)
    q = PostQuery(since=b.start, until=b.end)
    assert b.totals.posts == known.index.count_posts(q) == EXPECTED["posts"]
    assert b.totals.negative == known.index.count_posts(PostQuery(since=b.start, until=b.end, labels=("negative",))) \
        == EXPECTED["negative"]
    assert (b.before.posts, b.before.negative) == (EXPECTED["before_posts"], EXPECTED["before_negative"])
    assert {o.operator: o.now.posts for o in b.operators} == known.index.facet(q, "operator") \
        == {"中国电信": EXPECTED["telecom"], "中国移动": EXPECTED["mobile"]}
    assert [e.event_id for e in b.events] == [EVENT] and b.events[0].posts == EXPECTED["event_posts"]
    assert sum(p.posts for p in b.timeline) == EXPECTED["posts"] and len(b.timeline) == 24
    assert b.alerts.median_response_minutes == EXPECTED["alert_response_min"]
    assert b.alerts.median_resolve_minutes == EXPECTED["alert_resolve_min"]
    assert b.replies.median_reply_minutes == EXPECTED["reply_min"] and b.replies.overdue == EXPECTED["overdue"]
    assert b.replies.followup == {"positive": 1}
    assert dict((t, n) for t, n, *_ in b.touchpoints)["宽带"] == 4


def test_daily_pdf_text_holds_headings_and_figures(known, tmp_path: Path) -> None:
    b = briefing.gather_period(known.index, known.ops, "daily", NOW, day=DAY)
    text = pdf_text(render(b, "pdf"), tmp_path)
    for heading in ("舆情日报（2026-11-23）", *HEADINGS):
        assert heading in text
    flat = " ".join(text.split())
    assert f"本期共监测到相关帖子 {EXPECTED['posts']} 条，较上期（{EXPECTED['before_posts']} 条）增加 5 条" in flat
    assert f"负面占比 {EXPECTED['share']}" in flat and f"净情感值 {EXPECTED['net']}" in flat
    assert "帖子数 10 5 增加 5 条（+100.0%）" in flat
    assert "负面占比 50.0% 40.0% 上升 10.0 个百分点" in flat
    assert "中国电信 6 60.0% 66.7% -0.50 40.0%" in flat
    assert "郑州电信宽带大面积断网" in flat and "中位响应时长 30 分钟" in flat
    assert "回复中位时长 45 分钟" in flat and "超时未回复（>60分钟） 1" in flat


def _docx(data: bytes):  # type: ignore[no-untyped-def]
    return Document(io.BytesIO(data))


def test_daily_docx_is_editable_with_tables_and_pictures(known) -> None:
    b = briefing.gather_period(known.index, known.ops, "daily", NOW, day=DAY)
    doc = _docx(render(b, "docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == "舆情日报（2026-11-23）"
    assert all(h in headings for h in HEADINGS)
    assert len(doc.inline_shapes) == 2  # the volume and touchpoint charts, as pictures
    core = doc.tables[0]
    rows = [[c.text for c in r.cells] for r in core.rows]
    assert rows[0] == ["指标", "本期", "上期", "变化"]
    assert rows[1][:3] == ["帖子数", "10", "5"] and rows[3][:3] == ["负面占比", "50.0%", "40.0%"]
    sov = [[c.text for c in r.cells] for r in doc.tables[1].rows]
    assert sov[1][:3] == ["中国电信", "6", "60.0%"]
    external = [r.target_ref for r in doc.part.rels.values() if r.is_external]
    assert "https://example.test/p/k0" in external  # the representative post's link is a real hyperlink


def test_weekly_and_html(known) -> None:
    b = briefing.gather_period(known.index, known.ops, "weekly", NOW, day=DAY)
    assert b.totals.posts == 10 and b.before is not None and b.before.posts == 5  # DAY is a Monday: 11-22 is last week
    assert len(b.timeline) == 7 and b.bucket == "day"
    html = render(b, "html").decode("utf-8")
    assert "舆情周报（2026-11-23 00:00 至 2026-11-30 00:00）" in html
    assert "data:image/png;base64," in html and "<table>" in html


def test_event_brief(known, tmp_path: Path) -> None:
    b = briefing.gather_event(known.index, known.ops, EVENT, NOW)
    assert b.kind == "event" and b.before is None
    assert b.totals.posts == known.index.count_posts(PostQuery(event_id=EVENT)) == 4
    assert [p.posts for p in b.subject.timeline] == [2, 1, 1]
    assert len(b.subject.samples) == 3 and b.alerts.opened[0].title == "郑州中国电信宽带故障"
    text = " ".join(pdf_text(render(b, "pdf"), tmp_path).split())
    assert "舆情专报：郑州电信宽带大面积断网" in text and "二、事件经过" in text and "时间线" in text
    assert "该事件共监测到相关帖子 4 条" in text and "专报统计事件本身的帖子，不与上一周期比较。" in text


def test_alert_brief_uses_its_event(known) -> None:
    alert = known.ops.list_alerts()[0]
    b = briefing.gather_alert(known.index, known.ops, alert.alert_id, NOW)
    assert b.title == "舆情专报：郑州中国电信宽带故障" and b.subject.event_id == EVENT and b.totals.posts == 4


def test_operator_brief(known) -> None:
    b = briefing.gather_period(known.index, known.ops, "daily", NOW, day=DAY, operator="中国电信")
    assert (b.totals.posts, b.totals.negative) == (6, 4)
    assert {o.operator for o in b.operators} == {"中国电信", "中国移动"}  # share of voice still against everyone


def test_empty_period_renders_and_says_so(empty, tmp_path: Path) -> None:
    b = briefing.gather_period(empty.index, empty.ops, "daily", NOW, day=DAY)
    assert b.totals.posts == 0 and not b.events
    text = " ".join(pdf_text(render(b, "pdf"), tmp_path).split())
    for said in ("本期未监测到相关帖子。", "本期没有识别到事件。", "本期没有帖子数据。", "期内没有新开预警。", "期内没有回复数据。"):
        assert said in text
    doc = _docx(render(b, "docx"))
    assert len(doc.inline_shapes) == 0 and doc.tables  # no chart without data; the figures table is still there


def test_one_post_event_says_so(empty, tmp_path: Path) -> None:
    from tests.reports.conftest import at_local
    from yuqing.records import Analysis, Event, Post

    post = Post(platform="weibo", post_id="only", text="联通营业厅排队太久", published_at=at_local(9),
                url="https://example.test/only", operators=("中国联通",))
    empty.index.upsert_posts([(post, Analysis(label="negative", score=0.1, operators=("中国联通",), event_id="ev1",
                                              touchpoints=("营业厅",)))])
    empty.index.upsert_events([Event(event_id="ev1", title="营业厅排队", first_seen=at_local(9),
                                     last_seen=at_local(9))])
    b = briefing.gather_event(empty.index, empty.ops, "ev1", NOW)
    text = "".join(pdf_text(render(b, "pdf"), tmp_path).split())  # lines of Chinese break anywhere
    assert "该事件目前仅有1条帖子" in text and "该事件没有关联的预警。" in text and "期内没有回复数据。" in text


def test_unknown_event_is_a_clear_error(empty) -> None:
    with pytest.raises(KeyError, match="no event 'nope'"):
        briefing.gather_event(empty.index, empty.ops, "nope", NOW)
