"""Guess which parser reads a page from its URL and bytes (for `yuqing parse` without --platform)."""

from __future__ import annotations

import re

from .base import ParseError
from .encoding import decode

_URL_RULES: tuple[tuple[str, str], ...] = (
    (r"weibo\.com/ajax/side/hotSearch", "hotlist.weibo"),
    (r"top\.baidu\.com/(?:api/)?board", "hotlist.baidu"),
    (r"zhihu\.com/api/v3/feed/topstory/hot-list", "hotlist.zhihu"),
    (r"douyin\.com/aweme/v1/web/hot/search/list", "hotlist.douyin"),
    (r"tieba\.baidu\.com/f/search/res", "tieba.search"),
    (r"tieba\.baidu\.com/p/totalComment", "tieba.replies"),
    (r"tieba\.baidu\.com/p/comment", "tieba.comment"),
    (r"tieba\.baidu\.com/p/\d+", "tieba.thread"),
    (r"tieba\.baidu\.com/f\?", "tieba.forum"),
    (r"api\.bilibili\.com/x/web-interface/nav", "bilibili.nav"),
    (r"api\.bilibili\.com/x/web-interface/(?:wbi/)?search/", "bilibili.search"),
    (r"api\.bilibili\.com/x/v2/reply", "bilibili.comments"),
    (r"m\.weibo\.cn/statuses/extend", "weibo.extend"),
    (r"m\.weibo\.cn/(?:api/)?statuses/show", "weibo.show"),
    (r"m\.weibo\.cn/comments/hotflow", "weibo.hotflow"),
    (r"m\.weibo\.cn/api/comments/show", "weibo.comments_show"),
    (r"m\.weibo\.cn/api/container/getIndex", "weibo.search"),
    (r"weibo\.com/ajax/statuses/mymblog", "weibo.mymblog"),
    (r"weibo\.com/aj/v6/|s\.weibo\.com/", "weibo.web2017"),
    (r"//weibo\.cn/", "weibo.wap"),
    (r"zhihu\.com/api/v4/search_v3", "zhihu.search"),
    (r"zhihu\.com/api/v4/(?:questions/\d+/(?:answers|feeds)|members/[^/]+/answers)", "zhihu.answers"),
    (r"zhihu\.com/api/v4/articles/\d+", "zhihu.article"),
    (r"zhuanlan\.zhihu\.com/api/|zhihu\.com/(?:question/\d+|node/)", "zhihu.legacy"),
    (r"zhihu\.com/column/|zhihu\.com/(?:topic|search)\b", "zhihu.page"),
    (r"zhidao\.baidu\.com/search", "zhidao.search"),
    (r"zhidao\.baidu\.com/question/", "zhidao.question"),
    (r"tousu\.sina\.com\.cn/api/", "heimao.list"),
    (r"tousu\.sina\.com\.cn/complaint/", "heimao.complaint"),
)

# (pattern in the first 200 KB of the body, parser key); first match wins, most specific first.
_BODY_RULES: tuple[tuple[str, str], ...] = (
    (r'class="ContentItem [^"]*" data-zop=', "zhihu.page"),  # rendered HTML embeds API JSON: check it first
    (r'class="s_post"|class="s_post_list"', "tieba.search"),
    (r'j_thread_list|id="thread_list"', "tieba.forum"),
    (r'class="l_post |j_l_post|id="j_p_postlist"', "tieba.thread"),
    (r'lzl_single_post', "tieba.comment"),
    (r'"comment_list"\s*:\s*[\[{]', "tieba.replies"),
    (r'"wbi_img"\s*:', "bilibili.nav"),
    (r'"rpid"\s*:', "bilibili.comments"),
    (r'"numPages"\s*:|"arcurl"\s*:', "bilibili.search"),
    (r'"max_id_type"', "weibo.hotflow"),
    (r'"hot_data"|"hot_total_number"', "weibo.comments_show"),
    (r'"cardlistInfo"|"card_group"|"card_type"|"userInfo"\s*:', "weibo.search"),
    (r'"text_raw"|"mblogid"', "weibo.mymblog"),
    (r'"created_at"\s*:\s*"\w{3} \w{3} \d', "weibo.show"),
    (r'"longTextContent"', "weibo.extend"),
    (r'"code"\s*:\s*"100000"|feed_list_item', "weibo.web2017"),
    (r'<div class="c" id="M_|weibo\.cn/', "weibo.wap"),
    (r'"search_result"|"highlight"\s*:', "zhihu.search"),
    (r'"voteup_count"|"paging"\s*:', "zhihu.answers"),
    (r'zm-item-answer|"postsCount"|"publishedTime"', "zhihu.legacy"),
    (r'class="ask-title|id="wgt-ask"|知道宝贝找不到问题了', "zhidao.question"),
    (r'class="result-item"|class="list-inner"|<dl class="dl"|zhidao\.baidu\.com/search', "zhidao.search"),
    (r'"lists"\s*:|"page_amount"', "heimao.list"),
    (r'tousu\.sina\.com\.cn/complaint|黑猫投诉|投诉编号', "heimao.complaint"),
    (r'"ok"\s*:\s*-?\d', "weibo.search"),
)


# Hot lists, checked before the platforms yuqing does not crawl (Douyin's hot list is a source, its posts are not).
_HOT_BODY_RULES: tuple[tuple[str, str], ...] = (
    (r'"realtime"\s*:\s*\[|"hotgov"\s*:', "hotlist.weibo"),
    (r'"hotScore"\s*:|<!--s-data:', "hotlist.baidu"),
    (r'"hot_list_feed"|"detail_text"\s*:|"metrics_area"\s*:', "hotlist.zhihu"),
    (r'"word_list"\s*:\s*\[', "hotlist.douyin"),
)

# Platforms whose responses are recognised but that yuqing does not crawl: a clear error, never a wrong parser.
_NOT_SOURCES: tuple[tuple[str, str], ...] = (
    (r'"router"\s*:\s*"/api/v1/douyin/|"aweme_id"\s*:|douyin\.com/aweme/', "抖音 douyin"),
    (r'"router"\s*:\s*"/api/v1/xiaohongshu/|"xsec_token"\s*:|"note_card"\s*:|xiaohongshu\.com/', "小红书 xiaohongshu"),
)


class NotASource(ParseError):
    """A page of a platform yuqing recognises but does not crawl (yet)."""


def detect(body: bytes, url: str = "") -> str:
    """The registry key of the parser for this page; ParseError when nothing matches."""
    for pattern, key in _URL_RULES:
        if url and re.search(pattern, url):
            return key
    head = decode(body[:200_000])
    for pattern, key in _HOT_BODY_RULES:
        if re.search(pattern, head):
            return key
    for pattern, name in _NOT_SOURCES:
        if re.search(pattern, url) or re.search(pattern, head[:20_000]):
            raise NotASource(f"{url or 'page'}: this is a {name} response; {name.split()[1]} is not a yuqing "
                             "source, so there is no parser for it")
    for pattern, key in _BODY_RULES:
        if re.search(pattern, head):
            return key
    raise ParseError(f"{url or 'page'}: cannot tell which platform or page kind this is; pass --platform/--kind")
