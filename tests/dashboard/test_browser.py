"""Headless Chromium against a real `streamlit run`: log in, see the crisis banner, reply to a queued post."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from yuqing.store import open_store  # TODO

from dashboard.commands import APP, streamlit_argv
from yuqing.config import load_settings
from yuqing.records import now_utc

from .conftest import PASSWORD, XSS, fill

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"

pytestmark = pytest.mark.browser


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not become healthy at {url}")


@pytest.fixture
def server(tmp_path, free_port):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium to run the browser test")
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    env.update(YUQING_STORE_PATH=str(tmp_path / "yuqing.db"), YUQING_DASHBOARD_OUR_OPERATOR="中国电信",
               HOME=str(tmp_path))
    store = open_store(load_settings(env=env))
    fill(store, now_utc())
    proc = subprocess.Popen(streamlit_argv(APP, free_port, "127.0.0.1"), env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{free_port}"
    try:
        _wait_healthy(url, proc)
        yield url, store
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        store.close()


def test_login_banner_and_reply_in_chromium(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, store = server
    dialogs: list[str] = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
            viewport={"width": 1400, "height": 1000})
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
            page.reload()  # logged out stays logged out: the session is ended in the store
            expect(page.get_by_label("密码")).to_be_visible(timeout=30_000)
        finally:
            ctx.close()
    assert dialogs == []  # no script from a post ran
    replied = [c for c in store.list_cases(statuses=("replied",))]
    assert len(replied) == 1 and replied[0].reply_text == "您好，已安排工程师上门处理，请留意来电。"
    assert replied[0].assignee == "resp1" and replied[0].first_reply_at is not None
    assert (SHOTS / "dashboard-queue.png").stat().st_size > 10_000
