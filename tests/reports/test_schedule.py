"""Scheduled briefs: a report subscriber's 日报 (and on Mondays 周报) is queued once in the outbox with the PDF and
Word attached, and delivered by the alert mail path to a real SMTP server on loopback; `yuqing report` writes files."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from docx import Document

from alerts.outbox import deliver_due
from tests.reports.conftest import pdf_text
from yuqing.briefs import schedule_briefs
from yuqing.cli import main
from yuqing.records import Subscriber

MONDAY = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, after the 08:00 daily_at


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[attr-defined]
        return "250 OK"


def test_report_subscriber_gets_daily_and_weekly_once(known, settings, free_port: int, tmp_path: Path) -> None:
    known.ops.save_subscriber(Subscriber(email="boss@example.test", mode="daily", daily_at="08:00", token="t1"))
    known.ops.save_subscriber(Subscriber(email="duty@example.test", mode="immediate", token="t2"))
    assert schedule_briefs(known.index, known.ops, settings, MONDAY) == 2
    assert schedule_briefs(known.index, known.ops, settings, MONDAY) == 0  # marks: not rebuilt, not queued again
    queued = [m for m in known.ops.list_outbox() if m.dedup_key.startswith("brief:")]
    assert sorted(m.subject for m in queued) == ["舆情周报（2026-11-23 00:00 至 2026-11-30 00:00）", "舆情日报（2026-11-29）"]
    assert all(m.to == ("boss@example.test",) and m.channel == "email" for m in queued)
    weekly = next(m for m in queued if "周报" in m.subject)
    assert "http://127.0.0.1:8501/reports?brief=weekly&date=2026-11-23" in weekly.text
    assert "本期共监测到相关帖子 10 条" in weekly.text  # the week of the known day

    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port)
    server.start()
    try:
        sent = deliver_due(known.ops, settings.replace(smtp={"port": free_port, "host": "127.0.0.1"}), MONDAY)
    finally:
        server.stop()
    assert sent == 2
    mail = next(m for m in inbox.messages if "周报" in m["Subject"])
    files = {part.get_filename(): part.get_content() for part in mail.iter_attachments()}
    assert set(files) == {"舆情周报_20261123.pdf", "舆情周报_20261123.docx"}
    assert "舆情周报" in pdf_text(files["舆情周报_20261123.pdf"], tmp_path)
    assert Document(io.BytesIO(files["舆情周报_20261123.docx"])).tables


def test_report_command_writes_each_format(known, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    monkeypatch.setenv("YUQING_STORE_PATH", str(tmp_path / "yuqing.db"))
    for name in ("d.docx", "d.pdf", "d.html"):
        assert main(["report", "daily", "--date", "2026-11-23", "--out", str(tmp_path / name)]) == 0
    assert "帖子数 10 5" in " ".join(pdf_text((tmp_path / "d.pdf").read_bytes(), tmp_path).split())
    assert main(["report", "event", "ev-zz-outage", "--out", str(tmp_path / "e.pdf")]) == 0
    assert main(["report", "event", "--alert", "1", "--out", str(tmp_path / "a.html")]) == 0
    assert "郑州中国电信宽带故障" in (tmp_path / "a.html").read_text(encoding="utf-8")


def test_report_command_refuses_bad_input(known, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    monkeypatch.setenv("YUQING_STORE_PATH", str(tmp_path / "yuqing.db"))
    assert main(["report", "daily", "--out", str(tmp_path / "x.odt")]) == 2
    assert "use .docx, .pdf or .html" in capsys.readouterr().err
    assert main(["report", "event", "nope", "--out", str(tmp_path / "x.pdf")]) == 2
    assert "no event 'nope'" in capsys.readouterr().err
    assert main(["report", "event", "--out", str(tmp_path / "x.pdf")]) == 2
    assert main(["report", "daily", "--operator", "中国铁通", "--out", str(tmp_path / "x.pdf")]) == 2
    assert "unknown operator" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # argparse's own exit, with the reason in plain words
        main(["report", "daily", "--date", "2026-13-01", "--out", str(tmp_path / "x.pdf")])
    assert exit_.value.code == 2 and "not a date: '2026-13-01'" in capsys.readouterr().err
    assert not list(tmp_path.glob("x.*"))


def test_a_chat_group_subscribed_to_daily_briefs_gets_the_summary_and_the_link(known, settings) -> None:
    from alerts.chat import deliver_chat
    from demo.chatbot import ChatReceiver
    from tests.alerts.chatkit import channel, robots, with_channels

    with ChatReceiver(robots()) as rx:
        settings = with_channels(settings, channel("wecom", rx.url))
        known.ops.save_subscriber(Subscriber(email="", channel="wecom", mode="daily", daily_at="08:00", token="t3"))
        assert schedule_briefs(known.index, known.ops, settings, MONDAY) == 2
        queued = [m for m in known.ops.list_outbox() if m.dedup_key.startswith("brief:")]
        assert {(m.channel, m.to, m.attachments) for m in queued} == {("wecom", ("wecom",), ())}
        assert deliver_chat(known.ops, settings, MONDAY) == 2
    texts = [r["text"] for r in rx.received]
    assert any("舆情周报" in t and "/reports?brief=weekly" in t and "2026-11-23" in t for t in texts)
    assert any("本期共监测到相关帖子" in t for t in texts)
