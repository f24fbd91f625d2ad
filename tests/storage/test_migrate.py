"""`yuqing store migrate`: the post index copied between backends (100,000 posts, interrupted and resumed without
duplicates), the operational records of an older Elasticsearch deployment moved into the OpsDB once, resumably,
and one OpsDB copied into another."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import yuqing.index.sqlite as sqlite_module
from yuqing.index import PostQuery
from yuqing.index.sqlite import SQLiteIndex
from yuqing.ops.migrations import LATEST
from yuqing.ops.sql import SqlOps
from yuqing.records import Analysis, Event, Post
from yuqing.storage.copy import copy_index

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "main_stores"
TEXTS = [f"{w}，第{k}次" for w in ("电信宽带断网", "携号转网被拒", "联通5G信号差", "客服电话打不通", "光猫一直红灯")
         for k in range(40)]
LABELS = [Analysis(label, score, operators=(op,), touchpoints=(tp,))
          for label, score, op, tp in (("negative", 0.1, "电信", "宽带"), ("neutral", 0.5, "联通", "5G"),
                                       ("positive", 0.9, "移动", "客服"))]


class Interrupt(Exception):
    pass


@pytest.fixture
def fast_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated texts repeat, so tokenise each distinct text once (the index's behaviour is unchanged)."""
    monkeypatch.setattr(sqlite_module, "index_tokens", functools.lru_cache(maxsize=None)(sqlite_module.index_tokens))


def fill_posts(index: Any, n: int) -> None:
    for start in range(0, n, 10_000):
        index.upsert_posts([
            (Post("weibo" if i % 4 else "zhihu", f"{i:07d}", TEXTS[i % len(TEXTS)], NOW - timedelta(seconds=i),
                  kind="post" if i % 4 else "answer"), LABELS[i % 3])
            for i in range(start, min(n, start + 10_000))])
    index.correct_label("weibo", "0000001", "positive", by="alice")
    index.correct_label("zhihu", "0000004", "neutral", by="bob")
    index.upsert_events([Event("e1", "宽带断网", NOW - timedelta(hours=2), NOW, size=30, negative=25, simhash=2**63)])


def snapshot(index: Any) -> dict[str, Any]:
    """Everything a copy of the post index must carry, in comparable form."""
    return {
        "posts": index.count_posts(PostQuery()),
        "negative": index.count_posts(PostQuery(labels=("negative",))),
        "search": index.count_posts(PostQuery(text="宽带断网")),
        "operators": index.facet(PostQuery(), "operator"),
        "corrections": [(r["platform"], r["post_id"], r["label"], r["by"]) for r in index.list_corrections()],
        "events": index.list_events(limit=100),
    }


@pytest.fixture
def ops(tmp_path: Path) -> Any:
    db = SqlOps(f"sqlite:///{tmp_path / 'ops.db'}")
    yield db
    db.close()


def test_copying_100k_posts_is_complete_and_resumable(tmp_path: Path, fast_tokens: None, ops: Any) -> None:
    source = SQLiteIndex(tmp_path / "source.db")
    fill_posts(source, 100_000)
    target = SQLiteIndex(tmp_path / "target.db")
    seen: list[tuple[str, int, int]] = []

    def stop_after_15_batches(kind: str, done: int, total: int) -> None:
        seen.append((kind, done, total))
        if kind == "posts" and sum(1 for k, _, _ in seen if k == "posts") > 15:
            raise Interrupt

    with pytest.raises(Interrupt):
        copy_index(source, target, ops, name="sqlite:source", batch=2000, progress=stop_after_15_batches)
    assert target.count_posts(PostQuery()) == 30_000
    assert seen[0] == ("posts", 0, 100_000)
    assert ops.get_checkpoint("migrate:sqlite:source:posts").startswith("weibo:")  # kept in the OpsDB
    report = copy_index(source, target, ops, name="sqlite:source", batch=2000)
    assert report.copied["posts"] == 70_000  # resumed after the checkpoint, not from the start
    assert snapshot(target) == snapshot(source)
    keys = [sp.post.key for batch in target.iter_posts(batch=5000) for sp in batch]
    assert len(keys) == len(set(keys)) == 100_000
    assert keys == [sp.post.key for batch in source.iter_posts(batch=5000) for sp in batch]
    copied, original = target.get_post("zhihu", "0099996"), source.get_post("zhihu", "0099996")
    assert (copied.post, copied.analysis, copied.label) == (original.post, original.analysis, original.label)
    assert copy_index(source, target, ops, name="sqlite:source", batch=2000).copied["posts"] == 0  # nothing new
    source.close()
    target.close()


def test_copying_to_elasticsearch_and_back(tmp_path: Path, ops: Any) -> None:
    """SQLite -> Elasticsearch (the loopback stand-in), interrupted and resumed, then back to a new SQLite file."""
    from elasticsearch import Elasticsearch

    from tests.index.fake_es_http import serve
    from yuqing.index.elastic import ElasticIndex

    source = SQLiteIndex(tmp_path / "source.db")
    fill_posts(source, 1500)
    with serve() as (url, _):
        es = ElasticIndex(Elasticsearch(url, request_timeout=10), prefix="migrate")
        calls = {"posts": 0}

        def stop_after_3_batches(kind: str, done: int, total: int) -> None:
            calls[kind] = calls.get(kind, 0) + 1
            if kind == "posts" and calls["posts"] > 3:
                raise Interrupt

        with pytest.raises(Interrupt):
            copy_index(source, es, ops, name="sqlite:source", batch=200, progress=stop_after_3_batches)
        assert es.count_posts(PostQuery()) == 600
        report = copy_index(source, es, ops, name="sqlite:source", batch=200)
        assert report.copied["posts"] == 900
        assert snapshot(es) == snapshot(source)
        back = SQLiteIndex(tmp_path / "back.db")
        assert copy_index(es, back, ops, name="es:migrate", batch=400).copied["posts"] == 1500
        assert snapshot(back) == snapshot(source)
        back.close()
    source.close()


def seed_old_es(state: Any) -> None:
    """The operational indices main's Elasticsearch store wrote (tests/fixtures/main_stores/es-ops-main.json), as
    they were: loaded straight into the stand-in's cluster state."""
    from tests.index.fake_es import Index

    dump = json.loads((FIXTURES / "es-ops-main.json").read_text(encoding="utf-8"))
    for name, docs in dump.items():
        idx = state.indices[name] = Index(name, {}, {"_aliases": {}})
        for doc_id, source in docs.items():
            idx.put(doc_id, source)
        idx.refresh()


def test_operational_records_of_an_old_elasticsearch_move_to_sql_once(tmp_path: Path, pg_url: str) -> None:
    from elasticsearch import Elasticsearch

    from dashboard import sessions, throttle
    from tests.index.fake_es_http import serve
    from yuqing.storage.es_ops import import_es_ops

    target = SqlOps(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    with serve() as (url, state):
        seed_old_es(state)
        es = Elasticsearch(url, request_timeout=10)
        copied = import_es_ops(es, "yuqing", target)
        assert {k: copied[k] for k in ("alerts", "subscribers", "cases", "audit", "outbox", "users", "sessions")} == {
            "alerts": 3, "subscribers": 3, "cases": 2, "audit": 6, "outbox": 3, "users": 2, "sessions": 1}
        again = import_es_ops(es, "yuqing", target)  # run again: everything is there already
        assert set(again.values()) == {0}
    alerts = {a.alert_id: a for a in target.list_alerts()}
    assert sorted(alerts) == [1, 2, 3] and alerts[1].scope == {"operators": ["中国电信"]}
    assert (alerts[3].status, alerts[3].resolution_note) == ("resolved", "已恢复")
    outbox = {m.message_id: m for m in target.list_outbox()}
    assert outbox[1].attachments == (("chart.png", "image/png", b"\x89PNG..."),) and outbox[1].attempts == 1
    assert outbox[2].sent_at is not None and [m.message_id for m in target.due_messages(NOW + timedelta(hours=1))] == [1, 3]
    assert [(s.subscriber_id, s.email, s.active) for s in target.list_subscribers()] == [
        (1, "duty@example.cn", True), (2, "pr@example.cn", True), (3, "boss@example.cn", False)]
    assert {h.source: h.healthy for h in target.source_health()} == {"weibo": True, "zhihu": False}
    assert [(s.rule, s.by) for s in target.active_silences(NOW)] == [("城市网络故障", "bob")]
    token = json.loads((FIXTURES / "session-tokens.json").read_text())["es"]
    assert sessions.resume(target, token, NOW + timedelta(hours=1))["username"] == "alice"
    assert throttle.status(target, "mallory", NOW + timedelta(minutes=1)).locked(NOW + timedelta(minutes=1))
    assert target.get_mark(2, "hourly") == "hourly:2:20261124T01"
    assert target.get_cursor("weibo", "last_success") == (NOW - timedelta(minutes=20)).isoformat()
    assert target.source_first_seen("heimao", NOW) == NOW - timedelta(days=1)
    assert target.save_subscriber(__import__("yuqing.records", fromlist=["Subscriber"]).Subscriber(
        "new@example.cn")).subscriber_id == 4  # the sequences moved past the copied ids
    target.close()


def test_cli_migrate_sqlite_to_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from yuqing.cli import main

    source = SQLiteIndex(tmp_path / "a.db")
    fill_posts(source, 2500)
    source.close()
    monkeypatch.chdir(tmp_path)
    for var in ("YUQING_ES_URL", "YUQING_CONFIG", "YUQING_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    code = main(["store", "migrate", "--from", "sqlite", "--to", "sqlite", "--from-path", str(tmp_path / "a.db"),
                 "--to-path", str(tmp_path / "b.db"), "--batch", "1000"])
    out, err = capsys.readouterr()
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert result["copied"]["posts"] == 2500 and result["to"].endswith("b.db")
    assert "posts" in err and "2500/2500" in err  # the progress bar is on stderr
    target = SQLiteIndex(tmp_path / "b.db")
    assert target.count_posts(PostQuery()) == 2500
    target.close()
    assert main(["store", "migrate", "--from", "sqlite", "--to", "sqlite", "--from-path", str(tmp_path / "a.db"),
                 "--to-path", str(tmp_path / "a.db")]) == 2


def test_cli_migrate_needs_the_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from yuqing.cli import main

    monkeypatch.chdir(tmp_path)
    for var in ("YUQING_ES_URL", "YUQING_CONFIG", "YUQING_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    assert main(["store", "migrate", "--from", "sqlite", "--to", "es", "--from-path", str(tmp_path / "a.db")]) == 2
    assert "YUQING_ES_URL" in capsys.readouterr().err
    assert main(["store", "migrate", "--from", "es", "--to", "sql"]) == 2
    assert "YUQING_ES_URL" in capsys.readouterr().err
    assert main(["store", "migrate", "--from", "sql", "--to", "sql"]) == 2
    assert "--from-url" in capsys.readouterr().err
    assert main(["store", "migrate", "--from", "sql", "--from-url", "ftp://x/y", "--to", "sql"]) == 2
    assert "not supported" in capsys.readouterr().err


def test_cli_copies_this_machines_opsdb_to_postgresql(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`yuqing store migrate --from sql --from-url sqlite:///var/yuqing.db --to sql` with YUQING_DATABASE_URL set."""
    import shutil

    from yuqing.cli import main

    old = tmp_path / "var" / "yuqing.db"
    old.parent.mkdir()
    shutil.copy(FIXTURES / "yuqing-main.db", old)
    monkeypatch.chdir(tmp_path)
    for var in ("YUQING_ES_URL", "YUQING_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("YUQING_DATABASE_URL", pg_url)
    assert main(["store", "migrate", "--from", "sql", "--from-url", "sqlite:///var/yuqing.db", "--to", "sql",
                 "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["copied"]["alerts"] == 3 and result["copied"]["login_failures"] == 2
    assert result["to"].startswith("postgresql+psycopg://postgres@127.0.0.1")
    assert main(["store", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert status["ops"]["reachable"] and f"schema {LATEST}" in status["ops"]["schema"] and status["posts"] == 6
