"""`yuqing store migrate`: a 100,000-post embedded store copied completely, interrupted and resumed without duplicates."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yuqing.store.sqlite as sqlite_module
from yuqing.store.migrate import migrate
from yuqing.store.sqlite import SQLiteStore

from yuqing.index import PostQuery
from yuqing.records import (
    Alert,
    Analysis,
    AuditEntry,
    Case,
    CrawlRun,
    Event,
    OutboxMessage,
    Post,
    Rejected,
    Silence,
    Subscriber,
    User,
)

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
TEXTS = [f"{w}，第{k}次" for w in ("电信宽带断网", "携号转网被拒", "联通5G信号差", "客服电话打不通", "光猫一直红灯")
         for k in range(40)]
LABELS = [Analysis(label, score, operators=(op,), touchpoints=(tp,))
          for label, score, op, tp in (("negative", 0.1, "电信", "宽带"), ("neutral", 0.5, "联通", "5G"),
                                       ("positive", 0.9, "移动", "客服"))]


class Interrupt(Exception):
    pass


@pytest.fixture
def fast_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated texts repeat, so tokenise each distinct text once (the store's behaviour is unchanged)."""
    monkeypatch.setattr(sqlite_module, "index_tokens", functools.lru_cache(maxsize=None)(sqlite_module.index_tokens))


def fill_posts(store: SQLiteStore, n: int) -> None:
    for start in range(0, n, 10_000):
        store.upsert_posts([
            (Post("weibo" if i % 4 else "zhihu", f"{i:07d}", TEXTS[i % len(TEXTS)], NOW - timedelta(seconds=i),
                  kind="post" if i % 4 else "answer"), LABELS[i % 3])
            for i in range(start, min(n, start + 10_000))])


def fill_records(store: SQLiteStore) -> None:
    """A few of every other record, so a migration that forgets one kind fails."""
    store.correct_label("weibo", "0000001", "positive", by="alice")
    store.correct_label("zhihu", "0000004", "neutral", by="bob")
    store.upsert_events([Event("e1", "宽带断网", NOW - timedelta(hours=2), NOW, size=30, negative=25, simhash=2**63)])
    for i in range(3):
        store.save_alert(Alert("burst", f"e{i}", "orange", "断网激增", "40 条", NOW + timedelta(minutes=i)))
    store.add_silence(Silence("burst", "e1", datetime.now(UTC) + timedelta(days=1), by="bob"))
    sub = store.save_subscriber(Subscriber("ops@example.cn", rules=("flatline",)))
    store.save_subscriber(Subscriber("pr@example.cn", min_severity="red"))
    mid = store.enqueue_email(OutboxMessage(("ops@example.cn",), "预警", "正文", dedup_key="burst:e1", created_at=NOW))
    store.mark_email_failed(mid, "SMTP 421", NOW + timedelta(minutes=1))
    sent = store.enqueue_email(OutboxMessage(("pr@example.cn",), "日报", "正文", created_at=NOW))
    store.mark_email_sent(sent, NOW + timedelta(minutes=2))
    store.save_case(Case("weibo", "0000001", status="assigned", assignee="alice", priority=5.0))
    for i in range(5):
        store.add_audit(AuditEntry(NOW + timedelta(seconds=i), "alice", "claim", f"case:{i}"))
    store.record_crawl_run(CrawlRun("weibo", NOW, NOW + timedelta(minutes=1), pages=3, posts_found=9, posts_new=9,
                                    errors={"parse": 1}))
    store.record_crawl_run(CrawlRun("weibo", NOW + timedelta(minutes=10), NOW + timedelta(minutes=11), healthy=False,
                                    reason="HTTP 418"))
    store.set_state("cursor:weibo", "4649031014551911")
    store.record_rejected([Rejected("weibo", "parse", "missing created_at", at=NOW)] * 3)
    store.save_user(User("alice", "$2b$12$x", role="responder"))
    assert sub.token


def snapshot(store: SQLiteStore) -> dict[str, Any]:
    """Everything a migration must carry, in comparable form."""
    return {
        "posts": store.count_posts(PostQuery()),
        "negative": store.count_posts(PostQuery(labels=("negative",))),
        "search": store.count_posts(PostQuery(text="宽带断网")),
        "operators": store.facet(PostQuery(), "operator"),
        "corrections": [(r["platform"], r["post_id"], r["label"], r["by"]) for r in store.list_corrections()],
        "events": store.list_events(limit=100),
        "alerts": store.list_alerts(limit=100),
        "silences": [(s.rule, s.key, s.by) for s in store.active_silences(NOW)],
        "subscribers": store.list_subscribers(),
        "outbox": [(m.subject, m.dedup_key, m.attempts, m.sent_at, m.last_error) for m in store.list_outbox()],
        "cases": store.list_cases(),
        "audit": store.list_audit(),
        "health": store.source_health(),
        "state": store.get_state("cursor:weibo"),
        "rejected": store.rejected_counts(),
        "users": store.list_users(),
    }


def test_migrating_100k_posts_is_complete_and_resumable(tmp_path: Path, fast_tokens: None) -> None:
    source = SQLiteStore(tmp_path / "source.db")
    fill_posts(source, 100_000)
    fill_records(source)
    target = SQLiteStore(tmp_path / "target.db")
    seen: list[tuple[str, int, int]] = []

    def stop_after_15_batches(kind: str, done: int, total: int) -> None:
        seen.append((kind, done, total))
        if kind == "posts" and sum(1 for k, _, _ in seen if k == "posts") > 15:
            raise Interrupt

    with pytest.raises(Interrupt):
        migrate(source, target, name="sqlite:source", batch=2000, progress=stop_after_15_batches)
    assert target.count_posts(PostQuery()) == 30_000
    assert seen[0] == ("posts", 0, 100_000)

    report = migrate(source, target, name="sqlite:source", batch=2000)
    assert report.copied["posts"] == 70_000  # resumed after the checkpoint, not from the start
    assert report.skipped == {} and report.renumbered == {}
    assert snapshot(target) == snapshot(source)
    keys = [sp.post.key for batch in target.iter_posts(batch=5000) for sp in batch]
    assert len(keys) == len(set(keys)) == 100_000
    assert keys == [sp.post.key for batch in source.iter_posts(batch=5000) for sp in batch]
    assert target.get_post("weibo", "0000001").label == "positive"
    copied, original = target.get_post("zhihu", "0099996"), source.get_post("zhihu", "0099996")
    assert (copied.post, copied.analysis, copied.label) == (original.post, original.analysis, original.label)

    again = migrate(source, target, name="sqlite:source", batch=2000)  # a third run copies nothing new
    assert again.copied["posts"] == 0 and again.copied["audit"] == 0 and again.copied["outbox"] == 0
    assert snapshot(target) == snapshot(source)
    source.close()
    target.close()


def test_interrupted_log_copy_resumes_without_duplicates(tmp_path: Path) -> None:
    source = SQLiteStore(tmp_path / "source.db")
    fill_posts(source, 50)
    fill_records(source)
    target = SQLiteStore(tmp_path / "target.db")
    calls = {"n": 0}
    real = target.add_audit

    def flaky_add_audit(entry: AuditEntry) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise Interrupt
        real(entry)

    target.add_audit = flaky_add_audit  # type: ignore[method-assign]
    with pytest.raises(Interrupt):
        migrate(source, target, name="s")
    assert len(target.list_audit()) == 2
    migrate(source, target, name="s")
    assert target.list_audit() == source.list_audit()
    assert snapshot(target) == snapshot(source)


def test_cli_migrate_sqlite_to_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from yuqing.cli import main

    source = SQLiteStore(tmp_path / "a.db")
    fill_posts(source, 2500)
    source.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YUQING_ES_URL", raising=False)
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    code = main(["store", "migrate", "--from", "sqlite", "--to", "sqlite", "--from-path", str(tmp_path / "a.db"),
                 "--to-path", str(tmp_path / "b.db"), "--batch", "1000"])
    out, err = capsys.readouterr()
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert result["copied"]["posts"] == 2500 and result["to"].endswith("b.db")
    assert "posts" in err and "2500/2500" in err  # the progress bar is on stderr
    target = SQLiteStore(tmp_path / "b.db")
    assert target.count_posts(PostQuery()) == 2500
    target.close()
    assert main(["store", "migrate", "--from", "sqlite", "--to", "sqlite", "--from-path", str(tmp_path / "a.db"),
                 "--to-path", str(tmp_path / "a.db")]) == 2


def test_cli_migrate_to_es_needs_the_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from yuqing.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YUQING_ES_URL", raising=False)
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    assert main(["store", "migrate", "--from", "sqlite", "--to", "es", "--from-path", str(tmp_path / "a.db")]) == 2
    assert "YUQING_ES_URL" in capsys.readouterr().err


def test_migrating_to_elasticsearch_and_back(tmp_path: Path) -> None:
    """SQLite -> Elasticsearch (the loopback stand-in), interrupted and resumed, then back to a new SQLite file."""
    from elasticsearch import Elasticsearch
    from yuqing.store.elastic import ElasticStore

    from tests.index.fake_es_http import serve

    source = SQLiteStore(tmp_path / "source.db")
    fill_posts(source, 1500)
    fill_records(source)
    with serve() as (url, _):
        es = ElasticStore(Elasticsearch(url, request_timeout=10), prefix="migrate")
        calls = {"posts": 0}

        def stop_after_3_batches(kind: str, done: int, total: int) -> None:
            calls[kind] = calls.get(kind, 0) + 1
            if kind == "posts" and calls["posts"] > 3:
                raise Interrupt

        with pytest.raises(Interrupt):
            migrate(source, es, name="sqlite:source", batch=200, progress=stop_after_3_batches)
        assert es.count_posts(PostQuery()) == 600
        report = migrate(source, es, name="sqlite:source", batch=200)
        assert report.copied["posts"] == 900 and report.skipped == {} and report.renumbered == {}
        assert snapshot(es) == snapshot(source)
        keys = [sp.post.key for batch in es.iter_posts(batch=500) for sp in batch]
        assert len(keys) == len(set(keys)) == 1500

        back = SQLiteStore(tmp_path / "back.db")
        report = migrate(es, back, name="es:migrate", batch=400)
        assert report.skipped == {} and report.copied["posts"] == 1500
        assert snapshot(back) == snapshot(source)
        assert back.get_state("cursor:weibo") == "4649031014551911"
        assert [r.run_id for r in es.list_crawl_runs()] == [2, 1]
