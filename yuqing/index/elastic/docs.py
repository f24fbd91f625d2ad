"""Records <-> Elasticsearch documents (pure). Opaque values go in `*_json` string fields kept in _source only."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TypeVar

from yuqing.index.elastic.mappings import POST_PROPERTIES, RECORD_INDICES
from yuqing.index.tokens import index_tokens
from yuqing.recjson import from_json, to_json
from yuqing.records import Analysis, Post, StoredPost

T = TypeVar("T")


def _dumps(value: Any) -> str:
    return json.dumps(to_json(value), ensure_ascii=False, sort_keys=True)


def record_doc(suffix: str, record: Any, **extra: Any) -> dict[str, Any]:
    """The document of a record (an Event) for index `<prefix>-<suffix>`; fields not mapped are dropped."""
    props = RECORD_INDICES[suffix]
    data = to_json(record)
    doc: dict[str, Any] = {}
    for name, value in data.items():
        if f"{name}_json" in props:
            doc[f"{name}_json"] = _dumps(getattr(record, name))
        elif name in props:
            doc[name] = value
    doc.update(extra)
    return doc


def record_from_doc(cls: type[T], source: dict[str, Any]) -> T:
    """Rebuild a record from its document (events; old operational records in `yuqing store migrate`)."""
    data = {}
    for name, value in source.items():
        if name.endswith("_json") and isinstance(value, str):
            data[name[: -len("_json")]] = json.loads(value)
        else:
            data[name] = value
    return from_json(cls, data)


def effective_operators(post: Post, analysis: Analysis | None) -> list[str]:
    """Operators a post is about: the analysis's when it found any, else those the watchlist matched."""
    return list((analysis.operators if analysis else ()) or post.operators)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def post_doc(post: Post, analysis: Analysis | None) -> dict[str, Any]:
    """Fields a (re)crawl sets. Analysis fields only when there is an analysis, so a re-crawl keeps the old one."""
    doc: dict[str, Any] = {
        "key": post.key, "platform": post.platform, "post_id": post.post_id, "kind": post.kind, "url": post.url,
        "text": post.text, "title": post.title,
        "published_at": _iso(post.published_at), "crawled_at": _iso(post.crawled_at),
        "author_id": post.author_id, "author_name": post.author_name, "author_verified": post.author_verified,
        "author_followers": post.author_followers, "reposts": post.reposts, "comments": post.comments,
        "likes": post.likes, "parent_id": post.parent_id, "ip_region": post.ip_region, "keyword": post.keyword,
        "post_operators": list(post.operators), "extra_json": _dumps(dict(post.extra)),
    }
    doc["words"], doc["grams"] = index_tokens(f"{post.title}\n{post.text}" if post.title else post.text)
    if analysis is not None:
        doc.update({
            "model_label": analysis.label, "score": analysis.score, "label": analysis.label,
            "operators": effective_operators(post, analysis), "touchpoints": list(analysis.touchpoints),
            "province": analysis.province, "city": analysis.city, "risk_flags": list(analysis.risk_flags),
            "keywords": list(analysis.keywords), "event_id": analysis.event_id, "influence": analysis.influence,
            "analysis_json": _dumps(analysis),
        })
    return doc


def post_upsert_actions(
    index: str, post: Post, analysis: Analysis | None, *, corrected: str, first_seen: datetime
) -> dict[str, Any]:
    """One bulk `update` action: merge the crawl fields into an existing post, or insert a new one."""
    doc = post_doc(post, analysis)
    if corrected and "label" in doc:
        doc["label"] = corrected  # a human correction wins over the model
    new = dict(doc, first_seen=first_seen.isoformat())
    if analysis is None:  # the same defaults as the embedded store
        new.update(label=corrected, operators=list(post.operators), influence=0.0)
    return {"_op_type": "update", "_index": index, "_id": post.key, "doc": doc, "upsert": new,
            "retry_on_conflict": 3}


def stored_post_from_doc(source: dict[str, Any]) -> StoredPost:
    post = Post(
        platform=source["platform"], post_id=source["post_id"], text=source.get("text", ""),
        published_at=datetime.fromisoformat(source["published_at"]), url=source.get("url", ""),
        kind=source.get("kind", "post"), title=source.get("title", ""), author_id=source.get("author_id", ""),
        author_name=source.get("author_name", ""), author_verified=bool(source.get("author_verified", False)),
        author_followers=int(source.get("author_followers") or 0), reposts=int(source.get("reposts") or 0),
        comments=int(source.get("comments") or 0), likes=int(source.get("likes") or 0),
        parent_id=source.get("parent_id", ""), ip_region=source.get("ip_region", ""),
        keyword=source.get("keyword", ""), operators=tuple(source.get("post_operators") or ()),
        extra=json.loads(source.get("extra_json") or "{}"),
        crawled_at=datetime.fromisoformat(source["crawled_at"]) if source.get("crawled_at") else None,
    )
    analysis = None
    if source.get("analysis_json"):
        analysis = from_json(Analysis, json.loads(source["analysis_json"]))
    first_seen = datetime.fromisoformat(source["first_seen"]) if source.get("first_seen") else None
    return StoredPost(post=post, analysis=analysis, corrected_label=source.get("corrected_label") or "",
                      first_seen=first_seen)


def unmapped_fields(doc: dict[str, Any], properties: dict[str, Any] | None = None) -> list[str]:
    """Fields of `doc` the strict mapping would reject (used by tests and before sending)."""
    props = POST_PROPERTIES if properties is None else properties
    return sorted(k for k in doc if k not in props)

