"""Bilibili's web request signing (WBI), as published by bilibili-API-collect (docs/misc/sign/wbi.md).

Most query APIs of api.bilibili.com (search, comments) want `wts` (Unix seconds) and `w_rid`, the md5 hex of
the query sorted by key, its values stripped of "!'()*" and percent-encoded (upper-case escapes, space as
%20), followed by the `mixin_key`: the characters of img_key + sub_key (the file names of the two "images"
in /x/web-interface/nav's `wbi_img`, renewed daily) taken in the order of a fixed 64-entry table, first 32.
A missing or wrong signature is answered with code -352 or a `v_voucher`. Pure: the clock is passed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

MIXIN_KEY_ENC_TAB = (
    46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35, 27, 43, 5, 49,
    33, 9, 42, 19, 29, 28, 14, 39, 12, 38, 41, 13, 37, 48, 7, 16, 24, 55, 40,
    61, 26, 17, 0, 1, 60, 51, 30, 4, 22, 25, 54, 21, 56, 59, 6, 63, 57, 62, 11,
    36, 20, 34, 44, 52,
)
_FILTERED = str.maketrans("", "", "!'()*")
SIGNATURE_PARAMS = ("w_rid", "wts")


def key_from_url(url: str) -> str:
    """'https://i0.hdslb.com/bfs/wbi/7cd0….png' -> '7cd0…' (the file name is the key)."""
    return url.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[0]


def mixin_key(img_key: str, sub_key: str) -> str:
    raw = img_key + sub_key
    if len(raw) < 64:
        raise ValueError(f"WBI keys too short ({len(raw)} characters, need 64)")
    return "".join(raw[i] for i in MIXIN_KEY_ENC_TAB)[:32]


def canonical_query(params: Iterable[tuple[str, object]]) -> str:
    """The signed form: sorted by key, "!'()*" removed from values, percent-encoded like encodeURIComponent."""
    items = sorted((str(k), str(v).translate(_FILTERED)) for k, v in params)
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in items)


def w_rid(params: Mapping[str, object] | Iterable[tuple[str, object]], mixin: str) -> str:
    """md5 hex of the canonical query (which must already hold `wts`) followed by the mixin key."""
    pairs = params.items() if isinstance(params, Mapping) else params
    return hashlib.md5((canonical_query(pairs) + mixin).encode("utf-8")).hexdigest()


def sign_params(params: Mapping[str, object], img_key: str, sub_key: str, wts: int) -> dict[str, str]:
    """The parameters as sent: the original ones, then w_rid and wts."""
    plain = {str(k): str(v) for k, v in params.items() if k not in SIGNATURE_PARAMS}
    rid = w_rid({**plain, "wts": wts}, mixin_key(img_key, sub_key))
    return {**plain, "w_rid": rid, "wts": str(wts)}


def needs_signature(url: str) -> bool:
    """The WBI endpoints carry `/wbi/` in their path (x/web-interface/wbi/search/type, x/v2/reply/wbi/main)."""
    return "/wbi/" in urlsplit(url).path


def sign_url(url: str, img_key: str, sub_key: str, wts: int) -> str:
    """The URL with a fresh w_rid and wts (old ones dropped); the other parameters keep their order and values."""
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in SIGNATURE_PARAMS]
    rid = w_rid([*pairs, ("wts", wts)], mixin_key(img_key, sub_key))
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in [*pairs, ("w_rid", rid),
                                                                             ("wts", str(wts))])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def verify(query: Mapping[str, str], img_key: str, sub_key: str) -> bool:
    """True when `query` carries the w_rid its other parameters and wts give (what the site checks)."""
    if not query.get("wts") or not query.get("w_rid"):
        return False
    rest = [(k, v) for k, v in query.items() if k != "w_rid"]
    return w_rid(rest, mixin_key(img_key, sub_key)) == query["w_rid"]
