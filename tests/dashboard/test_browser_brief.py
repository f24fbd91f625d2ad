"""Headless Chromium against a real `streamlit run`: an alert's page builds its 专报 and the browser downloads it."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import PASSWORD, chromium_context

pytestmark = pytest.mark.browser


def test_an_alert_page_downloads_its_incident_brief(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, _store = server
    with sync_playwright() as pw:
        ctx = chromium_context(pw, tmp_path / "chromium-profile")
        try:
            page = ctx.new_page()
            page.goto(f"{url}/alerts?alert=1", timeout=60_000)
            page.get_by_label("用户名").fill("resp1")
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.get_by_text("下载此预警的专报").click(timeout=30_000)
            page.get_by_role("button", name="生成专报").click()
            download_button = page.get_by_role("button", name="下载 ")
            expect(download_button).to_be_visible(timeout=60_000)
            with page.expect_download(timeout=30_000) as info:
                download_button.click()
            saved = tmp_path / info.value.suggested_filename
            info.value.save_as(saved)
        finally:
            ctx.close()
    assert saved.suffix == ".pdf" and "专报" in saved.name
    assert saved.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(saved), "-"], capture_output=True, text=True, check=True).stdout
        assert "专报" in text and "中国电信" in text
