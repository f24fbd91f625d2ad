"""A brief as PDF (reportlab): the shipped Chinese font registered and embedded (subset), CJK line breaking,
bookmarks for the headings, clickable post links."""

from __future__ import annotations

import io
import threading
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from reports.figures import Brief
from reports.fonts import FONT_NAME, SUBFONT, font_path
from reports.layout import Heading, Link, Para, Picture, Table, blocks, title_of

_lock = threading.Lock()
WIDTH = A4[0] - 4 * cm


def _register() -> str:
    with _lock:
        if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(font_path()), subfontIndex=SUBFONT))
    return FONT_NAME


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=font, fontSize=10, leading=16, wordWrap="CJK", spaceAfter=4)
    return {
        "h0": ParagraphStyle("h0", parent=base, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=10),
        "h1": ParagraphStyle("h1", parent=base, fontSize=14, leading=22, spaceBefore=10, spaceAfter=6,
                             textColor=colors.HexColor("#b71c1c")),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=18, spaceBefore=6, spaceAfter=4),
        "h3": ParagraphStyle("h3", parent=base, fontSize=10.5, leading=16, spaceBefore=4, spaceAfter=2),
        "body": base,
        "note": ParagraphStyle("note", parent=base, textColor=colors.HexColor("#666666")),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=13, spaceAfter=0),
        "caption": ParagraphStyle("caption", parent=base, fontSize=9, alignment=TA_CENTER,
                                  textColor=colors.HexColor("#666666")),
    }


def _table(block: Table, st: dict[str, ParagraphStyle]) -> PdfTable:
    rows = [[Paragraph(escape(c), st["cell"]) for c in block.columns]]
    rows += [[Paragraph(escape(c), st["cell"]) for c in row] for row in block.rows]
    table = PdfTable(rows, repeatRows=1, hAlign="LEFT",
                     colWidths=[WIDTH / len(block.columns)] * len(block.columns) if len(block.columns) > 4 else None)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#bbbbbb")),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f5f7")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


class _Heading(Paragraph):
    """A paragraph that leaves a bookmark in the PDF outline."""

    def __init__(self, text: str, style: ParagraphStyle, level: int) -> None:
        super().__init__(escape(text), style)
        self.outline = (text, level)

    def draw(self) -> None:
        super().draw()
        text, level = self.outline
        key = f"h{id(self)}"
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(text, key, level=max(level - 1, 0) if level else 0, closed=False)


def render_pdf(brief: Brief) -> bytes:
    font = _register()
    st = _styles(font)
    story: list = []
    links: list = []

    def flush() -> None:
        if links:
            story.append(ListFlowable(list(links), bulletType="bullet", bulletFontName=font, leftIndent=12))
            links.clear()

    for block in blocks(brief):
        if not isinstance(block, Link):
            flush()
        if isinstance(block, Heading):
            story.append(_Heading(block.text, st[f"h{min(block.level, 3)}"], block.level))
        elif isinstance(block, Para):
            story.append(Paragraph(escape(block.text), st["note" if block.note else "body"]))
        elif isinstance(block, Table):
            story += [_table(block, st), Spacer(1, 6)]
        elif isinstance(block, Picture):
            img = Image(io.BytesIO(block.png))
            scale = min(1.0, WIDTH / img.imageWidth)
            img.drawWidth, img.drawHeight = img.imageWidth * scale, img.imageHeight * scale
            if img.drawWidth > WIDTH * 0.95 or img.imageWidth > WIDTH:
                ratio = WIDTH / img.imageWidth
                img.drawWidth, img.drawHeight = WIDTH, img.imageHeight * ratio
            story += [img, Paragraph(escape(block.caption), st["caption"])]
        elif isinstance(block, Link):
            link = (f' <a href="{escape(block.url, {chr(34): "&quot;"})}" color="#0563c1"><u>原帖链接</u></a>'
                    if block.url.startswith(("http://", "https://")) else "")
            links.append(ListItem(Paragraph(escape(block.text) + link, st["body"])))
    flush()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=2 * cm,
                            bottomMargin=2 * cm, title=title_of(brief), author="yuqing", creator="yuqing")
    doc.build(story, onFirstPage=_footer(font), onLaterPages=_footer(font))
    return buf.getvalue()


def _footer(font: str):  # type: ignore[no-untyped-def]
    def draw(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#888888"))
        canvas.drawCentredString(A4[0] / 2, 1.2 * cm, f"第 {doc.page} 页")
        canvas.restoreState()
    return draw
