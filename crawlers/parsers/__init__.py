"""The parser registry: spiders and `yuqing parse` look parsers up by key (e.g. "weibo.search").

Every parser is `parser(body, url, *, now, meta=None) -> ParseResult` and does no I/O.
- Ids: the platform's own id. Weibo posts use the numeric mid (weibo.cn bids are converted);
  Zhihu and Zhidao questions are `q<id>` and Zhihu articles `p<id>` (separate number sequences
  that overlap with answer ids); an answer's parent_id is its question's post_id. A Tieba thread is
  `t<tid>` (its first floor), other floors and floor replies keep their post id. A Bilibili video is
  `av<aid>`, its comments keep their rpid.
- Cursors: weibo search {page, next_page, oldest}, hotflow {max_id, end}, zhihu {next, is_end},
  zhidao {pn, next_pn}, heimao {page, next_page}, tieba search/forum {pn, next_pn}, tieba thread {thread_id,
  page, pages, replies}, bilibili search {page, next_page, pages}, bilibili comments {is_end, next_offset}
  or {page, next_page}; {end: True, reason} when the site says "no more".
- Errors: ParseError for anything unknown (truncated JSON or HTML, changed layout), Blocked for
  login/captcha/rate-limit bodies, items that fail go to `rejected`.
- Hot lists ("hotlist.<board>") hold no posts: their ParseResult.entries are HotEntry records in rank order.
"""

from __future__ import annotations

import functools
from typing import Any

from lxml.etree import LxmlError

from . import bilibili, hotlist, tieba, tieba_thread
from .base import Blocked, PageRequest, ParseError, Parser, ParseResult
from .common import UNFORESEEN
from .heimao import parse_complaint as heimao_complaint
from .heimao import parse_list as heimao_list
from .weibo_mobile import parse_comments_show, parse_extend, parse_hotflow, parse_search, parse_show
from .weibo_wap import parse_wap
from .weibo_web import parse_mymblog, parse_web2017
from .zhidao import parse_question as zhidao_question
from .zhidao import parse_search as zhidao_search
from .zhihu import parse_answers as zhihu_answers
from .zhihu import parse_search as zhihu_search
from .zhihu_legacy import parse_legacy as zhihu_legacy
from .zhihu_page import parse_page as zhihu_page

_PARSERS: dict[str, Parser] = {
    "weibo.search": parse_search,
    "weibo.extend": parse_extend,
    "weibo.show": parse_show,
    "weibo.hotflow": parse_hotflow,
    "weibo.comments_show": parse_comments_show,
    "weibo.mymblog": parse_mymblog,
    "weibo.wap": parse_wap,
    "weibo.web2017": parse_web2017,
    "zhihu.search": zhihu_search,
    "zhihu.answers": zhihu_answers,
    "zhihu.article": zhihu_answers,  # api/v4/articles/{id}: one bare article object, read by the same parser
    "zhihu.legacy": zhihu_legacy,
    "zhihu.page": zhihu_page,  # rendered column/list HTML (ContentItem + data-zop)
    "zhidao.search": zhidao_search,
    "zhidao.question": zhidao_question,
    "heimao.list": heimao_list,
    "heimao.complaint": heimao_complaint,
    "tieba.search": tieba.parse_search,
    "tieba.forum": tieba.parse_forum,  # a bar's thread list (/f?kw=)
    "tieba.thread": tieba_thread.parse_thread,
    "tieba.replies": tieba_thread.parse_replies,  # p/totalComment: the floor replies (楼中楼) of a thread page
    "tieba.comment": tieba_thread.parse_comment,  # p/comment: further floor replies of one floor
    "bilibili.nav": bilibili.parse_nav,
    "bilibili.search": bilibili.parse_search,
    "bilibili.comments": bilibili.parse_comments,  # x/v2/reply/wbi/main, x/v2/reply and x/v2/reply/reply
    # hot lists: no posts, ParseResult.entries (HotEntry in rank order)
    "hotlist.weibo": hotlist.parse_weibo,
    "hotlist.baidu": hotlist.parse_baidu,
    "hotlist.zhihu": hotlist.parse_zhihu,
    "hotlist.douyin": hotlist.parse_douyin,
}

# What a parser may raise while reading a page whose layout changed in a way it did not foresee (a list where an
# object was, an empty document, a missing key); turned into a ParseError so the page is counted and logged as a
# parse failure with the parser's name, never an exception that stops the spider.
_UNFORESEEN = (*UNFORESEEN, LxmlError)


def _guarded(key: str, parser: Parser) -> Parser:
    @functools.wraps(parser)
    def parse(body: bytes, url: str, *args: Any, **kwargs: Any) -> ParseResult:
        try:
            return parser(body, url, *args, **kwargs)
        except ParseError:
            raise
        except _UNFORESEEN as exc:
            what = "nested too deeply" if isinstance(exc, RecursionError) else f"{type(exc).__name__}: {exc}"[:200]
            raise ParseError(f"{url}: changed layout, {key} could not read this page ({what})") from exc

    return parse


PARSERS: dict[str, Parser] = {key: _guarded(key, parser) for key, parser in _PARSERS.items()}

__all__ = ["PARSERS", "Blocked", "PageRequest", "ParseError", "ParseResult", "Parser"]
