"""An anonymous browser, right after `streamlit run` starts, sees only the login form on every path and query.

Before the fix, `dashboard/pages/` sat beside app.py and Streamlit also served each page file on its own path,
skipping the login gate until someone first logged in after a start: `/search?q=中国电信` showed the posts.
"""

from __future__ import annotations

import pytest

from .conftest import chromium_context

pytestmark = pytest.mark.browser

# Every page path, with and without the queries the pages read, plus paths a curious visitor might try.
PATHS = [
    "", "?page=search", "overview", "alerts", "alerts?alert=1", "queue", "queue?case=1", "search",
    "search?q=中国电信", "reports", "sources", "subscribers", "subscribers?edit=1", "app", "pages/search",
    "pages/search.py", "views/search", "search/", "Search", "SEARCH", "%73earch", "nonexistent", "login",
    "?user=admin1&role=admin", "?unsubscribe=", "?session=x", "overview?embed=true", "search?embed=true&q=断网",
]
# Text only a logged-in user may see: the open alert's title (the crisis banner), post texts, page titles.
SECRETS = ["断网负面激增", "电信断网三天了", "电信宽带怎么办理提速", "中国电信帖子", "声量走势", "回复队列", "退出登录"]


def _settled_text(page, path: str) -> str:
    """The page's text once Streamlit has drawn this visit: the login form, or whatever leaked past it.

    A nested path (pages/search.py) gets Streamlit's shell with relative asset links that do not load there: the
    app never starts and the page stays blank, which shows nothing either; every top-level path must draw."""
    markers = ["密码", *SECRETS]
    try:
        page.wait_for_function("(m) => m.some(t => document.body.innerText.includes(t))", arg=markers,
                               timeout=60_000 if "/" not in path.split("?")[0] else 15_000)
    except Exception:
        if "/" not in path.split("?")[0]:
            raise
    page.wait_for_timeout(2000)  # a page that renders after the gate would have drawn by now
    return page.inner_text("body")


def test_anonymous_visitor_sees_only_the_login_form_on_every_path(server, tmp_path):
    from playwright.sync_api import sync_playwright

    url, _store = server
    leaks: dict[str, list[str]] = {}
    no_form: list[str] = []
    with sync_playwright() as pw:
        ctx = chromium_context(pw, tmp_path / "anon-profile")  # nobody has logged in since the start
        try:
            for path in PATHS:
                page = ctx.new_page()
                response = page.goto(f"{url}/{path}", timeout=60_000)
                if response is not None and response.status >= 400:  # refused outright: no app, nothing to read
                    text = page.inner_text("body")
                    assert not any(s in text for s in SECRETS), (path, response.status, text[:200])
                    page.close()
                    continue
                text = _settled_text(page, path)
                found = [s for s in SECRETS if s in text]
                if found:
                    leaks[path] = found
                if page.get_by_label("密码").count() != 1 and (text.strip() or "/" not in path.split("?")[0]):
                    no_form.append(path)
                page.close()
        finally:
            ctx.close()
    assert leaks == {}, f"pages readable without a login: {leaks}"
    assert no_form == [], f"paths without the login form: {no_form}"
