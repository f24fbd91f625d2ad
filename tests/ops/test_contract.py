"""The OpsDB contract: the same tests on SQLite and on a real PostgreSQL (tests/ops/conftest.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from yuqing.ops import OpsDB
from yuqing.ops.migrations import LATEST
from yuqing.records import (
    Alert,
    AuditEntry,
    Case,
    CrawlRun,
    LoginFailures,
    OutboxMessage,
    Rejected,
    Silence,
    Subscriber,
    User,
)

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def test_implements_the_protocol(ops: Any) -> None:
    assert isinstance(ops, OpsDB)
    ops.ping()
    assert f"schema {LATEST}" in ops.describe()


# --------------------------------------------------------------------------- alerts and silences
def alert(key: str = "e1", **kw: Any) -> Alert:
    values: dict[str, Any] = dict(rule="burst", key=key, severity="orange", title="宽带断网激增", reason="1小时 40 条，基线 5",
                                  opened_at=NOW, scope={"operator": "电信"}, count=40, baseline=5.0,
                                  keywords=("断网",), sample_keys=("weibo:1",), rule_type="volume")
    values.update(kw)
    return Alert(**values)


def test_alerts_save_find_list(ops: Any) -> None:
    a = ops.save_alert(alert())
    assert a.alert_id is not None
    assert ops.get_alert(a.alert_id) == a
    assert ops.get_alert(a.alert_id + 100) is None
    acked = ops.save_alert(replace_(a, status="acknowledged", acknowledged_by="bob",
                                      acknowledged_at=NOW + timedelta(minutes=5), updated_at=NOW + timedelta(minutes=5)))
    assert acked.alert_id == a.alert_id
    assert ops.get_alert(a.alert_id).status == "acknowledged"
    b = ops.save_alert(alert(opened_at=NOW + timedelta(hours=1)))
    other = ops.save_alert(alert(key="e2", severity="red", opened_at=NOW - timedelta(days=3)))
    assert b.alert_id not in (a.alert_id, other.alert_id)
    assert ops.find_alert("burst", "e1").alert_id == b.alert_id  # the latest for (rule, key)
    assert ops.find_alert("burst", "nope") is None
    assert {x.alert_id for x in ops.list_alerts()} == {a.alert_id, b.alert_id, other.alert_id}
    assert [x.alert_id for x in ops.list_alerts(statuses=("open",))] == [b.alert_id, other.alert_id]
    assert {x.alert_id for x in ops.list_alerts(since=NOW - timedelta(days=1))} == {a.alert_id, b.alert_id}
    assert len(ops.list_alerts(limit=2)) == 2


def replace_(record: Any, **kw: Any) -> Any:
    return dataclasses.replace(record, **kw)


def test_silences(ops: Any) -> None:
    ops.add_silence(Silence("burst", "e1", NOW + timedelta(hours=1), by="bob", reason="已知故障"))
    ops.add_silence(Silence("flatline", "", NOW - timedelta(minutes=1)))
    ops.add_silence(Silence("negative_ratio", "", NOW + timedelta(days=1)))
    active = ops.active_silences(NOW)
    assert [(s.rule, s.key) for s in active] == [("burst", "e1"), ("negative_ratio", "")]
    assert active[0] == Silence("burst", "e1", NOW + timedelta(hours=1), by="bob", reason="已知故障")
    assert ops.active_silences(NOW + timedelta(hours=2)) == [active[1]]


# --------------------------------------------------------------------------- subscribers and outbox
def test_subscribers_and_unsubscribe_token(ops: Any) -> None:
    a = ops.save_subscriber(Subscriber("a@example.cn", name="甲", operators=("电信",), rules=("flatline",)))
    b = ops.save_subscriber(Subscriber("b@example.cn", mode="daily", daily_at="09:00"))
    assert a.subscriber_id is not None and b.subscriber_id is not None and a.subscriber_id != b.subscriber_id
    assert a.token and b.token and a.token != b.token
    assert ops.list_subscribers() == [a, b]
    assert ops.unsubscribe(a.token) is True
    assert ops.unsubscribe("no-such-token") is False
    assert [s.email for s in ops.list_subscribers(active_only=True)] == ["b@example.cn"]
    assert [s.active for s in ops.list_subscribers()] == [False, True]
    updated = ops.save_subscriber(replace_(b, min_severity="red"))
    assert updated.subscriber_id == b.subscriber_id and updated.token == b.token
    assert ops.list_subscribers()[1].min_severity == "red"
    ops.delete_subscriber(a.subscriber_id)
    assert [s.email for s in ops.list_subscribers()] == ["b@example.cn"]


def test_outbox_dedup_due_sent_and_backoff(ops: Any) -> None:
    msg = OutboxMessage(to=("a@example.cn", "b@example.cn"), subject="【橙色预警】宽带断网", text="正文", html="<p>正文</p>",
                        dedup_key="burst:e1:1", attachments=(("posts.csv", "text/csv", b"a,b\n1,2\n"),),
                        created_at=NOW)
    mid = ops.enqueue(msg)
    assert mid is not None
    assert ops.enqueue(msg) is None  # same dedup key: never twice
    other = ops.enqueue(OutboxMessage(to=("c@example.cn",), subject="日报", text="t", created_at=NOW))
    assert other is not None and other != mid
    due = ops.due_messages(NOW)
    assert [m.message_id for m in due] == [mid, other]
    first = due[0]
    assert first.to == msg.to and first.attachments == msg.attachments and first.html == msg.html
    assert first.attempts == 0 and first.sent_at is None
    ops.mark_failed(mid, "SMTP 421", NOW + timedelta(minutes=2))
    assert [m.message_id for m in ops.due_messages(NOW + timedelta(minutes=1))] == [other]
    retry = ops.due_messages(NOW + timedelta(minutes=2))
    assert [m.message_id for m in retry] == [mid, other]
    assert retry[0].attempts == 1 and retry[0].last_error == "SMTP 421"
    ops.mark_sent(mid, NOW + timedelta(minutes=3))
    ops.mark_sent(mid, NOW + timedelta(minutes=4))  # sent once: a second mark changes nothing
    assert [m.message_id for m in ops.due_messages(NOW + timedelta(hours=1))] == [other]
    listed = ops.list_outbox()
    assert [m.message_id for m in listed] == [other, mid]
    assert listed[1].sent_at == NOW + timedelta(minutes=3) and listed[1].attempts == 2
    assert ops.due_messages(NOW, limit=1)[0].message_id == other


def test_outbox_claim_leases_each_message_to_one_deliverer(ops: Any) -> None:
    a = ops.enqueue(OutboxMessage(to=("a@example.cn",), subject="甲", text="t", created_at=NOW))
    b = ops.enqueue(OutboxMessage(to=("b@example.cn",), subject="乙", text="t", created_at=NOW))
    c = ops.enqueue(OutboxMessage(to=("c@example.cn",), subject="丙", text="t", created_at=NOW))
    lease = timedelta(minutes=10)
    first = ops.claim_messages(NOW, "a:1", limit=2, lease=lease)
    assert [m.message_id for m in first] == [a, b] and first[0].subject == "甲" and first[0].to == ("a@example.cn",)
    assert [m.message_id for m in ops.claim_messages(NOW, "b:2", lease=lease)] == [c]  # a second deliverer gets the rest
    assert ops.claim_messages(NOW + timedelta(minutes=9), "c:3", lease=lease) == []  # all leased
    assert ops.due_messages(NOW + timedelta(minutes=9)) == []
    ops.mark_sent(a, NOW + timedelta(minutes=1))
    ops.mark_failed(b, "SMTP 421", NOW + timedelta(minutes=2))  # a failure's backoff replaces the lease
    assert [m.message_id for m in ops.claim_messages(NOW + timedelta(minutes=2), "c:3", lease=lease)] == [b]
    # the deliverer that held c died: once its lease runs out, c is due again, and never a: it was sent
    again = ops.claim_messages(NOW + timedelta(minutes=10), "c:3", lease=lease)
    assert [m.message_id for m in again] == [c] and again[0].attempts == 0


# --------------------------------------------------------------------------- cases and audit
def test_cases(ops: Any) -> None:
    c1 = ops.save_case(Case("weibo", "1", priority=5.0, reason="升级投诉"))
    c2 = ops.save_case(Case("heimao", "2", priority=9.0, reason="黑猫投诉"))
    c3 = ops.save_case(Case("zhihu", "3", priority=1.0))
    assert len({c1.case_id, c2.case_id, c3.case_id}) == 3 and c1.created_at is not None
    assert ops.get_case(c1.case_id) == c1
    assert ops.get_case(10_000) is None
    assert ops.find_case("weibo", "1") == c1
    assert ops.find_case("weibo", "404") is None
    assigned = ops.save_case(replace_(c1, status="assigned", assignee="alice"))
    assert assigned.case_id == c1.case_id
    replied = ops.save_case(replace_(c2, status="replied", assignee="alice", reply_text="您好，已安排师傅上门",
                                       first_reply_at=NOW))
    assert [c.case_id for c in ops.list_cases()] == [c2.case_id, c1.case_id, c3.case_id]  # by priority
    assert [c.case_id for c in ops.list_cases(statuses=("new", "assigned"))] == [c1.case_id, c3.case_id]
    assert [c.case_id for c in ops.list_cases(assignee="alice")] == [c2.case_id, c1.case_id]
    assert ops.get_case(c2.case_id) == replied
    again = ops.save_case(Case("weibo", "1", priority=7.0))  # a new case for a post that has one
    assert again.case_id == c1.case_id
    assert len(ops.list_cases()) == 3
    assert len(ops.list_cases(limit=2)) == 2


def test_audit(ops: Any) -> None:
    entries = [AuditEntry(NOW + timedelta(seconds=i), "alice", action, target, f"d{i}")
               for i, (action, target) in enumerate([("claim", "case:1"), ("reply", "case:1"), ("ack", "alert:3"),
                                                     ("correct_label", "post:weibo:1")])]
    for e in entries:
        ops.add_audit(e)
    assert ops.list_audit() == list(reversed(entries))
    assert ops.list_audit(target="case:1") == [entries[1], entries[0]]
    assert ops.list_audit(limit=1) == [entries[3]]


# --------------------------------------------------------------------------- sources, state, rejected, users
def test_crawl_runs_make_source_health(ops: Any) -> None:
    t = NOW - timedelta(hours=1)
    r1 = ops.record_crawl_run(CrawlRun("weibo", t, t + timedelta(minutes=1), pages=3, posts_found=30, posts_new=20,
                                         errors={"parse": 1}))
    ops.record_crawl_run(CrawlRun("weibo", t + timedelta(minutes=10), t + timedelta(minutes=11), pages=2,
                                    posts_found=10, posts_new=0, rejected=2, errors={"parse": 2, "http_418": 1},
                                    healthy=False, reason="HTTP 418: 被限流"))
    ops.record_crawl_run(CrawlRun("zhihu", t, t + timedelta(minutes=2), pages=1, posts_found=5, posts_new=5))
    assert r1.run_id is not None
    health = {h.source: h for h in ops.source_health()}
    assert list(health) == ["weibo", "zhihu"]
    w = health["weibo"]
    assert (w.runs, w.pages, w.posts_found, w.posts_new, w.rejected) == (2, 5, 40, 20, 2)
    assert w.healthy is False and w.reason == "HTTP 418: 被限流"
    assert w.last_run_at == t + timedelta(minutes=11)
    assert w.last_success_at == t + timedelta(minutes=1)
    assert w.last_post_at == t + timedelta(minutes=1)
    assert dict(w.errors) == {"parse": 3, "http_418": 1}
    z = health["zhihu"]
    assert z.healthy and z.runs == 1 and z.last_post_at == t + timedelta(minutes=2) and dict(z.errors) == {}
    listed = ops.list_crawl_runs()
    # newest first; of two started at t, the later recorded (higher run id) first
    assert [(r.source, r.started_at) for r in listed] == [("weibo", t + timedelta(minutes=10)), ("zhihu", t),
                                                           ("weibo", t)]
    assert [r.run_id for r in ops.list_crawl_runs(source="weibo")][1] == r1.run_id
    assert ops.list_crawl_runs(source="weibo", limit=1)[0].reason == "HTTP 418: 被限流"
    assert ops.list_crawl_runs(source="zhidao") == []


def test_rejected(ops: Any) -> None:
    old = Rejected("weibo", "parse", "missing created_at", url="https://m.weibo.cn/1", sample="{}",
                   at=NOW - timedelta(days=2))
    new = [Rejected("weibo", "parse", "missing created_at", at=NOW), Rejected("zhihu", "validate", "empty text", at=NOW),
           Rejected("weibo", "store", "mapping", sample="x" * 2000, at=NOW + timedelta(seconds=1))]
    ops.record_rejected([old])
    ops.record_rejected(new)
    ops.record_rejected([])
    assert ops.rejected_counts() == {("weibo", "parse", "missing created_at"): 2,
                                       ("zhihu", "validate", "empty text"): 1, ("weibo", "store", "mapping"): 1}
    assert ops.rejected_counts(since=NOW - timedelta(hours=1)) == {
        ("weibo", "parse", "missing created_at"): 1, ("zhihu", "validate", "empty text"): 1,
        ("weibo", "store", "mapping"): 1}
    listed = ops.list_rejected()
    assert [r.reason for r in listed] == ["mapping", "empty text", "missing created_at", "missing created_at"]
    assert listed[-1] == old
    assert 0 < len(listed[0].sample) <= 2000
    assert len(ops.list_rejected(limit=2)) == 2


def test_users(ops: Any) -> None:
    assert ops.get_user("alice") is None
    ops.save_user(User("alice", "$2b$12$hash", role="responder", display_name="小李"))
    ops.save_user(User("admin", "$2b$12$other", role="admin"))
    ops.save_user(User("alice", "$2b$12$new", role="admin", display_name="小李"))
    assert ops.get_user("alice") == User("alice", "$2b$12$new", role="admin", display_name="小李")
    assert store_users(ops) == ["admin", "alice"]
    assert ops.delete_user("admin") is True and ops.delete_user("admin") is False
    assert [u.username for u in ops.list_users()] == ["alice"]


def store_users(ops: Any) -> list[str]:
    return [u.username for u in ops.list_users()]


# --------------------------------------------------------------------------- new tables: atomic state
def test_outbox_records_the_claimer_and_generic_channels(ops: Any) -> None:
    mail = ops.enqueue(OutboxMessage(to=("a@example.cn",), subject="甲", text="t", created_at=NOW))
    chat = ops.enqueue(OutboxMessage(to=("ops-room",), subject="", text="群消息", channel="wecom", created_at=NOW))
    assert ops.due_messages(NOW, channel="email")[0].message_id == mail
    got = ops.claim_messages(NOW, "host-a:101", channel="wecom")
    assert [(m.message_id, m.channel, m.text, m.owner) for m in got] == [(chat, "wecom", "群消息", "host-a:101")]
    assert {m.message_id: m.owner for m in ops.list_outbox()} == {mail: "", chat: "host-a:101"}
    ops.mark_sent(chat, NOW)
    assert {m.message_id: m.owner for m in ops.list_outbox()}[chat] == ""  # the lease ends with the delivery


def test_a_dead_local_claimers_messages_are_due_again_at_once(ops: Any) -> None:
    import socket
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_owner = f"{socket.gethostname()}:{int(dead.stdout)}"  # a pid that has exited
    remote = ops.enqueue(OutboxMessage(to=("b@example.cn",), subject="乙", text="t", created_at=NOW))
    m = ops.enqueue(OutboxMessage(to=("a@example.cn",), subject="甲", text="t", created_at=NOW))
    assert [x.message_id for x in ops.claim_messages(NOW, "other-host:1", limit=1)] == [remote]
    assert [x.message_id for x in ops.claim_messages(NOW, dead_owner, limit=1)] == [m]
    # a restart on this host takes the dead process's message back at once; another host's lease is left alone
    again = ops.claim_messages(NOW + timedelta(seconds=1), f"{socket.gethostname()}:1")
    assert [x.message_id for x in again] == [m]


def test_sessions_table(ops: Any) -> None:
    ops.save_user(User("alice", "$2b$12$x", role="responder", display_name="小李"))
    ops.add_session("h1", "alice", NOW, NOW + timedelta(hours=12))
    ops.add_session("h2", "alice", NOW, NOW + timedelta(hours=12))
    ops.add_session("h3", "bob", NOW, NOW + timedelta(hours=12))  # no such user: never resumes
    assert ops.session_user("h1", NOW + timedelta(hours=1)) == User("alice", "$2b$12$x", "responder", "小李")
    assert ops.session_user("h1", NOW + timedelta(hours=12)) is None  # expired
    assert ops.session_user("h3", NOW) is None and ops.session_user("nope", NOW) is None
    ops.end_session("h1", NOW + timedelta(minutes=5))
    assert ops.session_user("h1", NOW + timedelta(minutes=6)) is None
    assert ops.session_user("h2", NOW + timedelta(minutes=6)) is not None
    assert ops.end_sessions("alice", NOW + timedelta(minutes=7)) == 1  # one statement ends every live one
    assert ops.session_user("h2", NOW + timedelta(minutes=8)) is None
    assert ops.end_sessions("alice", NOW + timedelta(minutes=9)) == 0


def test_login_failures_count_window_and_lock(ops: Any) -> None:
    window, lock = timedelta(minutes=15), timedelta(minutes=15)

    def fail(at: datetime) -> tuple[LoginFailures, bool]:
        return ops.add_login_failure("k", at, max_failures=3, window=window, lock=lock)

    assert ops.login_failures("k") == LoginFailures()
    assert fail(NOW) == (LoginFailures(1, NOW, None), False)
    assert fail(NOW + timedelta(minutes=1)) == (LoginFailures(2, NOW, None), False)
    third = fail(NOW + timedelta(minutes=2))
    assert third == (LoginFailures(3, NOW, NOW + timedelta(minutes=17)), True)  # this one locked it
    assert fail(NOW + timedelta(minutes=3)) == (LoginFailures(4, NOW, NOW + timedelta(minutes=17)), False)  # counted
    assert ops.login_failures("k").locked(NOW + timedelta(minutes=16))
    after = fail(NOW + timedelta(minutes=18))  # the lock has ended: counting starts over
    assert after == (LoginFailures(1, NOW + timedelta(minutes=18), None), False)
    assert fail(NOW + timedelta(minutes=34)) == (LoginFailures(1, NOW + timedelta(minutes=34), None), False)  # window
    assert ops.clear_login_failures("k") == LoginFailures(1, NOW + timedelta(minutes=34), None)
    assert ops.login_failures("k") == LoginFailures() and ops.clear_login_failures("k") == LoginFailures()


def test_digest_marks_cursors_first_seen_checkpoints(ops: Any) -> None:
    sub = ops.save_subscriber(Subscriber("a@example.cn", mode="hourly"))
    sid = sub.subscriber_id
    assert ops.get_mark(sid, "hourly") == ""
    ops.set_mark(sid, "hourly", "hourly:1:20261124T02", NOW)
    ops.set_mark(sid, "hourly", "hourly:1:20261124T03", NOW)
    ops.set_mark(sid, "problem", "日报时间无效", NOW)
    assert (ops.get_mark(sid, "hourly"), ops.get_mark(sid, "problem")) == ("hourly:1:20261124T03", "日报时间无效")
    ops.delete_subscriber(sid)
    assert ops.get_mark(sid, "hourly") == ""
    ops.set_mark(999, "hourly", "x", NOW)  # a subscriber that is gone keeps no marks
    assert ops.get_mark(999, "hourly") == ""

    assert ops.get_cursor("weibo", "last_success") is None
    ops.set_cursor("weibo", "last_success", NOW.isoformat(), NOW)
    ops.set_cursor("weibo", "last_success", (NOW + timedelta(hours=1)).isoformat(), NOW)
    assert ops.get_cursor("weibo", "last_success") == (NOW + timedelta(hours=1)).isoformat()
    assert ops.get_cursor("zhihu", "last_success") is None

    assert ops.source_first_seen("zhihu", NOW) == NOW
    assert ops.source_first_seen("zhihu", NOW + timedelta(hours=2)) == NOW  # the first sighting stays

    assert ops.get_checkpoint("migrate:x:posts") is None
    ops.set_checkpoint("migrate:x:posts", "weibo:9", NOW)
    assert ops.get_checkpoint("migrate:x:posts") == "weibo:9"


def test_leases(ops: Any) -> None:
    ttl = timedelta(minutes=2)
    assert ops.acquire_lease("crawl:weibo", "h1:1", ttl, NOW) is True
    assert ops.acquire_lease("crawl:weibo", "h2:2", ttl, NOW + timedelta(minutes=1)) is False
    assert ops.acquire_lease("crawl:weibo", "h1:1", ttl, NOW + timedelta(minutes=1)) is True  # renewed
    assert ops.acquire_lease("crawl:weibo", "h2:2", ttl, NOW + timedelta(minutes=2)) is False  # renewal counted
    assert ops.acquire_lease("crawl:zhihu", "h2:2", ttl, NOW) is True  # another job is free
    assert ops.acquire_lease("crawl:weibo", "h2:2", ttl, NOW + timedelta(minutes=3)) is True  # expired
    ops.release_lease("crawl:weibo", "h1:1")  # not the holder's: nothing happens
    assert ops.acquire_lease("crawl:weibo", "h1:1", ttl, NOW + timedelta(minutes=4)) is False
    ops.release_lease("crawl:weibo", "h2:2")
    assert ops.acquire_lease("crawl:weibo", "h1:1", ttl, NOW + timedelta(minutes=4)) is True


def test_update_alert_and_case_in_one_transaction(ops: Any) -> None:
    a = ops.save_alert(alert())

    def ack(x: Alert) -> tuple[Alert, list[AuditEntry]]:
        return replace_(x, status="acknowledged", acknowledged_by="bob"), [AuditEntry(NOW, "bob", "ack", "alert:1")]

    assert ops.update_alert(a.alert_id, ack).status == "acknowledged"
    assert ops.get_alert(a.alert_id).acknowledged_by == "bob"
    assert [e.action for e in ops.list_audit(target="alert:1")] == ["ack"]

    def refuse(x: Alert) -> tuple[Alert, list[AuditEntry]]:
        raise ValueError("已解决")

    with pytest.raises(ValueError):
        ops.update_alert(a.alert_id, refuse)
    with pytest.raises(KeyError):
        ops.update_alert(a.alert_id + 100, ack)
    c = ops.save_case(Case("weibo", "1"))
    moved = ops.update_case(c.case_id, lambda x: (replace_(x, status="assigned", assignee="alice"),
                                                  [AuditEntry(NOW, "alice", "claim", f"case:{c.case_id}")]))
    assert moved.status == "assigned" and ops.get_case(c.case_id) == moved
    assert len(ops.list_audit(target=f"case:{c.case_id}")) == 1
    with pytest.raises(KeyError):
        ops.update_case(10_000, lambda x: (x, []))


def test_ids_are_never_reused(ops: Any) -> None:
    """Outbox dedup keys hold subscriber and alert ids: a deleted subscriber's id is not given out again."""
    a = ops.save_subscriber(Subscriber("a@example.cn"))
    ops.delete_subscriber(a.subscriber_id)
    assert ops.save_subscriber(Subscriber("b@example.cn")).subscriber_id != a.subscriber_id


def test_saving_under_an_id_never_given_out_is_an_error(ops: Any) -> None:
    for record, save in ((alert(alert_id=41), ops.save_alert), (Subscriber("a@b.cn", subscriber_id=41), ops.save_subscriber),
                         (Case("weibo", "1", case_id=41), ops.save_case),
                         (CrawlRun("weibo", NOW, run_id=41), ops.record_crawl_run)):
        with pytest.raises(KeyError):
            save(record)


def test_sessions_of_a_disabled_or_reset_user_end(ops: Any) -> None:
    ops.save_user(User("alice", "$2b$12$x", role="responder"))
    ops.add_session("h1", "alice", NOW, NOW + timedelta(hours=12))
    ops.save_user(User("alice", "$2b$12$x", role="responder", disabled=True))
    assert ops.session_user("h1", NOW + timedelta(minutes=1)) is None
    ops.save_user(User("alice", "$2b$12$y", role="responder", sessions_after=NOW + timedelta(minutes=2)))
    assert ops.session_user("h1", NOW + timedelta(minutes=3)) is None  # started before the reset
    ops.add_session("h2", "alice", NOW + timedelta(minutes=4), NOW + timedelta(hours=12))
    assert ops.session_user("h2", NOW + timedelta(minutes=5)).password_hash == "$2b$12$y"
    assert ops.get_user("alice").sessions_after == NOW + timedelta(minutes=2)


def test_grants_are_single_use(ops: Any) -> None:
    ops.add_grant("g1", "alice", NOW, NOW + timedelta(seconds=60))
    ops.add_grant("g2", "bob", NOW, NOW + timedelta(seconds=60))
    assert ops.redeem_grant("g1", NOW + timedelta(seconds=1)) == "alice"
    assert ops.redeem_grant("g1", NOW + timedelta(seconds=2)) is None  # used up
    assert ops.redeem_grant("g2", NOW + timedelta(seconds=61)) is None  # expired (and used up)
    assert ops.redeem_grant("nope", NOW) is None
