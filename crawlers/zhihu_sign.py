"""Zhihu web API signature: the x-zse-93 / x-zse-96 request headers, version "101_3_3.0" (pure Python, no I/O).

x-zse-96 = "2.0_" + encode(CBC-encrypt(pad(nonce, 0, md5_hex(message)))), where message is
"101_3_3.0+<path?query>+<d_c0 cookie>" (plus "+<x-zst-81 header>" when the request carries one), the block
cipher is an SM4-style Feistel network with Zhihu's own S-box and fixed round keys, and encode is a
base64-like packing with Zhihu's alphabet. The nonce (0..126) is random in the browser; pass it for a
deterministic value. Zhihu changes this scheme from time to time: a new x-zse-93 version means new constants.
"""

from __future__ import annotations

import hashlib
import logging
import random
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

VERSION = "101_3_3.0"  # the x-zse-93 value this module signs for
SIGNATURE_PREFIX = "2.0_"
NONCE_LIMIT = 127  # the browser draws floor(random() * 127)

_ALPHABET = "6fpLRqJO8M/c3jnYxFkUVC4ZIG12SiH=5v0mXDazWBTsuw7QetbKdoPyAl+hN9rgE"
_IV = bytes(c ^ 42 for c in b"059053f7d15e01d7")  # the first block is XORed with this before encryption
_SBOX = bytes.fromhex(  # replaces SM4's standard S-box
    "14dff507f802c2d15706e3fdf080de5bed097d9de65dfccd5a4f90c79fc5baa727259cc6262a2ba8d9990f6750bd47bf"
    "6154f75f24450e230cab1c72b29456b620539e6d16ff5eee97554d7cfe12041a7bb0e8c183ac8f8e961e0a92a23ee0da"
    "c4e501c0d51b6e38e7b48a6bf2bb3678132c75e4d7cb35effb7f510b8560cc8429734937f99366307a916a764abe1d10"
    "ae05b1813f71631fa14cf622d30d3c44cfa0416f52a543a9e13970f49b33ecc8e93a3d2f6489b9401146eaa3db6caaa6"
    "3b95346918d44ead2d0074e27788ce87afc3195c79d07e8b034b8d158262f1289a42b831b52ef35865b7081748bc68b3"
    "d286fac9a459d8cadc32dd988c21ebd6"
)
_ROUND_KEYS = tuple(  # fixed: there is no key schedule, the 32 round keys are constants of the script
    int(word, 16)
    for word in (
        "45c62932 3d15f2fe 5442e14f eb8921c0 d256542e ae28cbde f7782b08 ee48a883 733e8d1a c61cdffb e7c6016a "
        "1b713876 df5eeb0a 8f44a6ca 9beb07a3 7e564e94 870bcbcb 794d026c a54f723a ffaabf19 fb5d9cc3 832a8363 "
        "b5e884fa 5e2b60cf 4ec93b52 1b3a7714 ad0d330f f2551fdf 13ab7196 d0f96ade 15ab9f7d 8be5d87b"
    ).split()
)
_rng = random.SystemRandom()
_warned_no_d_c0 = False


def _rotl(word: int, bits: int) -> int:
    return ((word << bits) | (word >> (32 - bits))) & 0xFFFFFFFF


def _mix(word: int) -> int:
    """Round function: S-box on each byte, then the linear diffusion of SM4."""
    s = int.from_bytes(word.to_bytes(4, "big").translate(_SBOX), "big")
    return s ^ _rotl(s, 2) ^ _rotl(s, 10) ^ _rotl(s, 18) ^ _rotl(s, 24)


def _encrypt_block(block: bytes) -> bytes:
    """One 16-byte block through the 32 rounds; output words in reverse order, as SM4 does."""
    words = [int.from_bytes(block[i : i + 4], "big") for i in range(0, 16, 4)]
    for key in _ROUND_KEYS:
        words.append(words[-4] ^ _mix(words[-3] ^ words[-2] ^ words[-1] ^ key))
    return b"".join(w.to_bytes(4, "big") for w in reversed(words[-4:]))


def _encode(cipher: bytes) -> str:
    """Zhihu's packing: bytes taken from the end, every 4th XORed with 58, 3 bytes -> 4 alphabet chars, LSB first."""
    tail_first = bytes(b ^ 58 if i % 4 == 0 else b for i, b in enumerate(reversed(cipher)))
    out = []
    for i in range(0, len(tail_first), 3):
        group = int.from_bytes(tail_first[i : i + 3], "little")
        out.extend(_ALPHABET[(group >> shift) & 63] for shift in (0, 6, 12, 18))
    return "".join(out)


def x_zse_96(path_and_query: str, d_c0: str, *, zst81: str = "", nonce: int | None = None) -> str:
    """The x-zse-96 header for a request to path_and_query ("/api/v4/...?..."), signed with the d_c0 cookie.

    zst81 is the request's x-zst-81 header when it sends one; nonce (0..126) is random unless given.
    """
    if nonce is None:
        nonce = _rng.randrange(NONCE_LIMIT)
    if not 0 <= nonce < NONCE_LIMIT:
        raise ValueError(f"nonce must be in 0..{NONCE_LIMIT - 1}, got {nonce}")
    message = "+".join([VERSION, path_and_query, d_c0] + ([zst81] if zst81 else []))
    digest = hashlib.md5(message.encode("utf-8")).hexdigest().encode("ascii")
    plain = bytes((nonce, 0)) + digest + bytes((14,) * 14)  # 34 bytes, PKCS#7-padded to 48
    previous, cipher = _IV, b""
    for i in range(0, len(plain), 16):
        previous = _encrypt_block(bytes(a ^ b for a, b in zip(plain[i : i + 16], previous, strict=True)))
        cipher += previous
    return SIGNATURE_PREFIX + _encode(cipher)


def cookie_value(cookie_header: str, name: str) -> str:
    """One cookie's value from a Cookie header ("" when absent); surrounding double quotes are dropped."""
    for part in cookie_header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            value = value.strip()
            return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    return ""


def sign(request: Any, *, nonce: int | None = None) -> dict[str, str]:
    """Headers for a Scrapy request to Zhihu's API: {"x-zse-93", "x-zse-96"}, or {} without a d_c0 cookie."""
    global _warned_no_d_c0
    cookies = "; ".join(v.decode("latin-1") for v in request.headers.getlist("Cookie"))
    d_c0 = cookie_value(cookies, "d_c0")
    if not d_c0:
        if not _warned_no_d_c0:
            _warned_no_d_c0 = True
            log.warning("zhihu: no d_c0 in the cookie (YUQING_CRAWL_ZHIHU_COOKIE), requests go out unsigned")
        return {}
    parts = urlsplit(request.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    zst81 = (request.headers.get("x-zst-81") or b"").decode("latin-1")
    return {"x-zse-93": VERSION, "x-zse-96": x_zse_96(path, d_c0, zst81=zst81, nonce=nonce)}
