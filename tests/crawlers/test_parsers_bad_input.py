"""Bad input: every parser fails loudly (ParseError naming the url), reports blocks as Blocked,
keeps hostile or huge text as text, and counts items it could not read."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.parsers import PARSERS, Blocked, ParseError
from crawlers.parsers.counts import parse_count
from crawlers.parsers.dates import DateError, parse_date
from crawlers.parsers.encoding import decode
from crawlers.parsers.html import html_text
from tests.conftest import FIXTURES

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
URL = "https://example.test/page?id=1"
JSON_PARSERS = ["weibo.search", "weibo.extend", "weibo.show", "weibo.hotflow", "weibo.comments_show",
                "weibo.mymblog", "zhihu.search", "zhihu.answers", "heimao.list", "bilibili.nav", "bilibili.search",
                "bilibili.comments", "tieba.replies"]
HTML_PARSERS = ["weibo.wap", "weibo.web2017", "zhihu.legacy", "zhidao.search", "zhidao.question", "heimao.complaint",
                "tieba.search", "tieba.forum", "tieba.thread", "tieba.comment"]


def mblog(text: str, **extra: object) -> dict:
    return {"card_type": 9, "mblog": {"id": "5000000000000001", "created_at": "Sat Nov 21 10:00:00 +0800 2026",
                                      "text": text, "user": {"id": 1, "screen_name": "u"}, **extra}}


def search_body(*cards: dict) -> bytes:
    return json.dumps({"ok": 1, "data": {"cardlistInfo": {}, "cards": list(cards)}}).encode()


@pytest.mark.parametrize("key", JSON_PARSERS)
def test_truncated_json_is_a_parse_error_naming_the_url(key: str) -> None:
    with pytest.raises(ParseError, match="truncated JSON") as info:
        PARSERS[key](b'{"ok": 1, "data": {"cards": [', URL, now=NOW)
    assert URL in str(info.value) and not isinstance(info.value, Blocked)


@pytest.mark.parametrize("key", JSON_PARSERS)
def test_html_instead_of_json(key: str) -> None:
    with pytest.raises(ParseError, match="HTML instead of"):
        PARSERS[key](b"<html><body>502 Bad Gateway</body></html>", URL, now=NOW)


@pytest.mark.parametrize("key", ["weibo.search", "weibo.show", "weibo.hotflow", "weibo.mymblog", "zhihu.search",
                                 "zhihu.answers", "heimao.list", "bilibili.nav", "bilibili.search", "bilibili.comments",
                                 "tieba.replies"])
def test_changed_layout_is_a_clear_parse_error(key: str) -> None:
    with pytest.raises(ParseError, match="changed layout") as info:
        PARSERS[key](b'{"ok": 1, "result": {"status": {"code": 0}}, "data": {"items": []}, "paging": {}}', URL, now=NOW)
    assert URL in str(info.value)


@pytest.mark.parametrize("key", HTML_PARSERS)
def test_unknown_html_layout_is_a_parse_error(key: str) -> None:
    with pytest.raises(ParseError) as info:
        PARSERS[key]("<html><head><title>新版页面</title></head><body><div class='new'>改版了</div></body></html>".encode(),
                     URL, now=NOW)
    assert not isinstance(info.value, Blocked)


def test_ok0_is_an_honest_end_not_an_error() -> None:
    for key in ("weibo.search", "weibo.hotflow", "weibo.comments_show", "weibo.extend", "weibo.show", "weibo.mymblog"):
        result = PARSERS[key](b'{"ok":0}', URL, now=NOW)
        assert result.posts == [] and result.cursor["end"] is True and result.cursor["reason"] == "ok=0"


@pytest.mark.parametrize(("key", "body"), [
    ("weibo.search", '{"ok":-100,"url":"https://passport.weibo.cn/signin/welcome?entry=mweibo"}'),
    ("weibo.hotflow", '{"ok":0,"msg":"请求过于频繁，歇歇吧"}'),
    ("zhihu.search", '{"error":{"code":40362,"message":"您当前请求存在异常，暂时限制本次访问。"}}'),
    ("zhihu.answers", '{"error":{"code":100,"message":"请求需要验证"}}'),
    ("heimao.list", '{"result":{"status":{"code":-1,"msg":"签名错误"}}}'),
    ("zhidao.question", "<html><title>百度安全验证</title><body>请完成下方验证</body></html>"),
    ("weibo.wap", "<html><title>新浪通行证</title><body>请先登录 passport.weibo.cn</body></html>"),
    ("bilibili.search", '{"code":-352,"message":"-352","ttl":1,"data":{"v_voucher":"voucher_8d3e2f"}}'),
    ("bilibili.search", '{"code":0,"message":"0","ttl":1,"data":{"v_voucher":"voucher_8d3e2f"}}'),
    ("bilibili.comments", '{"code":-412,"message":"请求被拦截","ttl":1,"data":null}'),
    ("bilibili.comments", '{"code":-403,"message":"访问权限不足","ttl":1}'),
    ("bilibili.comments", '{"code":-799,"message":"请求过于频繁，请稍后再试","ttl":1}'),
    ("bilibili.nav", '{"code":-412,"message":"请求被拦截","ttl":1}'),
    ("bilibili.search", "<html><body><h1>412</h1>由于触发哔哩哔哩安全风控策略，该次访问请求被拒绝。</body></html>"),
])
def test_block_pages_raise_blocked(key: str, body: str) -> None:
    with pytest.raises(Blocked):
        PARSERS[key](body.encode(), URL, now=NOW)


def test_gbk_bytes_decode() -> None:
    assert decode("中国电信宽带".encode("gbk")) == "中国电信宽带"
    assert decode("中国电信宽带".encode()) == "中国电信宽带"
    assert decode(b"\xef\xbb\xbf{}") == "{}"


def test_100kb_post_is_kept_whole() -> None:
    long_text = "电信宽带断网" * 20_000  # 120k characters, ~360 KB of UTF-8
    result = PARSERS["weibo.search"](search_body(mblog(long_text)), URL, now=NOW)
    assert result.posts[0].text == long_text


def test_html_and_script_in_a_post_stay_text() -> None:
    hostile = ('<script>alert("x")</script><style>p{}</style>客服态度差<img alt="[怒]" src="x">'
               '<a href="/n/中国电信">@中国电信</a> &lt;b&gt;不是标签&lt;/b&gt;<iframe src="//evil"></iframe>')
    [post] = PARSERS["weibo.search"](search_body(mblog(hostile)), URL, now=NOW).posts
    assert post.text == "客服态度差[怒]@中国电信 <b>不是标签</b>"


def test_items_that_fail_are_rejected_and_counted() -> None:
    bad_date = mblog("日期坏了", created_at="上古时代")
    no_text = mblog("")
    no_text["mblog"]["id"] = "5000000000000002"
    result = PARSERS["weibo.search"](search_body(mblog("好的"), bad_date, no_text, {"card_type": 9}), URL, now=NOW)
    assert [p.text for p in result.posts] == ["好的"]
    reasons = [r.reason for r in result.rejected]
    assert len(reasons) == 3 and all(r.stage == "parse" and r.url == URL for r in result.rejected)
    assert any("上古时代" in r for r in reasons) and any("no text" in r for r in reasons)


@pytest.mark.parametrize(("value", "expected"), [
    (12, 12), ("12", 12), ("100万+", 1_000_000), ("1.2万", 12_000), ("3亿", 300_000_000), ("转发 12", 12),
    ("评论[393530]", 393530), ("1,234", 1234), ("转发", 0), (None, 0), ("", 0), (-3, 0), ("10w+", 100_000),
])
def test_counts(value: object, expected: int) -> None:
    assert parse_count(value) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Sat Nov 21 10:00:00 +0800 2026", datetime(2026, 11, 21, 2, 0, tzinfo=UTC)),
    ("刚刚", NOW),
    ("5分钟前", datetime(2026, 11, 24, 1, 55, tzinfo=UTC)),
    ("3小时前", datetime(2026, 11, 23, 23, 0, tzinfo=UTC)),
    ("今天 10:00", datetime(2026, 11, 24, 2, 0, tzinfo=UTC)),
    ("昨天 10:00", datetime(2026, 11, 23, 2, 0, tzinfo=UTC)),
    ("06-14", datetime(2026, 6, 13, 16, 0, tzinfo=UTC)),
    ("12-31", datetime(2025, 12, 30, 16, 0, tzinfo=UTC)),  # a yearless date after `now` is last year's
    ("2026-06-14", datetime(2026, 6, 13, 16, 0, tzinfo=UTC)),
    ("2013-05-06 12:34", datetime(2013, 5, 6, 4, 34, tzinfo=UTC)),
    ("06月17日 18:12", datetime(2026, 6, 17, 10, 12, tzinfo=UTC)),
    ("2026年11月20日 14:30", datetime(2026, 11, 20, 6, 30, tzinfo=UTC)),
    (1504327932, datetime(2017, 9, 2, 4, 52, 12, tzinfo=UTC)),
    ("1494468860000", datetime(2017, 5, 11, 2, 14, 20, tzinfo=UTC)),
    ("2015-09-06T20:03:31+08:00", datetime(2015, 9, 6, 12, 3, 31, tzinfo=UTC)),
])
def test_dates(text: object, expected: datetime) -> None:
    assert parse_date(text, NOW) == expected


@pytest.mark.parametrize("text", ["上古时代", "", "2026-13-45", None])
def test_bad_dates_raise(text: object) -> None:
    with pytest.raises(DateError):
        parse_date(text, NOW)


def test_full_text_link_is_flagged_and_removed() -> None:
    assert html_text('服务太差了 ...<a href="/status/1">全文</a>') == ("服务太差了", True)
    assert html_text("没有全文链接<br/>第二行") == ("没有全文链接\n第二行", False)


@pytest.mark.parametrize(("key", "fixture", "url"), [
    ("zhidao.question", "zhidao/question_today_gbk.html", "https://zhidao.baidu.com/question/2260123456789012345.html"),
    ("heimao.complaint", "heimao/complaint_page_today.html", "https://tousu.sina.com.cn/complaint/view/17391234501/"),
    ("tieba.thread", "tieba/thread_page_today.html", "https://tieba.baidu.com/p/9288123456"),
    ("tieba.search", "tieba/search_res_today_gbk.html", "https://tieba.baidu.com/f/search/res?qw=x&pn=1"),
])
def test_html_cut_in_half_is_a_parse_error_not_a_short_page(key: str, fixture: str, url: str) -> None:
    body = (FIXTURES / fixture).read_bytes()
    assert PARSERS[key](body, url, now=NOW).posts
    for cut in (len(body) // 2, len(body) // 2 + 1, len(body) - 10):  # GBK bytes may be cut inside a character
        with pytest.raises(ParseError, match="truncated HTML"):
            PARSERS[key](body[:cut], url, now=NOW)


def test_gbk_cut_inside_its_last_character_still_decodes_as_gbk() -> None:
    body = "中国联通宽带".encode("gbk")
    assert decode(body[:-1]) == "中国联通宽\ufffd"
    assert decode("中国联通宽带".encode()[:-1]) == "中国联通宽\ufffd"


def test_junk_paging_parameters_fall_back_to_the_first_page() -> None:
    result = PARSERS["weibo.search"](search_body(mblog("好的")), "https://m.weibo.cn/api/container/getIndex?page=abc",
                                     now=NOW)
    assert result.cursor["page"] == 1


def _mutate(obj: object, rng: random.Random) -> object:
    """Replace some fields, at any depth, with a value of the wrong type."""
    junk = [None, 0, "", [], {}, "x", -1, True, 1.5, "100万+", {"a": 1}, [1, 2]]
    if isinstance(obj, dict):
        return {k: (rng.choice(junk) if rng.random() < 0.1 else _mutate(v, rng)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_mutate(v, rng) for v in obj]
    return obj


@pytest.mark.parametrize("expected_path", sorted(FIXTURES.glob("*/*.json.expected.json")), ids=lambda p: p.name)
def test_fields_of_the_wrong_type_give_a_result_or_a_parse_error_never_a_crash(expected_path: Path) -> None:
    spec = json.loads(expected_path.read_text(encoding="utf-8"))
    body = expected_path.with_name(expected_path.name.removesuffix(".expected.json")).read_bytes()
    data = json.loads(body)
    rng = random.Random(expected_path.name)
    for _ in range(40):
        try:
            result = PARSERS[spec["parser"]](json.dumps(_mutate(data, rng)).encode(), spec["url"], now=NOW)
        except ParseError:
            continue
        assert all(p.text and p.post_id and p.published_at.tzinfo for p in result.posts)


@pytest.mark.parametrize(("text", "expected"), [
    ("11月20日 14:30", datetime(2026, 11, 20, 6, 30, tzinfo=UTC)),  # heimao list, this year
    ("前天 08:00", datetime(2026, 11, 22, 0, 0, tzinfo=UTC)),
    ("2天前", datetime(2026, 11, 22, 2, 0, tzinfo=UTC)),
    ("30秒前", datetime(2026, 11, 24, 1, 59, 30, tzinfo=UTC)),
    ("2026/11/20 14:30:00", datetime(2026, 11, 20, 6, 30, tzinfo=UTC)),
    ("2026-11-20T06:30:00Z", datetime(2026, 11, 20, 6, 30, tzinfo=UTC)),
    ("1795156200", datetime(2026, 11, 20, 6, 30, tzinfo=UTC)),
])
def test_more_date_forms(text: str, expected: datetime) -> None:
    assert parse_date(text, NOW) == expected


def test_query_words_decode_by_their_bytes_and_other_parameters_stay_byte_for_byte() -> None:
    from crawlers.parsers.common import query, with_query

    gbk = "https://zhidao.baidu.com/search?word=%D2%C6%B6%AF%BF%ED%B4%F8&ie=gbk&pn=0"
    assert query(gbk)["word"] == "移动宽带"
    assert with_query(gbk, pn=10) == "https://zhidao.baidu.com/search?word=%D2%C6%B6%AF%BF%ED%B4%F8&ie=gbk&pn=10"
    assert query("https://www.zhihu.com/api/v4/search_v3?q=中国电信&offset=0")["q"] == "中国电信"
    assert query("https://m.weibo.cn/api/container/getIndex?containerid=100103type%3D61%26q%3D%E7%94%B5%E4%BF%A1")[
        "containerid"] == "100103type=61&q=电信"


def test_jsonp_wrapped_list_api() -> None:
    body = (FIXTURES / "heimao" / "list_api_today.json").read_bytes()
    url = "https://tousu.sina.com.cn/api/index/s?callback=jQuery1124&keywords=中国电信&page=1"
    plain = PARSERS["heimao.list"](body, url, now=NOW)
    for wrapped in (b"jQuery1124(" + body + b");", b"/**/jQuery1124(" + body + b")",
                    b"try{jQuery1124(" + body + b");}catch(e){};"):
        assert PARSERS["heimao.list"](wrapped, url, now=NOW).posts == plain.posts
    with pytest.raises(ParseError, match="truncated JSON"):
        PARSERS["heimao.list"](b"jQuery1124(" + body[:100], url, now=NOW)
