"""Storage: the Store protocol and its two implementations, chosen by settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from yuqing.store.base import PostQuery, Store, StoreError, StoreUnavailable, WriteResult

if TYPE_CHECKING:
    from yuqing.config import Settings

__all__ = ["PostQuery", "Store", "StoreError", "StoreUnavailable", "WriteResult", "open_store"]


def open_store(settings: Settings) -> Store:
    """The configured store: Elasticsearch when YUQING_ES_URL is set, else the embedded SQLite file."""
    if settings.store_backend == "elasticsearch":
        from yuqing.store.elastic import ElasticStore

        return ElasticStore.from_settings(settings)  # type: ignore[no-any-return]
    from yuqing.store.sqlite import SQLiteStore

    return SQLiteStore.from_settings(settings)
