"""Weibo's two ids for one post: the numeric mid (APIs) and the base62 bid in URLs (weibo.cn, weibo.com)."""

from __future__ import annotations

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def bid_to_mid(bid: str) -> str:
    """`HyZVegYAP` -> `4383411844046171`: base62 in groups of four from the right, each 7 digits wide."""
    digits: list[str] = []
    rest = bid
    while rest:
        chunk, rest = rest[-4:], rest[:-4]
        number = 0
        for char in chunk:
            index = _ALPHABET.find(char)
            if index < 0:
                raise ValueError(f"not a weibo bid: {bid!r}")
            number = number * 62 + index
        digits.insert(0, str(number).zfill(7) if rest else str(number))
    return "".join(digits).lstrip("0") or "0"
