"""The spool: while the store is unreachable posts are kept on disk, then written once, in order, none twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from yuqing.errors import StoreUnavailable
from yuqing.index import PostQuery, WriteResult
from yuqing.index.spool import REPLAYED, Spool, SpoolingWriter
from yuqing.index.sqlite import SQLiteIndex
from yuqing.records import Analysis, Post

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def item(i: int, likes: int = 0) -> tuple[Post, Analysis]:
    post = Post("weibo", str(i), f"电信宽带断网第{i}天", NOW - timedelta(minutes=i), likes=likes, operators=("电信",),
                extra={"page": i // 10})
    return post, Analysis("negative", 0.1, touchpoints=("宽带",), operators=("电信",), simhash=2**64 - i - 1)


class Outage:
    """The embedded store behind a switch: while `down`, every call fails as an unreachable store would."""

    def __init__(self, store: SQLiteIndex) -> None:
        self.store, self.down, self.calls = store, False, 0

    def upsert_posts(self, items: Any) -> WriteResult:
        self.calls += 1
        if self.down:
            raise StoreUnavailable("connection refused (test outage)")
        return self.store.upsert_posts(items)


def crawl(writer: SpoolingWriter, outage: Outage, plan: list[tuple[range, bool]]) -> list[WriteResult]:
    """Batches as the pipeline writes them; the store is down for the batches marked True."""
    results = []
    for ids, down in plan:
        outage.down = down
        results.append(writer.write([item(i, likes=i % 7) for i in ids]))
    return results


def assert_each_once(store: Any, expected: set[str]) -> None:
    keys = [sp.post.key for batch in store.iter_posts(batch=64) for sp in batch]
    assert len(keys) == len(set(keys))
    assert {k.split(":", 1)[1] for k in keys} == expected


def test_outage_during_a_crawl_spools_then_writes_everything_once(tmp_path: Path) -> None:
    store = SQLiteIndex(tmp_path / "y.db")
    outage = Outage(store)
    writer = SpoolingWriter(outage, tmp_path / "spool")
    plan = [(range(0, 50), False), (range(40, 90), True), (range(90, 140), True), (range(130, 180), False),
            (range(180, 200), False)]  # overlapping pages: some posts are crawled twice
    results = crawl(writer, outage, plan[:3])
    assert writer.spooled == 100 and results[1] == WriteResult() and results[2] == WriteResult()
    status = writer.pending()
    assert (status.segments, status.items) == (2, 100)
    assert store.count_posts(PostQuery()) == 50  # only what was written before the outage

    results += crawl(writer, outage, plan[3:])  # the store is back: spooled batches go first, then the new one
    unique = set().union(*(set(map(str, ids)) for ids, _ in plan))
    assert_each_once(store, unique)
    assert sum(r.inserted for r in results) == len(unique) == 200
    assert sum(r.failed for r in results) == 0
    assert writer.pending().segments == 0 and not (tmp_path / "spool" / REPLAYED).exists()
    got = store.get_post("weibo", "100")
    assert (got.post, got.analysis) == item(100, likes=100 % 7)
    assert writer.flush().segments == 0  # nothing left to replay, nothing replayed twice
    assert store.count_posts(PostQuery()) == 200


def test_elasticsearch_on_a_closed_port_spools_until_it_listens(tmp_path: Path, free_port: int) -> None:
    from elasticsearch import Elasticsearch

    from tests.index.fake_es_http import serve
    from yuqing.index.elastic import ElasticIndex

    store = ElasticIndex(Elasticsearch(f"http://127.0.0.1:{free_port}", request_timeout=5, max_retries=0),
                         prefix="spooltest")
    with pytest.raises(StoreUnavailable):
        store.ping()
    writer = SpoolingWriter(store, tmp_path / "spool")
    assert writer.write([item(i) for i in range(30)]) == WriteResult()
    assert writer.write([item(i, likes=5) for i in range(20, 60)]) == WriteResult()
    assert writer.pending().items == 70 and "unreachable" in writer.last_error
    with serve(port=free_port) as (_, es):
        flushed = writer.flush()
        assert (flushed.segments, flushed.items, flushed.inserted, flushed.updated) == (2, 70, 60, 10)
        assert store.count_posts(PostQuery()) == 60
        assert store.get_post("weibo", "25").post.likes == 5  # the later batch wins: replayed in order
        assert_each_once(store, {str(i) for i in range(60)})
        assert writer.write([item(60)]).inserted == 1
        bulk_calls = sum(1 for method, path in es.requests if path.endswith("/_bulk"))
        assert bulk_calls == 3
    store.close()


def test_a_replayed_segment_is_never_replayed_again(tmp_path: Path) -> None:
    """A crash after the replay was recorded but before the file was deleted must not replay it twice."""
    spool = Spool(tmp_path / "spool")
    done = spool.append([item(1)])
    pending = spool.append([item(2)])
    (tmp_path / "spool" / REPLAYED).write_text(done.name + "\n", encoding="utf-8")
    (tmp_path / "spool" / ".seg-unfinished.jsonl.tmp").write_text('{"post": ', encoding="utf-8")  # torn write
    store = SQLiteIndex(tmp_path / "y.db")
    result = SpoolingWriter(store, tmp_path / "spool").flush()
    assert (result.segments, result.items, result.inserted) == (1, 1, 1)
    assert store.seen_ids("weibo", ["1", "2"]) == {"2"}
    assert not done.exists() and not pending.exists()


def test_replay_stops_at_the_first_refused_segment_and_keeps_order(tmp_path: Path) -> None:
    store = SQLiteIndex(tmp_path / "y.db")
    outage = Outage(store)
    writer = SpoolingWriter(outage, tmp_path / "spool")
    outage.down = True
    for i in range(3):
        writer.write([item(i)])
    result = writer.flush()
    assert (result.segments, result.pending_segments) == (0, 3) and "refused" in result.error
    assert outage.calls == 4  # three writes, then the flush stopped at the first segment
    outage.down = False
    assert writer.flush().segments == 3
    assert store.count_posts(PostQuery()) == 3


def test_segments_are_complete_jsonl(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    path = spool.append([item(1), item(2, likes=3)])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["post"]["likes"] == 3
    assert spool.read(path) == [item(1), item(2, likes=3)]
    assert not list((tmp_path / "spool").glob("*.tmp"))


def test_cli_spool_status_and_flush(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from yuqing.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YUQING_ES_URL", raising=False)
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    monkeypatch.setenv("YUQING_STORE_PATH", str(tmp_path / "y.db"))
    monkeypatch.setenv("YUQING_STORE_SPOOL_DIR", str(tmp_path / "spool"))
    Spool(tmp_path / "spool").append([item(i) for i in range(4)])
    assert main(["store", "spool-status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["items"] == 4
    assert main(["store", "spool-flush"]) == 0
    assert json.loads(capsys.readouterr().out)["inserted"] == 4
    assert main(["store", "spool-status"]) == 0
    assert "0 segments, 0 posts" in capsys.readouterr().out
    store = SQLiteIndex(tmp_path / "y.db")
    assert store.count_posts(PostQuery()) == 4


def test_cli_store_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                          free_port: int) -> None:
    from yuqing.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    monkeypatch.setenv("YUQING_STORE_PATH", str(tmp_path / "y.db"))
    monkeypatch.setenv("YUQING_STORE_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("YUQING_ES_URL", raising=False)
    SQLiteIndex(tmp_path / "y.db").upsert_posts([item(1), item(2)])
    assert main(["store", "status", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["backend"], shown["reachable"], shown["posts"]) == ("sqlite", True, 2)
    monkeypatch.setenv("YUQING_ES_URL", f"http://127.0.0.1:{free_port}")
    Spool(tmp_path / "spool").append([item(3)])
    assert main(["store", "status"]) == 1
    out = capsys.readouterr().out
    assert "UNREACHABLE" in out and "1 segments, 1 posts waiting" in out


class Refuses(Outage):
    """A store that answers but refuses the writes of one post (StoreError, not StoreUnavailable)."""

    def upsert_posts(self, items: Any) -> WriteResult:
        from yuqing.errors import StoreError

        if any(post.post_id == "13" for post, _ in items):
            raise StoreError("HTTP 400 mapper_parsing_exception")
        return super().upsert_posts(items)


def test_a_segment_refused_again_and_again_is_set_aside_not_blocking(tmp_path: Path) -> None:
    store = SQLiteIndex(tmp_path / "y.db")
    refusing = Refuses(store)
    spool = Spool(tmp_path / "spool")
    spool.append([item(13)])
    spool.append([item(14)])
    (tmp_path / "spool" / "seg-99999999999999999999-1-000000.jsonl").write_text("not json\n", encoding="utf-8")
    writer = SpoolingWriter(refusing, tmp_path / "spool")
    for _ in range(2):
        first = writer.flush()
        assert (first.segments, first.pending_segments, first.quarantined) == (0, 3, 0)
    third = writer.flush()
    assert (third.segments, third.items, third.pending_segments, third.quarantined) == (1, 1, 0, 2)
    assert store.seen_ids("weibo", ["13", "14"]) == {"14"}
    status = writer.pending()
    assert (status.segments, status.failed_segments) == (0, 2)  # kept on disk, visible, never replayed again
    assert len(list((tmp_path / "spool").glob("failed-seg-*.jsonl"))) == 2
