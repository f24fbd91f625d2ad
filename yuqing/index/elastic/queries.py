"""Search, count and aggregation bodies for the posts alias (pure functions of a PostQuery).

Full text works as in the SQLite index (yuqing.index.tokens): every whitespace-separated term of the
query becomes a phrase of character bigrams that must occur in the `grams` field, so every post containing
the term is found (断网, the 宽带 inside 电信宽带); a term ending in one CJK character or an ASCII word
matches it as a prefix ("iPhone" finds "iPhone15"). The jieba `words` only add relevance.
"""

from __future__ import annotations

from typing import Any

from yuqing.index.protocol import PostQuery
from yuqing.index.tokens import index_tokens, query_phrases

# dimension name (volume `by`, facet `field`) -> document field
FIELDS: dict[str, str] = {
    "label": "label", "platform": "platform", "operator": "operators", "touchpoint": "touchpoints",
    "province": "province", "city": "city", "kind": "kind", "keyword": "keywords", "event_id": "event_id",
    "risk_flag": "risk_flags",
}

ORDERS: dict[str, list[Any]] = {
    "published_at_desc": [{"published_at": {"order": "desc"}}, {"key": {"order": "asc"}}],
    "published_at_asc": [{"published_at": {"order": "asc"}}, {"key": {"order": "asc"}}],
    "influence_desc": [{"influence": {"order": "desc", "missing": "_last"}}, {"published_at": {"order": "desc"}},
                       {"key": {"order": "asc"}}],
    "relevance": ["_score", {"published_at": {"order": "desc"}}, {"key": {"order": "asc"}}],
}


SINGLE_VALUED = ("label", "platform", "kind", "province", "city", "event_id")
MAX_BUCKET_KEYS = 1000


def phrase_clause(tokens: list[str], prefix: bool) -> dict[str, Any]:
    """Matches the posts whose grams contain `tokens` in a row (the last one as a prefix when `prefix`)."""
    if not prefix:
        return {"match_phrase": {"grams": " ".join(tokens)}}
    last = {"span_multi": {"match": {"prefix": {"grams": {"value": tokens[-1]}}}}}
    if len(tokens) == 1:
        return {"prefix": {"grams": {"value": tokens[0]}}}
    clauses = [{"span_term": {"grams": t}} for t in tokens[:-1]] + [last]
    return {"span_near": {"clauses": clauses, "slop": 0, "in_order": True}}


def text_clauses(text: str) -> list[dict[str, Any]]:
    """One clause per query term; all must match. A query of only punctuation matches no post
    (the embedded store falls back to a substring scan there; an index of every raw text is not worth it)."""
    out = [phrase_clause(tokens, prefix) for tokens, prefix in query_phrases(text)]
    if text.strip() and not out:
        out.append({"match_none": {}})
    return out


def highlight(text: str) -> dict[str, Any]:
    """Highlight each query term in the raw text and title (indexed one CJK character per term)."""
    terms = [{"match_phrase": {field: term}} for term in text.split() for field in ("text", "title")]
    return {
        "pre_tags": ["<em>"], "post_tags": ["</em>"],
        "highlight_query": {"bool": {"should": terms, "minimum_should_match": 1}},
        "fields": {"text": {"fragment_size": 120, "number_of_fragments": 3}, "title": {"number_of_fragments": 0}},
    }


def _terms(field: str, values: tuple[str, ...]) -> dict[str, Any]:
    return {"terms": {field: list(values)}}


def filters(q: PostQuery) -> list[dict[str, Any]]:
    """The non-scoring filters of a query (everything but the text)."""
    out: list[dict[str, Any]] = []
    if q.since or q.until:
        rng: dict[str, Any] = {}
        if q.since:
            rng["gte"] = q.since.isoformat()
        if q.until:
            rng["lt"] = q.until.isoformat()
        out.append({"range": {"published_at": rng}})
    for values, field in ((q.platforms, "platform"), (q.operators, "operators"), (q.touchpoints, "touchpoints"),
                          (q.provinces, "province"), (q.cities, "city"), (q.labels, "label"),
                          (q.risk_flags, "risk_flags"), (q.kinds, "kind")):
        if values:
            out.append(_terms(field, values))
    if q.event_id:
        out.append({"term": {"event_id": q.event_id}})
    if q.min_influence is not None:
        out.append({"range": {"influence": {"gte": q.min_influence}}})
    if q.keys:
        out.append({"ids": {"values": list(q.keys)}})
    return out


def bool_query(q: PostQuery) -> dict[str, Any]:
    """The query part shared by search, count and aggregations."""
    must = text_clauses(q.text)
    body: dict[str, Any] = {"filter": filters(q)}
    if must:
        body["must"] = must
        words, _ = index_tokens(q.text)
        if words:
            body["should"] = [{"match": {"words": {"query": words, "operator": "or"}}}]
    if not must and not body["filter"]:
        return {"match_all": {}}
    return {"bool": body}


def search_body(q: PostQuery, *, limit: int, offset: int, order: str) -> dict[str, Any]:
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; expected one of {', '.join(ORDERS)}")
    body: dict[str, Any] = {"query": bool_query(q), "from": offset, "size": limit, "sort": ORDERS[order],
                            "track_total_hits": False}
    if q.text.strip():
        body["highlight"] = highlight(q.text)
    return body


def count_body(q: PostQuery) -> dict[str, Any]:
    return {"query": bool_query(q)}


def dimension(name: str) -> str:
    if name not in FIELDS:
        raise ValueError(f"unknown field {name!r}; expected one of {', '.join(FIELDS)}")
    return FIELDS[name]


def terms_agg(name: str, size: int) -> dict[str, Any]:
    """Counts by a dimension; single-valued fields count a missing value as "" like the embedded store."""
    body: dict[str, Any] = {"field": dimension(name), "size": size, "shard_size": max(size * 2, 100)}
    if name in SINGLE_VALUED:
        body["missing"] = ""
    return {"terms": body}


def volume_body(q: PostQuery, *, bucket_seconds: int, by: str) -> dict[str, Any]:
    """date_histogram on published_at (UTC, aligned to the epoch) x terms on the `by` dimension."""
    if bucket_seconds < 1:
        raise ValueError("bucket_seconds must be at least 1")
    return {
        "size": 0,
        "query": bool_query(q),
        "aggs": {
            "over_time": {
                "date_histogram": {"field": "published_at", "fixed_interval": f"{int(bucket_seconds)}s",
                                   "min_doc_count": 1, "time_zone": "UTC"},
                "aggs": {"by": terms_agg(by, MAX_BUCKET_KEYS)},
            }
        },
    }


def facet_body(q: PostQuery, field: str, *, size: int) -> dict[str, Any]:
    return {"size": 0, "query": bool_query(q),
            "aggs": {"facet": terms_agg(field, max(1, size) + 1)}}  # +1: "" is dropped from a facet


def iter_body(*, after: str, batch: int) -> dict[str, Any]:
    """One page of every post in key order, after `after` (search_after on the keyword `key`)."""
    body: dict[str, Any] = {"query": {"match_all": {}}, "size": batch, "sort": [{"key": {"order": "asc"}}],
                            "track_total_hits": False}
    if after:
        body["search_after"] = [after]
    return body


def ids_body(keys: list[str], *, source: list[str] | bool = True) -> dict[str, Any]:
    return {"query": {"ids": {"values": keys}}, "size": len(keys), "_source": source}
