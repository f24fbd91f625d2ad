"""A small PNG bar chart for the daily report, written with zlib alone (no plotting library needed)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

Color = tuple[int, int, int]
GRID: Color = (225, 228, 232)
AXIS: Color = (120, 120, 120)
TOTAL: Color = (158, 202, 225)  # all posts, light blue
NEGATIVE: Color = (214, 39, 40)  # negative posts, red


def _png(width: int, height: int, rows: list[bytearray]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def bar_chart(totals: Sequence[int], negatives: Sequence[int], *, width: int = 720, height: int = 240) -> bytes:
    """Bars per bucket: all posts (light blue) with the negative part overlaid (red), on a white grid."""
    if len(totals) != len(negatives):
        raise ValueError("totals and negatives must have the same length")
    rows = [bytearray(b"\xff" * (3 * width)) for _ in range(height)]

    def fill(x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        for y in range(max(0, y0), min(height, y1)):
            row = rows[y]
            for x in range(max(0, x0), min(width, x1)):
                row[3 * x:3 * x + 3] = bytes(color)

    left, bottom, top = 8, height - 12, 10
    peak = max([*totals, *negatives, 1])
    for i in range(1, 5):  # horizontal grid lines at quarters of the peak
        y = bottom - (bottom - top) * i // 4
        fill(left, y, width - 4, y + 1, GRID)
    n = max(len(totals), 1)
    slot = (width - left - 4) / n
    for i, (total, negative) in enumerate(zip(totals, negatives, strict=True)):
        x0 = left + int(i * slot + slot * 0.15)
        x1 = left + int((i + 1) * slot - slot * 0.15)
        x1 = max(x1, x0 + 1)
        fill(x0, bottom - (bottom - top) * max(total, negative) // peak, x1, bottom, TOTAL)
        fill(x0, bottom - (bottom - top) * negative // peak, x1, bottom, NEGATIVE)
    fill(left, bottom, width - 4, bottom + 1, AXIS)
    fill(left, top, left + 1, bottom, AXIS)
    return _png(width, height, rows)
