"""Elasticsearch index names, the posts index template and the explicit mappings of the posts and events.

Pure functions returning request bodies; elastic.py sends them, tests check their shape.
Posts live in monthly indices `<prefix>-posts-YYYY.MM` behind the alias `<prefix>-posts`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

KW: dict[str, Any] = {"type": "keyword"}
DATE: dict[str, Any] = {"type": "date"}
FLOAT: dict[str, Any] = {"type": "float"}
INT: dict[str, Any] = {"type": "integer"}
LONG: dict[str, Any] = {"type": "long"}
BOOL: dict[str, Any] = {"type": "boolean"}
STORED: dict[str, Any] = {"type": "keyword", "index": False, "doc_values": False}  # kept in _source only
TOKENS_ANALYZER = "yuqing_tokens"

EVENTS = "events"
# The events index (name suffix -> mapping properties). Posts are in monthly indices behind an alias; everything
# that is not a post or an event lives in the OpsDB (SQL), not here.
RECORD_INDICES: dict[str, dict[str, Any]] = {
    EVENTS: {
        "event_id": KW, "title": {"type": "text"}, "first_seen": DATE, "last_seen": DATE, "size": INT,
        "negative": INT, "keywords": KW, "operators": KW, "touchpoints": KW, "simhash": STORED, "sample_key": KW,
        "city": KW,
    },
}

POST_PROPERTIES: dict[str, Any] = {
    "key": KW, "platform": KW, "post_id": KW, "kind": KW, "url": STORED,
    "text": {"type": "text", "analyzer": "standard"},  # the raw text; CJK indexed per character
    "words": {"type": "text", "analyzer": TOKENS_ANALYZER},  # jieba lcut_for_search words (relevance)
    "grams": {"type": "text", "analyzer": TOKENS_ANALYZER},  # character bigrams + ASCII words (matching)
    "title": {"type": "text", "analyzer": "standard"},
    "published_at": DATE, "crawled_at": DATE, "first_seen": DATE,
    "author_id": KW, "author_name": KW, "author_verified": BOOL, "author_followers": LONG,
    "reposts": LONG, "comments": LONG, "likes": LONG, "parent_id": KW, "ip_region": KW, "keyword": KW,
    "post_operators": KW, "extra_json": STORED,
    # the effective (filterable) fields: a correction wins over the model's label
    "label": KW, "model_label": KW, "corrected_label": KW, "corrected_by": KW, "corrected_at": DATE,
    "operators": KW, "touchpoints": KW, "province": KW, "city": KW, "risk_flags": KW, "keywords": KW,
    "event_id": KW, "influence": FLOAT, "score": FLOAT,
    "analysis_json": STORED,  # the whole Analysis for a faithful round trip
}


def index_name(prefix: str, suffix: str) -> str:
    return f"{prefix}-{suffix}"


def posts_alias(prefix: str) -> str:
    return f"{prefix}-posts"


def posts_index(prefix: str, published_at: datetime) -> str:
    """The monthly index a post belongs to (by its UTC publication month)."""
    return f"{prefix}-posts-{published_at:%Y.%m}"


def posts_template(prefix: str, *, shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    """Body of PUT _index_template/<prefix>-posts: settings, analyzer, mappings and the alias."""
    return {
        "index_patterns": [f"{prefix}-posts-*"],
        "priority": 200,
        "template": {
            "settings": {
                "number_of_shards": shards,
                "number_of_replicas": replicas,
                "refresh_interval": "1s",
                "analysis": {
                    "analyzer": {
                        TOKENS_ANALYZER: {"type": "custom", "tokenizer": "whitespace", "filter": ["lowercase"]},
                    },
                },
            },
            "mappings": {"dynamic": "strict", "properties": POST_PROPERTIES},
            "aliases": {posts_alias(prefix): {}},
        },
        "_meta": {"description": "yuqing posts, one index per month", "managed_by": "yuqing"},
    }


def record_index_body(suffix: str, *, replicas: int = 0) -> dict[str, Any]:
    """Body of PUT <prefix>-<suffix> for the events index."""
    return {
        "settings": {"number_of_shards": 1, "number_of_replicas": replicas},
        "mappings": {"dynamic": "strict", "properties": RECORD_INDICES[suffix]},
    }
