"""Lifecycle functions the dashboard calls: acknowledge, resolve, silence, each audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.alerts.factory import NOW
from tests.conftest import make_both
from yuqing.ops import lifecycle
from yuqing.records import Alert


@pytest.fixture(params=["sqlite+sqlite", "es-standin+postgresql"])
def store(request: pytest.FixtureRequest, tmp_path):
    index, ops = request.param.split("+")
    yield from make_both(tmp_path, index, ops, request.getfixturevalue("pg_url") if ops == "postgresql" else "")


def _alert(store) -> Alert:
    return store.save_alert(Alert(rule="r", key="k", severity="yellow", title="t", reason="why", opened_at=NOW))


def test_ack_then_resolve_records_who_when_and_note(store) -> None:
    a = _alert(store)
    acked = lifecycle.acknowledge(store, a.alert_id, "张三", NOW + timedelta(minutes=1))
    assert (acked.status, acked.acknowledged_by, acked.acknowledged_at) == ("acknowledged", "张三",
                                                                            NOW + timedelta(minutes=1))
    again = lifecycle.acknowledge(store, a.alert_id, "李四", NOW + timedelta(minutes=2))
    assert again.acknowledged_by == "张三"  # the first acknowledgement stands
    done = lifecycle.resolve(store, a.alert_id, "李四", "  已电话回访  ", NOW + timedelta(minutes=3))
    assert (done.status, done.resolved_by, done.resolution_note) == ("resolved", "李四", "已电话回访")
    assert store.get_alert(a.alert_id).status == "resolved"
    audit = store.list_audit(target=f"alert:{a.alert_id}")
    assert {(e.actor, e.action) for e in audit} == {("张三", "ack"), ("李四", "resolve")}


def test_resolve_without_ack_fills_ack(store) -> None:
    a = _alert(store)
    done = lifecycle.resolve(store, a.alert_id, "王五", "误报", NOW)
    assert done.acknowledged_by == "王五" and done.acknowledged_at == NOW


@pytest.mark.parametrize("move", ["ack-missing", "resolve-empty-note", "resolve-twice", "ack-resolved"])
def test_bad_moves_are_refused(store, move: str) -> None:
    a = _alert(store)
    with pytest.raises(lifecycle.LifecycleError):
        if move == "ack-missing":
            lifecycle.acknowledge(store, 999, "x", NOW)
        elif move == "resolve-empty-note":
            lifecycle.resolve(store, a.alert_id, "x", " ", NOW)
        else:
            lifecycle.resolve(store, a.alert_id, "x", "ok", NOW)
            if move == "resolve-twice":
                lifecycle.resolve(store, a.alert_id, "x", "ok", NOW)
            else:
                lifecycle.acknowledge(store, a.alert_id, "x", NOW)


def test_silence_alert_and_refuse_past(store) -> None:
    a = _alert(store)
    s = lifecycle.silence_alert(store, a.alert_id, NOW + timedelta(hours=1), "主管", "维护窗口", NOW)
    assert (s.rule, s.key) == ("r", "k") and store.active_silences(NOW)[0].key == "k"
    assert store.active_silences(NOW + timedelta(hours=2)) == []
    with pytest.raises(lifecycle.LifecycleError):
        lifecycle.silence(store, "r", "", NOW - timedelta(minutes=1), "主管", now=NOW)
    assert any(e.action == "silence" for e in store.list_audit(target="rule:r:k"))
