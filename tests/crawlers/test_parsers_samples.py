"""Every recorded page in ../shared/data/samples parses with the parser `detect` picks: posts with text,
aware dates and native ids; spot checks of exact values per platform."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.parsers import PARSERS
from crawlers.parsers.detect import detect
from tests.conftest import SHARED_DATA, shared_path

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
SAMPLES = SHARED_DATA / "samples"
SKIP = {"dataabc_url_map.json", "Handoly_ajax_statuses_mymblog_pyrepr.txt"}  # an index, and a non-JSON repr
# Pages that hold no posts by nature: (file name, why)
EMPTY = {
    "nonebot-bison_weibo_err_profile.json": "ok:0 这里还没有内容",
    "nonebot-bison_weibo_ak_profile.json": "profile page",
    "gottaegbert_getIndex_type-uid_profile.json": "profile page",
    "dataabc_weibo_cn_info.html": "profile info page",
    "zhihu-py3_column.json": "column metadata",
    "tankle_zhidao_error_page_105662470.html": "信息提示 page",
}
URLS = {  # the page's URL where the parser reads ids from it
    "nonebot-bison_weibo_detail_4645748019299849_statuses_extend.json":
        "https://m.weibo.cn/statuses/extend?id=4645748019299849",
    "nonebot-bison_weibo_detail_4649031014551911_statuses_extend.json":
        "https://m.weibo.cn/statuses/extend?id=4649031014551911",
    "gottaegbert_statuses_extend.json": "https://m.weibo.cn/statuses/extend?id=4383487819465288",
    "dataabc_weibo_cn_comment_J5cVGuUNq.html": "https://weibo.cn/comment/J5cVGuUNq",
}


# Platforms recorded as format references that yuqing does not crawl: detect must say so, never guess a parser.
NOT_SOURCES = {"douyin": "抖音 douyin", "xiaohongshu": "小红书 xiaohongshu"}


def _files() -> list[Path]:
    if not SAMPLES.exists():
        return []
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name not in SKIP
                  and _platform_dir(p) not in NOT_SOURCES)


def _platform_dir(path: Path) -> str:
    return path.relative_to(SAMPLES).parts[0]


def _not_source_files() -> list[Path]:
    if not SAMPLES.exists():
        return []
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and _platform_dir(p) in NOT_SOURCES)


def _url(path: Path) -> str:
    if path.name in URLS:
        return URLS[path.name]
    if "zhidao_question_" in path.name:
        qid = path.name.split("_")[-1].split(".")[0]
        return f"https://zhidao.baidu.com/question/{qid}.html"
    return path.as_uri()


def test_samples_are_present_or_skipped() -> None:
    shared_path("samples")
    assert len(_files()) >= 60


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_every_sample_parses(path: Path) -> None:
    body = path.read_bytes()
    key = detect(body, "")
    assert key.split(".")[0] == {"baidu_zhidao": "zhidao"}.get(path.relative_to(SAMPLES).parts[0],
                                                                path.relative_to(SAMPLES).parts[0])
    result = PARSERS[key](body, _url(path), now=NOW)
    if path.name in EMPTY:
        assert result.posts == [] and result.cursor.get("end") or result.requests, EMPTY[path.name]
        return
    assert result.posts, f"{path.name}: no posts from {key}"
    for post in result.posts:
        assert post.text.strip() and post.post_id
        assert post.published_at.tzinfo is not None and post.published_at <= NOW.replace(year=2027)
        assert not re.search(r"<(?:a|span|br|img|p|div|em|b)\b", post.text), post.text[:200]
    assert result.rejected == [] or path.name == "tankle_zhidao_question_14370034.html"


@pytest.mark.parametrize("path", _not_source_files(), ids=lambda p: p.name)
def test_platforms_we_do_not_crawl_are_named_not_misparsed(path: Path) -> None:
    from crawlers.parsers.detect import NotASource

    with pytest.raises(NotASource, match=NOT_SOURCES[_platform_dir(path)]):
        detect(path.read_bytes(), "")


def _parse(*parts: str, url: str = ""):
    path = shared_path("samples", *parts)
    body = path.read_bytes()
    return PARSERS[detect(body, url)](body, url or path.as_uri(), now=NOW)


def test_zhihu_member_answers_values() -> None:
    result = _parse("zhihu", "api_v4", "ZhouNan1212_members_answers_test.json")
    first = result.posts[0]
    assert first.post_id == "224251376" and first.parent_id == "q64751315" and first.kind == "answer"
    assert first.published_at == datetime(2017, 9, 2, 4, 52, 12, tzinfo=UTC)  # created_time 1504327932
    assert (first.likes, first.comments) == (1116, 467) and first.author_name == "共青团中央"
    assert first.title == "如何看待上海警察绊摔怀抱幼儿的阻碍执行公务的中年妇女及其处理结果？"
    assert result.cursor["is_end"] is False and "offset=10" in result.cursor["next"]


def test_zhihu_concatenated_json_lines() -> None:
    result = _parse("zhihu", "api_v4", "ZhouNan1212_members_answers_test-1.json")
    assert len(result.posts) == 10 and len({p.post_id for p in result.posts}) == 10


def test_zhihu_legacy_question_page() -> None:
    result = _parse("zhihu", "legacy_2015_2016", "zhihu-py3_question.html",
                    url="https://www.zhihu.com/question/24825703")
    assert len(result.posts) == 50
    first = result.posts[0]
    assert first.post_id == "39753456" and first.author_name == "芝士就是力量" and first.likes == 97
    assert first.published_at == datetime(2015, 2, 14, 10, 13, tzinfo=UTC)
    assert first.title == "关系亲密的人之间要说「谢谢」吗？" and first.comments == 20


def test_zhihu_column_post() -> None:
    [post] = _parse("zhihu", "legacy_2015_2016", "zhihu-py3_column_post.json").posts
    assert post.post_id == "p20202275" and post.kind == "article" and post.likes == 963
    assert post.published_at == datetime(2015, 9, 6, 12, 3, 31, tzinfo=UTC)


def test_zhidao_question_utf8_and_gbk_bytes_agree() -> None:
    utf8 = _parse("baidu_zhidao", "question_2013", "tankle_zhidao_question_10006264.html",
                  url="https://zhidao.baidu.com/question/10006264.html")
    gbk = _parse("baidu_zhidao", "gbk_transcoded", "tankle_zhidao_question_10006264.gbk.html",
                 url="https://zhidao.baidu.com/question/10006264.html")
    assert [p.text for p in utf8.posts] == [p.text for p in gbk.posts]
    question, best, *others = utf8.posts
    assert question.post_id == "q10006264" and question.title == "什么是股票" and question.author_name == "12龙牙草"
    assert question.published_at == datetime(2006, 7, 21, 1, 9, tzinfo=UTC)
    assert best.post_id == "38985572" and best.extra == {"best": True} and best.author_name == "我是老表"
    assert best.text.startswith("股票\nstock\n股份公司发给股东的入股凭证")
    assert len(others) == 5 and all(p.parent_id == "q10006264" for p in others)


def test_zhidao_search_page() -> None:
    result = _parse("baidu_zhidao", "search_2013", "tankle_zhidao_search_q1_pn0.html",
                    url="https://zhidao.baidu.com/search?word=%CA%B2&pn=0")
    assert len(result.posts) == 10 and result.cursor == {"pn": 0, "next_pn": 10}
    first = result.posts[0]
    assert first.post_id == "q3185569" and first.title == "什么是股票?怎样炒股?"
    assert first.extra["answer_likes"] == 45 and first.extra["answerer"] == "关大掌柜" and first.author_name == ""
    assert first.comments == 6 and first.extra["stub"] is True
    assert [r.parser for r in result.requests].count("zhidao.question") == 10
    assert result.requests[-1].parser == "zhidao.search" and "pn=10" in result.requests[-1].url


def test_zhidao_error_page_is_an_end_with_reason() -> None:
    result = _parse("baidu_zhidao", "question_2013", "tankle_zhidao_error_page_105662470.html")
    assert result.posts == [] and result.cursor["reason"] == "信息提示: 知道宝贝找不到问题了"


def test_heimao_scraped_dumps() -> None:
    for name in ("HeimaoData_example_data.json", "HeimaoData_example_data_structured.csv"):
        result = _parse("heimao", name)
        first = result.posts[0]
        assert first.post_id == "17390396995" and first.kind == "complaint"
        assert first.extra == {"object": "信*飞App", "demands": "退息费，退会员费", "status": "", "sn": "17390396995"}
        assert first.published_at == datetime(2025, 11, 22, 16, 0, tzinfo=UTC)  # 2025-11-23 in Shanghai


@pytest.mark.parametrize(("parts", "url", "message"), [
    (("weibo", "weibo_com_ajax", "Handoly_ajax_statuses_mymblog_pyrepr.txt"),
     "https://weibo.com/ajax/statuses/mymblog?uid=1&page=1", "malformed or truncated JSON"),  # a Python repr
    (("weibo", "weibo_cn_wap_html", "dataabc_url_map.json"), "https://weibo.cn/1669879400/profile", "changed layout"),
])
def test_files_that_are_not_pages_fail_loudly(parts: tuple[str, ...], url: str, message: str) -> None:
    from crawlers.parsers import ParseError

    body = shared_path("samples", *parts).read_bytes()
    with pytest.raises(ParseError, match=message):
        PARSERS[detect(b"", url)](body, url, now=NOW)
