"""The composition root: Settings -> (PostIndex, OpsDB), the sentiment Analyzer.

The one module that picks and opens store implementations; every process opens its stores here once (a
command, the scheduler process, a crawl subprocess, the dashboard) and passes them down. Apps import the
protocols (yuqing.index, yuqing.ops), never an implementation.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any, NamedTuple

from yuqing.config import Settings
from yuqing.errors import StoreError, StoreUnavailable
from yuqing.index import PostIndex
from yuqing.ops import OpsDB

_lock = threading.Lock()
_shared: dict[tuple[str, str], Stores] = {}
_analyzers: dict[tuple[str, str, int], Any] = {}


class Stores(NamedTuple):
    """The two stores of one process; `with open_stores(s) as (index, ops):` closes both."""

    index: PostIndex
    ops: OpsDB

    def close(self) -> None:
        try:
            self.index.close()
        finally:
            self.ops.close()

    def __enter__(self) -> Stores:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def index_key(settings: Settings) -> str:
    """Identity of the configured post index (cache keys, migration checkpoints)."""
    s = settings.store
    return f"es:{s.es_url}/{s.es_prefix}" if settings.store_backend == "elasticsearch" else f"sqlite:{s.path}"


def open_index(settings: Settings) -> PostIndex:
    """Elasticsearch when YUQING_ES_URL is set, else the SQLite file of [store] path."""
    if settings.store_backend == "elasticsearch":
        from yuqing.index.elastic import ElasticIndex

        return ElasticIndex.from_settings(settings)
    from yuqing.index.sqlite import SQLiteIndex

    return SQLiteIndex.from_settings(settings)


def open_ops(settings: Settings) -> OpsDB:
    """The OpsDB at settings.database_url (migrated on open)."""
    from yuqing.ops.sql import SqlOps

    return SqlOps.from_settings(settings)


def open_stores(settings: Settings) -> Stores:
    index = open_index(settings)
    try:
        return Stores(index, open_ops(settings))
    except BaseException:
        index.close()
        raise


def shared_stores(settings: Settings) -> Stores:
    """This process's stores for these settings, opened on first use and closed at exit (scheduler jobs)."""
    key = (index_key(settings), settings.database_url)
    with _lock:
        if key not in _shared:
            _shared[key] = open_stores(settings)
            atexit.register(_shared[key].close)
        return _shared[key]


def analyzer(settings: Settings) -> Any:
    """The sentiment Analyzer for these settings, built once per process (the model loads once)."""
    key = (settings.sentiment.model, settings.sentiment.touchpoints, settings.sentiment.batch_size)
    with _lock:
        if key not in _analyzers:
            from sentiment.analyze import Analyzer

            _analyzers[key] = Analyzer.from_settings(settings)
        return _analyzers[key]


def check_database(settings: Settings) -> list[str]:
    """`yuqing config check`: the OpsDB answers (a PostgreSQL server that cannot be reached is named)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    from yuqing.config import mask_url

    url = settings.database_url
    if url.startswith("sqlite"):
        return []
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except (SQLAlchemyError, ImportError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return [f"[database] url: cannot reach the OpsDB at {mask_url(settings.database.url)}: {reason}"]
    return []


__all__ = ["StoreError", "StoreUnavailable", "Stores", "analyzer", "check_database", "index_key", "open_index",
           "open_ops", "open_stores", "shared_stores"]
