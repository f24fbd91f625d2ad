"""tieba.baidu.com in its real shapes: keyword search (/f/search/res, GBK), a bar's thread list (/f?kw=, the list
inside <code><!-- … --></code>), thread pages (/p/<tid>?pn=) with their floors, floor replies as totalComment
JSON and /p/comment fragments.

Scenario posts: a thread is kind post (post_id = tid, title, text = its first floor, extra.bar = the bar without
吧, extra.pid optional); a floor is kind comment with parent_id = tid; a floor reply (楼中楼) is kind comment with
parent_id = tid and extra.reply_to = the floor's post id. Floors are numbered by time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from demo.model import DemoPost, Response
from yuqing.timefmt import SHANGHAI

_THREAD = re.compile(r"^/p/(\d+)$")
HTML = "text/html; charset=utf-8"
GBK = "text/html; charset=gbk"


def first_pid(thread: DemoPost) -> str:
    return str(thread.extra.get("pid") or f"1{thread.post_id}")


def _field(obj: Any) -> str:
    return escape(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), quote=True)


def _text(text: str) -> str:
    return escape(text, quote=False).replace("\n", "<br>")


def _when(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _list_when(at: datetime, now: datetime) -> str:
    """As the thread list shows times: 'HH:MM' today, 'M-D' this year, 'YYYY-MM' before."""
    local, today = at.astimezone(SHANGHAI), now.astimezone(SHANGHAI)
    if local.date() == today.date():
        return f"{local.hour}:{local.minute:02d}"
    return f"{local.month}-{local.day}" if local.year == today.year else f"{local.year}-{local.month:02d}"


class Threads:
    """The scenario's Tieba posts at one moment, organised as the site keeps them."""

    def __init__(self, posts: Sequence[DemoPost]) -> None:
        mine = [p for p in posts if p.platform == "tieba"]
        self.threads = {p.post_id: p for p in mine if p.kind == "post"}
        self.floors: dict[str, list[DemoPost]] = {tid: [] for tid in self.threads}
        self.replies: dict[str, list[DemoPost]] = {}
        for p in sorted(mine, key=lambda p: (p.at, p.post_id)):
            if p.kind != "comment" or p.parent_id not in self.threads:
                continue
            if p.extra.get("reply_to"):
                self.replies.setdefault(str(p.extra["reply_to"]), []).append(p)
            else:
                self.floors[p.parent_id].append(p)

    def floors_of(self, tid: str) -> list[tuple[int, str, DemoPost]]:
        """(floor number, post id, post) in order, the thread's own first floor included."""
        thread = self.threads[tid]
        return [(1, first_pid(thread), thread), *((i, p.post_id, p) for i, p in enumerate(self.floors[tid], 2))]

    def last_reply(self, tid: str) -> datetime:
        times = [self.threads[tid].at, *(p.at for p in self.floors[tid])]
        times += [r.at for _, pid, _ in self.floors_of(tid) for r in self.replies.get(pid, [])]
        return max(times)


def _page(title: str, body: str, content_type: str = HTML) -> Response:
    charset = "GBK" if content_type == GBK else "UTF-8"
    doc = (f'<!DOCTYPE html>\n<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n'
           f"<title>{escape(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
    return Response(200, doc.encode("gbk" if content_type == GBK else "utf-8", errors="xmlcharrefreplace"), content_type)


def _int(query: dict[str, str], key: str, default: int) -> int:
    try:
        return max(int(query.get(key) or default), 0)
    except ValueError:
        return default


def search(query: dict[str, str], t: Threads, page_size: int) -> Response:
    """Threads and floors whose title or text hold every word of qw, newest first (sm=1)."""
    words = query.get("qw", "").split()
    hits: list[tuple[DemoPost, DemoPost, str]] = []  # (hit, thread, pid)
    for tid, thread in t.threads.items():
        for _, pid, post in t.floors_of(tid):
            if words and all(w in f"{thread.title} {post.text}" for w in words):
                hits.append((post, thread, pid))
    hits.sort(key=lambda h: (h[0].at, h[2]), reverse=True)
    pn = max(_int(query, "pn", 1), 1)
    chunk = hits[(pn - 1) * page_size: pn * page_size]
    items = []
    for post, thread, pid in chunk:
        title = thread.title if post is thread else f"回复：{thread.title}"
        bar = str(thread.extra.get("bar", ""))
        items.append(
            f'<div class="s_post"><span class="p_title"><a data-tid="{thread.post_id}" class="bluelink" '
            f'href="/p/{thread.post_id}?pid={pid}&amp;cid=0#{pid}" target="_blank">{escape(title)}</a></span>\n'
            f'<div class="p_content">{_text(post.text[:150])}</div>\n'
            f'贴吧：<a class="p_forum" href="/f?kw={quote(bar.encode("gbk"))}" target="_blank"><font class="p_violet">'
            f'{escape(bar)}</font></a>作者：<a href="/home/main?un={quote(post.author_name.encode("gbk", "replace"))}" '
            f'target="_blank"><font class="p_violet">{escape(post.author_name)}</font></a> '
            f'<font class="p_green p_date">{_when(post.at)}</font></div>')
    pager = ""
    if pn * page_size < len(hits):
        href = f"/f/search/res?ie=utf-8&amp;qw={quote(query.get('qw', ''))}&amp;rn={page_size}&amp;sm=1&amp;pn={pn + 1}"
        pager = f'<div class="pager pager-search"><span class="cur">{pn}</span><a href="{href}" class="next">下一页&gt;</a></div>'
    body = f'<div class="s_main"><div class="s_post_list">\n{chr(10).join(items)}\n</div>{pager}</div>'
    return _page("百度贴吧_全吧搜索", body, GBK)


def forum(query: dict[str, str], t: Threads, now: datetime, page_size: int) -> Response:
    bar = query.get("kw", "").removesuffix("吧")
    threads = [p for p in t.threads.values() if p.extra.get("bar") == bar]
    if not bar or not threads:
        return _page("百度贴吧", "<div class='page404'><p>抱歉，根据相关法律法规和政策，本吧暂不开放。</p></div>")
    threads.sort(key=lambda p: (t.last_reply(p.post_id), p.post_id), reverse=True)
    pn = _int(query, "pn", 0)
    rows = []
    for th in threads[pn: pn + page_size]:
        field = {"id": int(th.post_id), "author_name": th.author_name, "author_nickname": th.author_name,
                 "first_post_id": int(first_pid(th)), "reply_num": len(t.floors[th.post_id]), "is_top": None}
        rows.append(
            f'<li class=" j_thread_list clearfix thread_item_box" data-field=\'{_field(field)}\' data-tid="{th.post_id}">'
            f'<div class="threadlist_lz clearfix"><div class="threadlist_title pull_left j_th_tit "><a rel="noopener" '
            f'href="/p/{th.post_id}" title="{escape(th.title)}" target="_blank" class="j_th_tit ">{escape(th.title)}</a></div>'
            f'<span class="pull-right is_show_create_time" title="创建时间">{_list_when(th.at, now)}</span></div>'
            f'<div class="threadlist_detail clearfix"><div class="threadlist_abs threadlist_abs_onlyline ">'
            f'{_text(th.text[:60])}</div><span class="threadlist_reply_date pull_right j_reply_data" title="最后回复时间">'
            f'{_list_when(t.last_reply(th.post_id), now)}</span></div></li>')
    pager = ""
    if pn + page_size < len(threads):
        pager = (f'<div id="frs_list_pager" class="pagination-default clearfix"><a href="//tieba.baidu.com/f?kw='
                 f'{quote(bar)}&amp;ie=utf-8&amp;pn={pn + page_size}" class="next pagination-item ">下一页&gt;</a></div>')
    body = (f'<div class="card_title"><a class="card_title_fname" href="/f?kw={quote(bar)}&amp;ie=utf-8">{escape(bar)}吧'
            f'</a></div>\n<code class="pagelet_html" id="pagelet_html_frs-list/pagelet/thread_list" style="display:none;">'
            f'<!--\n<ul id="thread_list" class="threadlist_bright j_threadlist_bright">\n{chr(10).join(rows)}\n</ul>\n'
            f"{pager}\n--></code>")
    return _page(f"{bar}吧-百度贴吧", body)


def thread(tid: str, query: dict[str, str], t: Threads, floors_per_page: int) -> Response:
    if tid not in t.threads:
        return _page("贴吧404", '<div class="page404"><p>很抱歉，该贴已被删除。</p></div>')
    th, floors = t.threads[tid], t.floors_of(tid)
    pages = max((len(floors) + floors_per_page - 1) // floors_per_page, 1)
    pn = min(max(_int(query, "pn", 1), 1), pages)
    bar = str(th.extra.get("bar", ""))
    divs = []
    for number, pid, post in floors[(pn - 1) * floors_per_page: pn * floors_per_page]:
        field = {"author": {"user_id": int(post.author_id) if post.author_id.isdigit() else 0,
                            "user_name": post.author_id, "user_nickname": post.author_name},
                 "content": {"post_id": int(pid), "forum_id": 3021, "thread_id": int(tid), "post_no": number,
                             "comment_num": len(t.replies.get(pid, []))}}
        ip = f"<span>IP属地:{escape(post.region)}</span>" if post.region else ""
        divs.append(
            f'<div class="l_post l_post_bright j_l_post clearfix  " data-field=\'{_field(field)}\'>'
            f'<div class="d_author"><ul class="p_author"><li class="d_name"><a class="p_author_name j_user_card" '
            f'href="/home/main?id={escape(post.author_id)}">{escape(post.author_name)}</a></li></ul></div>'
            f'<div class="d_post_content_main"><div class="p_content"><cc><div id="post_content_{pid}" '
            f'class="d_post_content j_d_post_content ">{_text(post.text)}</div></cc></div>'
            f'<div class="core_reply_tail clearfix"><div class="post-tail-wrap">{ip}<span class="tail-info">{number}楼'
            f'</span><span class="tail-info">{_when(post.at)}</span></div></div></div></div>')
    body = (f'<div class="card_title"><a class="card_title_fname" href="/f?kw={quote(bar)}">{escape(bar)}吧</a></div>\n'
            f'<h3 class="core_title_txt pull-left text-overflow" title="{escape(th.title)}">{escape(th.title)}</h3>\n'
            f'<ul class="l_posts_num"><li class="l_reply_num"><span class="red">{len(floors) - 1}</span>回复贴，共'
            f'<span class="red">{pages}</span>页</li></ul>\n<div class="p_postlist" id="j_p_postlist">\n'
            f"{chr(10).join(divs)}\n</div>")
    return _page(f"{th.title}【{bar}吧】_百度贴吧", body)


def _json(obj: Any) -> Response:
    return Response(200, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def total_comment(query: dict[str, str], t: Threads, floors_per_page: int, shown: int) -> Response:
    tid = query.get("tid", "")
    if tid not in t.threads:
        return _json({"errno": 4, "errmsg": "贴子不存在", "data": []})
    pn = max(_int(query, "pn", 1), 1)
    floors = t.floors_of(tid)[(pn - 1) * floors_per_page: pn * floors_per_page]
    comment_list = {pid: {"comment_num": len(t.replies[pid]), "comment_list_num": min(len(t.replies[pid]), shown),
                          "comment_info": [{"thread_id": tid, "post_id": pid, "comment_id": r.post_id,
                                            "username": r.author_id, "user_id": r.author_id,
                                            "now_time": int(r.at.timestamp()), "content": _text(r.text),
                                            "ptype": "0", "show_nickname": r.author_name}
                                           for r in t.replies[pid][:shown]]}
                    for _, pid, _ in floors if t.replies.get(pid)}
    return _json({"errno": 0, "errmsg": "success", "data": {"comment_list": comment_list or [], "user_list": {}}})


def comment_page(query: dict[str, str], t: Threads, page_size: int) -> Response:
    replies = t.replies.get(query.get("pid", ""), [])
    pages = max((len(replies) + page_size - 1) // page_size, 1)
    pn = max(_int(query, "pn", 1), 1)
    items = [f'<li class="lzl_single_post j_lzl_s_p " data-field=\'{_field({"spid": int(r.post_id), "showname": r.author_name, "user_name": r.author_id})}\'>'
             f'<div class="lzl_cnt"><a class="at j_user_card ">{escape(r.author_name)}</a>:<span class="lzl_content_main">'
             f'{_text(r.text)}</span><div class="lzl_content_reply"><span class="lzl_time">{_when(r.at)}</span></div></div></li>'
             for r in replies[(pn - 1) * page_size: pn * page_size]]
    pager = (f'<li class="lzl_li_pager j_lzl_l_p lzl_li_pager_s" data-field=\'{_field({"total_num": len(replies), "total_page": pages})}\'>'
             f'<p class="j_pager l_pager pager_theme_2"><span class="tP">{pn}</span></p></li>')
    return Response(200, ("\n".join(items) + "\n" + pager).encode("utf-8"), HTML)


def handle(path: str, query: dict[str, str], posts: Sequence[DemoPost], now: datetime, *, page_size: int = 10,
           list_size: int = 50, floors_per_page: int = 30, replies_shown: int = 10, **_: Any) -> Response | None:
    """Serve one request from the Tieba posts visible at `now`; None when the path is not Tieba's. The page sizes are
    the site's (10 hits, 50 threads, 30 floors, 10 floor replies) unless the scenario sets smaller ones."""
    t = Threads([p for p in posts if p.at <= now])
    if path == "/f/search/res":
        return search(query, t, max(_int(query, "rn", int(page_size)), 1))
    if path == "/f":
        return forum(query, t, now, max(int(list_size), 1))
    if path == "/p/totalComment":
        return total_comment(query, t, max(int(floors_per_page), 1), max(int(replies_shown), 1))
    if path == "/p/comment":
        return comment_page(query, t, max(int(replies_shown), 1))
    match = _THREAD.match(path)
    if match:
        return thread(match.group(1), query, t, max(int(floors_per_page), 1))
    return None
