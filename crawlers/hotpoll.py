"""One hot-list poll in terms of records: which entries of a board are ours (crawlers.hotmatch) as the HotTrack
sightings the OpsDB records, and the words whose post search starts at once when a watched entry appears
(crawl-on-match). Pure but for `record`, which hands the sightings to the OpsDB."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from crawlers.hotmatch import ours
from crawlers.watchlist import Watchlist
from yuqing.records import HotEntry, HotTrack

BOARD_URLS = {  # the boards as the sites' own pages call them (2025-2026)
    "weibo": "https://weibo.com/ajax/side/hotSearch",
    "baidu": "https://top.baidu.com/api/board?platform=wise&tab=realtime",
    "zhihu": "https://www.zhihu.com/api/v3/feed/topstory/hot-lists/total?limit=50&desktop=true",
    "douyin": "https://www.douyin.com/aweme/v1/web/hot/search/list/?device_platform=webapp&aid=6383"
              "&channel=channel_pc_web&detail_list=1",
}
SEARCH_SOURCE = "weibo"  # the post search started for a watched entry's words


def sightings(entries: Iterable[HotEntry], watchlist: Watchlist, now: datetime) -> list[HotTrack]:
    """The watched entries of one poll as sightings (rank, heat, why it is ours), in rank order."""
    out = []
    for m in ours(entries, watchlist):
        e = m.entry
        out.append(HotTrack(board=e.board, word=e.word, first_seen=now, last_seen=now, rank=e.rank, best_rank=e.rank,
                            heat=e.heat, operators=m.operators, words=m.words, url=e.url, label=e.label))
    return out


def record(ops: Any, board: str, entries: Sequence[HotEntry], watchlist: Watchlist, now: datetime) -> list[HotTrack]:
    """Store one successful poll of `board` (ranks, heat, statuses; entries that left the list marked gone)."""
    return list(ops.record_hot_poll(board, now, sightings(entries, watchlist, now)))


def search_words(tracks: Iterable[HotTrack]) -> list[str]:
    """The search words for tracks whose post search has not started: each entry's own words (a 热搜 title is what
    people write), once each, in order."""
    out: list[str] = []
    for t in tracks:
        word = t.word.strip("#？?！! ")
        if word and word not in out:
            out.append(word)
    return out
