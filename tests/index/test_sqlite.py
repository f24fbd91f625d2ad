"""What only the embedded store has: a real file, WAL, migrations, search recall on Chinese words."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from yuqing.errors import StoreUnavailable
from yuqing.index import PostQuery
from yuqing.index.sqlite import POSTS_MIGRATIONS, SQLiteIndex
from yuqing.index.tokens import query_phrases
from yuqing.records import Analysis, Post

from .conftest import SEARCH_CORPUS

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)

CORPUS = SEARCH_CORPUS


def post(i: int, text: str) -> Post:
    return Post(platform="weibo", post_id=str(i), text=text, published_at=NOW - timedelta(minutes=i))


@pytest.fixture
def store(tmp_path: Path) -> SQLiteIndex:
    s = SQLiteIndex(tmp_path / "yuqing.db")
    s.upsert_posts([(post(i, t), Analysis(label="negative", score=0.1)) for i, t in enumerate(CORPUS)])
    yield s
    s.close()


@pytest.mark.parametrize("word", ["断网", "宽带", "携号转网", "电信", "5G", "5G套餐", "iPhone", "光猫", "断", "网", "光缆被挖断"])
def test_search_finds_every_post_containing_the_word(store: SQLiteIndex, word: str) -> None:
    expected = {str(i) for i, t in enumerate(CORPUS) if word.lower() in t.lower()}
    found = {p.post.post_id for p in store.search_posts(PostQuery(text=word), limit=100)}
    assert expected, word
    assert found == expected  # recall 1.0 and no false hits on this corpus


def test_search_of_several_words_requires_all(store: SQLiteIndex) -> None:
    found = {p.post.post_id for p in store.search_posts(PostQuery(text="宽带 断网"), limit=100)}
    assert found == {str(i) for i, t in enumerate(CORPUS) if "宽带" in t and "断网" in t}


def test_query_phrases_keep_cross_script_order() -> None:
    assert query_phrases("5G套餐") == [(["5g", "套餐"], False)]
    assert query_phrases("断") == [(["断"], True)]


def test_file_is_wal_and_schema_versioned(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    SQLiteIndex(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    versions = dict(db.execute("SELECT component, version FROM schema_version"))
    assert versions["posts"] == len(POSTS_MIGRATIONS)


def test_reopening_an_existing_file_keeps_data_and_applies_new_migrations(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "x.db"
    s = SQLiteIndex(path)
    s.upsert_posts([(post(1, "电信宽带断网"), None)])
    s.close()
    extra = "ALTER TABLE posts ADD COLUMN note TEXT NOT NULL DEFAULT ''"
    monkeypatch.setattr("yuqing.index.sqlite.POSTS_MIGRATIONS", [*POSTS_MIGRATIONS, extra])
    s2 = SQLiteIndex(path)
    assert s2.schema_versions()["posts"] == len(POSTS_MIGRATIONS) + 1
    assert s2.get_post("weibo", "1") is not None
    assert s2.count_posts(PostQuery(text="断网")) == 1
    s2.close()


def test_unwritable_location_is_reported_as_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreUnavailable):
        SQLiteIndex(blocker / "sub" / "x.db")


def test_updating_text_reindexes(store: SQLiteIndex) -> None:
    store.upsert_posts([(post(0, "已经修好了"), None)])
    assert "0" not in {p.post.post_id for p in store.search_posts(PostQuery(text="断网"), limit=100)}
    assert [p.post.post_id for p in store.search_posts(PostQuery(text="修好"))] == ["0"]
    assert store.get_post("weibo", "0").label == "negative"  # an update without analysis keeps the analysis


def test_tag_fast_path_agrees_with_the_join(tmp_path: Path) -> None:
    """Facets and volumes answered from post_tags alone equal those joined with posts."""
    s = SQLiteIndex(tmp_path / "t.db")
    labels = ("negative", "neutral", "positive")
    s.upsert_posts([
        (Post(platform=("weibo", "zhihu")[i % 2], post_id=str(i), text=f"帖子{i}", published_at=NOW - timedelta(hours=i)),
         Analysis(label=labels[i % 3], score=0.5, touchpoints=(("宽带", "客服热线")[i % 2], "5G")[: 1 + i % 2],
                  operators=("中国电信",) if i % 4 else ("中国移动", "中国联通")))
        for i in range(60)
    ])
    s.correct_label("weibo", "0", "positive", by="t")
    for q in (PostQuery(), PostQuery(since=NOW - timedelta(hours=30)), PostQuery(labels=("negative",)),
              PostQuery(platforms=("zhihu",), labels=("positive", "neutral"), until=NOW - timedelta(hours=5))):
        forced = PostQuery(**{**q.__dict__, "min_influence": -1.0})  # any non-tag filter forces the join
        for field in ("touchpoint", "operator"):
            assert s.facet(q, field) == s.facet(forced, field)
            assert s.volume(q, bucket_seconds=86400, by=field) == s.volume(forced, bucket_seconds=86400, by=field)
    assert s.facet(PostQuery(labels=("positive",)), "operator") == s.facet(
        PostQuery(labels=("positive",), min_influence=-1.0), "operator")
    s.close()


def test_hourly_rollup_agrees_with_raw_counts_after_inserts_updates_and_corrections(tmp_path: Path) -> None:
    """count_posts, facet and volume from the trigger-kept rollup equal the same questions asked of the posts."""
    import random

    rnd = random.Random(5)
    s = SQLiteIndex(tmp_path / "r.db")
    labels, platforms = ("negative", "neutral", "positive"), ("weibo", "zhihu", "zhidao")

    def item(i: int) -> tuple[Post, Analysis]:
        return (Post(platform=platforms[i % 3], post_id=str(i), text=f"帖子{i}",
                     published_at=NOW - timedelta(seconds=rnd.randrange(3 * 86400))),
                Analysis(label=rnd.choice(labels), score=0.5, province=rnd.choice(("广东", "北京", "")),
                         touchpoints=tuple(rnd.sample(("宽带", "5G", "客服热线"), rnd.randint(0, 2))),
                         operators=(rnd.choice(("中国电信", "中国移动")),), keywords=("断网",)))

    s.upsert_posts([item(i) for i in range(300)])
    s.upsert_posts([item(i) for i in range(0, 300, 3)])  # re-crawled: new times, labels, provinces, tags
    s.upsert_posts([(Post(platform="weibo", post_id="0", text="改了", published_at=NOW - timedelta(hours=1)), None)])
    for i in range(1, 300, 7):
        s.correct_label(platforms[i % 3], str(i), rnd.choice(labels), by="t")
    queries = [PostQuery(), PostQuery(since=NOW - timedelta(hours=30, minutes=17)),
               PostQuery(since=NOW - timedelta(days=2, seconds=5), until=NOW - timedelta(hours=3, minutes=1)),
               PostQuery(labels=("negative",), platforms=("weibo", "zhihu")),
               PostQuery(since=NOW - timedelta(minutes=40))]
    for q in queries:
        raw = PostQuery(**{**q.__dict__, "min_influence": -1.0})  # a non-rollup filter forces the raw path
        assert s.count_posts(q) == s.count_posts(raw)
        for field in ("label", "platform", "province", "operator", "touchpoint", "keyword"):
            assert s.facet(q, field, size=50) == s.facet(raw, field, size=50), (q, field)
        for by in ("label", "platform", "touchpoint"):
            for bucket in (3600, 86400):
                assert s.volume(q, bucket_seconds=bucket, by=by) == s.volume(raw, bucket_seconds=bucket, by=by)
    s.close()


def test_upgrading_a_version_1_file_fills_the_rollup_from_existing_posts(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "old.db"
    monkeypatch.setattr("yuqing.index.sqlite.POSTS_MIGRATIONS", POSTS_MIGRATIONS[:1])
    old = SQLiteIndex(path)
    old.upsert_posts([(post(i, t), Analysis(label="negative", score=0.1, touchpoints=("宽带",)))
                      for i, t in enumerate(CORPUS)])
    old.close()
    monkeypatch.setattr("yuqing.index.sqlite.POSTS_MIGRATIONS", POSTS_MIGRATIONS)
    new = SQLiteIndex(path)
    assert new.schema_versions()["posts"] == len(POSTS_MIGRATIONS)
    assert new.count_posts(PostQuery()) == len(CORPUS)
    assert new.facet(PostQuery(), "touchpoint") == {"宽带": len(CORPUS)}
    new.close()


OPEN_AND_WRITE = """
import sys
from datetime import UTC, datetime
from yuqing.index import PostQuery
from yuqing.index.sqlite import SQLiteIndex
from yuqing.records import Post
path, i = sys.argv[1], int(sys.argv[2])
s = SQLiteIndex(path)
s.upsert_posts([(Post("weibo", str(1000 + i), f"进程{i}写入", datetime.now(UTC)), None)])
print(s.count_posts(PostQuery()))
s.close()
"""


def test_processes_opening_a_new_file_at_once_all_migrate_it_once(tmp_path: Path) -> None:
    """Four processes (plain subprocesses: after an AppTest, sys.modules['__main__'] is dashboard/app.py, and a spawn
    Pool's workers die running it and are respawned forever)."""
    import subprocess
    import sys

    path = str(tmp_path / "race.db")
    root = Path(__file__).resolve().parents[2]
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_AND_WRITE, path, str(i)], cwd=root, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(4)]
    counts = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
        counts.append(int(out.strip().splitlines()[-1]))
    assert all(n >= 1 for n in counts)
    s = SQLiteIndex(path)
    assert s.count_posts(PostQuery()) == 4
    assert s.schema_versions() == {"posts": len(POSTS_MIGRATIONS)}
    s.close()
