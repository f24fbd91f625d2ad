"""A pytest plugin that runs any test suite on the Elasticsearch post index: every `SQLiteIndex(path)` (and so
yuqing.wiring's SQLite index) becomes an ElasticIndex on the loopback stand-in, one stand-in per path; the OpsDB
stays SQL.

    PYTHONPATH=. .venv/bin/pytest -p tests.index.es_swap tests/alerts tests/dashboard/test_pages.py tests/crawlers/test_pipeline.py

Tests that start the app in another process (browser, end-to-end crawls) still use SQLite there.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from elasticsearch import Elasticsearch

import yuqing.index.sqlite as sqlite_module
from tests.index.fake_es_http import serve
from yuqing.index.elastic import ElasticIndex

_servers: dict[str, str] = {}
_stack = contextlib.ExitStack()


class SwappedStore(ElasticIndex):
    """Built like SQLiteIndex (from a path), indexed on Elasticsearch."""

    def __init__(self, path: Any, **_: Any) -> None:
        key = str(path)
        if key not in _servers:
            url, _state = _stack.enter_context(serve())
            _servers[key] = url
        super().__init__(Elasticsearch(_servers[key], request_timeout=10), prefix="swap")
        self.path = path

    @classmethod
    def from_settings(cls, settings: Any, **_: Any) -> SwappedStore:
        return cls(settings.store.path)


# at import: the suites' conftest files import SQLiteIndex before pytest_configure would run
sqlite_module.SQLiteIndex = SwappedStore  # type: ignore[misc]


def pytest_unconfigure(config: Any) -> None:
    _stack.close()
    print(f"\nes_swap: {len(_servers)} stores ran on the Elasticsearch stand-in", file=sys.stderr)
