"""The shipped Chinese font (WenQuanYi Micro Hei, Apache-2.0; see reports/fonts/README.md): one file for the chart
images and the PDF, so a brief shows Chinese (and its digits and Latin letters) on a machine with no CJK font."""

from __future__ import annotations

from pathlib import Path

FONT_NAME = "WenQuanYiMicroHei"
FONT_FILE = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"
SUBFONT = 0  # the proportional face of the collection (1 is the monospaced one)


def font_path() -> Path:
    """The font file; FileNotFoundError naming it when the checkout lost it."""
    if not FONT_FILE.is_file():
        raise FileNotFoundError(f"the briefs' Chinese font is missing: {FONT_FILE}")
    return FONT_FILE
