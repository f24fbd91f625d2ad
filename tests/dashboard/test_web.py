"""The session-cookie endpoints over real HTTP on a served dashboard: the cookie is HttpOnly and set only for a
live one-time grant, a cross-site post is refused, `next` never leaves the site, logout clears the cookie."""

from __future__ import annotations

import http.client
from urllib.parse import urlencode, urlsplit

import pytest

from dashboard import sessions, web
from yuqing.records import now_utc

pytestmark = pytest.mark.browser  # needs the served dashboard (the browser tests' server fixture)


def _post(url: str, path: str, fields: dict[str, str], headers: dict[str, str] | None = None):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("POST", path, body=urlencode(fields),
                 headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def test_session_endpoint(server) -> None:
    url, store = server
    host = urlsplit(url).netloc

    forged = _post(url, web.SESSION_PATH, {"grant": "forged", "next": "/search"})
    assert forged.status == 303 and forged.getheader("location") == "/" and forged.getheader("set-cookie") is None

    grant = sessions.issue_grant(store, "resp1", now_utc())
    cross = _post(url, web.SESSION_PATH, {"grant": grant}, {"Origin": "https://evil.example"})
    assert cross.status == 403 and cross.getheader("set-cookie") is None

    ok = _post(url, web.SESSION_PATH, {"grant": grant, "next": "//evil.example/x"}, {"Origin": f"http://{host}"})
    assert ok.status == 303 and ok.getheader("location") == "/"
    cookie = ok.getheader("set-cookie")
    assert cookie.startswith("yuqing_session=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert sessions.resume(store, token, now_utc())["username"] == "resp1"

    again = _post(url, web.SESSION_PATH, {"grant": grant, "next": "/search?q=断网"})
    assert again.getheader("set-cookie") is None  # a grant is good once

    second = sessions.issue_grant(store, "resp1", now_utc())
    back = _post(url, web.SESSION_PATH, {"grant": second, "next": "/search?q=x"})
    assert back.getheader("location") == "/search?q=x"

    out = _post(url, web.LOGOUT_PATH, {}, {"Cookie": f"yuqing_session={token}"})
    assert out.status == 303 and "Max-Age=0" in out.getheader("set-cookie")
    assert sessions.resume(store, token, now_utc()) is None  # ended in the store, not only in the browser


@pytest.mark.parametrize("value,expected", [
    ("/search?q=1", "/search?q=1"), ("/", "/"), ("//evil.example", "/"), ("https://evil.example/", "/"),
    ("search", "/"), ("/\\evil.example", "/"), ("/x\r\nSet-Cookie: a=b", "/"), ("", "/"),
])
def test_next_stays_on_the_site(value: str, expected: str) -> None:
    assert web.safe_next(value) == expected
