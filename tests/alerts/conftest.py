"""A fresh post index and OpsDB (SQLite), settings pointing at the shipped rules, and a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import Both, make_both
from yuqing.config import Settings


def open_both(path: str | Path) -> Both:
    """The SQLite post index and OpsDB of one file, as the CLI under test opens them (close it after)."""
    from yuqing.config import Settings
    from yuqing.wiring import open_stores

    index, ops = open_stores(Settings().replace(store={"path": str(path)}))
    return Both(index, ops)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Both]:
    yield from make_both(tmp_path)


@pytest.fixture
def settings(tmp_path: Path, free_port: int) -> Settings:
    return Settings().replace(store={"path": str(tmp_path / "yuqing.db")},
                              smtp={"host": "127.0.0.1", "port": free_port, "sender": "yuqing@example.test",
                                    "timeout_seconds": 5.0},
                              dashboard={"base_url": "http://127.0.0.1:8501"})


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """The CLI's settings come from the environment: this store, this SMTP port, the packaged rules."""
    monkeypatch.chdir(tmp_path)  # no ./yuqing.toml; the packaged rules are used
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    monkeypatch.setenv("YUQING_STORE_PATH", settings.store.path)
    monkeypatch.setenv("YUQING_SMTP_PORT", str(settings.smtp.port))
    monkeypatch.setenv("YUQING_SMTP_SENDER", "yuqing@example.test")
    return settings


class Inbox:
    """Collects what the SMTP server accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        msg = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[attr-defined]
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[attr-defined]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for _, rcpts, m in self.messages if address in rcpts]


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server(settings: Settings) -> Iterator[SmtpServer]:
    server = SmtpServer(settings.smtp.port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down(settings: Settings) -> Iterator[SmtpServer]:
    """The server for settings' port, not yet started."""
    server = SmtpServer(settings.smtp.port)
    yield server
    server.stop()
