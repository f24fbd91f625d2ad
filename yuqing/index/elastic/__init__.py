"""The Elasticsearch post index (posts and events only)."""

from __future__ import annotations

from yuqing.index.elastic.index import ElasticIndex

__all__ = ["ElasticIndex"]
