"""Zhihu x-zse-96 signer: published input -> output vectors, cookie handling, and the default middleware signer.

The browser draws the first plaintext byte (the nonce) at random; each vector below names the nonce that
reproduces it, so the comparison is exact and deterministic.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from crawlers import settings as crawl_settings
from crawlers import zhihu_sign
from crawlers.middlewares import ZhihuAuthMiddleware
from crawlers.spiders.zhihu import ZhihuSpider
from crawlers.zhihu_sign import cookie_value, sign, x_zse_96
from tests.conftest import Both
from yuqing.config import Settings
from yuqing.wiring import open_stores

# Captured from a logged-in browser session (request headers + cookie pasted into a script), April 2024:
# github.com/cyqcw/spider @ 0bde8daab40e47e67ab1bf96603d0a1f8ee0f08e, zhihu/ZhihuQuestion.py
# (URL https://www.zhihu.com/api/v4/search_v3 with its `params`, cookie d_c0, header X-Zse-96).
SEARCH_PATH = (
    "/api/v4/search_v3?gk_version=gz-gaokao&t=general&q=%E4%BA%BA%E5%B7%A5%E6%99%BA%E8%83%BD&correction=1"
    "&offset=0&limit=20&filter_fields=&lc_idx=0&show_all_topics=0&search_source=History"
)
SEARCH_D_C0 = "ALBU2ZcilhePTrLjK5IA1cOhFMf6zwRoPlc=|1697992389"
SEARCH_X_ZSE_96 = "2.0_t8AqDH=tPzk2NKV3L5WdhSktS12DwDqcwB2Xqam7Dnh5SSrASZJUZlRI=2r5J7f1"

# Expected values of a signer's test, November 2024, requests that also carry an x-zst-81 header:
# github.com/Xpectuer/LibianCrawlers @ 36f70ec7d4c62a23e7881a3d4c0148744a251688,
# libiancrawlers/crawlers/apilib/zhihu/test_signature.py (url, cookie d_c0, x-zst-81 -> x-zse-96).
LIBIAN_D_C0 = "ATCSHbj8OxmPTrRSnKZxrjZwkDh33UfHcPc=|1726302401"
LIBIAN_ZST81 = (
    "3_2.0aR_sn77yn6O92wOB8hPZnQr0EMYxc4f18wNBUgpTQ6nxERFZfTY0-4Lm-h3_tufIwJS8gcxTgJS_AuPZNcXCTwxI78YxEM20s4PGDwN8"
    "gGcYAupMWufIoLVqr4gxrRPOI0cY7HL8qun9g93mFukyigcmebS_FwOYPRP0E4rZUrN9DDom3hnynAUMnAVPF_PhaueTFH9fQL39OCCqYTxfb0"
    "rfi9wfPhSM6vxGDJo_rBHpQGNmBBLqPJHK2_w8C9eTVMO9Z9NOrMtfhGH_DgpM-BNM1DOxScLG3gg1Hre1FCXKQcXKkrSL1r9GWDXMk8wqBL"
    "NmbRH96BtOFqVZ7UYG3gC8D9cMS7Y9UrHLVCLZPJO8_CL_6GNCOg_zhJS8PbXmGTcBpgxfkieOPhNfthtf2gC_qD3YOce8nCwG2uwBOqeMoML9"
    "NBC1xb9yk6SuJhHLK7SM6LVfCve_3vLKlqcL6TxL_UosDvHLxrHmWgxBQ8Xs"
)
COMMENT_PATH = "/api/v4/comment_v5/comment/435679281/child_comment?order=sort&offset=&limit=10"
COMMENT_X_ZSE_96 = "2.0_yYKuXqYyrcRS=3HWHKBk3UfGJu7GgxsnyujThsVjhNn9SklK9tVd2hFNwZh68AkA"

VECTORS = [
    pytest.param(SEARCH_PATH, SEARCH_D_C0, "", 24, SEARCH_X_ZSE_96, id="cyqcw-search_v3"),
    pytest.param(
        "/api/v4/me?include=email%2Cis_active%2Cis_bind_phone",
        LIBIAN_D_C0,
        LIBIAN_ZST81,
        14,
        "2.0_QPcMOIOcpxNokuISML9Mt1R/M8eHpVl7w3RgZ1MbTSf3vfgzOv/xqXbYupbcHpYh",
        id="libian-me",
    ),
    pytest.param(COMMENT_PATH, LIBIAN_D_C0, LIBIAN_ZST81, 14, COMMENT_X_ZSE_96, id="libian-child_comment"),
]


@pytest.mark.parametrize(("path", "d_c0", "zst81", "nonce", "expected"), VECTORS)
def test_published_vectors_are_reproduced_exactly(path: str, d_c0: str, zst81: str, nonce: int, expected: str) -> None:
    assert x_zse_96(path, d_c0, zst81=zst81, nonce=nonce) == expected


def test_the_nonce_is_random_unless_given_and_must_fit_a_byte_below_127() -> None:
    values = {x_zse_96(SEARCH_PATH, SEARCH_D_C0) for _ in range(40)}
    assert len(values) > 1
    every_nonce = {x_zse_96(SEARCH_PATH, SEARCH_D_C0, nonce=n) for n in range(zhihu_sign.NONCE_LIMIT)}
    assert values <= every_nonce and len(every_nonce) == zhihu_sign.NONCE_LIMIT
    with pytest.raises(ValueError, match="nonce"):
        x_zse_96(SEARCH_PATH, SEARCH_D_C0, nonce=127)


def test_sign_reads_d_c0_from_the_cookie_and_signs_path_query_and_x_zst_81() -> None:
    cookie = f"_zap=ea5d604f; d_c0={LIBIAN_D_C0}; z_c0=not-a-real-token; tst=r"
    request = Request(f"https://www.zhihu.com{COMMENT_PATH}", headers={"Cookie": cookie, "x-zst-81": LIBIAN_ZST81})
    assert sign(request, nonce=14) == {"x-zse-93": "101_3_3.0", "x-zse-96": COMMENT_X_ZSE_96}
    search = Request(f"https://www.zhihu.com{SEARCH_PATH}", headers={"Cookie": f"d_c0={SEARCH_D_C0}"})
    assert sign(search, nonce=24)["x-zse-96"] == SEARCH_X_ZSE_96


def test_cookie_value_handles_spacing_quotes_and_absence() -> None:
    assert cookie_value(f'a=1;d_c0="{SEARCH_D_C0}"; b=2', "d_c0") == SEARCH_D_C0
    assert cookie_value(f"xd_c0=1; d_c0={SEARCH_D_C0}", "d_c0") == SEARCH_D_C0
    assert cookie_value("z_c0=abc; tst=r", "d_c0") == ""


def test_without_d_c0_nothing_is_signed_and_one_warning_is_logged(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zhihu_sign, "_warned_no_d_c0", False)
    caplog.set_level(logging.WARNING, logger="crawlers.zhihu_sign")
    assert sign(Request(f"https://www.zhihu.com{SEARCH_PATH}", headers={"Cookie": "z_c0=abc"})) == {}
    assert sign(Request(f"https://www.zhihu.com{SEARCH_PATH}")) == {}
    warnings = [r for r in caplog.records if r.name == "crawlers.zhihu_sign"]
    assert len(warnings) == 1 and "d_c0" in warnings[0].getMessage()


@pytest.fixture
def zhihu_crawler(tmp_path: Path) -> Iterator[Any]:
    def make(**settings: Any) -> Any:
        values = {k: getattr(crawl_settings, k) for k in dir(crawl_settings) if k.isupper()}
        crawler = get_crawler(ZhihuSpider, {**values, **settings})
        crawler.spider = ZhihuSpider.from_crawler(crawler, keywords="中国电信", index=store.index, ops=store.ops, yq_settings=Settings())
        return crawler

    store = Both(*open_stores(Settings().replace(store={"path": str(tmp_path / "t.db")})))
    yield make
    store.close()


def test_middleware_signs_zhihu_api_requests_by_default(zhihu_crawler: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zhihu_sign, "_warned_no_d_c0", False)
    middleware = ZhihuAuthMiddleware.from_crawler(zhihu_crawler())
    url = f"https://www.zhihu.com{SEARCH_PATH}"
    signed = Request(url, headers={"Cookie": f"_zap=1; d_c0={SEARCH_D_C0}"})
    assert middleware.process_request(signed) is None
    assert signed.headers[b"x-zse-93"] == b"101_3_3.0"
    possible = {x_zse_96(SEARCH_PATH, SEARCH_D_C0, nonce=n).encode() for n in range(zhihu_sign.NONCE_LIMIT)}
    assert signed.headers[b"x-zse-96"] in possible
    unsigned = Request(url, headers={"Cookie": "z_c0=abc"})
    middleware.process_request(unsigned)
    assert b"x-zse-93" not in unsigned.headers and b"x-zse-96" not in unsigned.headers


def test_a_configured_signer_overrides_the_default(zhihu_crawler: Any) -> None:
    crawler = zhihu_crawler(YUQING_ZHIHU_SIGNER="tests.crawlers.test_zhihu_sign:fixed_signer")
    request = Request(f"https://www.zhihu.com{SEARCH_PATH}", headers={"Cookie": f"d_c0={SEARCH_D_C0}"})
    ZhihuAuthMiddleware.from_crawler(crawler).process_request(request)
    assert request.headers[b"x-zse-96"] == b"2.0_custom" and b"x-zse-93" not in request.headers


def test_the_signer_is_chosen_in_the_settings() -> None:
    from crawlers.settings import scrapy_settings
    from yuqing.config import load_settings

    chosen = load_settings(env={"YUQING_CRAWL_ZHIHU_SIGNER": "tests.crawlers.test_zhihu_sign:fixed_signer"})
    assert scrapy_settings(chosen, "zhihu")["YUQING_ZHIHU_SIGNER"] == "tests.crawlers.test_zhihu_sign:fixed_signer"
    assert "YUQING_ZHIHU_SIGNER" not in scrapy_settings(load_settings(env={}), "zhihu")


def fixed_signer(request: Request) -> dict[str, str]:
    """A stand-in signer named by YUQING_ZHIHU_SIGNER in the override test."""
    return {"x-zse-96": "2.0_custom"}
