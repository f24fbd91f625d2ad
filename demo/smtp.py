"""A local SMTP server for the demo (aiosmtpd): every message it receives becomes a readable .eml file."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class MaildirSink:
    """aiosmtpd handler writing each message to <directory>/<time>-<n>.eml."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        with self._lock:
            self.count += 1
            name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{self.count:04d}.eml"
        (self.directory / name).write_bytes(data)
        subject = message_from_bytes(data, policy=policy.default).get("Subject", "")
        log.info("demo mail to %s: %s -> %s", ", ".join(envelope.rcpt_tos), subject, name)
        return "250 Message accepted for delivery"

    def messages(self) -> list[Path]:
        return sorted(self.directory.glob("*.eml"))


class MailServer:
    """The SMTP server on 127.0.0.1 (a free port unless given); `with MailServer(dir) as mail: mail.port`."""

    def __init__(self, directory: str | Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sink = MaildirSink(directory)
        self.host = host
        self.port = port or _free_port(host)
        self._controller: Any = None

    def start(self) -> MailServer:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.sink, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
