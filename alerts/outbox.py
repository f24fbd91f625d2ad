"""Send due email from the OpsDB outbox over SMTP (STARTTLS/SSL/login from settings); mark each sent, or failed
with exponential backoff. Messages are claimed first (leased to this process, "host:pid"), so several delivering
processes on several hosts never send one twice; a message is marked sent only once the server accepted it, and
never picked up again."""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from yuqing.config import Settings, SmtpSettings
from yuqing.ops import OpsDB, owner_id
from yuqing.records import OutboxMessage, Rejected, utc

log = logging.getLogger(__name__)
BASE_DELAY = 30.0  # seconds before the first retry; doubles each attempt
MAX_DELAY = 3600.0
UNSUBSCRIBE = re.compile(r"^退订：(\S+)$", re.MULTILINE)  # the line every template ends with
GIVEN_UP = datetime(9999, 1, 1, tzinfo=UTC)  # never due again
CHANNEL = "email"


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failed ones: 30 s, 60 s, 120 s … at most an hour."""
    return timedelta(seconds=min(BASE_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY))


def build_mime(msg: OutboxMessage, smtp: SmtpSettings) -> EmailMessage:
    """Plain text and HTML alternatives, images inline by Content-ID (their file name), UTF-8 subject."""
    mime = EmailMessage()
    mime["Subject"] = msg.subject
    mime["From"] = smtp.sender
    mime["To"] = ", ".join(msg.to)
    mime["Date"] = formatdate(localtime=False)
    domain = smtp.sender.rpartition("@")[2] or "localhost"
    digest = hashlib.sha256((msg.dedup_key or str(msg.message_id)).encode()).hexdigest()[:24]
    mime["Message-ID"] = make_msgid(idstring=digest, domain=domain) if not msg.dedup_key else f"<{digest}@{domain}>"
    unsubscribe = UNSUBSCRIBE.search(msg.text)
    if unsubscribe:
        mime["List-Unsubscribe"] = f"<{unsubscribe.group(1)}>"
    mime.set_content(msg.text, charset="utf-8")
    if msg.html:
        mime.add_alternative(msg.html, subtype="html", charset="utf-8")
        html_part = mime.get_payload()[-1]  # type: ignore[index]
        for name, mimetype, data in msg.attachments:
            if mimetype.startswith("image/") and f"cid:{name}" in msg.html:
                maintype, _, subtype = mimetype.partition("/")
                html_part.add_related(data, maintype=maintype, subtype=subtype, cid=f"<{name}>", filename=name)
    for name, mimetype, data in msg.attachments:
        if not (mimetype.startswith("image/") and f"cid:{name}" in msg.html):
            maintype, _, subtype = mimetype.partition("/")
            mime.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mime


def connect(smtp: SmtpSettings) -> smtplib.SMTP:
    """An SMTP session as the settings say: SSL or STARTTLS, and login when a username is set."""
    context = ssl.create_default_context()  # verify the server's certificate (SSL_CERT_FILE adds a private CA)
    if smtp.ssl:
        conn: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_seconds, context=context)
    else:
        conn = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    try:
        conn.ehlo()
        if smtp.starttls:
            conn.starttls(context=context)
            conn.ehlo()
        if smtp.username:
            conn.login(smtp.username, smtp.password)
    except BaseException:
        conn.close()
        raise
    return conn


def _failed(ops: OpsDB, settings: Settings, msg: OutboxMessage, error: str, now: datetime) -> None:
    attempts = msg.attempts + 1
    if attempts >= settings.smtp.max_attempts:
        ops.mark_failed(msg.message_id, f"已放弃（{attempts} 次）：{error}", GIVEN_UP)  # type: ignore[arg-type]
        ops.record_rejected([Rejected(source="alerts", stage="email", reason=f"gave up after {attempts}: {error}"[:500],
                                        sample=f"{','.join(msg.to)} {msg.subject}"[:200], at=now)])
        log.error("email %s to %s given up after %d attempts: %s", msg.message_id, msg.to, attempts, error)
    else:
        ops.mark_failed(msg.message_id, error, now + backoff(attempts))  # type: ignore[arg-type]
        log.warning("email %s to %s failed (attempt %d), retry in %s: %s", msg.message_id, msg.to, attempts,
                    backoff(attempts), error)


def deliver_due(ops: OpsDB, settings: Settings, now: datetime, *, limit: int = 50, rounds: int = 20,
                owner: str = "") -> int:
    """Send every due email (in batches of `limit`, each claimed for `owner`, default this process's "host:pid");
    returns how many the server accepted. Failures are kept for a later retry."""
    owner = owner or owner_id()
    sent = 0
    for _ in range(rounds):
        n, batch = _deliver_batch(ops, settings, utc(now), limit, owner)
        sent += n
        if batch < limit or n == 0:
            break
    return sent


def _deliver_batch(ops: OpsDB, settings: Settings, now: datetime, limit: int, owner: str) -> tuple[int, int]:
    """(accepted, picked up) for one batch over one SMTP session."""
    due = ops.claim_messages(now, owner, limit=limit, channel=CHANNEL)  # leased: other deliverers skip them
    if not due:
        return 0, 0
    try:
        conn = connect(settings.smtp)
    except (OSError, smtplib.SMTPException) as exc:
        for msg in due:
            _failed(ops, settings, msg, f"SMTP {settings.smtp.host}:{settings.smtp.port} 不可用或拒绝登录：{exc}", now)
        return 0, len(due)
    sent = 0
    try:
        for msg in due:
            try:
                refused = conn.send_message(build_mime(msg, settings.smtp), from_addr=settings.smtp.sender,
                                            to_addrs=list(msg.to))
            except (OSError, smtplib.SMTPException) as exc:
                _failed(ops, settings, msg, f"{type(exc).__name__}: {exc}", now)
                lost = isinstance(exc, smtplib.SMTPServerDisconnected) or not isinstance(exc, smtplib.SMTPException)
                if lost:  # the session is gone (SMTPException is an OSError too, so test it first)
                    for rest in due[due.index(msg) + 1:]:
                        _failed(ops, settings, rest, "SMTP 连接中断", now)
                    break
                continue
            ops.mark_sent(msg.message_id, now)  # type: ignore[arg-type]
            sent += 1
            if refused:
                ops.record_rejected([Rejected(source="alerts", stage="email", reason=f"recipient refused: {r} {c}",
                                                sample=msg.subject[:200], at=now) for r, c in refused.items()])
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()
    return sent, len(due)
