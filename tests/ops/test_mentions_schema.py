"""The OpsDB for chat @mentions, on SQLite and PostgreSQL: a subscription's mentions and their lowest severity,
an outbox message's mentions, and the step that adds them to a database of the release before (nobody
mentioned, orange the level)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.ops.conftest import BACKENDS, make_ops
from yuqing.ops.migrations import LATEST, STEPS, _subscriber_mentions
from yuqing.records import OutboxMessage, Subscriber

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def test_mentions_are_stored_with_the_subscription_and_the_message(ops: Any) -> None:
    duty = ops.save_subscriber(Subscriber("", channel="henan-duty", mentions=("13800138000", "all"),
                                          mention_min_severity="red"))
    plain = ops.save_subscriber(Subscriber("", channel="henan-ding"))
    got = {s.subscriber_id: s for s in ops.list_subscribers()}
    assert got[duty.subscriber_id].mentions == ("13800138000", "all")
    assert got[duty.subscriber_id].mention_min_severity == "red"
    assert (got[plain.subscriber_id].mentions, got[plain.subscriber_id].mention_min_severity) == ((), "orange")
    ops.enqueue(OutboxMessage(to=("henan-duty",), subject="红色预警", text="**正文**", channel="henan-duty",
                              dedup_key="m1", created_at=NOW, mentions=("13800138000",)))
    ops.enqueue(OutboxMessage(to=("henan-duty",), subject="黄色预警", text="正文", channel="henan-duty",
                              dedup_key="m2", created_at=NOW))
    first, second = ops.claim_messages(NOW, "host:1", limit=10, channel="henan-duty")
    assert (first.mentions, second.mentions) == (("13800138000",), ())
    with pytest.raises(ValueError):
        Subscriber("", channel="henan-duty", mention_min_severity="purple")


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_mentions_step_gives_existing_subscribers_no_mentions(backend: str, tmp_path: Path,
                                                                   request: pytest.FixtureRequest) -> None:
    step = next(v for v, f in STEPS.items() if f is _subscriber_mentions)
    ops = make_ops(backend, tmp_path, request)
    try:  # back to the version before the step: no mention columns, one chat subscriber
        with ops.engine.begin() as conn:
            conn.execute(text("ALTER TABLE subscribers DROP COLUMN mentions"))
            conn.execute(text("ALTER TABLE subscribers DROP COLUMN mention_min_severity"))
            conn.execute(text("UPDATE schema_version SET version = :v WHERE component = 'ops'"), {"v": step - 1})
            conn.execute(text("INSERT INTO subscribers (email, name, min_severity, operators, touchpoints, regions, "
                              "platforms, rules, mode, daily_at, active, token, channel) VALUES ('', '值班群', "
                              "'yellow', '[]', '[]', '[]', '[]', '[]', 'immediate', '08:00', true, 'tok', 'duty')"))
    finally:
        ops.close()
    ops = make_ops(backend, tmp_path, request)
    try:
        assert ops.upgraded_from == step - 1
        (sub,) = ops.list_subscribers()
        assert (sub.channel, sub.mentions, sub.mention_min_severity) == ("duty", (), "orange")
        saved = ops.save_subscriber(sub.__class__(**{**sub.__dict__, "mentions": ("all",)}))
        assert ops.get_subscriber(saved.subscriber_id).mentions == ("all",)
        with ops.engine.connect() as conn:
            assert conn.execute(text("SELECT version FROM schema_version WHERE component='ops'")).scalar() == LATEST
    finally:
        ops.close()
