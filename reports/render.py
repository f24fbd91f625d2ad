"""One brief, any format: the writers by format name, and the format a file name asks for."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from reports.figures import Brief

MIME = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "pdf": "application/pdf", "html": "text/html"}
FORMATS = tuple(MIME)


WRITERS = {"docx": "reports.word:render_docx", "pdf": "reports.pdf:render_pdf", "html": "reports.page:render_html"}


def _writer(fmt: str) -> Callable[[Brief], bytes]:
    """The writer of a format, imported on first use (python-docx and reportlab load only when asked for)."""
    module, _, name = WRITERS[fmt].partition(":")
    return getattr(importlib.import_module(module), name)


def suffix_format(path: str | Path) -> str:
    """"docx", "pdf" or "html" from a file name; ValueError naming the accepted suffixes otherwise."""
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = {"htm": "html"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise ValueError(f"unknown brief format {Path(path).name!r}: use .docx, .pdf or .html")
    return fmt


def render(brief: Brief, fmt: str) -> bytes:
    """The brief as file bytes in `fmt` (docx | pdf | html)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown brief format {fmt!r}: one of {', '.join(FORMATS)}")
    return _writer(fmt)(brief)
