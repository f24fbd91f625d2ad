"""A database written by yuqing before the store split upgrades in place with nothing lost.

tests/fixtures/main_stores/yuqing-main.db (ops schema 2) and yuqing-main-ops1.db (ops schema 1) were written by
main's code (tests/fixtures/main_stores/make.py): posts and every operational record, with the `state` keys the
old code kept as JSON (sessions, grants, failed logins, digest marks, crawl cursors, first sightings). Opening it with today's code converts all of it into the new
tables, in one transaction, once, even when several processes open it at the same moment.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from yuqing.config import Settings
from yuqing.index import PostQuery
from yuqing.ops.migrations import LATEST
from yuqing.records import Alert, Subscriber
from yuqing.wiring import open_stores

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "main_stores"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture(params=[2, 1], ids=["ops2", "ops1"])
def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / "var" / "yuqing.db"
    path.parent.mkdir()
    shutil.copy(FIXTURES / ("yuqing-main.db" if request.param == 2 else "yuqing-main-ops1.db"), path)
    return path


def version_of(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT version FROM schema_version WHERE component='ops'").fetchone()[0])


def token_of(path: Path, which: str = "sqlite") -> str:
    name = "session-tokens.json" if version_of(path) >= 2 else "session-tokens-ops1.json"
    return str(json.loads((FIXTURES / name).read_text())[which])


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_a_database_from_main_upgrades_in_place_with_nothing_lost(old_db: Path) -> None:
    from dashboard import sessions, throttle

    assert "state" in tables(old_db) and "session_grants" not in tables(old_db)
    before = version_of(old_db)
    token = token_of(old_db)
    settings = Settings().replace(store={"path": str(old_db)})
    assert settings.database_url == f"sqlite:///{old_db}"  # the default: the same file
    with open_stores(settings) as (index, ops):
        assert ops.upgraded_from == before and f"schema {LATEST}" in ops.describe()
        # posts, corrections and events are the index's and untouched
        assert index.count_posts(PostQuery()) == 6
        assert index.get_post("weibo", "p1").label == "neutral"
        assert index.get_event("ev1").size == 6
        # every operational record, under its own id
        alerts = {a.alert_id: a for a in ops.list_alerts(limit=10)}
        assert sorted(alerts) == [1, 2, 3]
        assert alerts[1].scope == {"operators": ["中国电信"]} and alerts[1].sample_keys == ("weibo:p0",)
        assert alerts[1].count == 40 and alerts[1].baseline == 5.0 and alerts[1].event_id == "ev1"
        assert (alerts[2].status, alerts[2].acknowledged_by) == ("acknowledged", "bob")
        assert (alerts[3].status, alerts[3].resolution_note, alerts[3].reopened) == ("resolved", "已恢复", 1)
        assert [(s.rule, s.key, s.by) for s in ops.active_silences(NOW)] == [("城市网络故障", "郑州", "bob")]
        subs = ops.list_subscribers()
        assert [(s.subscriber_id, s.email, s.mode, s.active) for s in subs] == [
            (1, "duty@example.cn", "immediate", True), (2, "pr@example.cn", "hourly", True),
            (3, "boss@example.cn", "daily", False)]
        assert all(s.token for s in subs) and subs[1].rules == ("flatline",)
        outbox = {m.message_id: m for m in ops.list_outbox()}
        assert (outbox[1].attempts, outbox[1].last_error, outbox[1].attachments) == (
            1, "SMTP 421", (("chart.png", "image/png", b"\x89PNG..."),))
        assert outbox[1].dedup_key == "alert:1:1:orange:0" and outbox[1].html == "<p>正文</p>"
        assert outbox[2].sent_at == NOW + timedelta(minutes=1) and outbox[3].sent_at is None
        if before >= 2:  # the 日报 was leased to a process that was killed: its holder is kept, the lease runs on
            assert outbox[3].owner.count(":") == 1 and outbox[3].next_attempt_at == NOW + timedelta(minutes=10)
            assert [m.message_id for m in ops.due_messages(NOW + timedelta(minutes=5))] == [1]
        assert [m.message_id for m in ops.due_messages(NOW + timedelta(minutes=11))] == [1, 3]
        cases = ops.list_cases()
        assert [(c.case_id, c.status, c.assignee) for c in cases] == [(1, "assigned", "alice"), (2, "replied", "alice")]
        assert cases[1].reply_text == "您好，已安排抢修"
        assert [e.action for e in ops.list_audit()] == ["login_lock", "subscriber_save", "correct_label", "ack",
                                                        "reply", "claim"]
        health = {h.source: h for h in ops.source_health()}
        assert (health["weibo"].posts_new, dict(health["weibo"].errors), health["weibo"].healthy) == (6, {"parse": 1}, True)
        assert (health["zhihu"].healthy, health["zhihu"].reason) == (False, "HTTP 403: 需要登录")
        assert ops.rejected_counts() == {("weibo", "parse", "missing created_at"): 2,
                                         ("alerts", "email", "gave up after 20: SMTP 550"): 1}
        assert [(u.username, u.role, u.display_name) for u in ops.list_users()] == [
            ("admin", "admin", ""), ("alice", "responder", "小李")]
        # the state keys, each in its table
        assert sessions.resume(ops, token, NOW + timedelta(hours=1))["username"] == "alice"
        assert sessions.resume(ops, token, NOW + timedelta(hours=13)) is None
        alice, mallory = (throttle.status(ops, name, NOW + timedelta(minutes=1)) for name in ("alice", "mallory"))
        assert (alice.count, alice.locked(NOW)) == (3, False)
        assert (mallory.count, mallory.locked(NOW + timedelta(minutes=1))) == (5, True)
        assert ops.get_mark(2, "hourly") == "hourly:2:20261124T01"
        assert ops.get_mark(3, "daily") == "daily:3:20261124" and ops.get_mark(1, "quiet") == "quiet:1:20261124"
        assert ops.get_cursor("weibo", "last_success") == (NOW - timedelta(minutes=20)).isoformat()
        assert ops.source_first_seen("heimao", NOW) == NOW - timedelta(days=1)
        assert ops.get_checkpoint("alerts.last_run") == NOW.isoformat()
        assert ops.get_checkpoint("migrate:sqlite:old.db:posts") == "weibo:p5"
        # new records continue after the old ids
        assert ops.save_alert(Alert("r", "k", "red", "t", "x", NOW)).alert_id == 4
        assert ops.save_subscriber(Subscriber("new@example.cn")).subscriber_id == 4
    left = tables(old_db)
    assert not {"state", "legacy_alerts", "legacy_state"} & left
    assert {"sessions", "session_grants", "login_failures", "digest_marks", "crawl_cursors", "source_first_seen",
            "job_leases", "apscheduler_jobs"} <= left
    with open_stores(settings) as (_, ops):  # opened again: nothing to do
        assert ops.upgraded_from == 10 and len(ops.list_alerts()) == 4


def test_processes_opening_an_old_database_at_once_upgrade_it_once(old_db: Path) -> None:
    from tests.ops.test_concurrency import run_workers

    counts = [r["audit"] for r in run_workers("open", f"sqlite:///{old_db}", [""] * 4, lead=3.0)]
    assert counts == [6, 6, 6, 6]  # every process sees the upgraded tables, nothing copied twice
    with sqlite3.connect(old_db) as conn:
        assert conn.execute("SELECT count(*) FROM audit").fetchone()[0] == 6
        assert conn.execute("SELECT version FROM schema_version WHERE component='ops'").fetchone()[0] == LATEST


def test_the_old_database_copies_to_postgresql(old_db: Path, pg_url: str) -> None:
    """One machine's SQLite file moved to the PostgreSQL server several hosts share (`yuqing store migrate --from sql
    --from-url … --to sql`): the old file is upgraded, then every record copied with its id; run again, nothing."""
    from dashboard import sessions
    from yuqing.ops.sql import SqlOps
    from yuqing.ops.transfer import copy_database

    token = token_of(old_db)
    target = SqlOps(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        copied = copy_database(f"sqlite:///{old_db}", target)
        assert copied["alerts"] == 3 and copied["audit"] == 6 and copied["sessions"] == 1
        assert copy_database(f"sqlite:///{old_db}", target)["alerts"] == 0  # resumable: what moved is skipped
        assert sessions.resume(target, token, NOW + timedelta(hours=1))["username"] == "alice"
        assert target.get_mark(2, "hourly") == "hourly:2:20261124T01"
        assert target.save_alert(Alert("r", "k", "red", "t", "x", NOW)).alert_id == 4  # sequences moved on
        assert [m.message_id for m in target.due_messages(NOW + timedelta(minutes=11))] == [1, 3]
    finally:
        target.close()
