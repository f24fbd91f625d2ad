"""Weibo parsers on the recorded samples (../shared/data) with spot-checked values."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from crawlers.parsers import PARSERS, Blocked, ParseError
from tests.conftest import FIXTURES, shared_path

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
M = ("samples", "weibo", "m_weibo_cn")


def parse(key: str, body: bytes, url: str, **meta: object):
    return PARSERS[key](body, url, now=NOW, meta=meta or None)


def assert_sane(result) -> None:
    for post in result.posts:
        assert post.text.strip(), post
        assert post.published_at.tzinfo is not None
        assert post.post_id and post.platform == "weibo"


def test_timeline_container_sample() -> None:
    body = shared_path(*M, "nonebot-bison_weibo_ak_list_0.json").read_bytes()
    result = parse("weibo.search", body, "https://m.weibo.cn/api/container/getIndex?containerid=1076036279793937")
    assert_sane(result)
    first = result.posts[0]
    assert first.post_id == "4645748019299849"
    assert first.published_at == datetime(2021, 6, 8, 1, 35, 4, tzinfo=UTC)
    assert (first.reposts, first.comments, first.likes) == (9079, 2126, 37053)
    assert first.author_name == "明日方舟Arknights" and first.author_followers == 1363591 and first.author_verified
    assert first.text.startswith("#明日方舟# #音律联觉#\n2021明日方舟音律联觉")
    assert "全文" not in first.text and "<" not in first.text
    extend = [r for r in result.requests if r.parser == "weibo.extend"]
    assert extend[0].url == "https://m.weibo.cn/statuses/extend?id=4645748019299849"
    assert extend[0].meta["post"] == first
    assert result.cursor["since_id"] == 4646131823281332
    assert any(r.parser == "weibo.search" and "since_id=4646131823281332" in r.url for r in result.requests)


def test_extend_with_meta_returns_the_full_post() -> None:
    card = parse("weibo.search", shared_path(*M, "nonebot-bison_weibo_ak_list_0.json").read_bytes(),
                 "https://m.weibo.cn/api/container/getIndex?containerid=1076036279793937")
    request = next(r for r in card.requests if r.parser == "weibo.extend")
    body = shared_path(*M, "nonebot-bison_weibo_detail_4645748019299849_statuses_extend.json").read_bytes()
    result = PARSERS["weibo.extend"](body, request.url, now=NOW, meta=request.meta)
    [post] = result.posts
    truncated = request.meta["post"]
    assert post.post_id == truncated.post_id and post.published_at == truncated.published_at
    assert len(post.text) > len(truncated.text) and post.text.startswith(truncated.text[:40])
    assert "CanNot Wait For" in post.text and "truncated" not in post.extra
    assert post.likes == 39034


def test_extend_without_meta_marks_the_date_estimated() -> None:
    body = shared_path(*M, "gottaegbert_statuses_extend.json").read_bytes()
    [post] = parse("weibo.extend", body, "https://m.weibo.cn/statuses/extend?id=4383487819465288").posts
    assert post.post_id == "4383487819465288" and post.extra["date_estimated"] is True
    with pytest.raises(ParseError, match="post id"):
        parse("weibo.extend", body, "https://m.weibo.cn/statuses/extend")


def test_err_profile_is_an_honest_end() -> None:
    body = shared_path(*M, "nonebot-bison_weibo_err_profile.json").read_bytes()
    result = parse("weibo.search", body, "https://m.weibo.cn/api/container/getIndex?type=uid&value=1")
    assert result.posts == [] and result.cursor["end"] is True and result.cursor["reason"] == "这里还没有内容"


@pytest.mark.parametrize("name", ["nonebot-bison_weibo_ak_profile.json", "gottaegbert_getIndex_type-uid_profile.json"])
def test_profile_points_at_the_timeline(name: str) -> None:
    result = parse("weibo.search", shared_path(*M, name).read_bytes(),
                   "https://m.weibo.cn/api/container/getIndex?type=uid&value=1")
    assert result.posts == [] and result.page_kind == "weibo.profile"
    assert "containerid=107603" in result.requests[0].url


def test_show_repost_points_at_root() -> None:
    body = shared_path(*M, "gottaegbert_statuses_show.json").read_bytes()
    result = parse("weibo.show", body, "https://m.weibo.cn/statuses/show?id=HyZVegYAP")
    assert_sane(result)
    repost = next(p for p in result.posts if p.kind == "repost")
    assert repost.post_id == "4383411844046171" and repost.parent_id == "4383404751066167"
    assert repost.text == "转发微博" and repost.extra["bid"] == "HyZVegYAP"
    root = next(p for p in result.posts if p.post_id == repost.parent_id)
    assert root.author_name == "upupming"
    # the root is a long post whose full text statuses/show embeds: no statuses/extend needed
    assert "truncated" not in root.extra and result.requests == [] and not root.text.endswith("...")


def test_hotflow_comments() -> None:
    body = shared_path(*M, "gottaegbert_comments_hotflow.json").read_bytes()
    result = parse("weibo.hotflow", body, "https://m.weibo.cn/comments/hotflow?id=4383183876389650&mid=4383183876389650")
    assert_sane(result)
    assert all(p.kind == "comment" and p.parent_id == "4383183876389650" for p in result.posts)
    first = result.posts[0]
    assert first.post_id == "4383183984547669" and first.text == "宝宝陪你一起搬陪你一起吃[羞嗒嗒]"
    assert first.published_at == datetime(2019, 6, 14, 12, 39, 20, tzinfo=UTC)
    assert result.cursor["max_id"] == 314345666829623 and not result.cursor["end"]
    assert "max_id=314345666829623" in result.requests[0].url
    assert len({p.post_id for p in result.posts}) == len(result.posts)


def test_comments_show_relative_dates() -> None:
    body = shared_path(*M, "gottaegbert_api_comments_show.json").read_bytes()
    result = parse("weibo.comments_show", body, "https://m.weibo.cn/api/comments/show?id=4383183876389650&page=1")
    assert_sane(result)
    just_now = next(p for p in result.posts if p.post_id == "4383932071637949")
    assert just_now.published_at == NOW  # "刚刚"
    assert result.cursor == {"page": 1, "next_page": 2, "max": 12502}


def test_today_search_fixture_long_text_and_region() -> None:
    body = (FIXTURES / "weibo" / "m_search_type1_today.json").read_bytes()
    result = parse("weibo.search", body, "https://m.weibo.cn/api/container/getIndex?containerid=100103type%3D1%26q%3Dx")
    long_post = result.posts[0]
    assert long_post.ip_region == "广东" and long_post.extra["truncated"] is True
    assert result.requests[0].parser == "weibo.extend" and result.requests[0].meta["post"] is long_post
    assert [r.reason for r in result.rejected] == ["mblog without id"]
    full = dataclasses.replace(long_post, text="x")
    assert full.post_id == long_post.post_id


@pytest.mark.parametrize("body", [
    b'{"ok":-100,"url":"https://passport.weibo.cn/signin/welcome"}',
    '{"ok":0,"msg":"请先登录"}'.encode(),
    '<html><title>验证码</title></html>'.encode(),
])
def test_block_pages_raise_blocked(body: bytes) -> None:
    with pytest.raises(Blocked):
        parse("weibo.search", body, "https://m.weibo.cn/api/container/getIndex?containerid=1")


W = ("samples", "weibo")


def test_wap_profile_posts_use_numeric_mid() -> None:
    body = shared_path(*W, "weibo_cn_wap_html", "dataabc_weibo_cn_profile.html").read_bytes()
    result = parse("weibo.wap", body, "https://weibo.cn/1669879400/profile")
    assert_sane(result)
    assert len(result.posts) == 10
    first = result.posts[0]
    assert first.extra["bid"] == "J74OAhxtL" and first.post_id == "4516868084180273"
    assert (first.likes, first.reposts, first.comments) == (523801, 1000000, 393530)
    assert first.author_id == "1669879400" and first.author_name == "Dear-迪丽热巴"
    assert all("赞[" not in p.text for p in result.posts)
    assert [r.url for r in result.requests] == ["https://weibo.cn/comment/J5cVGuUNq", "https://weibo.cn/1669879400?page=2"]
    truncated = [p for p in result.posts if p.extra.get("truncated")]
    assert [p.extra["bid"] for p in truncated] == ["J5cVGuUNq"]  # its 全文 is on the comment page


def test_wap_comment_page() -> None:
    body = shared_path(*W, "weibo_cn_wap_html", "dataabc_weibo_cn_comment_J5cVGuUNq.html").read_bytes()
    result = parse("weibo.wap", body, "https://weibo.cn/comment/J5cVGuUNq")
    assert_sane(result)
    root, *comments = result.posts
    assert root.kind == "repost" and root.text.startswith("在羌塘的美好回忆") and root.likes == 572950
    assert comments[0].post_id == "4512413737386822" and comments[0].author_name == "LUX力士"
    assert comments[0].published_at == datetime(2020, 6, 5, 3, 12, 14, tzinfo=UTC)
    assert all(c.kind == "comment" and c.parent_id == root.post_id for c in comments)


def test_wap_info_page_has_no_posts_and_says_so() -> None:
    body = shared_path(*W, "weibo_cn_wap_html", "dataabc_weibo_cn_info.html").read_bytes()
    result = parse("weibo.wap", body, "https://weibo.cn/1669879400/info")
    assert result.posts == [] and result.cursor["end"] is True


def test_web2017_search_html() -> None:
    body = shared_path(*W, "web_2017_weibo_com", "spiderclub_search.html").read_bytes()
    result = parse("weibo.web2017", body, "https://s.weibo.com/weibo/%E9%99%88&page=1")
    assert_sane(result)
    assert len(result.posts) == 20
    first = result.posts[0]
    assert first.post_id == "4106162368327071" and first.author_name == "明星娱乐小马甲"
    assert first.published_at == datetime(2017, 5, 11, 2, 14, 20, tzinfo=UTC)  # date="1494468860000"
    assert (first.reposts, first.likes) == (1, 2)
    assert first.text.startswith("陈羽凡公司发文\n一是为陈羽凡的行为道歉")


@pytest.mark.parametrize(("name", "kind", "count"), [
    ("spiderclub_comment_aj_v6_big.json", "comment", 19),
    ("spiderclub_repost_aj_v6.json", "repost", 20),
    ("spiderclub_comment_dragajax.json", "comment", 15),
])
def test_web2017_comment_and_repost_lists(name: str, kind: str, count: int) -> None:
    body = shared_path(*W, "web_2017_weibo_com", name).read_bytes()
    result = parse("weibo.web2017", body, "https://weibo.com/aj/v6/comment/big?ajwvr=6&id=4107066857409571")
    assert_sane(result)
    assert len(result.posts) == count and {p.kind for p in result.posts} == {kind}
    assert all(p.parent_id == "4107066857409571" for p in result.posts)
    assert result.requests, "the page says there is more"
    assert all("¡" not in p.text and "查看图片" not in p.text for p in result.posts)


def test_mymblog_region_and_text() -> None:
    body = shared_path(*W, "weibo_com_ajax", "Handoly_ajax_statuses_mymblog.json").read_bytes()
    result = parse("weibo.mymblog", body, "https://weibo.com/ajax/statuses/mymblog?uid=6856286875&page=1")
    assert_sane(result)
    first = result.posts[0]
    assert first.post_id == "4773174363555678" and first.ip_region == "重庆" and first.text == "网页链接"
    assert all("\u200b" not in p.text for p in result.posts)
    assert result.cursor["next_page"] == 2


def test_today_long_post_search_then_extend_keeps_date_region_and_gets_full_text() -> None:
    search = parse("weibo.search", (FIXTURES / "weibo" / "m_search_type1_today.json").read_bytes(),
                   "https://m.weibo.cn/api/container/getIndex?containerid=100103type%3D1%26q%3Dx")
    request = next(r for r in search.requests if r.parser == "weibo.extend")
    [full] = PARSERS["weibo.extend"]((FIXTURES / "weibo" / "m_extend_today.json").read_bytes(), request.url, now=NOW,
                                     meta=request.meta).posts
    truncated = request.meta["post"]
    assert full.published_at == truncated.published_at == datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    assert full.ip_region == "广东" and full.author_name == "广州小陈不想加班" and full.kind == "post"
    assert full.text.startswith(truncated.text) and full.text.endswith("工单号 JT20261121001。")
    assert (full.reposts, full.comments, full.likes) == (15, 13000, 1000000)
    assert full.extra == {"bid": "P8kQ2aBcD", "source": "iPhone 15 Pro"}


def test_bid_to_mid_matches_the_api_ids() -> None:
    from crawlers.parsers.weibo_ids import bid_to_mid

    assert bid_to_mid("HyZVegYAP") == "4383411844046171"  # statuses/show sample: bid and id of one post
    with pytest.raises(ValueError):
        bid_to_mid("not-a-bid!")
