"""Hourly counts kept by triggers, so the dashboard's counts and facets stay fast at millions of posts.

`rollup` holds, per hour, the number of posts by (field, value, label, platform): field `_post` counts
posts, `province` their province, and operator/touchpoint/risk_flag/keyword their tags. Triggers on
`posts` and `post_tags` keep it exact on insert, update and delete. A query filtered only by time,
label and platform reads whole hours from the rollup and the partial hours at either end from the posts.
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3
from collections import Counter
from collections.abc import Callable
from typing import Any

from yuqing.index import codec
from yuqing.index.protocol import Bucket, PostQuery

HOUR = 3600
_KEY = "(field, hour, value, label, platform)"


def _bump(sign: str, ref: str, field: str, value: str, label: str, platform: str) -> str:
    hour = f"CAST({ref}.published_at / {HOUR} AS INTEGER)"
    if sign == "+":
        return (f"INSERT INTO rollup (field, hour, value, label, platform, n) VALUES ({field}, {hour}, {value}, "
                f"{label}, {platform}, 1) ON CONFLICT{_KEY} DO UPDATE SET n = n + 1;")
    where = f"field = {field} AND hour = {hour} AND value = {value} AND label = {label} AND platform = {platform}"
    return f"UPDATE rollup SET n = n - 1 WHERE {where}; DELETE FROM rollup WHERE {where} AND n <= 0;"


def _post_rows(sign: str, ref: str) -> str:
    label, platform = f"coalesce({ref}.eff_label, '')", f"{ref}.platform"
    return (_bump(sign, ref, "'_post'", "''", label, platform)
            + _bump(sign, ref, "'province'", f"coalesce({ref}.province, '')", label, platform))


def _tag_rows(sign: str, ref: str) -> str:
    return _bump(sign, ref, f"{ref}.field", f"{ref}.value", f"{ref}.label", f"{ref}.platform")


ROLLUP_MIGRATION = f"""
    CREATE INDEX posts_time ON posts(published_at);
    CREATE TABLE rollup (
        field TEXT NOT NULL, hour INTEGER NOT NULL, value TEXT NOT NULL, label TEXT NOT NULL, platform TEXT NOT NULL,
        n INTEGER NOT NULL, PRIMARY KEY {_KEY}
    ) WITHOUT ROWID;
    INSERT INTO rollup SELECT '_post', CAST(published_at / {HOUR} AS INTEGER) AS h, '', coalesce(eff_label, ''), platform,
        count(*) FROM posts GROUP BY h, eff_label, platform;
    INSERT INTO rollup SELECT 'province', CAST(published_at / {HOUR} AS INTEGER) AS h, coalesce(province, ''),
        coalesce(eff_label, ''), platform, count(*) FROM posts GROUP BY h, province, eff_label, platform;
    INSERT INTO rollup SELECT field, CAST(published_at / {HOUR} AS INTEGER) AS h, value, label, platform, count(*)
        FROM post_tags GROUP BY field, h, value, label, platform;
    CREATE TRIGGER posts_rollup_insert AFTER INSERT ON posts BEGIN {_post_rows('+', 'new')} END;
    CREATE TRIGGER posts_rollup_delete AFTER DELETE ON posts BEGIN {_post_rows('-', 'old')} END;
    CREATE TRIGGER posts_rollup_update AFTER UPDATE OF published_at, eff_label, platform, province ON posts
        WHEN old.published_at IS NOT new.published_at OR old.eff_label IS NOT new.eff_label
          OR old.platform IS NOT new.platform OR old.province IS NOT new.province
        BEGIN {_post_rows('-', 'old')} {_post_rows('+', 'new')} END;
    CREATE TRIGGER tags_rollup_insert AFTER INSERT ON post_tags BEGIN {_tag_rows('+', 'new')} END;
    CREATE TRIGGER tags_rollup_delete AFTER DELETE ON post_tags BEGIN {_tag_rows('-', 'old')} END;
    CREATE TRIGGER tags_rollup_update AFTER UPDATE ON post_tags BEGIN {_tag_rows('-', 'old')} {_tag_rows('+', 'new')} END;
"""

# the rollup field and the column that gives a facet's or volume's key
_GROUPS = {"label": ("_post", "label"), "platform": ("_post", "platform"), "province": ("province", "value"),
           "operator": ("operator", "value"), "touchpoint": ("touchpoint", "value"),
           "risk_flag": ("risk_flag", "value"), "keyword": ("keyword", "value")}


class RollupMixin:
    """Fast paths for count_posts, facet and volume; needs `_q` and the raw `_count_raw`, `_facet_raw`, `_volume_raw`."""

    _q: Callable[..., list[sqlite3.Row]]
    _count_raw: Callable[[PostQuery], int]
    _facet_raw: Callable[..., dict[str, int]]
    _volume_raw: Callable[..., list[Bucket]]

    @staticmethod
    def _rollup_applies(q: PostQuery) -> bool:
        return dataclasses.replace(q, since=None, until=None, labels=(), platforms=()) == PostQuery()

    @staticmethod
    def _split(q: PostQuery) -> tuple[int, int, list[PostQuery]] | None:
        """Whole hours [h0, h1) for the rollup and the partial-hour queries at the edges; None if no whole hour."""
        since = codec.ts(q.since)
        until = codec.ts(q.until)
        h0 = math.ceil(since / HOUR) if since is not None else -(2**62)
        h1 = math.floor(until / HOUR) if until is not None else 2**62
        if h0 >= h1:
            return None
        edges = []
        if since is not None and h0 * HOUR > since:
            edges.append(dataclasses.replace(q, until=codec.dt(h0 * HOUR)))
        if until is not None and h1 * HOUR < until:
            edges.append(dataclasses.replace(q, since=codec.dt(h1 * HOUR)))
        return h0, h1, edges

    def _rollup_rows(self, q: PostQuery, field: str, columns: str, h0: int, h1: int) -> list[sqlite3.Row]:
        sql = f"SELECT {columns}, sum(n) FROM rollup WHERE field = ? AND hour >= ? AND hour < ?"
        params: list[Any] = [field, h0, h1]
        for values, column in ((q.labels, "label"), (q.platforms, "platform")):
            if values:
                sql += f" AND {column} IN ({','.join('?' * len(values))})"
                params.extend(values)
        return self._q(sql + f" GROUP BY {columns}", params)

    def count_posts(self, query: PostQuery) -> int:
        split = self._split(query) if self._rollup_applies(query) else None
        if split is None:
            return self._count_raw(query)
        h0, h1, edges = split
        rows = self._rollup_rows(query, "_post", "field", h0, h1)
        return sum(int(r[1]) for r in rows) + sum(self._count_raw(e) for e in edges)

    def facet(self, query: PostQuery, field: str, *, size: int = 20) -> dict[str, int]:
        split = self._split(query) if self._rollup_applies(query) and field in _GROUPS else None
        if split is None:
            return self._facet_raw(query, field, size=size)
        h0, h1, edges = split
        rollup_field, column = _GROUPS[field]
        counts: Counter[str] = Counter()
        for r in self._rollup_rows(query, rollup_field, column, h0, h1):
            if r[0] != "":
                counts[r[0]] += int(r[1])
        for e in edges:
            counts.update(self._facet_raw(e, field, size=1_000_000))
        ranked = sorted(((k, n) for k, n in counts.items() if n > 0), key=lambda kv: (-kv[1], kv[0]))
        return dict(ranked[:size])

    def volume(self, query: PostQuery, *, bucket_seconds: int, by: str = "label") -> list[Bucket]:
        usable = self._rollup_applies(query) and by in _GROUPS and bucket_seconds > 0 and bucket_seconds % HOUR == 0
        split = self._split(query) if usable else None
        if split is None:
            return self._volume_raw(query, bucket_seconds=bucket_seconds, by=by)
        h0, h1, edges = split
        rollup_field, column = _GROUPS[by]
        counts: Counter[tuple[int, str]] = Counter()
        for r in self._rollup_rows(query, rollup_field, f"hour, {column}", h0, h1):
            counts[(r[0] * HOUR // bucket_seconds * bucket_seconds, r[1] or "")] += int(r[2])
        for e in edges:
            for b in self._volume_raw(e, bucket_seconds=bucket_seconds, by=by):
                counts[(int(b.start.timestamp()), b.key)] += b.count
        return [Bucket(codec.dt(start), key, n) for (start, key), n in sorted(counts.items()) if n > 0]  # type: ignore[arg-type]
