"""Tieba parsers beyond the golden fixtures: verification pages, deleted threads, empty results, list dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawlers.parsers import PARSERS, Blocked
from crawlers.parsers.tieba import bar_name, list_date

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
THREAD = "https://tieba.baidu.com/p/9288123456"
VERIFY = ('<!DOCTYPE html><html><head><title>百度安全验证</title></head><body><div class="timeout-title">网络不给力，'
          '请稍后重试</div><a href="https://wappass.baidu.com/static/captcha/tuxing.html">去验证</a></body></html>')


@pytest.mark.parametrize(("key", "url"), [
    ("tieba.search", "https://tieba.baidu.com/f/search/res?qw=%E7%94%B5%E4%BF%A1&pn=1"),
    ("tieba.forum", "https://tieba.baidu.com/f?kw=%E4%B8%AD%E5%9B%BD%E7%94%B5%E4%BF%A1&pn=0"),
    ("tieba.thread", THREAD),
    ("tieba.comment", "https://tieba.baidu.com/p/comment?tid=9288123456&pid=151390013001&pn=2"),
])
def test_the_verification_page_is_blocked(key: str, url: str) -> None:
    with pytest.raises(Blocked, match="verification"):
        PARSERS[key](VERIFY.encode(), url, now=NOW)


def test_a_refused_floor_reply_request_is_blocked_and_another_error_ends() -> None:
    url = "https://tieba.baidu.com/p/totalComment?tid=9288123456&pn=1"
    with pytest.raises(Blocked):
        PARSERS["tieba.replies"]('{"errno":110001,"errmsg":"请求过于频繁","data":[]}'.encode(), url, now=NOW)
    ended = PARSERS["tieba.replies"]('{"errno":4,"errmsg":"贴子不存在","data":[]}'.encode(), url, now=NOW)
    assert ended.cursor["end"] and ended.cursor["reason"] == "贴子不存在"
    empty = PARSERS["tieba.replies"](b'{"errno":0,"errmsg":"success","data":{"comment_list":[],"user_list":[]}}',
                                     url, now=NOW)
    assert empty.posts == [] and empty.requests == []


@pytest.mark.parametrize(("key", "url", "page"), [
    ("tieba.thread", THREAD, "<html><head><title>贴吧404</title></head><body><div>很抱歉，该贴已被删除。</div></body></html>"),
    ("tieba.forum", "https://tieba.baidu.com/f?kw=x", "<html><head><title>百度贴吧</title></head><body>"
                                                     "<p>抱歉，根据相关法律法规和政策，本吧暂不开放。</p></body></html>"),
])
def test_gone_is_an_honest_end(key: str, url: str, page: str) -> None:
    result = PARSERS[key](page.encode(), url, now=NOW)
    assert result.posts == [] and result.cursor["end"] is True and result.cursor["reason"]


def test_search_without_hits_ends() -> None:
    page = ('<html><head><title>百度贴吧_全吧搜索</title></head><body><div class="s_main"><div class="s_post_list">'
            '</div></div></body></html>').encode("gbk")
    result = PARSERS["tieba.search"](page, "https://tieba.baidu.com/f/search/res?qw=x&pn=3", now=NOW)
    assert result.cursor == {"end": True, "reason": "no results", "pn": 3}


@pytest.mark.parametrize(("text", "expected"), [
    ("9:41", datetime(2026, 11, 24, 1, 41, tzinfo=UTC)),
    ("23:10", datetime(2026, 11, 23, 15, 10, tzinfo=UTC)),  # later than now: yesterday
    ("11-20", datetime(2026, 11, 19, 16, 0, tzinfo=UTC)),
    ("2025-03", datetime(2025, 2, 28, 16, 0, tzinfo=UTC)),
    ("2024-8-6 22:11", datetime(2024, 8, 6, 14, 11, tzinfo=UTC)),
])
def test_list_dates(text: str, expected: datetime) -> None:
    assert list_date(text, NOW) == expected


def test_bar_names_drop_the_trailing_ba() -> None:
    assert [bar_name(n) for n in ("中国电信吧", " 郑州 ", "吧", "中国移动")] == ["中国电信", "郑州", "吧", "中国移动"]
