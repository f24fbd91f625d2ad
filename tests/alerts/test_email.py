"""Email against a real aiosmtpd server on 127.0.0.1: bodies, UTF-8 subjects, recipients by filter, the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.email import notify, schedule_digests
from alerts.engine import run_once
from alerts.loader import parse_rules
from alerts.outbox import deliver_due
from tests.alerts.factory import NOW, make_post
from yuqing.ops.subscribers import subscribe, unsubscribe
from yuqing.records import Alert

RULES = parse_rules({"rules": [{"name": "升级投诉", "type": "escalation", "more_than": 2}]})


def crisis(store, n: int = 3, **kw) -> None:
    store.upsert_posts([make_post("深圳移动断网三天，我要打12300投诉", minutes_ago=1 + i, **kw) for i in range(n)])


def alert(store, **kw) -> Alert:
    fields = dict(rule="r", key="k", severity="orange", title="深圳移动疑似网络故障", reason="近15分钟 9 条",
                  opened_at=NOW, updated_at=NOW, scope={"operators": ("中国移动",), "regions": ("广东", "深圳"),
                                                        "touchpoints": ("网络信号",), "platforms": ("weibo",)})
    fields.update(kw)
    return store.save_alert(Alert(**fields))


def test_alert_email_body_and_utf8_subject(store, settings, smtp_server) -> None:
    sub = subscribe(store, settings, "duty@example.test", name="值班", actor="test")
    crisis(store)
    fired = run_once(*store, settings, NOW, rules=RULES)
    assert len(fired) == 1
    assert deliver_due(store.ops, settings, NOW) == 1
    (msg,) = smtp_server.inbox.to("duty@example.test")
    assert msg["Subject"] == "【橙色预警】出现升级投诉苗头（全部运营商）"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for body in (text, html):
        assert "3 条帖子提到升级投诉" in body and "12300×3" in body  # why: counts against the threshold
        assert "http://127.0.0.1:8900/weibo/p" in body  # sample posts with links
        assert f"unsubscribe={sub.token}" in body
        assert "运营商：中国移动" in body
    assert "<a href=\"http://127.0.0.1:8900/weibo/p" in html
    assert msg["List-Unsubscribe"].strip() == f"<http://127.0.0.1:8501/?unsubscribe={sub.token}>"
    assert deliver_due(store.ops, settings, NOW + timedelta(minutes=5)) == 0  # nothing twice


FILTERS = [
    ({}, True),
    ({"min_severity": "red"}, False),
    ({"min_severity": "orange"}, True),
    ({"operators": ("中国电信",)}, False),
    ({"operators": ("中国移动", "中国联通")}, True),
    ({"touchpoints": ("资费账单",)}, False),
    ({"touchpoints": ("网络信号",)}, True),
    ({"regions": ("北京",)}, False),
    ({"regions": ("深圳",)}, True),
    ({"regions": ("广东",)}, True),
    ({"platforms": ("zhihu",)}, False),
    ({"platforms": ("weibo",)}, True),
    ({"rules": ("flatline",)}, False),
    ({"rules": ("城市网络故障",)}, True),
    ({"rules": ("outage_city",)}, True),
    ({"mode": "hourly"}, False),
]


def test_recipients_chosen_by_each_filter(store, settings, smtp_server) -> None:
    for i, (filters, _) in enumerate(FILTERS):
        subscribe(store, settings, f"s{i}@example.test", **filters, actor="test")
    subscribe(store, settings, "gone@example.test", actor="test")
    assert unsubscribe(store, "gone@example.test")
    a = alert(store, rule="城市网络故障", rule_type="outage_city")
    notify(*store, settings, [a], NOW)
    deliver_due(store.ops, settings, NOW)
    got = {rcpt for _, rcpts, _ in smtp_server.inbox.messages for rcpt in rcpts}
    want = {f"s{i}@example.test" for i, (_, yes) in enumerate(FILTERS) if yes}
    assert got == want


def test_smtp_down_then_back_delivers_exactly_once(store, settings, smtp_down) -> None:
    subscribe(store, settings, "ops@example.test", actor="test")
    crisis(store)
    run_once(*store, settings, NOW, rules=RULES)
    assert deliver_due(store.ops, settings, NOW) == 0  # server down: kept, not lost
    (queued,) = store.list_outbox()
    assert queued.sent_at is None and queued.attempts == 1 and "不可用" in queued.last_error
    assert deliver_due(store.ops, settings, NOW + timedelta(seconds=5)) == 0  # backing off: not yet due
    smtp_down.start()
    run_once(*store, settings, NOW + timedelta(minutes=1), rules=RULES)  # still firing: no second message queued
    assert deliver_due(store.ops, settings, NOW + timedelta(minutes=2)) == 1
    assert deliver_due(store.ops, settings, NOW + timedelta(minutes=30)) == 0
    assert len(smtp_down.inbox.to("ops@example.test")) == 1 and len(store.list_outbox()) == 1


def test_raise_and_reopen_send_again_repeats_do_not(store, settings, smtp_server) -> None:
    subscribe(store, settings, "duty@example.test", min_severity="blue", actor="test")
    crisis(store)
    run_once(*store, settings, NOW, rules=RULES)
    crisis(store, 5)
    run_once(*store, settings, NOW + timedelta(minutes=1), rules=RULES)
    run_once(*store, settings, NOW + timedelta(minutes=2), rules=RULES)
    deliver_due(store.ops, settings, NOW + timedelta(minutes=3))
    subjects = [m["Subject"] for m in smtp_server.inbox.to("duty@example.test")]
    assert subjects == ["【橙色预警】出现升级投诉苗头（全部运营商）", "【红色预警·升级】出现升级投诉苗头（全部运营商）"]


def test_hourly_digest(store, settings, smtp_server) -> None:
    subscribe(store, settings, "boss@example.test", mode="hourly", min_severity="blue", actor="test")
    alert(store, key="a", severity="yellow", title="告警甲", opened_at=NOW - timedelta(minutes=50),
          updated_at=NOW - timedelta(minutes=50))
    alert(store, key="b", severity="red", title="告警乙", opened_at=NOW - timedelta(minutes=20),
          updated_at=NOW - timedelta(minutes=20))
    alert(store, key="c", severity="red", title="上一小时之前", opened_at=NOW - timedelta(hours=3),
          updated_at=NOW - timedelta(hours=3))
    notify(*store, settings, store.list_alerts(), NOW)  # hourly subscribers get no immediate mail
    assert schedule_digests(*store, settings, NOW + timedelta(minutes=5)) == 1
    assert schedule_digests(*store, settings, NOW + timedelta(minutes=6)) == 0
    deliver_due(store.ops, settings, NOW + timedelta(minutes=6))
    (msg,) = smtp_server.inbox.to("boss@example.test")
    assert msg["Subject"].startswith("【舆情小时汇总】") and "共 2 条预警，最高红色" in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    assert "告警甲" in text and "告警乙" in text and "上一小时之前" not in text
    assert "未处理" in text and "告警" not in text.replace("告警甲", "").replace("告警乙", "")  # 预警, as on the dashboard
    assert text.index("告警乙") < text.index("告警甲")  # worst first


def test_quiet_hours_hold_low_severity_for_the_morning_digest(store, settings, smtp_server) -> None:
    settings = settings.replace(alerts={"quiet_hours": "23:00-07:00"})
    night = NOW.replace(hour=17)  # 01:00 in Shanghai
    subscribe(store, settings, "duty@example.test", min_severity="blue", actor="test")
    low = alert(store, key="low", severity="yellow", title="夜里的黄色", opened_at=night, updated_at=night)
    high = alert(store, key="high", severity="red", title="夜里的红色", opened_at=night, updated_at=night)
    notify(*store, settings, [low, high], night)
    deliver_due(store.ops, settings, night)
    assert [m["Subject"] for m in smtp_server.inbox.to("duty@example.test")] == ["【红色预警】夜里的红色"]
    morning = night.replace(hour=23, minute=5)  # 07:05 in Shanghai
    schedule_digests(*store, settings, morning)
    deliver_due(store.ops, settings, morning)
    digest = smtp_server.inbox.to("duty@example.test")[-1]
    assert digest["Subject"].startswith("【夜间低级别预警汇总】")
    assert "夜里的黄色" in digest.get_body(("plain",)).get_content()


def test_daily_report_with_inline_chart(store, settings, smtp_server) -> None:
    subscribe(store, settings, "leader@example.test", mode="daily", daily_at="08:00", operators=("中国移动",), actor="test")
    for h in range(1, 20):
        store.upsert_posts([make_post("移动信号差", minutes_ago=60 * h + 5, keywords=("信号差",)),
                            make_post("移动还行", label="neutral", minutes_ago=60 * h + 7)])
    store.upsert_posts([make_post("电信也差", operators=("中国电信",), minutes_ago=65)])
    alert(store, title="日内告警", opened_at=NOW - timedelta(hours=3), updated_at=NOW - timedelta(hours=3))
    at = NOW.replace(hour=0, minute=1)  # 08:01 in Shanghai
    assert schedule_digests(*store, settings, at) == 1
    assert schedule_digests(*store, settings, at + timedelta(minutes=1)) == 0
    deliver_due(store.ops, settings, at)
    (msg,) = smtp_server.inbox.to("leader@example.test")
    assert msg["Subject"].startswith("【舆情日报】2026-11-24 负面 ")
    html_part = msg.get_body(("html",))
    assert 'src="cid:daily-chart.png"' in html_part.get_content()
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<daily-chart.png>"
    assert images[0].get_content().startswith(b"\x89PNG")
    text = msg.get_body(("plain",)).get_content()
    assert "运营商：中国移动" in text and "日内告警" in text and "信号差" in text and "电信也差" not in text


def test_gives_up_after_max_attempts_and_records_it(store, settings) -> None:
    settings = settings.replace(smtp={"max_attempts": 2})
    subscribe(store, settings, "x@example.test", actor="test")
    notify(*store, settings, [alert(store)], NOW)
    deliver_due(store.ops, settings, NOW)
    deliver_due(store.ops, settings, NOW + timedelta(hours=1))
    (msg,) = store.list_outbox()
    assert msg.attempts == 2 and msg.sent_at is None and "已放弃" in msg.last_error
    assert deliver_due(store.ops, settings, NOW + timedelta(days=30)) == 0
    assert any(stage == "email" for _, stage, _ in store.rejected_counts())


@pytest.mark.parametrize("attempts, seconds", [(1, 30), (2, 60), (3, 120), (10, 3600)])
def test_backoff_doubles_to_an_hour(attempts: int, seconds: int) -> None:
    from alerts.outbox import backoff

    assert backoff(attempts).total_seconds() == seconds


def test_reopened_alert_is_mailed_again_and_says_so(store, settings, smtp_server) -> None:
    from yuqing.ops import lifecycle

    subscribe(store, settings, "duty@example.test", actor="test")
    crisis(store)
    (a,) = run_once(*store, settings, NOW, rules=RULES)
    lifecycle.resolve(store, a.alert_id, "值班员", "已处理", NOW + timedelta(minutes=5))
    later = NOW + timedelta(minutes=90)
    crisis(store, now=later)
    (b,) = run_once(*store, settings, later, rules=RULES)
    assert b.alert_id == a.alert_id and b.reopened == 1
    deliver_due(store.ops, settings, later)
    subjects = [m["Subject"] for m in smtp_server.inbox.to("duty@example.test")]
    assert subjects == ["【橙色预警】出现升级投诉苗头（全部运营商）", "【橙色预警·再次出现】出现升级投诉苗头（全部运营商）"]
    assert "第 1 次" in smtp_server.inbox.to("duty@example.test")[-1].get_body(("plain",)).get_content()


def test_more_than_one_batch_is_sent_in_one_call(store, settings, smtp_server) -> None:
    from yuqing.records import OutboxMessage

    for i in range(7):
        store.enqueue(OutboxMessage(to=(f"u{i}@example.test",), subject=f"第{i}封", text="正文",
                                          dedup_key=f"batch:{i}", created_at=NOW))
    assert deliver_due(store.ops, settings, NOW, limit=3) == 7
    assert len(smtp_server.inbox.messages) == 7 and deliver_due(store.ops, settings, NOW, limit=3) == 0


def test_a_refused_message_does_not_hold_up_the_others(store, settings, smtp_server) -> None:
    from yuqing.records import OutboxMessage

    for i, to in enumerate(["ok1@example.test", "bad@example.test", "ok2@example.test"]):
        store.enqueue(OutboxMessage(to=(to,), subject=f"第{i}封", text="正文", dedup_key=f"r:{i}", created_at=NOW))
    original = smtp_server.inbox.handle_DATA

    async def refuse_bad(server, session, envelope):  # type: ignore[no-untyped-def]
        if "bad@example.test" in envelope.rcpt_tos:
            return "550 mailbox unavailable"
        return await original(server, session, envelope)

    smtp_server.inbox.handle_DATA = refuse_bad  # type: ignore[method-assign]
    assert deliver_due(store.ops, settings, NOW) == 2
    by_to = {m.to[0]: m for m in store.list_outbox()}
    assert by_to["bad@example.test"].sent_at is None and "550" in by_to["bad@example.test"].last_error
    assert by_to["ok2@example.test"].sent_at is not None


def test_concurrent_deliverers_send_each_message_once(store, settings, smtp_server) -> None:
    """Four deliverers (own connections to one SQLite file, as four processes would have) share a slow server."""
    import asyncio
    import threading
    from collections import Counter

    from tests.alerts.conftest import open_both
    from yuqing.records import OutboxMessage

    for i in range(24):
        store.enqueue(OutboxMessage(to=(f"u{i}@example.test",), subject=f"第{i}封", text="正文",
                                          dedup_key=f"c:{i}", created_at=NOW))
    original = smtp_server.inbox.handle_DATA

    async def slow(server, session, envelope):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.02)  # a send takes a while: the others look at the outbox meanwhile
        return await original(server, session, envelope)

    smtp_server.inbox.handle_DATA = slow  # type: ignore[method-assign]
    sent: list[int] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        own = open_both(settings.store.path)
        try:
            sent.append(deliver_due(own, settings, NOW, limit=3))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    received = Counter(m["Subject"] for _, _, m in smtp_server.inbox.messages)
    assert sorted(received) == sorted(f"第{i}封" for i in range(24)) and set(received.values()) == {1}
    assert sum(sent) == 24 and all(m.sent_at is not None for m in store.list_outbox())


def test_several_decisions_for_one_alert_in_one_run_send_one_new_email(store, settings, smtp_server) -> None:
    """Three rules fold into one event's alert in one evaluation (new, raise, raise): one email, new, at red."""
    subscribe(store, settings, "duty@example.test", min_severity="blue", actor="test")
    rules = parse_rules({"rules": [{"name": f"升级{sev}", "type": "escalation", "more_than": 2, "severity": sev}
                                   for sev in ("yellow", "orange", "red")]})
    crisis(store, event_id="ev1")
    fired = run_once(*store, settings, NOW, rules=rules)
    assert len({a.alert_id for a in fired}) == 1 and len(fired) == 1
    assert deliver_due(store.ops, settings, NOW) == 1
    (msg,) = smtp_server.inbox.to("duty@example.test")
    assert msg["Subject"].startswith("【红色预警】")
    assert "新" in msg.get_body(("plain",)).get_content()


def test_daily_report_at_half_past_counts_hours_and_lists_only_its_events(store, settings) -> None:
    """日报 at 07:30: the hour series starts at 07:00 (store buckets are on the hour), so negatives show; only
    events seen within the day and fitting the subscriber's operators are listed."""
    from alerts.email import daily_report, last_daily_time
    from yuqing.records import Event

    sub = subscribe(store, settings, "leader@example.test", mode="daily", daily_at="07:30", operators=("中国移动",), actor="test")
    end = last_daily_time(sub, NOW)  # 07:30 Shanghai = 23:30 UTC the day before NOW
    store.upsert_events([
        Event(event_id="in", title="移动信号差", first_seen=end - timedelta(hours=5), last_seen=end - timedelta(hours=1),
              size=14, negative=14, operators=("中国移动",)),
        Event(event_id="old", title="上周的旧事", first_seen=end - timedelta(days=9), last_seen=end - timedelta(days=8),
              size=99, negative=99, operators=("中国移动",)),
        Event(event_id="other", title="电信宽带故障", first_seen=end - timedelta(hours=3),
              last_seen=end - timedelta(hours=2), size=50, negative=50, operators=("中国电信",))])
    store.upsert_posts([make_post("移动信号差", minutes_ago=60 * h + 10, event_id="in", now=end) for h in range(14)])
    store.upsert_posts([make_post("电信宽带断了", operators=("中国电信",), minutes_ago=130, event_id="other", now=end)])
    data = daily_report(*store, settings, sub, end - timedelta(days=1), end)
    assert data["negative"] == 14 and data["hourly_text"] != "无"
    assert sum(int(part.split("时")[1]) for part in data["hourly_text"].split()) == 14
    assert [e.event_id for e in data["events"]] == ["in"]


def test_a_deliverer_killed_mid_delivery_loses_and_doubles_nothing(store, settings, smtp_server, tmp_path) -> None:
    """A real delivering process is SIGKILLed while a slow server takes its batch; a restart on this host takes
    over the dead process's lease at once (not after the 10-minute lease) and every message arrives exactly once."""
    import asyncio
    import os
    import signal
    import subprocess
    import sys
    import time
    from collections import Counter

    from yuqing.records import OutboxMessage

    for i in range(12):
        store.enqueue(OutboxMessage(to=(f"u{i}@example.test",), subject=f"第{i}封", text="正文",
                                          dedup_key=f"k:{i}", created_at=NOW))
    original = smtp_server.inbox.handle_DATA

    async def slow(server, session, envelope):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.3)
        return await original(server, session, envelope)

    smtp_server.inbox.handle_DATA = slow  # type: ignore[method-assign]
    script = ("import sys; from datetime import datetime; from alerts.outbox import deliver_due; "
              "from yuqing.config import Settings; from yuqing.wiring import open_ops; "
              f"s = Settings().replace(store={{'path': {settings.store.path!r}}}, smtp={{'host': '127.0.0.1', "
              f"'port': {settings.smtp.port}, 'sender': 'yuqing@example.test', 'timeout_seconds': 5.0}}); "
              f"deliver_due(open_ops(s), s, datetime.fromisoformat({NOW.isoformat()!r}), limit=12)")
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while len(smtp_server.inbox.messages) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # mid-batch: some sent, one in flight, the rest still leased to it
    proc.wait(10)
    held = [m for m in store.list_outbox() if m.sent_at is None]
    assert held, "the killed process had nothing left in flight"
    sent = deliver_due(store.ops, settings, NOW)  # the same instant: no lease has run out
    time.sleep(0.5)
    received = Counter(m["Subject"] for _, _, m in smtp_server.inbox.messages)
    assert sorted(received) == sorted(f"第{i}封" for i in range(12)), received
    doubled = {k: v for k, v in received.items() if v > 1}
    # A message can arrive twice only if the kill fell between the server's acceptance and the outbox mark (the
    # SMTP gap of RFC 1047); it then carries the same Message-ID both times, so mail clients show it once.
    assert len(doubled) <= 1 and set(doubled.values()) <= {2}, doubled
    for subject in doubled:
        ids = {m["Message-ID"] for _, _, m in smtp_server.inbox.messages if m["Subject"] == subject}
        assert len(ids) == 1, ids
    assert sent >= len(held) - len(doubled) and all(m.sent_at is not None for m in store.list_outbox())
