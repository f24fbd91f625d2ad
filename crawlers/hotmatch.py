"""Which hot-list entries are ours: an entry that mentions a watched operator (the watchlist's names, its
aliases once the exclusion words are blanked, ambiguous names next to a context word) or a watch word of
[hotlists] words. Pure: the watchlist is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crawlers.watchlist import Watchlist, normalise
from yuqing.records import HotEntry


@dataclass(frozen=True)
class HotMatch:
    """Why an entry is ours: the operators it names and the watch words it contains (either may be empty)."""

    entry: HotEntry
    operators: tuple[str, ...] = ()
    words: tuple[str, ...] = ()


def match_entry(entry: HotEntry, watchlist: Watchlist, words: Iterable[str] | None = None) -> HotMatch | None:
    """A HotMatch when the entry mentions a watched operator or a watch word (default: [hotlists] words),
    else None. Exclusions apply as for posts: 电信诈骗 on the list is not 中国电信's."""
    text = entry.word + " " + str(entry.extra.get("desc", ""))
    operators = watchlist.match(text)
    norm = normalise(text)
    found = tuple(w for w in (watchlist.hotlists.words if words is None else tuple(normalise(w) for w in words))
                  if w and w in norm)
    if not operators and not found:
        return None
    return HotMatch(entry=entry, operators=operators, words=found)


def ours(entries: Iterable[HotEntry], watchlist: Watchlist) -> list[HotMatch]:
    """The matching entries of one poll, in rank order."""
    return [m for m in (match_entry(e, watchlist) for e in entries) if m is not None]
