"""Chart images for the briefs (PNG bytes): matplotlib on the Agg backend with the shipped Chinese font."""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from reports.figures import TimePoint  # noqa: E402
from reports.fonts import font_path  # noqa: E402
from yuqing.timefmt import local  # noqa: E402

NEGATIVE, NEUTRAL, POSITIVE, TOTAL = "#d62728", "#9e9e9e", "#2ca02c", "#9ecae1"
_lock = threading.Lock()  # pyplot's state is per process
_family: list[str] = []


def _font() -> str:
    if not _family:
        path = str(font_path())
        font_manager.fontManager.addfont(path)
        _family.append(font_manager.FontProperties(fname=path).get_name())
    return _family[0]


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _figure(width: float, height: float) -> tuple[Figure, object]:
    plt.rcParams["font.family"] = [_font()]
    plt.rcParams["axes.unicode_minus"] = False
    fig, ax = plt.subplots(figsize=(width, height))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e1e4e8", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def volume_chart(points: Sequence[TimePoint], bucket: str) -> bytes:
    """Posts per bucket (light blue) with the negative part over them (red)."""
    with _lock:
        fig, ax = _figure(7.2, 2.6)
        fmt = "%m-%d" if bucket == "day" else "%d日%H时"
        names = [local(p.start).strftime(fmt) for p in points]
        xs = range(len(points))
        ax.bar(xs, [p.posts for p in points], color=TOTAL, label="全部")  # type: ignore[attr-defined]
        ax.bar(xs, [p.negative for p in points], color=NEGATIVE, label="负面")  # type: ignore[attr-defined]
        step = max(1, len(points) // 12)
        ax.set_xticks(list(xs)[::step], names[::step], fontsize=7)  # type: ignore[attr-defined]
        ax.set_ylabel("帖子数")  # type: ignore[attr-defined]
        ax.legend(frameon=False, fontsize=8)  # type: ignore[attr-defined]
        return _png(fig)


def stacked_bars(rows: Sequence[tuple[str, int, int, int]], title: str) -> bytes:
    """Horizontal bars per category, split negative / neutral / positive."""
    with _lock:
        fig, ax = _figure(7.2, max(1.6, 0.32 * len(rows) + 0.8))
        names = [r[0] for r in rows][::-1]
        neg, neu, pos = ([r[i] for r in rows][::-1] for i in (1, 2, 3))
        ys = range(len(rows))
        ax.barh(ys, neg, color=NEGATIVE, label="负面")  # type: ignore[attr-defined]
        ax.barh(ys, neu, left=neg, color=NEUTRAL, label="中性")  # type: ignore[attr-defined]
        ax.barh(ys, pos, left=[a + b for a, b in zip(neg, neu, strict=True)], color=POSITIVE,  # type: ignore[attr-defined]
                label="正面")
        ax.set_yticks(list(ys), names, fontsize=8)  # type: ignore[attr-defined]
        ax.set_title(title, fontsize=10)  # type: ignore[attr-defined]
        ax.grid(axis="x", color="#e1e4e8", linewidth=0.6)  # type: ignore[attr-defined]
        ax.legend(frameon=False, fontsize=8, ncol=3, loc="lower right")  # type: ignore[attr-defined]
        return _png(fig)
