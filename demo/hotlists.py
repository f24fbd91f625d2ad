"""The scenario's hot lists (热搜/热榜): background topics fill each board; scripted entries enter at a scenario
time and move to the ranks their points give, until they leave. The four boards are served in the platforms'
real shapes: weibo.com/ajax/side/hotSearch, top.baidu.com/api/board, zhihu.com/api/v3/feed/topstory/hot-lists
and douyin.com/aweme/v1/web/hot/search/list/ (all on the demo's one hot-list server, their paths differ).

    hotlists:
      size: 30                       # entries per board
      filler: [国产大飞机交付第100架, 全国大部迎来初雪, …]
      entries:
        - {board: weibo, word: 郑州电信宽带大面积断网, until: 2h,
           points: [{at: 24m, rank: 41, label: 新}, {at: 27m, rank: 18}, {at: 35m, rank: 2, label: 爆}]}
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from demo.model import Response

BOARDS = ("weibo", "baidu", "zhihu", "douyin")
PATHS = {"/ajax/side/hotSearch": "weibo", "/api/board": "baidu", "/api/v3/feed/topstory/hot-lists/total": "zhihu",
         "/aweme/v1/web/hot/search/list/": "douyin", "/aweme/v1/web/hot/search/list": "douyin"}
TOP_HEAT = {"weibo": 3_200_000, "baidu": 7_900_000, "zhihu": 12_000_000, "douyin": 12_500_000}


@dataclass(frozen=True)
class Point:
    offset: timedelta
    rank: int
    label: str = ""


@dataclass(frozen=True)
class Scripted:
    board: str
    word: str
    points: tuple[Point, ...]
    until: timedelta | None = None


@dataclass(frozen=True)
class HotScript:
    size: int = 30
    filler: tuple[str, ...] = ()
    entries: tuple[Scripted, ...] = ()


@dataclass(frozen=True)
class Shown:
    """One entry as a board shows it at one moment."""

    word: str
    rank: int
    heat: int
    label: str = ""
    scripted: bool = False
    since: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def load_hotlists(raw: Any, where: str, parse_offset: Any) -> HotScript:
    """The `hotlists:` section of a scenario file; errors name the file and the entry."""
    if not raw:
        return HotScript()
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: hotlists must be a mapping")
    entries = []
    for i, spec in enumerate(raw.get("entries") or []):
        at = f"{where}: hotlists.entries[{i}]"
        if spec.get("board") not in BOARDS or not spec.get("word") or not spec.get("points"):
            raise ValueError(f"{at}: needs board (one of {', '.join(BOARDS)}), word and points")
        points = tuple(sorted((Point(parse_offset(p["at"], at), int(p["rank"]), str(p.get("label", "")))
                               for p in spec["points"]), key=lambda p: p.offset))
        if any(p.rank < 1 for p in points):
            raise ValueError(f"{at}: ranks start at 1")
        until = parse_offset(spec["until"], at) if spec.get("until") is not None else None
        entries.append(Scripted(str(spec["board"]), str(spec["word"]), points, until))
    return HotScript(int(raw.get("size", 30)), tuple(str(w) for w in raw.get("filler") or ()), tuple(entries))


def heat_at(board: str, rank: int) -> int:
    return int(TOP_HEAT[board] * 0.93 ** (rank - 1))


def board_at(script: HotScript, board: str, elapsed: timedelta,
             arrival: Callable[[timedelta], datetime]) -> list[Shown]:
    """The board `elapsed` scenario time after the start, ranks 1..size; scripted entries take their ranks and the
    background topics keep their order around them. `arrival` turns a scenario offset into real time."""
    placed: dict[int, Shown] = {}
    for entry in (e for e in script.entries if e.board == board):
        current = [p for p in entry.points if p.offset <= elapsed]
        if not current or (entry.until is not None and elapsed >= entry.until):
            continue
        rank = min(current[-1].rank, script.size)
        while rank in placed:
            rank += 1
        label = next((p.label for p in reversed(current) if p.label), "")
        placed[rank] = Shown(entry.word, rank, heat_at(board, rank), label, True, arrival(entry.points[0].offset))
    fillers = iter(w for w in script.filler if w not in {s.word for s in placed.values()})
    shown = []
    for rank in range(1, script.size + 1):
        if rank in placed:
            shown.append(placed[rank])
        else:
            word = next(fillers, None)
            if word is None:
                break
            shown.append(Shown(word, rank, heat_at(board, rank), "热" if rank <= 3 else ""))
    return shown


def _json(obj: Any) -> Response:
    return Response(200, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _weibo(entries: list[Shown], now: datetime) -> Response:
    realtime: list[dict[str, Any]] = []
    for e in entries:
        if e.rank == 3:  # the site slips a promoted topic in without a rank
            realtime.append({"word": "品牌好物节", "note": "品牌好物节", "is_ad": 1, "icon_desc": "荐", "num": 0,
                             "realpos": len(realtime) + 1})
        realtime.append({"word_scheme": f"#{e.word}#", "word": e.word, "note": e.word, "num": e.heat, "raw_hot": e.heat,
                         "rank": e.rank - 1, "realpos": len(realtime) + 1, "label_name": e.label, "icon_desc": e.label,
                         "category": "社会新闻" if e.scripted else "综合", "flag": 1 if e.label == "新" else 0,
                         "onboard_time": int((e.since or now).timestamp())})
    return _json({"ok": 1, "data": {"realtime": realtime, "hotgov": {"word": "#今日要闻#", "note": "今日要闻", "is_hot": 1,
                                                                   "icon_desc": "热"}}})


def _baidu(entries: list[Shown]) -> Response:
    tags = {"新": "1", "热": "3"}
    content = [{"word": e.word, "query": e.word, "desc": "", "hotScore": str(e.heat), "index": e.rank - 1,
                "hotTag": tags.get(e.label, "0"), "url": f"https://m.baidu.com/s?word={quote(e.word)}",
                "rawUrl": f"https://www.baidu.com/s?wd={quote(e.word)}", "img": "", "show": []} for e in entries]
    return _json({"success": True, "data": {"cards": [{"component": "hotList", "content": [{"content": content}],
                                                       "text": "实时热点", "typeName": "realtime"}]}})


def _zhihu(entries: list[Shown], now: datetime) -> Response:
    data = []
    for e in entries:
        qid = 640000000 + sum(map(ord, e.word)) * 7 % 9999991
        data.append({"type": "hot_list_feed", "style_type": "1", "card_id": f"Q_{qid}", "debut": e.label == "新",
                     "detail_text": f"{max(e.heat // 10000, 1)} 万热度", "trend": 0,
                     "target": {"id": qid, "title": e.word, "type": "question", "excerpt": "",
                                "url": f"https://api.zhihu.com/questions/{qid}",
                                "created": int((e.since or now).timestamp()), "answer_count": 0}})
    return _json({"data": data, "paging": {"is_end": True, "next": "", "previous": ""}, "fresh_text": "热榜已更新"})


def _douyin(entries: list[Shown], now: datetime) -> Response:
    labels = {"新": 1, "热": 3}
    words = [{"word": e.word, "hot_value": e.heat, "position": e.rank, "label": labels.get(e.label, 0),
              "sentence_id": str(1830000 + sum(map(ord, e.word)) % 99991), "event_time": int((e.since or now).timestamp()),
              "word_type": 1, "video_count": 0} for e in entries]
    return _json({"status_code": 0, "status_msg": "", "data": {"word_list": words, "trending_list": [],
                                                               "active_time": f"{now:%Y-%m-%d %H:%M:%S}"}})


def handle(path: str, script: HotScript, elapsed: timedelta, arrival: Callable[[timedelta], datetime],
           now: datetime) -> Response | None:
    """One hot-list request `elapsed` scenario time after the start; None when the path is no board's."""
    board = PATHS.get(path)
    if board is None:
        return None
    entries = board_at(script, board, elapsed, arrival)
    if board == "weibo":
        return _weibo(entries, now)
    if board == "baidu":
        return _baidu(entries)
    if board == "zhihu":
        return _zhihu(entries, now)
    return _douyin(entries, now)
