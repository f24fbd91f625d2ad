"""Bilibili's WBI signature against the values published in bilibili-API-collect (docs/misc/sign/wbi.md)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from crawlers.bilibili_sign import (
    canonical_query,
    key_from_url,
    mixin_key,
    needs_signature,
    sign_params,
    sign_url,
    verify,
)

# the document's example: nav's wbi_img, the mixin key it gives, and the signature of {foo, bar, zab} at wts
IMG_URL = "https://i0.hdslb.com/bfs/wbi/7cd084941338484aae1ad9425b84077c.png"
SUB_URL = "https://i0.hdslb.com/bfs/wbi/4932caff0ff746eab6f01bf08b70ac45.png"
IMG, SUB = "7cd084941338484aae1ad9425b84077c", "4932caff0ff746eab6f01bf08b70ac45"


def test_keys_come_from_the_image_file_names() -> None:
    assert (key_from_url(IMG_URL), key_from_url(SUB_URL)) == (IMG, SUB)


def test_mixin_key_is_the_published_one() -> None:
    assert mixin_key(IMG, SUB) == "ea1db124af3c7062474693fa704f4ff8"
    with pytest.raises(ValueError, match="too short"):
        mixin_key(IMG, "")


def test_signature_of_the_published_example() -> None:
    signed = sign_params({"foo": "114", "bar": "514", "zab": 1919810}, IMG, SUB, 1702204169)
    assert signed == {"foo": "114", "bar": "514", "zab": "1919810", "w_rid": "8f6f2b5b3d485fe1886cec6a0be8c5d4",
                      "wts": "1702204169"}


def test_encoding_is_upper_case_percent_and_space_as_20() -> None:
    assert canonical_query({"foo": "one one four", "bar": "五一四", "baz": 1919810}.items()) == \
        "bar=%E4%BA%94%E4%B8%80%E5%9B%9B&baz=1919810&foo=one%20one%20four"
    assert canonical_query([("q", "it's (fine)!*")]) == "q=its%20fine"  # "!'()*" are dropped before signing


def test_sign_url_replaces_an_old_signature_and_verifies() -> None:
    url = "https://api.bilibili.com/x/web-interface/wbi/search/type?search_type=video&keyword=%E4%B8%AD%E5%9B%BD%E7%94%B5%E4%BF%A1&page=2"
    first = sign_url(url, IMG, SUB, 1764000000)
    again = sign_url(first, IMG, SUB, 1764000060)
    query = dict(parse_qsl(urlsplit(again).query))
    assert again.count("w_rid=") == 1 and query["wts"] == "1764000060" and query["keyword"] == "中国电信"
    assert verify(query, IMG, SUB)
    assert not verify({**query, "page": "3"}, IMG, SUB)  # a parameter changed after signing
    assert not verify({k: v for k, v in query.items() if k != "wts"}, IMG, SUB)
    assert needs_signature(url) and needs_signature("https://api.bilibili.com/x/v2/reply/wbi/main?oid=1")
    assert not needs_signature("https://api.bilibili.com/x/web-interface/nav")
