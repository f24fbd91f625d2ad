"""Records <-> flat dicts for storage: the only place that knows the stored field names.

The SQLite index keeps one row per post with the post's fields, its analysis, the human
correction and the effective label; events are kept as JSON documents.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

from yuqing.records import Analysis, Post, StoredPost


def ts(value: datetime | None) -> float | None:
    return value.timestamp() if value else None


def dt(value: float | int | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).astimezone(UTC)
    return datetime.fromtimestamp(float(value), UTC)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def loads(value: str | None, default: Any = None) -> Any:
    if not value:
        return default
    return json.loads(value)


POST_FIELDS = ("platform", "post_id", "kind", "title", "text", "url", "author_id", "author_name",
               "author_verified", "author_followers", "reposts", "comments", "likes", "parent_id",
               "ip_region", "keyword")


def post_to_doc(post: Post, analysis: Analysis | None) -> dict[str, Any]:
    """A flat document; list fields stay lists, times are epoch seconds (UTC)."""
    doc: dict[str, Any] = {f: getattr(post, f) for f in POST_FIELDS}
    doc["key"] = post.key
    doc["author_verified"] = bool(post.author_verified)
    doc["published_at"] = ts(post.published_at)
    doc["crawled_at"] = ts(post.crawled_at)
    doc["post_operators"] = list(post.operators)
    doc["extra"] = dict(post.extra)
    if analysis is not None:
        doc.update({
            "label": analysis.label, "score": analysis.score, "model": analysis.model,
            "model_version": analysis.model_version, "touchpoints": list(analysis.touchpoints),
            "operators": list(analysis.operators or post.operators), "province": analysis.province,
            "city": analysis.city, "risk_flags": list(analysis.risk_flags), "influence": analysis.influence,
            "keywords": list(analysis.keywords), "event_id": analysis.event_id,
            "simhash": str(analysis.simhash), "analyzed_at": ts(analysis.analyzed_at),
        })
    else:
        doc.update({"label": "", "score": None, "model": "", "model_version": "", "touchpoints": [],
                    "operators": list(post.operators), "province": "", "city": "", "risk_flags": [],
                    "influence": 0.0, "keywords": [], "event_id": "", "simhash": "0", "analyzed_at": None})
    return doc


def doc_to_stored(doc: dict[str, Any]) -> StoredPost:
    post = Post(
        **{f: doc[f] for f in POST_FIELDS},
        published_at=dt(doc["published_at"]),  # type: ignore[arg-type]
        crawled_at=dt(doc.get("crawled_at")),
        operators=tuple(doc.get("post_operators") or ()),
        extra=doc.get("extra") or {},
    )
    analysis = None
    if doc.get("label"):
        analysis = Analysis(
            label=doc["label"], score=float(doc.get("score") or 0.0), model=doc.get("model") or "",
            model_version=doc.get("model_version") or "", touchpoints=tuple(doc.get("touchpoints") or ()),
            operators=tuple(doc.get("operators") or ()), province=doc.get("province") or "",
            city=doc.get("city") or "", risk_flags=tuple(doc.get("risk_flags") or ()),
            influence=float(doc.get("influence") or 0.0), keywords=tuple(doc.get("keywords") or ()),
            event_id=doc.get("event_id") or "", simhash=int(doc.get("simhash") or 0),
            analyzed_at=dt(doc.get("analyzed_at")),
        )
    return StoredPost(post=post, analysis=analysis, corrected_label=doc.get("corrected_label") or "",
                      first_seen=dt(doc.get("first_seen")))


def record_to_doc(record: Any) -> dict[str, Any]:
    """A record (an Event) as a JSON-safe dict."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if isinstance(value, datetime):
            value = ts(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif hasattr(value, "items"):
            value = dict(value)
        out[f.name] = value
    return out


def doc_to_record(cls: type, doc: dict[str, Any]) -> Any:
    """The inverse of record_to_doc; unknown keys are ignored so older rows still load."""
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in doc:
            continue
        value = doc[f.name]
        ftype = str(f.type)
        if "datetime" in ftype and value is not None and not isinstance(value, datetime):
            value = dt(value)
        elif ftype.startswith("tuple") and value is not None:
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)
