"""Shared test fixtures: the real third-party data beside the checkout, a fresh store, a fixed clock."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout (CI), or $YUQING_SHARED_DATA for a checkout elsewhere (a git worktree)
SHARED_DATA = Path(os.environ.get("YUQING_SHARED_DATA") or ROOT.parent / "shared" / "data")
FIXTURES = ROOT / "tests" / "fixtures"


def shared_path(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (../shared/data sits beside the checkout in CI)")
    return path


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"real data not available: {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture
def fixed_now() -> datetime:
    return datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_real_connect = socket.socket.connect
# every process a test starts (yuqing run, demo, crawl subprocesses, the dashboard) refuses non-loopback hosts too
os.environ["YQ_LOOPBACK_ONLY"] = "1"


def _loopback_only(self: socket.socket, address: object) -> object:
    """Tests never open a socket beyond 127.0.0.1: anything else fails loudly."""
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if not (host.startswith("127.") or host in ("localhost", "::1", "0.0.0.0")):
            raise OSError(f"test tried to reach {address!r}: only loopback is allowed")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    yield


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """A throwaway PostgreSQL server on 127.0.0.1 for the whole run (tests/pgserver.py); skipped, with the
    reason, only where the PostgreSQL server binaries are absent."""
    from tests.pgserver import SKIP_REASON, PgServer, find_bin

    if find_bin() is None:
        pytest.skip(SKIP_REASON)
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: object) -> str:
    """A fresh, empty PostgreSQL database on the throwaway server."""
    return pg_server.database()  # type: ignore[attr-defined,no-any-return]


class Both:
    """A test's post index and OpsDB under one name: PostIndex methods go to the index, the rest to the OpsDB.

    Unpacks as (index, ops): `evaluate(*store, settings, now)`; functions that take one of them take it whole.
    """

    def __init__(self, index: object, ops: object) -> None:
        self.index, self.ops = index, ops

    def __getattr__(self, name: str) -> object:
        return getattr(self.index if name in _INDEX_METHODS else self.ops, name)

    def __iter__(self) -> Iterator[object]:
        yield self.index
        yield self.ops

    def close(self) -> None:
        self.index.close()  # type: ignore[attr-defined]
        self.ops.close()  # type: ignore[attr-defined]


_INDEX_METHODS = {"upsert_posts", "get_post", "seen_ids", "search_posts", "count_posts", "volume", "facet",
                  "iter_posts", "correct_label", "list_corrections", "upsert_events", "get_event", "list_events", "merge_events",
                  "search_hits"}


def make_both(tmp_path: Path, index: str = "sqlite", ops: str = "sqlite", pg_url: str = "") -> Iterator[Both]:
    """A fresh post index (sqlite | es-standin) and OpsDB (sqlite | postgresql) in tmp_path."""
    import contextlib

    from yuqing.ops.sql import SqlOps

    with contextlib.ExitStack() as stack:
        if index == "sqlite":
            from yuqing.index.sqlite import SQLiteIndex

            idx: object = SQLiteIndex(tmp_path / "yuqing.db")
        else:
            from elasticsearch import Elasticsearch

            from tests.index.fake_es_http import serve
            from yuqing.index.elastic import ElasticIndex

            url, _ = stack.enter_context(serve())
            idx = ElasticIndex(Elasticsearch(url, request_timeout=10), prefix="yuqing-standin")
        url = pg_url.replace("postgresql://", "postgresql+psycopg://") if ops == "postgresql" else \
            f"sqlite:///{tmp_path / 'yuqing.db'}"
        both = Both(idx, SqlOps(url))
        try:
            yield both
        finally:
            both.close()
