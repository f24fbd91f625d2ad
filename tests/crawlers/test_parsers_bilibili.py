"""Bilibili parsers beyond the golden fixtures: honest ends, unknown codes, paging shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from crawlers.parsers import PARSERS, Blocked, ParseError
from tests.conftest import FIXTURES

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
COMMENTS = "https://api.bilibili.com/x/v2/reply/wbi/main?oid=113563219871234&type=1&mode=2&w_rid=ab&wts=1"


@pytest.mark.parametrize(("code", "says"), [(12002, "评论区已关闭"), (-404, "啥都木有"), (62002, "稿件不可见")])
def test_closed_or_gone_is_an_honest_end(code: int, says: str) -> None:
    body = json.dumps({"code": code, "message": says, "ttl": 1, "data": None}).encode()
    result = PARSERS["bilibili.comments"](body, COMMENTS, now=NOW)
    assert result.posts == [] and result.cursor["end"] is True and says in result.cursor["reason"]


def test_an_unknown_code_is_a_loud_parse_error_not_blocked() -> None:
    with pytest.raises(ParseError, match="code=-400") as info:
        PARSERS["bilibili.search"]('{"code":-400,"message":"请求错误","ttl":1}'.encode(), COMMENTS, now=NOW)
    assert not isinstance(info.value, Blocked)


def test_the_next_comment_page_is_unsigned_and_carries_the_offset() -> None:
    body = (FIXTURES / "bilibili" / "reply_wbi_main_today.json").read_bytes()
    [nxt] = PARSERS["bilibili.comments"](body, COMMENTS, now=NOW).requests
    assert "w_rid=" not in nxt.url and "wts=" not in nxt.url  # signed afresh when it is sent
    from urllib.parse import parse_qs, urlsplit

    offset = json.loads(parse_qs(urlsplit(nxt.url).query)["pagination_str"][0])["offset"]
    assert json.loads(offset)["Data"]["cursor"] == 257891234570


def test_last_comment_page_and_an_empty_section_end_the_chain() -> None:
    data = json.loads((FIXTURES / "bilibili" / "reply_wbi_main_today.json").read_bytes())
    data["data"]["cursor"]["is_end"] = True
    result = PARSERS["bilibili.comments"](json.dumps(data).encode(), COMMENTS, now=NOW)
    assert result.requests == [] and result.cursor["is_end"] is True and result.posts
    data["data"].update(replies=None, top_replies=None)
    data["data"]["cursor"]["is_end"] = False
    empty = PARSERS["bilibili.comments"](json.dumps(data).encode(), COMMENTS, now=NOW)
    assert empty.posts == [] and empty.requests == [] and empty.cursor["end"] is True


def test_search_without_hits_ends_and_old_numeric_cursor_pages() -> None:
    url = "https://api.bilibili.com/x/web-interface/wbi/search/type?search_type=video&keyword=x&page=1"
    none = b'{"code":0,"message":"0","ttl":1,"data":{"page":1,"pagesize":20,"numResults":0,"numPages":0}}'
    assert PARSERS["bilibili.search"](none, url, now=NOW).cursor["end"] is True
    old = {"code": 0, "data": {"cursor": {"is_end": False, "next": 3}, "replies": [
        {"rpid": 9, "oid": 7, "ctime": 1795485100, "content": {"message": "电信宽带又断了"}, "member": {"uname": "u"}}]}}
    result = PARSERS["bilibili.comments"](json.dumps(old).encode(), "https://api.bilibili.com/x/v2/reply/main?oid=7",
                                          now=NOW)
    assert [p.parent_id for p in result.posts] == ["av7"] and result.requests[0].url.endswith("next=3")
