"""The PostIndex: posts and events, search and aggregations (SQLite FTS5 or Elasticsearch).

Apps import the protocol and query types from here; only yuqing.wiring picks and opens an implementation.
"""

from __future__ import annotations

from yuqing.errors import StoreError, StoreUnavailable
from yuqing.index.protocol import Bucket, PostIndex, PostQuery, WriteResult

__all__ = ["Bucket", "PostIndex", "PostQuery", "StoreError", "StoreUnavailable", "WriteResult"]
