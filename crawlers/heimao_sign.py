"""Heimao's (tousu.sina.com.cn) search API signature.

The site's own page signs every `api/index/s` call: `ts` (milliseconds), `rs` (16 random letters and digits)
and `signature` = sha256 hex of the concatenation of [ts, rs, a constant salt, keywords, page_size, page],
sorted as strings. A request without it gets an error body instead of complaints. This module is pure:
the clock and the random source are passed in.
"""

from __future__ import annotations

import hashlib
import random
import string
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

SALT = "$d6eb7ff91ee257475%"  # the constant in the site's script
RS_ALPHABET = string.digits + string.ascii_lowercase + string.ascii_uppercase
SIGNED_PATHS = ("/api/index/s",)


def signature(ts: str, rs: str, keywords: str, page_size: str, page: str) -> str:
    """sha256 hex of the sorted parts, as the page computes it (JavaScript's default sort: by UTF-16 code
    units; Python compares code points, the same order for every character outside the astral planes)."""
    parts = sorted([ts, rs, SALT, keywords, page_size, page], key=lambda s: s.encode("utf-16-be"))
    return hashlib.sha256("".join(parts).encode("utf-8")).hexdigest()


def random_rs(rng: random.Random) -> str:
    return "".join(rng.choice(RS_ALPHABET) for _ in range(16))


def needs_signature(url: str) -> bool:
    return urlsplit(url).path in SIGNED_PATHS


def sign_url(url: str, now_ms: int, rng: random.Random) -> str:
    """The URL with fresh ts, rs and signature (any old ones replaced); other parameters keep their order."""
    parts = urlsplit(url)
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("ts", "rs", "signature")]
    values = dict(params)
    for key, default in (("page", "1"), ("page_size", "10")):  # signed, so always sent
        if key not in values:
            values[key] = default
            params.append((key, default))
    ts, rs = str(now_ms), random_rs(rng)
    sig = signature(ts, rs, values.get("keywords", ""), values.get("page_size", "10"), values.get("page", "1"))
    query = urlencode([("ts", ts), ("rs", rs), ("signature", sig), *params], quote_via=quote)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
