"""Events: near-duplicates and reposts grouped by SimHash, bursts of similar posts grouped by shared keywords.

A post joins an event when it is a near-copy (SimHash over character 3-grams within HAMMING bits) of another
post in the batch or of a known event's first post, when it reposts or comments on a post of the batch, or when
it shares an operator, a city and two top keywords with at least BURST_MIN-1 other posts. A group joins a known
event by shared keywords only when their cities agree (or either names none): 断网 in 郑州 and 断网 in 广州 are two
events; in the same city two shared keywords are enough (three otherwise). Posts that stay alone get no event: the dashboard speaks of events only where something repeats.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from itertools import combinations

import numpy as np

from sentiment.regions import gazetteer
from sentiment.text import EMOTICON
from yuqing.records import Event, Post

HAMMING = 5  # bits; 6 bands of at most 11 bits find every pair within 5 (pigeonhole)
BURST_MIN = 3
KEYWORD_OVERLAP = 3  # top keywords shared with a known event to join it
KEYWORD_OVERLAP_SAME_CITY = 2  # ... when both name the same city (and an operator in common)
_MASK63 = (1 << 63) - 1
_GENERIC = {"电信", "移动", "联通", "中国电信", "中国移动", "中国联通", "运营商", "手机", "电话", "号码", "问题"}


def simhash(text: str) -> int:
    """63-bit SimHash of the text's character 3-grams (emoticons and spaces removed); fits a signed int64."""
    return simhashes([text])[0]


def _mix(z: np.ndarray) -> np.ndarray:
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def simhashes(texts: Sequence[str]) -> list[int]:
    """simhash() of many texts at once (a few numpy calls per batch); texts of one or two characters use them."""
    n = len(texts)
    cleaned = [EMOTICON.sub("", t).replace(" ", "") for t in texts]
    lengths = np.array([len(c) for c in cleaned], dtype=np.int64)
    codes = np.frombuffer("".join(cleaned).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    row = np.repeat(np.arange(n, dtype=np.int64), lengths)
    grams, rows = [np.zeros(0, dtype=np.uint64)], [np.zeros(0, dtype=np.int64)]
    if len(codes) >= 3:
        same = row[:-2] == row[2:]
        grams.append(((codes[:-2] << np.uint64(42)) | (codes[1:-1] << np.uint64(21)) | codes[2:])[same])
        rows.append(row[:-2][same])
    short = np.isin(row, np.flatnonzero(lengths < 3))
    grams.append(codes[short])
    rows.append(row[short])
    z, r = np.concatenate(grams), np.concatenate(rows)
    order = np.argsort(r, kind="stable")
    z, r = z[order], r[order]
    counts = np.bincount(r, minlength=n)
    out = [0] * n
    if len(z) == 0:
        return out
    bits = np.unpackbits(_mix(z).view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    present = np.flatnonzero(counts)
    sums = np.add.reduceat(bits, np.searchsorted(r, present), axis=0, dtype=np.int32)
    packed = np.packbits(sums * 2 > counts[present, None], axis=1, bitorder="little").view(np.uint64).ravel()
    for i, value in zip(present.tolist(), packed.tolist(), strict=True):
        out[i] = value & _MASK63
    return out


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


@dataclass
class Item:
    """What event grouping needs to know about one analysed post."""

    post: Post
    simhash: int
    keywords: tuple[str, ...]
    operators: tuple[str, ...]
    touchpoints: tuple[str, ...]
    city: str
    negative: bool
    province: str = ""


class _Groups:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _bands(h: int) -> list[tuple[int, int]]:
    return [(i, (h >> (11 * i)) & 0x7FF) for i in range(6)]


def group(items: Sequence[Item], known: Sequence[Event] = ()) -> tuple[list[str], list[Event]]:
    """Event id per item ("" when alone) and the events created or updated by these items."""
    n = len(items)
    groups = _Groups(n)
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    hashes = [it.simhash for it in items]
    first_with: dict[int, int] = {}  # simhash -> the first item that has it
    for i, h in enumerate(hashes):
        if not h:
            continue
        if (same := first_with.get(h)) is not None:  # a copy: it joins the first, which stands for it in the buckets
            groups.union(i, same)
            continue
        first_with[h] = i
        for band in _bands(h):
            bucket = buckets[band]
            for j in bucket:
                if (h ^ hashes[j]).bit_count() <= HAMMING and groups.find(i) != groups.find(j):
                    groups.union(i, j)
            bucket.append(i)
    by_key = {it.post.key: i for i, it in enumerate(items)}
    for i, it in enumerate(items):
        if it.post.parent_id:
            j = by_key.get(f"{it.post.platform}:{it.post.parent_id}")
            if j is not None:
                groups.union(i, j)
    signatures: dict[tuple, list[int]] = defaultdict(list)
    for i, it in enumerate(items):
        words = [w for w in it.keywords[:3] if w not in _GENERIC]
        for pair in combinations(sorted(words), 2):
            signatures[(it.operators, it.city, pair)].append(i)
    for members in signatures.values():
        if len({groups.find(m) for m in members}) >= 2 and len(members) >= BURST_MIN:
            for m in members[1:]:
                groups.union(members[0], m)

    _merge_local_clusters(items, groups)
    clusters: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        clusters[groups.find(i)].append(i)
    known_by_band: dict[tuple[int, int], list[Event]] = defaultdict(list)
    known_by_sample = {ev.sample_key: ev for ev in known if ev.sample_key}
    known_by_word: dict[str, list[Event]] = defaultdict(list)
    for ev in known:
        if ev.simhash:
            for band in _bands(ev.simhash):
                known_by_band[band].append(ev)
        for w in ev.keywords:
            known_by_word[w].append(ev)

    event_ids = [""] * n
    out: dict[str, Event] = {}
    continued: dict[str, tuple[Event, list[int]]] = {}  # known event id -> (event, members from this batch)
    for members in clusters.values():
        match = _match_known(members, items, known_by_band, known_by_sample, known_by_word)
        if match is not None:
            continued.setdefault(match.event_id, (match, []))[1].extend(members)
        elif len(members) >= 2:
            event = _merge(None, [items[m] for m in members])
            out[event.event_id] = event
            for m in members:
                event_ids[m] = event.event_id
    for event_id, (known_event, members) in continued.items():
        out[event_id] = _merge(known_event, [items[m] for m in sorted(members)])
        for m in members:
            event_ids[m] = event_id
    return event_ids, list(out.values())


def _merge_local_clusters(items: Sequence[Item], groups: _Groups) -> None:
    """Join groups of two or more posts of the batch that are one event told differently: an operator in common,
    the same place (see _overlap_needed) and enough shared top keywords (one outage reported by some posts with
    the city, by others with only the province). A merged group keeps its city, so it never spans two cities."""
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        members[groups.find(i)].append(i)
    merged: list[list] = []  # [root, operators, city, province, keywords]
    for ms in (ms for ms in members.values() if len(ms) >= 2):
        group_items = [items[m] for m in ms]
        words = Counter(w for it in group_items for w in it.keywords[:5] if w not in _GENERIC)
        ops, city, prov = {op for it in group_items for op in it.operators}, _city(group_items), _province(group_items)
        top = {w for w, _ in words.most_common(5)}
        for other in merged:
            needed = _overlap_needed(city, prov, other[2], other[3])
            if needed is not None and ops & other[1] and len(top & other[4]) >= needed:
                groups.union(ms[0], other[0])
                other[1] |= ops
                other[2], other[3] = other[2] or city, other[3] or prov
                other[4] |= top
                break
        else:
            merged.append([ms[0], ops, city, prov, top])


def _match_known(members, items, known_by_band, known_by_sample, known_by_word) -> Event | None:
    """The known event these posts continue: a reposted root, a near-copy, or enough shared keywords."""
    for m in members:
        it = items[m]
        if it.post.parent_id:
            ev = known_by_sample.get(f"{it.post.platform}:{it.post.parent_id}")
            if ev is not None:
                return ev
        if it.simhash:
            for band in _bands(it.simhash):
                for ev in known_by_band.get(band, ()):
                    if hamming(it.simhash, ev.simhash) <= HAMMING:
                        return ev
    if len(members) == 1:  # most groups: one post (no Counters to build)
        it = items[members[0]]
        top = [w for w in it.keywords[:5] if w not in _GENERIC]
        operators, city, province = set(it.operators), it.city, it.province
    else:
        words = Counter(w for m in members for w in items[m].keywords[:5] if w not in _GENERIC)
        top = [w for w, _ in words.most_common(5)]
        operators = {op for m in members for op in items[m].operators}
        city = _city([items[m] for m in members])
        province = _province([items[m] for m in members])
    shared: Counter[str] = Counter()
    events: dict[str, Event] = {}
    for w in top:
        for ev in known_by_word.get(w, ()):
            shared[ev.event_id] += 1
            events[ev.event_id] = ev
    for event_id, count in shared.most_common():
        ev = events[event_id]
        if count < KEYWORD_OVERLAP_SAME_CITY:
            break
        needed = _overlap_needed(city, province, ev.city, "")
        if needed is None or count < needed:
            continue  # the same complaint words in another city are another outage, not this event
        if not operators or operators & set(ev.operators):
            return ev
    return None


def _province(members: Sequence[Item]) -> str:
    """The province most of the posts are from, by text or IP属地 ("" when none is known)."""
    provinces = Counter(it.province for it in members if it.province)
    return min(provinces, key=lambda p: (-provinces[p], p)) if provinces else ""


def _overlap_needed(city: str, province: str, other_city: str, other_province: str) -> int | None:
    """Shared top keywords that make two groups one event: fewer in one place, None in two different places.

    Same place: the same city, or one names no city and its province is the other's (a post of the 郑州 outage
    that only says 河南 by its IP属地). Different places: two cities, or two provinces, that differ."""
    if city and other_city:
        return KEYWORD_OVERLAP_SAME_CITY if city == other_city else None
    province, other_province = province or _city_province(city), other_province or _city_province(other_city)
    if province and other_province:
        if province != other_province:
            return None
        return KEYWORD_OVERLAP_SAME_CITY if city or other_city else KEYWORD_OVERLAP
    return KEYWORD_OVERLAP


def _city_province(city: str) -> str:
    return gazetteer().city_province.get(city, "") if city else ""


def _city(members: Sequence[Item]) -> str:
    """The city at least half of the posts name ("" otherwise: one 上海 post among six from elsewhere does not make
    an event 上海's)."""
    cities = Counter(it.city for it in members if it.city)
    if not cities:
        return ""
    city = min(cities, key=lambda c: (-cities[c], c))
    return city if 2 * cities[city] >= len(members) else ""


def _merge(known: Event | None, members: list[Item]) -> Event:
    """A new event from a group of posts, or a known event grown by them."""
    first = min(members, key=lambda it: (it.post.published_at, it.post.key))
    times = [it.post.published_at for it in members]
    words = Counter()
    touch = Counter()
    operators: dict[str, None] = {}
    for it in members:
        words.update(w for w in it.keywords if w not in _GENERIC)
        touch.update(t for t in it.touchpoints if t != "其他")
        operators.update(dict.fromkeys(it.operators))
    negative = sum(it.negative for it in members)
    if known is not None:
        words.update({w: len(members) for w in known.keywords})
        touch.update({t: len(members) for t in known.touchpoints})
        return replace(
            known,
            first_seen=min(known.first_seen, *times),
            last_seen=max(known.last_seen, *times),
            size=known.size + len(members),
            negative=known.negative + negative,
            keywords=tuple(w for w, _ in words.most_common(5)),
            operators=tuple(dict.fromkeys((*known.operators, *operators))),
            touchpoints=tuple(t for t, _ in touch.most_common(3)),
        )
    keywords = tuple(w for w, _ in words.most_common(5))
    event_id = "ev" + hashlib.sha1(first.post.key.encode()).hexdigest()[:14]
    city = _city(members)
    return Event(
        event_id=event_id,
        title=title(tuple(operators), city, keywords),
        first_seen=min(times),
        last_seen=max(times),
        size=len(members),
        negative=negative,
        keywords=keywords,
        operators=tuple(operators),
        touchpoints=tuple(t for t, _ in touch.most_common(3)),
        simhash=first.simhash,
        sample_key=first.post.key,
        city=city,
    )


MERGE_GAP = timedelta(hours=12)  # split events further apart than this stay apart
NEAR = timedelta(hours=1)  # ... and, when they share only one word besides their city and touchpoint, this


def consolidate(events: Sequence[Event], *, gap: timedelta = MERGE_GAP) -> list[tuple[Event, tuple[str, ...]]]:
    """Known events that are one event told apart, each as (the merged event, the ids it absorbs).

    Crawls of several sources run at once, each grouping its own posts: the 郑州 outage on Weibo, in Tieba and on
    Zhidao became three events. Two events are one when they share an operator, the same place (_overlap_needed,
    the city's own name not counted) and enough top keywords, and lie within `gap` of each other; or
    they are one city's, share a touchpoint and one keyword fewer, and lie within NEAR of each other. The oldest
    event of a group (first seen, then id) survives, so every process that merges them merges them the same way."""
    by_word: dict[str, list[int]] = defaultdict(list)
    for i, ev in enumerate(events):
        for w in set(ev.keywords) - _GENERIC:
            by_word[w].append(i)
    groups = _Groups(len(events))
    for i, ev in enumerate(events):
        shared: Counter[int] = Counter(j for w in set(ev.keywords) - _GENERIC for j in by_word[w] if j > i)
        for j, count in shared.items():
            other = events[j]
            if not set(ev.operators) & set(other.operators):
                continue
            needed = _overlap_needed(ev.city, "", other.city, "")
            if needed is None:
                continue
            places = {ev.city, other.city, _city_province(ev.city), _city_province(other.city)}
            count -= len(places & set(ev.keywords) & set(other.keywords))
            apart = max(ev.first_seen, other.first_seen) - min(ev.last_seen, other.last_seen)
            if count >= needed and apart <= gap:
                groups.union(i, j)
            elif (count == needed - 1 >= 1 and apart <= NEAR and ev.city and ev.city == other.city
                  and set(ev.touchpoints) & set(other.touchpoints)):
                groups.union(i, j)  # one city, operator and touchpoint within the hour: one shared word (断网) does
    members: dict[int, list[Event]] = defaultdict(list)
    for i, ev in enumerate(events):
        members[groups.find(i)].append(ev)
    return [_combine(sorted(evs, key=lambda e: (e.first_seen, e.event_id)))
            for evs in members.values() if len(evs) > 1]


def _combine(events: list[Event]) -> tuple[Event, tuple[str, ...]]:
    """The first event grown by the others (their posts counted, keywords and touchpoints weighted by size)."""
    first = events[0]
    words: Counter[str] = Counter()
    touch: Counter[str] = Counter()
    operators: dict[str, None] = {}
    for ev in events:
        words.update({w: ev.size * (len(ev.keywords) - k) for k, w in enumerate(ev.keywords)})
        touch.update({t: ev.size for t in ev.touchpoints})
        operators.update(dict.fromkeys(ev.operators))
    keywords = tuple(w for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:5])
    city = first.city or next((ev.city for ev in events if ev.city), "")
    merged = replace(
        first,
        title=title(tuple(operators), city, keywords),
        first_seen=min(ev.first_seen for ev in events),
        last_seen=max(ev.last_seen for ev in events),
        size=sum(ev.size for ev in events),
        negative=sum(ev.negative for ev in events),
        keywords=keywords,
        operators=tuple(operators),
        touchpoints=tuple(t for t, _ in sorted(touch.items(), key=lambda kv: (-kv[1], kv[0]))[:3]),
        city=city,
    )
    return merged, tuple(ev.event_id for ev in events[1:])


def title(operators: tuple[str, ...], city: str, keywords: tuple[str, ...]) -> str:
    """A short event title: `中国电信·广州：宽带 断网 光猫`."""
    head = "·".join(p for p in (operators[0] if operators else "", city) if p)
    body = " ".join(keywords[:3]) or "相似帖子"
    return f"{head}：{body}" if head else body
