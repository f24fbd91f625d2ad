"""Loopback only, when the tests ask for it: processes the tests start (`yuqing run`, `yuqing demo`, the crawl
subprocesses, the dashboard) inherit YQ_LOOPBACK_ONLY=1 and refuse to resolve or connect to anything but
127.0.0.1, as the test process itself does (tests/conftest.py). A crawler pointed at a real site by mistake then
fails loudly instead of reaching out. Installed first thing by each entry point, before Twisted binds getaddrinfo."""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

ENV = "YQ_LOOPBACK_ONLY"
LOOPBACK_NAMES = ("localhost", "::1", "0.0.0.0", "")


def is_loopback(host: object) -> bool:
    name = host.decode() if isinstance(host, bytes) else str(host if host is not None else "")
    return name.startswith("127.") or name in LOOPBACK_NAMES


def _refused(what: str, target: object) -> str:
    """The refusal, also written to stderr: libraries that turn OSError into their own error (Twisted's "DNS lookup
    failed") would hide why."""
    message = f"{ENV}: refused to {what} {target!r}; only loopback is allowed here"
    sys.stderr.write(message + "\n")
    return message


def install_if_asked() -> bool:
    """Install the guard when YQ_LOOPBACK_ONLY=1; whether it is installed."""
    if os.environ.get(ENV) != "1" or getattr(socket, "_yq_guarded", False):
        return getattr(socket, "_yq_guarded", False)
    real_connect, real_connect_ex, real_getaddrinfo = (socket.socket.connect, socket.socket.connect_ex,
                                                      socket.getaddrinfo)

    def check(address: Any) -> None:
        if isinstance(address, tuple) and address and not is_loopback(address[0]):
            raise OSError(_refused("reach", address))

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, _refused("resolve", host))
        return real_getaddrinfo(host, *args, **kwargs)

    real_by_name, real_by_name_ex = socket.gethostbyname, socket.gethostbyname_ex

    def gethostbyname(host: str) -> str:
        if not is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, _refused("resolve", host))
        return real_by_name(host)

    def gethostbyname_ex(host: str) -> Any:
        if not is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, _refused("resolve", host))
        return real_by_name_ex(host)

    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    socket._yq_guarded = True  # type: ignore[attr-defined]
    return True
