"""The `hot_list` rule type: a watched entry on a hot list (微博热搜, 百度热搜, 知乎热榜, 抖音热榜). Pure, like every
rule: the engine puts the entries tracked in the window (OpsDB hot_tracks with their ranks) in Window.hot.
Registered by alerts.rules (imported at its end)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from alerts.rules import Param, Rule, RuleError, register
from alerts.window import Match, Window
from yuqing.records import HotTrack
from yuqing.timefmt import local_str
from yuqing.vocab import HOT_BOARD_ZH, HOT_BOARDS, HOT_STATUS_ZH, PLATFORMS, SEVERITIES

DEFAULT_BANDS = {"red": 3, "orange": 10, "yellow": 30}  # rank at or above which the severity is at least this


def rank_bands(value: Any, where: str) -> dict[str, int]:
    """`severity_by_rank`: {severity: rank}; an entry at that rank or better is at least that severe."""
    if not isinstance(value, Mapping) or not value:
        raise RuleError(f"{where}: expected a mapping of severity to rank, e.g. {{red: 3, orange: 10}}")
    out = {}
    for severity, rank in value.items():
        if severity not in SEVERITIES:
            raise RuleError(f"{where}.{severity}: not a severity ({', '.join(SEVERITIES)})")
        out[str(severity)] = Param("int", 1, 1).coerce(rank, f"{where}.{severity}")
    return out


def severity_for(rank: int, bands: Mapping[str, int], base: str) -> str:
    """The most severe band whose rank `rank` reaches (a pinned entry, rank 0, reaches every band), never below
    `base`."""
    reached = [s for s, limit in bands.items() if rank <= limit]
    return max([base, *reached], key=SEVERITIES.index)


@register("hot_list")
class HotList(Rule):
    """A watched entry on a hot list: entered it, rising by N places within the window, or in the top N;
    severity by rank (severity_by_rank)."""

    needs = frozenset({"hot", "events"})
    labels = ()
    labels_configurable = False
    default_severity = "blue"
    default_window = 60
    PARAMS = {"boards": Param("words", HOT_BOARDS), "entered": Param("bool", True), "rising": Param("int", 0, 0),
              "top": Param("int", 0, 0), "severity_by_rank": Param("rank_bands", DEFAULT_BANDS)}

    def __init__(self, name: str, **kw: Any) -> None:
        super().__init__(name, **kw)
        unknown = [b for b in self.p["boards"] if b not in HOT_BOARDS]
        if unknown:
            raise RuleError(f"{name}: unknown boards {unknown} (known: {', '.join(HOT_BOARDS)})")
        if not (self.p["entered"] or self.p["rising"] or self.p["top"]):
            raise RuleError(f"{name}: hot_list needs entered: true, rising: N or top: N")

    def specificity(self, key: str) -> int:
        return len(set(self.scope.as_dict()) | {"operators"})

    def evaluate(self, window: Window) -> list[Match]:
        """One match per topic: the entries of one story on several boards (微博热搜 #2, 抖音热榜 #4 …), alike in
        wording or of one event of the window, are one match keyed by the entry that came first, so one outage on
        four boards is one alert from its first poll on, raised as it climbs."""
        found = {t.key: m for t in window.hot if (m := self._match(t, window)) is not None}
        out = []
        for group in topics([t for t in window.hot if t.board in self.p["boards"]], window):
            matched = [(t, found[t.key]) for t in group if t.key in found]
            if matched:
                out.append(self._combined(group[0].key, matched))
        return out

    @staticmethod
    def _combined(key: str, found: list[tuple[HotTrack, Match]]) -> Match:
        """The matches of one topic's entries as one: the best-ranked names it, every board's reason kept."""
        found = sorted(found, key=lambda tm: (-SEVERITIES.index(tm[1].severity), tm[0].rank, tm[1].key))
        top_track, top = found[0]
        if len(found) == 1:
            return replace(top, key=key)
        operators = tuple(dict.fromkeys(op for t, _ in found for op in t.operators))
        scope = dict(top.scope)
        if operators:
            scope["operators"] = operators
        platforms = tuple(dict.fromkeys(p for _, m in found for p in m.scope.get("platforms", ())))
        if platforms:
            scope["platforms"] = platforms
        boards = "、".join(_on_board(t) for t, _ in found)
        return replace(top, key=key, scope=scope, reason=" ".join(m.reason for _, m in found),
                       title=f"{_topic(operators)}登上{boards}：{top_track.word[:30]}")

    def _match(self, t: HotTrack, window: Window) -> Match | None:
        if t.board not in self.p["boards"] or t.status == "gone":
            return None
        if self.scope.operators and not set(self.scope.operators) & set(t.operators):
            return None
        ranks = [r for _, r, _ in t.ranks] or [t.rank]
        rose = max(ranks) - t.rank
        board = HOT_BOARD_ZH[t.board]
        place = "置顶" if t.rank == 0 else f"第 {t.rank} 位"
        why = []
        if self.p["entered"]:
            why.append(f"{local_str(t.first_seen)} 登上{board}")
        if self.p["rising"] and rose >= self.p["rising"]:
            why.append(f"近{self.window_minutes}分钟上升 {rose} 位（阈值 {self.p['rising']} 位）")
        if self.p["top"] and t.rank <= self.p["top"]:
            why.append(f"进入前 {self.p['top']} 位")
        if not why:
            return None
        climb = f"，近{self.window_minutes}分钟从第 {max(ranks)} 位升至{place}" if rose > 0 else ""
        heat = f"，热度 {t.heat}" if t.heat else ""
        named = "、".join((*t.operators, *t.words))
        reason = (f"「{t.word}」{'，'.join(why)}；当前{place}（最高第 {t.best_rank} 位{heat}，"
                  f"{HOT_STATUS_ZH[t.status]}）{climb}；命中：{named}。")
        scope: dict[str, tuple[str, ...]] = dict(self.scope.as_dict())
        if t.operators:
            scope["operators"] = t.operators
        if t.board in PLATFORMS:
            scope.setdefault("platforms", (t.board,))
        return Match(rule=self.name, rule_type=self.type_name, key=t.key,
                     severity=severity_for(t.rank, self.p["severity_by_rank"], self.severity),
                     title=f"{_topic(t.operators)}登上{_on_board(t)}：{t.word[:30]}", reason=reason,
                     count=t.rank, baseline=float(t.best_rank), keywords=(t.word, *t.words)[:8], scope=scope)


def _topic(operators: tuple[str, ...]) -> str:
    return f"{'、'.join(operators)}相关话题" if operators else "关注话题"


def _on_board(t: HotTrack) -> str:
    return f"{HOT_BOARD_ZH[t.board]}（{'置顶' if t.rank == 0 else f'第 {t.rank} 位'}）"


OPERATOR_NAMES = re.compile("中国移动|中国电信|中国联通|中国广电|移动|电信|联通|广电")


def _grams(word: str) -> set[str]:
    """Character bigrams of an entry without operator names and punctuation (they say nothing of the story)."""
    text = "".join(ch for ch in OPERATOR_NAMES.sub(" ", word) if ch.isalnum() or ch == " ")
    return {text[i:i + 2] for i in range(len(text) - 1) if " " not in text[i:i + 2]}


def alike(a: HotTrack, b: HotTrack) -> bool:
    """Two entries telling one story: at least three bigrams shared, and at least 40 % of the shorter one's
    ("郑州电信宽带大面积断网" and "郑州多区宽带断网": 郑州 宽带 断网 of 7)."""
    ga, gb = _grams(a.word), _grams(b.word)
    shared = len(ga & gb)
    return shared >= 3 and shared * 5 >= 2 * min(len(ga), len(gb))


def topics(hot: list[HotTrack], window: Window) -> list[list[HotTrack]]:
    """Entries (gone ones too, so a topic keeps its first entry) grouped by story: alike in wording or of one
    event of the window. Each group is in the order the entries came (first seen, then board), its first the
    anchor."""
    tracks = sorted(hot, key=lambda t: (t.first_seen, HOT_BOARDS.index(t.board), t.word))
    parent = list(range(len(tracks)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    events = [event_of(t, window) for t in tracks]
    for i in range(len(tracks)):
        for j in range(i):
            if (events[i] and events[i] == events[j]) or alike(tracks[i], tracks[j]):
                parent[max(find(i), find(j))] = min(find(i), find(j))
    groups: dict[int, list[HotTrack]] = {}
    for i, t in enumerate(tracks):
        groups.setdefault(find(i), []).append(t)
    return list(groups.values())


def event_of(t: HotTrack, window: Window) -> str:
    """The event of the window an entry speaks of: one of its operators (or none named), and two of the event's
    top keywords in the entry, or its city and one keyword ("郑州电信宽带大面积断网" and the 郑州 outage's 断网 ·
    电信宽带). The largest such event in the window, or ""."""
    best: tuple[int, int, str] | None = None
    for eid, ev in window.events.items():
        if t.operators and ev.operators and not set(t.operators) & set(ev.operators):
            continue
        hits = sum(1 for w in ev.keywords[:5] if w and w != ev.city and w in t.word)
        place = bool(ev.city) and ev.city in t.word
        if hits >= 2 or (place and hits >= 1):
            score = (hits + int(place), window.event_counts.get(eid, 0), eid)
            best = max(best, score) if best else score
    return best[2] if best else ""
