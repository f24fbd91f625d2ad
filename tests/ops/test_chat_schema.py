"""The OpsDB for chat channels, on SQLite and PostgreSQL: a subscriber's channel, an outbox message's link,
the per-channel count of sent messages, and step 11 upgrading a version-10 database (every subscriber "email")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.ops.conftest import BACKENDS, make_ops
from yuqing.ops.migrations import LATEST
from yuqing.records import OutboxMessage, Subscriber

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def test_chat_subscribers_and_messages(ops: Any) -> None:
    chat = ops.save_subscriber(Subscriber("", channel="henan-wecom", regions=("河南",), touchpoints=("宽带",)))
    mail = ops.save_subscriber(Subscriber("a@example.cn"))
    got = {s.subscriber_id: s for s in ops.list_subscribers()}
    assert got[chat.subscriber_id].channel == "henan-wecom" and got[chat.subscriber_id].email == ""
    assert got[chat.subscriber_id].regions == ("河南",) and got[mail.subscriber_id].channel == "email"
    with pytest.raises(ValueError):
        Subscriber("", channel="email")
    ids = [ops.enqueue(OutboxMessage(to=("henan-wecom",), subject=f"预警{i}", text="**正文**", channel="henan-wecom",
                                     link=f"http://127.0.0.1:8501/alerts?alert={i}", dedup_key=f"k{i}", created_at=NOW))
           for i in range(3)]
    ops.enqueue(OutboxMessage(to=("a@example.cn",), subject="邮件", text="t", dedup_key="mail", created_at=NOW))
    claimed = ops.claim_messages(NOW, "host:1", limit=10, channel="henan-wecom")
    assert [m.message_id for m in claimed] == ids and claimed[0].link.endswith("alert=0")
    ops.mark_sent(ids[0], NOW - timedelta(seconds=90))
    ops.mark_sent(ids[1], NOW - timedelta(seconds=30))
    assert ops.count_sent("henan-wecom", NOW - timedelta(minutes=1)) == 1
    assert ops.count_sent("henan-wecom", NOW - timedelta(minutes=2)) == 2
    assert ops.count_sent("email", NOW - timedelta(minutes=2)) == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_step_11_gives_every_existing_subscriber_the_email_channel(backend: str, tmp_path: Path,
                                                                    request: pytest.FixtureRequest) -> None:
    ops = make_ops(backend, tmp_path, request)
    try:  # back to version 10: no channel column, one subscriber
        with ops.engine.begin() as conn:
            conn.execute(text("ALTER TABLE subscribers DROP COLUMN channel"))
            conn.execute(text("UPDATE schema_version SET version = 10 WHERE component = 'ops'"))
            conn.execute(text("INSERT INTO subscribers (email, name, min_severity, operators, touchpoints, regions, "
                              "platforms, rules, mode, daily_at, active, token) VALUES ('old@example.cn', '旧', "
                              "'yellow', '[]', '[]', '[]', '[]', '[]', 'immediate', '08:00', true, 'tok')"))
    finally:
        ops.close()
    ops = make_ops(backend, tmp_path, request)
    try:
        assert ops.upgraded_from == 10
        (sub,) = ops.list_subscribers()
        assert (sub.email, sub.channel, sub.name) == ("old@example.cn", "email", "旧")
        with ops.engine.connect() as conn:
            assert conn.execute(text("SELECT version FROM schema_version WHERE component='ops'")).scalar() == LATEST
    finally:
        ops.close()
