"""Deliver chat messages from the OpsDB outbox, channel by channel, paced under each platform's rate limit.

Each message is claimed (leased to this process) one at a time, and only while the channel has room in its
last minute (sent messages of every process, counted in the OpsDB): a burst waits in the outbox, never dropped.
Accepted: marked sent, never again. Network errors, 5xx and the platforms' rate-limit codes: retried with
backoff. A wrong key, a failed signature or a message the platform refuses: given up at once (never retried), as is a message not accepted within the
channel's give_up_minutes. After any failure the channel's round stops, so a channel that is down or refusing
gets one request per round, not one per queued message. A message given up is logged, recorded as rejected and shown on the 预警 page."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alerts.channels import Answer, ChatMessage, open_channel
from alerts.channels.base import PERMANENT, RATE_LIMITED
from yuqing.config import ChannelSettings, Settings
from yuqing.ops import OpsDB, owner_id
from yuqing.records import OutboxMessage, Rejected, utc

log = logging.getLogger(__name__)
BASE_DELAY = 5.0  # seconds before the first retry; doubles each attempt
MAX_DELAY = 300.0
RATE_DELAY = 60.0  # after a rate-limit answer: the platforms count per minute
WINDOW = timedelta(minutes=1)
GIVEN_UP = datetime(9999, 1, 1, tzinfo=UTC)  # never due again (as alerts.outbox)


@dataclass(frozen=True)
class Attempt:
    """One message sent (or tried) in a round: the platform's answer."""

    message: OutboxMessage
    answer: Answer


def backoff(attempts: int, answer: Answer) -> timedelta:
    """Delay before the next try: 5 s, 10 s, 20 s … at most 5 minutes; at least a minute after a rate limit."""
    delay = min(BASE_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)
    return timedelta(seconds=max(delay, RATE_DELAY) if answer.kind == RATE_LIMITED else delay)


def deliver_chat(ops: OpsDB, settings: Settings, now: datetime | None = None, *, owner: str = "",
                 sleep: Callable[[float], None] = time.sleep) -> int:
    """Deliver what is due on every configured chat channel; the number the platforms accepted."""
    return sum(a.answer.ok for c in settings.channels for a in deliver_channel(ops, c, now, owner=owner, sleep=sleep))


def deliver_channel(ops: OpsDB, channel: ChannelSettings, now: datetime | None = None, *, owner: str = "",
                    sleep: Callable[[float], None] = time.sleep, clock: Callable[[], datetime] | None = None) -> list[Attempt]:
    """One delivery round of one channel: every attempt with the platform's answer. `now` fixes the time;
    by default (or with `clock`) it is read before each message."""
    ch = open_channel(channel)
    owner = owner or owner_id()
    clock = clock or ((lambda: utc(now)) if now is not None else (lambda: datetime.now(UTC)))
    attempts: list[Attempt] = []
    while True:
        t = clock()
        room = ch.rate_per_minute - ops.count_sent(ch.name, t - WINDOW)
        if room <= 0:
            log.info("chat %s: %d sent in the last minute, the rest wait (rate limit %d/min)", ch.name,
                     ch.rate_per_minute - room, ch.rate_per_minute)
            break
        claimed = ops.claim_messages(t, owner, limit=1, channel=ch.name)
        if not claimed:
            break
        msg = claimed[0]
        if attempts and ch.min_interval:
            sleep(ch.min_interval)
        answer = ch.send(ChatMessage(msg.subject, msg.text, msg.link, msg.mentions), clock())
        attempts.append(Attempt(msg, answer))
        if answer.ok:
            ops.mark_sent(msg.message_id, clock())  # type: ignore[arg-type]
            log.info("chat %s: message %s accepted: %s", ch.name, msg.message_id, msg.subject)
            continue
        _failed(ops, channel, msg, answer, clock())
        break  # down, throttling or refusing: the rest wait for the next round (one request per round)
    return attempts


def _failed(ops: OpsDB, channel: ChannelSettings, msg: OutboxMessage, answer: Answer, now: datetime) -> None:
    attempts = msg.attempts + 1
    error = f"{channel.type} {channel.name}: {answer.describe()}"
    age = now - (msg.created_at or now)
    if answer.kind == PERMANENT or age >= timedelta(minutes=channel.give_up_minutes):
        why = "错误不可重试" if answer.kind == PERMANENT else f"{channel.give_up_minutes} 分钟内未送达"
        ops.mark_failed(msg.message_id, f"已放弃（{why}，{attempts} 次）：{error}", GIVEN_UP)  # type: ignore[arg-type]
        ops.record_rejected([Rejected(source="alerts", stage="chat", reason=f"gave up ({why}): {error}"[:500],
                                      sample=f"{channel.name} {msg.subject}"[:200], at=now)])
        log.error("chat %s: message %s given up after %d attempts: %s", channel.name, msg.message_id, attempts, error)
        return
    delay = backoff(attempts, answer)
    ops.mark_failed(msg.message_id, error, now + delay)  # type: ignore[arg-type]
    log.warning("chat %s: message %s failed (attempt %d), retry in %s: %s", channel.name, msg.message_id, attempts,
                delay, error)
