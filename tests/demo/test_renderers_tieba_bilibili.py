"""Demo renderers for tieba and bilibili: render -> the real parsers -> the scenario's posts, pages and signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from crawlers.bilibili_sign import sign_url
from crawlers.parsers import PARSERS, Blocked
from demo.model import DemoPost
from demo.platforms import bilibili, tieba

NOW = datetime(2026, 11, 24, 2, 0, 30, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return NOW - timedelta(minutes=minutes)


def get(module, url: str, posts: list[DemoPost], **options):
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    response = module.handle(parts.path, query, posts, NOW, **options)
    assert response is not None, url
    assert response.status == 200, response.body[:200]
    return response


def parse(key: str, module, url: str, posts: list[DemoPost], **options):
    return PARSERS[key](get(module, url, posts, **options).body, url, now=NOW)


# --- tieba ---------------------------------------------------------------------------------------
TID = "9288000001"
TIEBA = [
    DemoPost(platform="tieba", post_id=TID, kind="post", title="中国电信郑州宽带断网了吗", text="金水区断网\n光猫红灯",
             at=at(50), author_id="7710001", author_name="金水区打工人", region="河南", extra={"bar": "郑州"}),
    *[DemoPost(platform="tieba", post_id=str(151390000100 + i), kind="comment", parent_id=TID, text=f"第{i + 2}楼：也断了",
               at=at(40 - i), author_id=f"77{i}", author_name=f"吧友{i}") for i in range(4)],
    *[DemoPost(platform="tieba", post_id=str(151390000200 + i), kind="comment", parent_id=TID, text=f"楼中楼{i}",
               at=at(30 - i), author_name=f"回复者{i}", extra={"reply_to": "151390000100"}) for i in range(3)],
    DemoPost(platform="tieba", post_id="9280000002", kind="post", title="中国移动套餐", text="移动套餐怎么改", at=at(300),
             author_name="网友", extra={"bar": "中国移动"}),
    DemoPost(platform="tieba", post_id="9280000009", kind="post", title="未来的帖子", text="电信", at=NOW + timedelta(hours=1),
             extra={"bar": "郑州"}),
]
SMALL = {"floors_per_page": 3, "replies_shown": 2}


def test_tieba_thread_pages_floors_and_floor_replies() -> None:
    url = f"https://tieba.baidu.com/p/{TID}"
    first = parse("tieba.thread", tieba, url, TIEBA, **SMALL)
    assert [(p.post_id, p.kind, p.extra["floor"]) for p in first.posts] == [
        (f"t{TID}", "post", 1), ("151390000100", "comment", 2), ("151390000101", "comment", 3)]
    thread_post = first.posts[0]
    assert thread_post.title == "中国电信郑州宽带断网了吗" and thread_post.text == "中国电信郑州宽带断网了吗\n金水区断网\n光猫红灯"
    assert thread_post.ip_region == "河南" and thread_post.published_at == at(50).replace(second=0)
    assert first.cursor["pages"] == 2 and first.cursor["replies"] == 4 and first.cursor["bar"] == "郑州"
    assert first.posts[1].comments == 3
    nxt, replies = first.requests
    assert nxt.url.endswith("?pn=2") and replies.parser == "tieba.replies"
    second = parse("tieba.thread", tieba, nxt.url, TIEBA, **SMALL)
    assert [p.extra["floor"] for p in second.posts] == [4, 5] and second.requests == []
    lzl = parse("tieba.replies", tieba, replies.url, TIEBA, **SMALL)
    assert [p.post_id for p in lzl.posts] == ["151390000200", "151390000201"]
    assert {p.parent_id for p in lzl.posts} == {f"t{TID}"} and lzl.posts[0].extra["floor_pid"] == "151390000100"
    [more] = lzl.requests
    rest = parse("tieba.comment", tieba, more.url, TIEBA, **SMALL)
    assert [p.post_id for p in rest.posts] == ["151390000202"] and rest.requests == []
    gone = parse("tieba.thread", tieba, "https://tieba.baidu.com/p/1", TIEBA)
    assert gone.cursor["end"] and gone.posts == []


def test_tieba_bar_list_and_search() -> None:
    url = "https://tieba.baidu.com/f?kw=%E9%83%91%E5%B7%9E&ie=utf-8&pn=0"
    bar = parse("tieba.forum", tieba, url, TIEBA)
    [stub] = bar.posts  # the future thread is not out yet
    assert stub.post_id == f"t{TID}" and stub.comments == 4 and stub.extra["bar"] == "郑州"
    assert [r.meta["replies"] for r in bar.requests if r.parser == "tieba.thread"] == [4]
    closed = parse("tieba.forum", tieba, "https://tieba.baidu.com/f?kw=nosuchbar", TIEBA)
    assert closed.cursor["end"]
    search_url = "https://tieba.baidu.com/f/search/res?ie=utf-8&qw=%E6%96%AD&rn=2&pn=1&sm=1"
    response = get(tieba, search_url, TIEBA)
    assert response.content_type == "text/html; charset=gbk"
    hits = PARSERS["tieba.search"](response.body, search_url, now=NOW)
    assert [p.post_id for p in hits.posts] == ["151390000103", "151390000102"]  # newest first, floors as replies
    assert hits.cursor["next_pn"] == 2


# --- bilibili ------------------------------------------------------------------------------------
AID = "113563000000001"
BILI = [
    DemoPost(platform="bilibili", post_id=AID, kind="post", title="实拍郑州电信宽带断网", text="中国电信客服打不通",
             at=at(60), author_id="3493", author_name="郑州生活圈", likes=3920, extra={"bvid": "BV1Zm4y1k7Qx", "tag": "宽带"}),
    *[DemoPost(platform="bilibili", post_id=str(257891000000 + i), kind="comment", parent_id=AID, text=f"第{i}条评论",
               at=at(50 - i), author_id=str(3400 + i), author_name=f"网友{i}", region="河南") for i in range(5)],
    *[DemoPost(platform="bilibili", post_id=str(257891000100 + i), kind="comment", parent_id=AID, text=f"楼中楼{i}",
               at=at(40 - i), author_name=f"回复{i}", extra={"root": "257891000000"}) for i in range(2)],
]


def signed(url: str) -> str:
    return sign_url(url, bilibili.IMG_KEY, bilibili.SUB_KEY, int(NOW.timestamp()))


def test_bilibili_nav_gives_the_keys_the_site_checks() -> None:
    nav = parse("bilibili.nav", bilibili, "https://api.bilibili.com/x/web-interface/nav", BILI)
    assert (nav.cursor["img_key"], nav.cursor["sub_key"]) == (bilibili.IMG_KEY, bilibili.SUB_KEY)
    url = "https://api.bilibili.com/x/web-interface/wbi/search/type?search_type=video&keyword=%E7%94%B5%E4%BF%A1&page=1"
    with pytest.raises(Blocked, match="v_voucher"):
        parse("bilibili.search", bilibili, url, BILI)
    with pytest.raises(Blocked):
        parse("bilibili.search", bilibili, signed(url).replace("page=1", "page=2"), BILI)  # tampered after signing
    [video] = parse("bilibili.search", bilibili, signed(url), BILI).posts
    assert video.post_id == f"av{AID}" and video.comments == 7 and video.url.endswith("BV1Zm4y1k7Qx")
    assert video.title == "实拍郑州电信宽带断网" and video.text == "实拍郑州电信宽带断网\n中国电信客服打不通"


def test_bilibili_comments_page_newest_first_with_sub_replies() -> None:
    url = signed(f"https://api.bilibili.com/x/v2/reply/wbi/main?oid={AID}&type=1&mode=2&"
                 "pagination_str=%7B%22offset%22%3A%22%22%7D&plat=1")
    options = {"comment_page_size": 3, "preview": 1}
    first = parse("bilibili.comments", bilibili, url, BILI, **options)
    roots = [p.post_id for p in first.posts if "root" not in p.extra]
    assert roots == ["257891000004", "257891000003", "257891000002"] and first.cursor["is_end"] is False
    [nxt] = first.requests
    second = parse("bilibili.comments", bilibili, signed(nxt.url), BILI, **options)
    assert [p.post_id for p in second.posts] == ["257891000001", "257891000000", "257891000100"]
    assert second.cursor["is_end"] is True and second.requests == []
    root = next(p for p in second.posts if p.post_id == "257891000000")
    assert root.comments == 2 and root.parent_id == f"av{AID}" and root.ip_region == "河南"
    sub = parse("bilibili.comments", bilibili, f"https://api.bilibili.com/x/v2/reply/reply?oid={AID}&type=1&"
                "root=257891000000&ps=20&pn=1", BILI)
    assert [p.post_id for p in sub.posts] == ["257891000100", "257891000101"]
    assert {p.extra["root"] for p in sub.posts} == {"257891000000"}
