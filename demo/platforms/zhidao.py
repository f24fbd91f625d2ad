"""zhidao.baidu.com in its real shapes: /search?word=&pn= result pages and /question/<id>.html pages,
served GBK-encoded with charset=gbk like the real site."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from demo.model import DemoPost, Response
from yuqing.timefmt import SHANGHAI

HOST = "https://zhidao.baidu.com"
PAGE_SIZE = 10
CONTENT_TYPE = "text/html; charset=gbk"
_QUESTION = re.compile(r"^/question/(\d+)\.html$")
_TAG = re.compile(r"<[^>]+>")


def _html(text: str) -> str:
    return escape(_TAG.sub("", text), quote=False).replace("\n", "<br>")


def _when(at: datetime, seconds: bool = False) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _ip(post: DemoPost) -> str:
    return f'<span class="ip">IP属地：{escape(post.region)}</span>' if post.region else ""


def _page(title: str, body: str, status: int = 200) -> Response:
    doc = (f'<!DOCTYPE html>\n<html>\n<head>\n<meta http-equiv="content-type" content="text/html;charset=gbk" />\n'
           f"<title>{escape(title)}_百度知道</title>\n</head>\n<body>\n<div id=\"body\" class=\"container\">\n{body}\n"
           "</div>\n</body>\n</html>\n")
    return Response(status, doc.encode("gbk", errors="xmlcharrefreplace"), CONTENT_TYPE)


def info_page() -> Response:
    """The site's "信息提示" page for a question that is gone."""
    body = ('<div class="wgt-error"><p class="err-tip">知道宝贝找不到问题了&gt;_&lt;!! 该问题可能已经失效。</p>'
            '<a href="/">返回首页</a></div>')
    doc = ('<!DOCTYPE html>\n<html><head><meta http-equiv="content-type" content="text/html;charset=gbk" />'
           f"<title>百度知道 - 信息提示</title></head><body>{body}</body></html>")
    return Response(200, doc.encode("gbk"), CONTENT_TYPE)


def _answers_of(qid: str, posts: Sequence[DemoPost]) -> list[DemoPost]:
    return sorted((p for p in posts if p.kind == "answer" and p.parent_id == qid), key=lambda p: (p.at, p.post_id))


def search(query: dict[str, str], posts: Sequence[DemoPost], page_size: int = PAGE_SIZE) -> Response:
    words = query.get("word", "").split()
    questions = [p for p in posts if p.kind == "question"]
    hits = []
    for q in questions:
        blob = " ".join([q.title, q.text, *(a.text for a in _answers_of(q.post_id, posts))])
        if words and all(w in blob for w in words):
            hits.append(q)
    hits.sort(key=lambda p: (p.at, p.post_id), reverse=True)
    try:
        pn = max(int(query.get("pn") or 0), 0)
    except ValueError:
        pn = 0
    chunk = hits[pn: pn + page_size]
    if not chunk:
        body = '<div class="list-wraper"><div class="no-result">抱歉，暂时没有找到相关问题</div></div>'
        return _page(f"{query.get('word', '')}_搜索结果", body)
    items = []
    for q in chunk:
        answers = _answers_of(q.post_id, posts)
        best = next((a for a in answers if a.extra.get("best")), answers[0] if answers else None)
        shown = best or q  # like the real list: the best answer's date, author and 赞; the question's if unanswered
        summary = f'<dd class="dd summary">{_html(q.text)[:120]}</dd>'
        if best is not None:
            summary += f'<dd class="dd answer"><i class="i-answer-text">答：</i>{_html(best.text)[:120]}</dd>'
        items.append(
            f'<dl class="dl"><dt class="dt mb-3 line"><a href="{HOST}/question/{q.post_id}.html" class="ti" '
            f'target="_blank">{escape(q.title)}</a></dt>{summary}'
            f'<dd class="dd explain f-light"><span class="mr-8">{shown.at.astimezone(SHANGHAI):%Y-%m-%d}</span>'
            f'<span class="mr-8">回答者：<a class="mr-8" href="/usercenter?uid={escape(shown.author_id)}">'
            f'{escape(shown.author_name)}</a></span><span class="mr-8">{len(answers)}个回答</span>'
            f'<i class="i-agree"></i><span class="f-black">{shown.likes}</span></dd></dl>')
    pager = ""
    if pn + page_size < len(hits):
        nxt = f"/search?word={quote(query.get('word', ''))}&pn={pn + page_size}"
        pager = f'<div class="pager"><b>{pn // page_size + 1}</b><a class="pager-next" href="{nxt}">下一页&gt;</a></div>'
    body = (f'<div class="list-wraper"><div class="list-header">共{len(hits)}条结果</div>'
            f'<div class="list-inner"><div class="list">{"".join(items)}</div></div>{pager}</div>')
    return _page(f"{query.get('word', '')}_搜索结果", body)


def question(qid: str, posts: Sequence[DemoPost]) -> Response:
    q = next((p for p in posts if p.kind == "question" and p.post_id == qid), None)
    if q is None:
        return info_page()
    answers = _answers_of(qid, posts)
    best = next((a for a in answers if a.extra.get("best")), None)
    parts = [
        f'<article class="grid qb-content" id="qb-content"><div id="wgt-ask" class="wgt-ask">'
        f'<h1 accuse="qTitle"><span class="ask-title">{escape(q.title)}</span></h1>'
        f'<div class="line mt-5 q-content" accuse="qContent"><span class="con-all">{_html(q.text)}</span></div>'
        f'<div id="ask-info" class="wgt-ask-info line f-aid"><span class="ask-time">{_when(q.at)}</span>{_ip(q)} '
        f'<a class="user-name" rel="nofollow" href="/usercenter?uid={escape(q.author_id)}">{escape(q.author_name)}</a>'
        "</div></div>"]
    if best is not None:
        parts.append(
            f'<div class="wgt-best" id="best-answer-{best.post_id}"><div class="bd answer" id="answer-{best.post_id}">'
            f'<div class="line info f-aid"><span class="wgt-replyer-all-time">推荐于{_when(best.at)}</span>{_ip(best)}</div>'
            f'<div class="best-text mb-10" id="best-content-{best.post_id}" accuse="aContent">{_html(best.text)}</div>'
            f'<div class="wgt-replyer-all"><a class="user-name" href="/usercenter?uid={escape(best.author_id)}">'
            f'{escape(best.author_name)}</a></div><span class="evaluate" data-evaluate="{best.likes}"></span></div></div>')
    others = [a for a in answers if a is not best]
    parts.append(f'<div id="wgt-answers" class="wgt-answers"><h2>其他{len(others)}条回答</h2>')
    for a in others:
        parts.append(
            f'<div class="bd answer" id="answer-{a.post_id}"><div class="line info f-aid">'
            f'<span class="wgt-replyer-all-time">{_when(a.at)}</span>{_ip(a)}'
            f'<a class="user-name" href="/usercenter?uid={escape(a.author_id)}">{escape(a.author_name)}</a></div>'
            f'<div class="answer-text mb-10 line"><span class="con">{_html(a.text)}</span></div>'
            f'<span class="evaluate" data-evaluate="{a.likes}"></span></div>')
    parts.append("</div></article>")
    return _page(q.title, "\n".join(parts))


def handle(path: str, query: dict[str, str], posts: Sequence[DemoPost], now: datetime, *,
           page_size: int = PAGE_SIZE, **_: Any) -> Response | None:
    """Serve one request from the Zhidao posts visible at `now`; None when the path is not Zhidao's."""
    mine = [p for p in posts if p.platform == "zhidao" and p.at <= now]
    if path == "/search":
        return search(query, mine, max(int(page_size), 1))
    match = _QUESTION.match(path)
    if match:
        return question(match.group(1), mine)
    return None
