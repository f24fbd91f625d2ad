"""Headless Chromium against a real `streamlit run`: log in, see the crisis banner, reply to a queued post."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import PASSWORD, XSS, chromium_context

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"

pytestmark = pytest.mark.browser


def test_login_banner_and_reply_in_chromium(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, store = server
    dialogs: list[str] = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        ctx = chromium_context(pw, tmp_path / "chromium-profile")
        try:
            page = ctx.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(url, timeout=60_000)
            page.get_by_label("用户名").fill("resp1")
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            banner = page.get_by_text("中国电信 断网负面激增").first
            expect(banner).to_be_visible(timeout=30_000)
            expect(page.get_by_text("声量走势（按情感）")).to_be_visible(timeout=30_000)
            page.wait_for_timeout(1500)  # let the charts draw
            # no English developer toolbar (Deploy, Rerun) on a served dashboard; the toolbar itself is drawn
            expect(page.get_by_test_id("stToolbar")).to_be_attached()
            assert page.get_by_role("button", name="Deploy").count() == 0
            assert page.get_by_test_id("stAppDeployButton").count() == 0
            page.screenshot(path=str(SHOTS / "dashboard-overview.png"), full_page=True)

            cookies = {c["name"]: c for c in ctx.cookies()}
            assert cookies["yuqing_session"]["httpOnly"] is True  # set by the server, unreadable by page scripts
            assert cookies["yuqing_session"]["sameSite"] == "Strict"
            assert page.evaluate("document.cookie").find("yuqing_session") == -1
            page.reload()  # the session cookie keeps the login across a reload
            expect(page.get_by_text("声量走势（按情感）")).to_be_visible(timeout=30_000)
            assert page.get_by_label("密码").count() == 0

            page.get_by_role("link", name="待处理").click()
            expect(page.get_by_role("heading", name="待处理")).to_be_visible(timeout=30_000)
            expect(page.get_by_text("中国电信 断网负面激增").first).to_be_visible()
            reply = page.get_by_label("回复内容（可修改）")
            expect(reply).to_be_visible(timeout=30_000)
            reply.fill("您好，已安排工程师上门处理，请留意来电。")
            page.get_by_role("button", name="标记已回复").click()
            expect(page.get_by_text("已回复 #").first).to_be_visible(timeout=30_000)
            page.get_by_role("heading", name="待处理").scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / "dashboard-queue.png"), full_page=True)

            page.get_by_role("link", name="搜索").click()
            page.get_by_label("关键词（包含全部词语的帖子）").fill("script")
            page.keyboard.press("Enter")
            shown = page.get_by_test_id("stText").filter(has_text="<script>")
            expect(shown.first).to_be_visible(timeout=30_000)
            assert shown.first.inner_text() == XSS
            assert page.locator("img[src='x']").count() == 0
            page.screenshot(path=str(SHOTS / "dashboard-search-xss.png"), full_page=True)

            page.get_by_role("button", name="退出登录").click()
            expect(page.get_by_label("密码")).to_be_visible(timeout=30_000)
            page.wait_for_timeout(1500)  # the logout post clears the cookie
            assert "yuqing_session" not in {c["name"] for c in ctx.cookies() if c["value"]}
            page.reload()  # logged out stays logged out: the session is ended in the store
            expect(page.get_by_label("密码")).to_be_visible(timeout=30_000)
        finally:
            ctx.close()
    assert dialogs == []  # no script from a post ran
    replied = [c for c in store.list_cases(statuses=("replied",))]
    assert len(replied) == 1 and replied[0].reply_text == "您好，已安排工程师上门处理，请留意来电。"
    assert replied[0].assignee == "resp1" and replied[0].first_reply_at is not None
    assert (SHOTS / "dashboard-queue.png").stat().st_size > 10_000
