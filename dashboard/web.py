"""The dashboard's own HTTP endpoints beside Streamlit: the session cookie is set and cleared here, by the server,
so it can be HttpOnly (page JavaScript never sees it).

- POST /_yuqing/session (form: grant, next): a one-time grant from a successful login -> Set-Cookie, 303 to next.
- POST /_yuqing/logout: ends the session named by the cookie in the store, clears the cookie, 303 to /.
Both refuse a cross-site Origin. Served through `st.App` (dashboard/server.py).
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from . import data, sessions

SESSION_PATH = "/_yuqing/session"
LOGOUT_PATH = "/_yuqing/logout"
MAX_FORM = 4096
log = logging.getLogger(__name__)


def _secure(request: Request) -> bool:
    """HTTPS here or at the reverse proxy in front (X-Forwarded-Proto)."""
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or proto == "https"


def _same_origin(request: Request) -> bool:
    """A browser's form post carries Origin; refuse one from another site (login CSRF)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser's cross-site form post (browsers send Origin on POST)
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    return urlsplit(origin).netloc == host.split(",")[0].strip()


def safe_next(value: str) -> str:
    """A local path to go back to after login; anything else (another site, a scheme, //host) is '/'."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value or any(ord(c) < 32 for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM:
        return {}
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in fields.items() if v}


async def session_endpoint(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("跨站请求已拒绝 cross-site request refused", status_code=403)
    form = await _form(request)
    token = await run_in_threadpool(data.redeem_grant, form.get("grant", ""))
    response = RedirectResponse(safe_next(form.get("next", "/")) if token else "/", status_code=303)
    if token:
        response.headers["set-cookie"] = sessions.cookie_header(token, secure=_secure(request))
    else:
        log.warning("dashboard: an unknown, used or expired login grant was presented")
    response.headers["cache-control"] = "no-store"
    return response


async def logout_endpoint(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("跨站请求已拒绝 cross-site request refused", status_code=403)
    token = request.cookies.get(sessions.COOKIE, "")
    if token:
        await run_in_threadpool(data.end_session, token)
    response = RedirectResponse("/", status_code=303)
    response.headers["set-cookie"] = sessions.cookie_header("", secure=_secure(request))
    response.headers["cache-control"] = "no-store"
    return response


ROUTES = [
    Route(SESSION_PATH, session_endpoint, methods=["POST"]),
    Route(LOGOUT_PATH, logout_endpoint, methods=["POST"]),
]
